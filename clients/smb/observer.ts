/**
 * A hook that sees every SMB2 message in the clear and the keys of each session, for traces
 * (decrypted transcripts, Wireshark key files). Events are built only when an observer is
 * attached; without one the connection never calls into this module.
 */
import { SMB2_HEADER_SIZE, commandName, ntStatusName } from './wire/index.js';

export interface SmbMessageEvent {
  direction: 'send' | 'receive';
  /** Milliseconds since the Unix epoch, with sub-millisecond precision. */
  time: number;
  /** e.g. `SESSION_SETUP` */
  command: string;
  messageId: bigint;
  /** NTSTATUS of a response; for requests the raw Status field (ChannelSequence, normally 0). */
  status: number;
  statusName: string;
  creditCharge: number;
  /** CreditRequest on a request, CreditResponse on a response. */
  credits: number;
  flags: number;
  sessionId: bigint;
  /** 0 in the async header form. */
  treeId: number;
  /** Whether the message travelled inside a TRANSFORM_HEADER. */
  encrypted: boolean;
  /** Whether SMB2_FLAGS_SIGNED is set. */
  signed: boolean;
  /** The clear SMB2 message: before encryption on send, after decryption on receive. */
  bytes: Buffer;
}

export interface SmbSessionKeys {
  sessionId: bigint;
  /** The authentication's session key (NTLM ExportedSessionKey). */
  sessionKey: Buffer;
  signingKey: Buffer;
  /** Client-to-server cipher key (the server's "ServerIn" key); null before SMB 3.0. */
  encryptionKey: Buffer | null;
  /** Server-to-client cipher key (the server's "ServerOut" key); null before SMB 3.0. */
  decryptionKey: Buffer | null;
  /** e.g. `AES-128-GCM`, or null when the connection cannot encrypt. */
  cipher: string | null;
  /** e.g. `3.1.1` */
  dialect: string;
}

export interface SmbObserver {
  onMessage(event: SmbMessageEvent): void;
  /** Once per established (non-guest, non-anonymous) session. */
  onSessionKeys?(keys: SmbSessionKeys): void;
}

const SIGNED_FLAG = 0x00000008;
const ASYNC_FLAG = 0x00000002;

/** Reads the header fields straight from the message bytes (no full decode, no copy). */
export function messageEvent(direction: 'send' | 'receive', bytes: Buffer, encrypted: boolean): SmbMessageEvent {
  const short = bytes.length < SMB2_HEADER_SIZE;
  const command = short ? 0xffff : bytes.readUInt16LE(12);
  const flags = short ? 0 : bytes.readUInt32LE(16);
  const status = short ? 0 : bytes.readUInt32LE(8);
  return {
    direction,
    time: performance.timeOrigin + performance.now(),
    command: commandName(command),
    messageId: short ? 0n : bytes.readBigUInt64LE(24),
    status,
    statusName: ntStatusName(status),
    creditCharge: short ? 0 : bytes.readUInt16LE(6),
    credits: short ? 0 : bytes.readUInt16LE(14),
    flags,
    sessionId: short ? 0n : bytes.readBigUInt64LE(40),
    treeId: short || (flags & ASYNC_FLAG) !== 0 ? 0 : bytes.readUInt32LE(36),
    encrypted,
    signed: (flags & SIGNED_FLAG) !== 0,
    bytes,
  };
}

/** Calls the observer; an observer that throws must not break the connection it watches. */
export function notify(observer: SmbObserver, event: SmbMessageEvent): void {
  try {
    observer.onMessage(event);
  } catch (error) {
    process.emitWarning(`SMB observer onMessage threw: ${(error as Error).message}`);
  }
}

export function notifySessionKeys(observer: SmbObserver, keys: SmbSessionKeys): void {
  try {
    observer.onSessionKeys?.(keys);
  } catch (error) {
    process.emitWarning(`SMB observer onSessionKeys threw: ${(error as Error).message}`);
  }
}
