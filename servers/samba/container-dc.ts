/**
 * A domain profile on the container provider: Samba's AD DC from an image of a chosen Debian
 * suite (docker/samba-ad-dc, realm INTEROP.TEST provisioned at build time), with host networking
 * on a loopback address of its own, claimed on this machine's `lo` for the target's lifetime as for
 * a native DC. Its winbindd lives in the container, so container DCs need no machine-wide lock:
 * several run beside each other and beside a native one.
 *
 * The shares are a host directory bind-mounted at /smb-interop (`localPath` works), smb.conf
 * lives there too; the database stays in the container and goes with it. Users are created by
 * exec with random passwords on stdin.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import './container-signals.js'; // before testcontainers: see there
import { GenericContainer, Wait } from 'testcontainers';
import type { Profile } from '../catalog/schema.js';
import type { SambaImageName } from '../catalog/targets.js';
import { registerCleanup } from '../cleanup.js';
import { asTargetStartError, TargetStartError } from '../errors.js';
import { tcpProbe } from '../ports.js';
import type { TargetKerberos } from '../target.js';
import { randomPassword } from './accounts.js';
import { HOST_NAME, renderDcConf, unprefixedLines } from './ad-dc.js';
import { claimLoopbackAddress, releaseLoopbackAddress } from './ad-dc-workspace.js';
import {
  containerEngineAvailable, execInContainer, HOST_DIR_PREFIX, LABELS, removeContainersByLabel, targetLabels,
  removeContainersSync, sweepStaleContainers, withTimeout,
} from './container-engine.js';
import { ensureSambaImage } from './container-images.js';
import { followLogs, StartedContainerTarget, sweepStaleHostDirs, writeHostDirOwner, type ContainerTargetInit } from './container.js';

const MOUNT = '/smb-interop';
const CONF = `${MOUNT}/smb.conf`;
/** The provisioned DC inside the image (docker/samba-ad-dc/Dockerfile). */
const DC_ROOT = '/var/lib/smb-interop-dc';
const SAM_LDB = `${DC_ROOT}/db/private/sam.ldb`;
/** The realm the image was provisioned with. */
export const CONTAINER_REALM = 'INTEROP.TEST';
const SMB_PORT = 445;
const KDC_PORT = 88;

export interface ContainerDcOptions {
  image?: SambaImageName;
  logLevel?: number;
  startTimeoutMs?: number;
}

// Reads "account password" lines on stdin: the passwords never appear in an argv or an environment.
const CREATE_USERS = `set -e
while read -r account password; do
  printf '%s\\n%s\\n' "$password" "$password" | samba-tool user create "$account" -H ${SAM_LDB} -s ${CONF} >/dev/null 2>&1 \\
    || { echo "samba-tool user create $account failed" >&2; exit 1; }
done`;

interface ContainerDcInit extends ContainerTargetInit {
  address: string;
  kerberos: TargetKerberos;
}

/** A container target that is a DC: its realm for Kerberos, and a loopback address to give back when it stops. */
export class StartedContainerDcTarget extends StartedContainerTarget {
  readonly kerberos: TargetKerberos;
  private readonly address: string;

  constructor(init: ContainerDcInit) {
    super(init);
    this.kerberos = init.kerberos;
    this.address = init.address;
  }

  protected override async release(): Promise<void> {
    await super.release();
    releaseLoopbackAddress(this.address);
  }
}

async function waitReady(name: string, containerId: string, address: string, deadline: number, tail: () => string): Promise<void> {
  for (;;) {
    const kdc = await tcpProbe(address, KDC_PORT, 500);
    const smb = kdc.ok ? await tcpProbe(address, SMB_PORT, 500) : kdc;
    if (kdc.ok && smb.ok) return;
    if (Date.now() > deadline) throw new TargetStartError(name, `the container's KDC and SMB on ${address} did not answer in time (container ${containerId.slice(0, 12)})`, tail());
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts a domain profile's DC in a container of `image`. */
export async function startContainerDomainTarget(profile: Profile, options: ContainerDcOptions = {}): Promise<StartedContainerDcTarget> {
  const image = options.image ?? 'samba-4.22';
  const name = `${profile.name}@${image}`;
  const realm = profile.domain?.realm ?? CONTAINER_REALM;
  if (realm !== CONTAINER_REALM) throw new TargetStartError(name, `the container DC's image is provisioned for realm ${CONTAINER_REALM}, the profile names ${realm}: use the native provider for another realm`);
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const engine = await containerEngineAvailable();
  if (!engine.ok) throw new TargetStartError(name, engine.reason ?? 'no container engine');
  let imageTag: string;
  try {
    await sweepStaleContainers();
    sweepStaleHostDirs();
    imageTag = await ensureSambaImage(image, undefined, 'samba-ad-dc');
  } catch (e) {
    throw asTargetStartError(name, e);
  }
  const deadline = Date.now() + startTimeoutMs;
  const instance = randomBytes(6).toString('hex');
  const hostRoot = await mkdtemp(join(tmpdir(), `${HOST_DIR_PREFIX}${profile.name}-`));
  const owner = { pid: process.pid, instance, address: undefined as string | undefined };
  writeHostDirOwner(hostRoot, owner);
  const syncCleanup = (): void => {
    removeContainersSync(LABELS.instance, instance);
    releaseLoopbackAddress(owner.address);
    rmSync(hostRoot, { recursive: true, force: true });
  };
  const unregister = registerCleanup(syncCleanup);
  let stopLogs: (() => void) | undefined;
  try {
    const address = claimLoopbackAddress();
    owner.address = address;
    writeHostDirOwner(hostRoot, owner);
    await chmod(hostRoot, 0o755);
    const localPaths: Record<string, string> = {};
    for (const share of profile.shares) {
      localPaths[share.name] = join(hostRoot, 'shares', share.name);
      await mkdir(localPaths[share.name]!, { recursive: true });
      await chmod(localPaths[share.name]!, 0o777);
    }
    await writeFile(join(hostRoot, 'smb.conf'), renderDcConf(DC_ROOT, realm, address, {
      profile, shares: profile.shares, logLevel: options.logLevel ?? 1, sharesDir: `${MOUNT}/shares`,
    }));
    let container;
    try {
      container = await withTimeout(
        new GenericContainer(imageTag)
          .withNetworkMode('host')
          .withLabels(targetLabels(name, instance, hostRoot))
          .withBindMounts([{ source: hostRoot, target: MOUNT, mode: 'rw' }])
          .withCommand(['samba', '-i', '-s', CONF, '--debug-stdout'])
          .withWaitStrategy(Wait.forLogMessage(/samba version .* started/))
          .withStartupTimeout(startTimeoutMs)
          .start(),
        startTimeoutMs + 10_000,
        `starting a container for ${name}`,
      );
    } catch (e) {
      throw new TargetStartError(name, `the container did not start: ${(e as Error).message}`);
    }
    const containerId = container.getId();
    const followed = await followLogs(containerId, (log) => unprefixedLines((line) => log.push(`${line}\n`)));
    stopLogs = followed.stopLogs;
    const log = followed.log;
    await waitReady(name, containerId, address, deadline, () => log.tail(20));
    const users = profile.users.map((u) => ({ name: u.name, username: u.name, password: randomPassword(), domain: realm.split('.')[0]! }));
    const created = await execInContainer(containerId, ['sh', '-c', CREATE_USERS], { input: users.map((u) => `${u.username} ${u.password}\n`).join(''), timeoutMs: 120_000 });
    if (created.code !== 0) throw new TargetStartError(name, `creating the domain's users failed: ${(created.stderr || created.stdout).trim()}`, log.tail(20));
    const version = await execInContainer(containerId, ['samba', '--version'], { timeoutMs: 10_000 });
    unregister();
    return new StartedContainerDcTarget({
      name, profile, image, imageTag, containerId, hostRoot, address, host: address, port: SMB_PORT, users, log, localPaths, stopLogs,
      serverVersion: `Samba ${version.stdout.replace(/^Version\s+/i, '').trim() || 'unknown'}`,
      kerberos: { realm, kdc: `${address}:${KDC_PORT}`, serviceHost: `${HOST_NAME.toLowerCase()}.${realm.toLowerCase()}`, ntlm: profile.domain?.ntlm ?? true },
      syncCleanup,
    });
  } catch (error) {
    stopLogs?.();
    await removeContainersByLabel(LABELS.instance, instance).catch(() => undefined);
    syncCleanup();
    unregister();
    throw asTargetStartError(name, error);
  }
}
