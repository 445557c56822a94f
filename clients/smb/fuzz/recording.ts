/**
 * A recorded session: every client frame, in order, with the server frames that answered it.
 * Frames are SMB2 messages (one, or a compound chain) without the 4-byte Direct TCP header.
 * Stored as gzipped JSON in recordings/ (the READ data makes the plain file ~100 KB).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { StepResult } from './scenario.js';

const here = dirname(fileURLToPath(import.meta.url));
/** recordings/ beside the sources, also when running from dist/clients/smb/fuzz. */
export const RECORDINGS_DIR = [join(here, 'recordings'), join(here, '..', '..', '..', '..', 'clients', 'smb', 'fuzz', 'recordings')]
  .find((dir) => existsSync(dir)) ?? join(here, 'recordings');

export const RECORDING_FORMAT = 'smb-interop-fuzz-recording/2';
export const HEADER_BYTES = 64;

export interface Exchange {
  /** The client's frame. */
  request: Buffer;
  /** The server's frames that answer it (interim and final responses), in the order they came. */
  responses: Buffer[];
}

export interface Recording {
  format: typeof RECORDING_FORMAT;
  /** The target profile the session ran against (servers/catalog). */
  profile: string;
  serverVersion: string;
  /** Seed of the client's randomness (context.ts): replays give the client the same bytes. */
  randomSeed: string;
  username: string;
  password: string;
  /** The client's `guest` option: a guest session is accepted only when asked for. */
  guest: boolean;
  /** The share the scenario works in. */
  share: string;
  /** What the scenario returned against the real server: the replay must return the same. */
  results: StepResult[];
  exchanges: Exchange[];
}

interface StoredRecording extends Omit<Recording, 'exchanges'> {
  exchanges: Array<{ request: string; responses: string[] }>;
}

export function saveRecording(path: string, recording: Recording): void {
  const stored: StoredRecording = {
    ...recording,
    exchanges: recording.exchanges.map((e) => ({ request: e.request.toString('base64'), responses: e.responses.map((r) => r.toString('base64')) })),
  };
  writeFileSync(path, gzipSync(`${JSON.stringify(stored, null, 1)}\n`, { level: 9 }));
}

export function loadRecording(path: string): Recording {
  const stored = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as StoredRecording;
  if (stored.format !== RECORDING_FORMAT) throw new Error(`${path}: not a fuzz recording of format ${RECORDING_FORMAT} (format ${String(stored.format)})`);
  return {
    ...stored,
    exchanges: stored.exchanges.map((e) => ({ request: Buffer.from(e.request, 'base64'), responses: e.responses.map((r) => Buffer.from(r, 'base64')) })),
  };
}

/** Calls `onFrame` with each Direct TCP frame's message as the bytes arrive. */
export function frameSplitter(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const length = pending.readUInt32BE(0) & 0xffffff;
      if (pending.length < 4 + length) return;
      onFrame(Buffer.from(pending.subarray(4, 4 + length)));
      pending = pending.subarray(4 + length);
    }
  };
}

/** MS-SMB2 2.2.1: the header fields the fuzz reads and rewrites. */
export const Field = {
  structureSize: 4,
  creditCharge: 6,
  status: 8,
  command: 12,
  credits: 14,
  flags: 16,
  nextCommand: 20,
  messageId: 24,
  asyncId: 32,
  treeId: 36,
  sessionId: 40,
  signature: 48,
} as const;

export const FLAG_SERVER_TO_REDIR = 0x1;
export const FLAG_ASYNC = 0x2;
export const FLAG_SIGNED = 0x8;
export const STATUS_PENDING = 0x103;
export const UNSOLICITED_MESSAGE_ID = 0xffffffffffffffffn;

export const COMMAND_NAMES = [
  'NEGOTIATE', 'SESSION_SETUP', 'LOGOFF', 'TREE_CONNECT', 'TREE_DISCONNECT', 'CREATE', 'CLOSE', 'FLUSH', 'READ',
  'WRITE', 'LOCK', 'IOCTL', 'CANCEL', 'ECHO', 'QUERY_DIRECTORY', 'CHANGE_NOTIFY', 'QUERY_INFO', 'SET_INFO', 'OPLOCK_BREAK',
];

/** Where each message of a frame starts (NextCommand chain, MS-SMB2 3.2.4.1.4); stops at the first bad link. */
export function messageOffsets(frame: Buffer): number[] {
  const offsets: number[] = [];
  let at = 0;
  while (at + HEADER_BYTES <= frame.length && offsets.length < 64) {
    offsets.push(at);
    const next = frame.readUInt32LE(at + Field.nextCommand);
    if (next === 0 || next < HEADER_BYTES || at + next > frame.length) break;
    at += next;
  }
  return offsets;
}

/** The messages of a well-formed frame. */
export function splitMessages(frame: Buffer): Buffer[] {
  const offsets = messageOffsets(frame);
  return offsets.map((start, i) => frame.subarray(start, i + 1 < offsets.length ? offsets[i + 1] : frame.length));
}

export function messageIdOf(message: Buffer): bigint {
  return message.readBigUInt64LE(Field.messageId);
}

export function commandOf(message: Buffer): number {
  return message.readUInt16LE(Field.command);
}

export function describeMessage(message: Buffer): string {
  const command = commandOf(message);
  return `${COMMAND_NAMES[command] ?? `0x${command.toString(16)}`}#${messageIdOf(message)}`;
}

export function describeFrame(frame: Buffer): string {
  return splitMessages(frame).map(describeMessage).join('+');
}

/**
 * The part of a client frame a replaying server matches on: every byte except the credits the
 * client asks for (they follow its credit balance), the signature, and the NEGOTIATE and
 * SESSION_SETUP bodies (GUIDs and authentication tokens). A client that strays from the
 * recorded session (another READ offset, a FileId it should not know) no longer matches.
 */
export function requestFingerprint(frame: Buffer): string {
  const hash = Buffer.from(frame);
  for (const start of messageOffsets(hash)) {
    hash.fill(0, start + Field.credits, start + Field.credits + 2);
    hash.fill(0, start + Field.signature, start + HEADER_BYTES);
    const command = hash.readUInt16LE(start + Field.command);
    if (command === 0 || command === 1) {
      const next = hash.readUInt32LE(start + Field.nextCommand);
      hash.fill(0, start + HEADER_BYTES, next === 0 ? hash.length : start + next);
    }
  }
  return hash.toString('base64');
}
