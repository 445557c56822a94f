import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, findProfile, loadCatalog, type Profile } from '../servers/catalog/index.js';
import { TargetStartError, startNativeTarget } from '../servers/samba/native.js';
import { verifyTarget, type TargetVerification } from '../harness/verify-target.js';
import { describeProfile, pad } from './format.js';

const USAGE = `smb-interop: interop test harness and compatibility matrix for SMB2/SMB3

Usage: smb-interop <command> [options]

Commands:
  targets            list the server profiles (built-in and from the config file)
  run                start every selected native target, verify with Samba's smbclient that it
                     negotiates what its profile declares (read back from the server), stop it
  serve PROFILE      start one native target and keep it running until Ctrl-C; prints where it
                     listens and the file holding its throwaway credentials
Options:
  --json             (serve) print the connection details as one JSON line
  --config FILE      config file (default: smb-interop.config.{ts,mts,js,mjs,json} in the current directory)
  --targets A,B      only these profiles (run)
  -h, --help         this help
`;

async function commandTargets(profiles: Profile[]): Promise<number> {
  for (const p of profiles) process.stdout.write(`${describeProfile(p)}\n`);
  return 0;
}

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

async function commandRun(profiles: Profile[]): Promise<number> {
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

async function commandServe(profiles: Profile[], name: string | undefined, json: boolean): Promise<number> {
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

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { config: { type: 'string' }, targets: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    process.stderr.write(`smb-interop: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [command] = parsed.positionals;
  if (parsed.values.help || !command) {
    process.stdout.write(USAGE);
    return command || parsed.values.help ? 0 : 2;
  }
  try {
    const catalog = await loadCatalog(parsed.values.config ? { configFile: parsed.values.config } : {});
    let profiles = catalog.profiles;
    if (parsed.values.targets) {
      const wanted = parsed.values.targets.split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = wanted.filter((w) => !profiles.some((p) => p.name === w));
      if (unknown.length > 0) {
        process.stderr.write(`smb-interop: unknown target ${unknown.join(', ')}; known: ${profiles.map((p) => p.name).join(', ')}\n`);
        return 2;
      }
      profiles = profiles.filter((p) => wanted.includes(p.name));
    }
    switch (command) {
      case 'targets':
        return await commandTargets(profiles);
      case 'run':
        return await commandRun(profiles);
      case 'serve':
        return await commandServe(profiles, parsed.positionals[1], parsed.values.json === true);
      default:
        process.stderr.write(`smb-interop: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`smb-interop: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
