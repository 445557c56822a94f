import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCatalog } from '../catalog/index.js';
import { startTarget, targetSpecs } from '../providers.js';
import { SmbClient, SmbError } from '../../clients/smb/index.js';
import type { StartedTarget } from '../target.js';

// The first start in a fresh machine provisions the realm's template (about a minute under load).
test.setTimeout(300_000);

const loopbackHolds = (address: string): boolean =>
  execFileSync('ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }).includes(`inet ${address}/`);

async function failure(promise: Promise<unknown>): Promise<Error & { statusName?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

test('ad-kerberos starts as a DC with the profile\'s settings: Kerberos gives an encrypted 3.1.1 session, NTLM and SMB 3.0.2 are refused, and stop removes it all', async () => {
  const spec = targetSpecs(await loadCatalog(), { providers: ['native'] }).find((s) => s.name === 'ad-kerberos@native');
  expect(spec, 'ad-kerberos@native in the catalog').toBeDefined();
  let target: StartedTarget | undefined;
  try {
    target = await startTarget(spec!, { logLevel: 3 });
    expect(loopbackHolds(target.host)).toBe(true);
    expect(target.kerberos).toEqual({ realm: 'INTEROP.TEST', kdc: `${target.host}:88`, serviceHost: 'dc1.interop.test', ntlm: false });
    expect([target.port, target.users.map((u) => `${u.domain}\\${u.username}`)]).toEqual([445, ['INTEROP\\alice', 'INTEROP\\bob']]);
    const share = target.share('data');
    expect(share.localPath !== undefined && existsSync(share.localPath)).toBe(true);
    const user = target.user();
    const base = { host: target.host, port: target.port, username: user.username, password: user.password, domain: user.domain, timeoutMs: 20_000 };
    const kerberos = { realm: target.kerberos!.realm, kdc: target.kerberos!.kdc, serviceHost: target.kerberos!.serviceHost };

    // `ntlm auth = disabled` reached the DC's smbd.
    const ntlm = await failure(SmbClient.connect({ ...base, auth: 'ntlm' }));
    expect(ntlm).toBeInstanceOf(SmbError);
    expect((ntlm as SmbError).statusName).toBe('STATUS_NTLM_BLOCKED');
    // `server min protocol = SMB3_11` too: a client offering only 3.0.2 finds no dialect in common.
    const old = await failure(SmbClient.connect({ ...base, auth: 'kerberos', kerberos, dialects: ['3.0.2'] }));
    expect(old.message).toMatch(/NEGOTIATE|dialect/);

    const client = await SmbClient.connect({ ...base, auth: 'kerberos', kerberos });
    try {
      expect({ mechanism: client.negotiated.authMechanism, dialect: client.negotiated.dialect, encryption: client.negotiated.encryptionOn }).toEqual({
        mechanism: 'kerberos', dialect: '3.1.1', encryption: true,
      });
      const tree = await client.connectTree('data');
      await tree.writeFile('from-kerberos.txt', Buffer.from('domain'));
      expect(await readFile(join(share.localPath!, 'from-kerberos.txt'), 'utf8')).toBe('domain');
      const sessions = await target.serverSessions!();
      expect(sessions.filter((s) => s.username.toLowerCase().endsWith('alice')).map((s) => [s.dialect, s.encryption !== ''])).toContainEqual(['3.1.1', true]);
      // The DC logs the session's keys like any smbd: the harness decrypts every client's capture with them.
      expect(target.sessionKeys!().length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  } finally {
    await target?.stop();
  }
  expect(loopbackHolds(target!.host)).toBe(false);
  expect(existsSync(target!.share('data').localPath!)).toBe(false);
});
