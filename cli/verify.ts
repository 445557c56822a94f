/**
 * `verify` and `serve`: start native targets directly (no Playwright), to check that each
 * negotiates what its profile declares, or to keep one running for manual poking.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findProfile, type Profile } from '../servers/catalog/index.js';
import { TargetStartError, startNativeTarget } from '../servers/samba/native.js';
import { verifyTarget, type TargetVerification } from '../harness/verify-target.js';
import { pad } from './format.js';

async function verifyOne(profile: Profile): Promise<TargetVerification & { startMs: number }> {
  const t0 = Date.now();
  let target;
  try {
    target = await startNativeTarget(profile);
  } catch (e) {
    const message = e instanceof TargetStartError ? e.message : String(e);
    return { target: `${profile.name}@native`, ok: false, observations: [], problems: [message], startMs: Date.now() - t0 };
  }
  const startMs = Date.now() - t0;
  try {
    return { ...(await verifyTarget(target)), startMs };
  } finally {
    await target.stop();
  }
}

export async function commandVerify(profiles: Profile[]): Promise<number> {
  process.stdout.write(`Starting ${profiles.length} native Samba targets, verifying each with smbclient + smbstatus, stopping them.\n\n`);
  const results = await Promise.all(profiles.map((p) => verifyOne(p)));
  process.stdout.write(`${pad('target', 32)}${pad('start', 8)}${pad('share', 10)}${pad('dialect', 9)}${pad('encryption', 13)}${pad('signing', 14)}result\n`);
  for (const r of results) {
    const rows = r.observations.length > 0 ? r.observations : [undefined];
    rows.forEach((o, i) => {
      const verdict = r.ok ? 'ok' : 'MISMATCH';
      process.stdout.write(
        `${pad(i === 0 ? r.target : '', 32)}${pad(i === 0 ? `${r.startMs}ms` : '', 8)}${pad(o?.share ?? '-', 10)}` +
          `${pad(o?.dialect ?? '-', 9)}${pad(o?.encryption || 'none', 13)}${pad(o?.signing || 'none', 14)}${i === 0 ? verdict : ''}\n`,
      );
    });
    for (const problem of r.problems) process.stdout.write(`    ! ${problem}\n`);
  }
  const failed = results.filter((r) => !r.ok).length;
  process.stdout.write(`\n${results.length - failed} of ${results.length} targets negotiated what they declare; all were stopped.\n`);
  return failed === 0 ? 0 : 1;
}

export async function commandServe(profiles: Profile[], name: string | undefined, json: boolean): Promise<number> {
  let profile: Profile;
  try {
    profile = findProfile(profiles, name ?? '');
  } catch (e) {
    process.stderr.write(`smb-interop serve: ${name ? (e as Error).message : `name a profile; known: ${profiles.map((p) => p.name).join(', ')}`}\n`);
    return 2;
  }
  const target = await startNativeTarget(profile);
  const credentials = join(target.root, 'credentials.json');
  await writeFile(credentials, JSON.stringify(target.users, null, 2), { mode: 0o600 });
  const details = {
    target: target.name, host: target.host, port: target.port, pid: target.pid, root: target.root,
    shares: target.shares.map((s) => ({ name: s.name, localPath: s.localPath })),
    accounts: target.users.map((u) => u.username), credentials, serverVersion: target.serverVersion,
  };
  if (json) process.stdout.write(`${JSON.stringify(details)}\n`);
  else {
    process.stdout.write(`${target.name} (${target.serverVersion}) listening on ${target.host}:${target.port}\n`);
    for (const s of details.shares) process.stdout.write(`  share ${s.name} -> ${s.localPath}\n`);
    process.stdout.write(`  accounts ${details.accounts.join(', ')}; passwords in ${credentials}\n  Ctrl-C stops it and removes everything.\n`);
  }
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await target.stop();
  return 0;
}
