/**
 * The whole chain against real native Samba: the CLI runs a test-only scenario directory (one
 * scenario that passes, one that fails on purpose with an NTSTATUS) on two native targets, and
 * the run leaves a red cell with its traces, reports that say why, and a non-zero exit.
 */
import { test, expect } from '@playwright/test';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseXml } from './testing/xml.js';
import { ROOT, runCli } from './testing/cli.js';
import { readMatrix } from './schema.js';

const TARGETS = ['smb311-gcm@native', 'smb302-ccm@native'];

const SCENARIOS = `
import { test, expect } from ${JSON.stringify(join(ROOT, 'harness/fixtures.js'))};
import { scenario } from ${JSON.stringify(join(ROOT, 'harness/scenario.js'))};

test.describe('selfcheck', () => {
  test('writes 4 KiB and reads the same bytes back', scenario({ id: 'selfcheck/round-trip' }), async ({ share }) => {
    const data = Buffer.alloc(4096, 0x5a);
    await test.step('write', () => share.tree.writeFile(share.dir + '/a.bin', data));
    await test.step('read back', async () => expect((await share.tree.readFile(share.dir + '/a.bin')).equals(data)).toBe(true));
  });

  test('opens a file that is not there (fails on purpose)', scenario({ id: 'selfcheck/fails-on-purpose' }), async ({ share }) => {
    await test.step('open a file that does not exist', async () => {
      await share.tree.readFile(share.dir + '/missing.bin');
    });
  });
});
`;

test('a failing scenario on two native targets: red cells with traces, reports and a non-zero exit', async ({}, testInfo) => {
  test.setTimeout(300_000);
  expect(existsSync(join(ROOT, 'dist/cli/main.js')), 'the CLI is built (npm run build)').toBe(true);
  const scenariosDir = testInfo.outputPath('scenarios');
  const resultsDir = testInfo.outputPath('results');
  await mkdir(join(scenariosDir, 'selfcheck'), { recursive: true });
  await writeFile(join(scenariosDir, 'selfcheck', 'selfcheck.spec.ts'), SCENARIOS);

  const common = ['--targets', TARGETS.join(','), '--clients', 'smb-ts', '--scenarios-dir', scenariosDir, '--results', resultsDir, '--workers', '2'];
  const red = await runCli(['run', ...common, '--id', 'e2e-red']);
  expect(red.code, `${red.stdout}\n${red.stderr}`).toBe(1);
  const runDir = join(resultsDir, 'e2e-red');
  expect(red.stdout).toContain(`report:  ${relative(ROOT, join(runDir, 'index.html'))}\n`);
  expect(red.stdout).toContain(`summary: ${relative(ROOT, join(runDir, 'summary.md'))}\n`);

  const matrix = await readMatrix(join(runDir, 'matrix.json'));
  expect(matrix.cells.map((c) => [c.target, c.scenario, c.outcome]).sort()).toEqual([
    ['smb302-ccm@native', 'selfcheck/fails-on-purpose', 'failed'],
    ['smb302-ccm@native', 'selfcheck/round-trip', 'passed'],
    ['smb311-gcm@native', 'selfcheck/fails-on-purpose', 'failed'],
    ['smb311-gcm@native', 'selfcheck/round-trip', 'passed'],
  ]);
  expect(matrix.targets.map((t) => [t.name, t.serverVersion?.startsWith('Samba 4.') ?? false]).sort()).toEqual(TARGETS.map((t) => [t, true]).sort());
  const dialects = Object.fromEntries(matrix.cells.filter((c) => c.outcome === 'passed').map((c) => [c.target, [c.negotiated?.dialect, c.negotiated?.cipher]]));
  expect(dialects).toEqual({ 'smb311-gcm@native': ['3.1.1', 'AES-128-GCM'], 'smb302-ccm@native': ['3.0.2', 'AES-128-CCM'] });

  for (const cell of matrix.cells.filter((c) => c.outcome === 'failed')) {
    expect(cell.error).toMatchObject({ statusName: 'STATUS_OBJECT_NAME_NOT_FOUND', command: 'CREATE' });
    expect(cell.error?.message).toMatch(/^SmbError: STATUS_OBJECT_NAME_NOT_FOUND \(0xC0000034\) on CREATE /);
    expect(cell.failingStep).toBe('open a file that does not exist');
    expect(Object.keys(cell.attachments).sort()).toEqual(['keys', 'pcap', 'serverLog', 'transcriptJson', 'transcriptText']);
    const pcap = await readFile(join(runDir, cell.attachments.pcap!));
    expect(pcap.subarray(0, 4).toString('hex'), 'pcapng section header block').toBe('0a0d0d0a');
    const keyRows = (await readFile(join(runDir, cell.attachments.keys!), 'utf8')).split('\n').filter((l) => /^[0-9a-f]{16},/.test(l));
    expect(keyRows.length).toBeGreaterThan(0);
    const sessionKey = keyRows[0]!.split(',')[1]!;
    expect(await readFile(join(runDir, cell.attachments.transcriptText!), 'utf8')).toContain('CREATE');
    expect(cell.wireshark).toContain(cell.attachments.keys!);
    for (const report of ['matrix.json', 'index.html', 'summary.md', 'junit.xml']) {
      expect(await readFile(join(runDir, report), 'utf8'), `${report} carries no session key`).not.toContain(sessionKey);
    }
    expect(cell.repro).toBe(`npx smb-interop repro ${cell.target} selfcheck/fails-on-purpose`);
  }

  const summary = (await readFile(join(runDir, 'summary.md'), 'utf8')).split('\n');
  const failures = summary.slice(summary.indexOf('### Failures') + 2).filter((l) => l.startsWith('- '));
  expect(failures.sort()).toEqual(TARGETS.map((t) => `- **failed** \`smb-ts\` × \`${t}\` × \`selfcheck/fails-on-purpose\` — STATUS\\_OBJECT\\_NAME\\_NOT\\_FOUND on CREATE at step open a file that does not exist — server: STATUS\\_OBJECT\\_NAME\\_NOT\\_FOUND at smb2\\_create.c:339`).sort());
  const junit = parseXml(await readFile(join(runDir, 'junit.xml'), 'utf8'));
  expect(junit.children.map((s) => [s.attributes.name, s.attributes.tests, s.attributes.failures])).toEqual(
    [...matrix.targets.map((t) => [`smb-ts × ${t.name}`, '2', '1'])],
  );
  const html = await readFile(join(runDir, 'index.html'), 'utf8');
  expect(html.match(/<td class="cell o-failed"/g)).toHaveLength(2);

  // One red cell again, with every trace kept, and the commands to look at it.
  const repro = await runCli(['repro', 'smb311-gcm', 'selfcheck/fails-on-purpose', '--scenarios-dir', scenariosDir, '--results', resultsDir]);
  expect(repro.code, `${repro.stdout}\n${repro.stderr}`).toBe(1);
  // The explanation comes first, right under the outcome, before the error.
  // The server's reason leads; a single cell has no other to diverge from, and says so after it.
  expect(repro.stdout).toContain('smb-ts x smb311-gcm@native x selfcheck/fails-on-purpose: failed\n  why: server: STATUS_OBJECT_NAME_NOT_FOUND at smb2_create.c:339\n  why: divergence: no reference: ');
  expect(repro.stdout.indexOf('  error: ')).toBeGreaterThan(repro.stdout.indexOf('  why: divergence: no reference: '));
  const printed = Object.fromEntries([...repro.stdout.matchAll(/^  (pcap|keys|transcriptJson|transcriptText|serverLog) +(\S.*)$/gm)].map((m) => [m[1] as string, m[2] as string]));
  expect(Object.keys(printed).sort()).toEqual(['keys', 'pcap', 'serverLog', 'transcriptJson', 'transcriptText']);
  for (const path of Object.values(printed)) expect(existsSync(resolve(ROOT, path)), path).toBe(true);
  expect(repro.stdout).toMatch(/open the capture decrypted:\n  tshark -r \S+trace\.pcapng \$\(grep -E '\^\[0-9A-Fa-f\]' \S+wireshark-keys\.txt/);

  // The same run without the failing scenario passes: the exit code follows the cells.
  const green = await runCli(['run', ...common, '--scenarios', 'selfcheck/round-trip', '--id', 'e2e-green']);
  expect(green.code, `${green.stdout}\n${green.stderr}`).toBe(0);
  const greenMatrix = await readMatrix(join(resultsDir, 'e2e-green', 'matrix.json'));
  expect(greenMatrix.cells.map((c) => c.outcome)).toEqual(['passed', 'passed']);
  expect(existsSync(join(ROOT, '.smb-interop')) ? (await import('node:fs')).readdirSync(join(ROOT, '.smb-interop')).filter((f) => f.startsWith('matrix-')) : []).toEqual([]);
});
