import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Profile } from '../catalog/schema.js';
import type { TargetUser } from '../target.js';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with a time limit; never rejects for a non-zero exit (the caller decides). */
export function run(command: string, args: string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** A random password for a throwaway test account; never written to logs or reports. */
export function randomPassword(): string {
  return `${randomBytes(15).toString('base64url')}aA1!`;
}

/** A Unix account name unique to one started target: `si<6 hex>-<logical>`. */
export function accountName(instance: string, logical: string): string {
  return `si${instance}-${logical}`.slice(0, 32);
}

/** A profile's users for one started target: account names unique to `instance`, random passwords. */
export function throwawayUsers(profile: Profile, instance: string): TargetUser[] {
  return profile.users.map((user) => ({ name: user.name, username: accountName(instance, user.name), password: randomPassword(), domain: '' }));
}

/** Adds the account to smbd's passdb; `env` makes smbpasswd find it (the target's private account database). */
export async function addSambaUser(smbConf: string, name: string, password: string, env?: NodeJS.ProcessEnv): Promise<void> {
  const result = await run('smbpasswd', ['-c', smbConf, '-s', '-a', name], { input: `${password}\n${password}\n`, ...(env ? { env } : {}) });
  if (result.code !== 0) {
    // smbpasswd adds users for root only; others get its usage text.
    if (process.getuid?.() !== 0) throw new Error(`smbpasswd -a ${name} failed: adding Samba users (and running smbd, which acts as them) needs root`);
    throw new Error(`smbpasswd -a ${name} failed: ${(result.stderr || result.stdout).trim()}`);
  }
}
