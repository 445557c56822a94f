/**
 * A domain profile's target: a Samba AD domain controller (servers/samba/ad-dc.ts) started with
 * the profile's SMB settings and shares, seen through the same StartedTarget as every other
 * server, plus the realm, KDC and host name a client needs for Kerberos.
 */
import { spawnSync } from 'node:child_process';
import type { Profile } from '../catalog/schema.js';
import { findShare, findUser, startedShares } from '../target-common.js';
import type { ServerSession, StartedShare, StartedTarget, TargetKerberos, TargetUser } from '../target.js';
import { run } from './accounts.js';
import { SambaAdDc, type AdDcTimings, type StartedAdDc } from './ad-dc.js';
import type { ServerSessionKeys } from './server-keys.js';
import { parseSmbstatusJson } from './smbstatus.js';

const SMB_PORT = 445;
const KDC_PORT = 88;

export interface DomainTargetOptions {
  logLevel?: number;
  /** How long to wait for another domain target's DC to stop (one DC runs per machine at a time). */
  lockTimeoutMs?: number;
}

let cachedVersion: string | undefined;
function sambaVersion(): string {
  cachedVersion ??= `Samba ${(spawnSync('/usr/sbin/samba', ['--version'], { encoding: 'utf8', timeout: 5000 }).stdout ?? '').replace(/^Version\s+/i, '').trim() || 'unknown'}`;
  return cachedVersion;
}

export class StartedDomainTarget implements StartedTarget {
  readonly provider = 'native' as const;
  readonly name: string;
  readonly host: string;
  readonly port = SMB_PORT;
  readonly serverVersion: string;
  readonly shares: StartedShare[];
  readonly users: TargetUser[];
  readonly kerberos: TargetKerberos;
  /** How long the DC took to start, and where the time went. */
  readonly timings: AdDcTimings;

  constructor(
    readonly profile: Profile,
    private readonly dc: StartedAdDc,
  ) {
    this.name = `${profile.name}@native`;
    this.host = dc.address;
    this.serverVersion = sambaVersion();
    this.shares = startedShares(profile, dc.hostName, { ...dc.sharePaths });
    this.users = dc.users.map((u) => ({ name: u.name, username: u.username, password: u.password, domain: dc.domain }));
    this.kerberos = { realm: dc.realm, kdc: `${dc.address}:${KDC_PORT}`, serviceHost: dc.hostName, ntlm: profile.domain?.ntlm ?? true };
    this.timings = dc.timings;
  }

  share(name: string): StartedShare {
    return findShare(this, name);
  }

  user(name?: string): TargetUser {
    return findUser(this, name);
  }

  log(): string {
    return this.dc.log();
  }

  logSince(since: Date): string {
    return this.dc.logSince(since);
  }

  sessionKeys(): ServerSessionKeys[] {
    return this.dc.sessionKeys();
  }

  async serverSessions(): Promise<ServerSession[]> {
    const result = await run('smbstatus', ['-s', this.dc.confPath, '--json'], { timeoutMs: 10_000 });
    if (result.code !== 0) throw new Error(`smbstatus failed for ${this.name}: ${result.stderr.trim()}`);
    const sessions = parseSmbstatusJson(result.stdout);
    // smbstatus names a user through the machine's NSS, which knows no domain users without
    // libnss-winbind: it prints the uid. The DC's winbindd knows them.
    for (const session of sessions) {
      if (/^\d+$/.test(session.username)) session.username = await this.domainUserName(session.username) ?? session.username;
    }
    return sessions;
  }

  private readonly userNames = new Map<string, string>();

  /** The account name (without the domain) of a uid the DC's winbindd allocated, or undefined. */
  private async domainUserName(uid: string): Promise<string | undefined> {
    if (!this.userNames.has(uid)) {
      const result = await run('wbinfo', [`--uid-info=${uid}`], { timeoutMs: 10_000 });
      const account = result.code === 0 ? result.stdout.split(':')[0]?.trim() : undefined;
      if (account) this.userNames.set(uid, account.slice(account.lastIndexOf('\\') + 1));
    }
    return this.userNames.get(uid);
  }

  stop(): Promise<void> {
    return this.dc.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Starts the DC of a domain profile (profile.domain is set); its users get random passwords. */
export async function startDomainTarget(profile: Profile, options: DomainTargetOptions = {}): Promise<StartedDomainTarget> {
  const dc = await new SambaAdDc({
    profile,
    ...(options.logLevel === undefined ? {} : { logLevel: options.logLevel }),
    ...(options.lockTimeoutMs === undefined ? {} : { lockTimeoutMs: options.lockTimeoutMs }),
  }).start();
  return new StartedDomainTarget(profile, dc);
}
