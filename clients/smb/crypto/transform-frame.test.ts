import { test, expect } from '@playwright/test';
import { ProtocolError, SecurityError } from '../errors.js';
import { Cipher, cipherKeyLength, cipherName, cipherNonceLength } from './algorithms.js';
import { decryptMessage, encryptMessage, encryptMessageInto, encryptMessageParts, encryptMessageVector, openMessageDecipher, parseTransformHeader } from './transform-frame.js';
import { aeadBackend, useNodeCrypto } from './native.js';

const hex = (...lines: string[]): Buffer => Buffer.from(lines.join(''), 'hex');

interface FrameVector {
  name: string;
  cipher: Cipher;
  key: string;
  sessionId: bigint;
  /** Present for messages the blog shows being encrypted (requests). */
  nonce?: string;
  plaintext: Buffer;
  frame: Buffer;
}

// "Encryption in SMB 3.0: A protocol perspective", Microsoft Open Specifications blog (2012),
// test vector: Windows 8 client, Windows Server 2012, dialect 3.0, AES-128-CCM. Windows puts
// non-zero bytes after the 11-byte CCM nonce; they are part of the AAD.
const SMB30_SESSION = 0x8e40014000011n;
const SMB30_CLIENT_KEY = '261B72350558F2E9DCF613070383EDBF';
const SMB30_SERVER_KEY = '8FE2B57EC34D2DB5B1A9727F526BBDB5';
// "SMB 3.1.1 Encryption in Windows 10", Microsoft Open Specifications blog (2015), appendix
// A.1 (AES-128-GCM) and A.2 (AES-128-CCM).
const GCM_SESSION = 0x100000000025n;
const CCM_SESSION = 0x100000000021n;

const VECTORS: FrameVector[] = [
  {
    name: '3.0 AES-128-CCM WRITE request',
    cipher: Cipher.Aes128Ccm,
    key: SMB30_CLIENT_KEY,
    sessionId: SMB30_SESSION,
    nonce: '66E69A111892584FB5ED524A744DA3EE',
    plaintext: hex(
      'FE534D4240000100000000000900400008000000000000000400000000000000',
      'FFFE0000010000001100001400E4080000000000000000000000000000000000',
      '3100700017000000000000000000000015010000390000020100000039020000',
      '00000000000000007000000000000000536D623320656E6372797074696F6E20',
      '74657374696E67',
    ),
    frame: hex(
      'FD534D4281A286535415445DAE393921E44FA42E66E69A111892584FB5ED524A',
      '744DA3EE87000000000001001100001400E4080025C8FEE16605A437832D1CD5',
      '2DA9F4645333482A175FE5384563F45FCDAFAEF38BC62BA4D5C62897996625A4',
      '4C29BE5658DE2E6117585779E7B59FFD971278D08580D7FA899E410E910EABF5',
      'AA1DB43050B33B49182637759AC15D84BFCDF5B6B238993C0F4CF4D6012023F6',
      'C627297075D84B7803912D0A9639634453595EF3E33FFE4E7AC2AB',
    ),
  },
  {
    name: '3.0 AES-128-CCM WRITE response',
    cipher: Cipher.Aes128Ccm,
    key: SMB30_SERVER_KEY,
    sessionId: SMB30_SESSION,
    plaintext: hex(
      'FE534D4240000100000000000900210009000000000000000400000000000000',
      'FFFE0000010000001100001400E4080000000000000000000000000000000000',
      '11000000170000000000000000000000',
    ),
    frame: hex(
      'FD534D42A6015530A18F6D9AFFE22AFAE8E66484860000000000000011000014',
      '00E4080050000000000001001100001400E40800DBF46435C5F14169293CE079',
      'E344479BF670227E49873F458672C3098DAC467DD5809F369D67409166515787',
      '1483E01F7BECD02064EAC3E235F913668BBC2F097980D4B378F1993EFF6E60D1',
      '77309E5B',
    ),
  },
  {
    name: '3.0 AES-128-CCM READ request',
    cipher: Cipher.Aes128Ccm,
    key: SMB30_CLIENT_KEY,
    sessionId: SMB30_SESSION,
    nonce: 'A5123A25F983E245983F413B8B429AF2',
    plaintext: hex(
      'FE534D4240000100000000000800400008000000000000000500000000000000',
      'FFFE0000010000001100001400E4080000000000000000000000000000000000',
      '3100000017000000000000000000000015010000390000020100000039020000',
      '0000000000000000000000000000000000',
    ),
    frame: hex(
      'FD534D42E93601498B76D6F7A72D5EF9B6C79FAFA5123A25F983E245983F413B',
      '8B429AF271000000000001001100001400E408009A464F709AA663F8C2FC3907',
      'D63CBF6F98B1E3DD649ED366009FD0B40A365224718E5440E053F6E01AE462FD',
      'B721BF91C3A6E52E14F9EFF005F445761289FF1272908B52754C8FCB949F228A',
      'C104A66204289A205BCBC47509D04AF9A907002B96863358B3B7CBA5E3779300',
      '74FCDF3550',
    ),
  },
  {
    name: '3.0 AES-128-CCM READ response',
    cipher: Cipher.Aes128Ccm,
    key: SMB30_SERVER_KEY,
    sessionId: SMB30_SESSION,
    plaintext: hex(
      'FE534D4240000100000000000800210009000000000000000500000000000000',
      'FFFE0000010000001100001400E4080000000000000000000000000000000000',
      '11005000170000000000000000000000536D623320656E6372797074696F6E20',
      '74657374696E67',
    ),
    frame: hex(
      'FD534D42ABD518B68C2F04D7879F482B689EB83F870000000000000011000014',
      '00E4080067000000000001001100001400E40800493D6FE2BDBEB435CF5F5469',
      '70C7BB57BF20E713C75A3D045507E0D68E5C0346659D6FFB8AC1504A786CA2BB',
      '89C9E7FE4F313E910A04180D2D0EA7DF636329E5A3285984500EF86FE9D55DA4',
      'FAB9531CFDD4C551D47F3C73124BB4590A45052B694048B991CCF5',
    ),
  },
  {
    name: '3.1.1 AES-128-GCM WRITE request',
    cipher: Cipher.Aes128Gcm,
    key: 'A2F5E80E5D59103034F32E52F698E5EC',
    sessionId: GCM_SESSION,
    nonce: 'C7D6822D269CAF48904C664C',
    plaintext: hex(
      'FE534D4240000100000000000900010008000000000000000500000000000000FFFE000001000000',
      '25000000001000000000000000000000000000000000000031007000170000000000000000000000',
      '0600000004000000010000000400000000000000000000007000000000000000536D623320656E63',
      '72797074696F6E2074657374696E67',
    ),
    frame: hex(
      'FD534D42BD73D97D2BC9001BCAFAC0FDFF5FEEBCC7D6822D269CAF48904C664C0000000087000000',
      '0000010025000000001000006ECDD2A7AFC7B47763057A041B8FD4DAFFE990B70C9E09D36C084E02',
      'D14EF247F8BDE38ACF6256F8B1D3B56F77FBDEB312FEA5E92CBCC1ED8FB2EBBFAA75E49A4A394BB4',
      '4576545567C24D4C014D47C9FBDFDAFD2C4F9B72F8D256452620A299F48E29E53D6B61D1C13A19E9',
      '1AF013F00D17E3ABC2FC3D36C8C1B6B93973253852DBD442E46EE8',
    ),
  },
  {
    name: '3.1.1 AES-128-GCM WRITE response',
    cipher: Cipher.Aes128Gcm,
    key: '748C50868C90F302962A5C35F5F9A8BF',
    sessionId: GCM_SESSION,
    plaintext: hex(
      'FE534D4240000100000000000900010001000000000000000500000000000000FFFE000001000000',
      '25000000001000000000000000000000000000000000000011000000170000000000000000000000',
    ),
    frame: hex(
      'FD534D42ACBE1CB7ED343ADF1725EF144D90D4B0E06831DD2E8EB7B4000000000000000050000000',
      '00000100250000000010000026BBBF949983A6C1C796559D0F2C510CB651D1F7B6AC8DED32A2A0B8',
      'F2D793A815C6F6B848D69767A215841A42D400AE6DDB5F0B44173A014973321FDD7950DA6179159B',
      '82E03C9E18A050FF0EA1C967',
    ),
  },
  {
    name: '3.1.1 AES-128-GCM READ request',
    cipher: Cipher.Aes128Gcm,
    key: 'A2F5E80E5D59103034F32E52F698E5EC',
    sessionId: GCM_SESSION,
    nonce: 'D7AA8C6D36859243B715E0A6',
    plaintext: hex(
      'FE534D4240000100000000000800010008000000000000000600000000000000FFFE000001000000',
      '25000000001000000000000000000000000000000000000031000000170000000000000000000000',
      '060000000400000001000000040000000000000000000000000000000000000000',
    ),
    frame: hex(
      'FD534D426DAC0B6FD85A3ED42BB917DA38FE0386D7AA8C6D36859243B715E0A60000000071000000',
      '00000100250000000010000088A47BF09CA3C3141CDD7306BE9D9475AB24FCCB833D77461C041F8F',
      'B983D0C188F0729272B31D9D3D0DC6B687C069EEE0CC8EACA2C536D019ACC9E185D1EB630E0FCB79',
      '3EEECEB06D82A1D77706E700DBEBFB4FEB54D7AD2D97E7288804F90757FE4D08D6A84A3FF433E745',
      '1E768E4699',
    ),
  },
  {
    name: '3.1.1 AES-128-GCM READ response',
    cipher: Cipher.Aes128Gcm,
    key: '748C50868C90F302962A5C35F5F9A8BF',
    sessionId: GCM_SESSION,
    plaintext: hex(
      'FE534D4240000100000000000800010001000000000000000600000000000000FFFE000001000000',
      '25000000001000000000000000000000000000000000000011005000170000000000000000000000',
      '536D623320656E6372797074696F6E2074657374696E67',
    ),
    frame: hex(
      'FD534D427F714B3B9D8FA1198584E71C2BAA1CB6E16831DD2E8EB7B4000000000000000067000000',
      '000001002500000000100000FECEDF4D03BB11A6CC5D8A53BE33D6D8701986342B4197D306E16F9C',
      'BB218E92F7F8281F51CE68BB85A20D87DE90EBBF80538066D1C37513C0A58D70936D537B624F5500',
      '202A612B6CD30D448A82791A0B2E049ED512AFAEFB06E98AB3D6F931D7D50DB2DBD36A',
    ),
  },
  {
    name: '3.1.1 AES-128-CCM WRITE request',
    cipher: Cipher.Aes128Ccm,
    key: 'DFAAA31AAE40A2485D47AC4DF09FDA1D',
    sessionId: CCM_SESSION,
    nonce: '9F6F1EAAD7E9F24AACD38F',
    plaintext: hex(
      'FE534D4240000100000000000900010008000000000000000500000000000000FFFE000001000000',
      '21000000001000000000000000000000000000000000000031007000170000000000000000000000',
      '0500000004000000010000000400000000000000000000007000000000000000536D623320656E63',
      '72797074696F6E2074657374696E67',
    ),
    frame: hex(
      'FD534D42E89551D666DAB8993488F5A97103116C9F6F1EAAD7E9F24AACD38F000000000087000000',
      '00000100210000000010000056A74778199A9D2B6E9C3A376FD88D27680694FED253A313BEB07381',
      'AE8689F973ACDB8D716E4477803BCE53A92E1B81FA3E965AD9AF2C89C08CE66A344664453B8FC881',
      '18EDC9814CF58E92AA465E6EFB09958A9FDAD96FBD55B36A710C30D5E7C64AD7B9449F9F17EDD024',
      'FE8BA79154F340A82740D1D5180C69B0A2DE6A4BA893BD55D3210E',
    ),
  },
  {
    name: '3.1.1 AES-128-CCM WRITE response',
    cipher: Cipher.Aes128Ccm,
    key: '95C544AEF6072680DA1CE49A68A97FA6',
    sessionId: CCM_SESSION,
    plaintext: hex(
      'FE534D4240000100000000000900010001000000000000000500000000000000FFFE000001000000',
      '21000000001000000000000000000000000000000000000011000000170000000000000000000000',
    ),
    frame: hex(
      'FD534D42DD33EC41A927DD51476FE887C2D3C136D96831DD2E8EB7B4000000000000000050000000',
      '000001002100000000100000F783157E0F6F1C055D746753CA16D20C21088E2A67564E056C2F68A7',
      'F14F226C3BD809B7A2D52E5FE4ECF49821BC6001733430CF174E2764B3CCB213AAD8BB9FBAF6C15E',
      '13D9120965390E004A96A3F7',
    ),
  },
  {
    name: '3.1.1 AES-128-CCM READ request',
    cipher: Cipher.Aes128Ccm,
    key: 'DFAAA31AAE40A2485D47AC4DF09FDA1D',
    sessionId: CCM_SESSION,
    nonce: 'A0F92E964EDC3049B86E19',
    plaintext: hex(
      'FE534D4240000100000000000800010008000000000000000600000000000000FFFE000001000000',
      '21000000001000000000000000000000000000000000000031000000170000000000000000000000',
      '050000000400000001000000040000000000000000000000000000000000000000',
    ),
    frame: hex(
      'FD534D4235BF9600C841F0CDA9BD1BC3727B7E36A0F92E964EDC3049B86E19000000000071000000',
      '000001002100000000100000C4CCD3EB483A0638E69C99E391E7F64BCC10D6BEE46FEEA258C4BCAF',
      '792CB5A6E69283924081806DAB64827E9D14A5345D5221AB6DAFCB0E89FC2606B63D92163F4F6C93',
      'D1213D86ABF123B93EAD3AEF9A3471EFD68A423A00A6E0064D9AE3C842EFFFAD236A3BF25D37F4CD',
      '054C97DE18',
    ),
  },
  {
    name: '3.1.1 AES-128-CCM READ response',
    cipher: Cipher.Aes128Ccm,
    key: '95C544AEF6072680DA1CE49A68A97FA6',
    sessionId: CCM_SESSION,
    plaintext: hex(
      'FE534D4240000100000000000800010001000000000000000600000000000000FFFE000001000000',
      '21000000001000000000000000000000000000000000000011005000170000000000000000000000',
      '536D623320656E6372797074696F6E2074657374696E67',
    ),
    frame: hex(
      'FD534D42E241A13C7E1EE42ECF1FD69F3B8668C6DA6831DD2E8EB7B4000000000000000067000000',
      '00000100210000000010000015D67234FC8358D7BA1BF037ABC8EFD41A0A8F9BB04B16DEB1E85606',
      'BD8C2770823FE6239A286CB3E3D5762ABBD53FD8DE11ED491FE905E146A8FFCE09414AB741103D63',
      '7E28B19C6BA759B399DCC21FAE24CF2A455A13B215FC2857ABB513927F9F271D1C208B',
    ),
  },
];

test.describe('encrypted messages: published Microsoft test vectors', () => {
  for (const vector of VECTORS) {
    const { cipher, sessionId, plaintext, frame } = vector;
    const key = hex(vector.key);
    if (vector.nonce !== undefined) {
      const nonce = hex(vector.nonce);
      test(`${vector.name}: encrypts byte for byte`, () => {
        expect(encryptMessage({ cipher, key, sessionId, nonce, message: plaintext }).toString('hex')).toBe(frame.toString('hex'));
        const parts = encryptMessageParts({ cipher, key, sessionId, nonce, message: plaintext });
        expect(Buffer.concat([parts.header, parts.ciphertext]).equals(frame)).toBe(true);
      });
    }
    test(`${vector.name}: decrypts`, () => {
      const opened = decryptMessage({ cipher, key, frame });
      expect(opened.message.toString('hex')).toBe(plaintext.toString('hex'));
      expect(opened.sessionId).toBe(sessionId);
      expect(opened.nonce.equals(frame.subarray(20, 20 + (cipher === Cipher.Aes128Gcm ? 12 : 11)))).toBe(true);
    });
  }
});

const [FIRST] = VECTORS;
if (FIRST === undefined) throw new Error('vector table is empty');

test.describe('encrypted messages: header handling', () => {
  test('parseTransformHeader reads every field', () => {
    const header = parseTransformHeader(FIRST.frame);
    expect(header.signature.toString('hex').toUpperCase()).toBe('81A286535415445DAE393921E44FA42E');
    expect(header.nonceField.toString('hex').toUpperCase()).toBe('66E69A111892584FB5ED524A744DA3EE');
    expect(header.originalMessageSize).toBe(0x87);
    expect(header.flags).toBe(1);
    expect(header.sessionId).toBe(SMB30_SESSION);
  });

  test('a short frame is a ProtocolError', () => {
    const key = hex(FIRST.key);
    for (const length of [0, 4, 51]) {
      expect(() => decryptMessage({ cipher: FIRST.cipher, key, frame: FIRST.frame.subarray(0, length) })).toThrow(ProtocolError);
    }
  });

  test('a wrong ProtocolId, Flags or OriginalMessageSize is a ProtocolError', () => {
    const key = hex(FIRST.key);
    const badProtocol = Buffer.from(FIRST.frame);
    badProtocol[0] = 0xfe;
    expect(() => decryptMessage({ cipher: FIRST.cipher, key, frame: badProtocol })).toThrow(/ProtocolId/);
    const badFlags = Buffer.from(FIRST.frame);
    badFlags.writeUInt16LE(2, 42);
    expect(() => decryptMessage({ cipher: FIRST.cipher, key, frame: badFlags })).toThrow(ProtocolError);
    expect(() => decryptMessage({ cipher: FIRST.cipher, key, frame: FIRST.frame.subarray(0, FIRST.frame.length - 1) })).toThrow(
      /OriginalMessageSize/,
    );
  });

  test('a changed tag, header byte or ciphertext byte is a SecurityError naming cipher and session', () => {
    for (const vector of VECTORS) {
      const key = hex(vector.key);
      for (const offset of [4, 25, 44, vector.frame.length - 1]) {
        const tampered = Buffer.from(vector.frame);
        tampered[offset] = (tampered[offset] ?? 0) ^ 0x01;
        const attempt = (): unknown => decryptMessage({ cipher: vector.cipher, key, frame: tampered });
        expect(attempt).toThrow(SecurityError);
        expect(attempt).toThrow(cipherName(vector.cipher));
      }
    }
    const gcm = VECTORS.find((vector) => vector.cipher === Cipher.Aes128Gcm);
    if (gcm === undefined) throw new Error('no GCM vector');
    const tampered = Buffer.from(gcm.frame);
    tampered[10] = (tampered[10] ?? 0) ^ 0xff;
    expect(() => decryptMessage({ cipher: gcm.cipher, key: hex(gcm.key), frame: tampered })).toThrow(
      'AES-128-GCM decryption failed for session 0x0000100000000025',
    );
  });

  test('a header with nothing after it is a ProtocolError, whatever its tag', () => {
    const headerOnly = Buffer.from(FIRST.frame.subarray(0, 52));
    headerOnly.writeUInt32LE(0, 36);
    expect(() => decryptMessage({ cipher: FIRST.cipher, key: hex(FIRST.key), frame: headerOnly })).toThrow(ProtocolError);
  });

  test('the wrong key is a SecurityError', () => {
    expect(() => decryptMessage({ cipher: FIRST.cipher, key: Buffer.alloc(16), frame: FIRST.frame })).toThrow(SecurityError);
  });

  test('a short cipher nonce is zero-padded in the Nonce field; other lengths are refused', () => {
    const key = hex(FIRST.key);
    const frame = encryptMessage({ cipher: Cipher.Aes128Ccm, key, sessionId: 5n, nonce: Buffer.alloc(11, 0xab), message: FIRST.plaintext });
    expect(frame.subarray(20, 36).toString('hex')).toBe(`${'ab'.repeat(11)}${'00'.repeat(5)}`);
    expect(frame.readUInt32LE(36)).toBe(FIRST.plaintext.length);
    expect(frame.readUInt16LE(40)).toBe(0);
    expect(frame.readUInt16LE(42)).toBe(1);
    expect(frame.readBigUInt64LE(44)).toBe(5n);
    expect(() => encryptMessage({ cipher: Cipher.Aes128Gcm, key, sessionId: 5n, nonce: Buffer.alloc(11), message: FIRST.plaintext })).toThrow(
      ProtocolError,
    );
  });
});

test.describe('encrypted messages: round trips for the four ciphers', () => {
  const message = Buffer.alloc(70_000);
  for (let i = 0; i < message.length; i++) message[i] = (i * 7) & 0xff;
  const ciphers = [Cipher.Aes128Ccm, Cipher.Aes128Gcm, Cipher.Aes256Ccm, Cipher.Aes256Gcm];

  for (const cipher of ciphers) {
    test(cipherName(cipher), () => {
      const keyLength = cipher === Cipher.Aes256Ccm || cipher === Cipher.Aes256Gcm ? 32 : 16;
      const key = Buffer.alloc(keyLength, 0x42);
      const nonce = Buffer.alloc(cipher === Cipher.Aes128Gcm || cipher === Cipher.Aes256Gcm ? 12 : 11, 0x17);
      const sessionId = 0xffffffffffffffffn;
      const frame = encryptMessage({ cipher, key, sessionId, nonce, message });
      expect(frame.length).toBe(52 + message.length);
      const opened = decryptMessage({ cipher, key, frame });
      expect(opened.message.equals(message)).toBe(true);
      expect(opened.sessionId).toBe(sessionId);
      expect(opened.nonce.equals(nonce)).toBe(true);
    });
  }
});

test.describe('encrypted messages decrypted piece by piece as they arrive (GCM)', () => {
  const gcm = VECTORS.find((vector) => vector.cipher === Cipher.Aes128Gcm);
  if (gcm === undefined) throw new Error('no GCM vector');
  const key = hex(gcm.key);
  const open = (frame: Buffer) => openMessageDecipher({ cipher: gcm.cipher, key, head: frame.subarray(0, 52), frameLength: frame.length });

  test('the published GCM vector, in pieces of every size, gives its plaintext byte for byte', () => {
    for (const piece of [1, 7, 16, 33, gcm.frame.length]) {
      const decipher = open(gcm.frame);
      const out: Buffer[] = [];
      for (let at = 52; at < gcm.frame.length; at += piece) out.push(decipher.update(gcm.frame.subarray(at, Math.min(gcm.frame.length, at + piece))));
      decipher.final();
      expect(Buffer.concat(out).toString('hex')).toBe(gcm.plaintext.toString('hex'));
    }
  });

  test('a changed ciphertext byte or tag fails only at final(), as a SecurityError naming cipher and session', () => {
    for (const offset of [4, gcm.frame.length - 1]) {
      const tampered = Buffer.from(gcm.frame);
      tampered[offset] = (tampered[offset] ?? 0) ^ 0x01;
      const decipher = open(tampered);
      decipher.update(tampered.subarray(52));
      expect(() => decipher.final()).toThrow(SecurityError);
      expect(() => open(tampered).final()).toThrow('AES-128-GCM decryption failed for session 0x0000100000000025');
    }
  });

  test('the header is checked as decryptMessage checks it; CCM is refused', () => {
    expect(() => openMessageDecipher({ cipher: gcm.cipher, key, head: gcm.frame.subarray(0, 52), frameLength: gcm.frame.length + 1 })).toThrow(/OriginalMessageSize/);
    const badFlags = Buffer.from(gcm.frame.subarray(0, 52));
    badFlags.writeUInt16LE(2, 42);
    expect(() => openMessageDecipher({ cipher: gcm.cipher, key, head: badFlags, frameLength: gcm.frame.length })).toThrow(/Flags/);
    expect(() => openMessageDecipher({ cipher: gcm.cipher, key, head: gcm.frame.subarray(0, 40), frameLength: gcm.frame.length })).toThrow(ProtocolError);
    expect(() => openMessageDecipher({ cipher: Cipher.Aes128Ccm, key, head: gcm.frame.subarray(0, 52), frameLength: gcm.frame.length })).toThrow('AES-128-CCM cannot decrypt a message in pieces');
  });
});

test.describe('decryption in place, native AEAD and node:crypto alike', () => {
  test('the native AEAD is built and loaded (npm run build:native), unless SMB_INTEROP_NATIVE_CRYPTO=0', () => {
    if (process.env.SMB_INTEROP_NATIVE_CRYPTO === '0') expect(aeadBackend).toEqual({ name: 'node:crypto', reason: 'SMB_INTEROP_NATIVE_CRYPTO=0' });
    else expect(aeadBackend).toEqual({ name: 'native' });
  });

  for (const backend of ['native', 'node:crypto'] as const) {
    test.describe(backend, () => {
      test.beforeEach(() => {
        test.skip(backend === 'native' && aeadBackend.name !== 'native', `native AEAD not loaded: ${aeadBackend.reason ?? ''}`);
        useNodeCrypto(backend === 'node:crypto');
      });
      test.afterEach(() => useNodeCrypto(false));

      for (const vector of VECTORS) {
        test(`${vector.name}: decrypted in place gives the plaintext, in the frame's own memory when native`, () => {
          const frame = Buffer.from(vector.frame);
          const opened = decryptMessage({ cipher: vector.cipher, key: hex(vector.key), frame, inPlace: true });
          expect(opened.message.toString('hex')).toBe(vector.plaintext.toString('hex'));
          expect(opened.inPlace).toBe(backend === 'native');
          expect(opened.message.buffer === frame.buffer && opened.message.byteOffset === frame.byteOffset + 52).toBe(backend === 'native');
          if (backend === 'node:crypto') expect(frame.equals(vector.frame)).toBe(true);
        });

        test(`${vector.name}: a changed ciphertext byte or tag, decrypted in place, is a SecurityError naming cipher and session`, () => {
          for (const offset of [4, 19, 52, vector.frame.length - 1]) {
            const tampered = Buffer.from(vector.frame);
            tampered[offset] = (tampered[offset] ?? 0) ^ 0x01;
            expect(() => decryptMessage({ cipher: vector.cipher, key: hex(vector.key), frame: tampered, inPlace: true })).toThrow(
              `${cipherName(vector.cipher)} decryption failed for session 0x${vector.sessionId.toString(16).toUpperCase().padStart(16, '0')}`,
            );
          }
        });
      }

      test('the GCM vector decrypted in place piece by piece, in pieces of every size, gives its plaintext', () => {
        const gcm = VECTORS.find((vector) => vector.cipher === Cipher.Aes128Gcm);
        if (gcm === undefined) throw new Error('no GCM vector');
        for (const piece of [1, 7, 16, 33, gcm.frame.length]) {
          const frame = Buffer.from(gcm.frame);
          const decipher = openMessageDecipher({ cipher: gcm.cipher, key: hex(gcm.key), head: frame.subarray(0, 52), frameLength: frame.length });
          for (let at = 52; at < frame.length; at += piece) decipher.decryptInPlace(frame.subarray(at, Math.min(frame.length, at + piece)));
          decipher.final();
          expect(frame.subarray(52).toString('hex')).toBe(gcm.plaintext.toString('hex'));
        }
      });

      test('a large GCM message decrypted in place in uneven pieces equals the one node:crypto decrypts whole', () => {
        const key = Buffer.alloc(16, 0x21);
        const message = Buffer.alloc(3 * 65_536 + 4_321);
        for (let i = 0; i < message.length; i++) message[i] = (i * 131 + 7) & 0xff;
        const frame = encryptMessage({ cipher: Cipher.Aes128Gcm, key, sessionId: 0x77n, nonce: Buffer.alloc(12, 3), message });
        const copy = Buffer.from(frame);
        const decipher = openMessageDecipher({ cipher: Cipher.Aes128Gcm, key, head: copy.subarray(0, 52), frameLength: copy.length });
        for (const [from, to] of [[52, 60_000], [60_000, 200_001], [200_001, copy.length]] as const) decipher.decryptInPlace(copy.subarray(from, to));
        decipher.final();
        expect(copy.subarray(52).equals(message)).toBe(true);
      });
    });
  }
});

test.describe('encryption into given memory (native AEAD)', () => {
  test.beforeEach(() => {
    test.skip(aeadBackend.name !== 'native', `native AEAD not loaded: ${aeadBackend.reason ?? ''}`);
  });

  for (const vector of VECTORS) {
    if (vector.nonce === undefined) continue;
    const nonce = vector.nonce;
    test(`${vector.name}: sealed into memory full of other bytes, byte for byte`, () => {
      const memory = Buffer.alloc(vector.frame.length + 10, 0xee);
      const lengths: number[] = [];
      const frame = encryptMessageInto({ cipher: vector.cipher, key: hex(vector.key), sessionId: vector.sessionId, nonce: hex(nonce), message: [vector.plaintext] }, (length) => {
        lengths.push(length);
        return memory.subarray(5, 5 + length);
      });
      expect(lengths).toEqual([vector.frame.length]);
      expect(frame?.buffer).toBe(memory.buffer);
      expect(frame?.toString('hex')).toBe(vector.frame.toString('hex'));
      expect(memory.subarray(0, 5).equals(Buffer.alloc(5, 0xee)) && memory.subarray(5 + vector.frame.length).equals(Buffer.alloc(5, 0xee))).toBe(true);
    });
  }

  test('a message in parts sealed into memory equals the one node:crypto seals, for the four ciphers', () => {
    const data = Buffer.alloc(3 * 65_536 + 4_321);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
    const parts = [Buffer.alloc(64, 0xfe), Buffer.alloc(48, 0x31), Buffer.alloc(0), data];
    for (const cipher of [Cipher.Aes128Ccm, Cipher.Aes128Gcm, Cipher.Aes256Ccm, Cipher.Aes256Gcm]) {
      const input = { cipher, key: Buffer.alloc(cipherKeyLength(cipher), 0x21), sessionId: 0x1122334455667788n, nonce: Buffer.alloc(cipherNonceLength(cipher), 0x09), message: parts };
      const native = encryptMessageInto(input, (length) => Buffer.alloc(length, 0xaa));
      useNodeCrypto(true);
      try {
        const sealed = encryptMessageVector(input);
        expect(native?.equals(Buffer.concat([sealed.header, ...sealed.ciphertext])), cipherName(cipher)).toBe(true);
        expect(decryptMessage({ cipher, key: input.key, frame: native! }).message.equals(Buffer.concat(parts)), cipherName(cipher)).toBe(true);
      } finally {
        useNodeCrypto(false);
      }
    }
  });

  test('without the native AEAD nothing is allocated and the caller is told so (undefined)', () => {
    useNodeCrypto(true);
    try {
      let asked = 0;
      const frame = encryptMessageInto({ cipher: Cipher.Aes128Gcm, key: Buffer.alloc(16), sessionId: 1n, nonce: Buffer.alloc(12), message: [Buffer.alloc(100)] }, (length) => {
        asked++;
        return Buffer.alloc(length);
      });
      expect(frame).toBeUndefined();
      expect(asked).toBe(0);
    } finally {
      useNodeCrypto(false);
    }
  });

  test('memory of the wrong length, a bad key or an empty message is refused, naming the problem', () => {
    const input = { cipher: Cipher.Aes128Gcm, key: Buffer.alloc(16), sessionId: 1n, nonce: Buffer.alloc(12), message: [Buffer.alloc(100)] };
    expect(() => encryptMessageInto(input, (length) => Buffer.alloc(length - 1))).toThrow('a frame of 152 bytes was asked for, 151 given');
    expect(() => encryptMessageInto({ ...input, key: Buffer.alloc(15) }, (length) => Buffer.alloc(length))).toThrow(ProtocolError);
    expect(() => encryptMessageInto({ ...input, message: [Buffer.alloc(0)] }, (length) => Buffer.alloc(length))).toThrow('refusing to encrypt or decrypt an empty message');
  });
});
