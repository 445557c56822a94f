/**
 * An impaired link, played by the capture proxy for an impaired variant of a profile
 * (`smb311-gcm+wan`): every chunk of one direction waits for the link to be free (the bandwidth
 * cap), for the stalls that come every so many bytes, and for the one-way delay, then goes out in
 * order. Pure scheduling over a clock and a timer, so it is tested without sockets.
 */
import type { Impairment } from '../../servers/catalog/schema.js';

export interface LinkClock {
  now(): number;
  setTimer(callback: () => void, ms: number): { cancel(): void };
}

export const systemClock: LinkClock = {
  now: () => performance.now(),
  setTimer(callback, ms) {
    const timer = setTimeout(callback, Math.max(0, ms));
    return { cancel: () => clearTimeout(timer) };
  },
};

interface Queued {
  at: number;
  length: number;
  send: () => void;
}

/** One direction of an impaired link. */
export class ShapedDirection {
  private readonly queue: Queued[] = [];
  private head = 0;
  private linkFreeAt = 0;
  private sinceStall = 0;
  private timer: { cancel(): void } | undefined;
  private waiters: Array<{ below: number; resume: () => void }> = [];
  private stopped = false;
  /** Bytes scheduled and not yet sent. */
  queuedBytes = 0;

  constructor(
    private readonly impairment: Impairment,
    private readonly clock: LinkClock = systemClock,
  ) {}

  /** When `length` bytes handed over now would reach the other side (milliseconds on the clock). */
  private arrival(length: number): number {
    const { latencyMs, bandwidthMbps, stallEveryKiB, stallMs } = this.impairment;
    const start = Math.max(this.clock.now(), this.linkFreeAt);
    this.linkFreeAt = start + (bandwidthMbps === undefined ? 0 : (length * 8) / (bandwidthMbps * 1000));
    if (stallEveryKiB !== undefined && stallMs !== undefined) {
      this.sinceStall += length;
      const every = stallEveryKiB * 1024;
      if (this.sinceStall >= every) {
        this.linkFreeAt += stallMs * Math.floor(this.sinceStall / every);
        this.sinceStall %= every;
      }
    }
    return this.linkFreeAt + latencyMs;
  }

  /** Sends `length` bytes through the link: `send` runs when they arrive, in the order handed over. */
  schedule(length: number, send: () => void): void {
    if (this.stopped) return;
    this.queue.push({ at: this.arrival(length), length, send });
    this.queuedBytes += length;
    if (this.timer === undefined) this.arm();
  }

  /** Calls `resume` once fewer than `below` bytes wait (at once when that is already so). */
  whenBelow(below: number, resume: () => void): void {
    if (this.queuedBytes < below) resume();
    else this.waiters.push({ below, resume });
  }

  /** Drops what waits; nothing more is sent. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.queue.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
    this.waiters = [];
  }

  private arm(): void {
    const next = this.queue[this.head];
    if (next === undefined) return;
    this.timer = this.clock.setTimer(() => this.due(), next.at - this.clock.now());
  }

  private due(): void {
    this.timer = undefined;
    const now = this.clock.now();
    while (!this.stopped && this.head < this.queue.length && this.queue[this.head]!.at <= now + 0.5) {
      const item = this.queue[this.head++]!;
      this.queuedBytes -= item.length;
      item.send();
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    const ready = this.waiters.filter((w) => this.queuedBytes < w.below);
    this.waiters = this.waiters.filter((w) => this.queuedBytes >= w.below);
    for (const w of ready) w.resume();
    if (!this.stopped) this.arm();
  }
}
