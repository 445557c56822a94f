/**
 * The Unix accounts of one native target live in a passwd and a group file of its own, which smbd
 * and Samba's tools (smbpasswd, smbstatus) read through nss_wrapper (Debian's libnss-wrapper,
 * preloaded). Nothing machine-wide changes: two runs on one machine never race each other on
 * /etc/passwd, and smbd never sees an account vanish under it (getpwuid failures, NO_MEMORY on
 * TREE_CONNECT). smbd still runs as root, which it needs to switch to an account's uid, so files
 * written through a share are owned by the uid of the private passwd.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';

export const NSS_WRAPPER_PACKAGE = 'libnss-wrapper';
const LIBRARY = 'libnss_wrapper.so';
const LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'];

/** Account ids are drawn from far above any distribution's range (useradd stops at 60000). */
export const PRIVATE_ID_MIN = 1_000_000;
export const PRIVATE_ID_MAX = 1_000_000_000;

/** The system accounts smbd itself looks up: root (it runs as root) and the guest account. */
const SYSTEM_PASSWD = ['root:x:0:0:root:/root:/bin/sh', 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin'];
const SYSTEM_GROUP = ['root:x:0:', 'nogroup:x:65534:'];

/** The path of libnss_wrapper.so (SMB_INTEROP_NSS_WRAPPER overrides), or undefined when it is not installed. */
export function findNssWrapper(): string | undefined {
  const override = process.env.SMB_INTEROP_NSS_WRAPPER;
  if (override) return existsSync(override) ? override : undefined;
  return LIBRARY_DIRS.map((dir) => join(dir, LIBRARY)).find((path) => existsSync(path));
}

export interface PrivateAccount {
  username: string;
  uid: number;
  gid: number;
}

/**
 * One account per name, all in one group of the target's (gid = base, uid = base + 1 + index), as
 * accounts made with `useradd -N` share the users group: a directory one user made is writable by
 * the target's other users, which scenarios with two users rely on.
 */
export function privateAccounts(usernames: readonly string[], base: number): PrivateAccount[] {
  if (!Number.isInteger(base) || base < PRIVATE_ID_MIN || base + usernames.length >= PRIVATE_ID_MAX) {
    throw new RangeError(`private account ids must lie in [${PRIVATE_ID_MIN}, ${PRIVATE_ID_MAX}); base ${base} with ${usernames.length} accounts does not`);
  }
  return usernames.map((username, i) => {
    if (!/^[a-z_][a-z0-9_-]*$/i.test(username)) throw new Error(`"${username}" cannot be a Unix account name`);
    return { username, uid: base + 1 + i, gid: base };
  });
}

/** The name of a target's group in its private group file. */
export const TARGET_GROUP = 'smb-interop';

/** passwd(5) text: the system accounts smbd needs, then the target's accounts. */
export function renderPasswd(accounts: readonly PrivateAccount[]): string {
  const lines = accounts.map((a) => `${a.username}:x:${a.uid}:${a.gid}:smb-interop:/nonexistent:/usr/sbin/nologin`);
  return [...SYSTEM_PASSWD, ...lines].join('\n') + '\n';
}

/** group(5) text: the system groups, then the target's one group with its accounts as members. */
export function renderGroup(accounts: readonly PrivateAccount[]): string {
  const gid = accounts[0]?.gid;
  const lines = gid === undefined ? [] : [`${TARGET_GROUP}:x:${gid}:${accounts.map((a) => a.username).join(',')}`];
  return [...SYSTEM_GROUP, ...lines].join('\n') + '\n';
}

/** A target's private account database: the files, and the environment that makes a process read them. */
export interface AccountDatabase {
  accounts: PrivateAccount[];
  passwdPath: string;
  groupPath: string;
  /** process.env plus the preload and the two file paths: for smbd and every Samba tool run for the target. */
  env: NodeJS.ProcessEnv;
}

/** Writes `passwd` and `group` into `dir` for these account names, with ids from a random base in the private range. */
export async function writeAccountDatabase(dir: string, usernames: readonly string[], library: string): Promise<AccountDatabase> {
  const accounts = privateAccounts(usernames, randomInt(PRIVATE_ID_MIN, PRIVATE_ID_MAX - usernames.length - 1));
  const passwdPath = join(dir, 'passwd');
  const groupPath = join(dir, 'group');
  // smbd's helpers switch to the accounts before some lookups: the files must be world-readable.
  await writeFile(passwdPath, renderPasswd(accounts), { mode: 0o644 });
  await writeFile(groupPath, renderGroup(accounts), { mode: 0o644 });
  const preload = [library, process.env.LD_PRELOAD].filter(Boolean).join(':');
  // _NO_WINBINDD: a standalone smbd maps its users through its own files, never the machine's
  // winbindd; an AD DC running on the machine (the domain target) owns that socket and would
  // map these users to ids the private files do not hold (STATUS_LOGON_FAILURE at logon).
  const env = { ...process.env, LD_PRELOAD: preload, NSS_WRAPPER_PASSWD: passwdPath, NSS_WRAPPER_GROUP: groupPath, _NO_WINBINDD: '1' };
  return { accounts, passwdPath, groupPath, env };
}
