import { test, expect } from '@playwright/test';
import { ProtocolError } from '../errors.js';
import { smb3Kdf } from './kdf.js';
import type { KdfLengthBits } from './kdf.js';

const hex = (value: string): Buffer => Buffer.from(value, 'hex');

// "SMB 2 and SMB 3 security in Windows 10: the anatomy of signing and cryptographic keys",
// Microsoft Open Specifications blog, 2017-05-26, appendix "Key derivation example for SMB 3.0
// multichannel" and "... for SMB 3.1.1 multichannel".
const SMB30_SESSION_KEY = hex('7CD451825D0450D235424E44BA6E78CC');
const SMB311_SESSION_KEY = hex('270E1BA896585EEB7AF3472D3B4C75A7');
const SMB311_PREAUTH_HASH = hex(
  '0DD13628CC3ED218EF9DF9772D436D0887AB9814BFAE63A80AA845F36909DB79' +
    '28622DDDAD522D9751640A459762C5A9D6BB084CBB3CE6BDADEF5D5BCE3C6C01',
);

test.describe('smb3Kdf (SP800-108 counter mode, HMAC-SHA256)', () => {
  test('3.0 signing key from the published example', () => {
    expect(smb3Kdf(SMB30_SESSION_KEY, 'SMB2AESCMAC\0', 'SmbSign\0', 128).toString('hex').toUpperCase()).toBe(
      '0B7E9C5CAC36C0F6EA9AB275298CEDCE',
    );
  });

  test('3.0 client-to-server key uses the "ServerIn " context with its space', () => {
    expect(smb3Kdf(SMB30_SESSION_KEY, 'SMB2AESCCM\0', 'ServerIn \0', 128).toString('hex').toUpperCase()).toBe(
      'FAD27796665B313EBB578F388632B4F7',
    );
  });

  test('3.1.1 signing key with the preauth hash as context, from the published example', () => {
    expect(smb3Kdf(SMB311_SESSION_KEY, 'SMBSigningKey\0', SMB311_PREAUTH_HASH, 128).toString('hex').toUpperCase()).toBe(
      '73FE7A9A77BEF0BDE49C650D8CCB5F76',
    );
  });

  test('labels may be given as bytes', () => {
    const asString = smb3Kdf(SMB311_SESSION_KEY, 'SMBAppKey\0', SMB311_PREAUTH_HASH, 128);
    const asBytes = smb3Kdf(SMB311_SESSION_KEY, Buffer.from('SMBAppKey\0', 'latin1'), SMB311_PREAUTH_HASH, 128);
    expect(asBytes.equals(asString)).toBe(true);
    expect(asString.toString('hex').toUpperCase()).toBe('6D7AD7954E9EC61E907B4D473DC178FF');
  });

  // No AES-256 key derivation example is published; these were computed independently with
  // OpenSSL 3.0's KBKDF (`openssl kdf -keylen 32 -kdfopt mac:HMAC -kdfopt digest:SHA2-256
  // -kdfopt hexkey:<Ki> -kdfopt hexsalt:<label> -kdfopt hexinfo:<context> KBKDF`), which also
  // reproduces every published 128-bit key above.
  test('L = 256 matches OpenSSL KBKDF (independently computed, not published)', () => {
    expect(smb3Kdf(SMB311_SESSION_KEY, 'SMBC2SCipherKey\0', SMB311_PREAUTH_HASH, 256).toString('hex').toUpperCase()).toBe(
      '049C27FD8A340262E32C643DEA2BA507AF7A4C085FD2505AEFFCBDEAE6D6D8AB',
    );
    expect(smb3Kdf(SMB311_SESSION_KEY, 'SMBS2CCipherKey\0', SMB311_PREAUTH_HASH, 256).toString('hex').toUpperCase()).toBe(
      '35952FED051BF2471AF5F7ACC63674B887A54B47AF46959F7CAFF1CE537D7419',
    );
  });

  test('L is encoded in the input, so a 256-bit key does not start with the 128-bit one', () => {
    const short = smb3Kdf(SMB311_SESSION_KEY, 'SMBC2SCipherKey\0', SMB311_PREAUTH_HASH, 128);
    const long = smb3Kdf(SMB311_SESSION_KEY, 'SMBC2SCipherKey\0', SMB311_PREAUTH_HASH, 256);
    expect(short).toHaveLength(16);
    expect(long).toHaveLength(32);
    expect(long.subarray(0, 16).equals(short)).toBe(false);
  });

  test('rejects other lengths and an empty key', () => {
    expect(() => smb3Kdf(SMB30_SESSION_KEY, 'x\0', 'y\0', 192 as KdfLengthBits)).toThrow(ProtocolError);
    expect(() => smb3Kdf(Buffer.alloc(0), 'x\0', 'y\0', 128)).toThrow(ProtocolError);
  });
});
