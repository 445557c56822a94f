import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { holdSmbclientSession, kerberosInvocation, type SmbclientInvocation } from '../clients/adapters/smbclient-cli.js';
import type { ServerSession, StartedTarget } from '../servers/target.js';

/** What the server reported for one reference-client session on one share. */
export interface ShareObservation {
  share: string;
  dialect: string;
  /** Cipher the server uses on that tree ("" = not encrypted). */
  encryption: string;
  /** Signing algorithm of the session ("" = none). */
  signing: string;
  /** Cipher of the session as a whole ("" = the session does not encrypt; a share may still). */
  sessionEncryption: string;
}

export interface TargetVerification {
  target: string;
  ok: boolean;
  observations: ShareObservation[];
  /** Each names the share and what differed from the profile's declaration. */
  problems: string[];
}

const POLL_MS = 20;

/**
 * Connects Samba's smbclient to a share and asks the server (smbstatus) what the live session
 * negotiated. The client's own view is not trusted: this is the server's.
 */
export async function observeShare(target: StartedTarget, share: string, extra: Partial<SmbclientInvocation> = {}, timeoutMs = 15_000): Promise<ShareObservation> {
  if (!target.serverSessions) throw new Error(`${target.name}: the ${target.provider} provider cannot report server sessions`);
  const user = target.user();
  // In a realm, smbclient logs on with Kerberos (a domain may refuse NTLM); its krb5.conf lives in a directory of this call's own.
  const scratch = target.kerberos === undefined ? undefined : mkdtempSync(join(tmpdir(), 'smb-interop-verify-'));
  const logon = scratch === undefined ? {} : kerberosInvocation(target.kerberos!, user.username, 'required', scratch);
  const held = holdSmbclientSession({
    host: target.host, port: target.port, share, username: user.username, password: user.password, commands: 'ls', ...logon, ...extra,
  });
  let failed: string | undefined;
  void held.exited.then((r) => (failed = `smbclient exited: ${r.status ?? `code ${r.code}`} ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`));
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (failed) throw new Error(`${target.name} share ${share}: ${failed}`);
      const sessions: ServerSession[] = await target.serverSessions();
      for (const session of sessions) {
        const tree = session.trees.find((t) => t.share.toLowerCase() === share.toLowerCase());
        if (tree) {
          const encryption = tree.encryption === '???' ? session.encryption : tree.encryption;
          return { share, dialect: session.dialect, encryption, signing: session.signing, sessionEncryption: session.encryption };
        }
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    throw new Error(`${target.name} share ${share}: no session appeared on the server within ${timeoutMs} ms`);
  } finally {
    await held.close();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  }
}

/** Checks that a started target negotiates what its profile declares, on each share. */
export async function verifyTarget(target: StartedTarget): Promise<TargetVerification> {
  const { profile } = target;
  const expect = profile.expect;
  const problems: string[] = [];
  const observations: ShareObservation[] = [];
  for (const share of profile.shares) {
    let seen: ShareObservation;
    try {
      seen = await observeShare(target, share.name);
    } catch (e) {
      problems.push((e as Error).message);
      continue;
    }
    observations.push(seen);
    if (seen.dialect !== expect.dialect) problems.push(`share ${share.name}: dialect ${seen.dialect}, declared ${expect.dialect}`);
    const shareEncrypted = expect.encryption || expect.encryptedShares.includes(share.name);
    if (shareEncrypted && !seen.encryption) problems.push(`share ${share.name}: not encrypted, declared encrypted`);
    if (!shareEncrypted && seen.encryption) problems.push(`share ${share.name}: encrypted with ${seen.encryption}, declared not encrypted`);
    // smbstatus 4.17 prints "???" for a tree's AES-256 cipher; the session line is authoritative there.
    if (shareEncrypted && expect.cipher && seen.encryption && seen.encryption !== '???' && seen.encryption !== expect.cipher) {
      problems.push(`share ${share.name}: cipher ${seen.encryption}, declared ${expect.cipher}`);
    }
    if (expect.signingAlgorithm && seen.signing !== expect.signingAlgorithm) {
      problems.push(`share ${share.name}: signing ${seen.signing || 'none'}, declared ${expect.signingAlgorithm}`);
    }
  }
  return { target: target.name, ok: problems.length === 0, observations, problems };
}
