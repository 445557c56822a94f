/**
 * Starting client processes cheaply from a large process. child_process forks the caller: from a
 * harness worker of a few hundred MB every start copies its page tables and blocks its thread
 * until the child has thrown the copy away at exec (16 ms from 262 MB, 43 ms from 892 MB, against
 * 1.2 ms from 51 MB), and a matrix starts well over a thousand clients (smbclient, the drivers of
 * command plug-ins). With the native module built (native/smb_spawn.c, `npm run build:native`) a
 * process starts with posix_spawn, which copies nothing; without it, or with
 * SMB_INTEROP_NATIVE_SPAWN=0, through child_process. Both give the same `SpawnedProcess`: the
 * subset of ChildProcess the harness uses, with the same events ('error' when the program cannot
 * be started, 'exit' when it ends, 'close' once its output pipes are closed too).
 */
import { spawn as forkSpawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { getSystemErrorName } from 'node:util';
import { loadNativeModule } from './native-module.js';

export type StdioMode = 'pipe' | 'ignore' | 'inherit';

export interface SpawnOptions {
  cwd?: string;
  /** The child's whole environment; process.env when omitted. */
  env?: NodeJS.ProcessEnv;
  /** stdin, stdout, stderr; pipes when omitted. */
  stdio?: readonly [StdioMode, StdioMode, StdioMode];
  /** A session and process group of its own (setsid), so a kill of the group reaches what it starts. */
  detached?: boolean;
}

/** What the harness uses of a started process; a ChildProcess is one. */
export interface SpawnedProcess extends EventEmitter {
  readonly pid?: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals | number): boolean;
}

interface NativeSpawn {
  spawn(file: string, argv: string[], envp: string[], cwd: string | null, stdio: number[], newSession: boolean): number[] | number;
  waitpid(pid: number): [number, number] | undefined | number;
}

function loadNative(): { native?: NativeSpawn; reason?: string } {
  if (process.env.SMB_INTEROP_NATIVE_SPAWN === '0') return { reason: 'SMB_INTEROP_NATIVE_SPAWN=0' };
  if (process.platform !== 'linux') return { reason: `posix_spawn with a working directory is used on Linux only (this is ${process.platform})` };
  const { module, reason } = loadNativeModule<NativeSpawn>('smb_spawn.node', ['spawn', 'waitpid']);
  return module === undefined ? { reason: reason! } : { native: module };
}

const loaded = loadNative();
let active = loaded.native;

/** How processes are started here, and why through child_process when they are. */
export const spawnBackend: { name: 'posix_spawn' | 'child_process'; reason?: string } =
  loaded.native !== undefined ? { name: 'posix_spawn' } : { name: 'child_process', reason: loaded.reason ?? 'unknown' };

const MODES: Record<StdioMode, number> = { pipe: 0, ignore: 1, inherit: 2 };
const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(Object.entries(osConstants.signals).map(([name, number]) => [number, name as NodeJS.Signals]));

/** The program `command` names, found as execvp would (a name without a slash on the environment's PATH). */
function programPath(command: string, env: NodeJS.ProcessEnv, cwd: string | undefined): string | undefined {
  if (command.includes('/')) return isAbsolute(command) ? command : resolve(cwd ?? process.cwd(), command);
  for (const dir of (env.PATH ?? process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const candidate = join(dir === '' ? '.' : dir, command);
    try {
      accessSync(candidate, fsConstants.X_OK);
      if (statSync(candidate).isFile()) return isAbsolute(candidate) ? candidate : resolve(cwd ?? process.cwd(), candidate);
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** Processes started here and not reaped yet, by pid. */
const running = new Map<number, PosixSpawnedProcess>();
let watching = false;

/** Reaps whatever of ours has ended. SIGCHLD says a child ended; the poll covers a signal never seen. */
function reapEnded(): void {
  for (const child of [...running.values()]) child.poll();
}

function watchChildren(): void {
  if (watching) return;
  watching = true;
  // Listening for SIGCHLD does not keep the process alive, and child_process's own reaping takes only its own children.
  process.on('SIGCHLD', reapEnded);
}

class PosixSpawnedProcess extends EventEmitter implements SpawnedProcess {
  pid: number | undefined;
  stdin: Writable | null = null;
  stdout: Readable | null = null;
  stderr: Readable | null = null;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  private reaped = false;
  private openOutputs = 0;
  private closed = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private pollDelayMs = 1;

  constructor(
    private readonly native: NativeSpawn,
    command: string,
    args: readonly string[],
    options: SpawnOptions,
  ) {
    super();
    const env = options.env ?? process.env;
    const stdio = options.stdio ?? ['pipe', 'pipe', 'pipe'];
    const path = programPath(command, env, options.cwd);
    const envp = Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined).map(([k, v]) => `${k}=${v}`);
    const result = path === undefined ? -osConstants.errno.ENOENT : native.spawn(path, [command, ...args], envp, options.cwd ?? null, stdio.map((m) => MODES[m]), options.detached === true);
    if (typeof result === 'number') {
      this.failToStart(command, args, options.cwd, result);
      return;
    }
    const [pid, ...fds] = result as [number, number, number, number];
    this.pid = pid;
    running.set(pid, this);
    watchChildren();
    if (fds[0]! >= 0) this.stdin = new Socket({ fd: fds[0]!, readable: false, writable: true });
    const output = (fd: number): Readable | null => {
      if (fd < 0) return null;
      const stream = new Socket({ fd, readable: true, writable: false });
      this.openOutputs++;
      stream.once('close', () => {
        this.openOutputs--;
        // The output closes as the process ends; its exit follows within moments.
        if (!this.reaped) this.schedulePoll(1);
        this.maybeClose();
      });
      return stream;
    };
    this.stdout = output(fds[1]!);
    this.stderr = output(fds[2]!);
    // A slow poll beside SIGCHLD, so an ending is never missed.
    this.schedulePoll(250);
  }

  /** Reaps the process if it has ended; then 'exit', and 'close' once its output is closed too. */
  poll(): void {
    if (this.reaped || this.pid === undefined) return;
    const status = this.native.waitpid(this.pid);
    if (status === undefined) return;
    this.reaped = true;
    running.delete(this.pid);
    clearTimeout(this.pollTimer);
    if (typeof status === 'number') {
      // ECHILD: someone else reaped it; its status is lost.
      this.exitCode = null;
    } else {
      const [code, signal] = status;
      this.exitCode = code >= 0 ? code : null;
      this.signalCode = signal >= 0 ? (SIGNAL_NAMES.get(signal) ?? null) : null;
    }
    // As child_process does: the end of the program's stdin goes with it (an open pipe nobody writes is a descriptor kept).
    if (this.stdin !== null && !this.stdin.destroyed) this.stdin.destroy();
    this.emit('exit', this.exitCode, this.signalCode);
    this.maybeClose();
  }

  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (this.pid === undefined || this.reaped) return false;
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  private schedulePoll(delayMs: number): void {
    if (this.reaped) return;
    clearTimeout(this.pollTimer);
    this.pollDelayMs = delayMs;
    // Not unref'd: a running child keeps this process alive, as with child_process.
    this.pollTimer = setTimeout(() => {
      this.poll();
      // After the output closed: 1, 2, 4 ... ms; otherwise every 250 ms.
      if (!this.reaped) this.schedulePoll(this.openOutputs === 0 ? Math.min(this.pollDelayMs * 2, 250) : 250);
    }, delayMs);
  }

  private maybeClose(): void {
    if (this.closed || !this.reaped || this.openOutputs > 0) return;
    this.closed = true;
    this.emit('close', this.exitCode, this.signalCode);
  }

  /** As child_process reports a program it cannot start: 'error' with the errno's code, then 'close'. */
  private failToStart(command: string, args: readonly string[], cwd: string | undefined, negativeErrno: number): void {
    const code = getSystemErrorName(negativeErrno);
    const error = Object.assign(new Error(`spawn ${command} ${code}`), { errno: negativeErrno, code, syscall: `spawn ${command}`, path: command, spawnargs: [...args], cwd });
    this.exitCode = negativeErrno;
    process.nextTick(() => {
      this.emit('error', error);
      this.closed = true;
      this.emit('close', negativeErrno, null);
    });
  }
}

/** Tests: start through child_process (true) or posix_spawn when built (false). */
export function useChildProcessSpawn(childProcess: boolean): void {
  active = childProcess ? undefined : loaded.native;
}

/** Starts `command` (a path, or a name looked up on the environment's PATH) with `args`. */
export function spawnProcess(command: string, args: readonly string[], options: SpawnOptions = {}): SpawnedProcess {
  if (active !== undefined) return new PosixSpawnedProcess(active, command, args, options);
  return forkSpawn(command, [...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: [...(options.stdio ?? ['pipe', 'pipe', 'pipe'])], detached: options.detached === true });
}
