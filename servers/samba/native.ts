/**
 * The native provider: one smbd from the machine's Samba per target, spawned on a free loopback
 * port with its configuration, state, accounts and shares in a private directory
 * (native-workspace.ts), its accounts read through nss_wrapper (private-accounts.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Profile } from '../catalog/schema.js';
import { asTargetStartError, PortTakenError, TargetStartError } from '../errors.js';
import { startOnFreePort, tcpProbe } from '../ports.js';
import { killProcessGroupSync, teeServerOutput } from '../processes.js';
import type { TargetUser } from '../target.js';
import { addSambaUser, throwawayUsers } from './accounts.js';
import { FOREIGN_LISTENER_MS, listenerHeldBy, portHeldByAnother } from './listener.js';
import { StartedNativeTarget } from './native-target.js';
import { NativeWorkspace, sweepStaleNativeTargets, unusableParentDir } from './native-workspace.js';
import { findNssWrapper, NSS_WRAPPER_PACKAGE, writeAccountDatabase } from './private-accounts.js';
import { ServerLog } from './server-log.js';
import { renderSmbConf } from './smb-conf.js';

export { StartedNativeTarget, sweepStaleNativeTargets, TargetStartError };

const INSTALL_HINT = 'install Samba with: sudo apt-get install -y samba smbclient';
const READY_POLL_MS = 15;

export function findSmbd(): string | undefined {
  const override = process.env.SMB_INTEROP_SMBD;
  if (override) return existsSync(override) ? override : undefined;
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, 'smbd'))) return join(dir, 'smbd');
  }
  return undefined;
}

let cachedVersion: string | undefined;
export function smbdVersion(smbd: string): string {
  if (!cachedVersion) {
    const out = spawnSync(smbd, ['--version'], { encoding: 'utf8', timeout: 5000 }).stdout ?? '';
    cachedVersion = `Samba ${out.replace(/^Version\s+/i, '').trim() || 'unknown'}`;
  }
  return cachedVersion;
}

export interface NativeOptions {
  logLevel?: number;
  debugEncryption?: boolean;
  startTimeoutMs?: number;
  host?: string;
  /**
   * Where the target's directory (configuration, state, shares) is made; default the OS temp
   * dir. The target's accounts must be able to pass through it (o+x).
   */
  parentDir?: string;
}

/** What one start has prepared before smbd runs: the same for every port it tries. */
interface Prepared {
  name: string;
  smbd: string;
  workspace: NativeWorkspace;
  sharePaths: Record<string, string>;
  users: TargetUser[];
  /** smbd's environment: the preload that makes it read the target's own passwd and group. */
  env: NodeJS.ProcessEnv;
  log: ServerLog;
}

/** Builds and starts one smbd for a profile, testcontainers-style: configure, then start(). */
export class NativeSambaServer {
  private options: Required<NativeOptions>;

  constructor(private readonly profile: Profile, options: NativeOptions = {}) {
    this.options = { logLevel: 2, debugEncryption: true, startTimeoutMs: 10_000, host: '127.0.0.1', parentDir: tmpdir(), ...options };
  }

  withLogLevel(level: number): this {
    this.options.logLevel = level;
    return this;
  }

  /**
   * Whether smbd logs each session's keys (default on): the harness decodes any client's capture
   * with them. The log keeps them apart (ServerLog.sessionKeys); they never reach a published log.
   */
  withDebugEncryption(on = true): this {
    this.options.debugEncryption = on;
    return this;
  }

  withStartTimeout(ms: number): this {
    this.options.startTimeoutMs = ms;
    return this;
  }

  async start(): Promise<StartedNativeTarget> {
    const name = `${this.profile.name}@native`;
    if (this.profile.domain !== undefined) throw new TargetStartError(name, 'a domain profile runs on an AD DC: start it with startDomainTarget (domain-target.ts)');
    const { smbd, nssWrapper } = requireTools(name);
    const unusable = unusableParentDir(this.options.parentDir);
    if (unusable) throw new TargetStartError(name, unusable);
    sweepStaleNativeTargets(this.options.parentDir);

    const workspace = await NativeWorkspace.create(this.options.parentDir, this.profile.name).catch((e: unknown) => {
      throw asTargetStartError(name, e);
    });
    try {
      const sharePaths = await workspace.makeShareDirectories(this.profile);
      const users = throwawayUsers(this.profile, randomBytes(3).toString('hex'));
      const accounts = await writeAccountDatabase(workspace.root, users.map((u) => u.username), nssWrapper);
      const prepared: Prepared = { name, smbd, workspace, sharePaths, users, env: accounts.env, log: new ServerLog() };
      const { child, port } = await startOnFreePort(this.options.host, async (port, attempt) => {
        await this.writeConfig(prepared, port);
        if (attempt === 0) await registerUsers(workspace.confPath, users, accounts.env);
        return this.launch(prepared, port);
      });
      workspace.handOver();
      return new StartedNativeTarget({
        name, profile: this.profile, host: this.options.host, port, serverVersion: smbdVersion(smbd), users,
        log: prepared.log, localPaths: sharePaths, syncCleanup: workspace.removeSync,
        root: workspace.root, confPath: workspace.confPath, process: child, accountsEnv: accounts.env,
      });
    } catch (error) {
      workspace.discard();
      throw asTargetStartError(name, error);
    }
  }

  private async writeConfig(prepared: Prepared, port: number): Promise<void> {
    await writeFile(prepared.workspace.confPath, renderSmbConf(this.profile, {
      port,
      host: this.options.host,
      root: prepared.workspace.root,
      sharePaths: prepared.sharePaths,
      guestAccount: 'nobody',
      logLevel: this.options.logLevel,
      debugEncryption: this.options.debugEncryption,
    }));
  }

  /** smbd on one port: the running process once its own listener answers, or why not (its process group ended). */
  private async launch(prepared: Prepared, port: number): Promise<{ child: ChildProcess; port: number } | TargetStartError> {
    const started = Date.now();
    const child = spawn(prepared.smbd, ['-s', prepared.workspace.confPath, '--foreground', '--no-process-group', '--debug-stdout', `-d${this.options.logLevel}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: prepared.env,
      detached: true, // own process group: stop() and the sweeper kill smbd and every helper it forks
    });
    prepared.workspace.recordSmbd(child.pid);
    teeServerOutput(child, join(prepared.workspace.root, 'smbd.log'), (text) => prepared.log.push(text));
    const ready = await this.waitReady(child, port, prepared, started);
    if (ready === true) return { child, port };
    killProcessGroupSync(child.pid);
    return ready;
  }

  private async waitReady(child: ChildProcess, port: number, { name, log }: Prepared, started: number): Promise<true | TargetStartError> {
    const { host, startTimeoutMs } = this.options;
    let exited: string | undefined;
    child.once('exit', (code, signal) => (exited = signal ? `signal ${signal}` : `exit code ${code}`));
    child.once('error', (err) => (exited = err.message));
    const deadline = started + startTimeoutMs;
    let foreignSince: number | undefined;
    while (Date.now() < deadline) {
      if (exited) {
        // smbd is gone: a listener on its port is another server's, which bound it first.
        if (portHeldByAnother(port)) return new PortTakenError(name, host, port, log.tail());
        return new TargetStartError(name, `smbd ended during startup (${exited})`, log.tail());
      }
      if ((await tcpProbe(host, port, 500)).ok) {
        // Answered: by this smbd, or by another server that took the port first (listener.ts).
        const held = child.pid === undefined ? undefined : listenerHeldBy(child.pid, port);
        if (held !== false) return true;
        foreignSince ??= Date.now();
        if (Date.now() - foreignSince > FOREIGN_LISTENER_MS) return new PortTakenError(name, host, port, log.tail());
      }
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
    return new TargetStartError(name, `smbd did not accept connections on ${host}:${port} within ${startTimeoutMs} ms`, log.tail());
  }
}

/** smbd and libnss_wrapper, or a TargetStartError naming the package that provides what is missing. */
function requireTools(name: string): { smbd: string; nssWrapper: string } {
  const smbd = findSmbd();
  if (!smbd) throw new TargetStartError(name, `smbd was not found on PATH or in /usr/sbin; ${INSTALL_HINT}`);
  const nssWrapper = findNssWrapper();
  if (!nssWrapper) throw new TargetStartError(name, `libnss_wrapper.so was not found (the target's accounts live in a private passwd file that smbd reads through it); install it with: sudo apt-get install -y ${NSS_WRAPPER_PACKAGE}`);
  return { smbd, nssWrapper };
}

async function registerUsers(confPath: string, users: readonly TargetUser[], env: NodeJS.ProcessEnv): Promise<void> {
  for (const u of users) await addSambaUser(confPath, u.username, u.password, env);
}

/** Convenience: start a native target for a profile. */
export function startNativeTarget(profile: Profile, options?: NativeOptions): Promise<StartedNativeTarget> {
  return new NativeSambaServer(profile, options).start();
}
