/**
 * Samba's smbclient as the reference client: one smbclient per adapter session, its operations
 * sent one at a time over stdin (SmbclientShell), and whatever smbclient prints as NT_STATUS_*
 * for an operation becomes the error's status name. smbclient goes on after most failures, so
 * its output decides.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdapterError } from './adapter.js';
import type { AdapterConnectOptions, AdapterEntry, AdapterSession, ClientAdapter } from './adapter.js';
import { kerberosInvocation, SmbclientShell, SmbclientShellError } from './smbclient-cli.js';
import { registerCleanup } from '../../servers/cleanup.js';
import type { ShellAnswer, SmbclientInvocation } from './smbclient-cli.js';

const CLIENT = 'smbclient';

/** `a/b c` -> `"a\b c"`; smbclient's tokenizer has no escape for a double quote. */
function quote(path: string): string {
  if (path.includes('"')) throw new AdapterError(`smbclient cannot name a path containing '"': ${path}`, CLIENT, 'quote', path, undefined);
  return `"${path.replace(/\//g, '\\').replace(/^\\+/, '')}"`;
}

/** `  name   AD   1234  Wed Nov 25 06:43:18 2026` (the name may contain spaces). */
const LS_LINE = /^ {2}(.+?)\s+([ADHSRNIL]*)\s+(\d+)\s+\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/;

export function parseLsOutput(stdout: string): AdapterEntry[] {
  const entries: AdapterEntry[] = [];
  for (const line of stdout.split('\n')) {
    const m = LS_LINE.exec(line);
    if (!m) continue;
    const [, name = '', attributes = '', size = '0'] = m;
    if (name === '.' || name === '..') continue;
    entries.push({ name, isDirectory: attributes.includes('D'), size: Number(size) });
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** `allinfo` output: `attributes: D (10)` and `stream: [::$DATA], 6 bytes`. */
export function parseAllinfo(stdout: string): { size: number; isDirectory: boolean } {
  const attributes = /^attributes: .*\(([0-9a-f]+)\)$/m.exec(stdout);
  if (!attributes) throw new Error(`unexpected allinfo output: ${stdout.slice(0, 200)}`);
  const isDirectory = (Number.parseInt(attributes[1] ?? '0', 16) & 0x10) !== 0;
  const stream = /^stream: \[::\$DATA\], (\d+) bytes$/m.exec(stdout);
  return { isDirectory, size: isDirectory ? 0 : Number(stream?.[1] ?? 0) };
}

class SmbclientSession implements AdapterSession {
  readonly client = CLIENT;

  private readonly unregister: () => void;
  /** One smbclient for the session's life: one process and one logon, its commands one at a time. */
  private readonly shell: SmbclientShell;

  constructor(
    private readonly options: AdapterConnectOptions,
    private readonly scratch: string,
  ) {
    const { host, port, share, username, password, domain, auth, kerberos } = options;
    const invocation: Omit<SmbclientInvocation, 'commands'> = { host, port, share };
    // smbclient's own limit per request, so a server that stops answering is smbclient's to notice.
    if (options.timeoutMs !== undefined) invocation.requestTimeoutSeconds = Math.max(1, Math.ceil(options.timeoutMs / 1000));
    if (username) Object.assign(invocation, { username, password, domain });
    if (auth === 'ntlm') invocation.kerberos = 'off';
    else if (auth !== undefined && kerberos !== undefined && username) {
      // smbclient names the principal from the user name: user@REALM, not DOMAIN\user.
      Object.assign(invocation, kerberosInvocation(kerberos, username, auth === 'kerberos' ? 'required' : 'desired', scratch));
    }
    this.shell = SmbclientShell.start(invocation, scratch);
    this.unregister = registerCleanup(() => {
      this.shell.kill();
      rmSync(scratch, { recursive: true, force: true });
    });
  }

  private async run(operation: string, path: string, commands: string): Promise<{ stdout: string }> {
    const { host, port, share } = this.options;
    const where = `${operation} ${path} on //${host}:${port}/${share}`;
    const timeoutMs = this.options.operationLimitMs ?? this.options.timeoutMs ?? 60_000;
    let answer: ShellAnswer;
    try {
      answer = await this.shell.run(commands, timeoutMs);
    } catch (error) {
      if (!(error instanceof SmbclientShellError)) throw error;
      if (error.timedOut) throw new AdapterError(`smbclient ${where}: no answer within ${timeoutMs} ms`, CLIENT, operation, path, undefined);
      const statusName = error.status?.replace(/^NT_/, '');
      const detail = error.output.trim().split('\n').slice(-2).join(' ');
      throw new AdapterError(`${statusName ?? 'smbclient ended'}: smbclient ${where}: ${error.message}${detail ? `: ${detail}` : ''}`, CLIENT, operation, path, statusName);
    }
    if (answer.status !== undefined) {
      const statusName = answer.status.replace(/^NT_/, '');
      throw new AdapterError(`${statusName} from smbclient ${where}`, CLIENT, operation, path, statusName);
    }
    return { stdout: answer.output };
  }

  private local(): string {
    return `f${Math.random().toString(36).slice(2)}`;
  }

  async writeFile(path: string, data: Buffer): Promise<void> {
    const local = this.local();
    await writeFile(join(this.scratch, local), data);
    try {
      await this.run('put', path, `put ${local} ${quote(path)}`);
    } finally {
      await rm(join(this.scratch, local), { force: true });
    }
  }

  async readFile(path: string): Promise<Buffer> {
    const local = this.local();
    try {
      await this.run('get', path, `get ${quote(path)} ${local}`);
      return await readFile(join(this.scratch, local));
    } finally {
      await rm(join(this.scratch, local), { force: true });
    }
  }

  async stat(path: string): Promise<{ size: number; isDirectory: boolean }> {
    return parseAllinfo((await this.run('allinfo', path, `allinfo ${quote(path)}`)).stdout);
  }

  async readdir(path: string): Promise<AdapterEntry[]> {
    const mask = path.replace(/\/+$/, '') === '' ? '*' : `${path.replace(/\/+$/, '')}/*`;
    return parseLsOutput((await this.run('ls', path, `ls ${quote(mask)}`)).stdout);
  }

  async mkdir(path: string): Promise<void> {
    await this.run('mkdir', path, `mkdir ${quote(path)}`);
  }

  async rmdir(path: string): Promise<void> {
    await this.run('rmdir', path, `rmdir ${quote(path)}`);
  }

  async unlink(path: string): Promise<void> {
    await this.run('del', path, `del ${quote(path)}`);
  }

  async rename(from: string, to: string, options: { replace?: boolean } = {}): Promise<void> {
    await this.run('rename', from, `rename ${quote(from)} ${quote(to)}${options.replace === true ? ' -f' : ''}`);
  }

  async exists(path: string): Promise<boolean> {
    try {
      await this.stat(path);
      return true;
    } catch (error) {
      if (error instanceof AdapterError && (error.statusName === 'STATUS_OBJECT_NAME_NOT_FOUND' || error.statusName === 'STATUS_OBJECT_PATH_NOT_FOUND')) return false;
      throw error;
    }
  }

  async close(): Promise<void> {
    try {
      await this.shell.close();
    } finally {
      await rm(this.scratch, { recursive: true, force: true });
      this.unregister();
    }
  }
}

export const smbclientAdapter: ClientAdapter = {
  id: CLIENT,
  async connect(options: AdapterConnectOptions): Promise<AdapterSession> {
    const scratch = await mkdtemp(join(tmpdir(), 'smb-interop-smbclient-'));
    const session = new SmbclientSession(options, scratch);
    try {
      // The logon and tree connect happen as smbclient starts: its first answer says whether they worked.
      await session.readdir('');
    } catch (error) {
      await session.close();
      throw error;
    }
    return session;
  },
};
