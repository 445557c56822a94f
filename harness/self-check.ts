/**
 * The self-check: runs the matrix with the catalog's faults (faults.ts) switched on, each for its
 * own scenario, and measures per fault whether the cells it must redden went red (killed), whether
 * their explanation names the cause, and whether the cells it must not touch stayed green. The
 * faults run side by side (each on its own scenario), in at most two matrix runs.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SELF_CHECK_FAULTS } from './faults.js';
import type { SelfCheckFault } from './faults.js';

const ROOT = fileURLToPath(new URL(existsSync(fileURLToPath(new URL('../package.json', import.meta.url))) ? '..' : '../..', import.meta.url));
const RED_OUTCOMES = new Set(['failed', 'expected-failure']);

/** What the self-check reads of matrix.json. */
interface MatrixCell {
  client: string;
  target: string;
  scenario: string;
  outcome: string;
  explanation?: string[];
  error?: { message: string } | null;
}

export interface CellVerdict {
  target: string;
  outcome: string;
  /** The explanation's lines (absent: none). */
  explanation: string[];
}

export interface FaultVerdict {
  fault: SelfCheckFault;
  /** The cells it must redden, as they came out. */
  red: CellVerdict[];
  /** The cells it must leave green, as they came out. */
  green: CellVerdict[];
  /** Every cell it must redden went red. */
  killed: boolean;
  /** Every red cell's explanation names the cause. */
  named: boolean;
  /** Cells it must leave green that did not pass. */
  harmed: CellVerdict[];
}

export interface SelfCheckReport {
  verdicts: FaultVerdict[];
  /** The run's other cells (another client on the faults' scenarios): they run without faults and must pass. */
  referencesBroken: MatrixCell[];
  /** One run directory per part (with reference clients, without). */
  runDirs: string[];
  output: string;
}

export interface SelfCheckOptions {
  faults?: readonly SelfCheckFault[];
  resultsDir: string;
  /** Run ids start with it (default `self-check`). */
  runId?: string;
  workers?: number;
  /** Clients besides smb-ts that give red cells a reference, where a fault needs one (default: smbclient). */
  referenceClients?: readonly string[];
  /** Per run (default 15 minutes). */
  timeoutMs?: number;
}

function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/smb-interop.js'), ...args], { cwd: ROOT, env: { ...process.env, CI: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? 1, output });
    });
  });
}

function verdictOf(cell: MatrixCell | undefined, target: string): CellVerdict {
  return { target, outcome: cell?.outcome ?? 'missing', explanation: cell?.explanation ?? [] };
}

/** Judges one fault's cells of a finished run. */
export function judgeFault(fault: SelfCheckFault, cells: readonly MatrixCell[], client = 'smb-ts'): FaultVerdict {
  const cellOn = (target: string) => cells.find((c) => c.client === client && c.scenario === fault.scenario && c.target === target);
  const red = fault.red.map((t) => verdictOf(cellOn(t), t));
  const green = fault.green.map((t) => verdictOf(cellOn(t), t));
  const killed = red.every((c) => RED_OUTCOMES.has(c.outcome));
  const named = killed && red.every((c) => fault.cause.test(c.explanation.join('\n')));
  return { fault, red, green, killed, named, harmed: green.filter((c) => c.outcome !== 'passed') };
}

interface RunPart {
  id: string;
  faults: readonly SelfCheckFault[];
  clients: readonly string[];
}

async function runPart(part: RunPart, options: SelfCheckOptions): Promise<{ cells: MatrixCell[]; runDir: string; output: string }> {
  const targets = [...new Set(part.faults.flatMap((f) => [...f.red, ...f.green]))];
  const args = [
    'run', '--targets', targets.join(','), '--scenarios', part.faults.map((f) => f.scenario).join(','), '--clients', part.clients.join(','),
    '--results', options.resultsDir, '--id', part.id, '--trace', 'retain-on-failure', ...(options.workers ? ['--workers', String(options.workers)] : []),
  ];
  const { output } = await runCli(args, { SMB_INTEROP_SELF_CHECK_FAULTS: part.faults.map((f) => f.name).join(',') }, options.timeoutMs ?? 900_000);
  const runDir = join(options.resultsDir, part.id);
  const file = join(runDir, 'matrix.json');
  if (!existsSync(file)) throw new Error(`self-check: the run wrote no ${file}; its output:\n${output.slice(-4000)}`);
  return { cells: (JSON.parse(await readFile(file, 'utf8')) as { cells: MatrixCell[] }).cells, runDir, output };
}

/**
 * Runs the faults' scenarios on their targets with the faults on, and judges each fault. Faults
 * whose cause shows against another client run with the reference clients; the others with
 * smb-ts alone (another client's cells only cost time there).
 */
export async function runSelfCheck(options: SelfCheckOptions): Promise<SelfCheckReport> {
  const faults = options.faults ?? SELF_CHECK_FAULTS;
  if (faults.length === 0) throw new Error('self-check: no fault selected');
  const id = options.runId ?? 'self-check';
  const parts: RunPart[] = [
    { id: `${id}-with-references`, faults: faults.filter((f) => f.needsReference === true), clients: ['smb-ts', ...(options.referenceClients ?? ['smbclient'])] },
    { id, faults: faults.filter((f) => f.needsReference !== true), clients: ['smb-ts'] },
  ].filter((p) => p.faults.length > 0);
  const runs = [];
  for (const part of parts) runs.push(await runPart(part, options));
  const cells = runs.flatMap((r) => r.cells);
  return {
    verdicts: faults.map((f) => judgeFault(f, cells)),
    referencesBroken: cells.filter((c) => c.client !== 'smb-ts' && !['passed', 'not-applicable', 'unsupported', 'expected-failure'].includes(c.outcome)),
    runDirs: runs.map((r) => r.runDir),
    output: runs.map((r) => r.output).join('\n'),
  };
}

const percent = (n: number, of: number) => `${n}/${of} (${of === 0 ? 0 : Math.round((100 * n) / of)}%)`;

/** The report a person reads: per fault the cells reddened and whether the cause was named; the kill and named-cause rates. */
export function formatSelfCheck(report: SelfCheckReport): string {
  const lines: string[] = [];
  const width = Math.max(...report.verdicts.map((v) => v.fault.name.length));
  lines.push(`${'fault'.padEnd(width)}  ${'area'.padEnd(17)}  reddened  cause named  unaffected green`);
  for (const v of report.verdicts) {
    const reddened = `${v.red.filter((c) => RED_OUTCOMES.has(c.outcome)).length}/${v.red.length}`;
    const green = v.green.length === 0 ? '–' : `${v.green.length - v.harmed.length}/${v.green.length}`;
    lines.push(`${v.fault.name.padEnd(width)}  ${v.fault.area.padEnd(17)}  ${reddened.padEnd(8)}  ${(v.named ? 'yes' : 'no').padEnd(11)}  ${green}`);
    for (const c of v.red.filter((r) => !RED_OUTCOMES.has(r.outcome))) lines.push(`    not killed on ${c.target}: ${c.outcome}`);
    if (v.killed && !v.named) {
      for (const c of v.red.filter((r) => !v.fault.cause.test(r.explanation.join('\n')))) {
        lines.push(`    cause (${v.fault.cause.source}) not named on ${c.target}: ${c.explanation.join(' | ') || 'no explanation'}`);
      }
    }
    for (const c of v.harmed) lines.push(`    should have stayed green on ${c.target}: ${c.outcome}`);
  }
  for (const c of report.referencesBroken) lines.push(`reference cell not green: ${c.client} × ${c.target} × ${c.scenario}: ${c.outcome}`);
  const killed = report.verdicts.filter((v) => v.killed).length;
  const named = report.verdicts.filter((v) => v.named).length;
  lines.push(`kill rate: ${percent(killed, report.verdicts.length)}; named-cause rate: ${percent(named, report.verdicts.length)}`);
  return `${lines.join('\n')}\n`;
}
