import { test, expect } from '@playwright/test';
import { ProtocolError } from '../errors.js';
import { SigningAlgorithm, signingAlgorithmName } from './algorithms.js';
import { applySignature, gmacSigningNonce, openSignatureCheck, signMessage, verifyMessageSignature } from './signing.js';

const hex = (...lines: string[]): Buffer => Buffer.from(lines.join(''), 'hex');
const upper = (value: Buffer): string => value.toString('hex').toUpperCase();

interface SignedExample {
  name: string;
  key: string;
  message: Buffer;
  signature: string;
}

const ANATOMY_BLOG = 'anatomy of signing and cryptographic keys (2017)';
const SMB311_ENCRYPTION_BLOG = 'SMB 3.1.1 Encryption in Windows 10 (2015)';
const MASTER_SIGNING_KEY = '73FE7A9A77BEF0BDE49C650D8CCB5F76';

// Signed SMB 3.1.1 messages (AES-128-CMAC) printed in Microsoft's Open Specifications blogs,
// with the signing key the blog derives for them.
const PUBLISHED_CMAC_EXAMPLES: SignedExample[] = [
  {
    name: `${ANATOMY_BLOG}: final SESSION_SETUP response, master session`,
    key: MASTER_SIGNING_KEY,
    message: hex(
      'FE534D4240000100000000000100800009000000000000000300000000000000FFFE000000000000',
      '1900000000100000EBE146DA120BA25FC3376A49DFE31BC10900000048001D00A11B3019A0030A01',
      '00A3120410010000003B453CDC3524164200000000',
    ),
    signature: 'EBE146DA120BA25FC3376A49DFE31BC1',
  },
  {
    name: `${ANATOMY_BLOG}: session binding SESSION_SETUP request, signed with the master session key`,
    key: MASTER_SIGNING_KEY,
    message: hex(
      'FE534D4240000100000000000100800008000000000000000200000000000000FFFE000000000000',
      '190000000010000068BD0C58F613CE1334B1EB51C68D39EA19000101010000000000000058004A00',
      '0000000000000000604806062B0601050502A03E303CA00E300C060A2B06010401823702020AA22A',
      '04284E544C4D5353500001000000978208E200000000000000000000000000000000060380250000',
      '000F',
    ),
    signature: '68BD0C58F613CE1334B1EB51C68D39EA',
  },
  {
    name: `${ANATOMY_BLOG}: session binding STATUS_MORE_PROCESSING_REQUIRED response`,
    key: MASTER_SIGNING_KEY,
    message: hex(
      'FE534D4240000100160000C00100010009000000000000000200000000000000FFFE000000000000',
      '1900000000100000014A71CAE724995E612430E2BE87578C090000004800B300A181B03081ADA003',
      '0A0101A10C060A2B06010401823702020AA281970481944E544C4D53535000020000000C000C0038',
      '00000015828AE23823DA68E32D2FE1000000000000000050005000440000000A0092270000000F53',
      '005500540033003100310002000C0053005500540033003100310001000C00530055005400330031',
      '00310004000C0053005500540033003100310003000C005300550054003300310031000700080041',
      '3B42AECBAED00100000000',
    ),
    signature: '014A71CAE724995E612430E2BE87578C',
  },
  {
    name: `${ANATOMY_BLOG}: final binding SESSION_SETUP response, Channel.SigningKey`,
    key: 'C962BCA1A9DD1697B030644199705431',
    message: hex(
      'FE534D4240000100000000000100800009000000000000000300000000000000FFFE000000000000',
      '19000000001000008D604217FFBACF40635BF9D8729921500900000048001D00A11B3019A0030A01',
      '00A312041001000000CFB046FC5D368E2200000000',
    ),
    signature: '8D604217FFBACF40635BF9D872992150',
  },
  {
    name: `${SMB311_ENCRYPTION_BLOG}, A.1: final SESSION_SETUP response`,
    key: '8765949DFEAEE105CE9118B45BE988F0',
    message: hex(
      'FE534D4240000100000000000100800009000000000000000200000000000000FFFE000000000000',
      '25000000001000006B85A4519A0F3EEA35BA946DD3AFE6B80900000048001D00A11B3019A0030A01',
      '00A3120410010000003932A87523AB660100000000',
    ),
    signature: '6B85A4519A0F3EEA35BA946DD3AFE6B8',
  },
  {
    name: `${SMB311_ENCRYPTION_BLOG}, A.2: final SESSION_SETUP response`,
    key: '3DCC82C5795AE27F383242761078C59B',
    message: hex(
      'FE534D4240000100000000000100800009000000000000000200000000000000FFFE000000000000',
      '21000000001000003676196AEE8CA17E5D50A53642EF2BE40900000048001D00A11B3019A0030A01',
      '00A3120410010000000F57444342A2717E00000000',
    ),
    signature: '3676196AEE8CA17E5D50A53642EF2BE4',
  },
];

const [FINAL_RESPONSE, BINDING_REQUEST] = PUBLISHED_CMAC_EXAMPLES;
if (FINAL_RESPONSE === undefined || BINDING_REQUEST === undefined) throw new Error('example table is empty');

// A CANCEL request (Command 0x000C, MessageId 7, SMB2_FLAGS_SIGNED) built for these tests.
const CANCEL_REQUEST = hex(
  'FE534D4240000100000000000C00000008000000000000000700000000000000FFFE000000000000',
  '19000000001000000000000000000000000000000000000004000000',
);

function withZeroSignature(message: Buffer): Buffer {
  const copy = Buffer.from(message);
  copy.fill(0, 48, 64);
  return copy;
}

test.describe('AES-128-CMAC signing: published SMB 3.1.1 messages', () => {
  for (const example of PUBLISHED_CMAC_EXAMPLES) {
    test(example.name, () => {
      const key = hex(example.key);
      expect(verifyMessageSignature(SigningAlgorithm.AesCmac, key, example.message)).toBe(true);
      expect(upper(signMessage(SigningAlgorithm.AesCmac, key, example.message))).toBe(example.signature);
      const unsigned = withZeroSignature(example.message);
      applySignature(unsigned, SigningAlgorithm.AesCmac, key);
      expect(unsigned.equals(example.message)).toBe(true);
    });
  }
});

// No published AES-GMAC or SMB2 HMAC-SHA256 signing example was found. These values were
// computed independently with OpenSSL 3.0 over the message with a zeroed Signature field:
// `openssl mac -cipher AES-128-GCM -macopt hexkey:<key> -macopt hexiv:<nonce> -in <msg> GMAC`
// and `openssl dgst -sha256 -mac HMAC -macopt hexkey:<key>` (first 16 bytes).
test.describe('AES-128-GMAC signing (OpenSSL-computed vectors)', () => {
  const key = hex(MASTER_SIGNING_KEY);

  test('server response: nonce is MessageId then role bit 1', () => {
    expect(upper(gmacSigningNonce(FINAL_RESPONSE.message))).toBe('030000000000000001000000');
    expect(upper(signMessage(SigningAlgorithm.AesGmac, key, FINAL_RESPONSE.message))).toBe('75D05BAC99FF7FCC52A44C354381D559');
  });

  test('the role comes from the header unless given', () => {
    expect(upper(signMessage(SigningAlgorithm.AesGmac, key, FINAL_RESPONSE.message, { isServer: false }))).toBe(
      '48FE6970628518BC1797BC5FEC22A901',
    );
  });

  test('client request: role bit 0', () => {
    expect(upper(gmacSigningNonce(BINDING_REQUEST.message))).toBe('020000000000000000000000');
    expect(upper(signMessage(SigningAlgorithm.AesGmac, key, BINDING_REQUEST.message))).toBe('1350959EB13DC1C023332D69E9249205');
  });

  test('CANCEL request: the cancel bit is set', () => {
    expect(upper(gmacSigningNonce(CANCEL_REQUEST))).toBe('070000000000000002000000');
    expect(upper(signMessage(SigningAlgorithm.AesGmac, key, CANCEL_REQUEST))).toBe('3F222C736E70769006F7D585EFB2B3A3');
    expect(upper(gmacSigningNonce(CANCEL_REQUEST, { isCancel: false }))).toBe('070000000000000000000000');
  });

  test('sign then verify, tamper fails', () => {
    const message = withZeroSignature(BINDING_REQUEST.message);
    applySignature(message, SigningAlgorithm.AesGmac, key);
    expect(verifyMessageSignature(SigningAlgorithm.AesGmac, key, message)).toBe(true);
    expect(verifyMessageSignature(SigningAlgorithm.AesGmac, key, message, { isServer: true })).toBe(false);
    message[message.length - 1] = (message[message.length - 1] ?? 0) ^ 1;
    expect(verifyMessageSignature(SigningAlgorithm.AesGmac, key, message)).toBe(false);
  });
});

test.describe('HMAC-SHA256 signing (OpenSSL-computed vector)', () => {
  test('first 16 bytes of HMAC-SHA256 over the message with a zero signature', () => {
    const key = hex(MASTER_SIGNING_KEY);
    expect(upper(signMessage(SigningAlgorithm.HmacSha256, key, BINDING_REQUEST.message))).toBe('A2113B23E6276AC894074787FA9F2D2B');
  });
});

test.describe('signing: behaviour common to all algorithms', () => {
  const key = hex(MASTER_SIGNING_KEY);
  const algorithms = [SigningAlgorithm.HmacSha256, SigningAlgorithm.AesCmac, SigningAlgorithm.AesGmac];

  test('signMessage does not modify the message; applySignature writes bytes 48..63 only', () => {
    for (const algorithm of algorithms) {
      const original = Buffer.from(FINAL_RESPONSE.message);
      const message = Buffer.from(original);
      const signature = signMessage(algorithm, key, message);
      expect(message.equals(original)).toBe(true);
      applySignature(message, algorithm, key);
      expect(message.subarray(48, 64).equals(signature)).toBe(true);
      expect(message.subarray(0, 48).equals(original.subarray(0, 48))).toBe(true);
      expect(message.subarray(64).equals(original.subarray(64))).toBe(true);
      expect(verifyMessageSignature(algorithm, key, message)).toBe(true);
    }
  });

  test('signs a message that is a slice of a larger buffer (one message of a compound)', () => {
    const compound = Buffer.concat([Buffer.alloc(8, 0xee), withZeroSignature(FINAL_RESPONSE.message), Buffer.alloc(8, 0xee)]);
    const slice = compound.subarray(8, 8 + FINAL_RESPONSE.message.length);
    applySignature(slice, SigningAlgorithm.AesCmac, hex(FINAL_RESPONSE.key));
    expect(compound.subarray(8, 8 + FINAL_RESPONSE.message.length).equals(FINAL_RESPONSE.message)).toBe(true);
    expect(compound.subarray(0, 8).equals(Buffer.alloc(8, 0xee))).toBe(true);
  });

  test('verification rejects a wrong signature, a wrong key and a changed byte', () => {
    for (const algorithm of algorithms) {
      const message = Buffer.from(FINAL_RESPONSE.message);
      applySignature(message, algorithm, key);
      const badSignature = Buffer.from(message);
      badSignature[50] = (badSignature[50] ?? 0) ^ 0x80;
      expect(verifyMessageSignature(algorithm, key, badSignature)).toBe(false);
      expect(verifyMessageSignature(algorithm, Buffer.alloc(16, 1), message)).toBe(false);
      const badBody = Buffer.from(message);
      badBody[70] = (badBody[70] ?? 0) ^ 0x01;
      expect(verifyMessageSignature(algorithm, key, badBody)).toBe(false);
    }
  });

  test('rejects messages shorter than the header, bad keys and unknown algorithms', () => {
    expect(() => signMessage(SigningAlgorithm.AesCmac, key, Buffer.alloc(63))).toThrow(ProtocolError);
    expect(() => verifyMessageSignature(SigningAlgorithm.AesCmac, key, Buffer.alloc(10))).toThrow(ProtocolError);
    expect(() => signMessage(SigningAlgorithm.AesGmac, Buffer.alloc(32), FINAL_RESPONSE.message)).toThrow(ProtocolError);
    expect(() => signMessage(SigningAlgorithm.HmacSha256, Buffer.alloc(0), FINAL_RESPONSE.message)).toThrow(ProtocolError);
    expect(() => signMessage(7 as SigningAlgorithm, key, FINAL_RESPONSE.message)).toThrow(ProtocolError);
  });
});

test.describe('signatures checked piece by piece as a message arrives', () => {
  test('the published CMAC messages verify from a 64-byte start and the rest in pieces of every size', () => {
    for (const example of PUBLISHED_CMAC_EXAMPLES) {
      for (const piece of [1, 5, 16, 1000]) {
        const check = openSignatureCheck(SigningAlgorithm.AesCmac, hex(example.key), example.message.subarray(0, 64));
        for (let at = 64; at < example.message.length; at += piece) check.update(example.message.subarray(at, Math.min(example.message.length, at + piece)));
        expect(check.verify()).toBe(true);
      }
    }
  });

  for (const algorithm of [SigningAlgorithm.HmacSha256, SigningAlgorithm.AesCmac, SigningAlgorithm.AesGmac]) {
    test(`${signingAlgorithmName(algorithm)}: the same verdict as verifyMessageSignature, for an intact and a changed message`, () => {
      const key = hex(MASTER_SIGNING_KEY);
      const message = Buffer.alloc(70_000);
      for (let i = 0; i < message.length; i++) message[i] = (i * 13) & 0xff;
      message.writeUInt32LE(0x424d53fe, 0);
      applySignature(message, algorithm, key);
      for (const changed of [undefined, 10, 70, 69_999]) {
        const copy = Buffer.from(message);
        if (changed !== undefined) copy[changed] = (copy[changed] ?? 0) ^ 1;
        const check = openSignatureCheck(algorithm, key, copy.subarray(0, 80));
        for (let at = 80; at < copy.length; at += 4096) check.update(copy.subarray(at, Math.min(copy.length, at + 4096)));
        expect(check.verify()).toBe(changed === undefined);
        expect(verifyMessageSignature(algorithm, key, copy)).toBe(changed === undefined);
      }
    });
  }
});
