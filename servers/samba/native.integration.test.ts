import { test, expect } from '@playwright/test';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findProfile, resolveProfiles, type Profile } from '../catalog/index.js';
import { runSmbclient } from '../../clients/adapters/smbclient-cli.js';
import { observeShare, verifyTarget } from '../../harness/verify-target.js';
import { PortTakenError } from '../errors.js';
import { listeningInodes } from './listener.js';
import { startNativeTarget, sweepStaleNativeTargets, type StartedNativeTarget } from './native.js';

// Domain profiles run on an AD DC (domain-target.integration.test.ts).
// Domain profiles have tests of their own; an impaired variant's server is its base's.
const profiles = resolveProfiles({}).filter((p) => p.domain === undefined && p.impairment === undefined);
const profile = (name: string): Profile => findProfile(profiles, name);

function accountExists(name: string): boolean {
  return spawnSync('getent', ['passwd', name]).status === 0;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z');
  } catch {
    return false;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolveOk) => {
    const s = new Socket();
    s.once('connect', () => (s.destroy(), resolveOk(true)));
    s.once('error', () => resolveOk(false));
    s.connect(port, '127.0.0.1');
  });
}

async function expectGone(t: { pid: number | undefined; port: number; root: string; accounts: string[] }): Promise<void> {
  expect(processAlive(t.pid!), `smbd ${t.pid} still running`).toBe(false);
  expect(await accepts(t.port), `port ${t.port} still accepting`).toBe(false);
  expect(existsSync(t.root), `${t.root} still exists`).toBe(false);
  for (const a of t.accounts) expect(accountExists(a), `account ${a} still exists`).toBe(false);
}

function footprint(t: StartedNativeTarget) {
  return { pid: t.pid, port: t.port, root: t.root, accounts: t.users.map((u) => u.username) };
}

test.describe.configure({ mode: 'parallel' });

test('every native profile starts and negotiates what it declares, as the server reports it', async () => {
  const started = await Promise.all(profiles.map((p) => startNativeTarget(p)));
  try {
    const results = await Promise.all(started.map((t) => verifyTarget(t)));
    for (const r of results) expect(r.problems, r.target).toEqual([]);
    const seen = Object.fromEntries(results.map((r) => [r.target, r.observations.map((o) => `${o.share}:${o.dialect}:${o.encryption || '-'}:${o.signing || '-'}`)]));
    expect(seen).toEqual({
      'smb302-ccm@native': ['data:3.0.2:AES-128-CCM:AES-128-CMAC'],
      'smb311-gcm@native': ['data:3.1.1:AES-128-GCM:AES-128-GMAC'],
      'smb311-aes256@native': ['data:3.1.1:AES-256-GCM:AES-128-GMAC'],
      'smb311-signing-gmac@native': ['data:3.1.1:-:AES-128-GMAC'],
      'smb300-signing-cmac@native': ['data:3.0:-:AES-128-CMAC'],
      'smb21-signing-hmac@native': ['data:2.1:-:HMAC-SHA256'],
      'smb202-legacy@native': ['data:2.0.2:-:HMAC-SHA256'],
      'share-encryption@native': ['secure:3.1.1:AES-128-GCM:AES-128-GMAC', 'plain:3.1.1:-:AES-128-GMAC'],
      'guest@native': ['public:3.1.1:-:AES-128-GMAC', 'private:3.1.1:-:AES-128-GMAC'],
      'windows-hardened@native': ['data:3.1.1:AES-128-GCM:AES-128-GMAC'],
    });
  } finally {
    await Promise.all(started.map((t) => t.stop()));
  }
  for (const t of started) await expectGone(footprint(t));
});

test('smb302-ccm serves an encrypting client over SMB3_02 and refuses clients that cannot encrypt with CCM', async () => {
  const t = await startNativeTarget(profile('smb302-ccm'));
  try {
    const u = t.user();
    const base = { host: t.host, port: t.port, share: 'data', username: u.username, password: u.password, commands: 'ls' };
    const served = await observeShare(t, 'data', { maxProtocol: '3.0.2', protection: 'encrypt' });
    expect(served).toEqual({ share: 'data', dialect: '3.0.2', encryption: 'AES-128-CCM', signing: 'AES-128-CMAC', sessionEncryption: 'AES-128-CCM' });
    // SMB 2.1 has no encryption: the server does not even negotiate it.
    expect((await runSmbclient({ ...base, maxProtocol: '2.1' })).status).toBe('NT_STATUS_NOT_SUPPORTED');
    // An anonymous session has no key to encrypt with: refused at SESSION_SETUP.
    const anon = await runSmbclient({ ...base, username: undefined });
    expect(anon.status).toBe('NT_STATUS_ACCESS_DENIED');
    expect(anon.stdout + anon.stderr).toMatch(/session setup failed/);
    // Samba's smbclient always obeys a server's demand to encrypt, so "a client that will not
    // encrypt" beyond these is exercised with the project's own client.
    expect((await runSmbclient({ ...base, password: 'not-the-password' })).status).toBe('NT_STATUS_LOGON_FAILURE');
  } finally {
    await t.stop();
  }
});

test('smb311-gcm negotiates 3.1.1 with AES-128-GCM; the 256-bit profile serves AES-256-CCM to a client that offers only it', async () => {
  const [gcm, aes256] = await Promise.all([startNativeTarget(profile('smb311-gcm')), startNativeTarget(profile('smb311-aes256'))]);
  try {
    expect(await observeShare(gcm, 'data')).toMatchObject({ dialect: '3.1.1', encryption: 'AES-128-GCM' });
    const ccm = await observeShare(aes256, 'data', { options: ['client smb3 encryption algorithms=aes-256-ccm'] });
    expect(ccm).toMatchObject({ dialect: '3.1.1', encryption: 'AES-256-CCM' });
    // A client without any of the profile's ciphers cannot get in.
    const u = gcm.user();
    const noGcm = await runSmbclient({
      host: gcm.host, port: gcm.port, share: 'data', username: u.username, password: u.password, commands: 'ls',
      options: ['client smb3 encryption algorithms=aes-128-ccm'],
    });
    expect(noGcm.code).not.toBe(0);
    expect(noGcm.status).toMatch(/NT_STATUS_(ACCESS_DENIED|NOT_SUPPORTED|INVALID_PARAMETER)/);
  } finally {
    await Promise.all([gcm.stop(), aes256.stop()]);
  }
});

test('signing-only profiles sign with their declared algorithm and refuse clients without it', async () => {
  const [gmac, cmac, hmac] = await Promise.all(
    ['smb311-signing-gmac', 'smb300-signing-cmac', 'smb21-signing-hmac'].map((n) => startNativeTarget(profile(n))),
  );
  try {
    expect(await observeShare(gmac!, 'data')).toEqual({ share: 'data', dialect: '3.1.1', encryption: '', signing: 'AES-128-GMAC', sessionEncryption: '' });
    expect(await observeShare(cmac!, 'data')).toEqual({ share: 'data', dialect: '3.0', encryption: '', signing: 'AES-128-CMAC', sessionEncryption: '' });
    expect(await observeShare(hmac!, 'data')).toEqual({ share: 'data', dialect: '2.1', encryption: '', signing: 'HMAC-SHA256', sessionEncryption: '' });
    // smb311-signing-gmac accepts AES-128-GMAC only: a client offering CMAC alone is turned away.
    const u = gmac!.user();
    const cmacOnly = await runSmbclient({
      host: gmac!.host, port: gmac!.port, share: 'data', username: u.username, password: u.password, commands: 'ls',
      options: ['client smb3 signing algorithms=aes-128-cmac'],
    });
    expect(cmacOnly.code).not.toBe(0);
    expect(cmacOnly.status).toMatch(/^NT_STATUS_/);
  } finally {
    await Promise.all([gmac!.stop(), cmac!.stop(), hmac!.stop()]);
  }
});

test('share-encryption encrypts only its one share; guest admits a guest to the guest share only', async () => {
  const [shares, guest] = await Promise.all([startNativeTarget(profile('share-encryption')), startNativeTarget(profile('guest'))]);
  try {
    expect((await observeShare(shares, 'secure')).encryption).toBe('AES-128-GCM');
    expect((await observeShare(shares, 'plain')).encryption).toBe('');

    const asGuest = { host: guest.host, port: guest.port, username: 'nosuchuser', password: 'whatever', commands: 'ls' };
    const admitted = await runSmbclient({ ...asGuest, share: 'public' });
    expect(admitted.code, admitted.stderr).toBe(0);
    const refused = await runSmbclient({ ...asGuest, share: 'private' });
    expect(refused.status).toBe('NT_STATUS_ACCESS_DENIED');
    // A known user with a wrong password is not silently turned into a guest.
    const u = guest.user();
    expect((await runSmbclient({ ...asGuest, username: u.username, password: 'wrong', share: 'public' })).status).toBe('NT_STATUS_LOGON_FAILURE');
  } finally {
    await Promise.all([shares.stop(), guest.stop()]);
  }
});

test('two targets of one profile started at once never collide, and the share path is the server-side oracle', async () => {
  const [a, b] = await Promise.all([startNativeTarget(profile('smb311-gcm')), startNativeTarget(profile('smb311-gcm'))]);
  try {
    expect(a.port).not.toBe(b.port);
    expect(a.root).not.toBe(b.root);
    expect(a.users.map((u) => u.username)).not.toEqual(b.users.map((u) => u.username));
    expect(a.user().password).not.toBe(b.user().password);
    const dir = mkdtempSync(join(tmpdir(), 'smb-interop-put-'));
    try {
      writeFileSync(join(dir, 'hello.txt'), 'written through smbclient');
      const u = a.user();
      const put = await runSmbclient({ host: a.host, port: a.port, share: 'data', username: u.username, password: u.password, commands: 'put hello.txt', cwd: dir });
      expect(put.code, put.stderr + put.stdout).toBe(0);
      expect(readFileSync(join(a.share('data').localPath!, 'hello.txt'), 'utf8')).toBe('written through smbclient');
      expect(existsSync(join(b.share('data').localPath!, 'hello.txt'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The server log is the target's own.
    expect(a.log()).toMatch(/smbd version .* started/);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
  await expectGone(footprint(a));
  await expectGone(footprint(b));
});

test('stop() cleans up when the caller throws, and is safe to call twice', async () => {
  let t: StartedNativeTarget | undefined;
  await expect(
    (async () => {
      t = await startNativeTarget(profile('smb202-legacy'));
      try {
        throw new Error('scenario failed');
      } finally {
        await t.stop();
      }
    })(),
  ).rejects.toThrow('scenario failed');
  await t!.stop();
  await expectGone(footprint(t!));
});

test('a target made in a chosen directory keeps its share there and leaves nothing there after stop()', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'smb-interop-parent-'));
  try {
    // mkdtemp makes it 0700: the target's accounts could not reach their shares.
    await expect(startNativeTarget(profile('smb202-legacy'), { parentDir: parent })).rejects.toThrow(`parentDir ${parent} (mode 700) is not searchable by other users`);
    chmodSync(parent, 0o755);
    const t = await startNativeTarget(profile('smb202-legacy'), { parentDir: parent });
    const share = t.share('data').localPath!;
    try {
      expect(t.root.startsWith(`${parent}/`)).toBe(true);
      expect(share.startsWith(`${t.root}/`)).toBe(true);
      writeFileSync(join(share, 'oracle.txt'), 'on the server side');
      const listed = await runSmbclient({ host: t.host, port: t.port, share: 'data', username: t.user().username, password: t.user().password, commands: 'ls', timeoutMs: 10_000 });
      expect(listed.stdout).toContain('oracle.txt');
    } finally {
      await t.stop();
    }
    await expectGone(footprint(t));
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`a process holding a target that gets ${signal} leaves nothing behind`, async () => {
    const child = spawn(process.execPath, ['bin/smb-interop.js', 'serve', 'smb311-gcm', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((resolveLine, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolveLine(out.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`serve exited early (${code})`)));
    });
    const details = JSON.parse(line) as { pid: number; port: number; root: string; accounts: string[] };
    expect(processAlive(details.pid)).toBe(true);
    expect(await accepts(details.port)).toBe(true);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
    await expectGone(details);
  });
}

test('a killed run is swept at the next start', async () => {
  const child = spawn(process.execPath, ['bin/smb-interop.js', 'serve', 'smb202-legacy', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolveLine) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolveLine(out.split('\n')[0]!);
    });
  });
  const details = JSON.parse(line) as { pid: number; port: number; root: string; accounts: string[] };
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  expect(existsSync(details.root)).toBe(true); // nothing could clean up after SIGKILL...
  expect(sweepStaleNativeTargets()).toBeGreaterThanOrEqual(1); // ...until the next start sweeps it
  await expectGone(details);
});

test('smbd missing or failing to start: the error names the profile, the reason and the remedy', async () => {
  const saved = process.env.SMB_INTEROP_SMBD;
  const dir = mkdtempSync(join(tmpdir(), 'smb-interop-fake-smbd-'));
  try {
    process.env.SMB_INTEROP_SMBD = join(dir, 'no-such-smbd');
    await expect(startNativeTarget(profile('smb311-gcm'))).rejects.toThrow(
      /cannot start smb311-gcm@native: smbd was not found .*apt-get install -y samba/,
    );
    const fake = join(dir, 'smbd');
    writeFileSync(fake, '#!/bin/sh\necho "smbd: Failed to bind: the test says no"\nexit 1\n');
    chmodSync(fake, 0o755);
    process.env.SMB_INTEROP_SMBD = fake;
    const before = spawnSync('getent', ['passwd']).stdout.toString();
    await expect(startNativeTarget(profile('smb311-gcm'))).rejects.toThrow(
      /cannot start smb311-gcm@native: smbd ended during startup \(exit code 1\)\n--- smbd log \(last lines\) ---\n.*the test says no/,
    );
    expect(spawnSync('getent', ['passwd']).stdout.toString()).toBe(before);
  } finally {
    if (saved === undefined) delete process.env.SMB_INTEROP_SMBD;
    else process.env.SMB_INTEROP_SMBD = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a port another server binds first is given up for another, as its listener shows, whatever smbd logs', async () => {
  const saved = process.env.SMB_INTEROP_SMBD;
  const dir = mkdtempSync(join(tmpdir(), 'smb-interop-port-taken-'));
  try {
    // Stands in for an smbd that loses its port to another server and then exits without a word.
    const fake = join(dir, 'smbd');
    writeFileSync(fake, [
      '#!/bin/sh',
      `port=$(sed -n 's/^ *smb ports = //p' "$2")`,
      `echo "$port" >> ${dir}/ports`,
      `${process.execPath} -e "require('net').createServer().listen($port, '127.0.0.1', () => require('fs').writeFileSync('${dir}/up-$port', ''))" &`,
      `for i in $(seq 200); do [ -e ${dir}/up-$port ] && break; sleep 0.02; done`,
      'exit 1',
      '',
    ].join('\n'));
    chmodSync(fake, 0o755);
    process.env.SMB_INTEROP_SMBD = fake;
    const error = await startNativeTarget(profile('smb202-legacy')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortTakenError);
    expect((error as Error).message).toMatch(/^cannot start smb202-legacy@native: 127\.0\.0\.1:\d+ answers, but not from this smbd \(another server took the port first\)$/);
    const ports = readFileSync(join(dir, 'ports'), 'utf8').trim().split('\n').map(Number);
    expect(ports).toHaveLength(3);
    expect(new Set(ports).size).toBe(3);
    // The stand-in's listeners were in its process group, which each failed attempt ends.
    await expect.poll(() => ports.filter((p) => listeningInodes(p)?.length), { timeout: 5000 }).toEqual([]);
  } finally {
    if (saved === undefined) delete process.env.SMB_INTEROP_SMBD;
    else process.env.SMB_INTEROP_SMBD = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});
