import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findProfile, resolveProfiles, SAMBA_IMAGE_NAMES, type SambaImageName } from '../catalog/index.js';
import { runSmbclient } from '../../clients/adapters/smbclient-cli.js';
import { verifyTarget } from '../../harness/verify-target.js';
import { startTarget, targetSpecs } from '../providers.js';
import { tcpProbe } from '../ports.js';
import { startContainerTarget, type StartedContainerTarget } from './container.js';
import { TargetStartError } from '../errors.js';
import { containerEngineAvailable, docker, LABELS } from './container-engine.js';
import { ensureSambaImage, IMAGE_REPOSITORY, sambaImageTag } from './container-images.js';

// Domain profiles run on the DC's image (container-dc.integration.test.ts).
// Domain profiles have tests of their own; an impaired variant's server is its base's.
const profiles = resolveProfiles({}).filter((p) => p.domain === undefined && p.impairment === undefined);
const profile = (name: string) => findProfile(profiles, name);

const SAMBA_MINOR: Record<SambaImageName, RegExp> = {
  'samba-4.17': /^Samba 4\.17\.\d+/,
  'samba-4.22': /^Samba 4\.22\.\d+/,
  'samba-4.25': /^Samba 4\.2[5-9]\.\d+/, // sid moves on
};

/** What smbstatus reports for smbclient on each share: identical for the three Samba versions. */
const DECLARED_AND_OBSERVED: Record<string, string[]> = {
  'smb302-ccm': ['data:3.0.2:AES-128-CCM:AES-128-CMAC'],
  'smb311-gcm': ['data:3.1.1:AES-128-GCM:AES-128-GMAC'],
  'smb311-aes256': ['data:3.1.1:AES-256-GCM:AES-128-GMAC'],
  'smb311-signing-gmac': ['data:3.1.1:-:AES-128-GMAC'],
  'smb300-signing-cmac': ['data:3.0:-:AES-128-CMAC'],
  'smb21-signing-hmac': ['data:2.1:-:HMAC-SHA256'],
  'smb202-legacy': ['data:2.0.2:-:HMAC-SHA256'],
  'share-encryption': ['secure:3.1.1:AES-128-GCM:AES-128-GMAC', 'plain:3.1.1:-:AES-128-GMAC'],
  guest: ['public:3.1.1:-:AES-128-GMAC', 'private:3.1.1:-:AES-128-GMAC'],
  'windows-hardened': ['data:3.1.1:AES-128-GCM:AES-128-GMAC'],
};

async function containerExists(id: string): Promise<boolean> {
  try {
    await docker().getContainer(id).inspect();
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
}

async function expectGone(t: { containerId: string; hostRoot: string; port: number }): Promise<void> {
  expect(await containerExists(t.containerId), `container ${t.containerId.slice(0, 12)} still exists`).toBe(false);
  expect(existsSync(t.hostRoot), `${t.hostRoot} still exists`).toBe(false);
  expect((await tcpProbe('127.0.0.1', t.port, 1000)).ok, `port ${t.port} still accepting`).toBe(false);
}

/** A separate node process (the built provider in dist/) that starts one container target and prints where it is. */
function startInChild(profileName: string, image: SambaImageName) {
  const entry = join(process.cwd(), 'dist/servers/samba/container.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` before the integration tests`);
  const script = `
    const { startContainerTarget } = await import(${JSON.stringify(entry)});
    const { findProfile, resolveProfiles } = await import(${JSON.stringify(join(process.cwd(), 'dist/servers/catalog/index.js'))});
    const t = await startContainerTarget(findProfile(resolveProfiles({}), ${JSON.stringify(profileName)}), { image: ${JSON.stringify(image)} });
    console.log(JSON.stringify({ pid: process.pid, containerId: t.containerId, hostRoot: t.hostRoot, port: t.port }));
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const started = new Promise<{ pid: number; containerId: string; hostRoot: string; port: number }>((resolveStarted, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolveStarted(JSON.parse(out.split('\n')[0]!));
    });
    child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, started, exited };
}


test.beforeAll(async () => {
  const engine = await containerEngineAvailable();
  // CI bootstraps an engine (scripts/bootstrap-docker.sh): there a missing engine is a failure, not a skip.
  if (process.env.SMB_INTEROP_REQUIRE_CONTAINERS === '1') expect(engine, 'a container engine must be running').toEqual({ ok: true });
  test.skip(!engine.ok, `container tests need a Docker engine: ${engine.reason}`);
  // On a new machine the three images are built here, side by side, rather than one per test.
  test.setTimeout(10 * 60_000);
  await Promise.all(SAMBA_IMAGE_NAMES.map((image) => ensureSambaImage(image)));
});

for (const image of SAMBA_IMAGE_NAMES) {
  test(`${image}: every profile starts in a container and negotiates what it declares, as the server reports it`, async () => {
    const started = await Promise.all(profiles.map((p) => startContainerTarget(p, { image })));
    try {
      for (const t of started) {
        expect(t.name).toBe(`${t.profile.name}@${image}`);
        expect(t.host).toBe('127.0.0.1');
        expect(t.serverVersion).toMatch(SAMBA_MINOR[image]);
      }
      const results = await Promise.all(started.map((t) => verifyTarget(t)));
      for (const r of results) expect(r.problems, r.target).toEqual([]);
      const seen = Object.fromEntries(results.map((r, i) => [
        started[i]!.profile.name,
        r.observations.map((o) => `${o.share}:${o.dialect}:${o.encryption || '-'}:${o.signing || '-'}`),
      ]));
      expect(seen).toEqual(DECLARED_AND_OBSERVED);
    } finally {
      await Promise.all(started.map((t) => t.stop()));
    }
    for (const t of started) await expectGone(t);
  });
}

test('the bind-mounted share is a server-side oracle: bytes written through SMB are on disk, bytes on disk are served', async () => {
  const t = await startContainerTarget(profile('smb311-gcm'), { image: 'samba-4.22' });
  const work = mkdtempSync(join(tmpdir(), 'smb-interop-container-test-'));
  try {
    const data = t.share('data');
    expect(data.localPath).toBe(join(t.hostRoot, 'shares', 'data'));
    const payload = randomBytes(200_000);
    writeFileSync(join(work, 'up.bin'), payload);
    const u = t.user();
    const base = { host: t.host, port: t.port, share: 'data', username: u.username, password: u.password, cwd: work, protection: 'encrypt' as const };
    const put = await runSmbclient({ ...base, commands: 'put up.bin written-by-smb.bin' });
    expect(put.status, put.stderr).toBeUndefined();
    const onDisk = readFileSync(join(data.localPath!, 'written-by-smb.bin'));
    expect(createHash('sha256').update(onDisk).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));

    writeFileSync(join(data.localPath!, 'placed-on-disk.txt'), 'from the host side\n');
    const get = await runSmbclient({ ...base, commands: 'get placed-on-disk.txt down.txt' });
    expect(get.status, get.stderr).toBeUndefined();
    expect(readFileSync(join(work, 'down.txt'), 'utf8')).toBe('from the host side\n');

    const inContainer = await t.exec(['sha256sum', '/smb-interop/shares/data/written-by-smb.bin']);
    expect(inContainer.stdout.split(' ')[0]).toBe(createHash('sha256').update(payload).digest('hex'));
    expect(t.log()).toMatch(/smbd version 4\.22\.\d+\S* started/);
  } finally {
    await t.stop();
    rmSync(work, { recursive: true, force: true });
  }
  await expectGone(t);
  await t.stop(); // a second stop is harmless
});

test('every container carries the run labels, and stop() removes it with its share directory', async () => {
  const t = await startContainerTarget(profile('smb202-legacy'), { image: 'samba-4.17' });
  try {
    const info = await docker().getContainer(t.containerId).inspect();
    expect(info.Config.Labels).toMatchObject({
      [LABELS.ownerPid]: String(process.pid),
      [LABELS.target]: 'smb202-legacy@samba-4.17',
      [LABELS.hostRoot]: t.hostRoot,
    });
    expect(info.HostConfig.NetworkMode).toBe('host');
    expect(info.Config.Image).toBe(sambaImageTag('samba-4.17'));
  } finally {
    await t.stop();
  }
  await expectGone(t);
});

test('Ctrl-C (SIGINT) of a run removes its container on the way out', async () => {
  const run = startInChild('smb311-signing-gmac', 'samba-4.17');
  const where = await run.started;
  expect(await containerExists(where.containerId)).toBe(true);
  run.child.kill('SIGINT');
  await run.exited;
  await expectGone(where);
});

test('a run killed with SIGKILL leaves its container, and the next start removes it', async () => {
  const run = startInChild('smb21-signing-hmac', 'samba-4.17');
  const where = await run.started;
  run.child.kill('SIGKILL');
  await run.exited;
  expect(await containerExists(where.containerId), 'nothing can clean up after SIGKILL').toBe(true);
  const next = await startContainerTarget(profile('smb202-legacy'), { image: 'samba-4.17' });
  try {
    await expectGone(where);
  } finally {
    await next.stop();
  }
});

test('a container target that cannot start names the target and the reason', async () => {
  const entry = join(process.cwd(), 'dist/servers/providers.js');
  const script = `
    const { startTarget, targetSpecs } = await import(${JSON.stringify(entry)});
    const { resolveProfiles } = await import(${JSON.stringify(join(process.cwd(), 'dist/servers/catalog/index.js'))});
    const [spec] = targetSpecs({ profiles: resolveProfiles({}), providerChoice: {}, profileProviders: {}, remoteTargets: [] }, { providers: ['container'], sambaImages: ['samba-4.25'] });
    const t0 = Date.now();
    try { await startTarget(spec); console.log('started?'); } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message, ms: Date.now() - t0 })); }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => child.once('exit', r));
  const error = JSON.parse(out) as { name: string; code: string; message: string; ms: number };
  expect(error.name).toBe('TargetStartError');
  expect(error.code).toBe('SMB_INTEROP_TARGET_START');
  expect(error.message).toMatch(/^cannot start smb302-ccm@samba-4\.25: no container engine answers at unix:\/\/\/nonexistent\/docker\.sock/);
  expect(error.ms).toBeLessThan(5000);
});

test('an image that fails to build names the target, the failing step and the builder\'s last lines', async () => {
  const context = mkdtempSync(join(tmpdir(), 'smb-interop-container-test-'));
  try {
    writeFileSync(join(context, 'Dockerfile'), 'ARG DEBIAN_SUITE=bookworm\nFROM debian:${DEBIAN_SUITE}-slim\nRUN echo "no samba in this image" && exit 3\n');
    const error = await startContainerTarget(profile('smb311-gcm'), { image: 'samba-4.17', buildContext: context }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetStartError);
    const message = (error as Error).message;
    expect(message).toMatch(/^cannot start smb311-gcm@samba-4\.17: building smb-interop\/samba:bookworm-[0-9a-f]{12} failed: .*returned a non-zero code: 3/);
    expect(message).toContain('--- docker build (last lines) ---');
    expect(message).toContain('no samba in this image');
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
});

test('startTarget starts a container spec from the catalog like any other', async () => {
  const [spec] = targetSpecs({ profiles: [profile('smb300-signing-cmac')], providerChoice: {}, profileProviders: {}, remoteTargets: [], configFile: undefined }, { providers: ['container'], sambaImages: ['samba-4.25'] });
  const t = (await startTarget(spec!)) as StartedContainerTarget;
  try {
    expect(t.name).toBe('smb300-signing-cmac@samba-4.25');
    expect((await verifyTarget(t)).problems).toEqual([]);
  } finally {
    await t.stop();
  }
  await expectGone(t);
});

test.afterAll(async () => {
  if (!(await containerEngineAvailable()).ok) return;
  // Nothing of this file's runs is left: no labelled container, no dangling image, one image per suite.
  const left = await docker().listContainers({ all: true, filters: { label: [LABELS.ownerPid] } });
  expect(left.map((c) => `${c.Id.slice(0, 12)} ${c.Labels[LABELS.target]}`)).toEqual([]);
  const dangling = await docker().listImages({ filters: { dangling: ['true'] } });
  expect(dangling.map((i) => i.Id)).toEqual([]);
  const ours = (await docker().listImages()).flatMap((i) => i.RepoTags ?? []).filter((tag) => tag.startsWith(`${IMAGE_REPOSITORY}:`));
  expect(ours.sort()).toEqual(SAMBA_IMAGE_NAMES.map((name) => sambaImageTag(name)).sort());
});
