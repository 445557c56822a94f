import { expect, test } from '@playwright/test';
import { encryptMessage } from '../../clients/smb/crypto/index.js';
import {
  Capability, Command, CreateDisposition, HeaderFlag, NtStatus, SecurityMode,
  encodeCloseRequest, encodeCloseResponse, encodeCreateRequest, encodeCreateResponse, encodeHeader, encodeIoctlRequest, encodeIoctlResponse,
  encodeNegotiateRequest, encodeNegotiateResponse, encodeSessionSetupRequest, encodeSessionSetupResponse, encodeTreeConnectRequest,
  encodeTreeConnectResponse,
} from '../../clients/smb/wire/index.js';
import type { NegotiateContext } from '../../clients/smb/wire/index.js';
import type { WireFrame } from '../pcap-reader.js';
import type { ServerSessionKeys } from '../../servers/samba/server-keys.js';
import { decodeWire } from '../capture/wire-decode.js';
import { firstDivergence } from './divergence.js';
import { summarizeWire } from './summarize-wire.js';
import { parseWireSummary } from './wire-summary.js';
import type { WireSummary } from './wire-summary.js';

// Conversations built from the codec. A Run holds what legitimately differs between two runs of
// one conversation (ids, GUIDs, salts, nonces, keys, file names); an Offer what a client asks for.
const AES_128_CCM = 1;
const AES_128_GCM = 2;
const AES_GMAC = 2;
const AES_CMAC = 1;
const BASE_CAPABILITIES = Capability.Dfs | Capability.Leasing | Capability.LargeMtu;

interface Run { seed: number; sessionId: bigint; treeId: number; fileName: string; encrypt: boolean; mid: bigint; nonce: number }
interface Offer { dialects: number[]; capabilities: number; ciphers?: number[]; signing?: number[]; compression?: boolean }
interface Choice { dialect: number; capabilities: number; cipher?: number; signing?: number; signingRequired?: boolean }

function run(seed: number, encrypt = false): Run {
  return { seed, sessionId: 0x0000a40000000001n + BigInt(seed) * 0x100n, treeId: seed * 7, fileName: `t-${seed.toString(36)}x9\\file.txt`, encrypt, mid: 0n, nonce: 0 };
}

function keysOf(r: Run): ServerSessionKeys {
  return {
    sessionId: r.sessionId, sessionKey: Buffer.alloc(16, r.seed), signingAlgorithm: undefined, signingKey: Buffer.alloc(16, r.seed),
    cipher: AES_128_GCM, serverInKey: Buffer.alloc(16, r.seed + 1), serverOutKey: Buffer.alloc(16, r.seed + 2),
  };
}

const bytes = (seed: number, length: number) => Buffer.from(Array.from({ length }, (_, i) => (seed * 31 + i) & 0xff));

interface Extra { status?: number; signed?: boolean; encrypted?: boolean; innerSessionId?: bigint; treeId?: number }

/** A request and its response, each framed (and encrypted when asked) as a capture would hold them. */
function exchange(r: Run, command: number, request: Buffer, response: Buffer, extra: Extra = {}): WireFrame[] {
  const mid = r.mid++;
  const sessionId = command === Command.Negotiate ? 0n : r.sessionId;
  return (['send', 'receive'] as const).map((direction) => {
    const header = encodeHeader({
      command, messageId: mid, creditCharge: 1, credits: 1 + r.seed, sessionId: extra.innerSessionId ?? sessionId, treeId: extra.treeId ?? 0,
      status: direction === 'receive' ? extra.status ?? NtStatus.Success : 0,
      flags: (direction === 'receive' ? HeaderFlag.ServerToRedir : 0) | (extra.signed ? HeaderFlag.Signed : 0),
    });
    const message = Buffer.concat([header, direction === 'send' ? request : response]);
    if (!(extra.encrypted ?? r.encrypt) || command === Command.Negotiate || command === Command.SessionSetup) return { direction, clientPort: 50000 + r.seed, bytes: message };
    const keys = keysOf(r);
    const nonce = Buffer.alloc(12);
    nonce.writeUInt32LE(r.seed * 1000 + r.nonce++);
    const key = direction === 'send' ? keys.serverInKey! : keys.serverOutKey!;
    return { direction, clientPort: 50000 + r.seed, bytes: encryptMessage({ cipher: AES_128_GCM, key, sessionId: r.sessionId, nonce, message }) };
  });
}

/** NEGOTIATE and a two-leg SESSION_SETUP whose last response has `sessionStatus`. */
function opening(r: Run, offer: Offer, choice: Choice, sessionStatus: number = NtStatus.Success): WireFrame[] {
  const requestContexts: NegotiateContext[] = [{ kind: 'preauthIntegrity', hashAlgorithms: [1], salt: bytes(r.seed, 32) }];
  if (offer.ciphers) requestContexts.push({ kind: 'encryption', ciphers: offer.ciphers });
  if (offer.signing) requestContexts.push({ kind: 'signing', algorithms: offer.signing });
  if (offer.compression) requestContexts.push({ kind: 'compression', flags: 0, algorithms: [1, 2] });
  requestContexts.push({ kind: 'netname', netName: r.seed % 2 === 0 ? '127.0.0.1' : 'localhost' });
  const responseContexts: NegotiateContext[] = [{ kind: 'preauthIntegrity', hashAlgorithms: [1], salt: bytes(r.seed + 1, 32) }];
  if (choice.cipher !== undefined) responseContexts.push({ kind: 'encryption', ciphers: [choice.cipher] });
  if (choice.signing !== undefined) responseContexts.push({ kind: 'signing', algorithms: [choice.signing] });
  const setup = (blob: number) => encodeSessionSetupRequest({ flags: 0, securityMode: SecurityMode.SigningEnabled, capabilities: Capability.Dfs, channel: 0, previousSessionId: 0n, securityBuffer: bytes(blob, 40) });
  return [
    ...exchange(r, Command.Negotiate,
      encodeNegotiateRequest({ dialects: offer.dialects, securityMode: SecurityMode.SigningEnabled, capabilities: offer.capabilities, clientGuid: bytes(r.seed, 16), negotiateContexts: requestContexts }),
      encodeNegotiateResponse({
        securityMode: SecurityMode.SigningEnabled | (choice.signingRequired ? SecurityMode.SigningRequired : 0), dialectRevision: choice.dialect, serverGuid: bytes(r.seed + 5, 16),
        capabilities: choice.capabilities, maxTransactSize: 8 << 20, maxReadSize: 8 << 20, maxWriteSize: 8 << 20, systemTime: BigInt(r.seed) << 40n, serverStartTime: 0n,
        securityBuffer: bytes(r.seed, 20), negotiateContexts: choice.dialect === 0x0311 ? responseContexts : [],
      })),
    ...exchange(r, Command.SessionSetup, setup(r.seed), encodeSessionSetupResponse({ sessionFlags: 0, securityBuffer: bytes(r.seed + 2, 60) }), { status: NtStatus.MoreProcessingRequired }),
    ...exchange(r, Command.SessionSetup, setup(r.seed + 3), encodeSessionSetupResponse({ sessionFlags: 0, securityBuffer: bytes(r.seed + 4, 8) }), { status: sessionStatus }),
  ];
}

function treeConnect(r: Run, extra: Extra = {}): WireFrame[] {
  const path = r.seed % 2 === 0 ? '\\\\127.0.0.1\\data' : '\\\\LOCALHOST\\DATA';
  return exchange(r, Command.TreeConnect, encodeTreeConnectRequest({ path }), encodeTreeConnectResponse({ shareType: 1, shareFlags: 0, capabilities: 0, maximalAccess: 0x1f01ff }), extra);
}

function createAndClose(r: Run): WireFrame[] {
  const fileId = { persistent: BigInt(r.seed), volatile: BigInt(r.seed * 3) };
  const times = { creationTime: BigInt(r.seed) << 32n, lastAccessTime: 1n, lastWriteTime: 2n, changeTime: 3n, allocationSize: 0n, endOfFile: 0n };
  return [
    ...exchange(r, Command.Create,
      encodeCreateRequest({ desiredAccess: 0x0012019f, shareAccess: 7, createDisposition: CreateDisposition.Create, createOptions: 0x40, name: r.fileName }),
      encodeCreateResponse({ oplockLevel: 0, flags: 0, createAction: 2, fileAttributes: 0x20, fileId, contexts: [], ...times }), { treeId: r.treeId }),
    ...exchange(r, Command.Close, encodeCloseRequest({ fileId }), encodeCloseResponse({ flags: 0, fileAttributes: 0, ...times }), { treeId: r.treeId }),
  ];
}

/** As the matrix reads it after a run: summarized, written as the attachment's JSON, parsed back. */
function kept(summary: WireSummary): WireSummary {
  const parsed = parseWireSummary(JSON.stringify(summary));
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.summary;
}

const wire = (frames: WireFrame[], r: Run): WireSummary => kept(summarizeWire(decodeWire(frames, [keysOf(r)])));

const SMB302_OFFER: Offer = { dialects: [0x0300, 0x0302], capabilities: BASE_CAPABILITIES };
const SMB302_CHOICE: Choice = { dialect: 0x0302, capabilities: BASE_CAPABILITIES };
const SMB311_OFFER: Offer = { dialects: [0x0300, 0x0302, 0x0311], capabilities: BASE_CAPABILITIES | Capability.Encryption, ciphers: [AES_128_GCM, AES_128_CCM], signing: [AES_GMAC, AES_CMAC] };
const SMB311_CHOICE: Choice = { dialect: 0x0311, capabilities: BASE_CAPABILITIES | Capability.Encryption, cipher: AES_128_GCM, signing: AES_GMAC };

test('a 3.0.2 NEGOTIATE without the ENCRYPTION capability is named, not the STATUS_ACCESS_DENIED on SESSION_SETUP it led to', () => {
  const a = run(1);
  const b = run(2, true);
  const cell = wire(opening(a, SMB302_OFFER, SMB302_CHOICE, NtStatus.AccessDenied), a);
  const withEncryption = { ...SMB302_OFFER, capabilities: BASE_CAPABILITIES | Capability.Encryption | Capability.MultiChannel };
  const reference = wire([...opening(b, withEncryption, { ...SMB302_CHOICE, capabilities: BASE_CAPABILITIES | Capability.Encryption }), ...treeConnect(b)], b);
  const expected = {
    kind: 'field',
    message: { index: 1, connection: 1, command: 'NEGOTIATE', direction: 'request' },
    referenceMessage: { index: 1, connection: 1, command: 'NEGOTIATE', direction: 'request' },
    field: 'Capabilities', value: 'DFS|LEASING|LARGE_MTU', reference: 'DFS|LEASING|LARGE_MTU|MULTI_CHANNEL|ENCRYPTION', section: 'MS-SMB2 2.2.3',
    text: 'NEGOTIATE request Capabilities: DFS|LEASING|LARGE_MTU; reference: DFS|LEASING|LARGE_MTU|MULTI_CHANNEL|ENCRYPTION (MS-SMB2 2.2.3)',
  };
  expect(firstDivergence(cell, reference, { sameClient: false })).toEqual(expected);
  expect(firstDivergence(cell, reference, { sameClient: true })).toEqual(expected);
});

test('on 3.1.1 a cipher list without the cipher the server chose for the reference is named; the other client\'s longer dialect list and compression offer are not', () => {
  const a = run(1);
  const b = run(2, true);
  const cell = wire(opening(a, { ...SMB311_OFFER, dialects: [0x0311], ciphers: [AES_128_CCM] }, { ...SMB311_CHOICE, cipher: 0 }, NtStatus.AccessDenied), a);
  const reference = wire([...opening(b, { ...SMB311_OFFER, dialects: [0x0202, 0x0210, 0x0300, 0x0302, 0x0311], compression: true }, SMB311_CHOICE), ...treeConnect(b)], b);
  expect(firstDivergence(cell, reference, { sameClient: false })).toMatchObject({
    kind: 'field', field: 'Ciphers', value: 'AES-128-CCM', reference: 'AES-128-GCM|AES-128-CCM', section: 'MS-SMB2 2.2.3.1.2',
    text: 'NEGOTIATE request Ciphers: AES-128-CCM; reference: AES-128-GCM|AES-128-CCM (MS-SMB2 2.2.3.1.2)',
  });
  // Against the same client every difference counts: the dialect list comes first.
  expect(firstDivergence(cell, reference, { sameClient: true }).text).toBe('NEGOTIATE request Dialects: 3.1.1; reference: 2.0.2|2.1|3.0|3.0.2|3.1.1 (MS-SMB2 2.2.3)');
});

test('two encrypted runs of one conversation that differ only in ids, GUIDs, salts, nonces, keys, times and file names have no divergence', () => {
  const a = run(1, true);
  const b = run(2, true);
  const cell = wire([...opening(a, SMB311_OFFER, SMB311_CHOICE), ...treeConnect(a), ...createAndClose(a)], a);
  const reference = wire([...opening(b, SMB311_OFFER, SMB311_CHOICE), ...treeConnect(b), ...createAndClose(b)], b);
  expect([cell.problems, reference.problems]).toEqual([[], []]);
  expect(cell.messages.map((m) => m.encrypted)).toEqual([false, false, false, false, false, false, true, true, true, true, true, true]);
  expect(firstDivergence(cell, reference, { sameClient: true })).toEqual({
    kind: 'none', text: 'no difference that matters: 12 messages on 1 connection(s) match the reference\'s, apart from ids, GUIDs, nonces, timestamps and names',
  });
});

test('an encrypted request whose inner SessionId is not the transform\'s is named by that relation, not by the ids', () => {
  const a = run(1, true);
  const b = run(2, true);
  const cell = wire([...opening(a, SMB311_OFFER, SMB311_CHOICE), ...treeConnect(a, { innerSessionId: 0n, status: NtStatus.UserSessionDeleted })], a);
  const reference = wire([...opening(b, SMB311_OFFER, SMB311_CHOICE), ...treeConnect(b)], b);
  expect(firstDivergence(cell, reference, { sameClient: false })).toMatchObject({
    kind: 'field', message: { index: 7, connection: 1, command: 'TREE_CONNECT', direction: 'request' }, value: 'false', reference: 'true',
    text: 'TREE_CONNECT request inner SessionId equals the transform\'s: false; reference: true (MS-SMB2 2.2.41, 3.1.4.3)',
  });
});

test('a connection that ended after SESSION_SETUP where the reference went on is a structural divergence, saying who ended it when known', () => {
  const a = run(1);
  const b = run(2);
  const cell = wire(opening(a, SMB311_OFFER, SMB311_CHOICE), a);
  const reference = wire([...opening(b, SMB311_OFFER, SMB311_CHOICE), ...treeConnect(b)], b);
  expect(firstDivergence(cell, reference, { sameClient: false, closedByServer: new Set([1]) })).toEqual({
    kind: 'structure',
    message: { index: 6, connection: 1, command: 'SESSION_SETUP', direction: 'response' },
    referenceMessage: { index: 7, connection: 1, command: 'TREE_CONNECT', direction: 'request' },
    text: 'after SESSION_SETUP response the reference sent TREE_CONNECT request; this cell\'s connection was closed by the server',
  });
  expect(firstDivergence(cell, reference, { sameClient: false }).text).toBe('after SESSION_SETUP response the reference sent TREE_CONNECT request; this cell\'s connection ended');
  // A request the server never answered.
  const c = run(1);
  const unanswered = wire([...opening(c, SMB311_OFFER, SMB311_CHOICE), ...treeConnect(c).slice(0, 1)], c);
  expect(firstDivergence(unanswered, reference, { sameClient: false })).toEqual({
    kind: 'structure',
    message: { index: 7, connection: 1, command: 'TREE_CONNECT', direction: 'request' },
    referenceMessage: { index: 8, connection: 1, command: 'TREE_CONNECT', direction: 'response' },
    text: 'TREE_CONNECT request got no response and the connection ended; the reference\'s got STATUS_SUCCESS',
  });
});

test('a cell that stopped after its share was connected, where another client went on with more, has no divergence that matters', () => {
  const a = run(1);
  const b = run(2);
  const cell = wire([...opening(a, SMB311_OFFER, SMB311_CHOICE), ...treeConnect(a)], a);
  const reference = wire([...opening(b, SMB311_OFFER, SMB311_CHOICE), ...treeConnect(b), ...createAndClose(b)], b);
  expect(firstDivergence(cell, reference, { sameClient: false })).toMatchObject({
    kind: 'none', text: 'no difference that matters: the clients differ only where implementations may, first after TREE_CONNECT response the reference sent CREATE request; this cell\'s connection ended',
  });
  expect(firstDivergence(cell, reference, { sameClient: true }).text).toBe('after TREE_CONNECT response the reference sent CREATE request; this cell\'s connection ended');
});

test('responses are paired with their requests: a compound CREATE+CLOSE aligns with the same requests sent one by one', () => {
  const a = run(1);
  const b = run(2);
  const sequential = createAndClose(a);
  const compoundOrder = [sequential[0]!, sequential[2]!, sequential[1]!, sequential[3]!];
  const cell = wire([...opening(a, SMB311_OFFER, SMB311_CHOICE), ...treeConnect(a), ...compoundOrder], a);
  const reference = wire([...opening(b, SMB311_OFFER, SMB311_CHOICE), ...treeConnect(b), ...createAndClose(b)], b);
  expect(cell.messages.slice(8).map((m) => `${m.direction} ${m.command}`)).toEqual(['send CREATE', 'send CLOSE', 'receive CREATE', 'receive CLOSE']);
  expect(firstDivergence(cell, reference, { sameClient: true }).kind).toBe('none');
});

test('a detour through IPC$ by another client is not taken for the share\'s TREE_CONNECT', () => {
  const a = run(1);
  const b = run(2);
  const cell = wire([...opening(a, SMB311_OFFER, SMB311_CHOICE), ...treeConnect(a, { status: NtStatus.BadNetworkName })], a);
  const fileId = { persistent: 0xffffffffffffffffn, volatile: 0xffffffffffffffffn };
  const referral = exchange(b, Command.Ioctl, encodeIoctlRequest({ ctlCode: 0x00060194, fileId, input: bytes(5, 16), maxOutputResponse: 4096 }),
    encodeIoctlResponse({ ctlCode: 0x00060194, fileId, input: Buffer.alloc(0), output: Buffer.alloc(0), flags: 0 }), { status: NtStatus.NotFound });
  const ipc = exchange(b, Command.TreeConnect, encodeTreeConnectRequest({ path: '\\\\127.0.0.1\\IPC$' }), encodeTreeConnectResponse({ shareType: 2, shareFlags: 0x30, capabilities: 0, maximalAccess: 0x1f01ff }));
  const reference = wire([...opening(b, SMB311_OFFER, SMB311_CHOICE), ...ipc, ...referral, ...treeConnect(b)], b);
  expect(firstDivergence(cell, reference, { sameClient: false })).toMatchObject({
    kind: 'field', message: { index: 8, command: 'TREE_CONNECT', direction: 'response' }, referenceMessage: { index: 12, command: 'TREE_CONNECT', direction: 'response' },
    text: 'TREE_CONNECT response Status: STATUS_BAD_NETWORK_NAME; reference: STATUS_SUCCESS (MS-SMB2 2.2.1.2)',
  });
  expect(firstDivergence(cell, reference, { sameClient: true }).text).toBe('after SESSION_SETUP response the reference sent TREE_CONNECT request (IPC$), which this cell did not');
});

test('a frame the harness cannot decrypt where the reference sent TREE_CONNECT is named with the reason', () => {
  const a = run(1, true);
  const b = run(2, true);
  const cell = kept(summarizeWire(decodeWire([...opening(a, SMB311_OFFER, SMB311_CHOICE), ...treeConnect(a).slice(0, 1)], [{ ...keysOf(a), serverInKey: Buffer.alloc(16, 9) }])));
  const reference = wire([...opening(b, SMB311_OFFER, SMB311_CHOICE), ...treeConnect(b)], b);
  expect(firstDivergence(cell, reference, { sameClient: false })).toEqual({
    kind: 'structure',
    message: { index: 6, connection: 1, command: 'unreadable frame', direction: 'request' },
    referenceMessage: { index: 7, connection: 1, command: 'TREE_CONNECT', direction: 'request' },
    text: `this cell sent a frame the harness could not read (${cell.problems[0]!.problem}) where the reference sent TREE_CONNECT request`,
  });
  expect(cell.problems[0]!.problem).toMatch(/^does not decrypt with session 0x0000a40000000101's ServerIn key \(AES-128-GCM\)/);
});

test('against another client, other capability bits and an extra IOCTL are not named; an unsigned request where the reference signs is', () => {
  const a = run(1);
  const b = run(2);
  const signingTarget: Choice = { dialect: 0x0311, capabilities: BASE_CAPABILITIES, signing: AES_GMAC, signingRequired: true };
  const offer: Offer = { dialects: [0x0311], capabilities: BASE_CAPABILITIES, signing: [AES_GMAC, AES_CMAC] };
  // smbclient-like: more capability bits (ENCRYPTION among them, which 3.1.1 does not need) and a validate-negotiate IOCTL.
  const otherOffer: Offer = { ...offer, capabilities: BASE_CAPABILITIES | Capability.MultiChannel | Capability.Encryption | Capability.DirectoryLeasing };
  const fileId = { persistent: ~0n & 0xffffffffffffffffn, volatile: ~0n & 0xffffffffffffffffn };
  const ioctl = exchange(b, Command.Ioctl, encodeIoctlRequest({ ctlCode: 0x00140204, fileId, input: bytes(3, 24), maxOutputResponse: 24 }),
    encodeIoctlResponse({ ctlCode: 0x00140204, fileId, input: Buffer.alloc(0), output: bytes(4, 24), flags: 0 }), { signed: true });
  const reference = wire([...opening(b, otherOffer, signingTarget), ...ioctl, ...treeConnect(b, { signed: true })], b);
  const cell = wire([...opening(a, offer, signingTarget), ...treeConnect(a, { status: NtStatus.AccessDenied })], a);
  expect(firstDivergence(cell, reference, { sameClient: false })).toMatchObject({
    kind: 'field', message: { index: 7, command: 'TREE_CONNECT', direction: 'request' }, referenceMessage: { index: 9, command: 'TREE_CONNECT', direction: 'request' },
    field: 'Signature', value: 'unsigned', reference: 'signed, not checked (no key)',
    text: 'TREE_CONNECT request Signature: unsigned; reference: signed, not checked (no key) (MS-SMB2 2.2.1.2, 3.1.5.1)',
  });
  // The same client is held to every field: the capabilities come first.
  expect(firstDivergence(cell, reference, { sameClient: true }).field).toBe('Capabilities');
  // Where the server does not require signing, signing is the client's choice: the status is what matters.
  const optional: Choice = { ...signingTarget, signingRequired: false };
  const d = run(4);
  const e = run(5);
  const optionalReference = wire([...opening(e, otherOffer, optional), ...treeConnect(e, { signed: true })], e);
  const optionalCell = wire([...opening(d, offer, optional), ...treeConnect(d, { status: NtStatus.AccessDenied })], d);
  expect(firstDivergence(optionalCell, optionalReference, { sameClient: false }).text).toBe('TREE_CONNECT response Status: STATUS_ACCESS_DENIED; reference: STATUS_SUCCESS (MS-SMB2 2.2.1.2)');
  // With the signing mended nothing that matters differs, and the answer says what does.
  const c = run(1);
  const mended = wire([...opening(c, offer, signingTarget), ...treeConnect(c, { signed: true })], c);
  expect(firstDivergence(mended, reference, { sameClient: false })).toMatchObject({
    kind: 'none', field: 'Capabilities',
    text: 'no difference that matters: the clients differ only where implementations may, first NEGOTIATE request Capabilities: DFS|LEASING|LARGE_MTU; reference: DFS|LEASING|LARGE_MTU|MULTI_CHANNEL|DIRECTORY_LEASING|ENCRYPTION (MS-SMB2 2.2.3)',
  });
});

test('against the same client an extra message is a structural divergence', () => {
  const a = run(1);
  const b = run(2);
  const cell = wire([...opening(a, SMB311_OFFER, SMB311_CHOICE), ...treeConnect(a)], a);
  const reference = wire([...opening(b, SMB311_OFFER, SMB311_CHOICE), ...exchange(b, Command.Echo, Buffer.from([4, 0, 0, 0]), Buffer.from([4, 0, 0, 0])), ...treeConnect(b)], b);
  expect(firstDivergence(cell, reference, { sameClient: true }).text).toBe('after SESSION_SETUP response the reference sent ECHO request, which this cell did not');
  expect(firstDivergence(cell, reference, { sameClient: false }).kind).toBe('none');
});

test('a NEGOTIATE refused for a missing preauth context names HashAlgorithms, not the dialect list both clients offer alike', () => {
  const a = run(1);
  const b = run(2, true);
  const refused = { ...SMB311_OFFER, dialects: [0x0300, 0x0302, 0x0311] };
  const cellFrames = opening(a, refused, SMB311_CHOICE).slice(0, 2);
  // The cell's NEGOTIATE carried no preauth context and was refused.
  const request = cellFrames[0]!;
  const body = encodeNegotiateRequest({ dialects: refused.dialects, securityMode: SecurityMode.SigningEnabled, capabilities: refused.capabilities, clientGuid: bytes(1, 16), negotiateContexts: [{ kind: 'encryption', ciphers: refused.ciphers! }, { kind: 'signing', algorithms: refused.signing! }] });
  const refusal = Buffer.from(cellFrames[1]!.bytes.subarray(0, 64));
  refusal.writeUInt32LE(NtStatus.InvalidParameter, 8);
  const cell = wire([{ ...request, bytes: Buffer.concat([request.bytes.subarray(0, 64), body]) }, { ...cellFrames[1]!, bytes: Buffer.concat([refusal, Buffer.from([9, 0, 0, 0, 0, 0, 0, 0, 0])]) }], a);
  const reference = wire([...opening(b, { ...SMB311_OFFER, dialects: [0x0202, 0x0210, 0x0300, 0x0302, 0x0311] }, SMB311_CHOICE), ...treeConnect(b)], b);
  expect(firstDivergence(cell, reference, { sameClient: false })).toMatchObject({
    kind: 'field', field: 'HashAlgorithms', value: 'absent', reference: 'SHA-512',
    text: 'NEGOTIATE request HashAlgorithms: absent; reference: SHA-512 (MS-SMB2 2.2.3.1.1)',
  });
});
