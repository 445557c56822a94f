/**
 * The host side of a command plug-in: one driver process, its hello, one request at a time with a
 * time limit, every line checked both ways. Whatever the driver does wrong (exits, hangs, writes
 * garbage, speaks another protocol version) ends the process and becomes a PluginFault naming the
 * client and what went wrong; the harness records that as the cell's infra-error.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { killProcessGroupSync } from '../../servers/processes.js';
import { spawnProcess, type SpawnedProcess } from '../../servers/spawn.js';
import { registerCleanup } from '../../servers/cleanup.js';
import { MAX_LINE_BYTES, PROTOCOL_VERSION, OPERATION_SCHEMAS, encodeRequest, firstIssue, parseDriverLine, type ArgsOf, type Hello, type RequestOp, type ValueOf } from './protocol.js';

export const HELLO_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** After `close` is answered (or stdin ends), how long the driver has to exit before it is killed. */
export const EXIT_GRACE_MS = 5_000;
/** stderr kept per driver: the first part and the last part, with a marker for what was dropped between. */
const STDERR_HEAD_BYTES = 64 * 1024;
const STDERR_TAIL_BYTES = 192 * 1024;

export type PluginFaultKind = 'start' | 'exit' | 'timeout' | 'invalid' | 'version';

/** A driver broke the protocol or could not run: the cell is an infra-error with this message. */
export class PluginFault extends Error {
  readonly code = 'SMB_INTEROP_PLUGIN';
  constructor(
    message: string,
    readonly client: string,
    readonly kind: PluginFaultKind,
    /** The request in flight (`hello` while waiting for it). */
    readonly operation: string,
  ) {
    super(message);
    this.name = 'PluginFault';
  }
}

/** A driver's answer `ok:false`: the client failed the operation. */
export interface DriverFailure {
  message: string;
  status?: string | undefined;
}

export interface DriverCommand {
  /** The client's id, used in every message. */
  client: string;
  /** Program and arguments; a relative program path is taken from `cwd`. */
  command: readonly string[];
  /** Working directory of the driver (the package root for built-ins, the config's directory for others). */
  cwd: string;
  env?: Readonly<Record<string, string>>;
  /** Files that must exist before the driver can start, relative to `cwd`. */
  requiredFiles?: readonly string[];
  /** What to do when the driver is missing, e.g. `run bash scripts/setup.sh`. */
  remedy?: string;
}

/** Keeps the start and the end of a stream, bounded. */
class BoundedText {
  private head = '';
  private tail = '';
  private dropped = 0;

  add(chunk: string): void {
    if (this.head.length < STDERR_HEAD_BYTES) {
      const room = STDERR_HEAD_BYTES - this.head.length;
      this.head += chunk.slice(0, room);
      chunk = chunk.slice(room);
    }
    this.tail += chunk;
    if (this.tail.length > STDERR_TAIL_BYTES) {
      this.dropped += this.tail.length - STDERR_TAIL_BYTES;
      this.tail = this.tail.slice(-STDERR_TAIL_BYTES);
    }
  }

  text(): string {
    return this.dropped > 0 ? `${this.head}\n[... ${this.dropped} characters dropped ...]\n${this.tail}` : this.head + this.tail;
  }

  lastLine(): string | undefined {
    return this.text().trimEnd().split('\n').at(-1)?.trim() || undefined;
  }

  /** A Go runtime's `panic: ...` or `fatal error: ...` line: a crash's cause, which its last line (a stack frame) is not. */
  crashLine(): string | undefined {
    return this.text().split('\n').find((line) => /^(panic|fatal error): /.test(line))?.trim();
  }
}

interface Pending {
  id: number;
  op: string;
  settle: (outcome: { ok: true; value: unknown } | { ok: false; failure: DriverFailure } | { fault: PluginFault }) => void;
}

function programOf(command: DriverCommand): string {
  const program = command.command[0] ?? '';
  return program.includes('/') && !isAbsolute(program) ? resolve(command.cwd, program) : program;
}

/** One running driver. Start with `DriverProcess.start`; end with `close` (or `kill`). */
export class DriverProcess {
  private readonly stderr = new BoundedText();
  private stdoutBuffer = '';
  private pending: Pending | undefined;
  private nextId = 1;
  private fault: PluginFault | undefined;
  private exited = false;
  private closing = false;
  private readonly exitedPromise: Promise<void>;
  private readonly unregister: () => void;
  private helloWaiter: ((result: Hello | PluginFault) => void) | undefined;
  hello: Hello | undefined;

  private constructor(
    private readonly spec: DriverCommand,
    private readonly child: SpawnedProcess,
  ) {
    const pid = child.pid;
    this.unregister = registerCleanup(() => killProcessGroupSync(pid));
    this.exitedPromise = new Promise((done) => {
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        this.exited = true;
        this.unregister();
        if (!this.closing || this.pending !== undefined) {
          const how = signal !== null ? `signal ${signal}` : `code ${code}`;
          this.failWith('exit', `${this.client} exited (${how}) during ${this.currentOperation()}`);
        }
        done();
      });
    });
    child.once('error', (error) => this.failWith('start', `${this.client}: cannot start its driver ${programOf(spec)}: ${error.message}${spec.remedy ? ` (${spec.remedy})` : ''}`));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.stderr.add(chunk));
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.onStdout(chunk));
    child.stdin?.on('error', () => {
      // The driver closed its stdin (it exited): the exit handler names the fault.
    });
  }

  get client(): string {
    return this.spec.client;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Spawns the driver and waits for its hello (at most `helloTimeoutMs`). A driver whose files
   * are missing, that cannot start, exits, says nothing or speaks another protocol version is a
   * PluginFault, and nothing is left running.
   */
  static async start(spec: DriverCommand, options: { helloTimeoutMs?: number } = {}): Promise<DriverProcess> {
    const missing = (spec.requiredFiles ?? [spec.command[0] ?? '']).filter((f) => f.includes('/') && !existsSync(resolve(spec.cwd, f)));
    if (missing.length > 0) {
      throw new PluginFault(`${spec.client}: its driver is not installed: ${missing.map((f) => resolve(spec.cwd, f)).join(', ')} does not exist${spec.remedy ? ` (${spec.remedy})` : ''}`, spec.client, 'start', 'hello');
    }
    const [, ...args] = spec.command;
    const child = spawnProcess(programOf(spec), args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group, so a kill reaches whatever the driver started.
      detached: true,
    });
    const driver = new DriverProcess(spec, child);
    const timeoutMs = options.helloTimeoutMs ?? HELLO_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const result = await new Promise<Hello | PluginFault>((settle) => {
      driver.helloWaiter = settle;
      if (driver.fault) settle(driver.fault);
      timer = setTimeout(() => driver.failWith('timeout', `${spec.client} did not say hello within ${timeoutMs} ms`), timeoutMs);
    });
    clearTimeout(timer);
    driver.helloWaiter = undefined;
    if (result instanceof PluginFault) {
      await driver.exitedPromise;
      throw result;
    }
    driver.hello = result;
    return driver;
  }

  /** What the driver wrote to stderr so far (bounded). */
  stderrText(): string {
    return this.stderr.text();
  }

  /**
   * Sends one request and waits for its answer. `ok:true` resolves with the checked value;
   * `ok:false` resolves with the failure; anything else rejects with a PluginFault.
   */
  async request<Op extends RequestOp>(op: Op, args: ArgsOf<Op>, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<{ ok: true; value: ValueOf<Op> } | { ok: false; failure: DriverFailure }> {
    if (this.fault) throw this.fault;
    if (this.pending) throw new Error(`${this.client}: ${op} requested while ${this.pending.op} is still in flight (one request at a time)`);
    if (this.closing) throw new Error(`${this.client}: ${op} requested after close`);
    const id = this.nextId++;
    const line = encodeRequest(id, op, args);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await new Promise<Parameters<Pending['settle']>[0]>((settle) => {
      this.pending = { id, op, settle };
      timer = setTimeout(() => this.failWith('timeout', `${this.client} did not answer ${op} within ${timeoutMs} ms`), timeoutMs);
      this.child.stdin?.write(line);
    });
    clearTimeout(timer);
    if ('fault' in outcome) throw outcome.fault;
    if (!outcome.ok) return outcome;
    const value = OPERATION_SCHEMAS[op].value.safeParse(outcome.value);
    if (!value.success) throw this.failWith('invalid', `${this.client} wrote an invalid message: the value of ${op}: ${firstIssue(value.error)}: ${JSON.stringify(outcome.value).slice(0, 200)}`);
    return { ok: true, value: value.data as ValueOf<Op> };
  }

  /**
   * Ends the driver: its stdin is closed, it has EXIT_GRACE_MS to exit, then its process group is
   * killed. Send `close` first for an orderly logoff.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.child.stdin?.end();
    if (!this.exited) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.exitedPromise, new Promise<void>((r) => (timer = setTimeout(r, EXIT_GRACE_MS)))]);
      clearTimeout(timer);
    }
    this.kill();
    await this.exitedPromise;
  }

  /** Kills the driver's process group at once. */
  kill(): void {
    killProcessGroupSync(this.child.pid);
  }

  private currentOperation(): string {
    if (this.hello === undefined) return 'its hello';
    return this.pending?.op ?? 'no request (between requests)';
  }

  /** Records the first fault, kills the driver, and hands the fault to whoever waits. */
  private failWith(kind: PluginFault['kind'], message: string): PluginFault {
    if (this.fault === undefined) {
      const crash = kind === 'exit' || kind === 'start' ? this.stderr.crashLine() : undefined;
      const last = kind === 'exit' || kind === 'start' ? this.stderr.lastLine() : undefined;
      const said = crash !== undefined ? `; its stderr says: ${crash.slice(0, 300)}` : last ? `; its stderr ends: ${last.slice(0, 200)}` : '';
      this.fault = new PluginFault(`${message}${said}`, this.client, kind, this.currentOperation());
      this.kill();
    }
    const fault = this.fault;
    const pending = this.pending;
    this.pending = undefined;
    pending?.settle({ fault });
    this.helloWaiter?.(fault);
    return fault;
  }

  private onStdout(chunk: string): void {
    if (this.fault) return;
    this.stdoutBuffer += chunk;
    let newline: number;
    while ((newline = this.stdoutBuffer.indexOf('\n')) >= 0) {
      const line = this.stdoutBuffer.slice(0, newline);
      this.stdoutBuffer = this.stdoutBuffer.slice(newline + 1);
      this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      if (this.fault) return;
    }
    if (Buffer.byteLength(this.stdoutBuffer) > MAX_LINE_BYTES) {
      this.failWith('invalid', `${this.client} wrote an invalid message: a line longer than ${MAX_LINE_BYTES} bytes: ${this.stdoutBuffer.slice(0, 200)}`);
    }
  }

  private onLine(line: string): void {
    if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
      this.failWith('invalid', `${this.client} wrote an invalid message: a line longer than ${MAX_LINE_BYTES} bytes: ${line.slice(0, 200)}`);
      return;
    }
    const version = helloVersion(line);
    if (version !== undefined && version !== PROTOCOL_VERSION) {
      this.failWith('version', `${this.client} speaks plug-in protocol ${JSON.stringify(version)}; the harness speaks ${PROTOCOL_VERSION}`);
      return;
    }
    const message = parseDriverLine(line);
    const invalid = (why: string) => this.failWith('invalid', `${this.client} wrote an invalid message: ${why}: ${line.slice(0, 200)}`);
    if (typeof message === 'string') return void invalid(message);
    if (message.type === 'hello') {
      if (this.hello !== undefined || this.helloWaiter === undefined) return void invalid('a second hello');
      this.helloWaiter(message);
      return;
    }
    if (this.hello === undefined) return void invalid('a result before its hello');
    const pending = this.pending;
    if (pending === undefined || pending.id !== message.id) return void invalid(`an answer to id ${message.id}, which was not asked${pending ? ` (waiting for ${pending.op}, id ${pending.id})` : ''}`);
    this.pending = undefined;
    pending.settle(message.ok ? { ok: true, value: message.value } : { ok: false, failure: { message: message.error.message, status: message.error.status } });
  }
}

/** The `protocol` of a hello line, read before the rest is validated (so another version is named as such). */
function helloVersion(line: string): unknown {
  try {
    const data: unknown = JSON.parse(line);
    if (typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'hello') return (data as { protocol?: unknown }).protocol;
  } catch {
    // Not JSON: parseDriverLine says so.
  }
  return undefined;
}
