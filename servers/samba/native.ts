import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Profile } from '../catalog/schema.js';
import { registerCleanup } from '../cleanup.js';
import type { ServerSession, StartedShare, StartedTarget, TargetUser } from '../target.js';
import { accountName, addSambaUser, randomPassword, run } from './accounts.js';
import { removeOrphanedLegacyAccountsOnce } from './legacy-accounts.js';
import { claimPort, listenerHeldBy } from './listener.js';
import { findNssWrapper, NSS_WRAPPER_PACKAGE, writeAccountDatabase } from './private-accounts.js';
import { ServerLog } from './server-log.js';
import { renderSmbConf } from './smb-conf.js';
import { parseSmbstatusJson } from './smbstatus.js';

const DIR_PREFIX = 'smb-interop-native-';
const OWNER_FILE = 'owner.json';
const INSTALL_HINT = 'install Samba with: sudo apt-get install -y samba smbclient';

interface OwnerRecord {
  pid: number;
  smbdPid?: number;
}

/** Start failure that names the profile, the reason and the server's own words. */
export class TargetStartError extends Error {
  readonly code = 'SMB_INTEROP_TARGET_START';
  constructor(readonly target: string, reason: string, readonly logTail = '') {
    super(`cannot start ${target}: ${reason}${logTail ? `\n--- smbd log (last lines) ---\n${logTail}` : ''}`);
    this.name = 'TargetStartError';
  }
}

/** How long a port may answer from another server before a start tries another port. */
export const FOREIGN_LISTENER_MS = 1000;

/** A start that found its port held by another server (listener.ts): it is retried on another port. */
export class PortTakenError extends TargetStartError {
  constructor(target: string, host: string, port: number, logTail = '') {
    super(target, `${host}:${port} answers, but not from this smbd (another server took the port first)`, logTail);
  }
}

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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killGroupSync(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Removes what a crashed or killed earlier run left behind (its owner process no longer exists). */
export function sweepStaleNativeTargets(base = tmpdir()): number {
  removeOrphanedLegacyAccountsOnce();
  let swept = 0;
  for (const entry of readdirSync(base)) {
    if (!entry.startsWith(DIR_PREFIX)) continue;
    const dir = join(base, entry);
    let owner: OwnerRecord | undefined;
    try {
      owner = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as OwnerRecord;
    } catch {
      continue; // Being created right now by a live process, or not ours.
    }
    if (isAlive(owner.pid)) continue;
    killGroupSync(owner.smbdPid);
    rmSync(dir, { recursive: true, force: true });
    swept++;
  }
  return swept;
}

export async function freeLoopbackPort(host = '127.0.0.1'): Promise<number> {
  // Never the same port twice from this process: targets starting together get different ones.
  for (let attempt = 0; ; attempt++) {
    const port = await anyFreePort(host);
    if (claimPort(port) || attempt >= 20) return port;
  }
}

function anyFreePort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}


function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolveOk) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolveOk(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
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

/** Builds and starts one smbd for a profile, testcontainers-style: configure, then start(). */
export class NativeSambaServer {
  private options: Required<NativeOptions>;

  constructor(private readonly profile: Profile, options: NativeOptions = {}) {
    this.options = { logLevel: 2, debugEncryption: false, startTimeoutMs: 10_000, host: '127.0.0.1', parentDir: tmpdir(), ...options };
  }

  withLogLevel(level: number): this {
    this.options.logLevel = level;
    return this;
  }

  /** smbd logs session keys: for key-derivation checks only, never for published runs. */
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
    const smbd = findSmbd();
    if (!smbd) throw new TargetStartError(name, `smbd was not found on PATH or in /usr/sbin; ${INSTALL_HINT}`);
    const nssWrapper = findNssWrapper();
    if (!nssWrapper) throw new TargetStartError(name, `libnss_wrapper.so was not found (the target's accounts live in a private passwd file that smbd reads through it); install it with: sudo apt-get install -y ${NSS_WRAPPER_PACKAGE}`);
    const parent = this.options.parentDir;
    let parentMode: number;
    try {
      parentMode = statSync(parent).mode;
    } catch (error) {
      throw new TargetStartError(name, `parentDir ${parent}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    // smbd serves the shares as the target's own accounts, which must reach them.
    if ((parentMode & 0o001) === 0) throw new TargetStartError(name, `parentDir ${parent} (mode ${(parentMode & 0o7777).toString(8)}) is not searchable by other users, so the target's accounts could not reach their shares; use a directory like the temp dir (mode 1777) or chmod o+x`);
    sweepStaleNativeTargets(this.options.parentDir);

    const root = await mkdtemp(join(this.options.parentDir, `${DIR_PREFIX}${this.profile.name}-`));
    const instance = randomBytes(3).toString('hex');
    const owner: OwnerRecord = { pid: process.pid };
    const writeOwner = () => writeFileSync(join(root, OWNER_FILE), JSON.stringify(owner));
    writeOwner();
    let child: ChildProcess | undefined;
    const syncCleanup = () => {
      killGroupSync(child?.pid);
      rmSync(root, { recursive: true, force: true });
    };
    const unregister = registerCleanup(syncCleanup);
    try {
      for (const sub of ['private', 'lock', 'state', 'cache', 'pid', 'ncalrpc', 'usershares', 'shares']) {
        await mkdir(join(root, sub), { recursive: true });
      }
      // smbd checks that the temp root is traversable by the accounts it switches to.
      await chmod(root, 0o755);
      const sharePaths: Record<string, string> = {};
      for (const share of this.profile.shares) {
        const path = join(root, 'shares', share.name);
        await mkdir(path);
        await chmod(path, 0o777);
        sharePaths[share.name] = path;
      }
      const users: TargetUser[] = this.profile.users.map((user) => ({
        name: user.name, username: accountName(instance, user.name), password: randomPassword(), domain: '',
      }));
      const accounts = await writeAccountDatabase(root, users.map((u) => u.username), nssWrapper);

      const log = new ServerLog();
      const confPath = join(root, 'smb.conf');
      let lastError: TargetStartError | undefined;
      for (let attempt = 0; attempt < 3; attempt++) {
        const port = await freeLoopbackPort(this.options.host);
        const conf = renderSmbConf(this.profile, {
          port,
          host: this.options.host,
          root,
          sharePaths,
          guestAccount: 'nobody',
          logLevel: this.options.logLevel,
          debugEncryption: this.options.debugEncryption,
        });
        await writeFile(confPath, conf);
        if (attempt === 0) {
          for (const u of users) await addSambaUser(confPath, u.username, u.password, accounts.env);
        }
        const started = Date.now();
        child = spawn(smbd, ['-s', confPath, '--foreground', '--no-process-group', '--debug-stdout', `-d${this.options.logLevel}`], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: accounts.env,
          detached: true, // own process group: stop() and the sweeper kill smbd and every helper it forks
        });
        owner.smbdPid = child.pid;
        writeOwner();
        const logFile = createWriteStream(join(root, 'smbd.log'));
        const onData = (d: Buffer) => {
          log.push(d.toString());
          logFile.write(d);
        };
        child.stdout?.on('data', onData);
        child.stderr?.on('data', onData);
        child.once('exit', () => logFile.end());
        const ready = await this.waitReady(child, port, name, log, started);
        if (ready === true) {
          unregister();
          const target = new StartedNativeTarget({
            name, profile: this.profile, host: this.options.host, port, root, confPath, sharePaths, users, log,
            process: child, serverVersion: smbdVersion(smbd), accountsEnv: accounts.env, syncCleanup,
          });
          return target;
        }
        lastError = ready;
        killGroupSync(child.pid);
        if (!/Address already in use|bind failed/i.test(log.text()) && !(ready instanceof PortTakenError)) break;
      }
      throw lastError ?? new TargetStartError(name, 'smbd did not start');
    } catch (error) {
      syncCleanup();
      unregister();
      if (error instanceof TargetStartError) throw error;
      throw new TargetStartError(name, (error as Error).message);
    }
  }

  private async waitReady(child: ChildProcess, port: number, name: string, log: ServerLog, started: number): Promise<true | TargetStartError> {
    let exited: string | undefined;
    child.once('exit', (code, signal) => (exited = signal ? `signal ${signal}` : `exit code ${code}`));
    child.once('error', (err) => (exited = err.message));
    const deadline = started + this.options.startTimeoutMs;
    let foreignSince: number | undefined;
    while (Date.now() < deadline) {
      if (exited) return new TargetStartError(name, `smbd ended during startup (${exited})`, log.tail());
      if (await canConnect(this.options.host, port)) {
        // Answered: by this smbd, or by another server that took the port first (listener.ts).
        const held = child.pid === undefined ? undefined : listenerHeldBy(child.pid, port);
        if (held !== false) return true;
        foreignSince ??= Date.now();
        if (Date.now() - foreignSince > FOREIGN_LISTENER_MS) return new PortTakenError(name, this.options.host, port, log.tail());
      }
      await new Promise((r) => setTimeout(r, 15));
    }
    return new TargetStartError(name, `smbd did not accept connections on ${this.options.host}:${port} within ${this.options.startTimeoutMs} ms`, log.tail());
  }
}

interface NativeTargetInit {
  name: string;
  profile: Profile;
  host: string;
  port: number;
  root: string;
  confPath: string;
  sharePaths: Record<string, string>;
  users: TargetUser[];
  log: ServerLog;
  process: ChildProcess;
  serverVersion: string;
  /** The environment under which Samba's tools see the target's private accounts. */
  accountsEnv: NodeJS.ProcessEnv;
  syncCleanup: () => void;
}

export class StartedNativeTarget implements StartedTarget {
  readonly provider = 'native' as const;
  readonly name: string;
  readonly profile: Profile;
  readonly host: string;
  readonly port: number;
  readonly serverVersion: string;
  readonly shares: StartedShare[];
  readonly users: TargetUser[];
  /** Private directory of this server (config, state, shares). Removed by stop(). */
  readonly root: string;
  readonly confPath: string;
  private stopping: Promise<void> | undefined;
  private readonly unregister: () => void;

  constructor(private readonly init: NativeTargetInit) {
    this.name = init.name;
    this.profile = init.profile;
    this.host = init.host;
    this.port = init.port;
    this.serverVersion = init.serverVersion;
    this.users = init.users;
    this.root = init.root;
    this.confPath = init.confPath;
    this.shares = init.profile.shares.map((s) => {
      const share: StartedShare = {
        name: s.name,
        unc: `\\\\${init.host}\\${s.name}`,
        encrypted: s.encryption === 'required' || s.encryption === 'desired',
        guestOk: s.guestOk,
      };
      const localPath = init.sharePaths[s.name];
      if (localPath !== undefined) share.localPath = localPath;
      return share;
    });
    this.unregister = registerCleanup(init.syncCleanup);
  }

  /** smbd's process id (the leader of its process group). */
  get pid(): number | undefined {
    return this.init.process.pid;
  }

  share(name: string): StartedShare {
    const share = this.shares.find((s) => s.name.toLowerCase() === name.toLowerCase());
    if (!share) throw new Error(`${this.name} has no share "${name}" (shares: ${this.shares.map((s) => s.name).join(', ')})`);
    return share;
  }

  user(name?: string): TargetUser {
    const user = name === undefined ? this.users[0] : this.users.find((u) => u.name === name);
    if (!user) throw new Error(`${this.name} has no user "${name}" (users: ${this.users.map((u) => u.name).join(', ')})`);
    return user;
  }

  log(): string {
    return this.init.log.text();
  }

  logSince(since: Date): string {
    return this.init.log.since(since);
  }

  async serverSessions(): Promise<ServerSession[]> {
    const result = await run('smbstatus', ['-s', this.confPath, '--json'], { timeoutMs: 10_000, env: this.init.accountsEnv });
    if (result.code !== 0) throw new Error(`smbstatus failed for ${this.name}: ${result.stderr.trim()}`);
    return parseSmbstatusJson(result.stdout);
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const child = this.init.process;
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
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 3000))),
      ]);
      clearTimeout(timer);
      if (timedOut) killGroupSync(pid);
      await exited;
    }
    // Helpers smbd forked share its process group and may outlive it briefly.
    killGroupSync(pid);
    await rm(this.root, { recursive: true, force: true });
    this.unregister();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Convenience: start a native target for a profile. */
export function startNativeTarget(profile: Profile, options?: NativeOptions): Promise<StartedNativeTarget> {
  return new NativeSambaServer(profile, options).start();
}

