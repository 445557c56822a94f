import { test, expect } from '@playwright/test';
import { md4 } from './md4.js';

// RFC 1320 appendix A.5 test suite.
const VECTORS: ReadonlyArray<readonly [string, string]> = [
  ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
  ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
  ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
  ['message digest', 'd9130a8164549fe818874806e1c7014b'],
  ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
  ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
  [
    '12345678901234567890123456789012345678901234567890123456789012345678901234567890',
    'e33b4ddc9c38f2199c3e7b164fcc0536',
  ],
];

for (const [input, digest] of VECTORS) {
  test(`md4 RFC 1320 A.5: ${JSON.stringify(input.slice(0, 20))}`, () => {
    expect(md4(Buffer.from(input, 'latin1')).toString('hex')).toBe(digest);
  });
}

test('md4 of the UTF-16LE password "Password" is the MS-NLMP 4.2.2.1.2 NTOWFv1', () => {
  expect(md4(Buffer.from('Password', 'utf16le')).toString('hex')).toBe('a4f49c406510bdcab6824ee7c30fd852');
});

test('md4 handles messages around the 56-byte padding boundary', () => {
  // 55 bytes fit one block with the length; 56 need a second block. Both must differ and be 16 bytes.
  const a = md4(Buffer.alloc(55, 0x61));
  const b = md4(Buffer.alloc(56, 0x61));
  const c = md4(Buffer.alloc(64, 0x61));
  expect(new Set([a.toString('hex'), b.toString('hex'), c.toString('hex')]).size).toBe(3);
  expect(a.length).toBe(16);
});
