import { expect, test } from '@playwright/test';
import {
  Capability, Command, HeaderFlag, SecurityMode, encodeHeader, encodeNegotiateRequest, encodeNegotiateResponse, encodeReadRequest, encodeSessionSetupResponse,
} from '../../clients/smb/wire/index.js';
import type { WireFrame } from '../pcap-reader.js';
import { decodeWire } from '../capture/wire-decode.js';
import { checkSpecRules, describeViolation } from './spec-rules.js';

// Clear (unsigned, unencrypted) SMB 2.1 conversations built from the codec: the rules that need no keys.
const SESSION = 0x0000a40000000011n;
const FILE = { persistent: 1n, volatile: 2n };

function message(direction: 'send' | 'receive', command: number, messageId: bigint, body: Buffer, extra: { creditCharge?: number; sessionId?: bigint } = {}): WireFrame {
  const header = encodeHeader({
    command, messageId, creditCharge: extra.creditCharge ?? 1, credits: 1, sessionId: extra.sessionId ?? 0n,
    flags: direction === 'receive' ? HeaderFlag.ServerToRedir : 0,
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
