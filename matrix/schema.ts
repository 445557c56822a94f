/**
 * The results model: `results/<run-id>/matrix.json`, the one file every renderer reads. One cell per
 * client x target x scenario. Versioned: a reader refuses any other `schemaVersion` rather than
 * guessing at fields. Version 2 added the `unsupported` outcome and the `clientStderr` attachment;
 * version 1 files are read as version 2 (they hold neither).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { CellDivergence } from './divergence-schema.js';

export const SCHEMA_VERSION = 2;
/** Older versions this reader still accepts, upgraded on reading. */
export const READABLE_SCHEMA_VERSIONS: readonly number[] = [1, SCHEMA_VERSION];

export const OUTCOMES = [
  'passed',
  'failed',
  'expected-failure',
  'unexpected-pass',
  'not-applicable',
  'infra-error',
  'flaky',
  /** The client declared it lacks what the scenario or the target needs: not run, not a failure. */
  'unsupported',
] as const;
export const Outcome = z.enum(OUTCOMES);
export type Outcome = z.infer<typeof Outcome>;

/** Outcomes that fail a run (infra-error can be waived with --allow-infra-errors). */
export const GATING_OUTCOMES: readonly Outcome[] = ['failed', 'unexpected-pass', 'infra-error'];

/**
 * A path inside the run directory, with `/` separators: never absolute and never climbing out, so
 * a report's links stay inside the run whatever the file says.
 */
export const RunRelativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !/^[A-Za-z]:/.test(p) && !p.includes('\\'), 'expected a path relative to the run directory, with / separators')
  .refine((p) => !p.split('/').some((segment) => segment === '..' || segment === ''), 'expected no ".." or empty segments');

export const NegotiatedSettings = z
  .object({
    dialect: z.string(),
    cipher: z.string().nullable(),
    signingAlgorithm: z.string().nullable(),
    preauthIntegrity: z.boolean(),
    encryption: z.boolean(),
    signing: z.boolean(),
    /** The logon mechanism: negotiated, the one the SESSION_SETUP carried; declared, a client offering Kerberos and NTLM (absent in files written before it was recorded). */
    authMechanism: z.enum(['ntlm', 'kerberos']).optional(),
  })
  .strict();
export type NegotiatedSettings = z.infer<typeof NegotiatedSettings>;

export const DeclaredSettings = NegotiatedSettings.extend({ encryptedShares: z.array(z.string()) }).strict();
export type DeclaredSettings = z.infer<typeof DeclaredSettings>;

export const CellError = z
  .object({
    message: z.string(),
    /** NTSTATUS name when the message carries one, e.g. `STATUS_ACCESS_DENIED`. */
    statusName: z.string().nullable(),
    /** The SMB2 command the status answered, e.g. `TREE_CONNECT`. */
    command: z.string().nullable(),
  })
  .strict();
export type CellError = z.infer<typeof CellError>;

export const CellAttachments = z
  .object({
    pcap: RunRelativePath.optional(),
    keys: RunRelativePath.optional(),
    transcriptJson: RunRelativePath.optional(),
    transcriptText: RunRelativePath.optional(),
    serverLog: RunRelativePath.optional(),
    /** What a client plug-in's driver wrote to stderr. */
    clientStderr: RunRelativePath.optional(),
  })
  .strict();
export type CellAttachments = z.infer<typeof CellAttachments>;
export type AttachmentKind = keyof CellAttachments;
export const ATTACHMENT_KINDS: readonly AttachmentKind[] = ['pcap', 'keys', 'transcriptJson', 'transcriptText', 'serverLog', 'clientStderr'];

/**
 * Where a cell's time went (milliseconds, summed over its runs), from Playwright's hook steps.
 * Optional: runs recorded before it was kept have none.
 */
export const CellTiming = z
  .object({
    /** Starting the target: paid by the first cell of each worker. */
    targetStartMs: z.number().nonnegative(),
    /** The harness before the scenario: capture proxy, clients, the fresh directory, checks. */
    setupMs: z.number().nonnegative(),
    /** The scenario's own body. */
    scenarioMs: z.number().nonnegative(),
    /** The harness after it: closing clients and the capture, attaching traces. */
    teardownMs: z.number().nonnegative(),
  })
  .strict();
export type CellTiming = z.infer<typeof CellTiming>;

/** A spec rule the cell's decoded wire breaks (harness/explain/spec-rules.ts). */
export const SpecViolationEntry = z
  .object({
    /** e.g. `encrypted-session-id` */
    rule: z.string().min(1),
    /** e.g. `MS-SMB2 3.1.4.3, 2.2.41` */
    section: z.string(),
    /** The first offending message and what it held. */
    detail: z.string(),
    /** Offending messages in all. */
    count: z.number().int().positive(),
  })
  .strict();
export type SpecViolationEntry = z.infer<typeof SpecViolationEntry>;

export const Cell = z
  .object({
    client: z.string().min(1),
    target: z.string().min(1),
    scenario: z.string().min(1),
    outcome: Outcome,
    /** Why: not-applicable, unsupported and infra-error reasons, the expectation's reason, the flaky pass rate. */
    reason: z.string().nullable(),
    /** Runs of the cell (retries and --repeat); passes of those. */
    attempts: z.number().int().nonnegative(),
    passes: z.number().int().nonnegative(),
    passRate: z.number().min(0).max(1).nullable(),
    durationMs: z.number().nonnegative(),
    timing: CellTiming.optional(),
    negotiated: NegotiatedSettings.nullable(),
    /** Title path of the first failing step, ` › ` between levels. */
    failingStep: z.string().nullable(),
    error: CellError.nullable(),
    /**
     * A failed cell's explanation from its own traces, most telling first: violated spec rules,
     * the server's reason for the failing status, connections the server ended. Optional.
     */
    explanation: z.array(z.string()).optional(),
    /** Spec rules the cell's wire breaks, shown also when it passed (a warning). Optional. */
    specViolations: z.array(SpecViolationEntry).optional(),
    /** A red cell's first divergence from a cell that passed, with both conversations aligned (divergence-schema.ts). Optional. */
    divergence: CellDivergence.optional(),
    /**
     * The proof of configuration: what the wire and the server showed (`checked`) and what could
     * not be checked on this target, with why (`unchecked`: a remote server's keys, SMB 2.x
     * signatures, a proof waived by the scenario). Optional: cells that connected no client have none.
     */
    proof: z.object({ checked: z.array(z.string()), unchecked: z.array(z.string()) }).strict().optional(),
    attachments: CellAttachments,
    /** Command line that reruns this cell with full traces. */
    repro: z.string().nullable(),
    /** Command line that opens the cell's capture decrypted. */
    wireshark: z.string().nullable(),
    /** The expectation entry that applied (expected-failure, unexpected-pass). */
    expectation: z.object({ reason: z.string(), link: z.string().nullable() }).strict().nullable(),
  })
  .strict()
  .superRefine((cell, ctx) => {
    if (cell.passes > cell.attempts) {
      ctx.addIssue({ code: 'custom', path: ['passes'], message: `${cell.passes} passes out of ${cell.attempts} attempts` });
    }
    if ((cell.outcome === 'not-applicable' || cell.outcome === 'infra-error' || cell.outcome === 'unsupported') && !cell.reason) {
      ctx.addIssue({ code: 'custom', path: ['reason'], message: `${cell.outcome === 'unsupported' || cell.outcome === 'infra-error' ? 'an' : 'a'} ${cell.outcome} cell needs a reason` });
    }
    if (cell.outcome === 'flaky' && cell.passRate === null) {
      ctx.addIssue({ code: 'custom', path: ['passRate'], message: 'a flaky cell needs its pass rate' });
    }
  });
export type Cell = z.infer<typeof Cell>;

export const TargetInfo = z
  .object({
    name: z.string().min(1),
    profile: z.string(),
    provider: z.string(),
    declared: DeclaredSettings.nullable(),
    serverVersion: z.string().nullable(),
    /** An impaired variant's link as the harness played it (`10 ms each way, 100 Mbit/s`); absent or null: none. */
    impairment: z.string().nullable().optional(),
  })
  .strict();
export type TargetInfo = z.infer<typeof TargetInfo>;

export const ScenarioInfo = z
  .object({
    id: z.string().min(1),
    area: z.string(),
    title: z.string(),
    requirements: z.array(z.string()),
    /** What the scenario needs from its client (`operation:rename`, `cipher:AES-256-GCM`). Optional. */
    needs: z.array(z.string()).optional(),
  })
  .strict();
export type ScenarioInfo = z.infer<typeof ScenarioInfo>;

export const ExpiredExpectation = z
  .object({
    client: z.string(),
    target: z.string(),
    scenario: z.string(),
    reason: z.string(),
    expires: z.string(),
  })
  .strict();
export type ExpiredExpectation = z.infer<typeof ExpiredExpectation>;

export const RunInfo = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected letters, digits, ".", "_" and "-"'),
    start: z.iso.datetime(),
    end: z.iso.datetime(),
    host: z.string(),
    nodeVersion: z.string(),
    /** package.json version of smb-interop. */
    clientVersion: z.string(),
    /** Server version per target name. */
    sambaVersions: z.record(z.string(), z.string()),
    commandLine: z.array(z.string()),
    shard: z.object({ current: z.number().int().positive(), total: z.number().int().positive() }).strict().nullable(),
    expiredExpectations: z.array(ExpiredExpectation),
  })
  .strict();
export type RunInfo = z.infer<typeof RunInfo>;

export const Matrix = z
  .object({
    schemaVersion: z.literal(SCHEMA_VERSION),
    run: RunInfo,
    clients: z.array(z.string()),
    targets: z.array(TargetInfo),
    scenarios: z.array(ScenarioInfo),
    cells: z.array(Cell),
  })
  .strict()
  .superRefine((m, ctx) => {
    const targets = new Set(m.targets.map((t) => t.name));
    const scenarios = new Set(m.scenarios.map((s) => s.id));
    const clients = new Set(m.clients);
    const seen = new Set<string>();
    m.cells.forEach((cell, i) => {
      if (!targets.has(cell.target)) ctx.addIssue({ code: 'custom', path: ['cells', i, 'target'], message: `"${cell.target}" is not in targets` });
      if (!scenarios.has(cell.scenario)) ctx.addIssue({ code: 'custom', path: ['cells', i, 'scenario'], message: `"${cell.scenario}" is not in scenarios` });
      if (!clients.has(cell.client)) ctx.addIssue({ code: 'custom', path: ['cells', i, 'client'], message: `"${cell.client}" is not in clients` });
      const key = cellKey(cell);
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['cells', i], message: `duplicate cell ${key}` });
      seen.add(key);
    });
  });
export type Matrix = z.infer<typeof Matrix>;

/** `client|target|scenario`: a cell's identity across runs. */
export function cellKey(cell: Pick<Cell, 'client' | 'target' | 'scenario'>): string {
  return `${cell.client}|${cell.target}|${cell.scenario}`;
}

export class MatrixFileError extends Error {
  readonly code = 'SMB_INTEROP_MATRIX_FILE';
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'MatrixFileError';
  }
}

/** Validates parsed JSON as a matrix; `file` names the source in the error. A version 1 file is read as version 2. */
export function parseMatrix(data: unknown, file: string): Matrix {
  const version = typeof data === 'object' && data !== null ? (data as { schemaVersion?: unknown }).schemaVersion : undefined;
  const readable = `this smb-interop reads schemaVersion ${READABLE_SCHEMA_VERSIONS.join(' and ')}`;
  if (typeof version !== 'number' || !READABLE_SCHEMA_VERSIONS.includes(version)) {
    throw new MatrixFileError(
      file,
      version === undefined ? `not a matrix results file: no schemaVersion (${readable})` : `schemaVersion ${JSON.stringify(version)} is not supported (${readable})`,
    );
  }
  const parsed = Matrix.safeParse(version === SCHEMA_VERSION ? data : { ...(data as object), schemaVersion: SCHEMA_VERSION });
  if (!parsed.success) throw new MatrixFileError(file, `invalid matrix results\n${z.prettifyError(parsed.error)}`);
  if (version === 1) {
    // What version 2 added cannot be in a version 1 file.
    const i = parsed.data.cells.findIndex((c) => c.outcome === 'unsupported' || c.attachments.clientStderr !== undefined);
    if (i >= 0) throw new MatrixFileError(file, `invalid matrix results\n  cells[${i}]: schemaVersion 1 has no outcome "unsupported" and no clientStderr attachment`);
  }
  return parsed.data;
}

export async function readMatrix(path: string): Promise<Matrix> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new MatrixFileError(path, `cannot read: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new MatrixFileError(path, `not valid JSON: ${(e as Error).message}`);
  }
  return parseMatrix(data, path);
}

/** Validates before writing, so a bad matrix is caught where it is made, not where it is read. */
export async function writeMatrix(path: string, matrix: Matrix): Promise<void> {
  const checked = parseMatrix(matrix, path);
  await writeFile(path, `${JSON.stringify(checked, null, 2)}\n`);
}
