import { test, expect } from '@playwright/test';
import {
  Cipher,
  Dialect,
  SigningAlgorithm,
  cipherKeyLength,
  cipherName,
  cipherNonceLength,
  defaultSigningAlgorithm,
  dialectName,
  isCipher,
  isDialect,
  isSigningAlgorithm,
  signingAlgorithmName,
} from './algorithms.js';

test.describe('algorithm identifiers', () => {
  test('carry their MS-SMB2 wire values', () => {
    expect(Object.values(Dialect)).toEqual([0x0202, 0x0210, 0x0300, 0x0302, 0x0311]);
    expect(Object.values(Cipher)).toEqual([1, 2, 3, 4]);
    expect(Object.values(SigningAlgorithm)).toEqual([0, 1, 2]);
  });

  test('have readable names, and unknown values say so in hex', () => {
    expect(cipherName(2)).toBe('AES-128-GCM');
    expect(cipherName(Cipher.Aes256Ccm)).toBe('AES-256-CCM');
    expect(cipherName(0x1234)).toBe('unknown cipher 0x1234');
    expect(dialectName(0x0311)).toBe('3.1.1');
    expect(dialectName(Dialect.Smb210)).toBe('2.1');
    expect(dialectName(0x02ff)).toBe('unknown dialect 0x02FF');
    expect(signingAlgorithmName(SigningAlgorithm.AesGmac)).toBe('AES-GMAC');
    expect(signingAlgorithmName(9)).toBe('unknown signing algorithm 0x0009');
  });

  test('guards accept only known values', () => {
    expect(isDialect(0x0302)).toBe(true);
    expect(isDialect(0x0303)).toBe(false);
    expect(isCipher(4)).toBe(true);
    expect(isCipher(0)).toBe(false);
    expect(isSigningAlgorithm(0)).toBe(true);
    expect(isSigningAlgorithm(3)).toBe(false);
  });

  test('cipher key and nonce sizes', () => {
    expect([Cipher.Aes128Ccm, Cipher.Aes128Gcm, Cipher.Aes256Ccm, Cipher.Aes256Gcm].map(cipherKeyLength)).toEqual([16, 16, 32, 32]);
    expect([Cipher.Aes128Ccm, Cipher.Aes128Gcm, Cipher.Aes256Ccm, Cipher.Aes256Gcm].map(cipherNonceLength)).toEqual([11, 12, 11, 12]);
  });

  test('default signing algorithm per dialect', () => {
    expect(defaultSigningAlgorithm(Dialect.Smb202)).toBe(SigningAlgorithm.HmacSha256);
    expect(defaultSigningAlgorithm(Dialect.Smb210)).toBe(SigningAlgorithm.HmacSha256);
    expect(defaultSigningAlgorithm(Dialect.Smb300)).toBe(SigningAlgorithm.AesCmac);
    expect(defaultSigningAlgorithm(Dialect.Smb311)).toBe(SigningAlgorithm.AesCmac);
  });
});
