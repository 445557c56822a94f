/**
 * The decrypted message transcript of a cell: each SMB2 message's header fields and a short
 * decoded summary (never the payload, so a 64 MiB write costs one line), rendered as JSON and as
 * one text line per message. Made from the cell's capture decoded with the server's keys (any
 * client: transcriptOfWire), or where the server logs no keys by an SmbObserver on this project's
 * client. Session keys are kept for the key file but never appear in the transcript.
 */
import type { SmbMessageEvent, SmbObserver, SmbSessionKeys } from '../../clients/smb/observer.js';
import { cipherNameOf, dialectNameOf, signingAlgorithmNameOf } from '../../clients/smb/negotiation.js';
import {
  Capability, HeaderFlag, NtStatus, SessionFlag, ShareFlag, ShareType,
  decodeCreateRequest, decodeNegotiateRequest, decodeNegotiateResponse, decodeReadRequest, decodeReadResponse,
  decodeSessionSetupResponse, decodeTreeConnectRequest, decodeTreeConnectResponse, decodeWriteRequest,
  decodeWriteResponse, findContext,
} from '../../clients/smb/wire/index.js';
import { formatSessionId } from './keys.js';
import type { CloseEvent } from './proxy.js';
import type { DecodedWire } from './wire-decode.js';
import type { WireFrame } from '../pcap-reader.js';

export interface TranscriptEntry {
  /** 1-based. */
  index: number;
  /** ISO 8601, millisecond precision. */
  time: string;
  /** Milliseconds since the transcript's origin (its first message unless given). */
  relativeMs: number;
  direction: 'send' | 'receive';
  command: string;
  /** A string when beyond 2^53 (the 0xFFFFFFFFFFFFFFFF of an unsolicited OPLOCK_BREAK). */
  messageId: number | string;
  /** Responses only: the NTSTATUS name and value. */
  status?: string;
  statusCode?: string;
  creditCharge: number;
  /** Requests: CreditRequest. */
  creditsRequested?: number;
  /** Responses: CreditResponse. */
  creditsGranted?: number;
  flags: string[];
  /** `0x0000100000000005` */
  sessionId: string;
  treeId: number;
  encrypted: boolean;
  /** Bytes of the clear SMB2 message. */
  length: number;
  /** e.g. `"dir\\a.txt"`, `offset 0 length 65536`; empty when nothing cheap to say. */
  summary: string;
}

export interface TranscriptSession {
  sessionId: string;
  dialect: string;
  cipher: string | null;
}

const FLAG_NAMES: readonly [number, string][] = [
  [HeaderFlag.ServerToRedir, 'RESPONSE'],
  [HeaderFlag.AsyncCommand, 'ASYNC'],
  [HeaderFlag.RelatedOperations, 'RELATED'],
  [HeaderFlag.Signed, 'SIGNED'],
  [HeaderFlag.DfsOperations, 'DFS'],
  [HeaderFlag.ReplayOperation, 'REPLAY'],
];

const CAPABILITY_NAMES: readonly [number, string][] = [
  [Capability.Dfs, 'DFS'],
  [Capability.Leasing, 'LEASING'],
  [Capability.LargeMtu, 'LARGE_MTU'],
  [Capability.MultiChannel, 'MULTI_CHANNEL'],
  [Capability.PersistentHandles, 'PERSISTENT_HANDLES'],
  [Capability.DirectoryLeasing, 'DIRECTORY_LEASING'],
  [Capability.Encryption, 'ENCRYPTION'],
  [Capability.Notifications, 'NOTIFICATIONS'],
];

const SESSION_FLAG_NAMES: readonly [number, string][] = [
  [SessionFlag.IsGuest, 'GUEST'],
  [SessionFlag.IsNull, 'NULL'],
  [SessionFlag.EncryptData, 'ENCRYPT_DATA'],
];

export function bitNames(value: number, table: readonly [number, string][]): string[] {
  const names = table.filter(([bit]) => (value & bit) !== 0).map(([, name]) => name);
  const known = table.reduce((all, [bit]) => all | bit, 0);
  const unknown = (value & ~known) >>> 0;
  if (unknown !== 0) names.push(`0x${unknown.toString(16).padStart(8, '0')}`);
  return names;
}

function listOrNone(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.join('|');
}

function dialects(ids: readonly number[]): string {
  return ids.map((id) => dialectNameOf(id) ?? `0x${id.toString(16).padStart(4, '0')}`).join(',');
}

const SHARE_TYPES: Record<number, string> = { [ShareType.Disk]: 'disk', [ShareType.Pipe]: 'pipe', [ShareType.Print]: 'print' };

function requestSummary(command: string, bytes: Buffer): string {
  switch (command) {
    case 'NEGOTIATE': {
      const request = decodeNegotiateRequest(bytes);
      const ciphers = findContext(request.negotiateContexts ?? [], 'encryption')?.ciphers ?? [];
      const cipherText = ciphers.length > 0 ? ` ciphers ${ciphers.map((c) => cipherNameOf(c) ?? c).join(',')}` : '';
      return `dialects ${dialects(request.dialects)} capabilities ${listOrNone(bitNames(request.capabilities, CAPABILITY_NAMES))}${cipherText}`;
    }
    case 'TREE_CONNECT':
      return JSON.stringify(decodeTreeConnectRequest(bytes).path);
    case 'CREATE':
      return JSON.stringify(decodeCreateRequest(bytes).name);
    case 'READ': {
      const read = decodeReadRequest(bytes);
      return `offset ${read.offset} length ${read.length}`;
    }
    case 'WRITE': {
      const write = decodeWriteRequest(bytes);
      return `offset ${write.offset} length ${write.data.length}`;
    }
    default:
      return '';
  }
}

function responseSummary(command: string, status: number, bytes: Buffer): string {
  const answered = status === NtStatus.Success || (command === 'SESSION_SETUP' && status === NtStatus.MoreProcessingRequired);
  if (!answered) return '';
  switch (command) {
    case 'NEGOTIATE': {
      const response = decodeNegotiateResponse(bytes);
      const cipher = findContext(response.negotiateContexts, 'encryption')?.ciphers[0];
      const signing = findContext(response.negotiateContexts, 'signing')?.algorithms[0];
      return [
        `dialect ${dialects([response.dialectRevision])}`,
        `capabilities ${listOrNone(bitNames(response.capabilities, CAPABILITY_NAMES))}`,
        ...(cipher === undefined ? [] : [`cipher ${cipherNameOf(cipher) ?? cipher}`]),
        ...(signing === undefined ? [] : [`signing ${signingAlgorithmNameOf(signing) ?? signing}`]),
      ].join(' ');
    }
    case 'SESSION_SETUP':
      return `session flags ${listOrNone(bitNames(decodeSessionSetupResponse(bytes).sessionFlags, SESSION_FLAG_NAMES))}`;
    case 'TREE_CONNECT': {
      const tree = decodeTreeConnectResponse(bytes);
      const encrypt = (tree.shareFlags & ShareFlag.EncryptData) !== 0 ? ' ENCRYPT_DATA' : '';
      return `${SHARE_TYPES[tree.shareType] ?? `type ${tree.shareType}`}${encrypt}`;
    }
    case 'READ':
      return `length ${decodeReadResponse(bytes).data.length}`;
    case 'WRITE':
      return `count ${decodeWriteResponse(bytes).count}`;
    default:
      return '';
  }
}

/** A short description of the message body; a body the codec rejects says so instead. */
export function summarize(event: SmbMessageEvent): string {
  try {
    return event.direction === 'send' ? requestSummary(event.command, event.bytes) : responseSummary(event.command, event.status, event.bytes);
  } catch (error) {
    return `(undecodable: ${(error as Error).message})`;
  }
}

function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

export class TranscriptRecorder implements SmbObserver {
  readonly messages: TranscriptEntry[] = [];
  readonly keys: SmbSessionKeys[] = [];
  private origin: number | undefined;

  /** `origin`: milliseconds since the epoch that relative times count from (default: the first message). */
  constructor(origin?: number) {
    this.origin = origin;
  }

  onMessage(event: SmbMessageEvent): void {
    this.origin ??= event.time;
    const isResponse = (event.flags & HeaderFlag.ServerToRedir) !== 0;
    const entry: TranscriptEntry = {
      index: this.messages.length + 1,
      time: new Date(event.time).toISOString(),
      relativeMs: Math.round((event.time - this.origin) * 1000) / 1000,
      direction: event.direction,
      command: event.command,
      messageId: event.messageId <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(event.messageId) : event.messageId.toString(),
      creditCharge: event.creditCharge,
      flags: bitNames(event.flags, FLAG_NAMES),
      sessionId: formatSessionId(event.sessionId),
      treeId: event.treeId,
      encrypted: event.encrypted,
      length: event.bytes.length,
      summary: summarize(event),
    };
    if (isResponse) {
      entry.status = event.statusName;
      entry.statusCode = hex32(event.status);
      entry.creditsGranted = event.credits;
    } else {
      entry.creditsRequested = event.credits;
    }
    this.messages.push(entry);
  }

  onSessionKeys(keys: SmbSessionKeys): void {
    this.keys.push(keys);
  }

  /** Sessions without their keys. */
  get sessions(): TranscriptSession[] {
    return this.keys.map((k) => ({ sessionId: formatSessionId(k.sessionId), dialect: k.dialect, cipher: k.cipher }));
  }

  /** `connections`: the capture proxy's closeEvents, so the transcript also tells how each connection ended. */
  toJson(connections: readonly CloseEvent[] = []): string {
    return `${JSON.stringify({ sessions: this.sessions, messages: this.messages, connections }, null, 2)}\n`;
  }

  /** One line per message, then one per connection end (`# connection 1: server reset the connection ...`). */
  toText(connections: readonly CloseEvent[] = []): string {
    const sessions = this.sessions.map((s) => `${s.sessionId} SMB ${s.dialect} ${s.cipher ?? 'no cipher'}`).join('; ');
    const head = `# ${this.messages.length} SMB2 messages in the clear (before encryption / after decryption); sessions: ${sessions || 'none'}`;
    const ends = connections.map((e) => `# connection ${e.connection}: ${e.description}`);
    return `${[head, ...this.messages.map(formatEntry), ...ends].join('\n')}\n`;
  }
}

/** `  12  +0.841s  send     CREATE  mid=9  sid=0x0000100000000005 tid=1  ENC  credits 1/+31  "dir\\a.txt"` */
export function formatEntry(entry: TranscriptEntry): string {
  const protection = entry.encrypted ? 'ENC' : entry.flags.includes('SIGNED') ? 'SIG' : '-  ';
  const credits = entry.creditsGranted !== undefined ? `+${entry.creditsGranted}` : `+${entry.creditsRequested ?? 0}`;
  const otherFlags = entry.flags.filter((f) => f !== 'RESPONSE' && f !== 'SIGNED');
  const parts = [
    String(entry.index).padStart(4),
    `+${(entry.relativeMs / 1000).toFixed(3)}s`,
    entry.direction.padEnd(7),
    entry.command,
    `mid=${entry.messageId}`,
    `sid=${entry.sessionId} tid=${entry.treeId}`,
    protection,
    `credits ${entry.creditCharge}/${credits}`,
    ...(entry.status === undefined ? [] : [entry.status]),
    ...(otherFlags.length === 0 ? [] : [`flags ${otherFlags.join('|')}`]),
    ...(entry.summary === '' ? [] : [entry.summary]),
  ];
  return parts.join('  ');
}

/**
 * The transcript of a decoded capture: every message the server's keys opened, in capture order,
 * timed by the pcap. `sessions` names each session's dialect and cipher in the transcript's head.
 */
export function transcriptOfWire(wire: DecodedWire, frames: readonly WireFrame[], sessions: readonly SmbSessionKeys[]): TranscriptRecorder {
  const recorder = new TranscriptRecorder();
  for (const message of wire.messages) {
    const time = frames[message.frame]?.time;
    recorder.onMessage(time === undefined ? message.header : { ...message.header, time });
  }
  for (const keys of sessions) recorder.onSessionKeys(keys);
  return recorder;
}
