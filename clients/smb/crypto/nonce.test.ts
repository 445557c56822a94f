import { test, expect } from '@playwright/test';
import { ProtocolError, SecurityError } from '../errors.js';
import { Cipher, cipherName } from './algorithms.js';
import { NonceGenerator } from './nonce.js';

const DRAWS = 100_000;

test.describe('NonceGenerator', () => {
  for (const cipher of [Cipher.Aes128Ccm, Cipher.Aes128Gcm, Cipher.Aes256Ccm, Cipher.Aes256Gcm]) {
    test(`${cipherName(cipher)}: ${String(DRAWS)} draws, all distinct and of the cipher's nonce length`, () => {
      const generator = new NonceGenerator(cipher);
      const expectedLength = cipher === Cipher.Aes128Gcm || cipher === Cipher.Aes256Gcm ? 12 : 11;
      expect(generator.nonceLength).toBe(expectedLength);
      const seen = new Set<string>();
      const lengths = new Set<number>();
      for (let i = 0; i < DRAWS; i++) {
        const nonce = generator.next();
        lengths.add(nonce.length);
        seen.add(nonce.toString('hex'));
      }
      expect([...lengths]).toEqual([expectedLength]);
      expect(seen.size).toBe(DRAWS);
    });
  }

  test('two generators (two sessions) start from different random prefixes', () => {
    const prefixes = new Set<string>();
    for (let i = 0; i < 20; i++) prefixes.add(new NonceGenerator(Cipher.Aes128Gcm).next().subarray(0, 4).toString('hex'));
    expect(prefixes.size).toBeGreaterThan(1);
    const a = new NonceGenerator(Cipher.Aes128Ccm);
    const b = new NonceGenerator(Cipher.Aes128Ccm);
    const fromA = new Set(Array.from({ length: 1000 }, () => a.next().toString('hex')));
    const fromB = Array.from({ length: 1000 }, () => b.next().toString('hex'));
    // A 24-bit prefix collides with probability 2^-24; a rerun tells a fluke from a bug.
    expect(fromB.filter((nonce) => fromA.has(nonce)).length).toBe(0);
  });

  test('counter is little-endian after the prefix and strictly increasing', () => {
    const generator = new NonceGenerator(Cipher.Aes128Gcm, { prefix: Buffer.from('a1b2c3d4', 'hex'), firstCounter: 0xfeffn });
    expect(generator.next().toString('hex')).toBe('a1b2c3d4ffFE000000000000'.toLowerCase());
    expect(generator.next().toString('hex')).toBe('a1b2c3d400ff000000000000');
  });

  test('refuses to wrap: throws once the 64-bit counter is used up', () => {
    const generator = new NonceGenerator(Cipher.Aes128Ccm, { firstCounter: (1n << 64n) - 2n });
    expect(generator.remaining).toBe(2n);
    expect(generator.next().subarray(3).toString('hex')).toBe('feffffffffffffff');
    expect(generator.next().subarray(3).toString('hex')).toBe('ffffffffffffffff');
    expect(generator.remaining).toBe(0n);
    expect(() => generator.next()).toThrow(SecurityError);
    expect(() => generator.next()).toThrow(SecurityError);
  });

  test('rejects bad options and unknown ciphers', () => {
    expect(() => new NonceGenerator(Cipher.Aes128Gcm, { prefix: Buffer.alloc(3) })).toThrow(ProtocolError);
    expect(() => new NonceGenerator(Cipher.Aes128Gcm, { firstCounter: -1n })).toThrow(ProtocolError);
    expect(() => new NonceGenerator(Cipher.Aes128Gcm, { firstCounter: 1n << 64n })).toThrow(ProtocolError);
    expect(() => new NonceGenerator(0 as Cipher)).toThrow(ProtocolError);
  });

  test('a caller-supplied prefix buffer is copied', () => {
    const prefix = Buffer.from('010203', 'hex');
    const generator = new NonceGenerator(Cipher.Aes128Ccm, { prefix });
    prefix.fill(0);
    expect(generator.next().subarray(0, 3).toString('hex')).toBe('010203');
  });
});
