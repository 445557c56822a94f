/**
 * Process checks and process-group ends the providers share: a server and every helper it forks
 * run in one process group, which is ended as a whole.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Whether a process of this id runs on this machine (EPERM: it exists but belongs to someone
 * else). A zombie (killed, not yet reaped by its parent) no longer runs: it holds no port or file.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ...", comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc here: kill(0) is all there is to go by
  }
}

/** Waits, blocking (usable at exit), until the process no longer runs or `ms` have passed; whether it is gone. */
export function waitGoneSync(pid: number | undefined, ms = 2000): boolean {
  if (!pid) return true;
  const deadline = Date.now() + ms;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (processAlive(pid)) {
    if (Date.now() >= deadline) return false;
    Atomics.wait(pause, 0, 0, 10);
  }
  return true;
}

/** SIGKILL to the process group `pid` leads; nothing when it is gone. Synchronous: usable at exit. */
export function killProcessGroupSync(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * Ends the process group `child` leads: SIGTERM, SIGKILL after `graceMs`, and SIGKILL once more
 * after the leader exits, for helpers it forked that outlive it briefly.
 */
export async function stopProcessGroup(child: ChildProcess, graceMs: number): Promise<void> {
  const pid = child.pid;
  if (pid !== undefined && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) killProcessGroupSync(pid);
    await exited;
  }
  killProcessGroupSync(pid);
}
