import { expect, test } from '@playwright/test';
import type { FaultHook, OutgoingMessageContext } from '../clients/smb/faults.js';
import {
  Command, CreateDisposition, encodeCreateRequest, encodeHeader, encodeNegotiateRequest, decodeCreateRequest, decodeNegotiateRequest,
} from '../clients/smb/wire/index.js';
import { SELF_CHECK_AREAS, SELF_CHECK_FAULTS, faultHookFor, selfCheckFaultsFromEnv } from './faults.js';

const context = (command: string, more: Partial<OutgoingMessageContext> = {}): OutgoingMessageContext => ({
  command, commandCode: 0, index: 0, count: 1, sessionId: 5n, signed: false, encrypted: false, dialect: '3.1.1', ...more,
});

function hookOf(name: string): FaultHook {
  return SELF_CHECK_FAULTS.find((f) => f.name === name)!.hook();
}

test('the catalog holds at least twelve faults over every area, each on a scenario of its own with red cells and a cause to name', () => {
  expect(SELF_CHECK_FAULTS.length).toBeGreaterThanOrEqual(12);
  expect([...new Set(SELF_CHECK_FAULTS.map((f) => f.area))].sort()).toEqual([...SELF_CHECK_AREAS].sort());
  const scenarios = SELF_CHECK_FAULTS.map((f) => f.scenario);
  expect(new Set(scenarios).size).toBe(scenarios.length);
  for (const fault of SELF_CHECK_FAULTS) {
    expect(fault.red.length, fault.name).toBeGreaterThan(0);
    expect(fault.red.filter((t) => fault.green.includes(t)), fault.name).toEqual([]);
  }
});

test('SMB_INTEROP_SELF_CHECK_FAULTS switches faults on for their own scenario only, and names an unknown fault', () => {
  const env = { SMB_INTEROP_SELF_CHECK_FAULTS: 'creditChargeOne, messageIdReused' };
  expect(selfCheckFaultsFromEnv(env).map((f) => f.name)).toEqual(['creditChargeOne', 'messageIdReused']);
  expect(faultHookFor('files/round-trip-unaligned', env)).toBeDefined();
  expect(faultHookFor('files/round-trip-small', env)).toBeUndefined();
  expect(faultHookFor('files/round-trip-small', {})).toBeUndefined();
  expect(() => selfCheckFaultsFromEnv({ SMB_INTEROP_SELF_CHECK_FAULTS: 'creditChargeOne,dropEverything' })).toThrow(/SMB_INTEROP_SELF_CHECK_FAULTS: unknown fault "dropEverything" \(known: omitEncryptionCapability, /);
  // The client's named faults still apply to every cell.
  expect(faultHookFor('files/round-trip-small', { SMB_INTEROP_TEST_FAULTS: 'omitEncryptionCapability' })?.switches).toEqual({ omitEncryptionCapability: true });
});

test('a NEGOTIATE loses exactly the context the fault names', () => {
  const header = encodeHeader({ command: Command.Negotiate, messageId: 0n, creditCharge: 0, credits: 1, sessionId: 0n });
  const body = encodeNegotiateRequest({
    dialects: [0x0302, 0x0311], securityMode: 1, capabilities: 0x47, clientGuid: Buffer.alloc(16, 3),
    negotiateContexts: [{ kind: 'preauthIntegrity', hashAlgorithms: [1], salt: Buffer.alloc(32, 7) }, { kind: 'encryption', ciphers: [2, 1] }, { kind: 'signing', algorithms: [2, 1, 0] }],
  });
  const out = hookOf('negotiateWithoutSigningContext').outgoingMessage!(Buffer.concat([header, body]), context('NEGOTIATE')) as Buffer;
  const request = decodeNegotiateRequest(out);
  expect(request.negotiateContexts?.map((c) => c.kind)).toEqual(['preauthIntegrity', 'encryption']);
  expect(request.dialects).toEqual([0x0302, 0x0311]);
});

test('a compounded CREATE gets its leading backslash and stays 8-byte aligned with NextCommand pointing past it', () => {
  const header = encodeHeader({ command: Command.Create, messageId: 3n, creditCharge: 1, credits: 1, sessionId: 5n });
  header.writeUInt32LE(200, 20);
  const body = encodeCreateRequest({ desiredAccess: 0x80, shareAccess: 7, createDisposition: CreateDisposition.Open, createOptions: 0, name: 't-1\\a.txt' });
  const out = hookOf('createNameLeadingBackslash').outgoingMessage!(Buffer.concat([header, body]), context('CREATE', { count: 2 })) as Buffer;
  expect(decodeCreateRequest(out).name).toBe('\\t-1\\a.txt');
  expect(out.length % 8).toBe(0);
  expect(out.readUInt32LE(20)).toBe(out.length);
});

test('messageIdReused moves only the first CREATE onto the MessageId before it', () => {
  const hook = hookOf('messageIdReused');
  const create = (id: bigint) => Buffer.concat([encodeHeader({ command: Command.Create, messageId: id, creditCharge: 1, credits: 1, sessionId: 5n }), Buffer.alloc(8)]);
  const first = create(7n);
  hook.outgoingMessage!(first, context('CREATE'));
  const second = create(8n);
  hook.outgoingMessage!(second, context('CREATE'));
  expect([first.readBigUInt64LE(24), second.readBigUInt64LE(24)]).toEqual([6n, 8n]);
});
