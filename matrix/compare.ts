/**
 * Baseline comparison for CI gating: which cells got worse (regressions), which got better
 * (fixes), which are new or gone, between two runs' matrices.
 */
import { cellKey, type Cell, type Matrix, type Outcome } from './schema.js';

/** Outcomes that count as "broken" when comparing runs. */
const BROKEN: ReadonlySet<Outcome> = new Set(['failed', 'unexpected-pass']);
const HEALTHY: ReadonlySet<Outcome> = new Set(['passed', 'expected-failure']);

export interface CellChange {
  key: Pick<Cell, 'client' | 'target' | 'scenario'>;
  before: Cell | null;
  after: Cell | null;
}

export interface MatrixComparison {
  /** Not broken before (or flaky, not applicable, infra error), broken now. */
  regressions: CellChange[];
  /** Broken before, passed (or expected to fail) now. */
  fixes: CellChange[];
  /** Only in the current run. */
  added: CellChange[];
  /** Only in the baseline. */
  removed: CellChange[];
  /** Any other change of outcome (e.g. passed -> flaky, passed -> infra-error). */
  changed: CellChange[];
}

function keyOf(cell: Cell): CellChange['key'] {
  return { client: cell.client, target: cell.target, scenario: cell.scenario };
}

export function compareMatrices(baseline: Matrix, current: Matrix): MatrixComparison {
  const before = new Map(baseline.cells.map((c) => [cellKey(c), c]));
  const result: MatrixComparison = { regressions: [], fixes: [], added: [], removed: [], changed: [] };
  const seen = new Set<string>();
  for (const after of current.cells) {
    const key = cellKey(after);
    seen.add(key);
    const old = before.get(key) ?? null;
    const change = { key: keyOf(after), before: old, after };
    if (!old) result.added.push(change);
    else if (old.outcome === after.outcome) continue;
    else if (BROKEN.has(after.outcome) && !BROKEN.has(old.outcome)) result.regressions.push(change);
    else if (BROKEN.has(old.outcome) && HEALTHY.has(after.outcome)) result.fixes.push(change);
    else result.changed.push(change);
  }
  for (const old of baseline.cells) {
    if (!seen.has(cellKey(old))) result.removed.push({ key: keyOf(old), before: old, after: null });
  }
  return result;
}
