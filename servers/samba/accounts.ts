import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Marker in the GECOS field of every account the harness creates, with the owning process id. */
export const ACCOUNT_COMMENT_PREFIX = 'smb-interop';

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

const LOCK_BUSY = 10; // useradd/userdel: "cannot lock /etc/passwd"

async function withLockRetry(command: string, args: string[]): Promise<CommandResult> {
  let result: CommandResult = { code: null, stdout: '', stderr: '' };
  for (let attempt = 0; attempt < 40; attempt++) {
    result = await run(command, args);
    if (result.code !== LOCK_BUSY) return result;
    await new Promise((r) => setTimeout(r, 25 + Math.random() * 50));
  }
  return result;
}

export async function createUnixAccount(name: string): Promise<void> {
  const result = await withLockRetry('useradd', [
    '-M', '-N', '-s', '/usr/sbin/nologin', '-d', '/nonexistent',
    '-c', `${ACCOUNT_COMMENT_PREFIX} pid ${process.pid}`, name,
  ]);
  if (result.code !== 0) {
    const hint = process.getuid?.() === 0 ? '' : ' (creating accounts needs root)';
    throw new Error(`useradd ${name} failed${hint}: ${result.stderr.trim() || `exit ${result.code}`}`);
  }
}

export async function deleteUnixAccount(name: string): Promise<void> {
  await withLockRetry('userdel', [name]);
}

export function deleteUnixAccountSync(name: string): void {
  for (let attempt = 0; attempt < 20; attempt++) {
    const r = spawnSync('userdel', [name], { stdio: 'ignore' });
    if (r.status !== LOCK_BUSY) return;
    spawnSync('sleep', ['0.05']);
  }
}

export async function addSambaUser(smbConf: string, name: string, password: string): Promise<void> {
  const result = await run('smbpasswd', ['-c', smbConf, '-s', '-a', name], { input: `${password}\n${password}\n` });
  if (result.code !== 0) {
    throw new Error(`smbpasswd -a ${name} failed: ${(result.stderr || result.stdout).trim()}`);
  }
}
