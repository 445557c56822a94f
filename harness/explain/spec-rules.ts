/**
 * Spec checks on every message of a cell: rules over the decoded, decrypted wire (harness/capture/
 * wire-decode.ts), each citing the MS-SMB2 section it comes from. They judge the client (what it
 * sent), whatever client it is. A violation is shown on a cell even when the cell passed; a red
 * cell's explanation names the violated rule first.
 */
import {
  Capability, SecurityMode, SessionFlag,
  decodeChangeNotifyRequest, decodeCloseRequest, decodeCreateRequest, decodeFlushRequest, decodeIoctlRequest, decodeLockRequest,
  decodeNegotiateRequest, decodeNegotiateResponse, decodeQueryDirectoryRequest, decodeQueryInfoRequest, decodeReadRequest,
  decodeSessionSetupResponse, decodeSetInfoRequest, decodeWriteRequest,
} from '../../clients/smb/wire/index.js';
import type { FileId } from '../../clients/smb/wire/index.js';
import { formatSessionId } from '../capture/keys.js';
import type { DecodedWire, WireMessage } from '../capture/wire-decode.js';

export interface SpecRule {
  /** Stable id, e.g. `encrypted-session-id`. */
  id: string;
  /** What the rule requires, in one sentence. */
  title: string;
  /** e.g. `MS-SMB2 3.1.4.3` */
  section: string;
}

export interface SpecViolation {
  rule: SpecRule;
  /** The first message that breaks it (1-based index in the decoded wire). */
  message: number;
  /** What was seen, e.g. `TREE_CONNECT request mid=3: inner SessionId 0x0000000000000000, transform 0x0000a4000000001d`. */
  detail: string;
  /** How many messages break it in all. */
  count: number;
}

export const RULES = {
  encryptedSessionId: {
    id: 'encrypted-session-id',
    title: 'the SessionId of an encrypted message\'s SMB2 header equals its TRANSFORM_HEADER\'s',
    section: 'MS-SMB2 3.1.4.3, 2.2.41',
  },
  nonceReuse: {
    id: 'nonce-unique',
    title: 'an encryption nonce is never used twice with a session\'s key',
    section: 'MS-SMB2 2.2.41, 3.1.4.3',
  },
  encryptionCapability: {
    id: 'encryption-capability',
    title: 'a client that encrypts on SMB 3.0/3.0.2 set SMB2_GLOBAL_CAP_ENCRYPTION in its NEGOTIATE request',
    section: 'MS-SMB2 2.2.3, 3.2.4.2.2.2, 3.3.5.4',
  },
  signatureValid: {
    id: 'signature-valid',
    title: 'a message with SMB2_FLAGS_SIGNED carries the signature of the session\'s signing key',
    section: 'MS-SMB2 3.1.4.1, 3.1.5.1',
  },
  signingRequired: {
    id: 'signing-required',
    title: 'on a connection that requires signing, every request of an authenticated session that is not encrypted is signed',
    section: 'MS-SMB2 3.2.4.1.1, 3.2.5.3.1',
  },
  creditCharge: {
    id: 'credit-charge',
    title: 'the CreditCharge of a multi-credit request covers its payload: (max(send, expected response) - 1) / 65536 + 1',
    section: 'MS-SMB2 3.1.5.2, 3.2.4.1.5',
  },
  messageIdReuse: {
    id: 'message-id-unique',
    title: 'a MessageId (and each one a multi-credit request consumes) is used once per connection',
    section: 'MS-SMB2 3.2.4.1.3, 3.2.4.1.5',
  },
  sessionSetupContinues: {
    id: 'session-setup-continues',
    title: 'a SESSION_SETUP request that continues an exchange answered STATUS_MORE_PROCESSING_REQUIRED carries that response\'s SessionId',
    section: 'MS-SMB2 3.2.5.3, 3.3.5.5',
  },
  compoundRelated: {
    id: 'compound-related',
    title: 'a compounded request that uses the previous request\'s FileId (0xFFFFFFFFFFFFFFFF) sets SMB2_FLAGS_RELATED_OPERATIONS',
    section: 'MS-SMB2 3.2.4.1.4, 3.3.5.2.7.2',
  },
  negotiatedSizes: {
    id: 'negotiated-sizes',
    title: 'a READ asks at most MaxReadSize, a WRITE sends at most MaxWriteSize, and a QUERY_DIRECTORY, QUERY_INFO or IOCTL asks at most MaxTransactSize, as the NEGOTIATE response set them',
    section: 'MS-SMB2 2.2.4, 3.2.4.6, 3.2.4.7, 3.2.4.17',
  },
  createName: {
    id: 'create-name',
    title: 'a CREATE name is relative to the share: it does not begin with a backslash and separates its components with backslashes, never slashes',
    section: 'MS-SMB2 2.2.13, 3.3.5.9',
  },
} as const satisfies Record<string, SpecRule>;

const DIALECT_300 = 0x0300;
const DIALECT_302 = 0x0302;
const CREDIT_UNIT = 65536;
const RELATED_FLAG = 0x00000004;
const ALL_ONES = 0xffffffffffffffffn;

function label(m: WireMessage): string {
  return `${m.header.command} ${m.direction === 'send' ? 'request' : 'response'} mid=${m.header.messageId}`;
}

/** The body of a message decoded, or undefined when the codec refuses it (the cell's other checks say so). */
function decoded<T>(decode: (bytes: Buffer) => T, message: WireMessage): T | undefined {
  try {
    return decode(message.bytes);
  } catch {
    return undefined;
  }
}

interface ConnectionFacts {
  requestCapabilities: number | undefined;
  dialect: number | undefined;
  /** MaxTransactSize, MaxReadSize, MaxWriteSize of the NEGOTIATE response. */
  limits: { transact: number; read: number; write: number } | undefined;
  signingRequired: boolean;
  multiCredit: boolean;
  /** Sessions that are guest or anonymous: they neither sign nor encrypt. */
  unauthenticated: Set<bigint>;
  /** Sessions set up, with the index of their final SESSION_SETUP response. */
  established: Map<bigint, number>;
}

function connectionFacts(messages: readonly WireMessage[]): ConnectionFacts {
  const facts: ConnectionFacts = { requestCapabilities: undefined, dialect: undefined, limits: undefined, signingRequired: false, multiCredit: false, unauthenticated: new Set(), established: new Map() };
  for (const m of messages) {
    if (m.header.command === 'NEGOTIATE' && m.direction === 'send') {
      facts.requestCapabilities ??= decoded(decodeNegotiateRequest, m)?.capabilities;
    } else if (m.header.command === 'NEGOTIATE' && m.direction === 'receive' && m.header.statusName === 'STATUS_SUCCESS') {
      const response = decoded(decodeNegotiateResponse, m);
      if (response !== undefined) {
        facts.dialect = response.dialectRevision;
        facts.limits = { transact: response.maxTransactSize, read: response.maxReadSize, write: response.maxWriteSize };
        facts.signingRequired = (response.securityMode & SecurityMode.SigningRequired) !== 0;
        facts.multiCredit = response.dialectRevision !== 0x0202 && (response.capabilities & Capability.LargeMtu) !== 0 && ((facts.requestCapabilities ?? 0) & Capability.LargeMtu) !== 0;
      }
    }
  }
  return facts;
}

/** What a request asks to move, for CreditCharge (MS-SMB2 3.1.5.2); undefined for requests charged 1. */
function payloadOf(m: WireMessage): number | undefined {
  switch (m.header.command) {
    case 'READ': return decoded(decodeReadRequest, m)?.length;
    case 'WRITE': return decoded(decodeWriteRequest, m)?.data.length;
    case 'QUERY_DIRECTORY': return decoded(decodeQueryDirectoryRequest, m)?.outputBufferLength;
    case 'IOCTL': {
      const ioctl = decoded(decodeIoctlRequest, m);
      return ioctl === undefined ? undefined : Math.max(ioctl.input?.length ?? 0, ioctl.maxOutputResponse);
    }
    default: return undefined;
  }
}

const FILE_ID_DECODERS: Readonly<Record<string, (bytes: Buffer) => { fileId: FileId }>> = {
  CLOSE: decodeCloseRequest, FLUSH: (bytes) => ({ fileId: decodeFlushRequest(bytes) }), READ: decodeReadRequest, WRITE: decodeWriteRequest, LOCK: decodeLockRequest,
  IOCTL: decodeIoctlRequest, QUERY_DIRECTORY: decodeQueryDirectoryRequest, CHANGE_NOTIFY: decodeChangeNotifyRequest,
  QUERY_INFO: decodeQueryInfoRequest, SET_INFO: decodeSetInfoRequest,
};

/** The request's FileId is the one MS-SMB2 3.2.4.1.4 reserves for "the previous request's". */
function usesPreviousFileId(m: WireMessage): boolean {
  const decode = FILE_ID_DECODERS[m.header.command];
  const fileId = decode === undefined ? undefined : decoded(decode, m)?.fileId;
  return fileId !== undefined && fileId.persistent === ALL_ONES && fileId.volatile === ALL_ONES;
}

/** What a request asks beyond the connection's negotiated sizes, or undefined. */
function beyondLimits(m: WireMessage, limits: ConnectionFacts['limits']): string | undefined {
  if (limits === undefined) return undefined;
  const over = (what: string, size: number | undefined, limit: number, name: string) => (size !== undefined && size > limit ? `${what} ${size} exceeds the ${name} ${limit}` : undefined);
  switch (m.header.command) {
    case 'READ': return over('Length', decoded(decodeReadRequest, m)?.length, limits.read, 'MaxReadSize');
    case 'WRITE': return over('Length', decoded(decodeWriteRequest, m)?.data.length, limits.write, 'MaxWriteSize');
    case 'QUERY_DIRECTORY': return over('OutputBufferLength', decoded(decodeQueryDirectoryRequest, m)?.outputBufferLength, limits.transact, 'MaxTransactSize');
    case 'QUERY_INFO': return over('OutputBufferLength', decoded(decodeQueryInfoRequest, m)?.outputBufferLength, limits.transact, 'MaxTransactSize');
    case 'IOCTL': return over('MaxOutputResponse', decoded(decodeIoctlRequest, m)?.maxOutputResponse, limits.transact, 'MaxTransactSize');
    default: return undefined;
  }
}

/** What is wrong with a CREATE request's name, or undefined. */
function badCreateName(m: WireMessage): string | undefined {
  if (m.header.command !== 'CREATE') return undefined;
  const name = decoded(decodeCreateRequest, m)?.name;
  if (name === undefined) return undefined;
  if (name.startsWith('\\')) return `name "${name}" begins with a backslash`;
  if (name.includes('/')) return `name "${name}" separates components with "/"`;
  return undefined;
}

type Offender = { message: WireMessage; detail: string };

/** The offenders of each rule on one connection, by rule id. */
function checkConnection(messages: readonly WireMessage[]): Map<string, Offender[]> {
  const facts = connectionFacts(messages);
  const found = new Map<string, Offender[]>();
  const offend = (rule: SpecRule, message: WireMessage, detail: string) => {
    const list = found.get(rule.id) ?? [];
    list.push({ message, detail });
    found.set(rule.id, list);
  };

  const seenNonces = new Map<string, WireMessage>();
  for (const m of messages) {
    if (m.transform !== undefined) {
      const related = m.header.sessionId === ALL_ONES && (m.header.flags & RELATED_FLAG) !== 0;
      if (m.header.sessionId !== m.transform.sessionId && !related) {
        offend(RULES.encryptedSessionId, m, `inner SessionId ${formatSessionId(m.header.sessionId)}, TRANSFORM_HEADER ${formatSessionId(m.transform.sessionId)}`);
      }
      // One nonce per frame: the messages of an encrypted compound share their transform.
      const key = `${m.direction} ${m.transform.sessionId} ${m.transform.nonce.toString('hex')}`;
      const earlier = seenNonces.get(key);
      if (earlier === undefined) seenNonces.set(key, m);
      else if (earlier.frame !== m.frame) offend(RULES.nonceReuse, m, `nonce ${m.transform.nonce.toString('hex')} already used by message ${earlier.index} (${label(earlier)})`);
    }
    if (m.signature === 'invalid') offend(RULES.signatureValid, m, `the signature does not verify with session ${formatSessionId(m.header.sessionId)}'s signing key`);
    if (m.header.command === 'SESSION_SETUP' && m.direction === 'receive' && m.header.statusName === 'STATUS_SUCCESS') {
      facts.established.set(m.header.sessionId, m.index);
      const flags = decoded(decodeSessionSetupResponse, m)?.sessionFlags ?? 0;
      if ((flags & (SessionFlag.IsGuest | SessionFlag.IsNull)) !== 0) facts.unauthenticated.add(m.header.sessionId);
    }
  }

  const usedIds = new Map<bigint, WireMessage>();
  /** The SessionId of the last SESSION_SETUP response that asked for another round. */
  let continuing: bigint | undefined;
  let previous: WireMessage | undefined;
  for (const m of messages) {
    if (m.header.command === 'SESSION_SETUP' && m.direction === 'receive') continuing = m.header.statusName === 'STATUS_MORE_PROCESSING_REQUIRED' ? m.header.sessionId : undefined;
    if (m.direction !== 'send') continue;
    const inCompound = previous !== undefined && previous.frame === m.frame;
    previous = m;
    if (m.header.command === 'SESSION_SETUP' && continuing !== undefined && m.header.sessionId !== continuing) {
      offend(RULES.sessionSetupContinues, m, `SessionId ${formatSessionId(m.header.sessionId)}, but the server's STATUS_MORE_PROCESSING_REQUIRED response gave ${formatSessionId(continuing)}`);
    }
    if (inCompound && (m.header.flags & RELATED_FLAG) === 0 && usesPreviousFileId(m)) {
      offend(RULES.compoundRelated, m, 'FileId 0xFFFFFFFFFFFFFFFF (the previous request\'s) without SMB2_FLAGS_RELATED_OPERATIONS');
    }
    const excess = beyondLimits(m, facts.limits);
    if (excess !== undefined) offend(RULES.negotiatedSizes, m, excess);
    const badName = badCreateName(m);
    if (badName !== undefined) offend(RULES.createName, m, badName);
    const session = m.header.sessionId;
    const establishedAt = facts.established.get(session);
    if (facts.signingRequired && !m.encrypted && m.signature === 'unsigned' && establishedAt !== undefined && m.index > establishedAt
      && !facts.unauthenticated.has(session) && m.header.command !== 'SESSION_SETUP') {
      offend(RULES.signingRequired, m, `sent unsigned and unencrypted in session ${formatSessionId(session)}; the server's NEGOTIATE response requires signing`);
    }
    const capabilities = facts.requestCapabilities;
    if (m.encrypted && (facts.dialect === DIALECT_300 || facts.dialect === DIALECT_302) && capabilities !== undefined && (capabilities & Capability.Encryption) === 0) {
      offend(RULES.encryptionCapability, m, `encrypted on dialect 0x${facts.dialect.toString(16).padStart(4, '0')}, but the NEGOTIATE request's Capabilities 0x${capabilities.toString(16).padStart(8, '0')} lack SMB2_GLOBAL_CAP_ENCRYPTION`);
    }
    const payload = facts.multiCredit ? payloadOf(m) : undefined;
    if (payload !== undefined) {
      const needed = payload === 0 ? 1 : Math.floor((payload - 1) / CREDIT_UNIT) + 1;
      if (m.header.creditCharge < needed) offend(RULES.creditCharge, m, `CreditCharge ${m.header.creditCharge} for ${payload} bytes, needs at least ${needed}`);
    }
    // A CANCEL reuses the MessageId of the request it cancels (MS-SMB2 3.2.4.24).
    if (m.header.command === 'CANCEL') continue;
    const charge = BigInt(Math.max(1, m.header.creditCharge));
    for (let id = m.header.messageId; id < m.header.messageId + charge; id++) {
      const earlier = usedIds.get(id);
      if (earlier !== undefined) {
        offend(RULES.messageIdReuse, m, `MessageId ${id} already used by message ${earlier.index} (${label(earlier)})`);
        break;
      }
      usedIds.set(id, m);
    }
  }
  return found;
}

/** Every rule the cell's messages break, one entry per rule and connection, in rule order. */
export function checkSpecRules(wire: DecodedWire): SpecViolation[] {
  const byConnection = new Map<number, WireMessage[]>();
  for (const m of wire.messages) {
    const list = byConnection.get(m.connection) ?? [];
    list.push(m);
    byConnection.set(m.connection, list);
  }
  const found = [...byConnection.values()].map(checkConnection);
  const out: SpecViolation[] = [];
  for (const rule of Object.values(RULES)) {
    for (const perConnection of found) {
      const offenders = perConnection.get(rule.id) ?? [];
      const first = offenders[0];
      if (first !== undefined) out.push({ rule, message: first.message.index, detail: `${label(first.message)}: ${first.detail}`, count: offenders.length });
    }
  }
  return out;
}

/** `encrypted-session-id (MS-SMB2 3.1.4.3, 2.2.41): TREE_CONNECT request mid=3: inner SessionId ...` */
export function describeViolation(v: SpecViolation): string {
  const more = v.count > 1 ? ` (and ${v.count - 1} more)` : '';
  return `${v.rule.id} (${v.rule.section}): ${v.detail}${more}`;
}
