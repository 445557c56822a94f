import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findProfile, resolveProfiles } from '../catalog/index.js';
import { holdSmbclientSession, runSmbclient } from '../../clients/adapters/smbclient-cli.js';
import { startNativeTarget, sweepStaleNativeTargets, type StartedNativeTarget } from './native.js';

const smb311gcm = findProfile(resolveProfiles({}), 'smb311-gcm');

/** The uid and gid the target's own passwd file gives an account. */
function privateIds(target: StartedNativeTarget, username: string): { uid: number; gid: number } {
  const line = readFileSync(join(target.root, 'passwd'), 'utf8').split('\n').find((l) => l.startsWith(`${username}:`));
  if (!line) throw new Error(`${username} is not in ${target.root}/passwd`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * A system file's bytes, less the accounts that older versions of the native provider made for
 * other processes (GECOS "smb-interop pid N"): another checkout running beside this test may still
 * add and remove them, and they are not this test's doing.
 */
function systemFile(path: string): string {
  const foreign = /^si[0-9a-f]{6}-[^:]*:[^:]*:\d+:\d+:smb-interop pid (\d+):/;
  return readFileSync(path, 'latin1').split('\n').filter((line) => {
    const match = foreign.exec(line);
    return !match || Number(match[1]) === process.pid;
  }).join('\n');
}

/** Writes a file and makes a directory through the share, as the target's first user. */
async function writeThroughShare(target: StartedNativeTarget, scratch: string): Promise<void> {
  const u = target.user();
  writeFileSync(join(scratch, `${target.port}.txt`), `written to ${target.name} on port ${target.port}`);
  const put = await runSmbclient({
    host: target.host, port: target.port, share: 'data', username: u.username, password: u.password,
    commands: `put ${target.port}.txt; mkdir made-here`, cwd: scratch,
  });
  expect(put.code, put.stderr + put.stdout).toBe(0);
}

/** The user name smbstatus reports for a live session of the target's first user. */
async function sessionUser(target: StartedNativeTarget): Promise<string> {
  const u = target.user();
  const held = holdSmbclientSession({ host: target.host, port: target.port, share: 'data', username: u.username, password: u.password, commands: 'ls' });
  try {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      // Once the tree is connected, the session is past authentication.
      const session = (await target.serverSessions()).find((s) => s.trees.length > 0);
      if (session) return session.username;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${target.name}: no session appeared within 15 s`);
  } finally {
    await held.close();
  }
}

test('two native targets of one profile run side by side without touching /etc/passwd or /etc/group', async () => {
  sweepStaleNativeTargets(); // removes any orphaned account of an older version first, once per process
  const passwdBefore = systemFile('/etc/passwd');
  const groupBefore = systemFile('/etc/group');
  const scratch = mkdtempSync(join(tmpdir(), 'smb-interop-accounts-'));
  const targets = await Promise.all([startNativeTarget(smb311gcm), startNativeTarget(smb311gcm)]);
  try {
    await Promise.all(targets.map((t) => writeThroughShare(t, scratch)));
    for (const t of targets) {
      const u = t.user();
      // The machine does not know the account; smbd and smbstatus know it from the target's files.
      expect(spawnSync('getent', ['passwd', u.username]).status, `${u.username} is a system account`).toBe(2);
      const ids = privateIds(t, u.username);
      const data = t.share('data').localPath!;
      for (const written of [`${t.port}.txt`, 'made-here']) {
        const stat = statSync(join(data, written));
        expect({ path: written, uid: stat.uid, gid: stat.gid }).toEqual({ path: written, uid: ids.uid, gid: ids.gid });
      }
      expect(readFileSync(join(data, `${t.port}.txt`), 'utf8')).toBe(`written to ${t.name} on port ${t.port}`);
      expect(await sessionUser(t)).toBe(u.username);
    }
    const [a, b] = targets;
    expect(a!.user().username).not.toBe(b!.user().username);
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
    rmSync(scratch, { recursive: true, force: true });
  }
  expect(systemFile('/etc/passwd'), '/etc/passwd changed').toBe(passwdBefore);
  expect(systemFile('/etc/group'), '/etc/group changed').toBe(groupBefore);
});

test('without libnss-wrapper a native target does not start, and the error names the package', async () => {
  const saved = process.env.SMB_INTEROP_NSS_WRAPPER;
  process.env.SMB_INTEROP_NSS_WRAPPER = '/nonexistent/libnss_wrapper.so';
  try {
    await expect(startNativeTarget(smb311gcm)).rejects.toThrow(
      /^cannot start smb311-gcm@native: libnss_wrapper\.so was not found .*apt-get install -y libnss-wrapper$/,
    );
  } finally {
    if (saved === undefined) delete process.env.SMB_INTEROP_NSS_WRAPPER;
    else process.env.SMB_INTEROP_NSS_WRAPPER = saved;
  }
});
