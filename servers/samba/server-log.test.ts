import { test, expect } from '@playwright/test';
import { ServerLog, parseSambaTimestamp } from './server-log.js';

test('lines with a Samba header take its time; the lines after it belong to that entry', () => {
  const log = new ServerLog();
  log.push('[2026/11/25 06:00:26.123456,  1] ../../source3/smbd/server.c:1741(main)\n  smbd version 4.17.12 started.\n');
  log.push('[2026/11/25 06:00:30.000000,  3] ../../source3/smbd/smb2_server.c:3236(smbd_smb2_request_error_ex)\n  status[NT_STATUS_USER_SESSION_DELETED]\n');
  expect(parseSambaTimestamp('[2026/11/25 06:00:26.123456,  1] x')).toBe(new Date(2026, 10, 25, 6, 0, 26, 123).getTime());
  expect(log.since(new Date(2026, 10, 25, 6, 0, 29))).toBe(
    '[2026/11/25 06:00:30.000000,  3] ../../source3/smbd/smb2_server.c:3236(smbd_smb2_request_error_ex)\n  status[NT_STATUS_USER_SESSION_DELETED]',
  );
});

test('without headers (smbd --debug-stdout) each line is timed when it arrives, so a window selects it', async () => {
  const log = new ServerLog();
  log.push('Allowed connection from 127.0.0.1\nSelected protocol SMB3_02\n');
  await new Promise((r) => setTimeout(r, 30));
  const window = new Date();
  await new Promise((r) => setTimeout(r, 10));
  log.push('smbd_smb2_request_error_ex: idx[1] status[NT_STATUS_USER_SESSION_DELETED]\npartial');
  expect(log.since(window)).toBe('smbd_smb2_request_error_ex: idx[1] status[NT_STATUS_USER_SESSION_DELETED]');
  expect(log.text()).toBe('Allowed connection from 127.0.0.1\nSelected protocol SMB3_02\nsmbd_smb2_request_error_ex: idx[1] status[NT_STATUS_USER_SESSION_DELETED]\npartial');
});

test('session keys the server dumps (debug encryption) are kept apart: the text shows one line instead, also when a chunk ends inside a row', () => {
  const log = new ServerLog();
  const dump = [
    'Auth: user [alice] succeeded',
    'debug encryption: dumping generated session keys',
    'Session Id    [0000] 44 BB 5D B5 00 00 00 00                             D.].....',
    'Session Key   [0000] E1 E1 5E CF 3E C3 F0 ED   F8 9A AD BE 57 E7 21 B6   ..^.>... ....W.!.',
    'Signing Algo: 2',
    'Signing Key   [0000] 8C 17 41 F4 DF 3E 14 02   C5 5A 65 E6 A2 DC 1D 35   ..A..>.. .Ze....5',
    'Cipher Algo: 2',
    'ServerIn Key  [0000] 22 35 58 23 4D 2E A9 E4   48 E6 28 2E 1F 17 14 80   "5X#M... H.(.....',
    'ServerOut Key [0000] A6 E2 F1 07 B5 1A 84 96   3D 3B 4C A8 18 45 25 2B   ........ =;L..E%+',
    'Server exit (NT_STATUS_END_OF_FILE)',
    '',
  ].join('\n');
  const cut = dump.indexOf('48 E6 28');
  log.push(dump.slice(0, cut));
  expect(log.text()).not.toMatch(/22 35 58 23|E1 E1 5E CF|8C 17 41 F4/);
  log.push(dump.slice(cut));
  expect(log.text()).toBe([
    'Auth: user [alice] succeeded',
    'debug encryption: session keys dumped (kept out of this log; they decrypt the capture)',
    'Server exit (NT_STATUS_END_OF_FILE)',
  ].join('\n'));
  expect(log.sessionKeys().map((k) => [k.sessionId.toString(16), k.cipher, k.serverInKey?.toString('hex'), k.serverOutKey?.toString('hex')])).toEqual([
    ['b55dbb44', 2, '223558234d2ea9e448e6282e1f171480', 'a6e2f107b51a84963d3b4ca81845252b'],
  ]);
});

test('smbd 4.23+ key dumps, Wireshark line included, never reach the text; an empty-key dump neither', () => {
  const log = new ServerLog();
  log.push([
    '[2026/12/07 02:10:01.000000,  0] ../../libcli/smb/smbXcli_base.c:7750(smbXcli_session_dump_keys)',
    '  debug encryption: dumping generated session keys',
    '  Session Id    [0000] A6 C4 AC 5C 00 00 00 00                             ...\\....',
    '  Session Key   [0000] 5E 2F 79 04 81 B6 00 32   62 1B D9 0E 25 EC 4D 77   ^/y....2 b...%.Mw',
    '  Signing Algo: 2',
    '  Signing Key   [0000] CA 6D F5 AB 8D D8 BB 74   FC E3 A5 DE CB BA 26 92   .m.....t ......&.',
    '  App Key       [0000] 7C 08 81 20 1E 2C 14 47   FC 78 27 2F 77 8A 60 54   |.. .,.G .x\'/w.`T',
    '  ServerIn Key  ServerOut Key Wireshark configuration line:',
    '  a6c4ac5c00000000,5e2f790481b60032621bd90e25ec4d77,,',
    '[2026/12/07 02:10:01.100000,  3] ../../source3/smbd/smb2_server.c:3236(smbd_smb2_request_error_ex)',
    '  status[NT_STATUS_OK]',
    '',
  ].join('\n'));
  expect(log.text()).not.toMatch(/5e2f7904|5E 2F 79|CA 6D F5|7C 08 81/i);
  expect(log.text()).toContain('status[NT_STATUS_OK]');
  expect(log.sessionKeys().map((k) => k.sessionId.toString(16))).toEqual(['5cacc4a6']);
});

test('a dump still arriving gives no keys until it is whole: a 32-byte key\'s second row, or smbd 4.23+\'s Wireshark line, may be on its way', () => {
  const old = new ServerLog();
  const rows = [
    'debug encryption: dumping generated session keys',
    'Session Id    [0000] C6 0E 7C 96 00 00 00 00                             ..|.....',
    'Session Key   [0000] BF AE 48 DD 5E F6 17 E5   2A 03 EE 4E 99 32 2F B9   ..H.^... *..N.2/.',
    'Signing Algo: 2',
    'Signing Key   [0000] 7B A6 1B E5 BE 9F A4 9F   EB 83 4D EC A8 46 A5 77   {....... ..M..F.w',
    'Cipher Algo: 4',
    'ServerIn Key  [0000] BA A4 A7 30 9B 63 9E 49   ED 72 6B A9 94 73 F3 01   ...0.c.I .rk..s..',
    '[0010] 16 6B 4C 53 20 87 6E C7   86 89 68 4C 92 87 6C A1   .kLS .n. ..hL..l.',
    'ServerOut Key [0000] 05 B5 86 AA C8 3C A9 9C   92 38 28 AC 9B 4B D0 D8   .....<.. .8(..K..',
    '[0010] DF 70 9B AE 6E 24 9F 04   43 C9 7C A7 17 3A C2 F1   .p..n$.. C.|..:..',
  ];
  old.push(`${rows.slice(0, 9).join('\n')}\n`);
  expect(old.sessionKeys()).toEqual([]);
  old.push(`${rows[9]}\n`);
  expect(old.sessionKeys().map((k) => [k.serverInKey?.length, k.serverOutKey?.length])).toEqual([[32, 32]]);

  const recent = new ServerLog();
  const lines = [
    'debug encryption: dumping generated session keys',
    'Session Id    [0000] 7C A3 F3 6E 00 00 00 00                             |..n....',
    'Session Key   [0000] 12 1A 89 45 AB D3 42 9E   73 9D 3D 94 E9 0D 89 76   ...E..B. s.=....v',
    'Signing Algo: 2',
    'Signing Key   [0000] 7A 34 1D 71 AE EE 22 99   92 9F 23 EB 1B 25 8E EE   z4.q..". ..#..%..',
    'App Key       [0000] B7 60 61 4C 23 73 09 5E   BC 48 F5 C5 A6 5D 33 5C   .`aL#s.^ .H...]3\\',
    'ServerIn Key  [0000] 53 F0 C7 05 27 62 0F 37   F6 D3 B3 C8 EA A8 F7 68   S...\'b.7 .......h',
    '[0010] 4E 75 99 19 E3 81 31 6C   28 EE 27 52 C6 E6 AE 6B   Nu....1l (.\'R...k',
    'ServerOut Key [0000] 0A 2A 0E FB 84 B6 3F 25   81 D8 2C BB 1B 9D 89 1E   .*....?% ..,.....',
    '[0010] E4 17 58 EA 13 E5 1D 07   42 A6 A6 EF 8E D1 63 52   ..X.....B.....cR',
    'Wireshark configuration line:',
    '7ca3f36e00000000,121a8945abd3429e739d3d94e90d8976,0a2a0efb84b63f2581d82cbb1b9d891ee41758ea13e51d0742a6a6ef8ed16352,53f0c70527620f37f6d3b3c8eaa8f7684e759919e381316c28ee2752c6e6ae6b',
  ];
  recent.push(`${lines.slice(0, 9).join('\n')}\n`);
  expect(recent.sessionKeys()).toEqual([]);
  recent.push(`${lines.slice(9, 11).join('\n')}\n`);
  expect(recent.sessionKeys()).toEqual([]);
  recent.push(`${lines[11]}\n`);
  // The labels are a client's: ServerIn is the ServerOut row.
  expect(recent.sessionKeys().map((k) => [k.serverInKey?.toString('hex'), k.serverOutKey?.toString('hex')])).toEqual([
    ['0a2a0efb84b63f2581d82cbb1b9d891ee41758ea13e51d0742a6a6ef8ed16352', '53f0c70527620f37f6d3b3c8eaa8f7684e759919e381316c28ee2752c6e6ae6b'],
  ]);
  expect(recent.text()).toBe('debug encryption: session keys dumped (kept out of this log; they decrypt the capture)');
});
