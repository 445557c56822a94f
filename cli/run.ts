/**
 * `run`, `repro` and `scenarios`: drive Playwright Test on the matrix config, then read what the
 * matrix reporter wrote and decide the exit code.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { ClientId } from '../harness/annotations.js';
import { loadExpectations } from '../matrix/expectations.js';
import { runIdFor } from '../matrix/reporter.js';
import { GATING_OUTCOMES, readMatrix, type Cell, type Matrix } from '../matrix/schema.js';
import { OUTCOME_LABEL, countOutcomes, describeCounts, errorHeadline } from '../matrix/render/summary.js';
import { pad } from './format.js';
import { grepFor, isInstalledPackage, listTests, prepareConfig, projectRoot, runPlaywright, type Listing } from './playwright.js';
import { UsageError, selectClients, selectScenarios, selectTargets, type ProviderChoice } from './selection.js';
import { unknownNameMessage } from './suggest.js';
import { TARGET_SECONDS_ENV, lastTargetSeconds, loadReferenceSeconds } from './target-times.js';

export interface RunOptions {
  targets: string[];
  scenarios: string[];
  clients: string[];
  /** Unset: the config's choice (native, and remote targets it names). */
  provider?: ProviderChoice;
  repeat?: number;
  trace: 'on' | 'off' | 'retain-on-failure';
  workers?: number;
  shard?: { current: number; total: number };
  allowInfraErrors: boolean;
  resultsDir?: string;
  /** Recorded in matrix.json as the command line. */
  commandLine: string[];
  runId?: string;
  /** Extra environment for the harness (e.g. the catalog config). */
  env?: NodeJS.ProcessEnv;
  /** Another scenario directory than harness/scenarios. */
  scenariosDir?: string;
}

function out(text: string): void {
  process.stdout.write(text);
}

/** The environment the harness reads, from the run's options. */
function harnessEnv(options: Pick<RunOptions, 'clients' | 'provider' | 'trace' | 'env'>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, SMB_INTEROP_TRACE: options.trace };
  if (options.provider) env.SMB_INTEROP_PROVIDER = options.provider;
  if (env.SMB_INTEROP_EXPECTATIONS) env.SMB_INTEROP_EXPECTATIONS = resolve(env.SMB_INTEROP_EXPECTATIONS);
  // The compiled reporter has no expectations file beside it: an installed package names its own.
  else if (isInstalledPackage()) env.SMB_INTEROP_EXPECTATIONS = join(projectRoot(), 'matrix', 'expectations.json');
  if (options.clients.length > 0) env.SMB_INTEROP_CLIENTS = options.clients.join(',');
  return env;
}

function knownClients(listing: Listing): string[] {
  return [...new Set([...Object.values(ClientId), ...listing.tests.map((t) => t.client)])];
}

export function resultsDirectory(option: string | undefined): string {
  const root = projectRoot();
  return resolve(process.cwd(), option ?? process.env.SMB_INTEROP_RESULTS_DIR ?? join(isInstalledPackage(root) ? process.cwd() : root, 'results'));
}

function freshRunId(resultsDir: string, base: string): string {
  let id = base;
  for (let n = 2; existsSync(join(resultsDir, id)); n++) id = `${base}-${n}`;
  return id;
}

/** Paths as the user should type them: relative to the current directory when inside it. */
export function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

export function isGating(cell: Cell, allowInfraErrors: boolean): boolean {
  return GATING_OUTCOMES.includes(cell.outcome) && !(allowInfraErrors && cell.outcome === 'infra-error');
}

/** Runs the selected cells; returns the matrix the reporter wrote and where. */
export async function runMatrix(options: RunOptions): Promise<{ matrix: Matrix; runDir: string; playwrightCode: number }> {
  const env = harnessEnv(options);
  // A broken expectations file stops the run before any server starts.
  const expectations = env.SMB_INTEROP_EXPECTATIONS;
  await loadExpectations(expectations ?? join(projectRoot(), 'matrix', 'expectations.json'), { optional: !expectations });
  const config = await prepareConfig(options.scenariosDir);
  try {
    return await runWithConfig(options, env, config.path);
  } finally {
    await config.dispose();
  }
}

async function runWithConfig(options: RunOptions, env: NodeJS.ProcessEnv, config: string): Promise<{ matrix: Matrix; runDir: string; playwrightCode: number }> {
  const listing = await listTests(env, config);
  const targets = selectTargets(options.targets, listing.projects);
  const clients = selectClients(options.clients, knownClients(listing));
  const inTargets = listing.tests.filter((t) => targets.includes(t.target) && (clients.length === 0 || clients.includes(t.client)));
  const scenarios = selectScenarios(options.scenarios, inTargets.map((t) => t.scenario));
  const selected = inTargets.filter((t) => scenarios.includes(t.scenario));
  if (selected.length === 0) throw new UsageError(`no test matches: targets ${targets.join(', ')}; scenarios ${options.scenarios.join(', ') || 'all'}; clients ${clients.join(', ') || 'all'}`);

  const resultsDir = resultsDirectory(options.resultsDir);
  const base = options.runId ?? `${runIdFor(new Date())}${options.shard ? `-shard${options.shard.current}of${options.shard.total}` : ''}`;
  const runId = options.runId ?? freshRunId(resultsDir, base);
  // Each run its own Playwright output directory: Playwright empties it when a run starts, so a
  // shared one lost the traces of another run going on beside it. The reporter copies what a
  // cell keeps into the run directory; the rest goes when the run ends.
  const outputDir = join(resultsDir, '.playwright', runId);
  const args = ['test', '-c', config, `--output=${outputDir}`, ...targets.map((t) => `--project=${t}`)];
  if (options.scenarios.length > 0 || options.clients.length > 0) args.push(`--grep=${grepFor(selected)}`);
  if (options.repeat !== undefined) args.push(`--repeat-each=${options.repeat}`);
  if (options.workers !== undefined) args.push(`--workers=${options.workers}`);
  if (options.shard) args.push(`--shard=${options.shard.current}/${options.shard.total}`);

  out(`smb-interop: ${new Set(selected.map((t) => t.scenario)).size} scenarios x ${targets.length} targets (${selected.length} cells); results in ${shown(join(resultsDir, runId))}\n`);
  const result = await runPlaywright(args, {
    ...env,
    // How many targets share the workers (playwright.config.ts gives each target its part).
    SMB_INTEROP_SELECTED_TARGETS: String(targets.length),
    // The targets whose selected cells took longest in the last runs start first.
    [TARGET_SECONDS_ENV]: JSON.stringify(await lastTargetSeconds(resultsDir, selected, { reference: await loadReferenceSeconds(join(projectRoot(), 'matrix', 'cell-seconds.json')) })),
    ...(options.workers !== undefined ? { SMB_INTEROP_WORKERS: String(options.workers) } : {}),
    SMB_INTEROP_RUN_ID: runId,
    SMB_INTEROP_RESULTS_DIR: resultsDir,
    SMB_INTEROP_COMMAND_LINE: JSON.stringify(options.commandLine),
  });
  await rm(outputDir, { recursive: true, force: true });
  const runDir = join(resultsDir, runId);
  const file = join(runDir, 'matrix.json');
  if (!existsSync(file)) throw new Error(`the run wrote no ${shown(file)} (playwright exited with code ${result.code}); see its output above`);
  return { matrix: await readMatrix(file), runDir, playwrightCode: result.code };
}

/** The closing lines of a run: counts, each gating cell, where the reports are. Returns the exit code. */
export function reportGate(matrix: Matrix, runDir: string, allowInfraErrors: boolean): number {
  const gating = matrix.cells.filter((c) => isGating(c, allowInfraErrors));
  out(`\n${matrix.cells.length} cells: ${describeCounts(countOutcomes(matrix.cells))}\n`);
  for (const c of gating) {
    const why = errorHeadline(c) ?? c.reason ?? '';
    out(`  ${pad(OUTCOME_LABEL[c.outcome], 16)}${c.client} x ${c.target} x ${c.scenario}${why ? `: ${why}` : ''}\n`);
  }
  const waived = allowInfraErrors ? matrix.cells.filter((c) => c.outcome === 'infra-error').length : 0;
  if (waived > 0) out(`  (${waived} infra-error cells allowed by --allow-infra-errors)\n`);
  out(`report:  ${shown(join(runDir, 'index.html'))}\nsummary: ${shown(join(runDir, 'summary.md'))}\n`);
  return gating.length > 0 ? 1 : 0;
}

export async function commandRun(options: RunOptions): Promise<number> {
  const { matrix, runDir } = await runMatrix(options);
  return reportGate(matrix, runDir, options.allowInfraErrors);
}

export interface ReproOptions {
  scenariosDir?: string;
  target: string;
  scenario: string;
  client: string;
  resultsDir?: string;
  commandLine: string[];
  env?: NodeJS.ProcessEnv;
}

/** Reruns one cell with full traces and prints where they are and how to open them. */
export async function commandRepro(options: ReproOptions): Promise<number> {
  const config = await prepareConfig(options.scenariosDir);
  let listing: Listing;
  try {
    listing = await listTests(harnessEnv({ clients: [], provider: 'all', trace: 'on', env: options.env }), config.path);
  } finally {
    await config.dispose();
  }
  const targets = listing.projects.filter((p) => p === options.target || (!options.target.includes('@') && p.startsWith(`${options.target}@`)));
  if (targets.length === 0) throw new UsageError(unknownNameMessage('target', options.target, listing.projects));
  const target = targets.includes(`${options.target}@native`) ? `${options.target}@native` : (targets[0] as string);
  const scenarios = [...new Set(listing.tests.filter((t) => t.target === target).map((t) => t.scenario))];
  if (!scenarios.includes(options.scenario)) throw new UsageError(unknownNameMessage('scenario', options.scenario, scenarios));
  const { matrix, runDir } = await runMatrix({
    targets: [target],
    scenarios: [options.scenario],
    clients: [options.client],
    provider: 'all',
    trace: 'on',
    workers: 1,
    allowInfraErrors: false,
    commandLine: options.commandLine,
    runId: `repro-${runIdFor(new Date())}`,
    ...(options.resultsDir ? { resultsDir: options.resultsDir } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.scenariosDir ? { scenariosDir: options.scenariosDir } : {}),
  });
  const cell = matrix.cells.find((c) => c.target === target && c.scenario === options.scenario && c.client === options.client);
  if (!cell) throw new Error(`the rerun produced no cell for ${options.client} x ${target} x ${options.scenario}`);
  out(`\n${cell.client} x ${cell.target} x ${cell.scenario}: ${OUTCOME_LABEL[cell.outcome]}${cell.reason ? ` (${cell.reason})` : ''}\n`);
  // The explanation leads: the violated rules and the server's reason say why before the error says what.
  for (const line of cell.explanation ?? []) out(`  why: ${line}\n`);
  for (const v of cell.explanation === undefined ? (cell.specViolations ?? []) : []) out(`  spec warning: ${v.rule} (${v.section}): ${v.detail}\n`);
  if (cell.error) out(`  error: ${cell.error.message.split('\n')[0]}\n`);
  if (cell.failingStep) out(`  failing step: ${cell.failingStep}\n`);
  for (const [kind, path] of Object.entries(cell.attachments)) out(`  ${pad(kind, 16)}${shown(join(runDir, path))}\n`);
  if (cell.wireshark) out(`open the capture decrypted:\n  ${cell.wireshark}\n`);
  out(`report:  ${shown(join(runDir, 'index.html'))}\n`);
  return isGating(cell, false) ? 1 : 0;
}

/** Lists the scenarios with their area, requirements, clients and targets. */
export async function commandScenarios(options: { provider?: ProviderChoice; clients: string[]; json: boolean; env?: NodeJS.ProcessEnv; scenariosDir?: string }): Promise<number> {
  const config = await prepareConfig(options.scenariosDir);
  let listing: Listing;
  try {
    listing = await listTests(harnessEnv({ clients: options.clients, trace: 'off', env: options.env, ...(options.provider ? { provider: options.provider } : {}) }), config.path);
  } finally {
    await config.dispose();
  }
  const byId = new Map<string, { id: string; area: string; title: string; requirements: string[]; clients: Set<string>; targets: Set<string> }>();
  for (const t of listing.tests) {
    const entry = byId.get(t.scenario) ?? { id: t.scenario, area: t.area, title: t.title, requirements: t.requirements, clients: new Set<string>(), targets: new Set<string>() };
    entry.clients.add(t.client);
    entry.targets.add(t.target);
    byId.set(t.scenario, entry);
  }
  const rows = [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
  if (options.json) {
    out(`${JSON.stringify(rows.map((r) => ({ ...r, clients: [...r.clients], targets: [...r.targets] })), null, 2)}\n`);
    return 0;
  }
  const width = Math.max(10, ...rows.map((r) => r.id.length + 2));
  out(`${pad('scenario', width)}${pad('requires', 28)}${pad('clients', 20)}title\n`);
  for (const r of rows) out(`${pad(r.id, width)}${pad(r.requirements.join(', ') || '-', 28)}${pad([...r.clients].join(', '), 20)}${r.title}\n`);
  out(`\n${rows.length} scenarios on ${listing.projects.length} targets\n`);
  return 0;
}
