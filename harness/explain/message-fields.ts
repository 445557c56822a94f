/**
 * The fields of a decoded SMB2 message that say what a client asked for or what a server decided,
 * rendered for people and ranked by whether they can differ between two client implementations
 * that both work. Values that legitimately differ from one run to the next (MessageId, SessionId,
 * TreeId, FileId, GUIDs, nonces, timestamps, security blobs, credits, file names) are never
 * fields here, so two runs of one conversation have the same fields.
 */
import {
  Capability, CreateDisposition, NtStatus,
  decodeCreateRequest, decodeNegotiateRequest, decodeNegotiateResponse, decodeSessionSetupRequest, decodeSessionSetupResponse,
  decodeTreeConnectRequest, decodeTreeConnectResponse, findContext,
} from '../../clients/smb/wire/index.js';
import type { NegotiateContext } from '../../clients/smb/wire/index.js';
import type { WireMessage } from '../capture/wire-decode.js';
import type { MessageField, Negotiated, Rank } from './wire-summary.js';

export type { MessageField, Negotiated, Rank };

const RELATED_FLAG = 0x00000004;
const SIGNING_REQUIRED = 0x0002;
const ALL_ONES = 0xffffffffffffffffn;

type Names = readonly (readonly [number, string])[];

const CAPABILITIES: Names = [
  [Capability.Dfs, 'DFS'], [Capability.Leasing, 'LEASING'], [Capability.LargeMtu, 'LARGE_MTU'], [Capability.MultiChannel, 'MULTI_CHANNEL'],
  [Capability.PersistentHandles, 'PERSISTENT_HANDLES'], [Capability.DirectoryLeasing, 'DIRECTORY_LEASING'], [Capability.Encryption, 'ENCRYPTION'],
  [Capability.Notifications, 'NOTIFICATIONS'],
];
const SECURITY_MODE: Names = [[0x1, 'SIGNING_ENABLED'], [0x2, 'SIGNING_REQUIRED']];
const SESSION_SETUP_FLAGS: Names = [[0x1, 'BINDING']];
const SESSION_FLAGS: Names = [[0x1, 'IS_GUEST'], [0x2, 'IS_NULL'], [0x4, 'ENCRYPT_DATA']];
const TREE_CONNECT_FLAGS: Names = [[0x1, 'CLUSTER_RECONNECT'], [0x2, 'REDIRECT_TO_OWNER'], [0x4, 'EXTENSION_PRESENT']];
const SHARE_FLAGS: Names = [
  [0x1, 'DFS'], [0x2, 'DFS_ROOT'], [0x100, 'RESTRICT_EXCLUSIVE_OPENS'], [0x200, 'FORCE_SHARED_DELETE'], [0x400, 'ALLOW_NAMESPACE_CACHING'],
  [0x800, 'ACCESS_BASED_DIRECTORY_ENUM'], [0x1000, 'FORCE_LEVELII_OPLOCK'], [0x2000, 'ENABLE_HASH_V1'], [0x4000, 'ENABLE_HASH_V2'],
  [0x8000, 'ENCRYPT_DATA'], [0x40000, 'IDENTITY_REMOTING'], [0x100000, 'COMPRESS_DATA'], [0x200000, 'ISOLATED_TRANSPORT'],
];
const CACHING = ['MANUAL_CACHING', 'AUTO_CACHING', 'VDO_CACHING', 'NO_CACHING'];
const SHARE_CAPABILITIES: Names = [[0x8, 'DFS'], [0x10, 'CONTINUOUS_AVAILABILITY'], [0x20, 'SCALEOUT'], [0x40, 'CLUSTER'], [0x80, 'ASYMMETRIC'], [0x100, 'REDIRECT_TO_OWNER']];
const SHARE_ACCESS: Names = [[0x1, 'READ'], [0x2, 'WRITE'], [0x4, 'DELETE']];
const DIALECTS: Names = [[0x0202, '2.0.2'], [0x0210, '2.1'], [0x0300, '3.0'], [0x0302, '3.0.2'], [0x0311, '3.1.1']];
const CIPHERS: Names = [[0, 'none'], [1, 'AES-128-CCM'], [2, 'AES-128-GCM'], [3, 'AES-256-CCM'], [4, 'AES-256-GCM']];
const SIGNING: Names = [[0, 'HMAC-SHA256'], [1, 'AES-CMAC'], [2, 'AES-GMAC']];
const HASHES: Names = [[1, 'SHA-512']];
const COMPRESSION: Names = [[0, 'NONE'], [1, 'LZNT1'], [2, 'LZ77'], [3, 'LZ77+Huffman'], [4, 'Pattern_V1'], [5, 'LZ4']];
const SHARE_TYPES: Names = [[1, 'DISK'], [2, 'PIPE'], [3, 'PRINT']];
const DISPOSITIONS: Names = [
  [CreateDisposition.Supersede, 'SUPERSEDE'], [CreateDisposition.Open, 'OPEN'], [CreateDisposition.Create, 'CREATE'],
  [CreateDisposition.OpenIf, 'OPEN_IF'], [CreateDisposition.Overwrite, 'OVERWRITE'], [CreateDisposition.OverwriteIf, 'OVERWRITE_IF'],
];

const hex = (value: number, digits: number): string => `0x${value.toString(16).padStart(digits, '0')}`;

/** `DFS|LEASING|0x00000100`: named bits, then any the spec does not name; `none` for 0. */
export function flagNames(value: number, names: Names): string {
  const parts: string[] = [];
  let rest = value >>> 0;
  for (const [bit, name] of names) {
    if ((rest & bit) !== 0) {
      parts.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest !== 0) parts.push(hex(rest, 8));
  return parts.length === 0 ? 'none' : parts.join('|');
}

function nameOf(value: number, names: Names): string {
  return names.find(([v]) => v === value)?.[1] ?? hex(value, 4);
}

const listOf = (values: readonly number[], names: Names): string => (values.length === 0 ? 'none' : values.map((v) => nameOf(v, names)).join('|'));

/** The server's choices from a connection's NEGOTIATE response; empty when it failed or is missing. */
export function negotiatedBy(response: WireMessage | undefined): Negotiated {
  if (response === undefined || response.header.status !== NtStatus.Success) return {};
  const decoded = attempt(() => decodeNegotiateResponse(response.bytes));
  if (decoded instanceof Error) return {};
  const contexts = decoded.negotiateContexts;
  return {
    dialect: decoded.dialectRevision,
    signingRequired: (decoded.securityMode & SIGNING_REQUIRED) !== 0,
    cipher: findContext(contexts, 'encryption')?.ciphers[0],
    signing: findContext(contexts, 'signing')?.algorithms[0],
    hash: findContext(contexts, 'preauthIntegrity')?.hashAlgorithms[0],
  };
}

function attempt<T>(decode: () => T): T | Error {
  try {
    return decode();
  } catch (error) {
    return error as Error;
  }
}

function field(name: string, value: string, section: string, rank: Rank, key?: string): MessageField {
  return key === undefined ? { name, value, section, rank } : { name, value, section, rank, key };
}

function requestContextFields(contexts: readonly NegotiateContext[]): MessageField[] {
  const out: MessageField[] = [];
  for (const c of contexts) {
    switch (c.kind) {
      case 'preauthIntegrity': out.push(field('HashAlgorithms', listOf(c.hashAlgorithms, HASHES), 'MS-SMB2 2.2.3.1.1', { offer: 'hash', values: c.hashAlgorithms })); break;
      case 'encryption': out.push(field('Ciphers', listOf(c.ciphers, CIPHERS), 'MS-SMB2 2.2.3.1.2', { offer: 'cipher', values: c.ciphers })); break;
      case 'compression': out.push(field('CompressionAlgorithms', listOf(c.algorithms, COMPRESSION), 'MS-SMB2 2.2.3.1.3', 'incidental')); break;
      // The NetName is the server's name as this client spelled it (address or host name): not a choice.
      case 'netname': break;
      case 'transport': out.push(field('TransportCapabilities', hex(c.flags, 8), 'MS-SMB2 2.2.3.1.5', 'incidental')); break;
      case 'rdmaTransform': out.push(field('RDMATransformIds', c.transformIds.map((t) => hex(t, 4)).join('|'), 'MS-SMB2 2.2.3.1.6', 'incidental')); break;
      case 'signing': out.push(field('SigningAlgorithms', listOf(c.algorithms, SIGNING), 'MS-SMB2 2.2.3.1.7', { offer: 'signing', values: c.algorithms })); break;
      case 'unknown': out.push(field(`negotiate context ${hex(c.type, 4)}`, c.data.toString('hex'), 'MS-SMB2 2.2.3.1', 'incidental')); break;
    }
  }
  return out;
}

function bodyFields(m: WireMessage): MessageField[] {
  const request = m.direction === 'send';
  switch (`${m.header.command} ${request ? 'request' : 'response'}`) {
    case 'NEGOTIATE request': {
      const r = decodeNegotiateRequest(m.bytes);
      return [
        field('Dialects', listOf(r.dialects, DIALECTS), 'MS-SMB2 2.2.3', { offer: 'dialect', values: r.dialects }),
        field('SecurityMode', flagNames(r.securityMode, SECURITY_MODE), 'MS-SMB2 2.2.3', 'incidental'),
        field('Capabilities', flagNames(r.capabilities, CAPABILITIES), 'MS-SMB2 2.2.3', { encryptionBit: r.capabilities }),
        ...requestContextFields(r.negotiateContexts ?? []),
      ];
    }
    case 'NEGOTIATE response': {
      const r = decodeNegotiateResponse(m.bytes);
      const contexts = r.negotiateContexts;
      const chosen = (values: readonly number[] | undefined, names: Names) => (values === undefined ? 'absent' : listOf(values, names));
      return [
        field('DialectRevision', nameOf(r.dialectRevision, DIALECTS), 'MS-SMB2 2.2.4', 'decisive'),
        field('SecurityMode', flagNames(r.securityMode, SECURITY_MODE), 'MS-SMB2 2.2.4', 'decisive'),
        field('Capabilities', flagNames(r.capabilities, CAPABILITIES), 'MS-SMB2 2.2.4', { encryptionBit: r.capabilities }),
        field('HashAlgorithm', chosen(findContext(contexts, 'preauthIntegrity')?.hashAlgorithms, HASHES), 'MS-SMB2 2.2.4, 2.2.3.1.1', 'decisive'),
        field('Cipher', chosen(findContext(contexts, 'encryption')?.ciphers, CIPHERS), 'MS-SMB2 2.2.4, 2.2.3.1.2', 'decisive'),
        field('SigningAlgorithm', chosen(findContext(contexts, 'signing')?.algorithms, SIGNING), 'MS-SMB2 2.2.4, 2.2.3.1.7', 'decisive'),
      ];
    }
    case 'SESSION_SETUP request': {
      const r = decodeSessionSetupRequest(m.bytes);
      return [
        field('Flags', flagNames(r.flags, SESSION_SETUP_FLAGS), 'MS-SMB2 2.2.5', 'decisive'),
        field('SecurityMode', flagNames(r.securityMode, SECURITY_MODE), 'MS-SMB2 2.2.5', 'incidental'),
        field('Capabilities', flagNames(r.capabilities, CAPABILITIES), 'MS-SMB2 2.2.5', 'incidental'),
      ];
    }
    case 'SESSION_SETUP response':
      return [field('SessionFlags', flagNames(decodeSessionSetupResponse(m.bytes).sessionFlags, SESSION_FLAGS), 'MS-SMB2 2.2.6', 'decisive')];
    case 'TREE_CONNECT request': {
      const r = decodeTreeConnectRequest(m.bytes);
      // Only the share: the server part is the address or name each client was given.
      const share = r.path.split('\\').pop() ?? '';
      return [
        field('Share', share, 'MS-SMB2 2.2.9', 'decisive', share.toLowerCase()),
        field('Flags', flagNames(r.flags ?? 0, TREE_CONNECT_FLAGS), 'MS-SMB2 2.2.9', 'incidental'),
      ];
    }
    case 'TREE_CONNECT response': {
      const r = decodeTreeConnectResponse(m.bytes);
      const caching = CACHING[(r.shareFlags >>> 4) & 0x3]!;
      return [
        field('ShareType', nameOf(r.shareType, SHARE_TYPES), 'MS-SMB2 2.2.10', 'decisive'),
        field('ShareFlags', `${caching}|${flagNames(r.shareFlags & ~0x30, SHARE_FLAGS)}`, 'MS-SMB2 2.2.10', 'decisive'),
        field('Capabilities', flagNames(r.capabilities, SHARE_CAPABILITIES), 'MS-SMB2 2.2.10', 'decisive'),
      ];
    }
    case 'CREATE request': {
      const r = decodeCreateRequest(m.bytes);
      return [
        field('DesiredAccess', hex(r.desiredAccess, 8), 'MS-SMB2 2.2.13, 2.2.13.1', 'incidental'),
        field('ShareAccess', flagNames(r.shareAccess, SHARE_ACCESS), 'MS-SMB2 2.2.13', 'incidental'),
        field('CreateDisposition', nameOf(r.createDisposition, DISPOSITIONS), 'MS-SMB2 2.2.13', 'incidental'),
        field('CreateOptions', hex(r.createOptions, 8), 'MS-SMB2 2.2.13', 'incidental'),
        field('CreateContexts', (r.contexts ?? []).map((c) => c.name).sort().join('|') || 'none', 'MS-SMB2 2.2.13.2', 'incidental'),
      ];
    }
    default:
      return [];
  }
}

/** Whether the response carries its command's body, not an error response (MS-SMB2 2.2.2). */
function hasBody(m: WireMessage): boolean {
  if (m.direction === 'send' || m.header.status === NtStatus.Success) return true;
  return m.header.command === 'SESSION_SETUP' && m.header.status === NtStatus.MoreProcessingRequired;
}

function signatureField(m: WireMessage): MessageField {
  const values = { unsigned: 'unsigned', valid: 'signed, valid', invalid: 'signed, does not verify', 'no-key': 'signed, not checked (no key)' } as const;
  // Without a key a signed message is only known to be signed; only a failed check is a different outcome.
  const key = m.signature === 'invalid' ? 'invalid' : m.signature === 'unsigned' ? 'unsigned' : 'signed';
  return field('Signature', values[m.signature], 'MS-SMB2 2.2.1.2, 3.1.5.1', 'signature', key);
}

/** The significant fields of a message, header first, in a fixed order. */
export function messageFields(m: WireMessage): MessageField[] {
  const out: MessageField[] = [];
  if (m.direction === 'receive') out.push(field('Status', m.header.statusName, 'MS-SMB2 2.2.1.2', 'decisive'));
  out.push(field('Encrypted', m.encrypted ? 'yes' : 'no', 'MS-SMB2 2.2.41, 3.1.4.3', 'decisive'));
  if (m.transform !== undefined) {
    const related = (m.header.flags & RELATED_FLAG) !== 0 && m.header.sessionId === ALL_ONES;
    const equal = related || m.header.sessionId === m.transform.sessionId;
    out.push(field('inner SessionId equals the transform\'s', String(equal), 'MS-SMB2 2.2.41, 3.1.4.3', 'decisive'));
  }
  out.push(signatureField(m));
  if (!hasBody(m)) return out;
  const body = attempt(() => bodyFields(m));
  if (body instanceof Error) return [...out, field('Body', `undecodable: ${body.message}`, 'MS-SMB2 2.2', 'decisive')];
  if (body.length > 0) out.push(field('Body', 'decodes', 'MS-SMB2 2.2', 'decisive'), ...body);
  return out;
}
