/**
 * Known failures: a checked-in list (matrix/expectations.json) of cells expected to fail, each with
 * a reason and optionally a link and an expiry date. A matching failure is an expected-failure; a
 * matching pass is an unexpected-pass (a gating failure: the entry must go). Expired entries are
 * reported and no longer applied.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { matchesGlob } from './glob.js';
import type { Cell, ExpiredExpectation } from './schema.js';

const pattern = z.string().min(1, 'expected a name or a glob (* and ? wildcards)');

export const ExpectationEntry = z
  .object({
    /** Client id (glob allowed), e.g. `smb-ts`. */
    client: pattern,
    /** Target name glob, e.g. `smb302-*@native`. */
    target: pattern,
    /** Scenario id glob, e.g. `files/*`. */
    scenario: pattern,
    reason: z.string().min(1, 'say why the cell is expected to fail'),
    link: z.url({ protocol: /^https?$/ }).optional(),
    /** The last day the entry applies (YYYY-MM-DD); from the day after, it is reported as expired. */
    expires: z.iso.date().optional(),
    /**
     * The cell fails on some runs only (a race in a peer client, say): a failure is an
     * expected-failure and a pass stays a pass (with the entry recorded), never an unexpected-pass.
     */
    intermittent: z.boolean().optional(),
    /**
     * Text the failure's message contains (an NTSTATUS name, the peer's own words): only such a
     * failure is this entry's, and a cell that fails otherwise stays failed.
     */
    error: z.string().min(1, 'the text a failure\'s message contains, or leave the field out').optional(),
  })
  .strict();
export type ExpectationEntry = z.infer<typeof ExpectationEntry>;

export const ExpectationsFile = z
  .object({
    $comment: z.string().optional(),
    expectations: z.array(ExpectationEntry),
  })
  .strict();

export class ExpectationsError extends Error {
  readonly code = 'SMB_INTEROP_EXPECTATIONS';
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'ExpectationsError';
  }
}

export function parseExpectations(data: unknown, file: string): ExpectationEntry[] {
  const parsed = ExpectationsFile.safeParse(data);
  if (!parsed.success) throw new ExpectationsError(file, `invalid expectations\n${z.prettifyError(parsed.error)}`);
  return parsed.data.expectations;
}

/** Reads an expectations file; a missing file is an empty list only when `optional`. */
export async function loadExpectations(file: string, options: { optional?: boolean } = {}): Promise<ExpectationEntry[]> {
  if (!existsSync(file)) {
    if (options.optional) return [];
    throw new ExpectationsError(file, 'no such file');
  }
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new ExpectationsError(file, `not valid JSON: ${(e as Error).message}`);
  }
  return parseExpectations(data, file);
}

/**
 * The expectations a run applies: the file it names (the reporter's option or
 * SMB_INTEROP_EXPECTATIONS, relative to the config's directory), else the checked-in list beside
 * this module (absent beside the compiled module: `smb-interop run` names it then).
 */
export function loadRunExpectations(configDir: string, explicit = process.env.SMB_INTEROP_EXPECTATIONS): Promise<ExpectationEntry[]> {
  if (explicit) return loadExpectations(resolve(configDir, explicit));
  return loadExpectations(fileURLToPath(new URL('./expectations.json', import.meta.url)), { optional: true });
}

/** `YYYY-MM-DD` of a moment, in UTC. */
export function utcDate(moment: Date): string {
  return moment.toISOString().slice(0, 10);
}

export function isExpired(entry: ExpectationEntry, today: string): boolean {
  return entry.expires !== undefined && entry.expires < today;
}

export function matchesCell(entry: ExpectationEntry, cell: Pick<Cell, 'client' | 'target' | 'scenario'>): boolean {
  return matchesGlob(cell.client, entry.client) && matchesGlob(cell.target, entry.target) && matchesGlob(cell.scenario, entry.scenario);
}

/**
 * The entry a cell is known to fail by, when it always fails (not intermittent, not expired):
 * the harness tells the runner so, which then neither retries the failure nor restarts the
 * worker (and its target) after it.
 */
export function knownFailure(entries: readonly ExpectationEntry[], cell: Pick<Cell, 'client' | 'target' | 'scenario'>, now: Date): ExpectationEntry | undefined {
  const today = utcDate(now);
  const entry = entries.find((e) => !isExpired(e, today) && matchesCell(e, cell));
  return entry?.intermittent === true ? undefined : entry;
}

/** Whether a failure's message is `entry`'s (an entry without `error` takes any failure). */
export function failureMatches(entry: ExpectationEntry, message: string | undefined): boolean {
  return entry.error === undefined || (message ?? '').includes(entry.error);
}

/**
 * The intermittent entry a failure just seen is listed by: active, matching the cell, and naming
 * an `error` the message contains. The harness then lets the runner count the failure as
 * expected, which spares the retry and the restart of the worker and its target; an entry
 * without `error` cannot tell its failure from another, so its cells keep the retry.
 */
export function intermittentFailure(entries: readonly ExpectationEntry[], cell: Pick<Cell, 'client' | 'target' | 'scenario'>, message: string, now: Date): ExpectationEntry | undefined {
  const today = utcDate(now);
  return entries.find((e) => e.intermittent === true && e.error !== undefined && !isExpired(e, today) && matchesCell(e, cell) && failureMatches(e, message));
}

export interface AppliedExpectations {
  cells: Cell[];
  expired: ExpiredExpectation[];
}

/**
 * Applies the first active entry matching each cell: failed -> expected-failure, passed ->
 * unexpected-pass (an intermittent entry's pass stays passed); a flaky cell keeps its outcome and
 * records the entry. A failure whose message lacks an entry's `error` is not that entry's. Other
 * outcomes are left alone (a not-applicable or infra-error cell says nothing about the known
 * failure).
 */
export function applyExpectations(cells: readonly Cell[], entries: readonly ExpectationEntry[], now: Date): AppliedExpectations {
  const today = utcDate(now);
  const active = entries.filter((e) => !isExpired(e, today));
  const expired = entries
    .filter((e) => isExpired(e, today))
    .map((e) => ({ client: e.client, target: e.target, scenario: e.scenario, reason: e.reason, expires: e.expires as string }));
  const applied = cells.map((cell): Cell => {
    const failure = cell.outcome === 'failed' || cell.outcome === 'flaky' ? cell.error?.message : undefined;
    const entry = active.find((e) => matchesCell(e, cell) && (failure === undefined || failureMatches(e, failure)));
    if (!entry) return cell;
    const expectation = { reason: entry.reason, link: entry.link ?? null };
    switch (cell.outcome) {
      case 'failed':
        return { ...cell, outcome: 'expected-failure', reason: entry.reason, expectation };
      case 'passed':
        if (entry.intermittent === true) return { ...cell, expectation };
        return { ...cell, outcome: 'unexpected-pass', reason: `listed as failing: ${entry.reason}`, expectation };
      case 'flaky':
        return { ...cell, expectation };
      default:
        return cell;
    }
  });
  return { cells: applied, expired };
}
