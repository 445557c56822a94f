/**
 * Process checks and process-group ends the providers share: a server and every helper it forks
 * run in one process group, which is ended as a whole.
 */
import type { ChildProcess } from 'node:child_process';

/** Whether a process of this id exists on this machine (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
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
