/**
 * Live progress of a matrix run: cells done / total, failures so far, estimated time left. On a
 * terminal one line is rewritten in place; in a CI log (no TTY) a line is printed every `every`
 * cells or every `intervalMs` (10 s), whichever comes first, so the log stays short and readable.
 */
import { formatDuration } from './render/summary.js';

export interface ProgressOptions {
  total: number;
  tty: boolean;
  write: (text: string) => void;
  now?: () => number;
  /** Non-TTY: print after this many cells (default: a twentieth of the total, at least 1). */
  every?: number;
  /** Non-TTY: print at least this often while cells finish (default 10 s). */
  intervalMs?: number;
}

export class ProgressLine {
  private done = 0;
  private failures = 0;
  private readonly started: number;
  private lastPrinted: number;
  private lastPrintedDone = 0;
  private readonly every: number;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ProgressOptions) {
    this.now = options.now ?? Date.now;
    this.started = this.now();
    this.lastPrinted = this.started;
    this.every = options.every ?? Math.max(1, Math.ceil(options.total / 20));
    this.intervalMs = options.intervalMs ?? 10_000;
  }

  /** The status line, e.g. `matrix: 12/40 cells, 2 failing, about 1 min 10 s left`. */
  line(): string {
    const elapsed = this.now() - this.started;
    const left = this.done > 0 && this.done < this.options.total ? `, about ${formatDuration((elapsed / this.done) * (this.options.total - this.done))} left` : '';
    return `matrix: ${this.done}/${this.options.total} cells, ${this.failures} failing${left}`;
  }

  /** One cell finished; `failure` is a one-line description when it failed. */
  cellDone(failure?: string): void {
    this.done++;
    if (failure !== undefined) this.failures++;
    const { tty, write } = this.options;
    if (tty) {
      if (failure !== undefined) write(`\r\u001b[K  ✗ ${failure}\n`);
      write(`\r\u001b[K${this.line()}`);
      return;
    }
    if (failure !== undefined) write(`  ✗ ${failure}\n`);
    const now = this.now();
    if (this.done === this.options.total || this.done - this.lastPrintedDone >= this.every || now - this.lastPrinted >= this.intervalMs) {
      write(`${this.line()}\n`);
      this.lastPrinted = now;
      this.lastPrintedDone = this.done;
    }
  }

  /**
   * In a CI log, a line every `intervalMs` even while no cell finishes (a long scenario), so a
   * quiet log never looks hung. The timer does not keep the process alive.
   */
  startHeartbeat(): void {
    if (this.options.tty || this.timer) return;
    this.timer = setInterval(() => this.heartbeat(), this.intervalMs);
    this.timer.unref();
  }

  /** Prints the status line when nothing was printed for `intervalMs`. */
  heartbeat(): void {
    const now = this.now();
    if (this.done >= this.options.total || now - this.lastPrinted < this.intervalMs) return;
    this.options.write(`${this.line()}\n`);
    this.lastPrinted = now;
  }

  /** Stops the heartbeat and ends the in-place line on a terminal. */
  finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.options.tty && this.done > 0) this.options.write('\n');
  }
}
