/**
 * One AD DC per machine at a time: in a DC, smbd reaches winbindd through the socket directory
 * libwbclient has built in (/run/samba/winbindd), so a second DC's winbindd would take over the
 * first one's logons. A DC holds this lock from start to stop.
 *
 * The lock is flock(1) on a file, held by a small child process: the kernel releases it when that
 * child ends, and the child ends when this process does (its stdin closes), also after a SIGKILL,
 * so a killed run never leaves the lock taken.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const AD_DC_LOCK_PATH = join(tmpdir(), 'smb-interop-addc.lock');

export interface AdDcLock {
  /** Ends the holding process; the next waiting start proceeds. Safe to call twice; synchronous (usable at exit). */
  release(): void;
}

interface Holder {
  pid: number;
  realm: string;
  since: string;
}

function describeHolder(lockPath: string): string {
  try {
    const holder = JSON.parse(readFileSync(`${lockPath}.holder`, 'utf8')) as Holder;
    return `the DC of realm ${holder.realm} started at ${holder.since} by process ${holder.pid}`;
  } catch {
    return 'another DC';
  }
}

/**
 * Waits up to `timeoutMs` for the machine-wide DC lock. On timeout the error names the holder:
 * stop that DC (or let its run finish) and start again.
 */
export function acquireAdDcLock(realm: string, timeoutMs: number, lockPath = AD_DC_LOCK_PATH): Promise<AdDcLock> {
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const child = spawn('flock', ['--exclusive', '--wait', String(seconds), lockPath, '--command', 'echo locked; exec cat'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    child.stdin.destroy();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (error) => reject(new Error(`cannot take the AD DC lock ${lockPath} with flock(1): ${error.message}`)));
    child.stdout.once('data', () => {
      writeFileSync(`${lockPath}.holder`, JSON.stringify({ pid: process.pid, realm, since: new Date().toISOString() } satisfies Holder));
      // The lock must not keep this process alive; its pipes go when the process does.
      child.unref();
      for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
      resolve({ release });
    });
    child.once('exit', (code) => {
      if (released) return;
      released = true;
      if (code === 1 && stderr.trim() === '') {
        reject(new Error(
          `waited ${timeoutMs} ms for ${describeHolder(lockPath)} to stop: one AD DC runs per machine at a time (its winbindd socket is the machine's /run/samba/winbindd); lock ${lockPath}`,
        ));
      } else {
        reject(new Error(`flock on ${lockPath} ended with ${code ?? 'a signal'}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
      }
    });
  });
}
