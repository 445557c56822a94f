import { spawn } from 'node:child_process';
import type { Dialect } from '../../servers/catalog/schema.js';

/** Samba's smbclient, the reference client, driven as a subprocess. */

export type ClientProtection = 'off' | 'sign' | 'encrypt';

export interface SmbclientInvocation {
  host: string;
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
  /** smbclient command string (`-c`), e.g. `ls; get a /tmp/a`. */
  commands: string;
  /** Working directory for local paths in `get`/`put`. */
  cwd?: string;
  timeoutMs?: number;
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

const PROTOCOL: Record<Dialect, string> = {
  '2.0.2': 'SMB2_02',
  '2.1': 'SMB2_10',
  '3.0': 'SMB3_00',
  '3.0.2': 'SMB3_02',
  '3.1.1': 'SMB3_11',
};

export function smbclientArgs(inv: SmbclientInvocation): string[] {
  const args = [`//${inv.host}/${inv.share}`, '-p', String(inv.port), '-c', inv.commands];
  if (inv.username !== undefined) {
    // The password travels in the environment (PASSWD), never on the command line.
    args.push('-U', inv.domain ? `${inv.domain}\\${inv.username}` : inv.username);
  } else {
    args.push('-N', '-U', '');
  }
  if (inv.maxProtocol) args.push('-m', PROTOCOL[inv.maxProtocol]);
  if (inv.minProtocol) args.push(`--option=client min protocol=${PROTOCOL[inv.minProtocol]}`);
  if (inv.protection) args.push(`--client-protection=${inv.protection}`);
  for (const o of inv.options ?? []) args.push(`--option=${o}`);
  if (inv.debugLevel !== undefined) args.push(`-d${inv.debugLevel}`);
  return args;
}

export function runSmbclient(inv: SmbclientInvocation): Promise<SmbclientResult> {
  return new Promise((resolveResult, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.USER;
    delete env.PASSWD;
    if (inv.username !== undefined) env.PASSWD = inv.password ?? '';
    const child = spawn('smbclient', smbclientArgs(inv), { env, cwd: inv.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, inv.timeoutMs ?? 30_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
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
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.USER;
  delete env.PASSWD;
  if (inv.username !== undefined) env.PASSWD = inv.password ?? '';
  const args = smbclientArgs(inv).filter((a, i, all) => a !== '-c' && all[i - 1] !== '-c');
  const child = spawn('smbclient', args, { env, cwd: inv.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const guard = setTimeout(() => child.kill('SIGKILL'), inv.timeoutMs ?? 60_000);
  const exited = new Promise<SmbclientResult>((resolveResult) => {
    child.once('error', (err) => {
      stderr += err.message;
    });
    child.once('close', (code) => {
      clearTimeout(guard);
      const status = /NT_STATUS_[A-Z0-9_]+/.exec(stdout + stderr)?.[0];
      resolveResult({ code, stdout, stderr, status, timedOut: false });
    });
  });
  child.stdin.write(`${inv.commands}\n`);
  return {
    exited,
    close() {
      if (child.exitCode === null) child.stdin.end('exit\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      return exited.finally(() => clearTimeout(timer));
    },
  };
}
