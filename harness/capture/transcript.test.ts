import { expect, test } from '@playwright/test';
import { messageEvent } from '../../clients/smb/observer.js';
import type { SmbMessageEvent, SmbSessionKeys } from '../../clients/smb/observer.js';
import {
  Command, CreateDisposition, HeaderFlag, NtStatus, ShareAccess, ShareFlag, ShareType, encodeCreateRequest, encodeErrorResponse,
  encodeHeader, encodeNegotiateRequest, encodeNegotiateResponse, encodeTreeConnectResponse, encodeWriteRequest,
} from '../../clients/smb/wire/index.js';
import type { HeaderFields } from '../../clients/smb/wire/index.js';
import type { CloseEvent } from './proxy.js';
import { TranscriptRecorder, transcriptOfWire } from './transcript.js';
import { decodeWire } from './wire-decode.js';
import type { WireFrame } from '../pcap-reader.js';
import { encryptMessage } from '../../clients/smb/crypto/index.js';
import type { ServerSessionKeys } from '../../servers/samba/server-keys.js';

const START = Date.parse('2026-11-25T07:00:00.000Z');
const SID = 0x0000100000000005n;
const FILE_ID = { persistent: 1n, volatile: 2n };

function event(direction: 'send' | 'receive', atMs: number, header: HeaderFields, body: Buffer, encrypted = false): SmbMessageEvent {
  return { ...messageEvent(direction, Buffer.concat([encodeHeader(header), body]), encrypted), time: START + atMs };
}

const RESPONSE = HeaderFlag.ServerToRedir;

/** The clear messages recorded(), in order (what the wire carries, before encryption). */
const observedBytes: Buffer[] = [];

function recorded(): TranscriptRecorder {
  observedBytes.length = 0;
  const recorder = new TranscriptRecorder();
  const onMessage = recorder.onMessage.bind(recorder);
  recorder.onMessage = (event) => {
    observedBytes.push(event.bytes);
    onMessage(event);
  };
  recorder.onMessage(event('send', 0, { command: Command.Negotiate, messageId: 0n, credits: 1 }, encodeNegotiateRequest({
    dialects: [0x0300, 0x0302], securityMode: 1, capabilities: 0x47, clientGuid: Buffer.alloc(16),
  })));
  // The capabilities of the field bug: 0x00000007, no SMB2_GLOBAL_CAP_ENCRYPTION.
  recorder.onMessage(event('receive', 3.4, { command: Command.Negotiate, messageId: 0n, credits: 1, flags: RESPONSE }, encodeNegotiateResponse({
    securityMode: 1, dialectRevision: 0x0302, serverGuid: Buffer.alloc(16), capabilities: 0x07, maxTransactSize: 65536,
    maxReadSize: 65536, maxWriteSize: 65536, systemTime: 0n, serverStartTime: 0n, securityBuffer: Buffer.alloc(0), negotiateContexts: [],
  })));
  recorder.onMessage(event('receive', 20, { command: Command.TreeConnect, messageId: 8n, credits: 1, flags: RESPONSE | HeaderFlag.Signed, sessionId: SID, treeId: 1 },
    encodeTreeConnectResponse({ shareType: ShareType.Disk, shareFlags: ShareFlag.EncryptData, capabilities: 0, maximalAccess: 0x1f01ff })));
  recorder.onMessage(event('send', 841.2, { command: Command.Create, messageId: 9n, creditCharge: 1, credits: 31, sessionId: SID, treeId: 1 },
    encodeCreateRequest({ name: 'dir\\a.txt', desiredAccess: 1, shareAccess: ShareAccess.Read, createDisposition: CreateDisposition.Open, createOptions: 0 }), true));
  recorder.onMessage(event('receive', 842, { command: Command.Create, messageId: 9n, creditCharge: 1, credits: 1, flags: RESPONSE, status: NtStatus.ObjectNameNotFound, sessionId: SID, treeId: 1 },
    encodeErrorResponse(), true));
  recorder.onMessage(event('send', 900, { command: Command.Write, messageId: 10n, creditCharge: 16, credits: 16, sessionId: SID, treeId: 1 },
    encodeWriteRequest({ offset: 4096n, fileId: FILE_ID, data: Buffer.alloc(1 << 20, 0x61) }), true));
  recorder.onMessage(event('receive', 901, { command: Command.Write, messageId: 10n, creditCharge: 16, credits: 0, flags: RESPONSE, status: NtStatus.Pending, asyncId: 5n, sessionId: SID },
    encodeErrorResponse(), true));
  recorder.onMessage(event('receive', 940, { command: Command.OplockBreak, messageId: 0xffffffffffffffffn, flags: RESPONSE }, Buffer.alloc(24)));
  recorder.onMessage(event('send', 950, { command: Command.TreeConnect, messageId: 11n, credits: 1, sessionId: SID }, Buffer.from([9, 0])));
  return recorder;
}

test('one text line per message: time, direction, command, ids, protection, credits, status, summary', () => {
  expect(recorded().toText().split('\n')).toEqual([
    '# 9 SMB2 messages in the clear (before encryption / after decryption); sessions: none',
    '   1  +0.000s  send     NEGOTIATE  mid=0  sid=0x0000000000000000 tid=0  -    credits 0/+1  dialects 3.0,3.0.2 capabilities DFS|LEASING|LARGE_MTU|ENCRYPTION',
    '   2  +0.003s  receive  NEGOTIATE  mid=0  sid=0x0000000000000000 tid=0  -    credits 0/+1  STATUS_SUCCESS  dialect 3.0.2 capabilities DFS|LEASING|LARGE_MTU',
    '   3  +0.020s  receive  TREE_CONNECT  mid=8  sid=0x0000100000000005 tid=1  SIG  credits 0/+1  STATUS_SUCCESS  disk ENCRYPT_DATA',
    '   4  +0.841s  send     CREATE  mid=9  sid=0x0000100000000005 tid=1  ENC  credits 1/+31  "dir\\\\a.txt"',
    '   5  +0.842s  receive  CREATE  mid=9  sid=0x0000100000000005 tid=1  ENC  credits 1/+1  STATUS_OBJECT_NAME_NOT_FOUND',
    '   6  +0.900s  send     WRITE  mid=10  sid=0x0000100000000005 tid=1  ENC  credits 16/+16  offset 4096 length 1048576',
    '   7  +0.901s  receive  WRITE  mid=10  sid=0x0000100000000005 tid=0  ENC  credits 16/+0  STATUS_PENDING  flags ASYNC',
    '   8  +0.940s  receive  OPLOCK_BREAK  mid=18446744073709551615  sid=0x0000000000000000 tid=0  -    credits 0/+0  STATUS_SUCCESS',
    '   9  +0.950s  send     TREE_CONNECT  mid=11  sid=0x0000100000000005 tid=0  -    credits 0/+1  (undecodable: TREE_CONNECT request: Flags at offset 66 needs 2 bytes but the message length is 66)',
    '',
  ]);
});

test('the JSON holds the same fields per message, never the payload', () => {
  const recorder = recorded();
  const json = recorder.toJson();
  expect(json.length).toBeLessThan(8000);
  const parsed = JSON.parse(json) as { sessions: unknown[]; messages: Record<string, unknown>[] };
  expect(parsed.messages).toHaveLength(9);
  expect(parsed.messages[3]).toEqual({
    index: 4, time: '2026-11-25T07:00:00.841Z', relativeMs: 841.2, direction: 'send', command: 'CREATE', messageId: 9,
    creditCharge: 1, creditsRequested: 31, flags: [], sessionId: '0x0000100000000005', treeId: 1, encrypted: true,
    length: 64 + 56 + 18, summary: '"dir\\\\a.txt"',
  });
  expect(parsed.messages[6]).toMatchObject({
    direction: 'receive', status: 'STATUS_PENDING', statusCode: '0x00000103', creditsGranted: 0, flags: ['RESPONSE', 'ASYNC'], treeId: 0,
  });
  expect(parsed.messages[7]).toMatchObject({ command: 'OPLOCK_BREAK', messageId: '18446744073709551615' });
  expect(parsed.messages[5]).toMatchObject({ command: 'WRITE', length: 64 + 48 + (1 << 20), summary: 'offset 4096 length 1048576' });
});

test('session keys are kept for the key file but never written into the transcript', () => {
  const recorder = recorded();
  const keys: SmbSessionKeys = {
    sessionId: SID, sessionKey: Buffer.alloc(16, 0xa1), signingKey: Buffer.alloc(16, 0xa2), encryptionKey: Buffer.alloc(16, 0xa3),
    decryptionKey: Buffer.alloc(16, 0xa4), cipher: 'AES-128-CCM', dialect: '3.0.2',
  };
  recorder.onSessionKeys(keys);
  expect(recorder.keys).toEqual([keys]);
  const text = recorder.toText();
  const json = recorder.toJson();
  expect(text.split('\n')[0]).toBe('# 9 SMB2 messages in the clear (before encryption / after decryption); sessions: 0x0000100000000005 SMB 3.0.2 AES-128-CCM');
  expect(JSON.parse(json).sessions).toEqual([{ sessionId: '0x0000100000000005', dialect: '3.0.2', cipher: 'AES-128-CCM' }]);
  for (const fill of ['a1', 'a2', 'a3', 'a4']) {
    expect(text + json).not.toContain(fill.repeat(4));
    expect(text + json).not.toContain(Buffer.alloc(16, Number.parseInt(fill, 16)).toString('base64'));
  }
});

test('the proxy close events end the transcript: one line each, and a list in the JSON', () => {
  const recorder = recorded();
  const reset: CloseEvent = {
    connection: 1, side: 'server', kind: 'RST', time: START + 1000, afterFrame: 7, msAfterFrame: 2, errorCode: 'ECONNRESET',
    description: 'server reset the connection (RST) 2 ms after frame 7 (client data, 254 bytes)',
  };
  expect(recorder.toText([reset]).split('\n').slice(-2)).toEqual(['# connection 1: server reset the connection (RST) 2 ms after frame 7 (client data, 254 bytes)', '']);
  expect(JSON.parse(recorder.toJson([reset])).connections).toEqual([reset]);
  expect(JSON.parse(recorder.toJson()).connections).toEqual([]);
});

test('the transcript of a capture decoded with the server\'s keys reads as the client\'s own: same lines, times from the pcap', () => {
  const AES_128_GCM = 2;
  const keys: ServerSessionKeys = {
    sessionId: SID, sessionKey: Buffer.alloc(16, 1), signingAlgorithm: 1, signingKey: Buffer.alloc(16, 2), cipher: AES_128_GCM,
    serverInKey: Buffer.alloc(16, 5), serverOutKey: Buffer.alloc(16, 6),
  };
  const observed = recorded().messages;
  // The same messages as they cross the wire: encrypted ones in a TRANSFORM_HEADER under the session's keys.
  let nonce = 0;
  const frames: WireFrame[] = recorded().messages.map((entry, i) => {
    const message = observedBytes[i]!;
    const key = entry.direction === 'send' ? keys.serverInKey! : keys.serverOutKey!;
    const bytes = entry.encrypted ? encryptMessage({ cipher: AES_128_GCM, key, sessionId: SID, nonce: Buffer.alloc(12, ++nonce), message }) : message;
    return { direction: entry.direction, clientPort: 50000, bytes, time: Date.parse(entry.time) };
  });
  const wire = decodeWire(frames, [keys]);
  expect(wire.problems).toEqual([]);
  const fromWire = transcriptOfWire(wire, frames, []);
  expect(fromWire.toText()).toBe(recorded().toText());
  expect(fromWire.messages.map((m) => m.time)).toEqual(observed.map((m) => m.time));
  // A message the keys do not open is not made up: it is missing from the transcript (the wire summary names it).
  const withoutKeys = decodeWire(frames, []);
  expect(transcriptOfWire(withoutKeys, frames, []).messages.map((m) => m.command)).toEqual(observed.filter((m) => !m.encrypted).map((m) => m.command));
});
