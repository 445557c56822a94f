import { test, expect } from '@playwright/test';
import { ProtocolError, SecurityError } from '../../errors.js';
import { hex } from '../test-helpers.fixture.js';
import {
  EncryptionType,
  checksum,
  ctsDecrypt,
  ctsEncrypt,
  decrypt,
  deriveKey,
  encrypt,
  iterationsFromParams,
  nfold,
  stringToKey,
  verifyChecksum,
} from './crypto.js';
import type { EncryptionKey } from './crypto.js';

const ascii = (text: string): Buffer => Buffer.from(text, 'latin1');

test('n-fold matches RFC 3961 A.1', () => {
  const vectors: Array<[string, number, string]> = [
    ['012345', 64, 'be072631276b1955'],
    ['password', 56, '78a07b6caf85fa'],
    ['Rough Consensus, and Running Code', 64, 'bb6ed30870b7f0e0'],
    ['password', 168, '59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e'],
    ['MASSACHVSETTS INSTITVTE OF TECHNOLOGY', 192, 'db3b0d8f0b061e603282b308a50841229ad798fab9540c1b'],
    ['Q', 168, '518a54a215a8452a518a54a215a8452a518a54a215'],
    ['ba', 168, 'fb25d531ae8974499f52fd92ea9857c4ba24cf297e'],
    ['kerberos', 64, '6b65726265726f73'],
    ['kerberos', 128, '6b65726265726f737b9b5b2b93132b93'],
    ['kerberos', 168, '8372c236344e5f1550cd0747e15d62ca7a5a3bcea4'],
    ['kerberos', 256, '6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4'],
  ];
  for (const [input, bits, expected] of vectors) {
    expect(nfold(ascii(input), bits / 8).toString('hex'), `${bits}-fold(${input})`).toBe(expected);
  }
});

const G_CLEF = Buffer.from([0xf0, 0x9d, 0x84, 0x9e]).toString('utf8');

test('string-to-key matches RFC 3962 appendix B for both key sizes', () => {
  const vectors: Array<{ iterations: number; password: string; salt: string | Buffer; aes128: string; aes256: string }> = [
    { iterations: 1, password: 'password', salt: 'ATHENA.MIT.EDUraeburn', aes128: '42263c6e89f4fc28b8df68ee09799f15', aes256: 'fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161' },
    { iterations: 2, password: 'password', salt: 'ATHENA.MIT.EDUraeburn', aes128: 'c651bf29e2300ac27fa469d693bdda13', aes256: 'a2e16d16b36069c135d5e9d2e25f896102685618b95914b467c67622225824ff' },
    { iterations: 1200, password: 'password', salt: 'ATHENA.MIT.EDUraeburn', aes128: '4c01cd46d632d01e6dbe230a01ed642a', aes256: '55a6ac740ad17b4846941051e1e8b0a7548d93b0ab30a8bc3ff16280382b8c2a' },
    { iterations: 5, password: 'password', salt: hex('1234567878563412'), aes128: 'e9b23d52273747dd5c35cb55be619d8e', aes256: '97a4e786be20d81a382d5ebc96d5909cabcdadc87ca48f574504159f16c36e31' },
    { iterations: 1200, password: 'X'.repeat(64), salt: 'pass phrase equals block size', aes128: '59d1bb789a828b1aa54ef9c2883f69ed', aes256: '89adee3608db8bc71f1bfbfe459486b05618b70cbae22092534e56c553ba4b34' },
    { iterations: 1200, password: 'X'.repeat(65), salt: 'pass phrase exceeds block size', aes128: 'cb8005dc5f90179a7f02104c0018751d', aes256: 'd78c5c9cb872a8c9dad4697f0bb5b2d21496c82beb2caeda2112fceea057401b' },
    { iterations: 50, password: G_CLEF, salt: 'EXAMPLE.COMpianist', aes128: 'f149c1f2e154a73452d43e7fe62a56e5', aes256: '4b6d9839f84406df1f09cc166db4b83c571848b784a3d6bdc346589a3e393f9e' },
  ];
  for (const v of vectors) {
    expect(stringToKey(EncryptionType.AES128_CTS_HMAC_SHA1_96, v.password, v.salt, v.iterations).value.toString('hex')).toBe(v.aes128);
    expect(stringToKey(EncryptionType.AES256_CTS_HMAC_SHA1_96, v.password, v.salt, v.iterations).value.toString('hex')).toBe(v.aes256);
  }
});

test('string-to-key refuses iteration counts a KDC should never ask for', () => {
  expect(() => stringToKey(EncryptionType.AES128_CTS_HMAC_SHA1_96, 'p', 's', 0)).toThrow(ProtocolError);
  expect(() => stringToKey(EncryptionType.AES128_CTS_HMAC_SHA1_96, 'p', 's', iterationsFromParams(hex('00000000')))).toThrow(/PBKDF2 iterations/);
  expect(iterationsFromParams(undefined)).toBe(4096);
  expect(iterationsFromParams(hex('00001000'))).toBe(4096);
  expect(() => iterationsFromParams(hex('0010'))).toThrow(/s2kparams has 2 bytes/);
});

test('CBC with ciphertext stealing matches RFC 3962 appendix B', () => {
  const key = ascii('chicken teriyaki');
  const plain = ascii("I would like the General Gau's Chicken, please, and wonton soup.");
  const vectors: Array<[number, string]> = [
    [17, 'c6353568f2bf8cb4d8a580362da7ff7f97'],
    [31, 'fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5'],
    [32, '39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584'],
    [47, '97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5'],
    [48, '97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be7fcbcc98ebf5a8'],
    [64, '97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a84807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8'],
  ];
  const iv = Buffer.alloc(16);
  for (const [length, expected] of vectors) {
    const input = plain.subarray(0, length);
    const output = ctsEncrypt(key, iv, input);
    expect(output.toString('hex'), `${length} bytes`).toBe(expected);
    expect(ctsDecrypt(key, iv, output).equals(input), `${length} bytes back`).toBe(true);
  }
});

test('CTS round-trips every length from one block to four, with both key sizes', () => {
  for (const key of [Buffer.alloc(16, 0x11), Buffer.alloc(32, 0x22)]) {
    for (let length = 16; length <= 64; length++) {
      const input = Buffer.from(Array.from({ length }, (_, i) => (i * 7 + length) & 0xff));
      const output = ctsEncrypt(key, Buffer.alloc(16), input);
      expect(output.length).toBe(length);
      expect(ctsDecrypt(key, Buffer.alloc(16), output).equals(input)).toBe(true);
    }
  }
});

// Cross-checked against an independent implementation (impacket 0.10's krb5 crypto): key bytes
// 00 01 02 ..., confounder c0 c1 ... cf, usage 3 for encryption and 10 for the checksum.
const PLAIN = ascii('Kerberos interop test text, 47 bytes long.....');
const CONFOUNDER = Buffer.from(Array.from({ length: 16 }, (_, i) => 0xc0 + i));
const keyOf = (etype: 17 | 18, length: number): EncryptionKey => ({ etype, value: Buffer.from(Array.from({ length }, (_, i) => i)) });
const KNOWN = [
  {
    key: keyOf(17, 16),
    ke: '94445fa3157e8e6381e2cdfb7c8e7bc5',
    cipher: 'dd8dd5c4d73b6d41c355aba937dfd1c00515790fa527d475eb47070bf9e0fb1a35d9a1e841c9c8c0e8e3265dd6c9d2796544283aade2ebd72f242b8c6f1121d74c1b72fc8749e7431e70',
    checksum: 'e955b92bb3ae309715ea1851',
  },
  {
    key: keyOf(18, 32),
    ke: 'ecfd0f48c98bafc3690177b39b4b8925f68d4777ea22a0ac188e8c5a42b77716',
    cipher: '339d3fe6d96cb19c7052b4f0bce11a6bf5ed70242d7a8e6291687e0fac7242e98abd87cb014e8c3771044a4d3b0174e72c08b1b3d58d70f6cedc2ef0c3f61740239f31fdeacecb02b9d2',
    checksum: '03c02cb80b57bfb2e1e86652',
  },
];

test('derived keys, encryption and checksums match a second implementation byte for byte', () => {
  for (const known of KNOWN) {
    expect(deriveKey(known.key, hex('00000003aa')).value.toString('hex')).toBe(known.ke);
    expect(encrypt(known.key, 3, PLAIN, CONFOUNDER).toString('hex')).toBe(known.cipher);
    expect(decrypt(known.key, 3, hex(known.cipher), 'test').equals(PLAIN)).toBe(true);
    expect(checksum(known.key, 10, PLAIN).toString('hex')).toBe(known.checksum);
    expect(verifyChecksum(known.key, 10, PLAIN, hex(known.checksum))).toBe(true);
    expect(verifyChecksum(known.key, 11, PLAIN, hex(known.checksum))).toBe(false);
  }
});

test('decrypt refuses a wrong key, another usage, a flipped bit and a short cipher text', () => {
  const [aes128] = KNOWN;
  const cipher = hex(aes128!.cipher);
  expect(() => decrypt(keyOf(17, 16), 4, cipher, 'EncASRepPart')).toThrow(SecurityError);
  expect(() => decrypt({ etype: 17, value: Buffer.alloc(16) }, 3, cipher, 'EncASRepPart')).toThrow(/EncASRepPart: integrity check failed/);
  const flipped = Buffer.from(cipher);
  flipped[20] = (flipped[20] ?? 0) ^ 1;
  expect(() => decrypt(keyOf(17, 16), 3, flipped, 'EncASRepPart')).toThrow(SecurityError);
  expect(() => decrypt(keyOf(17, 16), 3, cipher.subarray(0, 27), 'EncASRepPart')).toThrow(ProtocolError);
});
