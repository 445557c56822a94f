/**
 * The self-check: runs the matrix with the catalog's faults (faults.ts) switched on, each for its
 * own scenario, and measures per fault whether the cells it must redden went red (killed), whether
 * their explanation names the cause, and whether the cells it must not touch stayed green. The
 * faults run side by side, each on its own scenario, in one matrix run of just the cells they need.
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
  reason?: string | null;
  explanation?: string[];
  error?: { message: string } | null;
}

export interface CellVerdict {
  target: string;
  outcome: string;
  /** Why, for an infra-error (the cell was not judged): the matrix's reason. */
  reason: string | null;
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
  /** Reference cells (another client, without faults) that did not pass. */
  referencesBroken: MatrixCell[];
  runDir: string;
  output: string;
}

export interface SelfCheckOptions {
  faults?: readonly SelfCheckFault[];
  resultsDir: string;
  /** The run's id (default `self-check`). */
  runId?: string;
  workers?: number;
  /** Clients besides smb-ts that give red cells a reference, where a fault needs one (default: smbclient). */
  referenceClients?: readonly string[];
  /** For the listing and for the run (default 15 minutes each). */
  timeoutMs?: number;
}

/** Runs Playwright from the project root on the matrix config; killed after `timeoutMs`. */
function playwright(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn('npx', ['playwright', ...args], { cwd: ROOT, env: { ...process.env, CI: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** A test of the suite as Playwright lists it: enough to select it alone with --grep. */
interface ListedCell {
  target: string;
  scenario: string;
  client: string;
  /** '<project> <file> <describes...> <title>', what Playwright matches --grep against (tags follow). */
  grepTitle: string;
}

interface JsonSuite {
  title: string;
  suites?: JsonSuite[];
  specs?: Array<{ title: string; tests: Array<{ projectName: string; annotations: Array<{ type: string; description?: string }> }> }>;
}

function listedCells(suite: JsonSuite, path: readonly string[], out: ListedCell[]): ListedCell[] {
  for (const spec of suite.specs ?? []) {
    for (const t of spec.tests) {
      const scenario = t.annotations.find((a) => a.type === 'scenario')?.description;
      const client = t.annotations.find((a) => a.type === 'client')?.description ?? 'smb-ts';
      if (scenario !== undefined) out.push({ target: t.projectName, scenario, client, grepTitle: [t.projectName, ...path, spec.title].join(' ') });
    }
  }
  for (const child of suite.suites ?? []) listedCells(child, [...path, child.title], out);
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function verdictOf(cell: MatrixCell | undefined, target: string): CellVerdict {
  return { target, outcome: cell?.outcome ?? 'missing', reason: cell?.reason ?? null, explanation: cell?.explanation ?? [] };
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

/** The cells each fault needs: its red and green targets for smb-ts, and another client's cells where it needs a reference. */
function wantedCells(faults: readonly SelfCheckFault[], referenceClients: readonly string[]): Set<string> {
  const wanted = new Set<string>();
  for (const f of faults) {
    for (const target of [...f.red, ...f.green]) wanted.add(`smb-ts|${target}|${f.scenario}`);
    if (f.needsReference === true) for (const client of referenceClients) for (const target of f.red) wanted.add(`${client}|${target}|${f.scenario}`);
  }
  return wanted;
}

/**
 * Runs, in one Playwright run on the matrix config, exactly the cells the faults need (a failed
 * cell restarts its worker and target, so no cell runs that the self-check does not judge), with
 * the faults on, and judges each fault.
 */
export async function runSelfCheck(options: SelfCheckOptions): Promise<SelfCheckReport> {
  const faults = options.faults ?? SELF_CHECK_FAULTS;
  if (faults.length === 0) throw new Error('self-check: no fault selected');
  const timeoutMs = options.timeoutMs ?? 900_000;
  const referenceClients = options.referenceClients ?? ['smbclient'];
  const clients = ['smb-ts', ...referenceClients];
  const targets = [...new Set(faults.flatMap((f) => [...f.red, ...f.green]))];
  const projects = targets.map((t) => `--project=${t}`);
  const env = { SMB_INTEROP_CLIENTS: clients.join(','), SMB_INTEROP_SELF_CHECK_FAULTS: faults.map((f) => f.name).join(',') };
  const listing = await playwright(['test', '-c', 'playwright.config.ts', '--list', '--reporter=json', ...projects], env, timeoutMs);
  let suites: JsonSuite[];
  try {
    suites = (JSON.parse(listing.stdout) as { suites: JsonSuite[] }).suites;
  } catch {
    throw new Error(`self-check: listing the tests failed (exit code ${listing.code}):\n${listing.stderr.slice(-4000)}`);
  }
  const wanted = wantedCells(faults, referenceClients);
  const selected = suites.flatMap((s) => listedCells(s, [s.title], [])).filter((c) => wanted.has(`${c.client}|${c.target}|${c.scenario}`));
  const missing = [...wanted].filter((key) => !selected.some((c) => `${c.client}|${c.target}|${c.scenario}` === key));
  if (missing.length > 0) throw new Error(`self-check: no test for ${missing.join(', ')}`);
  const grep = selected.map((c) => `^${escapeRegExp(c.grepTitle)}( @\\S+)*$`).join('|');
  const runId = options.runId ?? 'self-check';
  const run = await playwright(['test', '-c', 'playwright.config.ts', ...projects, `--grep=${grep}`, ...(options.workers ? [`--workers=${options.workers}`] : [])], {
    ...env, SMB_INTEROP_RESULTS_DIR: options.resultsDir, SMB_INTEROP_RUN_ID: runId, SMB_INTEROP_TRACE: 'retain-on-failure',
  }, timeoutMs);
  const runDir = join(options.resultsDir, runId);
  const file = join(runDir, 'matrix.json');
  if (!existsSync(file)) throw new Error(`self-check: the run wrote no ${file} (exit code ${run.code}):\n${(run.stdout + run.stderr).slice(-4000)}`);
  const cells = (JSON.parse(await readFile(file, 'utf8')) as { cells: MatrixCell[] }).cells;
  return {
    verdicts: faults.map((f) => judgeFault(f, cells)),
    // A red cell is compared with these: one that did not pass leaves it without a reference.
    referencesBroken: cells.filter((c) => c.client !== 'smb-ts' && c.outcome !== 'passed' && c.outcome !== 'flaky'),
    runDir,
    output: run.stdout + run.stderr,
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
    for (const c of v.red.filter((r) => !RED_OUTCOMES.has(r.outcome))) lines.push(`    not killed on ${c.target}: ${c.outcome}${c.reason ? ` (${c.reason})` : ''}`);
    if (v.killed && !v.named) {
      for (const c of v.red.filter((r) => !v.fault.cause.test(r.explanation.join('\n')))) {
        lines.push(`    cause (${v.fault.cause.source}) not named on ${c.target}: ${c.explanation.join(' | ') || 'no explanation'}`);
      }
    }
    for (const c of v.harmed) lines.push(`    should have stayed green on ${c.target}: ${c.outcome}${c.reason ? ` (${c.reason})` : ''}`);
  }
  for (const c of report.referencesBroken) lines.push(`reference cell not green: ${c.client} × ${c.target} × ${c.scenario}: ${c.outcome}`);
  const killed = report.verdicts.filter((v) => v.killed).length;
  const named = report.verdicts.filter((v) => v.named).length;
  lines.push(`kill rate: ${percent(killed, report.verdicts.length)}; named-cause rate: ${percent(named, report.verdicts.length)}`);
  return `${lines.join('\n')}\n`;
}
