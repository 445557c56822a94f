import { test, expect } from '@playwright/test';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MatrixFileError, OUTCOMES, SCHEMA_VERSION, readMatrix, writeMatrix } from './schema.js';

/** A version 1 file (written before the unsupported outcome) and a version 2 file with plug-in clients. */
const FIXTURE = new URL('./fixtures/run-all-outcomes/matrix.json', import.meta.url).pathname;
const PLUGINS = new URL('./fixtures/run-plugins/matrix.json', import.meta.url).pathname;

let dir: string;
test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smb-interop-schema-'));
});
test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fixtureJson(): Promise<any> {
  return JSON.parse(await readFile(FIXTURE, 'utf8'));
}

async function rejection(data: unknown, name: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, typeof data === 'string' ? data : JSON.stringify(data));
  const error = await readMatrix(file).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(MatrixFileError);
  return (error as Error).message;
}

test('the fixture runs cover every outcome and survive a write/read round trip unchanged', async () => {
  const v1 = await readMatrix(FIXTURE);
  const v2 = await readMatrix(PLUGINS);
  expect(new Set([...v1.cells, ...v2.cells].map((c) => c.outcome))).toEqual(new Set(OUTCOMES));
  const copy = join(dir, 'round-trip.json');
  await writeMatrix(copy, v2);
  expect(await readMatrix(copy)).toEqual(v2);
  expect(JSON.parse(await readFile(copy, 'utf8'))).toEqual(JSON.parse(await readFile(PLUGINS, 'utf8')));
});

test('a schemaVersion 1 file reads as version 2 with every cell as it was; written again, it is version 2', async () => {
  const data = await fixtureJson();
  expect(data.schemaVersion).toBe(1);
  const matrix = await readMatrix(FIXTURE);
  expect(matrix.schemaVersion).toBe(SCHEMA_VERSION);
  expect(SCHEMA_VERSION).toBe(2);
  expect(matrix.cells).toEqual(data.cells);
  const copy = join(dir, 'upgraded.json');
  await writeMatrix(copy, matrix);
  expect(JSON.parse(await readFile(copy, 'utf8'))).toEqual({ ...data, schemaVersion: 2 });
  // What version 2 added cannot appear in a version 1 file.
  data.cells[3].outcome = 'unsupported';
  expect(await rejection(data, 'v1-unsupported.json')).toContain('cells[3]: schemaVersion 1 has no outcome "unsupported" and no clientStderr attachment');
});

test('an unsupported cell needs its reason', async () => {
  const data = JSON.parse(await readFile(PLUGINS, 'utf8'));
  const i = data.cells.findIndex((c: { outcome: string }) => c.outcome === 'unsupported');
  data.cells[i].reason = null;
  expect(await rejection(data, 'no-reason.json')).toMatch(new RegExp(`an unsupported cell needs a reason\\n\\s+→ at cells\\[${i}\\]\\.reason`));
});

test('another schemaVersion is refused with the file and the versions it reads named', async () => {
  const data = await fixtureJson();
  data.schemaVersion = 3;
  const message = await rejection(data, 'v3.json');
  expect(message).toBe(`${join(dir, 'v3.json')}: schemaVersion 3 is not supported (this smb-interop reads schemaVersion 1 and 2)`);
  expect(await rejection({ cells: [] }, 'none.json')).toContain('not a matrix results file: no schemaVersion');
});

test('malformed content names the file and the field', async () => {
  const data = await fixtureJson();
  data.cells[0].outcome = 'green';
  data.cells[5].attachments.pcap = '../../etc/passwd';
  data.cells[3].reason = null;
  data.run.start = 'yesterday';
  const message = await rejection(data, 'bad.json');
  expect(message).toContain(`${join(dir, 'bad.json')}: invalid matrix results`);
  expect(message).toMatch(/Invalid option: expected one of "passed"\|"failed"[^\n]*\n\s+→ at cells\[0\]\.outcome/);
  expect(message).toMatch(/expected no "\.\." or empty segments\n\s+→ at cells\[5\]\.attachments\.pcap/);
  expect(message).toMatch(/a not-applicable cell needs a reason\n\s+→ at cells\[3\]\.reason/);
  expect(message).toMatch(/→ at run\.start/);
});

test('cells must name a known target, scenario and client, once each', async () => {
  const data = await fixtureJson();
  data.cells[1].target = 'smb999@native';
  data.cells.push({ ...data.cells[0] });
  const message = await rejection(data, 'refs.json');
  expect(message).toMatch(/"smb999@native" is not in targets\n\s+→ at cells\[1\]\.target/);
  expect(message).toContain('duplicate cell smb-ts|smb311-gcm@native|negotiate/dialect');
});

test('a file that is not JSON says so', async () => {
  expect(await rejection('{"schemaVersion": 1,', 'trunc.json')).toMatch(/trunc\.json: not valid JSON: /);
  expect(await readMatrix(join(dir, 'missing.json')).catch((e: Error) => e.message)).toMatch(/missing\.json: cannot read: ENOENT/);
});
