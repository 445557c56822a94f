/**
 * What a native and a container target share once started: a Samba server this process runs,
 * its log, the share and user lookups, and a stop() that runs once, and at exit or on a signal if
 * nobody called it (servers/cleanup.ts).
 */
import type { Profile } from '../catalog/schema.js';
import { registerCleanup } from '../cleanup.js';
import { findShare, findUser, startedShares } from '../target-common.js';
import type { ProviderKind, StartedShare, StartedTarget, TargetUser } from '../target.js';
import type { ServerLog } from './server-log.js';
import type { ServerSessionKeys } from './server-keys.js';

export interface StartedServerInit {
  name: string;
  profile: Profile;
  host: string;
  port: number;
  serverVersion: string;
  users: TargetUser[];
  log: ServerLog;
  /** Share name -> directory on this machine. */
  localPaths: Record<string, string>;
  /** Removes what the start made, synchronously: for exit and signals, when stop() cannot run. */
  syncCleanup: () => void;
}

export abstract class StartedSambaServer implements StartedTarget {
  abstract readonly provider: ProviderKind;
  readonly name: string;
  readonly profile: Profile;
  readonly host: string;
  readonly port: number;
  readonly serverVersion: string;
  readonly shares: StartedShare[];
  readonly users: TargetUser[];
  private readonly serverLog: ServerLog;
  private stopping: Promise<void> | undefined;
  private readonly unregister: () => void;

  constructor(init: StartedServerInit) {
    this.name = init.name;
    this.profile = init.profile;
    this.host = init.host;
    this.port = init.port;
    this.serverVersion = init.serverVersion;
    this.users = init.users;
    this.serverLog = init.log;
    this.shares = startedShares(init.profile, init.host, init.localPaths);
    this.unregister = registerCleanup(init.syncCleanup);
  }

  share(name: string): StartedShare {
    return findShare(this, name);
  }

  user(name?: string): TargetUser {
    return findUser(this, name);
  }

  log(): string {
    return this.serverLog.text();
  }

  logSince(since: Date): string {
    return this.serverLog.since(since);
  }

  sessionKeys(): ServerSessionKeys[] {
    return this.serverLog.sessionKeys();
  }

  stop(): Promise<void> {
    this.stopping ??= this.release().then(() => this.unregister());
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** Ends the server and removes everything its start created. */
  protected abstract release(): Promise<void>;
}
