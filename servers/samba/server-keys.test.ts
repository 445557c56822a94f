import { expect, test } from '@playwright/test';
import { parseServerKeys } from './server-keys.js';
import { smb3Kdf } from '../../clients/smb/crypto/kdf.js';

// smbd 4.17.12 with `debug encryption = yes`, two sessions (an AES-128-GCM one, then an AES-256-GCM
// one whose 32-byte cipher keys take two rows), around other log lines.
const LOG = `smbd version 4.17.12-Debian started.
debug encryption: dumping generated session keys
Session Id    [0000] 44 BB 5D B5 00 00 00 00                             D.].....
Session Key   [0000] E1 E1 5E CF 3E C3 F0 ED   F8 9A AD BE 57 E7 21 B6   ..^.>... ....W.!.
Signing Algo: 2
Signing Key   [0000] 8C 17 41 F4 DF 3E 14 02   C5 5A 65 E6 A2 DC 1D 35   ..A..>.. .Ze....5
App Key       [0000] D3 70 62 45 62 B7 06 18   AC 6B 95 04 C0 20 1D 2B   .pbEb... .k... .+
Cipher Algo: 2
ServerIn Key  [0000] 22 35 58 23 4D 2E A9 E4   48 E6 28 2E 1F 17 14 80   "5X#M... H.(.....
ServerOut Key [0000] A6 E2 F1 07 B5 1A 84 96   3D 3B 4C A8 18 45 25 2B   ........ =;L..E%+
Server exit (NT_STATUS_END_OF_FILE)
debug encryption: dumping generated session keys
Session Id    [0000] C6 0E 7C 96 00 00 00 00                             ..|.....
Session Key   [0000] BF AE 48 DD 5E F6 17 E5   2A 03 EE 4E 99 32 2F B9   ..H.^... *..N.2/.
Signing Algo: 2
Signing Key   [0000] 7B A6 1B E5 BE 9F A4 9F   EB 83 4D EC A8 46 A5 77   {....... ..M..F.w
App Key       [0000] 79 81 D1 05 42 46 D1 AB   7D 0F F1 3D 88 7A 6E B1   y...BF.. }..=.zn.
Cipher Algo: 4
ServerIn Key  [0000] BA A4 A7 30 9B 63 9E 49   ED 72 6B A9 94 73 F3 01   ...0.c.I .rk..s..
[0010] 16 6B 4C 53 20 87 6E C7   86 89 68 4C 92 87 6C A1   .kLS .n. ..hL..l.
ServerOut Key [0000] 05 B5 86 AA C8 3C A9 9C   92 38 28 AC 9B 4B D0 D8   .....<.. .8(..K..
[0010] DF 70 9B AE 6E 24 9F 04   43 C9 7C A7 17 3A C2 F1   .p..n$.. C.|..:..
Server exit (NT_STATUS_END_OF_FILE)`;

test('each logged session gives its id (wire byte order), algorithms and keys, 32-byte keys across two rows', () => {
  const sessions = parseServerKeys(LOG);
  expect(sessions.map((s) => ({
    sessionId: `0x${s.sessionId.toString(16)}`,
    sessionKey: s.sessionKey.toString('hex'),
    signingAlgorithm: s.signingAlgorithm,
    signingKey: s.signingKey.toString('hex'),
    cipher: s.cipher,
    serverInKey: s.serverInKey?.toString('hex'),
    serverOutKey: s.serverOutKey?.toString('hex'),
  }))).toEqual([
    {
      sessionId: '0xb55dbb44',
      sessionKey: 'e1e15ecf3ec3f0edf89aadbe57e721b6',
      signingAlgorithm: 2,
      signingKey: '8c1741f4df3e1402c55a65e6a2dc1d35',
      cipher: 2,
      serverInKey: '223558234d2ea9e448e6282e1f171480',
      serverOutKey: 'a6e2f107b51a84963d3b4ca81845252b',
    },
    {
      sessionId: '0x967c0ec6',
      sessionKey: 'bfae48dd5ef617e52a03ee4e99322fb9',
      signingAlgorithm: 2,
      signingKey: '7ba61be5be9fa49feb834deca846a577',
      cipher: 4,
      serverInKey: 'baa4a7309b639e49ed726ba99473f301166b4c5320876ec78689684c92876ca1',
      serverOutKey: '05b586aac83ca99c923828ac9b4bd0d8df709bae6e249f0443c97ca7173ac2f1',
    },
  ]);
});

test('a dump cut short (no signing key) gives no session rather than a half one', () => {
  const cut = LOG.split('\n').slice(0, 4).join('\n');
  expect(parseServerKeys(cut)).toEqual([]);
});

// smbd 4.25 (Debian sid container) with `debug encryption = yes`: an SMB 3.0.2 session (AES-128-CCM)
// and a 3.1.1 signing-only one. No Cipher Algo line, a client's labels, and the Wireshark line.
const LOG_4_25 = `debug encryption: dumping generated session keys
Session Id    [0000] E6 27 96 EA 00 00 00 00                             .'......
Session Key   [0000] 1D F3 15 88 93 76 31 B4   92 4E 6B 13 B5 3A 91 4D   .....v1. .Nk..:.M
Signing Algo: 1
Signing Key   [0000] 1D 69 1D 1D 45 70 39 26   FC 7B 69 95 53 3C 15 7A   .i..Ep9& .{i.S<.z
App Key       [0000] CA A9 5E BD A3 6C 19 8C   FD 76 2F 2F 21 DE C0 D3   ..^..l.. .v//!...
ServerIn Key  [0000] 1C 80 FF D1 33 4C 17 8B   83 BA C0 EE 67 3A F4 0C   ....3L.. ....g:..
ServerOut Key [0000] A3 B8 08 51 5C 1C 20 68   5D AE FA 38 A3 8E 26 5A   ...Q\\. h ]..8..&Z
Wireshark configuration line:
e62796ea00000000,1df31588937631b4924e6b13b53a914d,a3b808515c1c20685daefa38a38e265a,1c80ffd1334c178b83bac0ee673af40c
debug encryption: dumping generated session keys
Session Id    [0000] A6 C4 AC 5C 00 00 00 00                             ...\\....
Session Key   [0000] 5E 2F 79 04 81 B6 00 32   62 1B D9 0E 25 EC 4D 77   ^/y....2 b...%.Mw
Signing Algo: 2
Signing Key   [0000] CA 6D F5 AB 8D D8 BB 74   FC E3 A5 DE CB BA 26 92   .m.....t ......&.
App Key       [0000] 7C 08 81 20 1E 2C 14 47   FC 78 27 2F 77 8A 60 54   |.. .,.G .x'/w.\`T
ServerIn Key  ServerOut Key Wireshark configuration line:
a6c4ac5c00000000,5e2f790481b60032621bd90e25ec4d77,,
Server exit (NT_STATUS_END_OF_FILE)`;

test('smbd 4.23+ labels its rows as a client does: ServerIn is read as the client-to-server key derived from the session key (MS-SMB2 3.0.x KDF)', () => {
  const [ccm, signingOnly, ...rest] = parseServerKeys(LOG_4_25);
  expect(rest).toEqual([]);
  const sessionKey = ccm!.sessionKey;
  expect({
    sessionId: `0x${ccm!.sessionId.toString(16)}`,
    cipher: ccm!.cipher,
    signingAlgorithm: ccm!.signingAlgorithm,
    serverInKey: ccm!.serverInKey?.toString('hex'),
    serverOutKey: ccm!.serverOutKey?.toString('hex'),
  }).toEqual({
    sessionId: '0xea9627e6',
    cipher: undefined,
    signingAlgorithm: 1,
    // MS-SMB2 3.3.5.5.3: the server decrypts with SMB2AESCCM/"ServerIn " and encrypts with SMB2AESCCM/"ServerOut".
    serverInKey: smb3Kdf(sessionKey, 'SMB2AESCCM\0', 'ServerIn \0', 128).toString('hex'),
    serverOutKey: smb3Kdf(sessionKey, 'SMB2AESCCM\0', 'ServerOut\0', 128).toString('hex'),
  });
  expect(ccm!.serverInKey?.toString('hex')).toBe('a3b808515c1c20685daefa38a38e265a');
  expect({
    sessionId: `0x${signingOnly!.sessionId.toString(16)}`,
    signingKey: signingOnly!.signingKey.toString('hex'),
    serverInKey: signingOnly!.serverInKey,
    serverOutKey: signingOnly!.serverOutKey,
  }).toEqual({ sessionId: '0x5cacc4a6', signingKey: 'ca6df5ab8dd8bb74fce3a5decbba2692', serverInKey: undefined, serverOutKey: undefined });
});

// smbd 4.17 with `debug encryption = yes`, an SMB 3.0.2 session (AES-128-CCM): the old layout.
const LOG_4_17_SMB302 = `debug encryption: dumping generated session keys
Session Id    [0000] E8 49 FB 6A 00 00 00 00                             .I.j....
Session Key   [0000] EF 4A 0A BF 5D C0 4F 46   5F D2 7D E7 A4 24 CC C2   .J..].OF _.}..$..
Signing Algo: 1
Signing Key   [0000] 41 F2 B1 8E 1A 75 86 D5   AE BA 01 2F 20 6F 88 41   A....u.. .../ o.A
App Key       [0000] 75 F7 F7 1A AE 0D F1 AE   10 11 85 8F 6C C6 5C 3B   u....... ....l.\\;
Cipher Algo: 1
ServerIn Key  [0000] 06 02 B5 A7 B0 C7 DB 10   F9 4E D2 3B 22 9F 57 C5   ........ .N.;".W.
ServerOut Key [0000] FD 02 A4 19 38 0B FB 45   74 7A 70 FC E8 31 8D 61   ....8..E tzp..1.a`;

test('the old layout (a Cipher Algo line) keeps its labels: smbd 4.17 ServerIn is the client-to-server key', () => {
  const [session, ...rest] = parseServerKeys(LOG_4_17_SMB302);
  expect(rest).toEqual([]);
  expect([session!.cipher, session!.serverInKey?.toString('hex'), session!.serverOutKey?.toString('hex')]).toEqual([
    1,
    smb3Kdf(session!.sessionKey, 'SMB2AESCCM\0', 'ServerIn \0', 128).toString('hex'),
    smb3Kdf(session!.sessionKey, 'SMB2AESCCM\0', 'ServerOut\0', 128).toString('hex'),
  ]);
  expect(session!.serverInKey?.toString('hex')).toBe('0602b5a7b0c7db10f94ed23b229f57c5');
});

test('a row\'s text column is not read as bytes, even where it looks like hex (a Session Id whose bytes print as "12ab")', () => {
  const log = `debug encryption: dumping generated session keys
Session Id    [0000] 31 32 61 62 00 00 00 00                             12ab....
Session Key   [0000] 31 32 20 33 34 35 36 37   38 39 41 42 43 44 45 46   12 34567 89ABCDEF
Signing Algo: 2
Signing Key   [0000] 8C 17 41 F4 DF 3E 14 02   C5 5A 65 E6 A2 DC 1D 35   ..A..>.. .Ze....5
Cipher Algo: 0`;
  expect(parseServerKeys(log).map((k) => [k.sessionId.toString(16), k.sessionKey.toString('hex')])).toEqual([
    ['62613231', '31322033343536373839414243444546'],
  ]);
});
