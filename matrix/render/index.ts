/** Renders a run directory's reports from its matrix.json, and the results directory's run list. */
import { readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MatrixFileError, readMatrix, type Matrix } from '../schema.js';
import { orderRuns, renderHistory } from './history.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';

export { renderHtml, renderJunit, renderMarkdown, renderHistory };

export interface RunDirectoryListing {
  runs: Matrix[];
  /** Subdirectories whose matrix.json could not be read, with why. */
  problems: string[];
}

/** Every run under a results directory (subdirectories holding a matrix.json). */
export async function listRuns(resultsDir: string): Promise<RunDirectoryListing> {
  const listing: RunDirectoryListing = { runs: [], problems: [] };
  let entries;
  try {
    entries = await readdir(resultsDir, { withFileTypes: true });
  } catch {
    return listing;
  }
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const file = join(resultsDir, entry.name, 'matrix.json');
    if (!existsSync(file)) continue;
    try {
      listing.runs.push(await readMatrix(file));
    } catch (e) {
      listing.problems.push(e instanceof MatrixFileError ? e.message : `${file}: ${(e as Error).message}`);
    }
  }
  return listing;
}

/** The run that started last before `current`, if any. */
export function previousRun(runs: readonly Matrix[], current: Matrix): Matrix | undefined {
  return orderRuns(runs.filter((m) => m.run.id !== current.run.id && Date.parse(m.run.start) < Date.parse(current.run.start))).at(-1);
}

export interface RenderedRun {
  matrix: Matrix;
  html: string;
  markdown: string;
  junit: string;
  /** The results directory's run list. */
  history: string;
  previous: Matrix | undefined;
  problems: string[];
}

/**
 * Writes index.html, summary.md and junit.xml into the run directory and index.html into its
 * parent (the results directory). `previous` overrides the run compared against in summary.md.
 */
export async function renderRunDirectory(runDir: string, options: { previous?: Matrix } = {}): Promise<RenderedRun> {
  const matrix = await readMatrix(join(runDir, 'matrix.json'));
  const resultsDir = dirname(runDir);
  const listing = await listRuns(resultsDir);
  const runs = listing.runs.some((m) => m.run.id === matrix.run.id) ? listing.runs : [...listing.runs, matrix];
  const previous = options.previous ?? previousRun(runs, matrix);
  const rendered: RenderedRun = {
    matrix,
    html: renderHtml(matrix),
    markdown: renderMarkdown(matrix, previous),
    junit: renderJunit(matrix),
    history: renderHistory(runs),
    previous,
    problems: listing.problems,
  };
  await writeFile(join(runDir, 'index.html'), rendered.html);
  await writeFile(join(runDir, 'summary.md'), rendered.markdown);
  await writeFile(join(runDir, 'junit.xml'), rendered.junit);
  if (basename(resultsDir) !== '') await writeFile(join(resultsDir, 'index.html'), rendered.history);
  return rendered;
}
