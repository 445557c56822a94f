/**
 * How long each target's selected cells took in the results directory's last runs that ran them:
 * `smb-interop run` hands these to playwright.config.ts, which starts the longest targets first.
 * A target's cells run one after another in its worker, so the one that takes longest bounds the
 * run when it starts late (a slow client's bulk cell, an impaired link); started first, it
 * overlaps the rest.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readMatrix } from '../matrix/schema.js';
import type { Matrix } from '../matrix/schema.js';

/** The env variable that carries the figures: JSON, target name -> seconds of cell time. */
export const TARGET_SECONDS_ENV = 'SMB_INTEROP_TARGET_SECONDS';

/** Seconds of cell time per target of `matrix` (every cell's duration, its target's start included). */
export function targetSeconds(matrix: Matrix): Record<string, number> {
  const seconds: Record<string, number> = {};
  for (const cell of matrix.cells) seconds[cell.target] = (seconds[cell.target] ?? 0) + cell.durationMs / 1000;
  return seconds;
}

/** A cell a run selects. */
export interface SelectedCell {
  target: string;
  client: string;
  scenario: string;
}

const cellKey = (cell: SelectedCell): string => JSON.stringify([cell.target, cell.client, cell.scenario]);

/**
 * For each target of `cells`, the seconds its selected cells took, each cell's from the newest
 * earlier run (by run id, which starts with the start time) of `resultsDir` that ran it: a run of
 * other clients or scenarios says nothing of these. Targets none of whose cells ran before are
 * left out. Only the newest runs are read, until every cell is found or `maxRuns` were; a run
 * without a readable matrix.json is skipped (the order is a hint: a run without it starts
 * targets in catalog order).
 */
export async function lastTargetSeconds(resultsDir: string, cells: readonly SelectedCell[], maxRuns = 5): Promise<Record<string, number>> {
  const found = new Map<string, number>();
  let names: string[];
  try {
    names = (await readdir(resultsDir, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch {
    return {};
  }
  const wanted = new Set(cells.map(cellKey));
  for (const name of names.sort().reverse().slice(0, maxRuns)) {
    let matrix: Matrix;
    try {
      matrix = await readMatrix(join(resultsDir, name, 'matrix.json'));
    } catch {
      continue;
    }
    for (const cell of matrix.cells) {
      const key = cellKey(cell);
      if (wanted.has(key) && !found.has(key)) found.set(key, cell.durationMs / 1000);
    }
    if (found.size === wanted.size) break;
  }
  const seconds: Record<string, number> = {};
  for (const cell of cells) {
    const value = found.get(cellKey(cell));
    if (value !== undefined) seconds[cell.target] = (seconds[cell.target] ?? 0) + value;
  }
  return seconds;
}

/** The figures from the environment; a malformed value is ignored (catalog order). */
export function targetSecondsFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, number> {
  try {
    const parsed = JSON.parse(env[TARGET_SECONDS_ENV] ?? '{}') as unknown;
    if (parsed === null || typeof parsed !== 'object') return {};
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));
  } catch {
    return {};
  }
}

/** What startOrder needs of a target. */
export interface OrderedTarget {
  name: string;
  profile: { domain?: unknown; impairment?: unknown };
}

/**
 * The order projects start in. One AD DC runs per machine at a time
 * (servers/samba/ad-dc-lock.ts), so a domain target waits for another's to stop: the first domain
 * target goes first and the others after the projects that start with it (those that fill
 * `slots` workers, each taking `workersOf` of them), so that the first worker to come free takes
 * the next DC while the targets in between run; without `slots` they go last. The others start
 * longest first by `seconds`; those without a figure come after them, impaired ones first (their
 * cells wait on the link), then in the order given.
 */
export function startOrder<T extends OrderedTarget>(
  all: readonly T[],
  seconds: Record<string, number>,
  fill: { slots: number; workersOf: (target: T) => number } | undefined = undefined,
): T[] {
  const domain = all.filter((spec) => spec.profile.domain !== undefined);
  const others = all.filter((spec) => spec.profile.domain === undefined);
  const known = others.filter((spec) => seconds[spec.name] !== undefined).sort((a, b) => seconds[b.name]! - seconds[a.name]!);
  const unknown = others.filter((spec) => seconds[spec.name] === undefined);
  const impaired = unknown.filter((spec) => spec.profile.impairment !== undefined);
  const rest = unknown.filter((spec) => spec.profile.impairment === undefined);
  const ordered = [...domain.slice(0, 1), ...known, ...impaired, ...rest];
  if (fill === undefined || domain.length < 2) return [...ordered, ...domain.slice(1)];
  let at = 0;
  for (let taken = 0; at < ordered.length && taken < fill.slots; at++) taken += fill.workersOf(ordered[at]!);
  return [...ordered.slice(0, at), ...domain.slice(1), ...ordered.slice(at)];
}

/**
 * Workers for one target, from the figures: a target's cells run one after another in each of
 * its workers, so one whose last run took more than two thirds of a worker's fair share (all the
 * selected targets' seconds over `workers`) gets two, and its files are shared between two
 * servers of its own; otherwise `base`. A target without a figure keeps `base`.
 */
export function workersByTime(name: string, base: number, seconds: Record<string, number>, selected: readonly string[], workers: number): number {
  const own = seconds[name];
  if (own === undefined || workers < 2) return base;
  const total = selected.reduce((sum, target) => sum + (seconds[target] ?? 0), 0);
  return own > (2 / 3) * (total / workers) ? Math.max(base, 2) : base;
}
