/**
 * The proof of configuration and the wire-judged scenarios in a real matrix run against native
 * smbd, with clients and a target configured the way a user would (smb-interop.config.json):
 * a target whose declared cipher is not what the server chooses, and plug-in clients around this
 * project's TypeScript client that declare everything but offer less or break one thing. Each
 * must turn its cells red with the difference named; the unbroken client stays green.
 */
import { test, expect, type TestInfo } from '@playwright/test';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCli } from '../matrix/testing/cli.js';
import { readMatrix, type Cell } from '../matrix/schema.js';

const EVERYTHING = `{ dialects: ['2.0.2', '2.1', '3.0', '3.0.2', '3.1.1'], ciphers: ['AES-128-CCM', 'AES-128-GCM', 'AES-256-CCM', 'AES-256-GCM'],
  signing: ['HMAC-SHA256', 'AES-128-CMAC', 'AES-128-GMAC'], auth: ['ntlm'],
  operations: ['writeFile', 'readFile', 'stat', 'readdir', 'mkdir', 'rmdir', 'unlink', 'rename', 'exists'] }`;

/** A module plug-in: the TypeScript client with `options`, declaring every capability. */
function moduleClient(options: string): string {
  const dist = (path: string) => JSON.stringify(join(ROOT, 'dist', path));
  return `import { typescriptAdapter } from ${dist('clients/adapters/typescript.js')};
import { withFaults } from ${dist('clients/smb/faults.js')};
import { SELF_CHECK_FAULTS } from ${dist('harness/faults.js')};
void withFaults; void SELF_CHECK_FAULTS;
export const adapter = typescriptAdapter(${options});
export const capabilities = ${EVERYTHING};
`;
}

const CLIENTS = {
  // Offers only AES-256-CCM, though it declares (and the target declares) AES-256-GCM.
  'offers-ccm256': moduleClient("{ ciphers: ['AES-256-CCM'] }"),
  // Leaves SMB2_GLOBAL_CAP_ENCRYPTION out of its NEGOTIATE.
  'no-cap-encryption': moduleClient('withFaults({}, { switches: { omitEncryptionCapability: true } })'),
  // Sends its requests after SESSION_SETUP unsigned.
  'unsigned-requests': moduleClient("withFaults({}, SELF_CHECK_FAULTS.find((f) => f.name === 'unsignedAfterSessionSetup').hook())"),
};

test('a declared configuration the wire does not show fails the cell, naming the difference; broken clients fail the scenarios that judge them on the wire', async ({}, testInfo) => {
  test.setTimeout(600_000);
  expect(existsSync(join(ROOT, 'dist/clients/adapters/typescript.js')), 'the client is built (npm run build)').toBe(true);
  const dir = await mkdtemp(join(tmpdir(), 'smb-interop-wire-proof-test-'));
  try {
    await runAndCheck(dir, testInfo);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function runAndCheck(dir: string, testInfo: TestInfo): Promise<void> {
  const clients: Record<string, { module: string }> = {};
  for (const [name, source] of Object.entries(CLIENTS)) {
    await writeFile(join(dir, `${name}.mjs`), source);
    clients[name] = { module: `./${name}.mjs` };
  }
  const config = join(dir, 'smb-interop.config.json');
  await writeFile(config, JSON.stringify({
    // The server prefers AES-128-GCM; the profile claims its sessions use AES-128-CCM.
    profiles: { 'gcm-says-ccm': { extends: 'smb311-gcm', encryption: { ciphers: ['AES-128-GCM', 'AES-128-CCM'] }, expect: { cipher: 'AES-128-CCM' } } },
    clients,
  }, null, 2));
  const results = join(dir, 'results');
  const started = Date.now();
  const run = await runCli([
    'run', '--config', config, '--targets', 'gcm-says-ccm@native,smb311-aes256@native,smb311-signing-gmac@native',
    '--clients', ['smb-ts', ...Object.keys(CLIENTS)].join(','),
    '--scenarios', 'files/round-trip-small,negotiate/declared-cipher,negotiate/encryption-capability,signing/all-signed',
    '--results', results, '--id', 'proof', '--workers', '2',
  ], {}, 540_000);
  testInfo.annotations.push({ type: 'run time', description: `${Math.round((Date.now() - started) / 1000)} s` });
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
  const matrix = await readMatrix(join(results, 'proof', 'matrix.json'));
  await testInfo.attach('matrix.json', { path: join(results, 'proof', 'matrix.json'), contentType: 'application/json' });
  const cell = (client: string, target: string, scenario: string): Cell => {
    const found = matrix.cells.find((c) => c.client === client && c.target === `${target}@native` && c.scenario === scenario);
    expect(found, `${client} x ${target} x ${scenario}`).toBeDefined();
    return found!;
  };
  const outcome = (c: Cell) => `${c.outcome}${c.error === null ? '' : `: ${c.error.message.split('\n')[0]}`}`;

  // The target's declared cipher is not what its server chooses: every cell of the client that did everything right is red.
  expect(outcome(cell('smb-ts', 'gcm-says-ccm', 'files/round-trip-small'))).toMatch(/^failed: .*configuration mismatch on gcm-says-ccm@native: cipher AES-128-GCM, declared AES-128-CCM/);
  expect(outcome(cell('smb-ts', 'gcm-says-ccm', 'negotiate/declared-cipher'))).toMatch(/^failed: /);
  // The same client on a target that declares the truth: green, with what the wire showed.
  const control = cell('smb-ts', 'smb311-aes256', 'files/round-trip-small');
  expect(outcome(control)).toBe('passed');
  expect(control.negotiated).toEqual({ dialect: '3.1.1', cipher: 'AES-256-GCM', signingAlgorithm: 'AES-128-GMAC', preauthIntegrity: true, encryption: true, signing: false, authMechanism: 'ntlm' });
  for (const scenario of ['negotiate/declared-cipher', 'negotiate/encryption-capability']) expect(outcome(cell('smb-ts', 'smb311-aes256', scenario))).toBe('passed');
  expect(outcome(cell('smb-ts', 'smb311-signing-gmac', 'signing/all-signed'))).toBe('passed');

  // A plug-in that declares AES-256-GCM but offers only AES-256-CCM.
  expect(outcome(cell('offers-ccm256', 'smb311-aes256', 'files/round-trip-small'))).toMatch(/^failed: .*configuration mismatch on smb311-aes256@native: cipher AES-256-CCM, declared AES-256-GCM/);
  expect(outcome(cell('offers-ccm256', 'smb311-aes256', 'negotiate/declared-cipher'))).toMatch(/^failed: /);
  // A NEGOTIATE without SMB2_GLOBAL_CAP_ENCRYPTION, on a target that does not encrypt (the session itself works).
  expect(outcome(cell('no-cap-encryption', 'smb311-signing-gmac', 'negotiate/encryption-capability'))).toMatch(/^failed: .*NEGOTIATE request Capabilities/);
  expect(outcome(cell('no-cap-encryption', 'smb311-signing-gmac', 'files/round-trip-small'))).toBe('passed');
  // Unsigned requests where the server requires signing.
  expect(outcome(cell('unsigned-requests', 'smb311-signing-gmac', 'signing/all-signed'))).toMatch(/^failed: /);
}
