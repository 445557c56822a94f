/**
 * Request deadlines. One timer per connection serves every request: it is set for the earliest
 * deadline when that moves earlier, and otherwise left alone (a request answered in time costs
 * no timer of its own), so when it fires it may find nothing expired and only sets itself for
 * the next deadline.
 */

/** What a deadline is kept on: when it passes (performance.now() ms; undefined: none), and the wait it ends. */
export interface HasDeadline {
  deadline: number | undefined;
  waitMs: number;
}

export class Deadlines {
  private timer: NodeJS.Timeout | undefined;
  private at = 0;

  /**
   * `sweep(now)`: ends what expired by `now` and returns the next deadline still ahead
   * (Infinity for none); it runs when the timer fires.
   */
  constructor(private readonly sweep: (now: number) => number) {}

  /** Gives `item` `ms` more. */
  start(item: HasDeadline, ms: number): void {
    const deadline = performance.now() + ms;
    item.deadline = deadline;
    item.waitMs = ms;
    if (this.timer === undefined || deadline < this.at) this.arm(deadline);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.at = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, Math.ceil(at - performance.now())));
  }

  private fire(): void {
    this.timer = undefined;
    const next = this.sweep(performance.now());
    if (next !== Infinity) this.arm(next);
  }
}
