/**
 * The harness's self-check, from the bug this project was born from: the client's two field bugs
 * (no SMB2_GLOBAL_CAP_ENCRYPTION in NEGOTIATE; inner SessionId zeroed in encrypted messages),
 * switched on with the test-only SMB_INTEROP_TEST_FAULTS, must turn the 3.0.2
 * encryption-required cells red, leave unaffected cells green, and leave attachments that show
 * the cause.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { SELF_CHECK_FAULTS } from './faults.js';
import { formatSelfCheck, runSelfCheck } from './self-check.js';

interface JsonResult {
  status: string;
  errors: Array<{ message?: string }>;
  attachments: Array<{ name: string; path?: string; body?: string }>;
}
interface JsonTest {
  projectName: string;
  annotations: Array<{ type: string; description?: string }>;
  results: JsonResult[];
}
interface JsonSuite {
  suites?: JsonSuite[];
  specs?: Array<{ title: string; tests: JsonTest[] }>;
}

interface Cell {
  target: string;
  scenario: string;
  status: string;
  error: string;
  attachments: Map<string, { path?: string; body?: string }>;
}

function cellsOf(suite: JsonSuite, out: Cell[] = []): Cell[] {
  for (const spec of suite.specs ?? []) {
    for (const t of spec.tests) {
      const result = t.results[t.results.length - 1];
      const scenario = t.annotations.find((a) => a.type === 'scenario')?.description ?? spec.title;
      const attachments = new Map((result?.attachments ?? []).map((a) => [a.name, { path: a.path, body: a.body }]));
      out.push({ target: t.projectName, scenario, status: result?.status ?? 'none', error: result?.errors.map((e) => e.message ?? '').join('\n') ?? '', attachments });
    }
  }
  for (const child of suite.suites ?? []) cellsOf(child, out);
  return out;
}

/** An attachment's text: the JSON reporter gives `body` (base64) for in-memory ones, `path` for files. */
async function attachmentText(cell: Cell, name: string): Promise<string> {
  const attachment = cell.attachments.get(name);
  if (attachment?.body !== undefined) return Buffer.from(attachment.body, 'base64').toString('utf8');
  if (attachment?.path !== undefined) return readFile(attachment.path, 'utf8');
  throw new Error(`${cell.target} ${cell.scenario} has no ${name} attachment`);
}

async function runSuite(faults: string, outputDir: string): Promise<Cell[]> {
  const report = join(outputDir, 'report.json');
  const args = [
    'playwright', 'test', '-c', 'playwright.config.ts',
    '--project=smb302-ccm@native', '--project=smb311-signing-gmac@native', '--project=smb202-legacy@native',
    '--grep=@encryption|advertises SMB2_GLOBAL_CAP_ENCRYPTION', '--reporter=json', `--output=${join(outputDir, 'out')}`,
  ];
  const child = spawn('npx', args, {
    env: { ...process.env, SMB_INTEROP_TEST_FAULTS: faults, SMB_INTEROP_TRACE: 'retain-on-failure', PLAYWRIGHT_JSON_OUTPUT_NAME: report, SMB_INTEROP_CLIENTS: 'smb-ts' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(code, `the faulty run must fail (exit code 1); stderr: ${stderr.slice(-2000)}`).toBe(1);
  return cellsOf(JSON.parse(await readFile(report, 'utf8')) as JsonSuite);
}

const ENCRYPTION_CELLS = ['encryption/encrypted-tree-connect', 'encryption/all-transformed', 'encryption/unique-nonces'];

for (const fault of ['omitEncryptionCapability', 'zeroInnerSessionIdWhenEncrypting'] as const) {
  test(`with the ${fault} bug the 3.0.2 encryption cells go red with the cause attached; unaffected cells stay green`, async () => {
    test.setTimeout(240_000);
    const dir = await mkdtemp(join(tmpdir(), 'smb-interop-selfcheck-'));
    try {
      const cells = await runSuite(fault, dir);
      const red = cells.filter((c) => c.target === 'smb302-ccm@native' && ENCRYPTION_CELLS.includes(c.scenario));
      expect(red.map((c) => `${c.scenario} ${c.status}`).sort()).toEqual(ENCRYPTION_CELLS.map((s) => `${s} failed`).sort());
      const unaffected = cells.filter((c) => c.target !== 'smb302-ccm@native' && c.scenario !== 'negotiate/encryption-capability');
      expect(unaffected.length).toBeGreaterThan(0);
      expect(unaffected.filter((c) => c.status === 'failed').map((c) => `${c.target} ${c.scenario}: ${c.error.slice(0, 200)}`)).toEqual([]);
      for (const cell of red) {
        expect([...cell.attachments.keys()].sort()).toEqual(expect.arrayContaining(['server.log', 'trace.pcapng', 'transcript.txt']));
      }
      const first = red.find((c) => c.scenario === 'encryption/encrypted-tree-connect')!;
      const transcript = await attachmentText(first, 'transcript.txt');
      const serverLog = await attachmentText(first, 'server.log');
      if (fault === 'omitEncryptionCapability') {
        // The cause in the cell: NEGOTIATE without ENCRYPTION, and the server saying why it refused.
        expect(first.error).toMatch(/STATUS_ACCESS_DENIED \(0xC0000022\) on SESSION_SETUP/);
        expect(transcript).toMatch(/send +NEGOTIATE .*capabilities DFS\|LEASING\|LARGE_MTU ciphers/);
        expect(serverLog).toContain('reject session with dialect[0x0302] as encryption is required');
        expect(cells.find((c) => c.target === 'smb302-ccm@native' && c.scenario === 'negotiate/encryption-capability')?.status).toBe('failed');
      } else {
        // The encrypted TREE_CONNECT carries SessionId 0 inside; the server answers in the clear that the session is gone.
        expect(first.error).toMatch(/STATUS_USER_SESSION_DELETED \(0xC0000203\) on TREE_CONNECT/);
        expect(transcript).toMatch(/send +TREE_CONNECT +mid=\d+ +sid=0x0000000000000000 .*ENC/);
        expect(serverLog).toMatch(/status\[NT_STATUS_USER_SESSION_DELETED\]/);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('every self-check fault turns its cells red with the cause named in the explanation, and leaves the cells it does not touch green', async () => {
  test.setTimeout(900_000);
  const dir = await mkdtemp(join(tmpdir(), 'smb-interop-selfcheck-catalog-'));
  try {
    const report = await runSelfCheck({ resultsDir: dir, timeoutMs: 840_000 });
    const printed = formatSelfCheck(report);
    expect(report.verdicts.map((v) => v.fault.name)).toEqual(SELF_CHECK_FAULTS.map((f) => f.name));
    for (const v of report.verdicts) {
      expect.soft(v.red.map((c) => `${c.target} ${c.outcome}`), `${v.fault.name} must turn these red\n${printed}`).toEqual(v.fault.red.map((t) => `${t} failed`));
      expect.soft(v.named, `${v.fault.name}'s explanation must name ${v.fault.cause}\n${printed}`).toBe(true);
      expect.soft(v.harmed, `${v.fault.name} must leave these green\n${printed}`).toEqual([]);
    }
    expect(report.referencesBroken, `the reference cells run without faults and pass\n${printed}`).toEqual([]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
