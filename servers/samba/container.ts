/**
 * The container provider: one Samba container per target, from an image of a chosen Debian suite
 * (servers/samba/container-images.ts), with host networking on a free loopback port the harness
 * picks, so that clients, captures and smbclient reach it at 127.0.0.1 like a native target.
 *
 * The share directories are a host temp directory bind-mounted at /smb-interop, so `localPath`
 * works as for native targets (a server-side oracle); smb.conf lives there too. Samba's state
 * stays inside the container. Accounts and their smbpasswd entries are created by exec.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import './container-signals.js'; // before testcontainers: see there
import { GenericContainer, Wait } from 'testcontainers';
import type { Profile } from '../catalog/schema.js';
import type { SambaImageName } from '../catalog/targets.js';
import { registerCleanup } from '../cleanup.js';
import { asTargetStartError, PortTakenError, TargetStartError } from '../errors.js';
import { startOnFreePort, tcpProbe } from '../ports.js';
import { processAlive } from '../processes.js';
import type { ServerSession, TargetUser } from '../target.js';
import { throwawayUsers, type CommandResult } from './accounts.js';
import {
  containerEngineAvailable, docker, execInContainer, HOST_DIR_PREFIX, LABELS, removeContainer, removeContainersByLabel, targetLabels,
  removeContainersSync, sweepStaleContainers, withTimeout,
} from './container-engine.js';
import { ensureSambaImage } from './container-images.js';
import { FOREIGN_LISTENER_MS, LISTENER_HELD_IN_CONTAINER, listenerHeldBy, portHeldByAnother } from './listener.js';
import { ServerLog } from './server-log.js';
import { releaseLoopbackAddress } from './ad-dc-workspace.js';
import { renderSmbConf } from './smb-conf.js';
import { parseSmbstatusJson } from './smbstatus.js';
import { StartedSambaServer, type StartedServerInit } from './started-server.js';

/** Where the bind-mounted host directory appears in the container. */
const MOUNT = '/smb-interop';
const CONF = `${MOUNT}/smb.conf`;
/** Samba's private state inside the container (made by the Dockerfile). */
const STATE_ROOT = '/var/lib/smb-interop';
const OWNER_FILE = 'owner.json';

// The reaper image cannot be pulled where no registry is reachable, and this provider removes
// its containers itself (stop(), exit/signal handlers, and the sweep of killed runs).
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

/** What a container target's host directory records of its owner: the run's pid, and a loopback address it claimed (a domain target's). */
export interface HostDirOwner {
  pid: number;
  instance: string;
  address?: string;
}

export function writeHostDirOwner(hostRoot: string, owner: HostDirOwner): void {
  writeFileSync(join(hostRoot, OWNER_FILE), JSON.stringify(owner));
}

/** Removes host directories (and the loopback addresses they claimed) of killed runs; their containers are swept by label. */
export function sweepStaleHostDirs(): void {
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(HOST_DIR_PREFIX)) continue;
    const dir = join(tmpdir(), entry);
    try {
      const owner = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as HostDirOwner;
      if (processAlive(owner.pid)) continue;
      releaseLoopbackAddress(owner.address);
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Being created right now, or not ours.
    }
  }
}

/** One `smbd --version` per image, shared by the targets starting from it at the same time. */
const versions = new Map<string, Promise<string>>();

async function sambaVersionIn(containerId: string, imageTag: string): Promise<string> {
  const shared = versions.get(imageTag);
  if (shared) {
    try {
      return await shared;
    } catch {
      // The container that was asked may be gone with its failed start: this one is asked.
    }
  }
  const own = execInContainer(containerId, ['smbd', '--version'], { timeoutMs: 10_000 }).then(
    (result) => `Samba ${result.stdout.replace(/^Version\s+/i, '').trim() || 'unknown'}`,
  );
  versions.set(imageTag, own);
  own.catch(() => {
    if (versions.get(imageTag) === own) versions.delete(imageTag);
  });
  return own;
}

// Reads "account password" lines on stdin: the passwords never appear in an argv or an environment.
const CREATE_ACCOUNTS = `set -e
while read -r account password; do
  useradd -M -N -s /usr/sbin/nologin -d /nonexistent "$account"
  printf '%s\\n%s\\n' "$password" "$password" | smbpasswd -c ${CONF} -s -a "$account" >/dev/null
done`;

/** The share directories in the host directory (mounted in the container), writable by every account. */
async function makeHostShares(hostRoot: string, profile: Profile): Promise<{ sharePaths: Record<string, string>; localPaths: Record<string, string> }> {
  await chmod(hostRoot, 0o755);
  const sharePaths: Record<string, string> = {};
  const localPaths: Record<string, string> = {};
  for (const share of profile.shares) {
    const local = join(hostRoot, 'shares', share.name);
    await mkdir(local, { recursive: true });
    await chmod(local, 0o777);
    localPaths[share.name] = local;
    sharePaths[share.name] = `${MOUNT}/shares/${share.name}`;
  }
  return { sharePaths, localPaths };
}

async function createAccounts(containerId: string, users: readonly TargetUser[]): Promise<void> {
  const result = await execInContainer(containerId, ['sh', '-c', CREATE_ACCOUNTS], { input: users.map((u) => `${u.username} ${u.password}\n`).join('') });
  if (result.code !== 0) throw new Error(`creating the accounts in the container failed: ${(result.stderr || result.stdout).trim()}`);
}

/**
 * Whether the container's smbd (its main process, `hostPid` on this machine) holds the listener
 * on `port`. Read from this machine's /proc when the engine runs here, which costs no exec (an
 * exec per poll takes seconds when the machine is busy); otherwise by the same check run inside
 * the container, where an exit status other than 0 or 1 means it could not run and the probe
 * decides.
 */
async function smbdHoldsListener(containerId: string, hostPid: number, port: number): Promise<boolean> {
  if (isProcessOfContainer(hostPid, containerId)) {
    const held = listenerHeldBy(hostPid, port);
    if (held !== undefined) return held;
  }
  const held = await execInContainer(containerId, ['sh', '-c', LISTENER_HELD_IN_CONTAINER, 'sh', String(port)], { timeoutMs: 10_000 });
  return held.code !== 1;
}

/** Whether process `pid` of this machine runs in the container (its cgroup names the container's id). */
function isProcessOfContainer(pid: number, containerId: string): boolean {
  if (!(pid > 0)) return false;
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(containerId);
  } catch {
    return false;
  }
}

export interface ContainerOptions {
  image?: SambaImageName;
  /** A directory with a Dockerfile to build instead of docker/samba (given DEBIAN_SUITE as a build arg). */
  buildContext?: string;
  logLevel?: number;
  debugEncryption?: boolean;
  startTimeoutMs?: number;
  host?: string;
}

/** Builds and starts one Samba container for a profile, testcontainers-style: configure, then start(). */
export class ContainerSambaServer {
  private options: Required<Omit<ContainerOptions, 'buildContext'>> & Pick<ContainerOptions, 'buildContext'>;

  constructor(private readonly profile: Profile, options: ContainerOptions = {}) {
    this.options = { image: 'samba-4.17', logLevel: 2, debugEncryption: true, startTimeoutMs: 30_000, host: '127.0.0.1', ...options };
  }

  withImage(image: SambaImageName): this {
    this.options.image = image;
    return this;
  }

  withBuildContext(dir: string): this {
    this.options.buildContext = dir;
    return this;
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

  get targetName(): string {
    return `${this.profile.name}@${this.options.image}`;
  }

  async start(): Promise<StartedContainerTarget> {
    const name = this.targetName;
    if (this.profile.domain !== undefined) throw new TargetStartError(name, 'a domain profile runs on the AD DC image: start it with startContainerDomainTarget (container-dc.ts)');
    const imageTag = await this.prepareImage(name);
    const instance = randomBytes(6).toString('hex');
    const hostRoot = await mkdtemp(join(tmpdir(), `${HOST_DIR_PREFIX}${this.profile.name}-`));
    writeHostDirOwner(hostRoot, { pid: process.pid, instance });
    const syncCleanup = () => {
      removeContainersSync(LABELS.instance, instance);
      rmSync(hostRoot, { recursive: true, force: true });
    };
    const unregister = registerCleanup(syncCleanup);
    try {
      const { sharePaths, localPaths } = await makeHostShares(hostRoot, this.profile);
      const users = throwawayUsers(this.profile, instance);
      const { containerId, port, log, stopLogs } = await startOnFreePort(this.options.host, async (port) => {
        await this.writeConfig(hostRoot, sharePaths, port);
        return this.startContainer(name, imageTag, instance, hostRoot, port);
      });
      try {
        const [, serverVersion] = await Promise.all([createAccounts(containerId, users), sambaVersionIn(containerId, imageTag)]);
        unregister();
        return new StartedContainerTarget({
          name, profile: this.profile, image: this.options.image, imageTag, containerId,
          host: this.options.host, port, hostRoot, localPaths, users, log, stopLogs, serverVersion, syncCleanup,
        });
      } catch (e) {
        stopLogs();
        throw asTargetStartError(name, e, log.tail());
      }
    } catch (error) {
      await removeContainersByLabel(LABELS.instance, instance).catch(() => syncCleanup());
      await rm(hostRoot, { recursive: true, force: true });
      unregister();
      throw asTargetStartError(name, error);
    }
  }

  /** The image's tag, once the engine answers, killed runs are swept and the image is built or found. */
  private async prepareImage(name: string): Promise<string> {
    const engine = await containerEngineAvailable();
    if (!engine.ok) throw new TargetStartError(name, engine.reason ?? 'no container engine');
    try {
      await sweepStaleContainers();
      sweepStaleHostDirs();
      return await ensureSambaImage(this.options.image, this.options.buildContext);
    } catch (e) {
      throw asTargetStartError(name, e);
    }
  }

  private async writeConfig(hostRoot: string, sharePaths: Record<string, string>, port: number): Promise<void> {
    await writeFile(join(hostRoot, 'smb.conf'), renderSmbConf(this.profile, {
      port,
      host: this.options.host,
      root: STATE_ROOT,
      sharePaths,
      guestAccount: 'nobody',
      logLevel: this.options.logLevel,
      debugEncryption: this.options.debugEncryption,
    }));
  }

  /** One container on one port: ready when smbd logged its start and accepts connections. */
  private async startContainer(name: string, imageTag: string, instance: string, hostRoot: string, port: number) {
    const { host, startTimeoutMs, logLevel } = this.options;
    const deadline = Date.now() + startTimeoutMs;
    const bindMounts: Array<{ source: string; target: string; mode: 'rw' | 'ro' }> = [{ source: hostRoot, target: MOUNT, mode: 'rw' }];
    // smbd stamps its log in local time; the host's zone keeps logSince() aligned with the host clock.
    if (existsSync('/etc/localtime')) bindMounts.push({ source: '/etc/localtime', target: '/etc/localtime', mode: 'ro' });
    let container;
    try {
      const starting = new GenericContainer(imageTag)
        .withNetworkMode('host')
        .withLabels(targetLabels(name, instance, hostRoot))
        .withBindMounts(bindMounts)
        .withCommand(['smbd', '-s', CONF, '--foreground', '--no-process-group', '--debug-stdout', `-d${logLevel}`])
        .withWaitStrategy(Wait.forLogMessage(/smbd version .* started/))
        .withStartupTimeout(startTimeoutMs)
        .start();
      // The wait strategy has its own limit; this one covers creating and starting the container.
      container = await withTimeout(starting, startTimeoutMs + 10_000, `starting a container for ${name}`);
    } catch (e) {
      const tail = await this.logsOfInstance(instance);
      await removeContainersByLabel(LABELS.instance, instance);
      // Its smbd is gone with it: a listener on the port is another server's, which bound it first.
      if (portHeldByAnother(port)) return new PortTakenError(name, host, port, tail);
      return new TargetStartError(name, `the container did not start: ${(e as Error).message}`, tail);
    }
    const containerId = container.getId();
    const { log, stopLogs } = await followLogs(containerId);
    let foreignSince: number | undefined;
    while (Date.now() < deadline) {
      const state = await withTimeout(docker().getContainer(containerId).inspect(), 10_000, `inspecting container ${containerId.slice(0, 12)}`);
      if (!state.State.Running) {
        stopLogs();
        await removeContainer(containerId);
        if (portHeldByAnother(port)) return new PortTakenError(name, host, port, log.tail());
        return new TargetStartError(name, `smbd ended during startup (exit code ${state.State.ExitCode})`, log.tail());
      }
      const probe = await tcpProbe(host, port, 500);
      // Answered: by this container's smbd, or by another server that took the port first (listener.ts).
      if (probe.ok) {
        if (await smbdHoldsListener(containerId, state.State.Pid, port)) return { containerId, port, log, stopLogs };
        foreignSince ??= Date.now();
        if (Date.now() - foreignSince > FOREIGN_LISTENER_MS) {
          stopLogs();
          await removeContainer(containerId);
          return new PortTakenError(name, host, port, log.tail());
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    stopLogs();
    await removeContainer(containerId);
    return new TargetStartError(name, `smbd did not accept connections on ${host}:${port} within ${startTimeoutMs} ms`, log.tail());
  }

  private async logsOfInstance(instance: string): Promise<string> {
    try {
      const [info] = await docker().listContainers({ all: true, filters: { label: [`${LABELS.instance}=${instance}`] } });
      if (!info) return '';
      const buffer = await docker().getContainer(info.Id).logs({ stdout: true, stderr: true, follow: false, tail: 20 });
      return buffer.toString('utf8').replace(/[\x00-\x08]/g, '');
    } catch {
      return '';
    }
  }
}

/** Streams the container's output into a ServerLog until stopLogs(); `toLog` may rewrite it first (a DC's daemon prefixes). */
export async function followLogs(containerId: string, toLog?: (log: ServerLog) => (chunk: Buffer) => void): Promise<{ log: ServerLog; stopLogs: () => void }> {
  const log = new ServerLog();
  const stream = await withTimeout(
    docker().getContainer(containerId).logs({ follow: true, stdout: true, stderr: true }),
    10_000,
    `following the log of container ${containerId.slice(0, 12)}`,
  );
  const sink = new PassThrough();
  sink.on('data', toLog?.(log) ?? ((d: Buffer) => log.push(d.toString())));
  docker().modem.demuxStream(stream, sink, sink);
  stream.on('error', () => undefined);
  return { log, stopLogs: () => (stream as NodeJS.ReadableStream & { destroy(): void }).destroy() };
}

export interface ContainerTargetInit extends StartedServerInit {
  image: SambaImageName;
  imageTag: string;
  containerId: string;
  hostRoot: string;
  stopLogs: () => void;
}

export class StartedContainerTarget extends StartedSambaServer {
  readonly provider = 'container' as const;
  readonly image: SambaImageName;
  readonly imageTag: string;
  readonly containerId: string;
  /** Host directory bind-mounted into the container (smb.conf and the shares). Removed by stop(). */
  readonly hostRoot: string;

  constructor(private readonly init: ContainerTargetInit) {
    super(init);
    this.image = init.image;
    this.imageTag = init.imageTag;
    this.containerId = init.containerId;
    this.hostRoot = init.hostRoot;
  }

  /** Runs a command in the server's container (as root), e.g. to inspect Samba's own state. */
  exec(cmd: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
    return execInContainer(this.containerId, cmd, options);
  }

  async serverSessions(): Promise<ServerSession[]> {
    const result = await this.exec(['smbstatus', '-s', CONF, '--json'], { timeoutMs: 10_000 });
    if (result.code !== 0) throw new Error(`smbstatus failed for ${this.name}: ${(result.stderr || result.stdout).trim()}`);
    return parseSmbstatusJson(result.stdout);
  }

  protected async release(): Promise<void> {
    this.init.stopLogs();
    await removeContainer(this.containerId);
    await rm(this.hostRoot, { recursive: true, force: true });
  }
}

/** Convenience: start a Samba container target for a profile. */
export function startContainerTarget(profile: Profile, options?: ContainerOptions): Promise<StartedContainerTarget> {
  return new ContainerSambaServer(profile, options).start();
}
