/**
 * A small JSON-lines client of the plug-in protocol (clients/PLUGIN-PROTOCOL.md) for the drivers'
 * own tests: it starts a driver, checks its hello and every answer against the protocol, and
 * sends one request at a time with a time limit. Anything the driver does wrong is thrown as an
 * Error naming the driver and the fault; nothing it started outlives `stop()`.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { z } from 'zod';
import type { AdapterConnectOptions } from '../../adapters/adapter.js';

const DIALECTS = ['2.0.2', '2.1', '3.0', '3.0.2', '3.1.1'] as const;
const CIPHERS = ['AES-128-CCM', 'AES-128-GCM', 'AES-256-CCM', 'AES-256-GCM'] as const;
const SIGNING = ['HMAC-SHA256', 'AES-128-CMAC', 'AES-128-GMAC'] as const;
const OPERATIONS = ['writeFile', 'readFile', 'stat', 'readdir', 'mkdir', 'rmdir', 'unlink', 'rename', 'exists'] as const;

export const Hello = z.strictObject({
  type: z.literal('hello'),
  protocol: z.number().int(),
  client: z.strictObject({ name: z.string().min(1), version: z.string().min(1) }),
  capabilities: z.strictObject({
    dialects: z.array(z.enum(DIALECTS)),
    ciphers: z.array(z.enum(CIPHERS)),
    signing: z.array(z.enum(SIGNING)),
    auth: z.array(z.enum(['ntlm', 'guest', 'kerberos'])),
    operations: z.array(z.enum(OPERATIONS)),
    hints: z.array(z.enum(['dialects'])).optional(),
  }),
});
export type Hello = z.infer<typeof Hello>;
export type Capabilities = Hello['capabilities'];

const Failure = z.strictObject({ message: z.string(), status: z.string().regex(/^STATUS_[A-Z0-9_]+$/).optional() });
export type DriverFailure = z.infer<typeof Failure>;

const Result = z.union([
  z.strictObject({ type: z.literal('result'), id: z.number().int(), ok: z.literal(true), value: z.record(z.string(), z.unknown()) }),
  z.strictObject({ type: z.literal('result'), id: z.number().int(), ok: z.literal(false), error: Failure }),
]);

const Entry = z.strictObject({ name: z.string(), isDirectory: z.boolean(), size: z.number().int().nonnegative() });
export type Entry = z.infer<typeof Entry>;

/** The value each operation answers with (PLUGIN-PROTOCOL.md, Operations). */
const VALUES = {
  connect: z.strictObject({}),
  writeFile: z.strictObject({}),
  readFile: z.strictObject({ size: z.number().int().nonnegative() }),
  stat: z.strictObject({ size: z.number().int().nonnegative(), isDirectory: z.boolean() }),
  readdir: z.strictObject({ entries: z.array(Entry) }),
  mkdir: z.strictObject({}),
  rmdir: z.strictObject({}),
  unlink: z.strictObject({}),
  rename: z.strictObject({}),
  exists: z.strictObject({ exists: z.boolean() }),
  close: z.strictObject({}),
} as const;
export type Op = keyof typeof VALUES;
export type ValueOf<O extends Op> = z.infer<(typeof VALUES)[O]>;

/** connect's arguments: the adapters' connect options, with the time limit the protocol requires. */
export type ConnectArgs = Pick<AdapterConnectOptions, 'host' | 'port' | 'share' | 'username' | 'password' | 'domain' | 'dialects'> & { timeoutMs: number };

/** What an operation came to: the value, or the client's failure. */
export type Outcome<O extends Op> = { ok: true; value: ValueOf<O> } | { ok: false; error: DriverFailure };

export class DriverClient {
  private buffered = '';
  private readonly lines: string[] = [];
  private wake: (() => void) | undefined;
  private exited: string | undefined;
  private stderr = '';
  private nextId = 1;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcessByStdio<Writable, Readable, Readable>,
  ) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      this.buffered += chunk;
      let newline: number;
      while ((newline = this.buffered.indexOf('\n')) >= 0) {
        this.lines.push(this.buffered.slice(0, newline));
        this.buffered = this.buffered.slice(newline + 1);
      }
      this.wake?.();
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    child.stdin.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      this.exited = signal === null ? `code ${code}` : `signal ${signal}`;
      this.wake?.();
    });
    child.on('error', (error) => {
      this.exited = `spawn error: ${error.message}`;
      this.wake?.();
    });
  }

  /** Starts the driver and waits (up to 10 s, the protocol's limit) for its hello. */
  static async start(name: string, command: readonly string[], env?: NodeJS.ProcessEnv): Promise<{ driver: DriverClient; hello: Hello }> {
    const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], ...(env ? { env: { ...process.env, ...env } } : {}) });
    const driver = new DriverClient(name, child);
    try {
      const line = await driver.nextLine('hello', 10_000);
      const hello = Hello.safeParse(JSON.parse(line));
      if (!hello.success) throw new Error(`${name} wrote an invalid hello: ${z.prettifyError(hello.error)}: ${line.slice(0, 200)}`);
      return { driver, hello: hello.data };
    } catch (error) {
      await driver.stop();
      throw error;
    }
  }

  /** What the driver wrote on stderr so far. */
  diagnostics(): string {
    return this.stderr;
  }

  private async nextLine(waitingFor: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.exited !== undefined) throw new Error(`${this.name} exited (${this.exited}) before answering ${waitingFor}; stderr: ${this.stderr.slice(-2000)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name} did not answer ${waitingFor} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.lines.shift()!;
  }

  /** Sends one request and returns the validated answer; a protocol fault is thrown. */
  async request<O extends Op>(op: O, args: object, timeoutMs = 60_000): Promise<Outcome<O>> {
    const id = this.nextId++;
    this.child.stdin.write(`${JSON.stringify({ type: 'request', id, op, args })}\n`);
    const line = await this.nextLine(op, timeoutMs);
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new Error(`${this.name} wrote a line that is not JSON during ${op}: ${line.slice(0, 200)}`);
    }
    const result = Result.safeParse(parsed);
    if (!result.success) throw new Error(`${this.name} wrote an invalid result during ${op}: ${z.prettifyError(result.error)}: ${line.slice(0, 200)}`);
    if (result.data.id !== id) throw new Error(`${this.name} answered id ${result.data.id} to request ${id} (${op})`);
    if (!result.data.ok) return { ok: false, error: result.data.error };
    const value = VALUES[op].safeParse(result.data.value);
    if (!value.success) throw new Error(`${this.name} answered ${op} with an invalid value: ${z.prettifyError(value.error)}`);
    return { ok: true, value: value.data as ValueOf<O> };
  }

  /** The operation's value; a failure is thrown with the driver's message and status. */
  async must<O extends Op>(op: O, args: object): Promise<ValueOf<O>> {
    const outcome = await this.request(op, args);
    if (!outcome.ok) throw new Error(`${this.name} failed ${op} ${JSON.stringify({ ...args, ...("password" in args ? { password: "(hidden)" } : {}) })}: ${outcome.error.status ?? '(no status)'}: ${outcome.error.message}`);
    return outcome.value;
  }

  connect(args: ConnectArgs): Promise<Outcome<'connect'>> {
    return this.request('connect', args);
  }

  /** Sends close, waits up to 5 s for the driver to exit, and returns its exit. */
  async close(): Promise<{ outcome: Outcome<'close'>; exit: string }> {
    const outcome = await this.request('close', {});
    const deadline = Date.now() + 5_000;
    while (this.exited === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const exit = this.exited ?? 'still running 5 s after close';
    await this.stop();
    return { outcome, exit };
  }

  /** Ends the driver if it still runs (SIGKILL after 2 s of SIGTERM). */
  async stop(): Promise<void> {
    if (this.exited !== undefined) return;
    this.child.stdin.end();
    this.child.kill('SIGTERM');
    const deadline = Date.now() + 2_000;
    while (this.exited === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    if (this.exited === undefined) this.child.kill('SIGKILL');
  }
}
