/**
 * Earlier versions of the native provider created a real Unix account per target user (useradd,
 * GECOS "smb-interop pid N"); a killed run left them in /etc/passwd. They are removed once per
 * process, when the process that made them no longer exists. No new ones are made: accounts now
 * live in each target's private passwd file (private-accounts.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { processAlive } from '../processes.js';

/** `si<6 hex>-<logical name>`, the names those versions gave, with the GECOS marker and its process id. */
const LEGACY_ENTRY = /^(si[0-9a-f]{6}-[^:]*):[^:]*:\d+:\d+:smb-interop pid (\d+):/;

/** The legacy accounts in a passwd(5) text whose owner process is gone. */
export function orphanedLegacyAccounts(passwd: string, alive: (pid: number) => boolean = processAlive): string[] {
  const names: string[] = [];
  for (const line of passwd.split('\n')) {
    const match = LEGACY_ENTRY.exec(line);
    if (match && !alive(Number(match[2]))) names.push(match[1]!);
  }
  return names;
}

const LOCK_BUSY = 10; // userdel: "cannot lock /etc/passwd"

/** Deletes the orphaned legacy accounts (needs root; without it, or without any, does nothing). Returns the names removed. */
export function removeOrphanedLegacyAccounts(passwdPath = '/etc/passwd'): string[] {
  if (process.getuid?.() !== 0) return [];
  let passwd: string;
  try {
    passwd = readFileSync(passwdPath, 'utf8');
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of orphanedLegacyAccounts(passwd)) {
    for (let attempt = 0; attempt < 20; attempt++) {
      const result = spawnSync('userdel', [name], { stdio: 'ignore', timeout: 10_000 });
      if (result.status === 0) removed.push(name);
      if (result.status !== LOCK_BUSY) break;
      spawnSync('sleep', ['0.05']);
    }
  }
  return removed;
}

let swept = false;

/** removeOrphanedLegacyAccounts, the first time only. */
export function removeOrphanedLegacyAccountsOnce(): void {
  if (swept) return;
  swept = true;
  removeOrphanedLegacyAccounts();
}
