import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMBA_PROTOCOL_NAMES, type Dialect } from '../../servers/catalog/schema.js';
import { renderKrb5Conf } from '../../servers/samba/ad-dc.js';

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
  if (inv.debugLevel !== undefined) args.push(`-d${inv.debugLevel}`);
  return args;
}

/**
 * Starts smbclient with the credentials in its environment and a time limit; `done` resolves
 * when it exits and rejects only when it could not be run at all.
 */
function startSmbclient(inv: SmbclientInvocation, commandsOnStdin: boolean, defaultTimeoutMs: number) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.USER;
  delete env.PASSWD;
  if (inv.username !== undefined) env.PASSWD = inv.password ?? '';
  if (inv.krb5Config !== undefined) {
    env.KRB5_CONFIG = inv.krb5Config;
    // The tickets of a logon with a password stay in memory, never in the user's credential cache.
    env.KRB5CCNAME = 'MEMORY:smb-interop';
  }
  const child = spawn('smbclient', smbclientArgs(inv, commandsOnStdin), {
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
