import { test, expect } from '@playwright/test';
import { ProtocolError, SecurityError } from '../errors.js';
import { Cipher, cipherKeyLength, cipherName, cipherNonceLength } from './algorithms.js';
import { aeadDecrypt, aeadEncrypt, aeadEncryptInto, aeadEncryptParts } from './aead.js';
import { aeadBackend, useNodeCrypto } from './native.js';

// Byte-exact checks against Microsoft's published vectors go through these functions in
// transform-frame.test.ts; this file covers the AEAD contract itself.
const ALL_CIPHERS = [Cipher.Aes128Ccm, Cipher.Aes128Gcm, Cipher.Aes256Ccm, Cipher.Aes256Gcm];

function parameters(cipher: Cipher): { key: Buffer; nonce: Buffer; aad: Buffer; plaintext: Buffer } {
  return {
    key: Buffer.alloc(cipherKeyLength(cipher), 0x33),
    nonce: Buffer.alloc(cipherNonceLength(cipher), 0x44),
    aad: Buffer.alloc(32, 0x55),
    plaintext: Buffer.from('an SMB2 message, more or less'),
  };
}

test.describe('aeadEncrypt / aeadDecrypt', () => {
  for (const cipher of ALL_CIPHERS) {
    test(`${cipherName(cipher)}: round trip, 16-byte tag, ciphertext as long as the plaintext`, () => {
      const { key, nonce, aad, plaintext } = parameters(cipher);
      const { ciphertext, tag } = aeadEncrypt(cipher, key, nonce, aad, plaintext);
      expect(tag).toHaveLength(16);
      expect(ciphertext).toHaveLength(plaintext.length);
      expect(ciphertext.equals(plaintext)).toBe(false);
      expect(aeadDecrypt(cipher, key, nonce, aad, ciphertext, tag).equals(plaintext)).toBe(true);
    });

    test(`${cipherName(cipher)}: changed AAD, ciphertext, tag or nonce is a SecurityError`, () => {
      const { key, nonce, aad, plaintext } = parameters(cipher);
      const { ciphertext, tag } = aeadEncrypt(cipher, key, nonce, aad, plaintext);
      const flip = (bytes: Buffer, index: number): Buffer => {
        const copy = Buffer.from(bytes);
        copy[index] = (copy[index] ?? 0) ^ 0x01;
        return copy;
      };
      const attempts = [
        () => aeadDecrypt(cipher, key, nonce, flip(aad, 31), ciphertext, tag),
        () => aeadDecrypt(cipher, key, nonce, aad, flip(ciphertext, 0), tag),
        () => aeadDecrypt(cipher, key, nonce, aad, ciphertext, flip(tag, 15)),
        () => aeadDecrypt(cipher, key, flip(nonce, 0), aad, ciphertext, tag),
      ];
      for (const attempt of attempts) expect(attempt).toThrow(SecurityError);
    });
  }

  test('the SecurityError names the cipher and, when given, the session', () => {
    const { key, nonce, aad, plaintext } = parameters(Cipher.Aes256Gcm);
    const { ciphertext } = aeadEncrypt(Cipher.Aes256Gcm, key, nonce, aad, plaintext);
    const badTag = Buffer.alloc(16);
    expect(() => aeadDecrypt(Cipher.Aes256Gcm, key, nonce, aad, ciphertext, badTag)).toThrow(/^AES-256-GCM decryption failed: /);
    expect(() => aeadDecrypt(Cipher.Aes256Gcm, key, nonce, aad, ciphertext, badTag, { sessionId: 0x1234n })).toThrow(
      'AES-256-GCM decryption failed for session 0x0000000000001234',
    );
    try {
      aeadDecrypt(Cipher.Aes256Gcm, key, nonce, aad, ciphertext, badTag);
    } catch (error) {
      expect(error).toBeInstanceOf(SecurityError);
      expect((error as SecurityError).code).toBe('SMB_SECURITY');
    }
  });

  test('an empty message is refused (SMB2 never encrypts one)', () => {
    for (const cipher of ALL_CIPHERS) {
      const { key, nonce, aad } = parameters(cipher);
      expect(() => aeadEncrypt(cipher, key, nonce, aad, Buffer.alloc(0))).toThrow(ProtocolError);
      expect(() => aeadDecrypt(cipher, key, nonce, aad, Buffer.alloc(0), Buffer.alloc(16))).toThrow(ProtocolError);
    }
  });

  test('wrong key, nonce or tag lengths and unknown ciphers are ProtocolErrors', () => {
    const { key, nonce, aad, plaintext } = parameters(Cipher.Aes128Gcm);
    expect(() => aeadEncrypt(Cipher.Aes256Gcm, key, nonce, aad, plaintext)).toThrow(ProtocolError);
    expect(() => aeadEncrypt(Cipher.Aes128Ccm, key, nonce, aad, plaintext)).toThrow(/11-byte nonce/);
    expect(() => aeadEncrypt(5 as Cipher, key, nonce, aad, plaintext)).toThrow(ProtocolError);
    const { ciphertext } = aeadEncrypt(Cipher.Aes128Gcm, key, nonce, aad, plaintext);
    expect(() => aeadDecrypt(Cipher.Aes128Gcm, key, nonce, aad, ciphertext, Buffer.alloc(12))).toThrow(ProtocolError);
  });
});

test('a message encrypted in parts equals the same message encrypted whole, for all four ciphers', () => {
  const parts = [Buffer.alloc(64, 1), Buffer.alloc(48, 2), Buffer.alloc(0), Buffer.alloc(70_001, 3)];
  const aad = Buffer.alloc(32, 9);
  for (const cipher of [Cipher.Aes128Ccm, Cipher.Aes128Gcm, Cipher.Aes256Ccm, Cipher.Aes256Gcm]) {
    const key = Buffer.alloc(cipherKeyLength(cipher), 5);
    const nonce = Buffer.alloc(cipherNonceLength(cipher), 6);
    const whole = aeadEncrypt(cipher, key, nonce, aad, Buffer.concat(parts));
    const split = aeadEncryptParts(cipher, key, nonce, aad, parts);
    expect(Buffer.concat(split.ciphertext), cipherName(cipher)).toEqual(whole.ciphertext);
    expect(split.tag, cipherName(cipher)).toEqual(whole.tag);
  }
  expect(() => aeadEncryptParts(Cipher.Aes128Gcm, Buffer.alloc(16), Buffer.alloc(12), aad, [Buffer.alloc(0)])).toThrow(ProtocolError);
});

test.describe('aeadEncryptInto (native AEAD)', () => {
  test.beforeEach(() => {
    test.skip(aeadBackend.name !== 'native', `native AEAD not loaded: ${aeadBackend.reason ?? ''}`);
  });

  test('equals aeadEncrypt for the four ciphers, from parts elsewhere or already in place (CCM gathers them)', () => {
    const aad = Buffer.alloc(32, 9);
    for (const cipher of ALL_CIPHERS) {
      const { key, nonce } = parameters(cipher);
      const parts = [Buffer.alloc(64, 1), Buffer.alloc(0), Buffer.alloc(70_001, 3), Buffer.alloc(5, 4)];
      const whole = aeadEncrypt(cipher, key, nonce, aad, Buffer.concat(parts));
      const out = Buffer.alloc(whole.ciphertext.length, 0xcc);
      expect(aeadEncryptInto(cipher, key, nonce, aad, parts, out), cipherName(cipher)).toEqual(whole.tag);
      expect(out.equals(whole.ciphertext), cipherName(cipher)).toBe(true);
      // The plaintext already where the ciphertext goes: encrypted there.
      const inPlace = Buffer.concat(parts);
      const views = [inPlace.subarray(0, 64), inPlace.subarray(64)];
      expect(aeadEncryptInto(cipher, key, nonce, aad, views, inPlace), cipherName(cipher)).toEqual(whole.tag);
      expect(inPlace.equals(whole.ciphertext), cipherName(cipher)).toBe(true);
      expect(aeadDecrypt(cipher, key, nonce, aad, out, whole.tag).equals(Buffer.concat(parts)), cipherName(cipher)).toBe(true);
    }
  });

  test('out of another length than the parts is a ProtocolError; node:crypto gives undefined and writes nothing', () => {
    const { key, nonce, aad } = parameters(Cipher.Aes128Gcm);
    expect(() => aeadEncryptInto(Cipher.Aes128Gcm, key, nonce, aad, [Buffer.alloc(10)], Buffer.alloc(9))).toThrow('10 bytes of plaintext cannot be encrypted into 9 bytes');
    expect(() => aeadEncryptInto(Cipher.Aes128Ccm, parameters(Cipher.Aes128Ccm).key, parameters(Cipher.Aes128Ccm).nonce, aad, [Buffer.alloc(10)], Buffer.alloc(11))).toThrow(ProtocolError);
    useNodeCrypto(true);
    try {
      const out = Buffer.alloc(10, 0x77);
      expect(aeadEncryptInto(Cipher.Aes128Gcm, key, nonce, aad, [Buffer.alloc(10)], out)).toBeUndefined();
      expect(out.equals(Buffer.alloc(10, 0x77))).toBe(true);
    } finally {
      useNodeCrypto(false);
    }
  });
});
