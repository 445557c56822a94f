import { expect, test } from '@playwright/test';
import {
  Capability, Command, CreateDisposition, HeaderFlag, NtStatus, SecurityMode, encodeCloseRequest, encodeCreateRequest, encodeHeader, encodeNegotiateRequest,
  encodeNegotiateResponse, encodeQueryDirectoryRequest, encodeReadRequest, encodeSessionSetupRequest, encodeSessionSetupResponse,
} from '../../clients/smb/wire/index.js';
import type { WireFrame } from '../pcap-reader.js';
import { decodeWire } from '../capture/wire-decode.js';
import { checkSpecRules, describeViolation } from './spec-rules.js';

// Clear (unsigned, unencrypted) SMB 2.1 conversations built from the codec: the rules that need no keys.
const SESSION = 0x0000a40000000011n;
const FILE = { persistent: 1n, volatile: 2n };

interface Extra { creditCharge?: number; sessionId?: bigint; status?: number; flags?: number }

function message(direction: 'send' | 'receive', command: number, messageId: bigint, body: Buffer, extra: Extra = {}): WireFrame {
  const header = encodeHeader({
    command, messageId, creditCharge: extra.creditCharge ?? 1, credits: 1, sessionId: extra.sessionId ?? 0n, status: extra.status ?? 0,
    flags: (direction === 'receive' ? HeaderFlag.ServerToRedir : 0) | (extra.flags ?? 0),
  });
  return { direction, clientPort: 50000, bytes: Buffer.concat([header, body]) };
}

function opening(options: { signingRequired?: boolean } = {}): WireFrame[] {
  return [
    message('send', Command.Negotiate, 0n, encodeNegotiateRequest({ dialects: [0x0210], securityMode: 1, capabilities: Capability.LargeMtu, clientGuid: Buffer.alloc(16) })),
    message('receive', Command.Negotiate, 0n, encodeNegotiateResponse({
      securityMode: SecurityMode.SigningEnabled | (options.signingRequired ? SecurityMode.SigningRequired : 0), dialectRevision: 0x0210, serverGuid: Buffer.alloc(16),
      capabilities: Capability.LargeMtu, maxTransactSize: 8 << 20, maxReadSize: 8 << 20, maxWriteSize: 8 << 20, systemTime: 0n, serverStartTime: 0n,
      securityBuffer: Buffer.alloc(0), negotiateContexts: [],
    })),
    message('receive', Command.SessionSetup, 1n, encodeSessionSetupResponse({ sessionFlags: 0, securityBuffer: Buffer.alloc(0) }), { sessionId: SESSION }),
  ];
}

function read(messageId: bigint, length: number, creditCharge: number): WireFrame {
  return message('send', Command.Read, messageId, encodeReadRequest({ length, offset: 0n, fileId: FILE }), { creditCharge, sessionId: SESSION });
}

test('a conversation that keeps the rules has no violation', () => {
  const wire = decodeWire([...opening(), read(2n, 65536, 1), read(3n, 65537, 2), read(5n, 1 << 20, 16)], []);
  expect(wire.problems).toEqual([]);
  expect(checkSpecRules(wire)).toEqual([]);
});

test('a multi-credit READ charged too little breaks credit-charge, naming the request, its size and the charge it needs', () => {
  const wire = decodeWire([...opening(), read(2n, 1 << 20, 1), read(3n, 196_608, 3), read(6n, 200_000, 2)], []);
  expect(checkSpecRules(wire).map(describeViolation)).toEqual([
    'credit-charge (MS-SMB2 3.1.5.2, 3.2.4.1.5): READ request mid=2: CreditCharge 1 for 1048576 bytes, needs at least 16 (and 1 more)',
  ]);
});

test('a MessageId used twice, or inside the range a multi-credit request consumed, breaks message-id-unique', () => {
  const wire = decodeWire([...opening(), read(2n, 200_000, 4), read(4n, 10, 1)], []);
  expect(checkSpecRules(wire).map((v) => [v.rule.id, v.detail])).toEqual([
    ['message-id-unique', 'READ request mid=4: MessageId 4 already used by message 4 (READ request mid=2)'],
  ]);
});

test('an unsigned request of an authenticated session where the server requires signing breaks signing-required', () => {
  const signedServer = decodeWire([...opening({ signingRequired: true }), read(2n, 10, 1)], []);
  expect(checkSpecRules(signedServer).map((v) => v.rule.id)).toEqual(['signing-required']);
  expect(checkSpecRules(signedServer)[0]!.detail).toBe('READ request mid=2: sent unsigned and unencrypted in session 0x0000a40000000011; the server\'s NEGOTIATE response requires signing');
  // The same request where the server does not require signing is fine.
  expect(checkSpecRules(decodeWire([...opening(), read(2n, 10, 1)], []))).toEqual([]);
});

test('each connection is judged on its own: the same MessageId on two connections is fine', () => {
  const second = [...opening(), read(2n, 10, 1)].map((f) => ({ ...f, clientPort: 50001 }));
  expect(checkSpecRules(decodeWire([...opening(), read(2n, 10, 1), ...second], []))).toEqual([]);
});

const setupRequest = (messageId: bigint, sessionId: bigint) => message('send', Command.SessionSetup, messageId, encodeSessionSetupRequest({
  flags: 0, securityMode: 1, capabilities: 0, channel: 0, previousSessionId: 0n, securityBuffer: Buffer.alloc(8, 1),
}), { sessionId });

test('a second SESSION_SETUP leg without the SessionId the server gave breaks session-setup-continues', () => {
  const more = message('receive', Command.SessionSetup, 1n, encodeSessionSetupResponse({ sessionFlags: 0, securityBuffer: Buffer.alloc(8) }), { sessionId: SESSION, status: NtStatus.MoreProcessingRequired });
  const [negotiate, negotiated] = opening();
  const forgot = decodeWire([negotiate!, negotiated!, setupRequest(1n, 0n), more, setupRequest(2n, 0n)], []);
  expect(checkSpecRules(forgot).map(describeViolation)).toEqual([
    'session-setup-continues (MS-SMB2 3.2.5.3, 3.3.5.5): SESSION_SETUP request mid=2: SessionId 0x0000000000000000, but the server\'s STATUS_MORE_PROCESSING_REQUIRED response gave 0x0000a40000000011',
  ]);
  expect(checkSpecRules(decodeWire([negotiate!, negotiated!, setupRequest(1n, 0n), more, setupRequest(2n, SESSION)], []))).toEqual([]);
});

/** Requests compounded in one frame (MS-SMB2 3.2.4.1.4), each padded to 8 bytes. */
function compound(...frames: WireFrame[]): WireFrame {
  const padded = frames.map((f, i) => {
    const bytes = Buffer.concat([f.bytes, Buffer.alloc(i === frames.length - 1 ? 0 : (8 - (f.bytes.length % 8)) % 8)]);
    if (i < frames.length - 1) bytes.writeUInt32LE(bytes.length, 20);
    return bytes;
  });
  return { direction: 'send', clientPort: 50000, bytes: Buffer.concat(padded) };
}

test('a compounded CLOSE of the previous request\'s FileId without SMB2_FLAGS_RELATED_OPERATIONS breaks compound-related', () => {
  const create = message('send', Command.Create, 2n, encodeCreateRequest({ desiredAccess: 0x80, shareAccess: 7, createDisposition: CreateDisposition.Open, createOptions: 0, name: 'a.txt' }), { sessionId: SESSION });
  const previous = { persistent: 0xffffffffffffffffn, volatile: 0xffffffffffffffffn };
  const close = (flags: number) => message('send', Command.Close, 3n, encodeCloseRequest({ fileId: previous }), { sessionId: SESSION, flags });
  expect(checkSpecRules(decodeWire([...opening(), compound(create, close(0))], [])).map((v) => [v.rule.id, v.detail])).toEqual([
    ['compound-related', 'CLOSE request mid=3: FileId 0xFFFFFFFFFFFFFFFF (the previous request\'s) without SMB2_FLAGS_RELATED_OPERATIONS'],
  ]);
  expect(checkSpecRules(decodeWire([...opening(), compound(create, close(HeaderFlag.RelatedOperations))], []))).toEqual([]);
});

test('a QUERY_DIRECTORY asking more than MaxTransactSize, or a READ more than MaxReadSize, breaks negotiated-sizes', () => {
  const list = (length: number) => message('send', Command.QueryDirectory, 2n, encodeQueryDirectoryRequest({ fileInformationClass: 0x25, fileId: FILE, pattern: '*', outputBufferLength: length }), { sessionId: SESSION, creditCharge: 256 });
  expect(checkSpecRules(decodeWire([...opening(), list(16 << 20)], [])).map((v) => [v.rule.id, v.detail])).toEqual([
    ['negotiated-sizes', 'QUERY_DIRECTORY request mid=2: OutputBufferLength 16777216 exceeds the MaxTransactSize 8388608'],
  ]);
  expect(checkSpecRules(decodeWire([...opening(), list(8 << 20)], []))).toEqual([]);
  expect(checkSpecRules(decodeWire([...opening(), read(2n, (8 << 20) + 1, 129)], [])).map((v) => v.detail)).toEqual(['READ request mid=2: Length 8388609 exceeds the MaxReadSize 8388608']);
});

test('a CREATE name with a leading backslash or a slash breaks create-name', () => {
  const create = (name: string) => message('send', Command.Create, 2n, encodeCreateRequest({ desiredAccess: 0x80, shareAccess: 7, createDisposition: CreateDisposition.Open, createOptions: 0, name }), { sessionId: SESSION });
  expect(checkSpecRules(decodeWire([...opening(), create('\\t-1\\a.txt')], [])).map((v) => v.detail)).toEqual(['CREATE request mid=2: name "\\t-1\\a.txt" begins with a backslash']);
  expect(checkSpecRules(decodeWire([...opening(), create('t-1/a.txt')], [])).map((v) => v.detail)).toEqual(['CREATE request mid=2: name "t-1/a.txt" separates components with "/"']);
  expect(checkSpecRules(decodeWire([...opening(), create('t-1\\a.txt')], []))).toEqual([]);
});
