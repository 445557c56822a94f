import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMBA_PROTOCOL_NAMES, type Dialect } from '../../servers/catalog/schema.js';
import { renderKrb5Conf } from '../../servers/samba/ad-dc.js';
import { spawnProcess, type SpawnedProcess } from '../../servers/spawn.js';

/** Samba's smbclient, the reference client, driven as a subprocess. */

export type ClientProtection = 'off' | 'sign' | 'encrypt';

export interface SmbclientInvocation {
  /** The address connected to; with serverName, given with -I. */
  host: string;
  /** The server's name in the UNC (//name/share), which Kerberos uses for its service principal cifs/<name>. */
  serverName?: string;
  /** --use-kerberos: required, desired (Kerberos where it can be had, NTLM otherwise) or off; default smbclient's own. */
  kerberos?: 'required' | 'desired' | 'off';
  /** krb5.conf for the realm (KRB5_CONFIG); tickets stay in this process's memory. */
  krb5Config?: string;
  port: number;
  share: string;
  /** Omit for a guest/anonymous attempt. */
  username?: string;
  password?: string;
  domain?: string;
  /** Highest (and, with minProtocol, lowest) dialect smbclient may use. */
  maxProtocol?: Dialect;
  minProtocol?: Dialect;
  protection?: ClientProtection;
  /** Extra smb.conf options, e.g. `client signing=disabled`. */
  options?: string[];
  /** smbclient commands, e.g. `ls; get a /tmp/a` (given with `-c`, or on stdin for a held session). */
  commands: string;
  /** Working directory for local paths in `get`/`put`. */
  cwd?: string;
  timeoutMs?: number;
  /** smbclient's own limit per SMB request (`-t`, seconds; smbclient's default 20). */
  requestTimeoutSeconds?: number;
  debugLevel?: number;
}

export interface SmbclientResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** First NT_STATUS_* name smbclient printed, if any. */
  status: string | undefined;
  timedOut: boolean;
}

/**
 * What makes an invocation a Kerberos logon in `realm`: the server by name (its principal
 * cifs/<serviceHost>) at the address connected to, the principal `user@REALM`, and a krb5.conf
 * naming the KDC, written into `dir` (the caller's own directory, removed with it).
 */
export function kerberosInvocation(
  realm: { realm: string; kdc: string; serviceHost: string },
  username: string,
  mode: 'required' | 'desired',
  dir: string,
): Pick<SmbclientInvocation, 'serverName' | 'kerberos' | 'krb5Config' | 'username' | 'domain'> {
  const krb5Config = join(dir, 'krb5.conf');
  writeFileSync(krb5Config, renderKrb5Conf(realm.realm, realm.kdc));
  return { serverName: realm.serviceHost, kerberos: mode, krb5Config, username: `${username}@${realm.realm}`, domain: undefined };
}

/** Arguments for smbclient; the commands go with `-c` unless they will be written to stdin. */
export function smbclientArgs(inv: SmbclientInvocation, commandsOnStdin = false): string[] {
  const args = [`//${inv.serverName ?? inv.host}/${inv.share}`, '-p', String(inv.port)];
  if (inv.serverName !== undefined) args.push('-I', inv.host);
  if (inv.kerberos !== undefined) args.push(`--use-kerberos=${inv.kerberos}`);
  if (!commandsOnStdin) args.push('-c', inv.commands);
  if (inv.username !== undefined) {
    // The password travels in the environment (PASSWD), never on the command line.
    args.push('-U', inv.domain ? `${inv.domain}\\${inv.username}` : inv.username);
  } else {
    args.push('-N', '-U', '');
  }
  if (inv.maxProtocol) args.push('-m', SAMBA_PROTOCOL_NAMES[inv.maxProtocol]);
  if (inv.minProtocol) args.push(`--option=client min protocol=${SAMBA_PROTOCOL_NAMES[inv.minProtocol]}`);
  if (inv.protection) args.push(`--client-protection=${inv.protection}`);
  for (const o of inv.options ?? []) args.push(`--option=${o}`);
  if (inv.requestTimeoutSeconds !== undefined) args.push('-t', String(inv.requestTimeoutSeconds));
  if (inv.debugLevel !== undefined) args.push(`-d${inv.debugLevel}`);
  return args;
}

/** smbclient's environment: the password (PASSWD) and, for Kerberos, the realm's krb5.conf and tickets in memory. */
function smbclientEnv(inv: Pick<SmbclientInvocation, 'username' | 'password' | 'krb5Config'>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.USER;
  delete env.PASSWD;
  if (inv.username !== undefined) env.PASSWD = inv.password ?? '';
  if (inv.krb5Config !== undefined) {
    env.KRB5_CONFIG = inv.krb5Config;
    // The tickets of a logon with a password stay in memory, never in the user's credential cache.
    env.KRB5CCNAME = 'MEMORY:smb-interop';
  }
  return env;
}

/**
 * Starts smbclient with the credentials in its environment and a time limit; `done` resolves
 * when it exits and rejects only when it could not be run at all.
 */
function startSmbclient(inv: SmbclientInvocation, commandsOnStdin: boolean, defaultTimeoutMs: number) {
  const env = smbclientEnv(inv);
  const child = spawnProcess('smbclient', smbclientArgs(inv, commandsOnStdin), {
    env,
    cwd: inv.cwd,
    stdio: [commandsOnStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, inv.timeoutMs ?? defaultTimeoutMs);
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<SmbclientResult>((resolveResult, reject) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      const hint = (err as NodeJS.ErrnoException).code === 'ENOENT' ? ' (install it: sudo apt-get install -y smbclient)' : '';
      reject(new Error(`cannot run smbclient${hint}: ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const status = /NT_STATUS_[A-Z0-9_]+/.exec(stdout + stderr)?.[0];
      resolveResult({ code, stdout, stderr, status, timedOut });
    });
  });
  return { child, done };
}

export function runSmbclient(inv: SmbclientInvocation): Promise<SmbclientResult> {
  return startSmbclient(inv, false, 30_000).done;
}

/**
 * An smbclient that has run `commands` and keeps its session open until close(), so the server
 * can be asked about the live session. (Without a terminal smbclient buffers its output and prints
 * no prompt, so the caller watches the server, not the client, to know the session is up.)
 */
export interface HeldSmbclient {
  /** Resolves when smbclient exits (it has failed) — the caller races this against its own wait. */
  readonly exited: Promise<SmbclientResult>;
  close(): Promise<SmbclientResult>;
}

export function holdSmbclientSession(inv: SmbclientInvocation): HeldSmbclient {
  const { child, done } = startSmbclient(inv, true, 60_000);
  const exited = done.catch(
    (err: Error): SmbclientResult => ({ code: null, stdout: '', stderr: err.message, status: undefined, timedOut: false }),
  );
  child.stdin?.write(`${inv.commands}\n`);
  return {
    exited,
    close() {
      if (child.exitCode === null) child.stdin?.end('exit\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      return exited.finally(() => clearTimeout(timer));
    },
  };
}

/** One command's answer from a held smbclient: what it printed, and the first NT_STATUS_* name in it. */
export interface ShellAnswer {
  output: string;
  status: string | undefined;
}

/** smbclient ended (a refused logon, a lost connection, a kill after a time limit) while a command waited. */
export class SmbclientShellError extends Error {
  constructor(
    message: string,
    readonly output: string,
    readonly status: string | undefined,
    readonly timedOut: boolean,
  ) {
    super(message);
    this.name = 'SmbclientShellError';
  }
}

/**
 * One smbclient session, driven a command at a time over its stdin: one process and one logon for
 * a whole adapter session, where a process per command costs a start, a NEGOTIATE and a
 * SESSION_SETUP each time. Without a terminal smbclient prints no prompt and buffers its output,
 * and it waits for input by polling its stdin's descriptor before reading a line from the stdio
 * buffer, so a second line already in that buffer would wait for more input. It runs under
 * `stdbuf -i0 -oL` (it reads a line at a time from the pipe; its lines arrive as it prints them)
 * with stderr on the same pipe, and each command is followed by `lcd` to a directory that does not
 * exist, named for the command: the error smbclient prints for it marks where the output ends.
 */
export class SmbclientShell {
  private buffer = '';
  private sequence = 0;
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private waiter: (() => void) | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly child: SpawnedProcess,
    private readonly scratch: string,
  ) {
    child.stdout?.on('data', (d: Buffer) => {
      this.buffer += d.toString('utf8');
      this.waiter?.();
    });
    child.on('close', (code, signal) => {
      this.exited = { code, signal };
      this.waiter?.();
    });
    child.stdin?.on('error', () => undefined);
  }

  /** Starts smbclient for `inv` (its `commands` unused) in `scratch`, the directory of its local files. */
  static start(inv: Omit<SmbclientInvocation, 'commands'>, scratch: string): SmbclientShell {
    const args = smbclientArgs({ ...inv, commands: '' }, true);
    // stdbuf: stdin unbuffered, stdout line-buffered (see above); 2>&1 keeps its errors in order with its output.
    const child = spawnProcess('sh', ['-c', 'exec stdbuf -i0 -oL smbclient "$@" 2>&1', 'sh', ...args], {
      env: smbclientEnv(inv), cwd: scratch, stdio: ['pipe', 'pipe', 'ignore'],
    });
    return new SmbclientShell(child, scratch);
  }

  /** Whether smbclient still runs. */
  get alive(): boolean {
    return this.exited === undefined;
  }

  /** Runs one command line and gives its output; a time limit kills smbclient (later commands then fail too). */
  run(command: string, timeoutMs: number): Promise<ShellAnswer> {
    const next = this.queue.then(() => this.exchange(command, timeoutMs));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async exchange(command: string, timeoutMs: number): Promise<ShellAnswer> {
    if (command.includes('\n')) throw new Error('one command line at a time');
    const marker = `${this.scratch}/.smb-interop-end-${++this.sequence}`;
    if (this.exited === undefined) this.child.stdin?.write(`${command}\nlcd ${marker}\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.buffer.indexOf(marker);
      if (end >= 0) {
        // The marker's line is smbclient's complaint about the directory: the command's output is what precedes it.
        const lineStart = this.buffer.lastIndexOf('\n', end) + 1;
        const output = this.buffer.slice(0, lineStart);
        const lineEnd = this.buffer.indexOf('\n', end);
        this.buffer = lineEnd < 0 ? '' : this.buffer.slice(lineEnd + 1);
        return { output, status: statusIn(output) };
      }
      if (this.exited !== undefined) {
        const output = this.buffer;
        this.buffer = '';
        const how = this.exited.signal !== null ? `signal ${this.exited.signal}` : `code ${this.exited.code}`;
        throw new SmbclientShellError(`smbclient exited (${how})`, output, statusIn(output), false);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        this.child.kill('SIGKILL');
        throw new SmbclientShellError(`no answer within ${timeoutMs} ms`, this.buffer, statusIn(this.buffer), true);
      }
      await new Promise<void>((resolveWait) => {
        const timer = setTimeout(resolveWait, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolveWait();
        };
      });
      this.waiter = undefined;
    }
  }

  /** Ends smbclient at once (exit and signal handlers). */
  kill(): void {
    if (this.exited === undefined) this.child.kill('SIGKILL');
  }

  /** Logs off (`exit`) and waits for smbclient to end; killed after 5 s. */
  async close(): Promise<void> {
    if (this.exited !== undefined) return;
    this.child.stdin?.end('exit\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await new Promise<void>((resolveClose) => {
      if (this.exited !== undefined) resolveClose();
      else this.child.once('close', () => resolveClose());
    });
    clearTimeout(timer);
  }
}

function statusIn(text: string): string | undefined {
  return /NT_STATUS_[A-Z0-9_]+/.exec(text)?.[0];
}
