/**
 * Running Playwright Test on the matrix config: the path of its CLI, listing tests (with their
 * annotations) as JSON, and spawning a run that ends when the parent is interrupted.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { identifyParts, type AnnotationEntry, type CellIdentity } from '../matrix/cells.js';
import { packageRoot } from '../clients/plugins/registry.js';
import { UsageError } from './selection.js';

/** The project root: the directory of smb-interop's package.json (this checkout, or the installed package). */
export function projectRoot(): string {
  return packageRoot();
}

/**
 * An installed package (under node_modules) runs its compiled config, reporter and scenarios from
 * dist/: Playwright compiles no TypeScript under node_modules. It works in the user's directory
 * (their smb-interop.config.*, their results/), not in the package's.
 */
export function isInstalledPackage(root: string = projectRoot()): boolean {
  return root.split(sep).includes('node_modules');
}

/** The matrix reporter module the config names, resolved: TypeScript in a checkout, compiled when installed. */
export function reporterModule(): string {
  const root = projectRoot();
  return isInstalledPackage(root) ? join(root, 'dist', 'matrix', 'reporter.js') : join(root, 'matrix', 'reporter.ts');
}

/** Where Playwright runs: the project root of a checkout, the user's directory for an installed package. */
export function workingDirectory(): string {
  const root = projectRoot();
  return isInstalledPackage(root) ? process.cwd() : root;
}

export function playwrightCli(): string {
  return createRequire(import.meta.url).resolve('@playwright/test/cli');
}

export interface ListedTest extends CellIdentity {
  file: string;
  describes: string[];
}

export interface Listing {
  projects: string[];
  tests: ListedTest[];
}

interface JsonSuite {
  title: string;
  file: string;
  specs?: { title: string; tests: { projectName: string; annotations: AnnotationEntry[] }[] }[];
  suites?: JsonSuite[];
}

interface JsonReport {
  config: { projects: { name: string }[] };
  suites: JsonSuite[];
  errors: { message?: string }[];
}

/** Reads `playwright test --list --reporter=json` output. */
export function parseListing(json: string): Listing {
  const report = JSON.parse(json) as JsonReport;
  if (report.errors?.length) throw new Error(`playwright could not list the tests:\n${report.errors.map((e) => e.message ?? '').join('\n')}`);
  const tests: ListedTest[] = [];
  const walk = (suite: JsonSuite, describes: string[]) => {
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests) {
        const identity = identifyParts({ target: t.projectName, file: suite.file, describes, title: spec.title, annotations: t.annotations });
        tests.push({ ...identity, file: suite.file, describes });
      }
    }
    for (const child of suite.suites ?? []) walk(child, [...describes, child.title]);
  };
  for (const fileSuite of report.suites) walk(fileSuite, []);
  return { projects: report.config.projects.map((p) => p.name), tests };
}

export interface SpawnResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the Playwright CLI. `capture` collects output instead of showing it. SIGINT/SIGTERM sent
 * to us go to the child too; we wait for it so its reporter and fixtures clean up.
 */
export function runPlaywright(args: string[], env: NodeJS.ProcessEnv, options: { capture?: boolean; timeoutMs?: number } = {}): Promise<SpawnResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [playwrightCli(), ...args], {
      cwd: workingDirectory(),
      env,
      stdio: options.capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGTERM'), options.timeoutMs) : undefined;
    const done = () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      if (timer) clearTimeout(timer);
    };
    child.on('error', (e) => {
      done();
      reject(e);
    });
    child.on('close', (code, signal) => {
      done();
      resolveRun({ code: code ?? (signal ? 130 : 1), stdout, stderr });
    });
  });
}

export function matrixConfig(): string {
  const root = projectRoot();
  return isInstalledPackage(root) ? join(root, 'dist', 'playwright.config.js') : resolve(root, 'playwright.config.ts');
}

export interface PreparedConfig {
  path: string;
  dispose(): Promise<void>;
}

/**
 * The Playwright config of a run: the project's matrix config, or, for another scenario
 * directory, a small config extending it with that directory as testDir. In a checkout it is
 * written under the project (.smb-interop/, git-ignored) so that it loads as an ES module like the
 * project's own files; an installed package writes it as plain JavaScript (.mjs) to a temporary
 * directory, and always (its outputs belong in the user's results/, not under node_modules).
 * dispose() removes it.
 */
export async function prepareConfig(scenariosDir: string | undefined): Promise<PreparedConfig> {
  const root = projectRoot();
  const installed = isInstalledPackage(root);
  if (!scenariosDir && !installed) return { path: matrixConfig(), dispose: async () => {} };
  const dir = scenariosDir ? resolve(scenariosDir) : undefined;
  if (scenariosDir && dir && !existsSync(dir)) throw new UsageError(`--scenarios-dir ${scenariosDir}: no such directory`);
  const base = matrixConfig();
  const outputRoot = installed ? process.cwd() : root;
  const source = [
    '// Written by smb-interop for one run; removed when the run ends.',
    // In a checkout Playwright maps playwright.config.js to the TypeScript config.
    `import base from ${JSON.stringify(join(dirname(base), 'playwright.config.js'))};`,
    `const configDir = ${JSON.stringify(dirname(base))};`,
    'export default {',
    '  ...base,',
    ...(dir ? [`  testDir: ${JSON.stringify(dir)},`] : [`  testDir: ${JSON.stringify(join(dirname(base), 'harness', 'scenarios'))},`]),
    `  outputDir: ${JSON.stringify(join(outputRoot, 'results', '.playwright'))},`,
    "  reporter: base.reporter.map(([name, options]) => [name.startsWith('.') ? `${configDir}/${name}` : name, options]),",
    '};',
    '',
  ].join('\n');
  if (installed) {
    const scratch = await mkdtemp(join(tmpdir(), 'smb-interop-config-'));
    const path = join(scratch, 'matrix.config.mjs');
    await writeFile(path, source);
    return { path, dispose: () => rm(scratch, { recursive: true, force: true }) };
  }
  const scratch = join(root, '.smb-interop');
  await mkdir(scratch, { recursive: true });
  const path = join(scratch, `matrix-${process.pid}-${randomBytes(4).toString('hex')}.config.ts`);
  await writeFile(path, source);
  return { path, dispose: () => rm(path, { force: true }) };
}

/** Every test of a matrix config (for the given environment), with its cell identity. */
export async function listTests(env: NodeJS.ProcessEnv, config: string = matrixConfig()): Promise<Listing> {
  const result = await runPlaywright(['test', '-c', config, '--list', '--reporter=json'], env, { capture: true, timeoutMs: 120_000 });
  const start = result.stdout.indexOf('{');
  if (start < 0) throw new Error(`playwright test --list failed (exit ${result.code}):\n${result.stderr.trim() || result.stdout.trim()}`);
  return parseListing(result.stdout.slice(start));
}

/** A --grep pattern selecting exactly these tests by their title path. */
export function grepFor(tests: readonly Pick<ListedTest, 'file' | 'describes' | 'title'>[]): string {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const titles = [...new Set(tests.map((t) => escape([t.file, ...t.describes, t.title].join(' '))))];
  return `/(?:^| )(?:${titles.join('|')})(?: @|$)/`;
}
