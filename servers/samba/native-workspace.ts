/**
 * A native target's private directory (configuration, state, sockets, accounts, shares) under a
 * parent directory, with an owner record naming the process that made it and its smbd, so that
 * what a killed run left behind is swept at the next start.
 */
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Profile } from '../catalog/schema.js';
import { registerCleanup } from '../cleanup.js';
import { killProcessGroupSync, processAlive, waitGoneSync } from '../processes.js';
import { removeOrphanedLegacyAccountsOnce } from './legacy-accounts.js';

const DIR_PREFIX = 'smb-interop-native-';
const OWNER_FILE = 'owner.json';
/** The directories smb.conf points Samba's state at (smb-conf.ts). */
const STATE_DIRS = ['private', 'lock', 'state', 'cache', 'pid', 'ncalrpc', 'usershares', 'shares'];

interface OwnerRecord {
  pid: number;
  smbdPid?: number;
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
    if (processAlive(owner.pid)) continue;
    killProcessGroupSync(owner.smbdPid);
    waitGoneSync(owner.smbdPid);
    rmSync(dir, { recursive: true, force: true });
    swept++;
  }
  return swept;
}

/** Why `parent` cannot hold targets, or undefined when it can: smbd serves the shares as the target's accounts, which must reach them. */
export function unusableParentDir(parent: string): string | undefined {
  let mode: number;
  try {
    mode = statSync(parent).mode;
  } catch (error) {
    return `parentDir ${parent}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
  if ((mode & 0o001) !== 0) return undefined;
  return `parentDir ${parent} (mode ${(mode & 0o7777).toString(8)}) is not searchable by other users, so the target's accounts could not reach their shares; use a directory like the temp dir (mode 1777) or chmod o+x`;
}

export class NativeWorkspace {
  readonly confPath: string;
  private readonly owner: OwnerRecord = { pid: process.pid };
  private readonly unregister: () => void;

  private constructor(readonly root: string) {
    this.confPath = join(root, 'smb.conf');
    this.writeOwner();
    this.unregister = registerCleanup(this.removeSync);
  }

  /** Makes the directory and its state directories; it is removed at exit unless handed over (handOver) or discarded first. */
  static async create(parent: string, profileName: string): Promise<NativeWorkspace> {
    const workspace = new NativeWorkspace(await mkdtemp(join(parent, `${DIR_PREFIX}${profileName}-`)));
    try {
      for (const sub of STATE_DIRS) await mkdir(join(workspace.root, sub), { recursive: true });
      // smbd checks that the root is traversable by the accounts it switches to.
      await chmod(workspace.root, 0o755);
    } catch (error) {
      workspace.discard();
      throw error;
    }
    return workspace;
  }

  /** One directory per share, writable by every account of the target. */
  async makeShareDirectories(profile: Profile): Promise<Record<string, string>> {
    const paths: Record<string, string> = {};
    for (const share of profile.shares) {
      const path = join(this.root, 'shares', share.name);
      await mkdir(path);
      await chmod(path, 0o777);
      paths[share.name] = path;
    }
    return paths;
  }

  /** Records the smbd now running for it, so that a sweep after a SIGKILL ends its process group. */
  recordSmbd(pid: number | undefined): void {
    if (pid === undefined) return;
    this.owner.smbdPid = pid;
    this.writeOwner();
  }

  /** Ends the recorded smbd's process group and removes the directory. Synchronous: usable at exit. */
  readonly removeSync = (): void => {
    killProcessGroupSync(this.owner.smbdPid);
    rmSync(this.root, { recursive: true, force: true });
  };

  /** removeSync, for a start that failed. */
  discard(): void {
    this.removeSync();
    this.unregister();
  }

  /** The started target takes over the exit-time cleanup (it registers removeSync itself). */
  handOver(): void {
    this.unregister();
  }

  private writeOwner(): void {
    writeFileSync(join(this.root, OWNER_FILE), JSON.stringify(this.owner));
  }
}
