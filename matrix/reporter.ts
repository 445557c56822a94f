/**
 * The Playwright reporter of the compatibility matrix: writes results/<run-id>/matrix.json, copies
 * each cell's traces to results/<run-id>/cells/<target>/<client>/<scenario>/, renders index.html,
 * summary.md and junit.xml, and shows progress while the run goes.
 *
 * Environment: SMB_INTEROP_RESULTS_DIR (default: results/ beside the config), SMB_INTEROP_RUN_ID
 * (default: the start time, e.g. 2026-11-25T07-30-12Z), SMB_INTEROP_EXPECTATIONS (default:
 * matrix/expectations.json beside this file), SMB_INTEROP_COMMAND_LINE (JSON array: the command to record).
 */
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FullConfig, FullResult, Reporter, Suite, TestCase, TestResult } from '@playwright/test/reporter';
import { buildMatrix } from './build.js';
import { identify, progressKey, type TestRun } from './cells.js';
import { loadRunExpectations, type ExpectationEntry } from './expectations.js';
import { ProgressLine } from './progress.js';
import { renderRunDirectory } from './render/index.js';
import { errorHeadline } from './render/summary.js';
import { writeMatrix, type DeclaredSettings, type Matrix } from './schema.js';

export interface MatrixReporterOptions {
  resultsDir?: string;
  runId?: string;
  expectations?: string;
  /** Print progress and the closing lines (default true). */
  progress?: boolean;
  /** Where progress goes (default process.stdout). */
  write?: (text: string) => void;
  tty?: boolean;
  /** What each profile declares, for targets that reported nothing (default: read from the catalog). */
  declaredByProfile?: ReadonlyMap<string, DeclaredSettings>;
}

/** `2026-11-25T07-30-12Z`: sortable, and valid as a directory name everywhere. */
export function runIdFor(moment: Date): string {
  return moment.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

function readPackageVersion(dir: string): string | null {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return null;
  try {
    const version = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
    return typeof version === 'string' ? version : null;
  } catch {
    return null;
  }
}

async function catalogDeclarations(): Promise<Map<string, DeclaredSettings>> {
  try {
    const { loadCatalog } = await import('../servers/catalog/index.js');
    const catalog = await loadCatalog();
    return new Map(catalog.profiles.map((p) => [p.name, { ...p.expect }]));
  } catch {
    return new Map();
  }
}

/** The command the user ran: as the CLI recorded it, else Playwright's own arguments. */
function recordedCommandLine(): string[] {
  const recorded = process.env.SMB_INTEROP_COMMAND_LINE;
  if (recorded) {
    try {
      const parsed: unknown = JSON.parse(recorded);
      if (Array.isArray(parsed) && parsed.every((a) => typeof a === 'string')) return parsed;
    } catch {
      // fall through to Playwright's arguments
    }
  }
  return ['playwright', ...process.argv.slice(2)];
}

export default class MatrixReporter implements Reporter {
  private readonly runs: TestRun[] = [];
  private config!: FullConfig;
  private start = new Date();
  private targets: string[] = [];
  private progress: ProgressLine | undefined;
  /** Per cell (progress key): tests not yet finished for good. */
  private readonly pending = new Map<string, Set<TestCase>>();
  private readonly failedKeys = new Set<string>();
  private readonly write: (text: string) => void;
  /** The run directory, once onEnd has written it. */
  runDir: string | undefined;
  matrix: Matrix | undefined;

  constructor(private readonly options: MatrixReporterOptions = {}) {
    this.write = options.write ?? ((text) => process.stdout.write(text));
  }

  printsToStdio(): boolean {
    return this.options.progress !== false;
  }

  onBegin(config: FullConfig, suite: Suite): void {
    this.config = config;
    this.start = new Date();
    this.targets = suite.suites.map((s) => s.title).filter(Boolean);
    for (const test of suite.allTests()) {
      const key = progressKey(test);
      const set = this.pending.get(key) ?? new Set<TestCase>();
      set.add(test);
      this.pending.set(key, set);
    }
    if (this.options.progress !== false) {
      this.progress = new ProgressLine({ total: this.pending.size, tty: this.options.tty ?? process.stdout.isTTY === true, write: this.write });
      this.write(`matrix: ${this.pending.size} cells on ${this.targets.length} targets${config.shard ? ` (shard ${config.shard.current}/${config.shard.total})` : ''}\n`);
      this.progress.startHeartbeat();
    }
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    this.runs.push({ test, result });
    const final = result.status === 'passed' || result.status === 'skipped' || result.retry >= test.retries;
    if (!final) return;
    const key = progressKey(test);
    if (result.status !== 'passed' && result.status !== 'skipped' && !this.failedKeys.has(key)) {
      this.failedKeys.add(key);
      const id = identify(test, result);
      const message = (result.error?.message ?? '').split('\n')[0]?.replace(/\u001b\[[0-9;]*m/g, '') ?? '';
      this.progress?.cellDone(`${id.client} × ${id.target} × ${id.scenario}: ${message || result.status}`);
      this.finishTest(key, test, false);
      return;
    }
    this.finishTest(key, test, true);
  }

  private finishTest(key: string, test: TestCase, count: boolean): void {
    const set = this.pending.get(key);
    if (!set) return;
    set.delete(test);
    if (set.size === 0) {
      this.pending.delete(key);
      if (count && !this.failedKeys.has(key)) this.progress?.cellDone();
    }
  }

  private resolveResultsDir(configDir: string): string {
    return resolve(configDir, this.options.resultsDir ?? process.env.SMB_INTEROP_RESULTS_DIR ?? 'results');
  }

  private async expectations(configDir: string): Promise<ExpectationEntry[]> {
    return loadRunExpectations(configDir, this.options.expectations ?? process.env.SMB_INTEROP_EXPECTATIONS);
  }

  async onEnd(_result: FullResult): Promise<void> {
    this.progress?.finish();
    if (this.runs.length === 0) {
      // `--list`, or a selection that matched nothing: there is no run to record.
      if (this.options.progress !== false) this.write('matrix: no cell ran; nothing written\n');
      return;
    }
    const configDir = this.config.configFile ? dirname(this.config.configFile) : process.cwd();
    const resultsDir = this.resolveResultsDir(configDir);
    const end = new Date();
    let runId = this.options.runId ?? process.env.SMB_INTEROP_RUN_ID ?? runIdFor(this.start);
    if (!this.options.runId && !process.env.SMB_INTEROP_RUN_ID) {
      for (let n = 2; existsSync(join(resultsDir, runId)); n++) runId = `${runIdFor(this.start)}-${n}`;
    }
    const runDir = join(resultsDir, runId);
    const commandLine = recordedCommandLine();
    const shown = relative(process.cwd(), runDir);
    const displayRoot = shown && !shown.startsWith('..') ? shown : runDir;
    const { matrix, copies } = buildMatrix({
      runs: this.runs,
      run: {
        id: runId,
        start: this.start.toISOString(),
        end: end.toISOString(),
        host: hostname(),
        nodeVersion: process.version,
        clientVersion: readPackageVersion(fileURLToPath(new URL('..', import.meta.url))) ?? readPackageVersion(configDir) ?? 'unknown',
        commandLine,
        shard: this.config.shard ? { current: this.config.shard.current, total: this.config.shard.total } : null,
      },
      targets: this.targets,
      expectations: await this.expectations(configDir),
      declaredByProfile: this.options.declaredByProfile ?? (await catalogDeclarations()),
      displayPath: (p) => join(displayRoot, p),
      now: end,
    });
    await mkdir(runDir, { recursive: true });
    for (const copy of copies) {
      const to = join(runDir, copy.to);
      await mkdir(dirname(to), { recursive: true });
      if ('path' in copy.from) {
        if (existsSync(copy.from.path)) await copyFile(copy.from.path, to);
      } else await writeFile(to, copy.from.body);
    }
    await writeMatrix(join(runDir, 'matrix.json'), matrix);
    this.runDir = runDir;
    this.matrix = matrix;
    try {
      await renderRunDirectory(runDir);
    } catch (e) {
      this.write(`matrix: rendering the reports failed: ${(e as Error).message}\n`);
    }
    if (this.options.progress !== false) this.printClosing(matrix, displayRoot);
  }

  private printClosing(matrix: Matrix, displayRoot: string): void {
    const bad = matrix.cells.filter((c) => c.outcome === 'failed' || c.outcome === 'unexpected-pass' || c.outcome === 'infra-error');
    for (const c of bad) this.write(`  ${c.outcome}: ${c.client} × ${c.target} × ${c.scenario}${errorHeadline(c) ? ` — ${errorHeadline(c)}` : c.reason ? ` — ${c.reason}` : ''}\n`);
    for (const e of matrix.run.expiredExpectations) this.write(`  expired expectation (not applied): ${e.client} ${e.target} ${e.scenario}, expired ${e.expires}\n`);
    this.write(`matrix: ${matrix.cells.length} cells written to ${join(displayRoot, 'matrix.json')}\n`);
  }
}
