/**
 * Two matrix runs at once on one machine (two CI jobs on one runner, a developer's matrix beside
 * `npm test`) must not interfere: both green, and neither leaves a server, a directory or an
 * account behind.
 */
import { test, expect } from '@playwright/test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMatrix } from './schema.js';
import { ROOT, runCli } from './testing/cli.js';

/** Processes whose command line mentions `dir`: a server of that run still alive. */
function processesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(dir)) found.push(`${pid}: ${cmdline.trim()}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

test('two matrix runs at once on one machine are both green and leave no server, directory or account behind', async ({}, testInfo) => {
  test.setTimeout(480_000);
  expect(existsSync(join(ROOT, 'dist/cli/main.js')), 'the CLI is built (npm run build)').toBe(true);
  const passwdBefore = await readFile('/etc/passwd', 'utf8');
  // Short temp dirs of their own: smbd's sockets live below them, and socket paths are short.
  const runs = await Promise.all(['first', 'second'].map(async (name) => ({ name, tmp: await mkdtemp(join(tmpdir(), `si-${name}-`)), results: testInfo.outputPath(`results-${name}`) })));
  for (const run of runs) await chmod(run.tmp, 0o755); // the targets' accounts pass through it
  try {
    await bothRuns(runs, passwdBefore);
  } finally {
    for (const run of runs) await rm(run.tmp, { recursive: true, force: true });
  }
});

async function bothRuns(runs: ReadonlyArray<{ name: string; tmp: string; results: string }>, passwdBefore: string): Promise<void> {
  const outcomes = await Promise.all(runs.map((run) => runCli(
    ['run', '--targets', 'smb311-gcm,smb202-legacy', '--scenarios', 'files/round-trip-*,protocol/two-connections,tree/*', '--clients', 'smb-ts,smbclient', '--results', run.results, '--id', run.name, '--workers', '2'],
    { TMPDIR: run.tmp },
    400_000,
  )));
  for (const [i, outcome] of outcomes.entries()) expect(outcome.code, `${runs[i]!.name} run:\n${(outcome.stdout + outcome.stderr).slice(-3000)}`).toBe(0);
  for (const run of runs) {
    const matrix = await readMatrix(join(run.results, run.name, 'matrix.json'));
    const passed = matrix.cells.filter((c) => c.outcome === 'passed');
    const other = matrix.cells.filter((c) => c.outcome !== 'passed' && c.outcome !== 'not-applicable').map((c) => `${c.client} ${c.target} ${c.scenario}: ${c.outcome}`);
    expect(other, `${run.name}: cells neither passed nor not applicable`).toEqual([]);
    expect(passed.length, `${run.name}: passed cells`).toBeGreaterThanOrEqual(10);
    expect(passed.map((c) => c.target).sort().filter((t, i, a) => a.indexOf(t) === i)).toEqual(['smb202-legacy@native', 'smb311-gcm@native']);
    // Nothing of the run is left: no smbd under its temp dir, no target directory.
    expect(processesUnder(run.tmp), `${run.name}: processes left`).toEqual([]);
    expect(readdirSync(run.tmp).filter((entry) => entry.startsWith('smb-interop-')), `${run.name}: directories left`).toEqual([]);
  }
  // Accounts live in each target's own passwd file: the machine's is as it was.
  const added = (await readFile('/etc/passwd', 'utf8')).split('\n').filter((line) => line !== '' && !passwdBefore.includes(line));
  expect(added).toEqual([]);
}
