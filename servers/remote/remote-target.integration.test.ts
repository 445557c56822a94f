import { test, expect } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSmbclient } from '../../clients/adapters/smbclient-cli.js';
import { verifyTarget } from '../../harness/verify-target.js';
import { findProfile, loadCatalog, resolveProfiles } from '../catalog/index.js';
import { startTarget, TargetNotConfiguredError, TargetStartError, targetSpecs } from '../providers.js';
import { freeLoopbackPort } from '../ports.js';
import { startNativeTarget } from '../samba/native.js';
import type { StartedTarget } from '../target.js';

/** A config file naming one remote target; returns the loaded catalog's remote specs for `env`. */
async function remoteSpecsFrom(entry: Record<string, unknown>, env: NodeJS.ProcessEnv) {
  const dir = mkdtempSync(join(tmpdir(), 'smb-interop-remote-test-'));
  try {
    const file = join(dir, 'smb-interop.config.json');
    writeFileSync(file, JSON.stringify({ remoteTargets: { 'lab-server': entry } }));
    const catalog = await loadCatalog({ configFile: file });
    return targetSpecs(catalog, { providers: ['remote'], env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const declaresGcm = {
  dialects: { min: '3.1.1', max: '3.1.1' }, encryption: 'required', cipher: 'AES-128-GCM', signing: 'required', signingAlgorithm: 'AES-128-GMAC',
};

test('remote code path, against a native Samba configured as a remote target through a config file and environment variables', async () => {
  const server = await startNativeTarget(findProfile(resolveProfiles({}), 'smb311-gcm'));
  const work = mkdtempSync(join(tmpdir(), 'smb-interop-remote-test-'));
  let remote: StartedTarget | undefined;
  try {
    const account = server.user();
    const env = { LAB_SMB_USER: account.username, LAB_SMB_PASSWORD: account.password };
    const [spec, ...others] = await remoteSpecsFrom({
      kind: 'windows', host: '127.0.0.1', port: server.port, share: 'data',
      usernameEnv: 'LAB_SMB_USER', passwordEnv: 'LAB_SMB_PASSWORD', declares: declaresGcm,
    }, env);
    expect(others).toEqual([]);
    expect(spec).toMatchObject({ name: 'lab-server@windows', provider: 'remote', status: { state: 'ready' } });

    remote = await startTarget(spec!, { env });
    expect(remote).toMatchObject({ name: 'lab-server@windows', provider: 'remote', host: '127.0.0.1', port: server.port, serverVersion: 'Windows Server' });
    expect(remote.user()).toEqual({ name: 'user', username: account.username, password: account.password, domain: '' });
    expect(remote.share('data')).toEqual({ name: 'data', unc: '\\\\127.0.0.1\\data', encrypted: false, guestOk: false });
    expect(remote.share('data').localPath).toBeUndefined();
    expect(remote.log()).toBe('');
    expect(remote.serverSessions).toBeUndefined();

    // No localPath on a remote target: what reached the server is read back through the reference client.
    const payload = randomBytes(65_536);
    writeFileSync(join(work, 'up.bin'), payload);
    const u = remote.user();
    const client = { host: remote.host, port: remote.port, share: 'data', username: u.username, password: u.password, domain: u.domain, cwd: work };
    const put = await runSmbclient({ ...client, commands: 'put up.bin through-remote.bin' });
    expect(put.status, put.stderr).toBeUndefined();
    const get = await runSmbclient({ ...client, commands: 'get through-remote.bin back.bin' });
    expect(get.status, get.stderr).toBeUndefined();
    expect(readFileSync(join(work, 'back.bin')).equals(payload)).toBe(true);

    // The declaration in the config, checked by the server underneath it (which a real remote cannot offer).
    const viaServer = Object.assign(Object.create(remote) as StartedTarget, { serverSessions: () => server.serverSessions() });
    const verification = await verifyTarget(viaServer);
    expect(verification.problems).toEqual([]);
    expect(verification.observations).toEqual([{ share: 'data', dialect: '3.1.1', encryption: 'AES-128-GCM', signing: 'AES-128-GMAC', sessionEncryption: 'AES-128-GCM' }]);
  } finally {
    await remote?.stop();
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

test('a remote target whose password variable is unset is listed as not configured, and starting it says so', async () => {
  const env = { LAB_SMB_USER: 'someone' };
  const [spec] = await remoteSpecsFrom({
    kind: 'azure-files', host: '127.0.0.1', share: 'data', usernameEnv: 'LAB_SMB_USER', passwordEnv: 'LAB_SMB_PASSWORD', declares: declaresGcm,
  }, env);
  expect(spec!.name).toBe('lab-server@azure-files');
  expect(spec!.status).toEqual({ state: 'not-configured', reason: 'environment variable LAB_SMB_PASSWORD (remoteTargets.lab-server.passwordEnv) not set' });
  const error = await startTarget(spec!, { env }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TargetNotConfiguredError);
  expect((error as TargetNotConfiguredError).code).toBe('SMB_INTEROP_TARGET_NOT_CONFIGURED');
  expect((error as Error).message).toBe('lab-server@azure-files is not configured: environment variable LAB_SMB_PASSWORD (remoteTargets.lab-server.passwordEnv) not set');
});

test('an unreachable remote target (127.0.0.1, closed port) fails to start within its probe timeout, naming target and reason', async () => {
  const closedPort = await freeLoopbackPort();
  const env = { LAB_SMB_USER: 'someone', LAB_SMB_PASSWORD: 'pa55-never-printed' };
  const [spec] = await remoteSpecsFrom({
    kind: 'windows', host: '127.0.0.1', port: closedPort, share: 'data', probeTimeoutMs: 3000,
    usernameEnv: 'LAB_SMB_USER', passwordEnv: 'LAB_SMB_PASSWORD', declares: declaresGcm,
  }, env);
  const started = Date.now();
  const error = await startTarget(spec!, { env }).catch((e: unknown) => e);
  expect(Date.now() - started).toBeLessThan(3500);
  expect(error).toBeInstanceOf(TargetStartError);
  expect((error as TargetStartError).code).toBe('SMB_INTEROP_TARGET_START');
  expect((error as Error).message).toBe(`cannot start lab-server@windows: 127.0.0.1:${closedPort} is unreachable (connect ECONNREFUSED)`);
  expect(JSON.stringify({ error: (error as Error).message, spec })).not.toContain('pa55-never-printed');
});
