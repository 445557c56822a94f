import { expect, test } from '@playwright/test';
import { parseServerKeys } from './server-keys.js';

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
