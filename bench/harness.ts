/**
 * The harness's own speed: how fast the matrix runs and what the harness costs around each
 * scenario, and what the cell's capture costs on bulk data.
 *
 *   npm run bench:harness -- [--targets a,b] [--scenarios 'files/*'] [--clients smb-ts] [--workers N]
 *                            [--results DIR] [--skip-matrix] [--skip-capture]
 *                            [--capture-target smb311-gcm] [--size-mib 64] [--rounds 5] [--warmup 1]
 *
 * The matrix part runs the selection (default: the whole native matrix) exactly as `npm run
 * matrix` does and prints its wall time and cells per second, then, from the timing each cell
 * records in matrix.json, the cells' time split into scenarios, the harness around them (fixtures,
 * capture, attachments) and starting targets, and the median per cell. The capture part: see
 * harness-capture.ts.
 */
import { parseArgs } from 'node:util';
import { runMatrix } from '../cli/run.js';
import type { Cell, Matrix } from '../matrix/schema.js';
import { harnessMs, timeReport, describeSplit, formatSeconds } from '../matrix/render/timing.js';
import { captureTable, measureCapture } from './harness-capture.js';
import { median } from './median.js';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: '' },
    scenarios: { type: 'string', default: '' },
    clients: { type: 'string', default: '' },
    workers: { type: 'string' },
    results: { type: 'string' },
    'skip-matrix': { type: 'boolean', default: false },
    'skip-capture': { type: 'boolean', default: false },
    'capture-target': { type: 'string', default: 'smb311-gcm' },
    'size-mib': { type: 'string', default: '64' },
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
  },
});

function positiveInteger(name: string, text: string | undefined, allowZero = false): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) throw new Error(`--${name}: expected a ${allowZero ? 'non-negative' : 'positive'} integer, got ${text}`);
  return value;
}

function list(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

const ms = (value: number) => (Number.isNaN(value) ? 'none' : `${Math.round(value)} ms`);

/** Cells that ran a scenario (not skipped as not applicable, not an infra error) and recorded their split. */
type TimedCell = Cell & { timing: NonNullable<Cell['timing']> };

function timedCells(matrix: Matrix, ran: boolean): TimedCell[] {
  const skipped = (c: Cell) => c.outcome === 'not-applicable' || c.outcome === 'infra-error';
  return matrix.cells.filter((c): c is TimedCell => c.timing !== undefined && skipped(c) !== ran);
}

export function matrixFigures(matrix: Matrix, wallMs: number, workers: string): string {
  const report = timeReport(matrix, 5);
  const ran = timedCells(matrix, true);
  const skipped = timedCells(matrix, false);
  const cellsPerSecond = matrix.cells.length / (wallMs / 1000);
  const lines = [
    `matrix: ${matrix.cells.length} cells (${matrix.clients.join(', ')} x ${matrix.targets.length} targets x ${matrix.scenarios.length} scenarios), workers ${workers}`,
    `  wall ${formatSeconds(wallMs)} (the Playwright run itself ${formatSeconds(report.wallMs)}, listing the tests and reporting the rest): ${cellsPerSecond.toFixed(1)} cells/s`,
    `  the cells' time: ${describeSplit(report.all)}`,
    `  per cell that ran (${ran.length}): median scenario ${ms(median(ran.map((c) => c.timing.scenarioMs)))}, median harness ${ms(median(ran.map((c) => harnessMs(c.timing))))}` +
      ` (set-up ${ms(median(ran.map((c) => c.timing.setupMs)))}, teardown ${ms(median(ran.map((c) => c.timing.teardownMs)))})`,
    `  per cell not run (not applicable, infra error: ${skipped.length}): median harness ${ms(median(skipped.map((c) => harnessMs(c.timing))))}`,
    '  slowest cells (total = target start + set-up + scenario + teardown):',
    ...report.slowest.map((s) => `    ${formatSeconds(s.totalMs).padStart(8)}  scenario ${s.scenarioMs === null ? '?' : formatSeconds(s.scenarioMs)}, harness ${s.harnessMs === null ? '?' : formatSeconds(s.harnessMs)}  ${s.cell.client} x ${s.cell.target} x ${s.cell.scenario}`),
  ];
  return lines.join('\n');
}

async function benchMatrix(): Promise<string> {
  const workers = values.workers === undefined ? undefined : positiveInteger('workers', values.workers);
  const started = performance.now();
  const { matrix } = await runMatrix({
    targets: list(values.targets),
    scenarios: list(values.scenarios),
    clients: list(values.clients),
    trace: 'retain-on-failure',
    allowInfraErrors: false,
    commandLine: ['npm', 'run', 'bench:harness', '--', ...process.argv.slice(2)],
    ...(workers === undefined ? {} : { workers }),
    ...(values.results === undefined ? {} : { resultsDir: values.results }),
  });
  return matrixFigures(matrix, performance.now() - started, values.workers ?? 'default');
}

async function main(): Promise<void> {
  const report: string[] = [];
  if (!values['skip-matrix']) report.push(await benchMatrix());
  if (!values['skip-capture']) {
    const figures = await measureCapture({
      target: values['capture-target'],
      sizeMiB: positiveInteger('size-mib', values['size-mib']),
      rounds: positiveInteger('rounds', values.rounds),
      warmup: positiveInteger('warmup', values.warmup, true),
    }, (line) => process.stderr.write(`${line}\n`));
    report.push(captureTable(figures));
  }
  process.stdout.write(`\n${report.join('\n\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:harness: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = 1;
});
