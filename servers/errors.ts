/**
 * The errors every provider throws when a target cannot be had: programs branch on the class or
 * its `code`; the message names the target and the reason (matrix/cells.ts reads "cannot start").
 */

/** Start failure that names the target, the reason and the server's own words. */
export class TargetStartError extends Error {
  readonly code = 'SMB_INTEROP_TARGET_START';
  constructor(readonly target: string, reason: string, readonly logTail = '') {
    super(`cannot start ${target}: ${reason}${logTail ? `\n--- smbd log (last lines) ---\n${logTail}` : ''}`);
    this.name = 'TargetStartError';
  }
}

/** A start that found its port held by another server (samba/listener.ts): it is retried on another port. */
export class PortTakenError extends TargetStartError {
  constructor(target: string, host: string, port: number, logTail = '') {
    super(target, `${host}:${port} answers, but not from this smbd (another server took the port first)`, logTail);
  }
}

/** The target cannot be used because its configuration is incomplete (a variable is not set). */
export class TargetNotConfiguredError extends Error {
  readonly code = 'SMB_INTEROP_TARGET_NOT_CONFIGURED';
  constructor(readonly target: string, readonly reason: string) {
    super(`${target} is not configured: ${reason}`);
    this.name = 'TargetNotConfiguredError';
  }
}

/** Any failure while starting, as a TargetStartError naming the target (those pass through unchanged). */
export function asTargetStartError(target: string, error: unknown, logTail = ''): TargetStartError {
  if (error instanceof TargetStartError) return error;
  return new TargetStartError(target, error instanceof Error ? error.message : String(error), logTail);
}
