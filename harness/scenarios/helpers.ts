/** Small helpers shared by the scenario files: deterministic data, hashes, the disk oracle. */
import { createCipheriv, createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from '@playwright/test';
import { Annotation } from '../annotations.js';
import { skipCell } from '../skip.js';
import type { DecodedWire, WireMessage } from '../capture/wire-decode.js';
import { NTLMSSP_SIGNATURE, parseAuthenticateMessage } from '../../clients/smb/auth/ntlm-messages.js';
import type { AuthenticateMessage } from '../../clients/smb/auth/ntlm-messages.js';
import { NtStatus, decodeSessionSetupRequest, decodeSessionSetupResponse } from '../../clients/smb/wire/index.js';
import { PluginFault } from '../../clients/plugins/host.js';
import { ClientUnsupported, unmetNeed } from '../../clients/plugins/needs.js';
import type { ClientNeeds } from '../../clients/plugins/needs.js';
import type { Capabilities } from '../../clients/plugins/protocol.js';

/** mulberry32: a small seeded PRNG, so a failing random scenario replays exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `size` bytes that depend only on `seed` and look random (no repeating block a server or a
 * codec could shortcut): the AES-128-CTR keystream under a key made of the seed. Native, so a
 * 64 MiB file costs 0.1 s (a JS PRNG word per 4 bytes took 0.3-0.6 s).
 */
export function patternBytes(size: number, seed: number): Buffer {
  const key = Buffer.alloc(16);
  key.writeDoubleLE(seed, 0);
  key.write('smb-interop', 8, 'latin1');
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

/** The last bulk pattern made in this worker (sharedPatternBytes). */
let shared: { size: number; seed: number; bytes: Buffer } | undefined;

/**
 * patternBytes for a bulk transfer, made once per worker and handed to every cell that asks for
 * the same size and seed (files/large-64mib runs once per client on each target): read-only.
 * Making 64 MiB cost a cell 0.1 s of CPU and 128 MiB of fresh memory, enough by itself to start
 * one of V8's full collections. Sharing weakens no check: each cell compares the server's disk
 * and what it reads back with the very buffer it handed to its client, as before.
 */
export function sharedPatternBytes(size: number, seed: number): Buffer {
  if (shared?.size !== size || shared.seed !== seed) shared = { size, seed, bytes: patternBytes(size, seed) };
  return shared.bytes;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The server's disk, when the target gives access to it; undefined otherwise. */
export async function onDisk(localDir: string | undefined, path: string): Promise<Buffer | undefined> {
  if (localDir === undefined) return undefined;
  return readFile(join(localDir, path));
}

/** Bytes read at a time by firstDifferenceOnDisk. */
const DISK_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * firstDifference between the file on the server's disk and `expected`, reading the file a piece
 * at a time into one buffer (a 64 MiB file read whole is 64 MiB more of fresh memory per cell);
 * undefined when the target gives no access to its disk.
 */
export async function firstDifferenceOnDisk(localDir: string | undefined, path: string, expected: Buffer): Promise<string | undefined> {
  if (localDir === undefined) return undefined;
  const file = await open(join(localDir, path), 'r');
  try {
    const size = (await file.stat()).size;
    const common = Math.min(size, expected.length);
    const chunk = Buffer.allocUnsafe(Math.min(DISK_CHUNK_BYTES, Math.max(common, 1)));
    for (let offset = 0; offset < common; ) {
      const { bytesRead } = await file.read(chunk, 0, Math.min(chunk.length, common - offset), offset);
      if (bytesRead === 0) break;
      const difference = firstDifference(chunk.subarray(0, bytesRead), expected.subarray(offset, offset + bytesRead), offset);
      if (difference !== NO_DIFFERENCE) return difference;
      offset += bytesRead;
    }
    return size === expected.length ? NO_DIFFERENCE : `${size} bytes, expected ${expected.length}`;
  } finally {
    await file.close();
  }
}

export async function sizeOnDisk(localDir: string, path: string): Promise<number> {
  return (await stat(join(localDir, path))).size;
}

/**
 * The error a promise rejects with; fails when it resolves. A client plug-in's fault or a refused
 * operation is not the failure a scenario expects: it passes through, and the cell says what it was.
 */
export async function failureOf(promise: Promise<unknown>): Promise<Error & { statusName?: string; command?: string }> {
  return promise.then(
    () => {
      throw new Error('expected a failure, but the operation succeeded');
    },
    (error: Error) => {
      if (error instanceof PluginFault || error instanceof ClientUnsupported) throw error;
      return error;
    },
  );
}

/**
 * What the iterations of a loop saw, checked without Playwright: each `expect` is a Playwright
 * step, which inside a loop of thousands costs minutes (harness/expect-in-loops.ts finds them).
 * Record each iteration's check here and assert once after the loop:
 * `expect(checks.failures, 'operations that saw another size').toEqual([])`. The first `keep`
 * failures are kept, each naming its iteration and what it saw, then a count of the rest.
 */
export class LoopChecks {
  private readonly kept: string[] = [];
  private failedCount = 0;
  private checkedCount = 0;

  constructor(private readonly keep = 10) {}

  /** Records a failure at `where` unless `actual` is `expected` (Object.is); returns whether it was. */
  equal<T>(where: string, actual: T, expected: T): boolean {
    return this.that(where, Object.is(actual, expected), () => `saw ${String(actual)}, expected ${String(expected)}`);
  }

  /** Records a failure at `where`, described by `saw()`, unless `ok`; returns `ok`. */
  that(where: string, ok: boolean, saw: () => string): boolean {
    this.checkedCount++;
    if (!ok) {
      this.failedCount++;
      if (this.kept.length < this.keep) this.kept.push(`${where}: ${saw()}`);
    }
    return ok;
  }

  /** Checks made so far (passed or not). */
  get checked(): number {
    return this.checkedCount;
  }

  get failed(): boolean {
    return this.failedCount > 0;
  }

  /** The kept failures, then `... and N more` when there were more; empty when every check passed. */
  get failures(): string[] {
    const more = this.failedCount - this.kept.length;
    return more > 0 ? [...this.kept, `... and ${more} more`] : [...this.kept];
  }
}

/** What firstDifference says of equal buffers: `expect(firstDifference(back, data)).toBe(NO_DIFFERENCE)`. */
export const NO_DIFFERENCE = 'no difference';

/**
 * Where two buffers first differ, for a failure message: `byte 17 is 0x00, expected 0x5a`, the
 * byte counted from `offset` (where the buffers lie in a larger whole).
 * Equal buffers cost one memcmp (hashing both sides of a 64 MiB file cost 0.3 s of CPU).
 */
export function firstDifference(actual: Buffer, expected: Buffer, offset = 0): string {
  if (actual.equals(expected)) return NO_DIFFERENCE;
  const length = Math.min(actual.length, expected.length);
  for (let i = 0; i < length; i++) {
    if (actual[i] !== expected[i]) return `byte ${offset + i} is 0x${actual[i]!.toString(16).padStart(2, '0')}, expected 0x${expected[i]!.toString(16).padStart(2, '0')}`;
  }
  return actual.length === expected.length ? NO_DIFFERENCE : `${actual.length} bytes, expected ${expected.length}`;
}

/**
 * Ends the cell as `unsupported` when its client does not declare what the scenario needs on
 * this target (a need that depends on the target, so `scenario({ needs })` cannot state it).
 */
export function unsupportedUnless(cell: { client: string; capabilities: Capabilities }, needs: ClientNeeds, where = 'the scenario'): void {
  const reason = unmetNeed(cell.client, cell.capabilities, needs, where);
  if (reason === undefined) return;
  test.info().annotations.push({ type: Annotation.unsupported, description: reason });
  skipCell(test.info(), `unsupported: ${reason}`);
}

/** Ends the cell as `not-applicable` with the reason (what the target or the client's wire lacks). */
export function notApplicable(reason: string): void {
  test.info().annotations.push({ type: Annotation.notApplicable, description: reason });
  skipCell(test.info(), `not applicable: ${reason}`);
}

/** `request`/`response`, as failure messages name a message. */
export function described(m: WireMessage): string {
  return `${m.header.command} ${m.direction === 'send' ? 'request' : 'response'}${m.direction === 'receive' ? ` ${m.header.statusName}` : ''}${m.encrypted ? ' (encrypted)' : m.header.signed ? ' (signed)' : ''}`;
}

/** A SESSION_SETUP logon as the wire shows it: the NTLM AUTHENTICATE the client sent and the server's answer. */
export interface Logon {
  request: WireMessage;
  authenticate: AuthenticateMessage;
  response: WireMessage | undefined;
  sessionFlags: number | undefined;
}

/** The NTLM AUTHENTICATE_MESSAGE inside a SESSION_SETUP request's SPNEGO token, if it carries one. */
function authenticateIn(request: WireMessage): AuthenticateMessage | undefined {
  const blob = decodeSessionSetupRequest(request.bytes).securityBuffer;
  for (let at = blob.indexOf(NTLMSSP_SIGNATURE); at >= 0; at = blob.indexOf(NTLMSSP_SIGNATURE, at + 1)) {
    // NEGOTIATE and CHALLENGE messages travel in the same tokens: only an AUTHENTICATE parses as one.
    try {
      return parseAuthenticateMessage(blob.subarray(at));
    } catch {
      continue;
    }
  }
  return undefined;
}

export function logons(wire: DecodedWire): Logon[] {
  const out: Logon[] = [];
  for (const request of wire.messages.filter((m) => m.header.command === 'SESSION_SETUP' && m.direction === 'send')) {
    const authenticate = authenticateIn(request);
    if (authenticate === undefined) continue;
    const response = wire.messages.find((m) => m.connection === request.connection && m.direction === 'receive' && m.header.command === 'SESSION_SETUP' && m.header.messageId === request.header.messageId);
    const sessionFlags = response?.header.status === NtStatus.Success ? decodeSessionSetupResponse(response.bytes).sessionFlags : undefined;
    out.push({ request, authenticate, response, sessionFlags });
  }
  return out;
}

/**
 * The users a server authorized for SMB sessions logged on with Kerberos, from its own audit
 * (Samba's auth_audit at level 4: `Successful AuthZ: [SMB2,krb5] user [DOMAIN]\[user] ...`): the
 * wire cannot show them, since a ticket's client name travels encrypted.
 */
export function kerberosSessionUsers(log: string): string[] {
  const users: string[] = [];
  for (const line of log.split('\n')) {
    const m = /^Successful AuthZ: \[SMB2,krb5\] user \[[^\]]*\]\\\[([^\]]+)\]/.exec(line);
    if (m !== null) users.push(m[1]!.toLowerCase());
  }
  return users;
}
