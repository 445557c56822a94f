import { test, expect } from '@playwright/test';
import { Rc4, rc4 } from './rc4.js';

test('rc4 key stream matches RFC 6229 (40-bit key 0102030405) at offsets 0, 16, 240, 256', () => {
  const stream = rc4(Buffer.from('0102030405', 'hex'), Buffer.alloc(272));
  expect(stream.subarray(0, 16).toString('hex')).toBe('b2396305f03dc027ccc3524a0a1118a8');
  expect(stream.subarray(16, 32).toString('hex')).toBe('6982944f18fc82d589c403a47a0d0919');
  expect(stream.subarray(240, 256).toString('hex')).toBe('28cb1132c96ce286421dcaadb8b69eae');
  expect(stream.subarray(256, 272).toString('hex')).toBe('1cfcf62b03eddb641d77dfcf7f8d8c93');
});

test('rc4 encrypts the classic 0123456789abcdef vector', () => {
  const key = Buffer.from('0123456789abcdef', 'hex');
  expect(rc4(key, key).toString('hex')).toBe('75b7878099e0c596');
});

test('Rc4.update continues the key stream across calls', () => {
  const key = Buffer.from('0102030405', 'hex');
  const whole = rc4(key, Buffer.alloc(40));
  const cipher = new Rc4(key);
  const parts = Buffer.concat([cipher.update(Buffer.alloc(7)), cipher.update(Buffer.alloc(0)), cipher.update(Buffer.alloc(33))]);
  expect(parts.equals(whole)).toBe(true);
});

test('rc4 decrypts what it encrypted', () => {
  const key = Buffer.from('55'.repeat(16), 'hex');
  const plain = Buffer.from('Plaintext', 'utf8');
  expect(rc4(key, rc4(key, plain)).equals(plain)).toBe(true);
});

test('rc4 rejects an empty key', () => {
  expect(() => new Rc4(Buffer.alloc(0))).toThrow(RangeError);
});
