/** What a request to the connection says, what it gets back, and how the connection tracks it. */
import type { Cipher, NonceGenerator, SigningAlgorithm } from './crypto/index.js';
import type { Signer } from './outgoing.js';
import type { Command, Header } from './wire/index.js';

/** What the connection needs to sign, verify, encrypt and decrypt for one session. */
export interface SessionSecurity {
  readonly sessionId: bigint;
  readonly signingAlgorithm: SigningAlgorithm;
  readonly signingKey: Buffer | undefined;
  /** Session.SigningRequired: sign every request, insist on signed responses. */
  readonly signingRequired: boolean;
  /** Session.EncryptData: encrypt every request. */
  readonly encryptData: boolean;
  readonly cipher: Cipher | undefined;
  readonly encryptionKey: Buffer | undefined;
  readonly decryptionKey: Buffer | undefined;
  readonly nonces: NonceGenerator | undefined;
}

export interface RequestOptions {
  command: Command;
  /** The command's body (after the 64-byte header), whole or in parts (e.g. WRITE header + data). */
  body: Buffer | readonly Buffer[];
  sessionId?: bigint;
  treeId?: number;
  /** Bytes the request carries or asks for (READ/WRITE length): sets CreditCharge (MS-SMB2 3.1.5.2). */
  payloadSize?: number;
  /** Encrypt even when the session does not (a tree with SMB2_SHAREFLAG_ENCRYPT_DATA). */
  encrypt?: boolean;
  /** Sign even when the session does not require it (TREE_CONNECT on 3.1.1, VALIDATE_NEGOTIATE_INFO). */
  sign?: boolean;
  timeoutMs?: number;
  /**
   * After a STATUS_PENDING interim response: undefined keeps the original deadline, a number
   * restarts the clock with that many ms, null waits as long as the server takes (CHANGE_NOTIFY, LOCK).
   */
  pendingTimeoutMs?: number | null;
  /** Error statuses that are answers, not failures (e.g. STATUS_MORE_PROCESSING_REQUIRED). */
  okStatuses?: readonly number[];
  /** Share or file path named in error messages. */
  path?: string;
  /** Return the clear request message (for the 3.1.1 preauth hash). */
  keepRequest?: boolean;
  /**
   * Aborting drops the request if it is still queued, or sends CANCEL for it (MS-SMB2
   * 3.2.4.24); the request then ends with the server's answer, usually STATUS_CANCELLED.
   */
  signal?: AbortSignal;
  /**
   * READ: where the data should go, or a function giving memory for the data when a response
   * can be received in place (called with its DataLength, at most payloadSize; not for an
   * encrypted response, whose decrypted message is memory of its own already). A large
   * response may then be received straight into it, and `placed` says so; its contents count
   * only once the request resolved.
   */
  readInto?: Buffer | ((length: number) => Buffer);
}

export interface SmbResponse {
  header: Header;
  /** The clear SMB2 message of this response (one element of a compound). */
  message: Buffer;
  status: number;
  encrypted: boolean;
  /** The response carried SMB2_FLAGS_SIGNED and the connection verified it with a registered key. */
  signatureVerified: boolean;
  /** The clear request message, when keepRequest was set. */
  request: Buffer | undefined;
  /** READ with readInto: the data, received in place (a view of readInto); `message` then ends before the data. */
  placed?: Buffer | undefined;
}

/** Requests sent together (a compound chain, or one request alone). */
export interface Batch {
  items: Outstanding[];
  related: boolean;
  credits: number;
}

/** A request from enqueue to its final response, as the connection tracks it. */
export interface Outstanding {
  options: RequestOptions;
  batch: Batch;
  command: string;
  credits: number;
  charge: number;
  resolve(response: SmbResponse): void;
  reject(error: Error): void;
  /** When the request times out (performance.now() ms), or undefined while it may wait as long as the server takes. */
  deadline: number | undefined;
  /** The wait that `deadline` ends, for the error message. */
  waitMs: number;
  messageId: bigint | undefined;
  holdsCredits: boolean;
  encrypted: boolean;
  signed: boolean;
  asyncId: bigint | undefined;
  request: Buffer | undefined;
  cancelled: boolean;
}

export function formatSessionId(sessionId: bigint | undefined): string {
  return `0x${(sessionId ?? 0n).toString(16).padStart(16, '0')}`;
}

export function signerOf(security: SessionSecurity | undefined): Signer | undefined {
  return security?.signingKey === undefined ? undefined : { algorithm: security.signingAlgorithm, key: security.signingKey };
}
