import { test, expect } from '@playwright/test';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMatrix, writeMatrix, type Matrix } from '../matrix/schema.js';
import { main } from './main.js';
import { grepFor, parseListing } from './playwright.js';
import { UsageError, parseShard, selectScenarios, selectTargets } from './selection.js';
import { nearMatches, unknownNameMessage } from './suggest.js';

const TARGETS = ['smb302-ccm@native', 'smb311-gcm@native', 'smb311-aes256@native', 'guest@native', 'smb311-gcm@samba-4.22'];
const fixture = (name: string) => new URL(`../matrix/fixtures/${name}`, import.meta.url).pathname;

async function capture(run: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  const outWrite = process.stdout.write.bind(process.stdout);
  const errWrite = process.stderr.write.bind(process.stderr);
  let stdout = '';
  let stderr = '';
  process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
  try {
    return { code: await run(), stdout, stderr };
  } finally {
    process.stdout.write = outWrite;
    process.stderr.write = errWrite;
  }
}

test('near matches: typos and fragments of target and scenario names', () => {
  expect(nearMatches('smb311-gmc', TARGETS)).toEqual(['smb311-gcm@native', 'smb311-gcm@samba-4.22']);
  expect(nearMatches('aes256', TARGETS)).toEqual(['smb311-aes256@native']);
  expect(nearMatches('kerberos', TARGETS)).toEqual([]);
  expect(unknownNameMessage('target', 'smb320-ccm', TARGETS)).toBe('unknown target "smb320-ccm"; did you mean smb302-ccm@native?');
  expect(unknownNameMessage('client', 'winclient', ['smb-ts', 'smbclient'])).toBe('unknown client "winclient"; did you mean smbclient?');
});

test('target selection: names and globs, on the whole name or the profile, clear errors', () => {
  expect(selectTargets(['smb311-*'], TARGETS)).toEqual(['smb311-gcm@native', 'smb311-aes256@native', 'smb311-gcm@samba-4.22']);
  expect(selectTargets(['smb311-gcm'], TARGETS)).toEqual(['smb311-gcm@native', 'smb311-gcm@samba-4.22']);
  expect(selectTargets(['*@samba-*', 'guest'], TARGETS)).toEqual(['guest@native', 'smb311-gcm@samba-4.22']);
  expect(selectTargets([], TARGETS)).toEqual(TARGETS);
  expect(() => selectTargets(['smb311-gmc'], TARGETS)).toThrow('unknown target "smb311-gmc"; did you mean smb311-gcm@native, smb311-gcm@samba-4.22?');
  expect(() => selectTargets(['windows-*'], TARGETS)).toThrow(/target pattern "windows-\*" matches no target; known: smb302-ccm@native/);
  expect(() => selectTargets([], [])).toThrow(UsageError);
  expect(selectScenarios(['files/*'], ['files/a', 'files/b', 'tree/c', 'files/a'])).toEqual(['files/a', 'files/b']);
  expect(() => selectScenarios(['files/round-trip-smal'], ['files/round-trip-small', 'tree/c'])).toThrow('did you mean files/round-trip-small?');
  expect(parseShard('2/4')).toEqual({ current: 2, total: 4 });
  expect(() => parseShard('5/4')).toThrow('--shard expects i/n with 1 <= i <= n');
});

test('the listing gives every test its cell identity; the grep selects exactly the chosen tests', () => {
  const annotations = (scenario: string, client: string) => [
    { type: 'scenario', description: scenario }, { type: 'area', description: scenario.split('/')[0] },
    { type: 'client', description: client }, { type: 'requires', description: 'encryption' },
  ];
  const listing = parseListing(JSON.stringify({
    config: { projects: [{ name: 'smb311-gcm@native' }, { name: 'smb302-ccm@native' }] },
    errors: [],
    suites: [{
      title: 'files/round-trip.spec.ts', file: 'files/round-trip.spec.ts', specs: [],
      suites: [{ title: 'files', file: 'files/round-trip.spec.ts', specs: [
        { title: 'round trip (smb-ts)', tests: [{ projectName: 'smb311-gcm@native', annotations: annotations('files/round-trip', 'smb-ts') }] },
        { title: 'round trip (smbclient)', tests: [{ projectName: 'smb311-gcm@native', annotations: annotations('files/round-trip', 'smbclient') }] },
      ] }],
    }],
  }));
  expect(listing.projects).toEqual(['smb311-gcm@native', 'smb302-ccm@native']);
  expect(listing.tests.map((t) => [t.target, t.scenario, t.client, t.area, t.requirements.join(',')])).toEqual([
    ['smb311-gcm@native', 'files/round-trip', 'smb-ts', 'files', 'encryption'],
    ['smb311-gcm@native', 'files/round-trip', 'smbclient', 'files', 'encryption'],
  ]);
  const grep = grepFor([listing.tests[0]!]);
  const pattern = grep.match(/^\/(.*)\/$/)?.[1] ?? '';
  const re = new RegExp(pattern);
  // Playwright matches --grep against ' <project> <file> <describes...> <title> <tags...>'.
  expect(re.test(' smb311-gcm@native files/round-trip.spec.ts files round trip (smb-ts)')).toBe(true);
  expect(re.test(' smb311-gcm@native files/round-trip.spec.ts files round trip (smb-ts) @slow')).toBe(true);
  expect(re.test(' smb311-gcm@native files/round-trip.spec.ts files round trip (smbclient)')).toBe(false);
  expect(re.test(' smb311-gcm@native files/round-trip.spec.ts files round trip (smb-ts) again')).toBe(false);
});

let dir: string;
test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smb-interop-cli-'));
});
test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('compare exits 1 on regressions and 0 without; report renders a run directory', async () => {
  const regressed = await capture(() => main(['compare', fixture('run-baseline'), fixture('run-all-outcomes')]));
  expect(regressed.code).toBe(1);
  expect(regressed.stdout.split('\n').slice(0, 4)).toEqual([
    'comparing 2026-11-25T07-30-12Z with baseline 2026-11-24T07-30-00Z',
    'regressions: 2',
    '  smb-ts x smb302-ccm@native x files/round-trip-small: passed -> failed (STATUS_ACCESS_DENIED on TREE_CONNECT)',
    '  smbclient x smb311-gcm@native x tree/encrypted-share: expected failure -> unexpected pass (listed as failing: smbclient 4.17 refuses AES-128-GCM shares)',
  ]);
  expect((await capture(() => main(['compare', fixture('run-all-outcomes'), fixture('run-all-outcomes')]))).code).toBe(0);
  const missing = await capture(() => main(['compare', fixture('run-baseline'), 'no-such-run', '--results', dir]));
  expect([missing.code, missing.stderr]).toEqual([2, `smb-interop compare: no run "no-such-run": neither a directory with matrix.json nor a run under ${dir}\n`]);

  const runDir = join(dir, 'copied-run');
  await mkdir(runDir);
  await writeMatrix(join(runDir, 'matrix.json'), await readMatrix(join(fixture('run-all-outcomes'), 'matrix.json')));
  const report = await capture(() => main(['report', 'copied-run', '--results', dir]));
  expect(report.code).toBe(0);
  expect(report.stdout).toContain(`report:  ${join(runDir, 'index.html')}`);
  expect(await readFile(join(runDir, 'summary.md'), 'utf8')).toContain('| smb302-ccm@native | 3.0.2 |');
});

test('merge joins shard runs into one matrix equal to the unsharded one, traces included, and gates like run', async () => {
  const whole = await readMatrix(join(fixture('run-all-outcomes'), 'matrix.json'));
  const shard = (n: number, targets: string[]): Matrix => ({
    ...whole,
    run: { ...whole.run, id: `shard-${n}`, shard: { current: n, total: 2 } },
    targets: whole.targets.filter((t) => targets.includes(t.name)),
    cells: whole.cells.filter((c) => targets.includes(c.target)),
  });
  for (const [n, targets] of [[1, ['smb311-gcm@native']], [2, ['smb302-ccm@native', 'guest@native']]] as const) {
    const runDir = join(dir, 'shards', `shard-${n}`);
    await mkdir(join(runDir, 'cells', targets[0]!), { recursive: true });
    await writeMatrix(join(runDir, 'matrix.json'), shard(n, [...targets]));
    await (await import('node:fs/promises')).writeFile(join(runDir, 'cells', targets[0]!, 'marker.txt'), `shard ${n}`);
  }
  const merged = await capture(() => main(['merge', join(dir, 'shards', 'shard-1'), join(dir, 'shards', 'shard-2'), '--results', dir, '--id', 'merged-run']));
  expect(merged.code).toBe(1);
  expect(merged.stdout).toContain(`merged 2 inputs into ${join(dir, 'merged-run')}`);
  const result = await readMatrix(join(dir, 'merged-run', 'matrix.json'));
  const key = (m: Matrix) => m.cells.map((c) => JSON.stringify(c)).sort();
  expect(key(result)).toEqual(key(whole));
  expect(result.run).toMatchObject({ id: 'merged-run', shard: null, start: whole.run.start });
  expect(existsSync(join(dir, 'merged-run', 'cells', 'smb311-gcm@native', 'marker.txt'))).toBe(true);
  expect(existsSync(join(dir, 'merged-run', 'cells', 'smb302-ccm@native', 'marker.txt'))).toBe(true);
  expect(existsSync(join(dir, 'merged-run', 'index.html'))).toBe(true);
  const again = await capture(() => main(['merge', join(dir, 'shards', 'shard-1'), '--results', dir, '--id', 'merged-run']));
  expect(again.code).toBe(2);
});

test('usage mistakes exit 2 with the problem named; every command has help', async () => {
  const unknownOption = await capture(() => main(['compare', 'a', 'b', '--repeat', '3']));
  expect([unknownOption.code, unknownOption.stderr.split('\n')[0]]).toEqual([2, 'smb-interop compare: compare does not take --repeat']);
  const unknownCommand = await capture(() => main(['launch']));
  expect([unknownCommand.code, unknownCommand.stderr]).toEqual([2, 'smb-interop launch: unknown command "launch"; commands: run, repro, scenarios, targets, report, compare, merge, verify, serve\n']);
  for (const command of ['run', 'repro', 'scenarios', 'targets', 'report', 'compare', 'merge', 'verify', 'serve']) {
    const help = await capture(() => main([command, '--help']));
    expect(help.stdout, command).toMatch(new RegExp(`^Usage: smb-interop ${command}\\b`));
  }
  const shardTypo = await capture(() => main(['run', '--shard', '3']));
  expect([shardTypo.code, shardTypo.stderr]).toEqual([2, 'smb-interop run: --shard expects i/n with 1 <= i <= n (e.g. 2/4), got "3"\n']);
});
