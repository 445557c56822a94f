/**
 * Merges the matrices of a sharded run (one matrix.json per shard) into one. Shards split tests,
 * so a cell normally lives in one shard; when repetitions of a cell landed in several shards their
 * runs are added up (all passed: passed; none: the first failing shard's cell; some: flaky).
 */
import { cp, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { addTimings } from './cells.js';
import { SCHEMA_VERSION, cellKey, readMatrix, writeMatrix, type Cell, type Matrix, type TargetInfo } from './schema.js';

function combineCells(a: Cell, b: Cell): Cell {
  return withTiming(combineOutcomes(a, b), addTimings([a.timing, b.timing]));
}

function withTiming(cell: Cell, timing: Cell['timing']): Cell {
  const { timing: _dropped, ...rest } = cell;
  return timing === undefined ? rest : { ...rest, timing };
}

function combineOutcomes(a: Cell, b: Cell): Cell {
  const attempts = a.attempts + b.attempts;
  const passes = a.passes + b.passes;
  const durationMs = a.durationMs + b.durationMs;
  const passRate = attempts > 0 ? passes / attempts : null;
  if (attempts === 0 || (a.outcome === b.outcome && a.outcome !== 'flaky')) return { ...a, attempts, passes, passRate: a.passRate === null ? null : passRate, durationMs };
  if (passes === attempts) return { ...a, attempts, passes, passRate, durationMs };
  const failing = a.passes < a.attempts ? a : b;
  if (passes === 0) return { ...failing, attempts, passes, passRate, durationMs };
  return { ...failing, outcome: 'flaky', reason: `passed ${passes} of ${attempts} runs`, attempts, passes, passRate, durationMs };
}

function mergeTarget(a: TargetInfo, b: TargetInfo): TargetInfo {
  return { ...a, declared: a.declared ?? b.declared, serverVersion: a.serverVersion ?? b.serverVersion };
}

export function mergeMatrices(parts: readonly Matrix[], run: { id: string; commandLine: string[] }): Matrix {
  const first = parts[0];
  if (!first) throw new Error('nothing to merge: no matrices given');
  const clients: string[] = [];
  const targets = new Map<string, TargetInfo>();
  const scenarios = new Map<string, Matrix['scenarios'][number]>();
  const cells = new Map<string, Cell>();
  const expired = new Map<string, Matrix['run']['expiredExpectations'][number]>();
  for (const m of parts) {
    for (const c of m.clients) if (!clients.includes(c)) clients.push(c);
    for (const t of m.targets) targets.set(t.name, targets.has(t.name) ? mergeTarget(targets.get(t.name) as TargetInfo, t) : t);
    for (const s of m.scenarios) if (!scenarios.has(s.id)) scenarios.set(s.id, s);
    for (const c of m.cells) {
      const key = cellKey(c);
      const seen = cells.get(key);
      cells.set(key, seen ? combineCells(seen, c) : c);
    }
    for (const e of m.run.expiredExpectations) expired.set(JSON.stringify(e), e);
  }
  const starts = parts.map((m) => Date.parse(m.run.start));
  const ends = parts.map((m) => Date.parse(m.run.end));
  return {
    schemaVersion: SCHEMA_VERSION,
    run: {
      id: run.id,
      start: new Date(Math.min(...starts)).toISOString(),
      end: new Date(Math.max(...ends)).toISOString(),
      host: [...new Set(parts.map((m) => m.run.host))].join(', '),
      nodeVersion: first.run.nodeVersion,
      clientVersion: first.run.clientVersion,
      sambaVersions: Object.assign({}, ...parts.map((m) => m.run.sambaVersions)) as Record<string, string>,
      commandLine: run.commandLine,
      shard: null,
      expiredExpectations: [...expired.values()],
    },
    clients,
    targets: [...targets.values()],
    scenarios: [...scenarios.values()].sort((a, b) => a.id.localeCompare(b.id)),
    cells: [...cells.values()],
  };
}

/** A matrix.json path for an argument naming either the file or the run directory holding it. */
export function matrixFileOf(input: string): string {
  return input.endsWith('.json') ? input : join(input, 'matrix.json');
}

/**
 * Merges run directories (or their matrix.json files) into `outDir`: the merged matrix.json and
 * every shard's cells/ traces. Returns the merged matrix.
 */
export async function mergeRunDirectories(inputs: readonly string[], outDir: string, commandLine: string[]): Promise<Matrix> {
  const files = inputs.map(matrixFileOf);
  const parts: Matrix[] = [];
  for (const file of files) parts.push(await readMatrix(file));
  const id = outDir.split(/[\\/]/).filter(Boolean).at(-1) ?? 'merged';
  const merged = mergeMatrices(parts, { id, commandLine });
  await mkdir(outDir, { recursive: true });
  for (const file of files) {
    const cells = join(dirname(file), 'cells');
    if (existsSync(cells)) await cp(cells, join(outDir, 'cells'), { recursive: true, force: false, errorOnExist: false });
  }
  await writeMatrix(join(outDir, 'matrix.json'), merged);
  return merged;
}
