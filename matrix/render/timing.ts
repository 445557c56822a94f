/**
 * Where a run's time went, for the reports: the run's wall time, the cells' time split into
 * starting targets, the harness around each scenario and the scenarios themselves, per target,
 * and the slowest cells.
 */
import type { Cell, CellTiming, Matrix } from '../schema.js';
import { runDurationMs } from './summary.js';

export interface TimeSplit {
  /** Cells counted, and how many of them recorded a split (runs before timings were kept have none). */
  cells: number;
  timedCells: number;
  /** What the cells' durations add up to (Playwright's own measure: target starts excluded). */
  cellMs: number;
  targetStartMs: number;
  setupMs: number;
  scenarioMs: number;
  teardownMs: number;
}

export interface TargetTime extends TimeSplit {
  target: string;
}

export interface SlowCell {
  cell: Cell;
  /** The cell's total: its split when recorded, else its duration. */
  totalMs: number;
  harnessMs: number | null;
  scenarioMs: number | null;
}

export interface TimeReport {
  wallMs: number;
  all: TimeSplit;
  targets: TargetTime[];
  slowest: SlowCell[];
}

export const SLOWEST_CELLS = 10;

function split(cells: readonly Cell[]): TimeSplit {
  const sum: TimeSplit = { cells: cells.length, timedCells: 0, cellMs: 0, targetStartMs: 0, setupMs: 0, scenarioMs: 0, teardownMs: 0 };
  for (const cell of cells) {
    sum.cellMs += cell.durationMs;
    if (cell.timing === undefined) continue;
    sum.timedCells++;
    sum.targetStartMs += cell.timing.targetStartMs;
    sum.setupMs += cell.timing.setupMs;
    sum.scenarioMs += cell.timing.scenarioMs;
    sum.teardownMs += cell.timing.teardownMs;
  }
  return sum;
}

/** The harness's part of a cell: set-up and teardown around the scenario (not the target's start). */
export function harnessMs(timing: CellTiming): number {
  return timing.setupMs + timing.teardownMs;
}

function totalOf(cell: Cell): number {
  const t = cell.timing;
  return t === undefined ? cell.durationMs : t.targetStartMs + t.setupMs + t.scenarioMs + t.teardownMs;
}

export function timeReport(m: Matrix, slowest = SLOWEST_CELLS): TimeReport {
  const targets = m.targets.map((t) => ({ target: t.name, ...split(m.cells.filter((c) => c.target === t.name)) }));
  const ranked = m.cells
    .map((cell) => ({ cell, totalMs: totalOf(cell), harnessMs: cell.timing ? harnessMs(cell.timing) : null, scenarioMs: cell.timing?.scenarioMs ?? null }))
    .sort((a, b) => b.totalMs - a.totalMs || a.cell.scenario.localeCompare(b.cell.scenario));
  return { wallMs: runDurationMs(m), all: split(m.cells), targets, slowest: ranked.slice(0, slowest) };
}

/** `12.3 s`: one decimal below a minute, where the reports compare many small figures. */
export function formatSeconds(ms: number): string {
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** The split in one sentence, e.g. `scenarios 380.1 s, harness 95.2 s (set-up 60.1 s, teardown 35.1 s), starting targets 12.0 s`. */
export function describeSplit(t: TimeSplit): string {
  if (t.timedCells === 0) return `${formatSeconds(t.cellMs)} in all (no split recorded)`;
  const partial = t.timedCells < t.cells ? ` (split recorded for ${t.timedCells} of ${t.cells} cells)` : '';
  return `scenarios ${formatSeconds(t.scenarioMs)}, harness ${formatSeconds(t.setupMs + t.teardownMs)} (set-up ${formatSeconds(t.setupMs)}, teardown ${formatSeconds(t.teardownMs)}), starting targets ${formatSeconds(t.targetStartMs)}${partial}`;
}
