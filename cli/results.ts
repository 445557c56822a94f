/** `report`, `compare` and `merge`: work on runs already written under results/. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compareMatrices, type CellChange } from '../matrix/compare.js';
import { mergeRunDirectories } from '../matrix/merge.js';
import { runIdFor } from '../matrix/reporter.js';
import { renderRunDirectory } from '../matrix/render/index.js';
import { OUTCOME_LABEL, countOutcomes, describeCounts, errorHeadline } from '../matrix/render/summary.js';
import { readMatrix } from '../matrix/schema.js';
import { matrixConfig, reporterModule, runPlaywright } from './playwright.js';
import { reportGate, resultsDirectory, shown } from './run.js';
import { UsageError } from './selection.js';

function out(text: string): void {
  process.stdout.write(text);
}

/** A run named by directory, matrix.json file, or run id under the results directory. */
export function locateRun(name: string, resultsDir: string): string {
  for (const candidate of [resolve(name), join(resultsDir, name)]) {
    if (existsSync(join(candidate, 'matrix.json'))) return candidate;
    if (candidate.endsWith('matrix.json') && existsSync(candidate)) return resolve(candidate, '..');
  }
  const runs = existsSync(resultsDir) ? readdirSync(resultsDir).filter((d) => existsSync(join(resultsDir, d, 'matrix.json'))) : [];
  throw new UsageError(`no run "${name}": neither a directory with matrix.json nor a run under ${shown(resultsDir)}${runs.length ? ` (runs: ${runs.slice(-5).join(', ')})` : ''}`);
}

export async function commandReport(run: string | undefined, options: { resultsDir?: string }): Promise<number> {
  if (!run) throw new UsageError('report needs a run: a run id under results/ or a run directory');
  const runDir = locateRun(run, resultsDirectory(options.resultsDir));
  const rendered = await renderRunDirectory(runDir);
  for (const problem of rendered.problems) out(`warning: ${problem}\n`);
  out(`${rendered.matrix.cells.length} cells: ${describeCounts(countOutcomes(rendered.matrix.cells))}\n`);
  out(`report:  ${shown(join(runDir, 'index.html'))}\nsummary: ${shown(join(runDir, 'summary.md'))}\njunit:   ${shown(join(runDir, 'junit.xml'))}\nruns:    ${shown(join(runDir, '..', 'index.html'))}\n`);
  return 0;
}

function changeLine(change: CellChange): string {
  const { client, target, scenario } = change.key;
  const before = change.before ? OUTCOME_LABEL[change.before.outcome] : 'absent';
  const after = change.after ? OUTCOME_LABEL[change.after.outcome] : 'absent';
  const why = change.after ? (errorHeadline(change.after) ?? change.after.reason) : null;
  return `  ${client} x ${target} x ${scenario}: ${before} -> ${after}${why ? ` (${why})` : ''}\n`;
}

export async function commandCompare(baseline: string | undefined, current: string | undefined, options: { resultsDir?: string }): Promise<number> {
  if (!baseline || !current) throw new UsageError('compare needs two runs: BASELINE CURRENT');
  const resultsDir = resultsDirectory(options.resultsDir);
  const before = await readMatrix(join(locateRun(baseline, resultsDir), 'matrix.json'));
  const after = await readMatrix(join(locateRun(current, resultsDir), 'matrix.json'));
  const diff = compareMatrices(before, after);
  const sections: [string, CellChange[]][] = [
    ['regressions', diff.regressions],
    ['fixes', diff.fixes],
    ['new cells', diff.added],
    ['removed cells', diff.removed],
    ['other changes', diff.changed],
  ];
  out(`comparing ${after.run.id} with baseline ${before.run.id}\n`);
  for (const [title, changes] of sections) {
    out(`${title}: ${changes.length}\n`);
    for (const change of changes) out(changeLine(change));
  }
  return diff.regressions.length > 0 ? 1 : 0;
}

function isBlobInput(path: string): boolean {
  if (path.endsWith('.zip')) return true;
  return existsSync(path) && statSync(path).isDirectory() && !existsSync(join(path, 'matrix.json')) && readdirSync(path).some((f) => f.endsWith('.zip'));
}

export interface MergeOptions {
  resultsDir?: string;
  id?: string;
  allowInfraErrors: boolean;
  commandLine: string[];
}

/**
 * Shards' run directories (or matrix.json files) into one run; or a directory of Playwright blob
 * reports, replayed through the matrix reporter with `playwright merge-reports`.
 */
export async function commandMerge(inputs: string[], options: MergeOptions): Promise<number> {
  if (inputs.length === 0) throw new UsageError('merge needs inputs: shard run directories / matrix.json files, or one directory of Playwright blob reports');
  const resultsDir = resultsDirectory(options.resultsDir);
  const id = options.id ?? `${runIdFor(new Date())}-merged`;
  const outDir = join(resultsDir, id);
  if (existsSync(join(outDir, 'matrix.json'))) throw new UsageError(`${shown(outDir)} already holds a run; choose another --id`);
  const blobs = inputs.filter(isBlobInput);
  if (blobs.length > 0) {
    if (blobs.length !== inputs.length || inputs.length !== 1) throw new UsageError('give either one directory of blob reports or matrix.json inputs, not both');
    const result = await runPlaywright(['merge-reports', '-c', matrixConfig(), `--reporter=${reporterModule()}`, resolve(inputs[0] as string)], {
      ...process.env,
      SMB_INTEROP_RUN_ID: id,
      SMB_INTEROP_RESULTS_DIR: resultsDir,
      SMB_INTEROP_COMMAND_LINE: JSON.stringify(options.commandLine),
    });
    if (!existsSync(join(outDir, 'matrix.json'))) throw new Error(`merge-reports wrote no matrix (exit ${result.code})`);
  } else {
    const missing = inputs.filter((i) => !existsSync(i.endsWith('.json') ? i : join(i, 'matrix.json')));
    if (missing.length) throw new UsageError(`no matrix.json in ${missing.join(', ')}`);
    await mergeRunDirectories(inputs, outDir, options.commandLine);
  }
  await renderRunDirectory(outDir);
  const matrix = await readMatrix(join(outDir, 'matrix.json'));
  out(`merged ${inputs.length} input${inputs.length === 1 ? '' : 's'} into ${shown(outDir)}\n`);
  return reportGate(matrix, outDir, options.allowInfraErrors);
}
