/** Pieces every provider's StartedTarget shares: the share list, share and user lookup. */
import type { Profile } from './catalog/schema.js';
import type { StartedShare, TargetUser } from './target.js';

/** The shares a profile declares as a client sees them on `host`; `localPaths` adds the server-side directories. */
export function startedShares(profile: Profile, host: string, localPaths: Record<string, string> = {}): StartedShare[] {
  return profile.shares.map((s) => {
    const share: StartedShare = {
      name: s.name,
      unc: `\\\\${host}\\${s.name}`,
      encrypted: s.encryption === 'required' || s.encryption === 'desired',
      guestOk: s.guestOk,
    };
    const localPath = localPaths[s.name];
    if (localPath !== undefined) share.localPath = localPath;
    return share;
  });
}

/** Share lookup by name (case-insensitive, as SMB is); the error lists the target's shares. */
export function findShare(target: { name: string; shares: readonly StartedShare[] }, name: string): StartedShare {
  const share = target.shares.find((s) => s.name.toLowerCase() === name.toLowerCase());
  if (!share) throw new Error(`${target.name} has no share "${name}" (shares: ${target.shares.map((s) => s.name).join(', ')})`);
  return share;
}

/** The first user, or the one with that logical name; the error lists the target's users. */
export function findUser(target: { name: string; users: readonly TargetUser[] }, name?: string): TargetUser {
  const user = name === undefined ? target.users[0] : target.users.find((u) => u.name === name);
  if (!user) throw new Error(`${target.name} has no user "${name}" (users: ${target.users.map((u) => u.name).join(', ')})`);
  return user;
}
