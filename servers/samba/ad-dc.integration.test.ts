import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../processes.js';
import { run } from './accounts.js';
import { SambaAdDc } from './ad-dc.js';

// Provisioning the template takes about a minute on a loaded two-core machine (once per realm).
test.setTimeout(300_000);

const loopbackHolds = (address: string): boolean =>
  execFileSync('ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }).includes(`inet ${address}/`);

test('the AD DC serves a Kerberos logon to smbclient -k, and stop leaves no process, address or directory', async ({}, testInfo) => {
  const dc = await new SambaAdDc({ realm: 'ADTEST.INTEROP' }).start();
  const pids: number[] = [];
  try {
    testInfo.annotations.push({ type: 'ad-dc start', description: JSON.stringify(dc.timings) });
    console.log(`AD DC ${dc.realm} on ${dc.address}: provision ${dc.timings.provisionMs} ms, lock wait ${dc.timings.lockWaitMs} ms, ready ${dc.timings.readyMs} ms, with users ${dc.timings.totalMs} ms`);
    expect(loopbackHolds(dc.address)).toBe(true);
    // One DC per machine: a second start waits for this one and, past its lock timeout, says why.
    const second = await new SambaAdDc({ realm: 'ADTEST.INTEROP', lockTimeoutMs: 1000 }).start().then(() => undefined, (e: Error) => e);
    expect(second?.message).toContain(`for the DC of realm ADTEST.INTEROP started at`);
    expect(second?.message).toContain('one AD DC runs per machine at a time');
    for (const file of ['samba.pid', 'smbd.pid', 'winbindd.pid']) {
      const { readFileSync } = await import('node:fs');
      pids.push(Number(readFileSync(join(dc.root, 'run', file), 'utf8').trim()));
    }
    await writeFile(join(dc.sharePath, 'from-the-server.txt'), 'kerberos\n');
    const alice = dc.user('alice');
    const env = { ...process.env, KRB5_CONFIG: dc.krb5ConfPath, KRB5CCNAME: `MEMORY:addc-${process.pid}` };
    const listing = await run('smbclient', [
      `//${dc.hostName}/${dc.share}`, '-I', dc.address, '-U', `${alice.principal}%${alice.password}`, '--use-kerberos=required', '-m', 'SMB3_11', '-c', 'ls',
    ], { env, timeoutMs: 30_000 });
    expect(listing.stderr + listing.stdout).toContain('from-the-server.txt');
    // The same account with a wrong password is refused by the KDC: the logon above was Kerberos.
    const refused = await run('smbclient', [
      `//${dc.hostName}/${dc.share}`, '-I', dc.address, '-U', `${alice.principal}%not-${alice.password}`, '--use-kerberos=required', '-c', 'ls',
    ], { env, timeoutMs: 30_000 });
    expect(refused.code).not.toBe(0);
  } finally {
    await dc.stop();
  }
  expect(existsSync(dc.root)).toBe(false);
  expect(loopbackHolds(dc.address)).toBe(false);
  for (const pid of pids) expect(processAlive(pid), `pid ${pid}`).toBe(false);
});
