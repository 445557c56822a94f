/**
 * A cell's own explanation, from what it recorded: the spec rules its decoded wire breaks, the
 * server's reason for the status the cell failed with, and how the server ended connections.
 * Pure: the decoded wire, the cell's server log and its error message in; lines out, most
 * telling first (a violated rule is a cause; the server's reason is what the cause led to).
 */
import { formatSessionId } from '../capture/keys.js';
import type { DecodedWire } from '../capture/wire-decode.js';
import { serverEndedConnections, serverFailures, serverReasonFor } from './server-reason.js';
import { checkSpecRules, describeViolation } from './spec-rules.js';
import type { SpecViolation } from './spec-rules.js';

export interface CellEvidence {
  /** The cell's capture decoded with the server's keys; undefined when it could not be read. */
  wire: DecodedWire | undefined;
  /** The server's log for the cell's time window (keys already kept out of it). */
  serverLog: string;
  /** The first error's message, when the cell failed. */
  error: string | undefined;
}

const STATUS_IN_MESSAGE = /\b(STATUS_[A-Z0-9_]+)\b/;
/** Statuses that are part of normal conversations, never a failure's reason. */
const ROUTINE = new Set(['STATUS_MORE_PROCESSING_REQUIRED', 'STATUS_PENDING', 'STATUS_NO_MORE_FILES', 'STATUS_NOT_FOUND', 'STATUS_END_OF_FILE']);

const BAD_SIGNATURE = /bad signature on (?:the final )?([A-Z_]+) response/;
const DECRYPTION_FAILED = /NT_STATUS_DECRYPTION_FAILED/;

/**
 * A client that rejects a response's signature, read against the harness's own check of that
 * response with the server's signing key: a response that verifies means the client derived
 * another key; one that does not means the server (or the path) signed wrongly.
 */
function signatureFinding(wire: DecodedWire | undefined, error: string | undefined): string | undefined {
  const command = error === undefined ? undefined : BAD_SIGNATURE.exec(error)?.[1];
  if (command === undefined || wire === undefined) return undefined;
  const response = wire.messages.filter((m) => m.direction === 'receive' && m.header.command === command && m.header.signed).at(-1);
  if (response === undefined) return undefined;
  const what = `the server's ${command} response mid=${response.header.messageId}`;
  const session = formatSessionId(response.header.sessionId);
  if (response.signature === 'valid') {
    return `signing: ${what} verifies with session ${session}'s signing key as the server derived it, but the client rejected it: the client derived another signing key (MS-SMB2 3.2.5.3.1: the KDF's label and context, on 3.1.1 the preauth integrity hash of the NEGOTIATE and SESSION_SETUP messages)`;
  }
  if (response.signature === 'invalid') return `signing: ${what} does not verify with session ${session}'s signing key as the server logged it either (MS-SMB2 3.1.4.1)`;
  return undefined;
}

export function specViolations(evidence: Pick<CellEvidence, 'wire'>): SpecViolation[] {
  return evidence.wire === undefined ? [] : checkSpecRules(evidence.wire);
}

/** The explanation lines of a failed cell, e.g. `server: reject session with dialect[0x0302] as encryption is required (smb2_sesssetup.c:147)`. */
export function explainCell(evidence: CellEvidence, violations: readonly SpecViolation[] = specViolations(evidence)): string[] {
  const lines = violations.map((v) => `spec: ${describeViolation(v)}`);
  const signing = signatureFinding(evidence.wire, evidence.error);
  if (signing !== undefined) lines.push(signing);
  const failures = serverFailures(evidence.serverLog);
  const status = evidence.error === undefined ? undefined : STATUS_IN_MESSAGE.exec(evidence.error)?.[1];
  const reason = status === undefined ? undefined : serverReasonFor(failures, status);
  if (reason !== undefined) {
    lines.push(`server: ${reason}`);
  } else {
    // The error names no status the server logged: its last failure that is not routine may still be the cause.
    const last = failures.filter((f) => !ROUTINE.has(f.status)).at(-1);
    if (last !== undefined) lines.push(`server: ${serverReasonFor([last], last.status)}`);
  }
  for (const ended of serverEndedConnections(evidence.serverLog)) lines.push(`server ended a connection: ${ended}`);
  const serverCouldNotDecrypt = DECRYPTION_FAILED.test(evidence.serverLog);
  for (const problem of evidence.wire?.problems ?? []) {
    // Which message it was can only be told by its place: the one after the last the harness could read.
    const before = evidence.wire?.messages.filter((m) => m.connection === problem.connection && m.frame < problem.frame).at(-1);
    const place = before === undefined ? '' : ` (the message after ${before.header.command} ${before.direction === 'send' ? 'request' : 'response'} mid=${before.header.messageId})`;
    const server = serverCouldNotDecrypt && problem.direction === 'send' && problem.problem.startsWith('does not decrypt') ? '; the server could not decrypt it either (NT_STATUS_DECRYPTION_FAILED)' : '';
    lines.push(`wire: connection ${problem.connection}, ${problem.direction === 'send' ? 'client' : 'server'} frame ${problem.frame + 1}${place}: ${problem.problem}${server}`);
  }
  return lines;
}
