import { test, expect } from '@playwright/test';
import { ProtocolError } from '../errors.js';
import { Cipher, Dialect } from './algorithms.js';
import { deriveSessionKeys, deriveSigningKey, truncatedSessionKey } from './keys.js';
import type { SessionKeyInputs, SessionKeys } from './keys.js';

const hex = (value: string): Buffer => Buffer.from(value, 'hex');
const upper = (value: Buffer | undefined): string | undefined => value?.toString('hex').toUpperCase();

interface KeyVector {
  source: string;
  inputs: SessionKeyInputs;
  expected: { signingKey: string; encryptionKey?: string; decryptionKey?: string; applicationKey?: string };
}

const ANATOMY_BLOG = 'Microsoft blog "the anatomy of signing and cryptographic keys" (2017), appendix';
const SMB30_ENCRYPTION_BLOG = 'Microsoft blog "Encryption in SMB 3.0: A protocol perspective" (2012), test vector';
const SMB311_ENCRYPTION_BLOG = 'Microsoft blog "SMB 3.1.1 Encryption in Windows 10" (2015)';

const publishedVectors: KeyVector[] = [
  {
    source: `${ANATOMY_BLOG}: SMB 3.0 master session`,
    inputs: { dialect: Dialect.Smb300, sessionKey: hex('7CD451825D0450D235424E44BA6E78CC') },
    expected: {
      signingKey: '0B7E9C5CAC36C0F6EA9AB275298CEDCE',
      encryptionKey: 'FAD27796665B313EBB578F388632B4F7',
      decryptionKey: 'B0F0427F7CEB416D1D9DCC0CD4F99447',
      applicationKey: 'BB23A4575AA26C721AF525AF15A87B4F',
    },
  },
  {
    source: `${ANATOMY_BLOG}: SMB 3.0 second channel (Channel.SigningKey)`,
    inputs: { dialect: Dialect.Smb300, sessionKey: hex('4E01A2B313BCF660CC250BEF021AEDE6') },
    expected: { signingKey: 'BA1A17DBBFEC349BCA105563D598952F' },
  },
  {
    source: SMB30_ENCRYPTION_BLOG,
    inputs: { dialect: Dialect.Smb300, sessionKey: hex('B4546771B515F766A86735532DD6C4F0') },
    expected: {
      signingKey: 'F773CD23C18FD1E08EE510CADA7CF852',
      encryptionKey: '261B72350558F2E9DCF613070383EDBF',
      decryptionKey: '8FE2B57EC34D2DB5B1A9727F526BBDB5',
      applicationKey: '77432F808CE99156B5BC6A3676D730D1',
    },
  },
  {
    source: `${ANATOMY_BLOG}: SMB 3.1.1 master session`,
    inputs: {
      dialect: Dialect.Smb311,
      cipher: Cipher.Aes128Gcm,
      sessionKey: hex('270E1BA896585EEB7AF3472D3B4C75A7'),
      preauthIntegrityHash: hex(
        '0DD13628CC3ED218EF9DF9772D436D0887AB9814BFAE63A80AA845F36909DB79' +
          '28622DDDAD522D9751640A459762C5A9D6BB084CBB3CE6BDADEF5D5BCE3C6C01',
      ),
    },
    expected: {
      signingKey: '73FE7A9A77BEF0BDE49C650D8CCB5F76',
      encryptionKey: '629BCBC54422A0F572B97F45989B6073',
      decryptionKey: 'E2AF0DCEFAC68DA71A0DFBD0D1350D74',
      applicationKey: '6D7AD7954E9EC61E907B4D473DC178FF',
    },
  },
  {
    source: `${ANATOMY_BLOG}: SMB 3.1.1 second channel (Channel.SigningKey)`,
    inputs: {
      dialect: Dialect.Smb311,
      cipher: Cipher.Aes128Gcm,
      sessionKey: hex('84B9DBB730116A8FA6E9889555C265F9'),
      preauthIntegrityHash: hex(
        'EA3BF912B11CBFEC5B1889E8209614218687F82FA5294521AD3063425E49E88A' +
          '10BD022124CE25123BC9111F52D9566BA88BF46344E6063DC5E3FF0389026F6C',
      ),
    },
    expected: { signingKey: 'C962BCA1A9DD1697B030644199705431' },
  },
  {
    source: `${SMB311_ENCRYPTION_BLOG}, appendix A.1 (AES-128-GCM)`,
    inputs: {
      dialect: Dialect.Smb311,
      cipher: Cipher.Aes128Gcm,
      sessionKey: hex('419FDDF34C1E001909D362AE7FB6AF79'),
      preauthIntegrityHash: hex(
        'B23F3CBFD69487D9832B79B1594A367CDD950909B774C3A4C412B4FCEA9EDDDB' +
          'A7DB256BA2EA30E977F11F9B113247578E0E915C6D2A513B8F2FCA5707DC8770',
      ),
    },
    expected: {
      signingKey: '8765949DFEAEE105CE9118B45BE988F0',
      encryptionKey: 'A2F5E80E5D59103034F32E52F698E5EC',
      decryptionKey: '748C50868C90F302962A5C35F5F9A8BF',
      applicationKey: '099D610789FBE82055B313601C3E8CC4',
    },
  },
  {
    source: `${SMB311_ENCRYPTION_BLOG}, appendix A.2 (AES-128-CCM)`,
    inputs: {
      dialect: Dialect.Smb311,
      cipher: Cipher.Aes128Ccm,
      sessionKey: hex('07B7F69C1E2581662DF6987E88F9E891'),
      preauthIntegrityHash: hex(
        'DECF98A420718718F22090D3580FCC5E484BD310FA1268210C6E86335A8891E7' +
          '67F5BCD99FA5A7859D665AD07A73EA94E1BCDB7CFA69A6962A28A244138340B1',
      ),
    },
    expected: {
      signingKey: '3DCC82C5795AE27F383242761078C59B',
      encryptionKey: 'DFAAA31AAE40A2485D47AC4DF09FDA1D',
      decryptionKey: '95C544AEF6072680DA1CE49A68A97FA6',
      applicationKey: '7A2F0F73EC2D530879B2913BBFCE242F',
    },
  },
];

function expectKeys(actual: SessionKeys, expected: KeyVector['expected']): void {
  expect(upper(actual.signingKey)).toBe(expected.signingKey);
  if (expected.encryptionKey !== undefined) expect(upper(actual.encryptionKey)).toBe(expected.encryptionKey);
  if (expected.decryptionKey !== undefined) expect(upper(actual.decryptionKey)).toBe(expected.decryptionKey);
  if (expected.applicationKey !== undefined) expect(upper(actual.applicationKey)).toBe(expected.applicationKey);
}

test.describe('deriveSessionKeys: published Microsoft vectors', () => {
  for (const vector of publishedVectors) {
    test(vector.source, () => {
      expectKeys(deriveSessionKeys(vector.inputs), vector.expected);
      expect(upper(deriveSigningKey(vector.inputs))).toBe(vector.expected.signingKey);
    });
  }

  test('3.0.2 uses the 3.0 constants', () => {
    const [smb30] = publishedVectors;
    if (smb30 === undefined) throw new Error('vector table is empty');
    expectKeys(deriveSessionKeys({ ...smb30.inputs, dialect: Dialect.Smb302 }), smb30.expected);
  });
});

const PREAUTH = hex(
  '0DD13628CC3ED218EF9DF9772D436D0887AB9814BFAE63A80AA845F36909DB79' +
    '28622DDDAD522D9751640A459762C5A9D6BB084CBB3CE6BDADEF5D5BCE3C6C01',
);

// Not published: computed independently with OpenSSL 3.0 KBKDF (see kdf.test.ts).
test.describe('deriveSessionKeys: AES-256 ciphers (OpenSSL-computed vectors)', () => {
  test('a 16-byte (NTLM) session key gives 32-byte cipher keys', () => {
    const keys = deriveSessionKeys({
      dialect: Dialect.Smb311,
      cipher: Cipher.Aes256Ccm,
      sessionKey: hex('270E1BA896585EEB7AF3472D3B4C75A7'),
      preauthIntegrityHash: PREAUTH,
    });
    expectKeys(keys, {
      signingKey: '73FE7A9A77BEF0BDE49C650D8CCB5F76',
      encryptionKey: '049C27FD8A340262E32C643DEA2BA507AF7A4C085FD2505AEFFCBDEAE6D6D8AB',
      decryptionKey: '35952FED051BF2471AF5F7ACC63674B887A54B47AF46959F7CAFF1CE537D7419',
      applicationKey: '6D7AD7954E9EC61E907B4D473DC178FF',
    });
  });

  test('a 32-byte (Kerberos AES256) key: cipher keys from the full key, the others from its first 16 bytes', () => {
    const fullKey = hex('000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F');
    const keys = deriveSessionKeys({
      dialect: Dialect.Smb311,
      cipher: Cipher.Aes256Gcm,
      sessionKey: fullKey,
      preauthIntegrityHash: PREAUTH,
    });
    expectKeys(keys, {
      signingKey: 'ADFDCD95A8DBB1DB6648FC26D5CEA1BC',
      encryptionKey: 'F1A5C66C7C07116904393A1D1C4CB46EECEB7FD384038C510561FBFDBA9AE683',
      decryptionKey: '4EBC8BF4047484C299D04C4F8FF31ED8243CEA3ED8AA9902EA5833B809AC10E7',
      applicationKey: '109DC2BC61B656A125A8787A13F03293',
    });
    const aes128 = deriveSessionKeys({ dialect: Dialect.Smb311, cipher: Cipher.Aes128Gcm, sessionKey: fullKey, preauthIntegrityHash: PREAUTH });
    expect(upper(aes128.encryptionKey)).toBe('F018888A321ADD00C1732075CD1DEF2C');
  });
});

test.describe('deriveSessionKeys: dialects 2.0.2 and 2.1', () => {
  test('sign with the session key itself and have no cipher keys', () => {
    const sessionKey = hex('00112233445566778899AABBCCDDEEFF');
    for (const dialect of [Dialect.Smb202, Dialect.Smb210]) {
      const keys = deriveSessionKeys({ dialect, sessionKey });
      expect(keys.signingKey.equals(sessionKey)).toBe(true);
      expect(keys.applicationKey.equals(sessionKey)).toBe(true);
      expect(keys.encryptionKey).toBeUndefined();
      expect(keys.decryptionKey).toBeUndefined();
    }
  });
});

test.describe('Session.SessionKey from the GSS key', () => {
  test('keeps the first 16 bytes and right-pads shorter keys with zeros', () => {
    expect(upper(truncatedSessionKey(hex('000102030405060708090A0B0C0D0E0F1011')))).toBe('000102030405060708090A0B0C0D0E0F');
    expect(upper(truncatedSessionKey(hex('AABBCC')))).toBe('AABBCC00000000000000000000000000');
  });
});

test.describe('deriveSessionKeys: bad inputs', () => {
  const sessionKey = hex('270E1BA896585EEB7AF3472D3B4C75A7');

  test('3.1.1 without a 64-byte preauth hash', () => {
    expect(() => deriveSessionKeys({ dialect: Dialect.Smb311, sessionKey })).toThrow(ProtocolError);
    expect(() => deriveSessionKeys({ dialect: Dialect.Smb311, sessionKey, preauthIntegrityHash: Buffer.alloc(32) })).toThrow(
      /64-byte preauth integrity hash/,
    );
  });

  test('3.0 with a cipher other than AES-128-CCM', () => {
    expect(() => deriveSessionKeys({ dialect: Dialect.Smb300, sessionKey, cipher: Cipher.Aes128Gcm })).toThrow(ProtocolError);
  });

  test('unknown dialect or cipher, empty key', () => {
    expect(() => deriveSessionKeys({ dialect: 0x0222 as Dialect, sessionKey })).toThrow(ProtocolError);
    expect(() => deriveSessionKeys({ dialect: Dialect.Smb311, sessionKey, preauthIntegrityHash: PREAUTH, cipher: 9 as Cipher })).toThrow(
      ProtocolError,
    );
    expect(() => deriveSessionKeys({ dialect: Dialect.Smb300, sessionKey: Buffer.alloc(0) })).toThrow(ProtocolError);
  });
});
