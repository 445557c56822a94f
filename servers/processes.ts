/**
 * Process checks and process-group ends the providers share: a server and every helper it forks
 * run in one process group, which is ended as a whole.
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';

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

/**
 * Copies what a server prints (stdout and stderr) to `onText` and appended to the file at `path`.
 * The file ends when the output does, not when the process exits: the helpers a server forks
 * inherit its output and may still print after it exited (smbd's children, stopped a moment
 * later), and a write after the end must not become an uncaught error that ends the harness. A
 * file that cannot be written (a full disk) is given up; the text still goes to `onText`.
 */
export function teeServerOutput(child: ChildProcess, path: string, onText: (text: string) => void): void {
  const file = createWriteStream(path, { flags: 'a' });
  let usable = true;
  file.on('error', () => (usable = false));
  const onData = (chunk: Buffer): void => {
    onText(chunk.toString());
    if (usable && !file.writableEnded) file.write(chunk);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  // 'close': every holder of the output pipes is gone (the process and whatever inherited them).
  child.once('close', () => file.end());
}
