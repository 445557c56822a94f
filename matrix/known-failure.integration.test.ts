/**
 * A cell listed as always failing is expected to fail while it runs: the runner neither retries
 * it nor restarts the worker (and its target) after it, and the cell still gets its explanation
 * and its traces. Real failures, made with the self-check's fault on an encryption-required target.
 */
import { test, expect } from '@playwright/test';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestInfo } from '@playwright/test';
import type { ExpectationEntry } from './expectations.js';
import { readMatrix, type Matrix } from './schema.js';
import { ROOT, runCli } from './testing/cli.js';

/**
 * smb-ts on smb302-ccm with `scenarios`, one retry per failing cell and `entries` as the known
 * failures. The client leaves out the encryption capability, so the 3.0.2 encryption-required
 * target refuses every session and each selected cell fails with STATUS_ACCESS_DENIED.
 */
async function runWithEntries(testInfo: TestInfo, id: string, scenarios: string[], entries: ExpectationEntry[]): Promise<{ code: number; matrix: Matrix; output: string }> {
  expect(existsSync(join(ROOT, 'dist/cli/main.js')), 'the CLI is built (npm run build)').toBe(true);
  const results = testInfo.outputPath('results');
  const expectations = testInfo.outputPath('expectations.json');
  await writeFile(expectations, JSON.stringify({ expectations: entries }));
  const { code, stdout, stderr } = await runCli(
    ['run', '--targets', 'smb302-ccm', '--scenarios', scenarios.join(','), '--clients', 'smb-ts', '--results', results, '--id', id, '--workers', '1'],
    { SMB_INTEROP_TEST_FAULTS: 'omitEncryptionCapability', SMB_INTEROP_RETRIES: '1', SMB_INTEROP_EXPECTATIONS: expectations },
    280_000,
  );
  return { code, matrix: await readMatrix(join(results, id, 'matrix.json')), output: (stdout + stderr).slice(-3000) };
}

test('listed failures run once each in one worker that starts its target once; an unlisted failure is still retried', async ({}, testInfo) => {
  test.setTimeout(300_000);
  const { code, matrix, output } = await runWithEntries(testInfo, 'known', ['encryption/encrypted-tree-connect', 'encryption/all-transformed', 'encryption/unique-nonces', 'tree/connect-share'], [
    { client: 'smb-ts', target: 'smb302-ccm@native', scenario: 'encryption/*', reason: 'the session is refused: the client leaves out SMB2_GLOBAL_CAP_ENCRYPTION' },
  ]);
  // tree/connect-share fails too and is not listed: the run fails because of it alone.
  expect(code, output).toBe(1);
  const listed = matrix.cells.filter((c) => c.scenario.startsWith('encryption/'));
  expect(listed.map((c) => [c.scenario, c.outcome, c.attempts]).sort()).toEqual([
    ['encryption/all-transformed', 'expected-failure', 1],
    ['encryption/encrypted-tree-connect', 'expected-failure', 1],
    ['encryption/unique-nonces', 'expected-failure', 1],
  ]);
  for (const cell of listed) {
    expect(cell.error?.message, `${cell.scenario}: the failure itself is kept`).toMatch(/STATUS_ACCESS_DENIED/);
    expect(Object.keys(cell.attachments), `${cell.scenario}: its traces are kept`).toEqual(expect.arrayContaining(['pcap', 'serverLog']));
    expect(cell.explanation?.length ?? 0, `${cell.scenario}: explained`).toBeGreaterThan(0);
  }
  const unlisted = matrix.cells.find((c) => c.scenario === 'tree/connect-share');
  expect([unlisted?.outcome, unlisted?.attempts]).toEqual(['failed', 2]);
  // The listed cells share one worker and one target start (one worker for the whole run).
  const starts = listed.filter((c) => (c.timing?.targetStartMs ?? 0) > 0);
  expect(starts.length, `target starts among the listed cells: ${listed.map((c) => `${c.scenario} ${c.timing?.targetStartMs}`).join(', ')}`).toBeLessThanOrEqual(1);
});

test('an intermittent entry naming its error counts its failure as expected when seen: run once, no retry; one naming another error leaves the failure alone', async ({}, testInfo) => {
  test.setTimeout(300_000);
  const { code, matrix, output } = await runWithEntries(testInfo, 'intermittent', ['encryption/encrypted-tree-connect', 'encryption/unique-nonces', 'tree/connect-share'], [
    { client: 'smb-ts', target: 'smb302-ccm@native', scenario: 'encryption/*', reason: 'refused on some runs', intermittent: true, error: 'STATUS_ACCESS_DENIED' },
    { client: 'smb-ts', target: 'smb302-ccm@native', scenario: 'tree/connect-share', reason: 'another failure', intermittent: true, error: 'invalid response error: signing required' },
  ]);
  // tree/connect-share fails with STATUS_ACCESS_DENIED, which its entry does not name.
  expect(code, output).toBe(1);
  expect(matrix.cells.map((c) => [c.scenario, c.outcome, c.attempts]).sort()).toEqual([
    ['encryption/encrypted-tree-connect', 'expected-failure', 1],
    ['encryption/unique-nonces', 'expected-failure', 1],
    ['tree/connect-share', 'failed', 2],
  ]);
  const listed = matrix.cells.filter((c) => c.outcome === 'expected-failure');
  for (const cell of listed) expect(cell.error?.message, `${cell.scenario}: the failure itself is kept`).toMatch(/STATUS_ACCESS_DENIED/);
  expect(listed.filter((c) => (c.timing?.targetStartMs ?? 0) > 0).length, 'one target start for the listed cells').toBeLessThanOrEqual(1);
});
