/**
 * Client plug-ins in a real matrix run on one native target, configured the way a user would:
 * entries in smb-interop.config.json and nothing else. A well-behaved driver around this
 * project's TypeScript client passes the portable scenarios (bytes written are the bytes read,
 * also on the server's disk); drivers that crash, hang or speak another protocol version give
 * every cell of theirs the documented infra error; a client that declares less is unsupported.
 */
import { test, expect, type TestInfo } from '@playwright/test';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCli } from '../../matrix/testing/cli.js';
import { readMatrix, type Cell } from '../../matrix/schema.js';

const TARGET = 'smb311-gcm@native';
const DRIVER = join(ROOT, 'clients/plugins/testing/smb-ts-driver.mjs');
const FAULTY = join(ROOT, 'clients/plugins/testing/faulty-driver.mjs');
/** In the matrix's order: clients that are not built in come by name. */
const CLIENTS = ['ccm-only', 'crasher', 'hanger', 'speaks99', 'ts-driver', 'ts-module'];

/** Command lines of running processes that are one of the test drivers. */
function driverProcesses(): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((pid) => {
    let command: string;
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      return []; // gone meanwhile
    }
    return command.includes(FAULTY) || command.includes(DRIVER) ? [command] : [];
  });
}

test('plug-ins from a config file in a matrix run: passes through a driver, infra errors naming each fault, unsupported where a client declares less', async ({}, testInfo) => {
  test.setTimeout(600_000);
  expect(existsSync(join(ROOT, 'dist/clients/smb/index.js')), 'the client is built (npm run build)').toBe(true);
  // Outside results/: another run of the project's tests may empty that directory meanwhile.
  const dir = await mkdtemp(join(tmpdir(), 'smb-interop-plugins-test-'));
  const results = join(dir, 'results');
  try {
    await runAndCheck(dir, results, testInfo);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function runAndCheck(dir: string, results: string, testInfo: TestInfo): Promise<void> {
  // An in-process module: this project's TypeScript client, declaring that it cannot rename.
  await writeFile(
    join(dir, 'ts-module.mjs'),
    `import { typescriptAdapter } from ${JSON.stringify(join(ROOT, 'dist/clients/adapters/typescript.js'))};
export const adapter = typescriptAdapter();
export const capabilities = { dialects: ['3.1.1'], ciphers: ['AES-128-GCM'], signing: ['AES-128-GMAC'], auth: ['ntlm'],
  operations: ['writeFile', 'readFile', 'stat', 'readdir', 'mkdir', 'rmdir', 'unlink', 'exists'] };
`,
  );
  const config = join(dir, 'smb-interop.config.json');
  await writeFile(config, JSON.stringify({
    clients: {
      'ts-driver': { command: ['node', DRIVER] },
      'ts-module': { module: './ts-module.mjs' },
      'ccm-only': { command: ['node', DRIVER], env: { DRIVER_CIPHERS: 'AES-128-CCM' } },
      crasher: { command: ['node', FAULTY, 'crash'] },
      hanger: { command: ['node', FAULTY, 'hang'], timeoutMs: 800 },
      speaks99: { command: ['node', FAULTY, 'protocol99'] },
    },
  }, null, 2));

  const started = Date.now();
  const run = await runCli(['run', '--config', config, '--targets', TARGET, '--clients', CLIENTS.join(','), '--scenarios', 'files/*,dirs/*', '--results', results, '--id', 'plugins', '--workers', '2'], {}, 540_000);
  testInfo.annotations.push({ type: 'run time', description: `${Math.round((Date.now() - started) / 1000)} s` });
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
  const runDir = join(results, 'plugins');
  await testInfo.attach('summary.md', { path: join(runDir, 'summary.md'), contentType: 'text/markdown' });
  await testInfo.attach('matrix.json', { path: join(runDir, 'matrix.json'), contentType: 'application/json' });
  const matrix = await readMatrix(join(runDir, 'matrix.json'));
  expect(matrix.schemaVersion).toBe(2);
  expect(matrix.clients).toEqual(CLIENTS);
  const scenarios = matrix.scenarios.map((s) => s.id);
  expect(scenarios.length).toBeGreaterThanOrEqual(15);
  const of = (client: string) => matrix.cells.filter((c) => c.client === client);
  const outcomes = (cells: Cell[]) => cells.map((c) => `${c.scenario}: ${c.outcome}${c.reason ? ` (${c.reason})` : ''}${c.error ? ` ${c.error.message.split('\n')[0]}` : ''}`);

  // Every portable scenario passes through the driver: the scenarios compare the bytes read back,
  // and on the server's disk, with the bytes written.
  expect(outcomes(of('ts-driver'))).toEqual(scenarios.map((s) => `${s}: passed`));

  // The module declares no rename: the scenarios that rename are unsupported, the rest pass.
  const renames = scenarios.filter((s) => s.startsWith('dirs/rename'));
  expect(renames.length).toBeGreaterThan(0);
  expect(outcomes(of('ts-module'))).toEqual(scenarios.map((s) => renames.includes(s)
    ? `${s}: unsupported (ts-module does not implement rename, which the scenario uses (it implements writeFile, readFile, stat, readdir, mkdir, rmdir, unlink, exists))`
    : `${s}: passed`));

  expect(outcomes(of('ccm-only'))).toEqual(scenarios.map((s) => `${s}: unsupported (${TARGET} needs cipher AES-128-GCM; ccm-only declares AES-128-CCM)`));

  const crashed = of('crasher');
  expect(crashed.map((c) => [c.outcome, c.reason])).toEqual(scenarios.map(() => ['infra-error', 'crasher exited (code 3) during mkdir; its stderr ends: faulty driver: crashing in mkdir']));
  const stderr = crashed[0]!.attachments.clientStderr;
  expect(stderr, 'the driver\'s stderr is attached to the cell').toBeDefined();
  expect(await readFile(join(runDir, stderr!), 'utf8')).toBe('faulty driver (crash) got connect\nfaulty driver (crash) got mkdir\nfaulty driver: crashing in mkdir\n');

  expect(of('hanger').map((c) => [c.outcome, c.reason])).toEqual(scenarios.map(() => ['infra-error', 'hanger did not answer mkdir within 800 ms']));
  expect(of('speaks99').map((c) => [c.outcome, c.reason])).toEqual(scenarios.map(() => ['infra-error', 'speaks99 speaks plug-in protocol 99; the harness speaks 1']));

  // The report leads with the client x target view.
  const summary = (await readFile(join(runDir, 'summary.md'), 'utf8')).split('\n');
  const n = scenarios.length;
  expect(summary.slice(4, 12)).toEqual([
    `| client | ${TARGET} |`,
    '|---|---|',
    `| ccm-only | 0 passed · 0 failed · ${n} unsupported |`,
    `| crasher | 0 passed · 0 failed · 0 unsupported · ${n} infra error |`,
    `| hanger | 0 passed · 0 failed · 0 unsupported · ${n} infra error |`,
    `| speaks99 | 0 passed · 0 failed · 0 unsupported · ${n} infra error |`,
    `| ts-driver | ${n} passed · 0 failed · 0 unsupported |`,
    `| ts-module | ${n - renames.length} passed · 0 failed · ${renames.length} unsupported |`,
  ]);

  // Nothing left behind: no driver process, no scratch directory.
  expect(driverProcesses()).toEqual([]);
  expect(readdirSync(tmpdir()).filter((d) => /^smb-interop-(ts-driver|ccm-only|crasher|hanger|speaks99)-/.test(d))).toEqual([]);
}
