/**
 * `merge` on Playwright blob reports: two shards of a small suite (plain tests carrying the
 * harness's annotations, no servers) are replayed through the matrix reporter into one run.
 */
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { readMatrix } from '../matrix/schema.js';
import { main } from './main.js';
import { playwrightCli } from './playwright.js';

const SUITE = `
import { test, expect } from '@playwright/test';
const cell = (scenario: string) => ({ annotation: [
  { type: 'scenario', description: scenario }, { type: 'area', description: scenario.split('/')[0] }, { type: 'client', description: 'smb-ts' },
] });
test('echo', cell('protocol/echo'), async ({}, testInfo) => {
  await testInfo.attach('server.log', { body: 'echo answered\\n', contentType: 'text/plain' });
});
test('tree connect', cell('tree/connect-share'), async () => {
  await test.step('connect', async () => {
    throw new Error('STATUS_ACCESS_DENIED (0xC0000022) on TREE_CONNECT \\\\\\\\127.0.0.1\\\\data');
  });
});
test('guest', cell('auth/guest'), async ({}, testInfo) => {
  testInfo.annotations.push({ type: 'not-applicable', description: 'no guests here' });
  test.skip(true, 'not applicable: no guests here');
});
`;

test('blob reports of two shards merge into one matrix with the cells of both', async ({}, testInfo) => {
  test.setTimeout(120_000);
  const suiteDir = testInfo.outputPath('suite');
  const blobs = testInfo.outputPath('blobs');
  const results = testInfo.outputPath('results');
  await mkdir(suiteDir, { recursive: true });
  await writeFile(join(suiteDir, 'cells.spec.ts'), SUITE);
  await writeFile(join(suiteDir, 'blob.config.ts'), `export default {
  testDir: '.', outputDir: ${JSON.stringify(testInfo.outputPath('pw-output'))},
  reporter: [['blob', { outputDir: process.env.BLOB_DIR }]],
  projects: [{ name: 'smb311-gcm@native' }, { name: 'smb302-ccm@native' }],
};\n`);
  // Each shard on its own, as on separate CI machines; the blobs are then gathered in one place.
  await mkdir(blobs, { recursive: true });
  for (const shard of [1, 2]) {
    const own = testInfo.outputPath(`blob-${shard}`);
    const run = spawnSync(process.execPath, [playwrightCli(), 'test', '-c', join(suiteDir, 'blob.config.ts'), `--shard=${shard}/2`], {
      encoding: 'utf8', timeout: 60_000, env: { ...process.env, CI: '', BLOB_DIR: own },
    });
    expect(run.status, run.stderr).toBe(1);
    for (const zip of readdirSync(own)) await copyFile(join(own, zip), join(blobs, zip));
  }
  expect(readdirSync(blobs).filter((f) => f.endsWith('.zip'))).toHaveLength(2);

  const write = process.stdout.write.bind(process.stdout);
  let printed = '';
  process.stdout.write = ((chunk: string) => ((printed += chunk), true)) as typeof process.stdout.write;
  let code: number;
  try {
    code = await main(['merge', blobs, '--results', results, '--id', 'from-blobs']);
  } finally {
    process.stdout.write = write;
  }
  expect(code, printed).toBe(1);
  const matrix = await readMatrix(join(results, 'from-blobs', 'matrix.json'));
  expect(matrix.run.id).toBe('from-blobs');
  expect(matrix.cells.map((c) => [c.target, c.scenario, c.outcome, c.reason]).sort()).toEqual([
    ['smb302-ccm@native', 'auth/guest', 'not-applicable', 'no guests here'],
    ['smb302-ccm@native', 'protocol/echo', 'passed', null],
    ['smb302-ccm@native', 'tree/connect-share', 'failed', null],
    ['smb311-gcm@native', 'auth/guest', 'not-applicable', 'no guests here'],
    ['smb311-gcm@native', 'protocol/echo', 'passed', null],
    ['smb311-gcm@native', 'tree/connect-share', 'failed', null],
  ]);
  const failed = matrix.cells.find((c) => c.outcome === 'failed')!;
  expect([failed.error?.statusName, failed.error?.command, failed.failingStep]).toEqual(['STATUS_ACCESS_DENIED', 'TREE_CONNECT', 'connect']);
  const echo = matrix.cells.find((c) => c.scenario === 'protocol/echo')!;
  expect(echo.attachments.serverLog).toMatch(/^cells\/smb3\d\d-(gcm|ccm)@native\/smb-ts\/protocol--echo\/server\.log$/);
  expect(readFileSync(join(results, 'from-blobs', echo.attachments.serverLog!), 'utf8')).toBe('echo answered\n');
  expect(printed).toContain(`merged 1 input into ${relative(process.cwd(), join(results, 'from-blobs'))}\n`);
});
