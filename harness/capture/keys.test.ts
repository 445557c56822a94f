import { expect, test } from '@playwright/test';
import type { SmbSessionKeys } from '../../clients/smb/observer.js';
import { formatSessionId, seskeyRecord, wireSessionId, wiresharkCommand, wiresharkKeyFile } from './keys.js';

const HEADER = [
  '# SMB2 decryption keys for the pcapng trace beside this file (Wireshark UAT table smb2_seskey_list).',
  '# SECRET: these keys decrypt the captured traffic. Keep this file with its trace only.',
  '# Columns: Session ID (the SMB2 SessionId as its 8 bytes on the wire, little-endian), Session Key,',
  '#   Server-to-Client key (ServerOut, the client decrypts with it), Client-to-Server key (ServerIn,',
  '#   the client encrypts with it); all hex.',
  "# Use: tshark -r trace.pcapng -o 'uat:smb2_seskey_list:ROW' for each row below (wireshark -r takes",
  '#   the same -o), or Edit > Preferences > Protocols > SMB2 > Secret session keys for decryption,',
  '#   or copy this file as smb2_seskey_list into your Wireshark profile directory.',
];

function bytes(first: number, length = 16): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (first + i) & 0xff));
}

function session(overrides: Partial<SmbSessionKeys> = {}): SmbSessionKeys {
  return {
    sessionId: 0x0000100000000005n,
    sessionKey: bytes(0x00),
    signingKey: bytes(0x40),
    encryptionKey: bytes(0x10),
    decryptionKey: bytes(0x20),
    cipher: 'AES-128-CCM',
    dialect: '3.0.2',
    ...overrides,
  };
}

const ROW = '0500000000100000,000102030405060708090a0b0c0d0e0f,202122232425262728292a2b2c2d2e2f,101112131415161718191a1b1c1d1e1f';

test('the session id goes on the wire little-endian; the transcript shows it as a number', () => {
  expect(wireSessionId(0x0000100000000005n)).toBe('0500000000100000');
  expect(wireSessionId(0x1122334455667788n)).toBe('8877665544332211');
  expect(formatSessionId(0x0000100000000005n)).toBe('0x0000100000000005');
});

test('a row: session id, session key, server-to-client (decryption) key, client-to-server (encryption) key', () => {
  expect(seskeyRecord(session())).toBe(ROW);
});

test('the key file: explanation, then one described row per session with cipher keys; signing-only sessions are left out', () => {
  const signingOnly = session({ sessionId: 7n, encryptionKey: null, decryptionKey: null, cipher: null, dialect: '2.1' });
  expect(wiresharkKeyFile([session(), signingOnly])).toBe([
    ...HEADER,
    '# session 0x0000100000000005: SMB 3.0.2, AES-128-CCM',
    ROW,
    '',
  ].join('\n'));
});

test('no keys at all, or no cipher keys: the file says there is nothing to decrypt', () => {
  expect(wiresharkKeyFile([])).toBe([...HEADER, '# Nothing to decrypt: no session established keys (guest, anonymous or failed sessions).', ''].join('\n'));
  const signingOnly = session({ sessionId: 7n, encryptionKey: null, decryptionKey: null, cipher: null, dialect: '2.1' });
  expect(wiresharkKeyFile([signingOnly])).toBe([
    ...HEADER,
    '# Nothing to decrypt: session 0x0000000000000007: SMB 2.1, no cipher (no cipher keys, so no encrypted traffic).',
    '',
  ].join('\n'));
});

test('AES-256 sessions: the row carries the 32-byte cipher keys as they are', () => {
  const aes256 = session({ cipher: 'AES-256-GCM', dialect: '3.1.1', encryptionKey: bytes(0x10, 32), decryptionKey: bytes(0x40, 32) });
  expect(wiresharkKeyFile([aes256]).split('\n').slice(HEADER.length)).toEqual([
    '# session 0x0000100000000005: SMB 3.1.1, AES-256-GCM',
    '0500000000100000,000102030405060708090a0b0c0d0e0f,'
      + '404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f,'
      + '101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f',
    '',
  ]);
});

test('the commands: tshark and wireshark with one -o per session, the path quoted for the shell', () => {
  const second = session({ sessionId: 0x0000100000000009n, sessionKey: bytes(0x80) });
  const secondRow = `0900000000100000,${bytes(0x80).toString('hex')},${bytes(0x20).toString('hex')},${bytes(0x10).toString('hex')}`;
  expect(wiresharkCommand("results/run 1/it's/trace.pcapng", [session(), second])).toBe([
    `tshark -r 'results/run 1/it'\\''s/trace.pcapng' -o uat:smb2_seskey_list:${ROW} -o uat:smb2_seskey_list:${secondRow} -Y smb2`,
    `wireshark -r 'results/run 1/it'\\''s/trace.pcapng' -o uat:smb2_seskey_list:${ROW} -o uat:smb2_seskey_list:${secondRow}`,
  ].join('\n'));
  expect(wiresharkCommand('/r/trace.pcapng', [session()], 4450)).toBe([
    `tshark -r /r/trace.pcapng -d tcp.port==4450,nbss -o uat:smb2_seskey_list:${ROW} -Y smb2`,
    `wireshark -r /r/trace.pcapng -d tcp.port==4450,nbss -o uat:smb2_seskey_list:${ROW}`,
  ].join('\n'));
  expect(wiresharkCommand('/r/trace.pcapng', [])).toBe([
    '# nothing to decrypt: no session with cipher keys',
    'tshark -r /r/trace.pcapng -Y smb2',
    'wireshark -r /r/trace.pcapng',
  ].join('\n'));
});
