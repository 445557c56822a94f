/**
 * The client's error classes. Programs branch on `code` (stable) or `instanceof`;
 * people read `message`, which always names the NTSTATUS (when there is one) and the command.
 */

export type SmbErrorCode =
  | 'SMB_STATUS'
  | 'SMB_PROTOCOL'
  | 'SMB_AUTHENTICATION'
  | 'SMB_TRANSPORT'
  | 'SMB_TIMEOUT'
  | 'SMB_SECURITY'
  | 'SMB_NEGOTIATION'
  | 'SMB_ARGUMENT';

export interface SmbErrorDetails {
  /** NTSTATUS value as an unsigned 32-bit number, when the server sent one. */
  status?: number;
  /** Symbolic name of `status`, e.g. STATUS_ACCESS_DENIED. */
  statusName?: string;
  /** SMB2 command name, e.g. TREE_CONNECT. */
  command?: string;
  /** Path or share the request was about, when there is one. */
  path?: string;
  cause?: unknown;
}

export function formatStatus(status: number, statusName: string): string {
  return `${statusName} (0x${(status >>> 0).toString(16).toUpperCase().padStart(8, '0')})`;
}

export class SmbError extends Error {
  readonly code: SmbErrorCode = 'SMB_STATUS';
  readonly status: number | undefined;
  readonly statusName: string | undefined;
  readonly command: string | undefined;
  readonly path: string | undefined;

  constructor(message: string, details: SmbErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SmbError';
    this.status = details.status;
    this.statusName = details.statusName;
    this.command = details.command;
    this.path = details.path;
  }

  /** `STATUS_ACCESS_DENIED (0xC0000022) on TREE_CONNECT \\host\share` */
  static fromStatus(status: number, statusName: string, command: string, path?: string): SmbError {
    const where = path ? ` ${path}` : '';
    const details: SmbErrorDetails = { status, statusName, command };
    if (path !== undefined) details.path = path;
    return new SmbError(`${formatStatus(status, statusName)} on ${command}${where}`, details);
  }
}

/** Malformed or inconsistent bytes from the peer (or a bad argument to an encoder). */
export class ProtocolError extends SmbError {
  override readonly code = 'SMB_PROTOCOL';
  /** The field (or structure) that was wrong, e.g. `NEGOTIATE response.SecurityBufferOffset`. */
  readonly field: string | undefined;
  constructor(message: string, details: SmbErrorDetails & { field?: string } = {}) {
    super(message, details);
    this.name = 'ProtocolError';
    this.field = details.field;
  }
}

/** SESSION_SETUP failed: bad credentials, unknown user, account restrictions. */
export class AuthenticationError extends SmbError {
  override readonly code = 'SMB_AUTHENTICATION';
  constructor(message: string, details: SmbErrorDetails = {}) {
    super(message, details);
    this.name = 'AuthenticationError';
  }
}

/** The TCP connection could not be made, was reset or was closed. */
export class TransportError extends SmbError {
  override readonly code = 'SMB_TRANSPORT';
  constructor(message: string, details: SmbErrorDetails = {}) {
    super(message, details);
    this.name = 'TransportError';
  }
}

/** A request or connection attempt got no answer in time. */
export class TimeoutError extends SmbError {
  override readonly code = 'SMB_TIMEOUT';
  constructor(message: string, details: SmbErrorDetails = {}) {
    super(message, details);
    this.name = 'TimeoutError';
  }
}

/** A signature or AEAD tag did not verify, or the security policy cannot be met. */
export class SecurityError extends SmbError {
  override readonly code = 'SMB_SECURITY';
  constructor(message: string, details: SmbErrorDetails = {}) {
    super(message, details);
    this.name = 'SecurityError';
  }
}

/** Client and server share no dialect, cipher or signing algorithm the policy allows. */
export class NegotiationError extends SmbError {
  override readonly code = 'SMB_NEGOTIATION';
  constructor(message: string, details: SmbErrorDetails = {}) {
    super(message, details);
    this.name = 'NegotiationError';
  }
}

/** A bad argument from the caller (a path with `..`, a negative length): nothing was sent. */
export class ArgumentError extends SmbError {
  override readonly code = 'SMB_ARGUMENT';
  constructor(message: string, details: SmbErrorDetails = {}) {
    super(message, details);
    this.name = 'ArgumentError';
  }
}
