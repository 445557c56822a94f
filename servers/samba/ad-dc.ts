/**
 * A Samba Active Directory domain controller as a target: KDC (88), LDAP (389) and SMB (445) on a
 * loopback address of its own, provisioned once per realm into a cached template and copied per
 * start, with users created per start under random passwords. Debian: samba-ad-dc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCleanup } from '../cleanup.js';
import { TargetStartError } from '../errors.js';
import { tcpProbe } from '../ports.js';
import { run, randomPassword } from './accounts.js';
import {
  AD_DC_DIR_PREFIX,
  claimLoopbackAddress,
  killDcProcesses,
  releaseLoopbackAddress,
  removeDcSync,
  sweepStaleAdDcs,
  writeOwner,
  type AdDcOwner,
} from './ad-dc-workspace.js';
import { acquireAdDcLock, type AdDcLock } from './ad-dc-lock.js';
import { ServerLog } from './server-log.js';
import type { ServerSessionKeys } from './server-keys.js';
import { protocolSettings, settingLine, shareEncryptionSetting } from './smb-conf.js';
import type { Profile } from '../catalog/schema.js';

const INSTALL_HINT = 'install it with: sudo apt-get install -y samba-ad-dc samba-ad-provision krb5-user';
/** The DC's NetBIOS name; its DNS name is `dc1.<realm>`. */
export const HOST_NAME = 'DC1';
const DEFAULT_SHARES: readonly DcShare[] = [{ name: 'share' }];
const PROVISION_TIMEOUT_MS = 180_000;
const LOCK_STALE_MS = 300_000;
const DAEMON_PREFIX = /^\S*\/(?:smbd|winbindd): /;

export interface AdDcOptions {
  /** Kerberos realm (upper case); the NetBIOS domain is its first label. Default INTEROP.TEST. */
  realm?: string;
  /** Logical user names; each gets an account with a random password per start. Default alice. */
  users?: readonly string[];
  startTimeoutMs?: number;
  /** How long to wait for a DC that runs already (one runs per machine at a time: ad-dc-lock.ts); default 240 s. */
  lockTimeoutMs?: number;
  /** Where the DC's directory and the provisioned template live; default the OS temp dir. */
  parentDir?: string;
  /**
   * The SMB settings (dialects, signing, encryption, NTLM accepted or not) and shares of a
   * domain profile; default Samba's DC defaults with one share, `share`.
   */
  profile?: Profile;
  /** Debug level of smbd's SMB2 and authentication classes (the rest logs at 1); default 1. */
  logLevel?: number;
}

export interface DcShare {
  name: string;
  encryption?: Profile['encryption']['mode'];
}

export interface AdDcUser {
  name: string;
  /** sAMAccountName */
  username: string;
  password: string;
  /** `username@REALM` */
  principal: string;
}

export class SambaAdDc {
  private readonly options: Required<AdDcOptions>;

  constructor(options: AdDcOptions = {}) {
    this.options = {
      realm: options.profile?.domain?.realm ?? 'INTEROP.TEST',
      users: options.profile?.users.map((u) => u.name) ?? ['alice'],
      startTimeoutMs: 60_000,
      lockTimeoutMs: 240_000,
      parentDir: tmpdir(),
      profile: undefined as unknown as Profile,
      logLevel: 1,
      ...options,
    };
    if (!/^[A-Z][A-Z0-9-]{0,14}(\.[A-Z0-9-]+)+$/.test(this.options.realm)) {
      throw new TargetStartError('ad-dc', `realm ${this.options.realm} must be an upper-case DNS name like INTEROP.TEST (first label at most 15 characters)`);
    }
  }

  async start(): Promise<StartedAdDc> {
    const { realm, parentDir } = this.options;
    const name = `ad-dc(${realm})`;
    if (!existsSync('/usr/sbin/samba') || !existsSync('/usr/bin/samba-tool')) throw new TargetStartError(name, `Samba's AD DC is not installed; ${INSTALL_HINT}`);
    const started = Date.now();
    // Provisioning runs no daemon: it needs no DC lock, and a start waiting for one can provision meanwhile.
    const template = await provisionedTemplate(parentDir, realm);
    const provisionedMs = Date.now() - started;
    let lock: AdDcLock;
    try {
      lock = await acquireAdDcLock(realm, this.options.lockTimeoutMs);
    } catch (error) {
      throw new TargetStartError(name, error instanceof Error ? error.message : String(error));
    }
    const locked = Date.now();
    const lockWaitMs = locked - started - provisionedMs;
    let root: string;
    try {
      sweepStaleAdDcs(parentDir);
      root = await mkdtemp(join(parentDir, `${AD_DC_DIR_PREFIX}${realm.toLowerCase()}-`));
    } catch (error) {
      lock.release();
      throw error;
    }
    const owner: AdDcOwner = { pid: process.pid };
    writeOwner(root, owner);
    const cleanup = (): void => {
      removeDcSync(root, owner);
      lock.release();
    };
    const unregister = registerCleanup(cleanup);
    let child: ChildProcess | undefined;
    const log = new ServerLog();
    try {
      owner.address = claimLoopbackAddress();
      writeOwner(root, owner);
      const address = owner.address;
      await cp(join(template, 'db'), join(root, 'db'), { recursive: true });
      const shares = this.options.profile?.shares ?? DEFAULT_SHARES;
      for (const sub of ['run', 'log', 'cache', 'lock', ...shares.map((share) => `shares/${share.name}`)]) await mkdir(join(root, sub), { recursive: true });
      // mkdtemp makes 0700; smbd serves the share as the user's own uid, which must reach it.
      await chmod(root, 0o755);
      for (const share of shares) await chmod(join(root, 'shares', share.name), 0o777);
      const confPath = join(root, 'smb.conf');
      await writeFile(confPath, renderDcConf(root, realm, address, { profile: this.options.profile, shares, logLevel: this.options.logLevel }));
      const krb5ConfPath = join(root, 'krb5.conf');
      await writeFile(krb5ConfPath, renderKrb5Conf(realm, address));

      child = spawn('/usr/sbin/samba', ['-i', '-s', confPath, '--debug-stdout'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      owner.sambaPid = child.pid;
      writeOwner(root, owner);
      child.stdout?.on('data', unprefixedLines((line) => log.push(`${line}\n`)));
      child.stderr?.on('data', unprefixedLines((line) => log.push(`${line}\n`)));
      await waitReady(name, child, address, this.options.startTimeoutMs, log);
      const readyMs = Date.now() - locked;

      const users: AdDcUser[] = [];
      for (const logical of this.options.users) {
        const user = { name: logical, username: logical, password: randomPassword(), principal: `${logical}@${realm}` };
        const result = await run('samba-tool', ['user', 'create', user.username, '-H', join(root, 'db', 'private', 'sam.ldb'), '-s', confPath], {
          input: `${user.password}\n${user.password}\n`,
          timeoutMs: 60_000,
        });
        if (result.code !== 0) throw new Error(`samba-tool user create ${user.username}: ${result.stderr.trim() || result.stdout.trim()}`);
        users.push(user);
      }
      return new StartedAdDc({
        realm, address, root, confPath, krb5ConfPath, users, shares: shares.map((share) => share.name), process: child, log, unregister, lock,
        owner, timings: { provisionMs: provisionedMs, lockWaitMs, readyMs, totalMs: Date.now() - started },
      });
    } catch (error) {
      if (child !== undefined) killDcProcesses(root, child.pid);
      cleanup();
      unregister();
      const reason = error instanceof Error ? error.message : String(error);
      throw error instanceof TargetStartError ? error : new TargetStartError(name, reason, log.tail(20));
    }
  }
}

export interface AdDcTimings {
  /** Spent provisioning the template (0 ms when the cached one was used). */
  provisionMs: number;
  /** Spent waiting for another DC to stop (one runs per machine at a time). */
  lockWaitMs: number;
  /** From the lock taken (copy, address, samba's start) until KDC and SMB answer. */
  readyMs: number;
  /** All of start(): provisioning, lock wait, start and the users created. */
  totalMs: number;
}

interface StartedAdDcInit {
  realm: string;
  address: string;
  root: string;
  confPath: string;
  krb5ConfPath: string;
  users: AdDcUser[];
  shares: string[];
  process: ChildProcess;
  log: ServerLog;
  unregister: () => void;
  lock: AdDcLock;
  owner: AdDcOwner;
  timings: AdDcTimings;
}

export class StartedAdDc {
  readonly realm: string;
  /** NetBIOS domain name. */
  readonly domain: string;
  /** The DC's loopback address: KDC on port 88, LDAP 389, SMB 445. */
  readonly address: string;
  /** The DC's DNS name, `dc1.<realm>`: the host of its service principal cifs/dc1.<realm>. */
  readonly hostName: string;
  /** The first share's name. */
  readonly share: string;
  /** The first share's directory. */
  readonly sharePath: string;
  /** Every share's directory by name. */
  readonly sharePaths: Readonly<Record<string, string>>;
  readonly root: string;
  readonly confPath: string;
  readonly krb5ConfPath: string;
  readonly users: readonly AdDcUser[];
  readonly timings: AdDcTimings;
  private stopping: Promise<void> | undefined;

  constructor(private readonly init: StartedAdDcInit) {
    this.realm = init.realm;
    this.domain = init.realm.split('.')[0]!;
    this.address = init.address;
    this.hostName = `${HOST_NAME.toLowerCase()}.${init.realm.toLowerCase()}`;
    this.share = init.shares[0]!;
    this.sharePaths = Object.fromEntries(init.shares.map((name) => [name, join(init.root, 'shares', name)]));
    this.sharePath = this.sharePaths[this.share]!;
    this.root = init.root;
    this.confPath = init.confPath;
    this.krb5ConfPath = init.krb5ConfPath;
    this.users = init.users;
    this.timings = init.timings;
  }

  user(name = 'alice'): AdDcUser {
    const user = this.users.find((u) => u.name === name);
    if (user === undefined) throw new Error(`the AD DC has no user ${name} (it has ${this.users.map((u) => u.name).join(', ')})`);
    return user;
  }

  log(): string {
    return this.init.log.text();
  }

  /** Log lines from `since` on. */
  logSince(since: Date): string {
    return this.init.log.since(since);
  }

  /** samba's process id (the leader of the DC's processes). */
  get pid(): number | undefined {
    return this.init.process.pid;
  }

  /** The SMB sessions' keys as the DC's smbd logged them (debug encryption): they decrypt and verify a capture of any client. Secret. */
  sessionKeys(): ServerSessionKeys[] {
    return this.init.log.sessionKeys();
  }

  /** Ends samba, smbd and winbindd, releases the address and removes the directory. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      killDcProcesses(this.root, this.init.process.pid);
      releaseLoopbackAddress(this.address);
      rmSync(this.root, { recursive: true, force: true });
      this.init.lock.release();
      this.init.unregister();
    })();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * samba prefixes what its smbd and winbindd print with their path (`/usr/sbin/smbd: `); without
 * it the log reads as smbd's own, and the session-key dump is recognised (and kept out of the text).
 */
export function unprefixedLines(onLine: (line: string) => void): (chunk: Buffer) => void {
  let partial = '';
  return (chunk) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line.replace(DAEMON_PREFIX, ''));
  };
}

async function waitReady(name: string, child: ChildProcess, address: string, timeoutMs: number, log: ServerLog): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new TargetStartError(name, `samba exited during start`, log.tail(20));
    const kdc = await tcpProbe(address, 88, 1000);
    const smb = kdc.ok ? await tcpProbe(address, 445, 1000) : kdc;
    if (kdc.ok && smb.ok) return;
    if (Date.now() > deadline) throw new TargetStartError(name, `KDC and SMB on ${address} not answering after ${timeoutMs} ms`, log.tail(20));
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The provisioned database for a realm, made once (about a minute on a loaded machine) and
 * reused by every start. Paths in it are relative, so a copy runs anywhere with its own smb.conf.
 */
async function provisionedTemplate(parentDir: string, realm: string): Promise<string> {
  const template = join(parentDir, `${AD_DC_DIR_PREFIX}template-${realm.toLowerCase()}`);
  if (existsSync(join(template, 'db', 'private', 'sam.ldb'))) return template;
  const lock = `${template}.lock`;
  const deadline = Date.now() + PROVISION_TIMEOUT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(join(template, 'db', 'private', 'sam.ldb'))) return template;
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
      } catch {
        // The lock went away: try again.
      }
      if (Date.now() > deadline) throw new Error(`waited ${PROVISION_TIMEOUT_MS} ms for another process to provision ${template}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    if (existsSync(join(template, 'db', 'private', 'sam.ldb'))) return template;
    const work = `${template}.tmp-${process.pid}`;
    rmSync(work, { recursive: true, force: true });
    const result = await run('samba-tool', [
      'domain', 'provision', `--realm=${realm}`, `--domain=${realm.split('.')[0]}`, '--server-role=dc', '--dns-backend=NONE',
      `--host-name=${HOST_NAME}`, `--adminpass=${randomPassword()}`, `--targetdir=${join(work, 'db')}`, '--host-ip=127.0.0.1',
      '--option=interfaces=127.0.0.1', '--option=bind interfaces only=yes',
    ], { timeoutMs: PROVISION_TIMEOUT_MS });
    if (result.code !== 0) {
      rmSync(work, { recursive: true, force: true });
      throw new Error(`samba-tool domain provision failed: ${(result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n')}`);
    }
    rmSync(join(work, 'db', 'etc'), { recursive: true, force: true });
    rmSync(template, { recursive: true, force: true });
    renameSync(work, template);
    return template;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * smb.conf for one DC. Only the services a client of this harness needs run; everything Samba
 * writes goes under the DC's directory except winbindd's socket, whose directory libwbclient
 * takes from its built-in default (smbd in a DC fails SESSION_SETUP with any other).
 */
export interface DcConfOptions {
  /** A domain profile's SMB settings; absent: the DC's defaults. */
  profile?: Profile | undefined;
  shares?: readonly DcShare[];
  /** Level of the smb2 and auth debug classes (everything else logs at 1). */
  logLevel?: number;
  /** Where the shares' directories are; default `<root>/shares`. */
  sharesDir?: string;
}

export function renderDcConf(root: string, realm: string, address: string, options: DcConfOptions = {}): string {
  const db = join(root, 'db');
  const level = options.logLevel ?? 1;
  const smb = options.profile === undefined ? [] : protocolSettings(options.profile).map(settingLine);
  // NTLM stays at the DC's default (NTLMv2 only) where the profile accepts it.
  if (options.profile?.domain?.ntlm === false) smb.push('ntlm auth = disabled');
  const share = (s: DcShare): string[] => [
    '',
    `[${s.name}]`,
    `\tpath = ${join(options.sharesDir ?? join(root, 'shares'), s.name)}`,
    '\tread only = no',
    // Plain POSIX permissions: the DC's default acl_xattr would leave a fresh share without an NT ACL that admits its users.
    '\tvfs objects = dfs_samba4',
    // As on a native target: the domain's users share their primary group (Domain Users), which may write.
    '\tcreate mask = 0664',
    '\tdirectory mask = 0775',
    ...shareEncryptionSetting(s.encryption).map((setting) => `\t${settingLine(setting)}`),
  ];
  return [
    '[global]',
    `\tnetbios name = ${HOST_NAME}`,
    `\trealm = ${realm}`,
    `\tworkgroup = ${realm.split('.')[0]}`,
    '\tserver role = active directory domain controller',
    '\tserver services = s3fs, rpc, ldap, kdc, winbindd',
    `\tinterfaces = ${address}`,
    '\tbind interfaces only = yes',
    `\tprivate dir = ${join(db, 'private')}`,
    `\tstate directory = ${join(db, 'state')}`,
    `\tbinddns dir = ${join(db, 'bind-dns')}`,
    `\tcache directory = ${join(root, 'cache')}`,
    `\tlock directory = ${join(root, 'lock')}`,
    `\tpid directory = ${join(root, 'run')}`,
    `\tncalrpc dir = ${join(root, 'run', 'ncalrpc')}`,
    `\tntp signd socket directory = ${join(root, 'run', 'ntp_signd')}`,
    `\tlog file = ${join(root, 'log', 'log.%m')}`,
    // smbd's failed requests (smb2) and logons (auth) at the target's level; the audit of every logon (auth_audit: the KDC's, and at 4 the SMB sessions' authorization); the rest at 1.
    `\tlog level = 1${level > 1 ? ` smb2:${level} auth:${level} auth_audit:${Math.max(level, 4)}` : ''}`,
    '\tload printers = no',
    '\tdisable spoolss = yes',
    '\tserver multi channel support = no',
    '\tdebug encryption = yes',
    ...smb.map((line) => `\t${line}`),
    ...(options.shares ?? DEFAULT_SHARES).flatMap(share),
    '',
  ].join('\n');
}

/** krb5.conf for tools (kinit, smbclient -k) that reach a realm's KDC (`host` or `host:port`) with no DNS. */
export function renderKrb5Conf(realm: string, kdc: string): string {
  return [
    '[libdefaults]',
    `\tdefault_realm = ${realm}`,
    '\tdns_lookup_kdc = false',
    '\tdns_lookup_realm = false',
    '\tforwardable = true',
    '',
    '[realms]',
    `\t${realm} = {`,
    `\t\tkdc = ${kdc}`,
    '\t}',
    '',
    '[domain_realm]',
    `\t.${realm.toLowerCase()} = ${realm}`,
    '',
  ].join('\n');
}
