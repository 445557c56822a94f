/**
 * The parent's side of bench/client-process.ts: a forked Node process that runs one transfer per
 * message on a fresh connection and answers with its duration. `script` is another build's
 * client-process.js when two builds are compared (bench/compare-builds.ts); `onStdout` receives
 * the process's standard output (its GC trace, with `--trace-gc-nvp` in `execArgv`).
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TransferJob, TransferResult } from './client-process.js';

/** Longest one transfer may take before the benchmark gives up on it. */
const TRANSFER_TIMEOUT_MS = 600_000;

export interface ClientProcessOptions {
  script?: string;
  execArgv?: string[];
  onStdout?: (text: string) => void;
}

/** A process our client's transfers run in (bench/client-process.ts), one per API and target benchmarked. */
export class ClientProcess {
  private readonly child: ChildProcess;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (result: TransferResult) => void; reject: (error: Error) => void }>();
  private exited: string | undefined;
  /** Peak RSS of the process over its streamed transfers. */
  peakRss = 0;

  constructor(options: ClientProcessOptions = {}) {
    const script = options.script ?? join(dirname(fileURLToPath(import.meta.url)), 'client-process.js');
    const onStdout = options.onStdout;
    this.child = fork(script, [], { execArgv: options.execArgv ?? ['--expose-gc'], stdio: ['ignore', onStdout === undefined ? 'inherit' : 'pipe', 'inherit', 'ipc'] });
    if (onStdout !== undefined) this.child.stdout?.on('data', (data: Buffer) => onStdout(data.toString()));
    this.child.on('message', (result: TransferResult) => {
      this.waiting.get(result.id)?.resolve(result);
      this.waiting.delete(result.id);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = signal === null ? `exit code ${code}` : `signal ${signal}`;
      for (const { reject } of this.waiting.values()) reject(new Error(`the client's benchmark process ended (${this.exited})`));
      this.waiting.clear();
    });
  }

  /** Runs one transfer there; resolves with its duration in seconds. */
  async transfer(job: Omit<TransferJob, 'id'>): Promise<number> {
    if (this.exited !== undefined) throw new Error(`the client's benchmark process ended (${this.exited})`);
    const id = this.nextId++;
    let timer: NodeJS.Timeout | undefined;
    const result = await new Promise<TransferResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${job.api} ${job.direction} of ${job.remote} took longer than ${TRANSFER_TIMEOUT_MS / 1000} s`));
      }, TRANSFER_TIMEOUT_MS);
      this.child.send({ ...job, id });
    }).finally(() => clearTimeout(timer));
    if ('error' in result) throw new Error(`${job.api} ${job.direction} of ${job.remote}: ${result.error}`);
    if (result.peakRss !== undefined) this.peakRss = Math.max(this.peakRss, result.peakRss);
    return result.seconds;
  }

  stop(): void {
    if (this.exited === undefined) this.child.kill();
  }
}
