/**
 * How long each target's selected cells took in the results directory's last runs that ran them:
 * `smb-interop run` hands these to playwright.config.ts, which starts the longest targets first.
 * A target's cells run one after another in its worker, so the one that takes longest bounds the
 * run when it starts late (a slow client's bulk cell, an impaired link); started first, it
 * overlaps the rest.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { readMatrix } from '../matrix/schema.js';
import type { Matrix } from '../matrix/schema.js';

/** The env variable that carries the figures: JSON, target name -> seconds of cell time. */
export const TARGET_SECONDS_ENV = 'SMB_INTEROP_TARGET_SECONDS';

/** A cell a run selects. */
export interface SelectedCell {
  target: string;
  client: string;
  scenario: string;
}

const cellKey = (cell: SelectedCell): string => JSON.stringify([cell.target, cell.client, cell.scenario]);

/**
 * Figures shipped with the project (matrix/cell-seconds.json): each cell's seconds in a reference
 * run, target -> client -> scenario -> seconds. They stand in for cells no earlier run in the
 * results directory has, as on a fresh checkout and in CI; cells that took no time are left out.
 */
export const ReferenceSeconds = z.object({
  $comment: z.string().optional(),
  runs: z.array(z.string()),
  seconds: z.record(z.string(), z.record(z.string(), z.record(z.string(), z.number().nonnegative()))),
});
export type ReferenceSeconds = z.infer<typeof ReferenceSeconds>;

/** The reference figures of `file`; none when it is missing or malformed (the order is only a hint). */
export async function loadReferenceSeconds(file: string): Promise<ReferenceSeconds['seconds']> {
  try {
    return ReferenceSeconds.parse(JSON.parse(await readFile(file, 'utf8'))).seconds;
  } catch {
    return {};
  }
}

/** The reference figures of `runs` (a later run's cell over an earlier's), to the tenth of a second. */
export function referenceSeconds(runs: readonly Matrix[]): ReferenceSeconds {
  const seconds: ReferenceSeconds['seconds'] = {};
  for (const run of runs) {
    for (const cell of run.cells) {
      const value = Math.round(cell.durationMs / 100) / 10;
      if (value === 0) continue;
      ((seconds[cell.target] ??= {})[cell.client] ??= {})[cell.scenario] = value;
    }
  }
  return { runs: runs.map((run) => run.run.id), seconds };
}

/**
 * For each target of `cells`, the seconds its selected cells took, each cell's from the newest
 * earlier run (by run id, which starts with the start time) of `resultsDir` that ran it, else
 * from `reference`: a run of other clients or scenarios says nothing of these. Targets none of
 * whose cells has a figure are left out. Only the newest runs are read, until every cell is found
 * or `maxRuns` were; a run without a readable matrix.json is skipped (the order is a hint: without
 * figures targets start in catalog order).
 */
export async function lastTargetSeconds(
  resultsDir: string,
  cells: readonly SelectedCell[],
  { reference = {}, maxRuns = 5 }: { reference?: ReferenceSeconds['seconds']; maxRuns?: number } = {},
): Promise<Record<string, number>> {
  const found = new Map<string, number>();
  let names: string[] = [];
  try {
    names = (await readdir(resultsDir, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch {
    // No results yet: the reference alone.
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
    const value = found.get(cellKey(cell)) ?? reference[cell.target]?.[cell.client]?.[cell.scenario];
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
 * figures, which are the selected targets', over `workers`) gets two, and its files are shared
 * between two servers of its own; otherwise `base`. A target without a figure keeps `base`.
 */
export function workersByTime(name: string, base: number, seconds: Record<string, number>, workers: number): number {
  const own = seconds[name];
  if (own === undefined || workers < 2) return base;
  const total = Object.values(seconds).reduce((sum, value) => sum + value, 0);
  return own > (2 / 3) * (total / workers) ? Math.max(base, 2) : base;
}

/**
 * `node dist/cli/target-times.js RUN_DIR...`: prints the reference figures of those runs (the
 * later a run on the command line, the more its cells count), for matrix/cell-seconds.json.
 */
async function main(runDirs: string[]): Promise<void> {
  if (runDirs.length === 0) throw new Error('usage: node dist/cli/target-times.js RUN_DIR... > matrix/cell-seconds.json');
  const runs = await Promise.all(runDirs.map((dir) => readMatrix(join(dir, 'matrix.json'))));
  const reference = referenceSeconds(runs);
  const comment = 'Seconds each cell took in a reference run on a two-core machine; smb-interop run starts the longest targets first by them where no earlier run in the results directory has the cell (a fresh checkout, CI). Regenerate: npm run build && node dist/cli/target-times.js RUN_DIR... > matrix/cell-seconds.json';
  // A line per target and client: the file stays readable in a diff.
  const targets = Object.entries(reference.seconds).map(([target, clients]) =>
    `    ${JSON.stringify(target)}: {\n${Object.entries(clients).map(([client, scenarios]) => `      ${JSON.stringify(client)}: ${JSON.stringify(scenarios)}`).join(',\n')}\n    }`);
  process.stdout.write(`{\n  "$comment": ${JSON.stringify(comment)},\n  "runs": ${JSON.stringify(reference.runs)},\n  "seconds": {\n${targets.join(',\n')}\n  }\n}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  });
}
