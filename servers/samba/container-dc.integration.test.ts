import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findProfile, resolveProfiles } from '../catalog/index.js';
import { SmbClient, SmbError } from '../../clients/smb/index.js';
import { containerEngineAvailable, docker } from './container-engine.js';
import { startContainerDomainTarget } from './container-dc.js';
import { ensureSambaImage } from './container-images.js';
import { startDomainTarget } from './domain-target.js';

const loopbackHolds = (address: string): boolean =>
  execFileSync('ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }).includes(`inet ${address}/`);

async function containerExists(id: string): Promise<boolean> {
  try {
    await docker().getContainer(id).inspect();
    return true;
  } catch {
    return false;
  }
}

test.beforeAll(async () => {
  const engine = await containerEngineAvailable();
  if (process.env.SMB_INTEROP_REQUIRE_CONTAINERS === '1') expect(engine, 'a container engine must be running').toEqual({ ok: true });
  test.skip(!engine.ok, `container tests need a Docker engine: ${engine.reason}`);
  // On a new machine the DC's image is built here (packages, then the realm provisioned).
  test.setTimeout(10 * 60_000);
  await ensureSambaImage('samba-4.25', undefined, 'samba-ad-dc');
});

test('ad-kerberos on Samba 4.25 in a container, beside a native DC: Kerberos gives an encrypted 3.1.1 session, NTLM is refused, and stop removes container, address and directory', async () => {
  test.setTimeout(180_000);
  const profile = findProfile(resolveProfiles({}), 'ad-kerberos');
  // The container's winbindd is its own: a native DC runs at the same time.
  const native = await startDomainTarget(findProfile(resolveProfiles({}), 'ad-negotiate'));
  const target = await startContainerDomainTarget(profile, { image: 'samba-4.25', logLevel: 3 });
  try {
    expect(target.name).toBe('ad-kerberos@samba-4.25');
    expect(target.serverVersion).toMatch(/^Samba 4\.(2[3-9]|[3-9]\d)/);
    expect(loopbackHolds(target.host)).toBe(true);
    expect(target.host).not.toBe(native.host);
    expect(target.kerberos).toEqual({ realm: 'INTEROP.TEST', kdc: `${target.host}:88`, serviceHost: 'dc1.interop.test', ntlm: false });
    const user = target.user();
    const base = { host: target.host, port: target.port, username: user.username, password: user.password, domain: user.domain, timeoutMs: 20_000 };
    const ntlm = await SmbClient.connect({ ...base, auth: 'ntlm' }).then(() => undefined, (e: unknown) => e);
    expect(ntlm).toBeInstanceOf(SmbError);
    expect((ntlm as SmbError).statusName).toBe('STATUS_NTLM_BLOCKED');
    const client = await SmbClient.connect({ ...base, auth: 'kerberos', kerberos: { realm: 'INTEROP.TEST', kdc: target.kerberos.kdc, serviceHost: target.kerberos.serviceHost } });
    try {
      expect([client.negotiated.authMechanism, client.negotiated.dialect, client.negotiated.encryptionOn]).toEqual(['kerberos', '3.1.1', true]);
      const tree = await client.connectTree('data');
      await tree.writeFile('in-the-container.txt', Buffer.from('kerberos'));
      expect(await readFile(join(target.share('data').localPath!, 'in-the-container.txt'), 'utf8')).toBe('kerberos');
      // smbd 4.23+ dumps keys in its client library's layout: the harness reads them for this session too.
      await expect.poll(() => target.sessionKeys().length, { timeout: 5000 }).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  } finally {
    await target.stop();
    await native.stop();
  }
  expect(await containerExists(target.containerId)).toBe(false);
  expect(loopbackHolds(target.host)).toBe(false);
  expect(existsSync(target.share('data').localPath!)).toBe(false);
});
