/**
 * The package as a user gets it: `npm pack`, installed into a fresh project outside this
 * checkout, whose own TypeScript imports `smb-interop/client` (type-checked against the shipped
 * .d.ts) to write and read a file on a native target, and whose own scenario directory imports
 * `smb-interop/harness` by name and runs through the installed `smb-interop` command.
 *
 * Offline: the tarball is installed with `npm install --offline --no-package-lock`, its
 * dependencies already present as links to this checkout's node_modules (the same versions the
 * lockfile pins), so npm resolves nothing from the registry.
 */
import { test, expect } from '@playwright/test';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findProfile, resolveProfiles } from '../servers/catalog/index.js';
import { startNativeTarget } from '../servers/samba/native.js';
import { readMatrix } from '../matrix/schema.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const TARGET = 'smb311-gcm@native';
const STEP_TIMEOUT_MS = 120_000;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (killed after STEP_TIMEOUT_MS); never throws on a non-zero exit. */
function run(program: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(program, args, { cwd, env, timeout: STEP_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr: error !== null && error.killed ? `${stderr}\n(killed after ${STEP_TIMEOUT_MS} ms)` : stderr });
    });
  });
}

function shown(ran: Ran): string {
  return `exit ${ran.code}\n${ran.stdout}\n${ran.stderr}`;
}

/**
 * The user's environment: nothing of this checkout's own run leaks into theirs (under `npm test`,
 * npm_config_local_prefix would point npm install at this checkout).
 */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('SMB_INTEROP_') && !(key.startsWith('npm_') && key !== 'npm_config_cache')));
  return { ...env, ...extra };
}

const CLIENT_PROGRAM = `
import { SmbClient } from 'smb-interop/client';
import type { NegotiatedInfo } from 'smb-interop/client';

const { SMB_HOST, SMB_PORT, SMB_USER, SMB_PASSWORD, SMB_SHARE } = process.env;
const client = await SmbClient.connect({ host: SMB_HOST!, port: Number(SMB_PORT), username: SMB_USER!, password: SMB_PASSWORD!, timeoutMs: 10_000 });
try {
  const tree = await client.connectTree(SMB_SHARE!);
  await tree.writeFile('from-the-package.txt', Buffer.from('written through smb-interop/client'));
  const back: Buffer = await tree.readFile('from-the-package.txt');
  const negotiated: NegotiatedInfo = client.negotiated;
  console.log(JSON.stringify({ read: back.toString(), dialect: negotiated.dialect, cipher: negotiated.cipher }));
} finally {
  await client.close();
}
`;

const OWN_SCENARIO = `
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, expect, scenario, Requirement } from 'smb-interop/harness';

test('a file written by the client of the cell is on the disk of the server', scenario({ id: 'consumer/round-trip', requires: [Requirement.localPath] }), async ({ adapter }) => {
  const { session, dir, local } = adapter;
  await session.writeFile(dir + '/own.txt', Buffer.from('from a scenario outside smb-interop'));
  expect((await session.readFile(dir + '/own.txt')).toString()).toBe('from a scenario outside smb-interop');
  expect(await readFile(join(local!, 'own.txt'), 'utf8')).toBe('from a scenario outside smb-interop');
});
`;

test('npm pack installs into a fresh project that imports smb-interop/client and runs its own scenario with smb-interop/harness', async () => {
  test.setTimeout(300_000);
  expect(existsSync(join(ROOT, 'dist', 'cli', 'main.js')) && existsSync(join(ROOT, 'dist', 'harness', 'index.js')), 'the package is built (npm run build)').toBe(true);
  const scratch = await mkdtemp(join(tmpdir(), 'smb-interop-pack-'));
  try {
    // The tarball: what `files` lets in (built before by npm run build, so no prepare here).
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], ROOT, userEnv());
    expect(packed.code, shown(packed)).toBe(0);
    const [tarball] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    const files = tarball!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['bin/smb-interop.js', 'dist/clients/smb/index.d.ts', 'dist/harness/index.d.ts', 'dist/playwright.config.js', 'dist/matrix/reporter.js']));
    const unwanted = files.filter((f) => /\.test\.|(^|\/)results\/|(^|\/)testing\/|\.fixture\.|(?<!\.d)\.ts$|\.map$|\.env|\.pem$|\.key$/.test(f));
    expect(unwanted, 'tests, test helpers, results, TypeScript sources, source maps or secrets in the tarball').toEqual([]);

    // A fresh project; its dependencies' packages link to this checkout's (no registry needed).
    const project = join(scratch, 'consumer');
    await mkdir(join(project, 'node_modules', '@types'), { recursive: true });
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', devDependencies: { '@types/node': manifest.devDependencies['@types/node'] } }));
    for (const name of [...Object.keys(manifest.dependencies), '@types/node']) {
      await mkdir(dirname(join(project, 'node_modules', name)), { recursive: true });
      await symlink(join(ROOT, 'node_modules', name), join(project, 'node_modules', name));
    }
    const installed = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', join(scratch, tarball!.filename)], project, userEnv());
    expect(installed.code, shown(installed)).toBe(0);
    expect(existsSync(join(project, 'node_modules', '.bin', 'smb-interop')), 'npm linked the smb-interop command').toBe(true);

    // The user's TypeScript, type-checked against the shipped declarations (skipLibCheck off), then run.
    await writeFile(join(project, 'use-client.ts'), CLIENT_PROGRAM);
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: ['node'], skipLibCheck: false, outDir: 'out' },
      files: ['use-client.ts'],
    }));
    const compiled = await run(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], project, userEnv());
    expect(compiled.code, shown(compiled)).toBe(0);
    const target = await startNativeTarget(findProfile(resolveProfiles({}), TARGET.replace('@native', '')));
    try {
      const share = target.shares[0]!;
      const user = target.user();
      const used = await run(process.execPath, [join(project, 'out', 'use-client.js')], project, userEnv({
        SMB_HOST: target.host, SMB_PORT: String(target.port), SMB_USER: user.username, SMB_PASSWORD: user.password, SMB_SHARE: share.name,
      }));
      expect(used.code, shown(used)).toBe(0);
      expect(JSON.parse(used.stdout)).toEqual({ read: 'written through smb-interop/client', dialect: '3.1.1', cipher: 'AES-128-GCM' });
      expect(await readFile(join(share.localPath!, 'from-the-package.txt'), 'utf8')).toBe('written through smb-interop/client');
    } finally {
      await target.stop();
    }

    // The user's own scenario directory, run by the installed command; results land in their directory.
    await mkdir(join(project, 'scenarios'));
    await writeFile(join(project, 'scenarios', 'own.spec.ts'), OWN_SCENARIO);
    const matrixRun = await run(join(project, 'node_modules', '.bin', 'smb-interop'), ['run', '--scenarios-dir', 'scenarios', '--targets', TARGET, '--clients', 'smb-ts', '--workers', '1', '--id', 'packed'], project, userEnv());
    expect(matrixRun.code, shown(matrixRun)).toBe(0);
    const matrix = await readMatrix(join(project, 'results', 'packed', 'matrix.json'));
    expect(matrix.cells.map((c) => [c.client, c.target, c.scenario, c.outcome])).toEqual([['smb-ts', TARGET, 'consumer/round-trip', 'passed']]);
    expect(existsSync(join(project, 'node_modules', 'smb-interop', 'results')), 'nothing written into the installed package').toBe(false);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});
