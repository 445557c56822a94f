import { test, expect } from '@playwright/test';
import type { FullConfig, Suite, TestCase, TestResult, TestStep } from '@playwright/test/reporter';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotation, Attachment } from '../harness/annotations.js';
import { parseStatus } from './cells.js';
import { ProgressLine } from './progress.js';
import MatrixReporter, { runIdFor } from './reporter.js';
import { readMatrix, type Cell } from './schema.js';

type Note = { type: string; description?: string };

function fakeTest(target: string, title: string, notes: Note[], retries = 0): TestCase {
  return {
    title,
    retries,
    annotations: notes,
    titlePath: () => ['', target, 'files/round-trip.spec.ts', 'files', title],
  } as unknown as TestCase;
}

function step(title: string, category: string, error: boolean, steps: TestStep[] = []): TestStep {
  return { title, category, steps, ...(error ? { error: { message: 'x' } } : {}) } as unknown as TestStep;
}

function fakeResult(status: TestResult['status'], extra: Partial<TestResult> = {}): TestResult {
  return { status, duration: 250, retry: 0, errors: [], steps: [], attachments: [], annotations: [], ...extra } as unknown as TestResult;
}

const cellNotes = (client: string, scenario: string, more: Note[] = []): Note[] => [
  { type: Annotation.scenario, description: scenario },
  { type: Annotation.area, description: scenario.split('/')[0] },
  { type: Annotation.client, description: client },
  ...more,
];

const NEGOTIATED = { dialect: '3.1.1', cipher: 'AES-128-GCM', signingAlgorithm: 'AES-128-GMAC', preauthIntegrity: true, encryption: true, signing: true };
const FACTS = { name: 'smb311-gcm@native', profile: 'smb311-gcm', provider: 'native', serverVersion: '4.17.12-Debian', declared: { ...NEGOTIATED, encryptedShares: [] } };

let dir: string;
test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smb-interop-reporter-'));
});
test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('the reporter turns synthetic Playwright results into cells, copies traces and renders the reports', async () => {
  const pcap = join(dir, 'trace-source.pcapng');
  await writeFile(pcap, Buffer.from([0x0a, 0x0d, 0x0d, 0x0a, 1, 2, 3]));
  await writeFile(join(dir, 'expectations.json'), JSON.stringify({
    expectations: [
      { client: 'smb-ts', target: 'smb302-*', scenario: 'files/encrypted-*', reason: 'known CCM bug', link: 'https://example.org/b/1' },
      { client: 'smb-ts', target: 'smb311-gcm@native', scenario: 'files/listed-but-passes', reason: 'was broken' },
      { client: 'smbclient', target: '*', scenario: '*', reason: 'old entry', expires: '2020-01-01' },
    ],
  }));
  const lines: string[] = [];
  const reporter = new MatrixReporter({ resultsDir: 'results', runId: 'synthetic-run', expectations: 'expectations.json', write: (t) => lines.push(t), tty: false, declaredByProfile: new Map() });
  const target = 'smb311-gcm@native';
  const ccm = 'smb302-ccm@native';
  const passing = fakeTest(target, 'round trip', cellNotes('smb-ts', 'files/round-trip', [
    { type: Annotation.negotiated, description: JSON.stringify(NEGOTIATED) },
    { type: Annotation.target, description: JSON.stringify(FACTS) },
    { type: Annotation.requires, description: 'local-path' },
  ]));
  const keyRow = '8ac5f57a00000000,228bbdf003450b6771f452aac2971bbc,6b5e73b675fa5447dd182b9b67910bd3,f3dbc4e07592bc24a3e1254272b6dd43';
  const failing = fakeTest(target, 'tree connect', cellNotes('smb-ts', 'files/tree-connect', [
    { type: Annotation.wireshark, description: `tshark -r trace.pcapng -o uat:smb2_seskey_list:${keyRow} -Y smb2\nwireshark -r ${pcap} -o 'uat:smb2_seskey_list:${keyRow}'` },
  ]));
  const notApplicable = fakeTest(target, 'guest', cellNotes('smb-ts', 'files/guest', [{ type: Annotation.notApplicable, description: 'smb311-gcm admits no guests' }]));
  const infraSkipped = fakeTest(ccm, 'round trip', cellNotes('smb-ts', 'files/round-trip', [{ type: Annotation.infraError, description: 'container engine unreachable' }]));
  const startFailure = fakeTest(ccm, 'tree connect', cellNotes('smb-ts', 'files/tree-connect'));
  const flaky = fakeTest(target, 'flaky', cellNotes('smbclient', 'files/flaky'), 1);
  const known = fakeTest(ccm, 'encrypted', cellNotes('smb-ts', 'files/encrypted-write'));
  const listedPass = fakeTest(target, 'listed', cellNotes('smb-ts', 'files/listed-but-passes'));
  const all = [passing, failing, notApplicable, infraSkipped, startFailure, flaky, known, listedPass];
  const config = { configFile: join(dir, 'playwright.config.ts'), shard: { current: 1, total: 2 } } as unknown as FullConfig;
  const suite = { suites: [{ title: target }, { title: ccm }], allTests: () => all } as unknown as Suite;
  reporter.onBegin(config, suite);

  reporter.onTestEnd(passing, fakeResult('passed', { attachments: [{ name: Attachment.serverLog, contentType: 'text/plain', body: Buffer.from('smbd log line\n') }] }));
  reporter.onTestEnd(failing, fakeResult('failed', {
    error: { message: '\u001b[31mSmbError: STATUS_ACCESS_DENIED (0xC0000022) on TREE_CONNECT \\\\127.0.0.1\\data\u001b[39m' },
    steps: [step('connect', 'test.step', true, [step('tree connect to data', 'test.step', true, [step('expect.toBe', 'expect', true)])]), step('later', 'test.step', false)],
    attachments: [
      { name: Attachment.pcap, contentType: 'application/vnd.tcpdump.pcap', path: pcap },
      { name: Attachment.keys, contentType: 'text/plain', body: Buffer.from(`# keys\n${keyRow}\n`) },
    ],
  }));
  reporter.onTestEnd(notApplicable, fakeResult('skipped'));
  reporter.onTestEnd(infraSkipped, fakeResult('skipped'));
  reporter.onTestEnd(startFailure, fakeResult('failed', {
    error: { message: 'cannot start smb302-ccm@native: smbd exited with code 1\n--- smbd log (last lines) ---\n...' },
    steps: [step('Fixture "target"', 'fixture', true)],
  }));
  reporter.onTestEnd(flaky, fakeResult('failed', { error: { message: 'STATUS_IO_TIMEOUT (0xC00000B5) on WRITE' } }));
  reporter.onTestEnd(flaky, fakeResult('passed', { retry: 1 }));
  reporter.onTestEnd(known, fakeResult('failed', { error: { message: 'read 0 bytes' } }));
  reporter.onTestEnd(listedPass, fakeResult('passed'));
  await reporter.onEnd({ status: 'failed' } as never);

  const runDir = join(dir, 'results', 'synthetic-run');
  const matrix = await readMatrix(join(runDir, 'matrix.json'));
  const summary = (c: Cell) => [c.client, c.target, c.scenario, c.outcome, c.reason];
  expect(matrix.cells.map(summary)).toEqual([
    ['smb-ts', target, 'files/guest', 'not-applicable', 'smb311-gcm admits no guests'],
    ['smb-ts', target, 'files/listed-but-passes', 'unexpected-pass', 'listed as failing: was broken'],
    ['smb-ts', target, 'files/round-trip', 'passed', null],
    ['smb-ts', target, 'files/tree-connect', 'failed', null],
    ['smb-ts', ccm, 'files/encrypted-write', 'expected-failure', 'known CCM bug'],
    ['smb-ts', ccm, 'files/round-trip', 'infra-error', 'container engine unreachable'],
    ['smb-ts', ccm, 'files/tree-connect', 'infra-error', 'cannot start smb302-ccm@native: smbd exited with code 1'],
    ['smbclient', target, 'files/flaky', 'flaky', 'passed 1 of 2 runs'],
  ]);
  const byScenario = (client: string, t: string, s: string) => matrix.cells.find((c) => c.client === client && c.target === t && c.scenario === s)!;
  const failed = byScenario('smb-ts', target, 'files/tree-connect');
  expect(failed.error).toEqual({ message: 'SmbError: STATUS_ACCESS_DENIED (0xC0000022) on TREE_CONNECT \\\\127.0.0.1\\data', statusName: 'STATUS_ACCESS_DENIED', command: 'TREE_CONNECT' });
  expect(failed.failingStep).toBe('connect › tree connect to data');
  expect(failed.attachments).toEqual({
    pcap: 'cells/smb311-gcm@native/smb-ts/files--tree-connect/trace.pcapng',
    keys: 'cells/smb311-gcm@native/smb-ts/files--tree-connect/wireshark-keys.txt',
  });
  expect(await readFile(join(runDir, failed.attachments.pcap!))).toEqual(await readFile(pcap));
  expect(await readFile(join(runDir, failed.attachments.keys!), 'utf8')).toBe(`# keys\n${keyRow}\n`);
  // Keys stay in the key file: the report's command reads them from there.
  const shownDir = join(runDir, 'cells/smb311-gcm@native/smb-ts/files--tree-connect').replace(`${process.cwd()}/`, '');
  const fromKeys = `$(grep -E '^[0-9A-Fa-f]' ${shownDir}/wireshark-keys.txt | sed 's/^/-o uat:smb2_seskey_list:/')`;
  expect(failed.wireshark).toBe(`tshark -r ${shownDir}/trace.pcapng ${fromKeys} -Y smb2\nwireshark -r ${shownDir}/trace.pcapng ${fromKeys}`);
  for (const report of ['matrix.json', 'index.html', 'summary.md', 'junit.xml']) {
    expect(await readFile(join(runDir, report), 'utf8'), report).not.toContain('228bbdf003450b6771f452aac2971bbc');
  }
  expect(failed.repro).toBe('npx smb-interop repro smb311-gcm@native files/tree-connect --client smb-ts');
  const passed = byScenario('smb-ts', target, 'files/round-trip');
  expect(passed.negotiated).toEqual(NEGOTIATED);
  expect(await readFile(join(runDir, passed.attachments.serverLog!), 'utf8')).toBe('smbd log line\n');
  expect(byScenario('smbclient', target, 'files/flaky')).toMatchObject({ attempts: 2, passes: 1, passRate: 0.5, error: { statusName: 'STATUS_IO_TIMEOUT', command: 'WRITE' } });
  expect(byScenario('smb-ts', ccm, 'files/encrypted-write').expectation).toEqual({ reason: 'known CCM bug', link: 'https://example.org/b/1' });
  expect(matrix.targets).toEqual([
    { name: target, profile: 'smb311-gcm', provider: 'native', declared: FACTS.declared, serverVersion: '4.17.12-Debian' },
    { name: ccm, profile: 'smb302-ccm', provider: 'native', declared: null, serverVersion: null },
  ]);
  expect(matrix.scenarios.find((s) => s.id === 'files/round-trip')).toEqual({ id: 'files/round-trip', area: 'files', title: 'round trip', requirements: ['local-path'] });
  expect(matrix.run).toMatchObject({ id: 'synthetic-run', shard: { current: 1, total: 2 }, sambaVersions: { [target]: '4.17.12-Debian' } });
  expect(matrix.run.expiredExpectations).toEqual([{ client: 'smbclient', target: '*', scenario: '*', reason: 'old entry', expires: '2020-01-01' }]);
  for (const report of ['index.html', 'summary.md', 'junit.xml']) expect(existsSync(join(runDir, report)), report).toBe(true);
  expect(existsSync(join(dir, 'results', 'index.html'))).toBe(true);

  const log = lines.join('');
  expect(log).toContain('matrix: 8 cells on 2 targets (shard 1/2)\n');
  expect(log).toContain('  ✗ smb-ts × smb311-gcm@native × files/tree-connect: SmbError: STATUS_ACCESS_DENIED (0xC0000022) on TREE_CONNECT');
  expect(log).toContain('matrix: 8/8 cells, 3 failing\n');
  expect(log).toContain('  unexpected-pass: smb-ts × smb311-gcm@native × files/listed-but-passes — listed as failing: was broken\n');
});

test('plug-in cells: declared lacks are unsupported (skipped, or refused mid-scenario), a plug-in fault is an infra error with its stderr', async () => {
  const reporter = new MatrixReporter({ resultsDir: 'results', runId: 'plugin-run', expectations: join(dir, 'none.json'), progress: false, declaredByProfile: new Map() });
  await writeFile(join(dir, 'none.json'), JSON.stringify({ expectations: [{ client: 'go-smb2', target: '*', scenario: 'dirs/*', reason: 'listed' }] }));
  const target = 'smb311-aes256@native';
  const reason = 'smb311-aes256@native needs cipher AES-256-GCM; go-smb2 declares AES-128-CCM, AES-128-GCM';
  const skipped = fakeTest(target, 'round trip', cellNotes('go-smb2', 'files/round-trip', [{ type: Annotation.unsupported, description: reason }]));
  const refused = fakeTest(target, 'rename', cellNotes('go-smb2', 'dirs/rename', [{ type: Annotation.needs, description: 'operation:rename' }]));
  const crashed = fakeTest(target, 'mkdir', cellNotes('go-smb2', 'dirs/mkdir'));
  const all = [skipped, refused, crashed];
  reporter.onBegin({ configFile: join(dir, 'playwright.config.ts'), shard: null } as unknown as FullConfig, { suites: [{ title: target }], allTests: () => all } as unknown as Suite);
  reporter.onTestEnd(skipped, fakeResult('skipped'));
  reporter.onTestEnd(refused, fakeResult('failed', {
    error: { message: 'ClientUnsupported: unsupported: go-smb2 does not implement rename' },
    annotations: [{ type: Annotation.unsupported, description: 'go-smb2 does not implement rename, which the scenario uses (it implements stat)' }],
  }));
  const fault = 'go-smb2 exited (signal SIGSEGV) during mkdir; its stderr ends: panic';
  reporter.onTestEnd(crashed, fakeResult('failed', {
    error: { message: `PluginFault: ${fault}` },
    annotations: [{ type: Annotation.infraError, description: fault }],
    attachments: [{ name: Attachment.clientStderr, contentType: 'text/plain', body: Buffer.from('goroutine 1 [running]:\npanic\n') }],
  }));
  await reporter.onEnd({ status: 'failed' } as never);
  const runDir = join(dir, 'results', 'plugin-run');
  const matrix = await readMatrix(join(runDir, 'matrix.json'));
  expect(matrix.cells.map((c) => [c.scenario, c.outcome, c.reason, c.error?.message ?? null])).toEqual([
    ['dirs/mkdir', 'infra-error', fault, `PluginFault: ${fault}`],
    ['dirs/rename', 'unsupported', 'go-smb2 does not implement rename, which the scenario uses (it implements stat)', null],
    ['files/round-trip', 'unsupported', reason, null],
  ]);
  const crashedCell = matrix.cells[0]!;
  expect(crashedCell.attachments).toEqual({ clientStderr: 'cells/smb311-aes256@native/go-smb2/dirs--mkdir/client-stderr.txt' });
  expect(await readFile(join(runDir, crashedCell.attachments.clientStderr!), 'utf8')).toBe('goroutine 1 [running]:\npanic\n');
  expect(matrix.scenarios.find((s) => s.id === 'dirs/rename')?.needs).toEqual(['operation:rename']);
});

test('a cell keeps its proof of configuration: what was checked and what could not be, with why', async () => {
  const reporter = new MatrixReporter({ resultsDir: 'results', runId: 'proof-run', expectations: join(dir, 'none.json'), progress: false, declaredByProfile: new Map() });
  await writeFile(join(dir, 'none.json'), JSON.stringify({ expectations: [] }));
  const target = 'win2022@windows';
  const proven = fakeTest(target, 'round trip', cellNotes('smb-ts', 'files/round-trip'));
  const bare = fakeTest(target, 'mkdir', cellNotes('smb-ts', 'dirs/mkdir'));
  reporter.onBegin({ configFile: join(dir, 'playwright.config.ts'), shard: null } as unknown as FullConfig, { suites: [{ title: target }], allTests: () => [proven, bare] } as unknown as Suite);
  const proof = {
    checked: ['NEGOTIATE response: dialect 3.1.1, cipher AES-128-GCM, signing AES-128-GMAC, preauth SHA-512'],
    unchecked: ['the target logs no session keys (remote server): encrypted messages are seen as transforms but not opened'],
    differences: [],
  };
  reporter.onTestEnd(proven, fakeResult('passed', { annotations: [{ type: Annotation.proof, description: JSON.stringify(proof) }] }));
  reporter.onTestEnd(bare, fakeResult('passed'));
  await reporter.onEnd({ status: 'passed' } as never);
  const runDir = join(dir, 'results', 'proof-run');
  const matrix = await readMatrix(join(runDir, 'matrix.json'));
  expect(matrix.cells.map((c) => [c.scenario, c.proof ?? null])).toEqual([
    ['dirs/mkdir', null],
    ['files/round-trip', { checked: proof.checked, unchecked: proof.unchecked }],
  ]);
  const html = await readFile(join(runDir, 'index.html'), 'utf8');
  expect(html).toContain('<summary>Proof of configuration: 1 checked, 1 not checked</summary>');
  expect(html).toContain('<ul class="proof-unchecked"><li>the target logs no session keys (remote server): encrypted messages are seen as transforms but not opened</li></ul>');
});

test('an invalid expectations file stops the report naming the file and the field', async () => {
  await writeFile(join(dir, 'bad-expectations.json'), JSON.stringify({ expectations: [{ client: 'smb-ts', target: '*', scenario: '*', reason: '', expires: 'soon' }] }));
  const reporter = new MatrixReporter({ resultsDir: 'results', runId: 'bad-expectations', expectations: 'bad-expectations.json', progress: false, declaredByProfile: new Map() });
  const only = fakeTest('smb311-gcm@native', 'round trip', cellNotes('smb-ts', 'files/round-trip'));
  reporter.onBegin({ configFile: join(dir, 'playwright.config.ts'), shard: null } as unknown as FullConfig, { suites: [], allTests: () => [only] } as unknown as Suite);
  reporter.onTestEnd(only, fakeResult('passed'));
  const error = await reporter.onEnd({ status: 'passed' } as never).then(() => null, (e: Error) => e.message);
  expect(error).toContain(`${join(dir, 'bad-expectations.json')}: invalid expectations`);
  expect(error).toMatch(/say why the cell is expected to fail\n\s+→ at expectations\[0\]\.reason/);
  expect(error).toMatch(/→ at expectations\[0\]\.expires/);
});

test('status names and commands come out of client error messages', () => {
  expect(parseStatus('STATUS_ACCESS_DENIED (0xC0000022) on TREE_CONNECT \\\\127.0.0.1\\data')).toEqual({ statusName: 'STATUS_ACCESS_DENIED', command: 'TREE_CONNECT' });
  expect(parseStatus('AuthenticationError: STATUS_LOGON_FAILURE (0xC000006D) on SESSION_SETUP')).toEqual({ statusName: 'STATUS_LOGON_FAILURE', command: 'SESSION_SETUP' });
  expect(parseStatus('expected STATUS_SUCCESS')).toEqual({ statusName: 'STATUS_SUCCESS', command: null });
  expect(parseStatus('configuration mismatch: cipher AES-128-CCM, declared AES-128-GCM')).toEqual({ statusName: null, command: null });
  // An assertion's diff names the expected status; what happened is not known from it.
  expect(parseStatus('Error: expect(received).toMatchObject(expected)\n\n- Expected\n+ Received\n-   "statusName": "STATUS_BAD_NETWORK_NAME",')).toEqual({ statusName: null, command: null });
});

test('progress in a CI log: one line per N cells or per 10 s, failures as they happen, time left', () => {
  let clock = 0;
  const out: string[] = [];
  const progress = new ProgressLine({ total: 6, tty: false, every: 3, intervalMs: 10_000, now: () => clock, write: (t) => out.push(t) });
  clock = 1000;
  progress.cellDone();
  clock = 2000;
  progress.cellDone('smb-ts × t × s: STATUS_ACCESS_DENIED');
  clock = 3000;
  progress.cellDone();
  clock = 15_000;
  progress.cellDone();
  clock = 25_000;
  progress.heartbeat(); // a long cell: nothing finished for 10 s
  clock = 26_000;
  progress.heartbeat(); // printed a second ago: quiet
  clock = 26_500;
  progress.cellDone();
  progress.cellDone();
  progress.heartbeat(); // all done: quiet
  expect(out).toEqual([
    '  ✗ smb-ts × t × s: STATUS_ACCESS_DENIED\n',
    'matrix: 3/6 cells, 1 failing, about 3 s left\n',
    'matrix: 4/6 cells, 1 failing, about 8 s left\n',
    'matrix: 4/6 cells, 1 failing, about 13 s left\n',
    'matrix: 6/6 cells, 1 failing\n',
  ]);
});

test('run ids are the start time, sortable and safe as directory names', () => {
  expect(runIdFor(new Date('2026-11-25T07:30:12.345Z'))).toBe('2026-11-25T07-30-12Z');
});
