/**
 * A command plug-in behind the ClientAdapter interface: one driver process per session, file
 * contents passed by path through a scratch directory this side owns and removes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdapterError } from '../adapters/adapter.js';
import type { AdapterConnectOptions, AdapterEntry, AdapterSession, ClientAdapter } from '../adapters/adapter.js';
import { registerCleanup } from '../../servers/cleanup.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, DriverProcess, PluginFault, type DriverCommand } from './host.js';
import { ClientUnsupported } from './needs.js';
import type { ArgsOf, Hello, Operation, RequestOp, ValueOf } from './protocol.js';

/** writeFile and readFile get this many times a request's time limit. */
const DATA_TIMEOUT_FACTOR = 3;

export interface CommandClient extends DriverCommand {
  /** Time limit of each request (default 60 s; writeFile and readFile three times that). */
  timeoutMs?: number;
  helloTimeoutMs?: number;
}

/** Share-relative, `/`-separated, without a leading `/`, as the protocol spells paths. */
function protocolPath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^\/+/, '');
}

class CommandSession implements AdapterSession {
  private scratch: string | undefined;
  private unregisterScratch: (() => void) | undefined;
  private nextFile = 0;
  private closed = false;

  constructor(
    readonly client: string,
    private readonly driver: DriverProcess,
    private readonly hello: Hello,
    private readonly timeoutMs: number,
    /** The limit was the connect's `operationLimitMs`: the same for every operation. */
    private readonly exactLimit = false,
  ) {}

  diagnostics(): string {
    return this.driver.stderrText();
  }

  /** A fresh path in the scratch directory, made on first use. */
  private localFile(): string {
    if (this.scratch === undefined) {
      const dir = mkdtempSync(join(tmpdir(), `smb-interop-${this.client.replace(/[^A-Za-z0-9_-]/g, '_')}-`));
      this.scratch = dir;
      this.unregisterScratch = registerCleanup(() => rmSync(dir, { recursive: true, force: true }));
    }
    return join(this.scratch, `f${this.nextFile++}`);
  }

  async call<Op extends RequestOp>(op: Op & (Operation | 'connect'), args: ArgsOf<Op>, path: string): Promise<ValueOf<Op>> {
    if (op !== 'connect' && !this.hello.capabilities.operations.includes(op as Operation)) {
      throw new ClientUnsupported(this.client, `${this.client} does not implement ${op} (it implements ${this.hello.capabilities.operations.join(', ') || 'none'})`);
    }
    // Moving file data takes longer than a metadata operation (a 64 MiB transfer signed in pure Python: about 30 s each way).
    const limit = this.exactLimit || !(op === 'writeFile' || op === 'readFile') ? this.timeoutMs : DATA_TIMEOUT_FACTOR * this.timeoutMs;
    const answer = await this.driver.request(op, args, limit);
    if (answer.ok) return answer.value;
    const { status, message } = answer.failure;
    const where = `${op}${path === '' ? '' : ` ${path}`}`;
    throw new AdapterError(`${status ? `${status} from ` : ''}${this.client} ${where}: ${message}`, this.client, op, path, status);
  }

  async writeFile(path: string, data: Buffer): Promise<void> {
    const source = this.localFile();
    await writeFile(source, data);
    try {
      await this.call('writeFile', { path: protocolPath(path), source }, path);
    } finally {
      await rm(source, { force: true });
    }
  }

  async readFile(path: string): Promise<Buffer> {
    const destination = this.localFile();
    try {
      const { size } = await this.call('readFile', { path: protocolPath(path), destination }, path);
      const written = await stat(destination).then((s) => s.size, () => undefined);
      if (written !== size) {
        throw new PluginFault(`${this.client} wrote an invalid message: readFile ${path} answered size ${size} but ${written === undefined ? 'created no file' : `wrote ${written} bytes`}`, this.client, 'invalid', 'readFile');
      }
      return await readFile(destination);
    } finally {
      await rm(destination, { force: true });
    }
  }

  async stat(path: string): Promise<{ size: number; isDirectory: boolean }> {
    return this.call('stat', { path: protocolPath(path) }, path);
  }

  async readdir(path: string): Promise<AdapterEntry[]> {
    const { entries } = await this.call('readdir', { path: protocolPath(path) }, path);
    return [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async mkdir(path: string): Promise<void> {
    await this.call('mkdir', { path: protocolPath(path) }, path);
  }

  async rmdir(path: string): Promise<void> {
    await this.call('rmdir', { path: protocolPath(path) }, path);
  }

  async unlink(path: string): Promise<void> {
    await this.call('unlink', { path: protocolPath(path) }, path);
  }

  async rename(from: string, to: string, options: { replace?: boolean } = {}): Promise<void> {
    await this.call('rename', { from: protocolPath(from), to: protocolPath(to), replace: options.replace === true }, from);
  }

  async exists(path: string): Promise<boolean> {
    return (await this.call('exists', { path: protocolPath(path) }, path)).exists;
  }

  /** `close`, then the driver has 5 s to exit; the scratch directory goes whatever happened. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      const answer = await this.driver.request('close', {}, this.timeoutMs);
      if (!answer.ok) throw new AdapterError(`${answer.failure.status ? `${answer.failure.status} from ` : ''}${this.client} close: ${answer.failure.message}`, this.client, 'close', '', answer.failure.status);
    } finally {
      await this.driver.close();
      if (this.scratch !== undefined) await rm(this.scratch, { recursive: true, force: true });
      this.unregisterScratch?.();
    }
  }
}

/** Starts the driver and reads its hello, for its capabilities; nothing stays running. */
export async function probeDriver(spec: CommandClient): Promise<Hello> {
  const driver = await DriverProcess.start(spec, spec.helloTimeoutMs === undefined ? {} : { helloTimeoutMs: spec.helloTimeoutMs });
  try {
    return driver.hello as Hello;
  } finally {
    await driver.close();
  }
}

export function commandAdapter(spec: CommandClient): ClientAdapter {
  const timeoutMs = spec.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  return {
    id: spec.client,
    async connect(options: AdapterConnectOptions): Promise<AdapterSession> {
      const driver = await DriverProcess.start(spec, spec.helloTimeoutMs === undefined ? {} : { helloTimeoutMs: spec.helloTimeoutMs });
      options.onDiagnostics?.(() => driver.stderrText());
      const session = new CommandSession(spec.client, driver, driver.hello as Hello, options.operationLimitMs ?? timeoutMs, options.operationLimitMs !== undefined);
      const args: ArgsOf<'connect'> = { host: options.host, port: options.port, share: options.share, timeoutMs: options.timeoutMs ?? timeoutMs };
      if (options.username !== undefined) Object.assign(args, { username: options.username, password: options.password ?? '', domain: options.domain ?? '' });
      // Optional fields go only to a driver that asks for them: Kerberos to one that declares it, the dialect hint to one whose hello lists it.
      const { capabilities } = driver.hello as Hello;
      if (options.auth !== undefined && capabilities.auth.includes('kerberos')) {
        Object.assign(args, { auth: options.auth, ...(options.kerberos === undefined ? {} : { kerberos: options.kerberos }) });
      }
      if (options.dialects !== undefined && capabilities.hints?.includes('dialects')) args.dialects = { ...options.dialects };
      try {
        await session.call('connect', args, '');
      } catch (error) {
        driver.kill();
        await driver.close();
        throw error;
      }
      return session;
    },
  };
}
