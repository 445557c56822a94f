import { test, expect } from '@playwright/test';
import { ProtocolError } from '../errors.js';
import { AesCmac, aesCmac } from './cmac.js';

const hex = (value: string): Buffer => Buffer.from(value, 'hex');

// RFC 4493 section 4, test vectors for AES-128-CMAC.
const RFC4493_KEY = hex('2b7e151628aed2a6abf7158809cf4f3c');
const RFC4493_MESSAGE = hex(
  '6bc1bee22e409f96e93d7e117393172a' +
    'ae2d8a571e03ac9c9eb76fac45af8e51' +
    '30c81c46a35ce411e5fbc1191a0a52ef' +
    'f69f2445df4f9b17ad2b417be66c3710',
);
const RFC4493_EXAMPLES: Array<{ length: number; mac: string }> = [
  { length: 0, mac: 'bb1d6929e95937287fa37d129b756746' },
  { length: 16, mac: '070a16b46b4d4144f79bdd9dd04a287c' },
  { length: 40, mac: 'dfa66747de9ae63030ca32611497c827' },
  { length: 64, mac: '51f0bebf7e3b9d92fc49741779363cfe' },
];

function patterned(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes;
}

test.describe('AES-128-CMAC', () => {
  for (const { length, mac } of RFC4493_EXAMPLES) {
    test(`RFC 4493 example, ${String(length)}-byte message`, () => {
      expect(aesCmac(RFC4493_KEY, RFC4493_MESSAGE.subarray(0, length)).toString('hex')).toBe(mac);
    });
  }

  test('the tag does not depend on how the message is split across update() calls', () => {
    const message = patterned(4096 + 80 + 5);
    const oneShot = aesCmac(RFC4493_KEY, message);
    for (const cuts of [[1], [15, 16, 17], [16, 32, 48], [47, 4096], [4100, 4180, 4184], [0, 0, 4181]]) {
      const mac = new AesCmac(RFC4493_KEY);
      let start = 0;
      for (const cut of cuts) {
        mac.update(message.subarray(start, cut));
        start = Math.max(start, cut);
      }
      mac.update(message.subarray(start));
      expect(mac.digest().equals(oneShot), `cuts ${cuts.join(',')}`).toBe(true);
    }
    const byteByByte = new AesCmac(RFC4493_KEY);
    for (let i = 0; i < 100; i++) byteByByte.update(message.subarray(i, i + 1));
    expect(byteByByte.digest().equals(aesCmac(RFC4493_KEY, message.subarray(0, 100)))).toBe(true);
  });

  // Computed independently: `openssl mac -cipher AES-128-CBC -macopt hexkey:<key> -in <file> CMAC`
  // over bytes (i * 31 + 7) mod 256, i = 0 .. 1 MiB + 6.
  test('a 1 MiB + 7 byte message matches OpenSSL CMAC (independently computed)', () => {
    expect(aesCmac(RFC4493_KEY, patterned(1024 * 1024 + 7)).toString('hex').toUpperCase()).toBe(
      '0EBF8CFB2A261429CD7EC0213FBE7A9D',
    );
  });

  test('stays linear on a 64 MiB message', () => {
    const big = Buffer.alloc(64 * 1024 * 1024, 0x5a);
    const started = performance.now();
    aesCmac(RFC4493_KEY, big);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  test('rejects keys that are not 16 bytes and use after digest()', () => {
    expect(() => new AesCmac(Buffer.alloc(32))).toThrow(ProtocolError);
    const mac = new AesCmac(RFC4493_KEY);
    mac.digest();
    expect(() => mac.update(Buffer.alloc(1))).toThrow();
    expect(() => mac.digest()).toThrow();
  });
});
