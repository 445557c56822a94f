/**
 * What an AD DC target holds on this machine besides its processes: a loopback address of its own
 * (Samba binds only to addresses an interface holds), a private directory copied from a
 * provisioned template, and an owner record so that a killed run's DC, address and directory are
 * swept at the next start.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killProcessGroupSync, processAlive, waitGoneSync } from '../processes.js';

export const AD_DC_DIR_PREFIX = 'smb-interop-addc-';
const OWNER_FILE = 'owner.json';
/** Samba's daemons write these into the pid directory; each leads its own process group. */
const PID_FILES = ['samba.pid', 'smbd.pid', 'winbindd.pid'];

export interface AdDcOwner {
  pid: number;
  address?: string;
  sambaPid?: number;
}

export function writeOwner(root: string, owner: AdDcOwner): void {
  writeFileSync(join(root, OWNER_FILE), JSON.stringify(owner));
}

/** The loopback addresses `lo` holds now, besides 127.0.0.1. */
function loopbackAddresses(): Set<string> {
  const out = execFileSync('ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8', timeout: 5000 });
  return new Set([...out.matchAll(/inet (127\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]!));
}

/** Adds a free 127.0.0.x (x in 100..249) to `lo` and returns it. Needs root (CAP_NET_ADMIN). */
export function claimLoopbackAddress(): string {
  const taken = loopbackAddresses();
  const start = 100 + Math.floor(Math.random() * 150);
  for (let i = 0; i < 150; i++) {
    const address = `127.0.0.${100 + ((start - 100 + i) % 150)}`;
    if (taken.has(address)) continue;
    try {
      execFileSync('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo'], { stdio: 'pipe', timeout: 5000 });
      return address;
    } catch (error) {
      const text = String((error as { stderr?: Buffer }).stderr ?? error);
      if (/File exists/.test(text)) continue; // another start took it between the list and the add
      throw new Error(`cannot add ${address} to lo (the AD DC target needs root for its own loopback address): ${text.trim()}`);
    }
  }
  throw new Error('no free loopback address in 127.0.0.100-249');
}

export function releaseLoopbackAddress(address: string | undefined): void {
  if (address === undefined) return;
  try {
    execFileSync('ip', ['addr', 'del', `${address}/32`, 'dev', 'lo'], { stdio: 'pipe', timeout: 5000 });
  } catch {
    // Already gone.
  }
}

/** Ends the DC's process groups: samba's own, and smbd's and winbindd's, which Samba starts in groups of their own. */
export function killDcProcesses(root: string, sambaPid: number | undefined): void {
  const pids = new Set<number>();
  if (sambaPid !== undefined) pids.add(sambaPid);
  for (const file of PID_FILES) {
    try {
      const pid = Number(readFileSync(join(root, 'run', file), 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0) pids.add(pid);
    } catch {
      // Not written (yet).
    }
  }
  for (const pid of pids) killProcessGroupSync(pid);
  for (const pid of pids) waitGoneSync(pid);
}

/** Everything one DC made: processes, address, directory. Synchronous: usable at exit. */
export function removeDcSync(root: string, owner: AdDcOwner): void {
  killDcProcesses(root, owner.sambaPid);
  releaseLoopbackAddress(owner.address);
  rmSync(root, { recursive: true, force: true });
}

/** Removes what a killed earlier run left behind: DCs whose owner process no longer exists. */
export function sweepStaleAdDcs(base: string): number {
  let swept = 0;
  if (!existsSync(base)) return 0;
  for (const entry of readdirSync(base)) {
    if (!entry.startsWith(AD_DC_DIR_PREFIX) || entry.includes('template')) continue;
    const dir = join(base, entry);
    let owner: AdDcOwner;
    try {
      owner = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as AdDcOwner;
    } catch {
      continue;
    }
    if (processAlive(owner.pid)) continue;
    removeDcSync(dir, owner);
    swept++;
  }
  return swept;
}
