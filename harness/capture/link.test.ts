import { test, expect } from '@playwright/test';
import { ShapedDirection } from './link.js';
import type { LinkClock } from './link.js';
import { Impairment } from '../../servers/catalog/schema.js';

/** A clock the test moves by hand (runUntil: an absolute time); timers fire as it passes them. */
class ManualClock implements LinkClock {
  time = 0;
  private timers: Array<{ at: number; callback: () => void; live: boolean }> = [];
  now(): number {
    return this.time;
  }
  setTimer(callback: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.time + Math.max(0, ms), callback, live: true };
    this.timers.push(timer);
    return { cancel: () => (timer.live = false) };
  }
  runUntil(to: number): void {
    for (;;) {
      const next = this.timers.filter((t) => t.live && t.at <= to).sort((a, b) => a.at - b.at)[0];
      if (next === undefined) break;
      this.time = next.at;
      next.live = false;
      next.callback();
    }
    this.time = to;
  }
}

function link(input: Parameters<typeof Impairment.parse>[0]): { clock: ManualClock; direction: ShapedDirection; arrivals: Array<[string, number]>; send: (label: string, bytes: number) => void } {
  const clock = new ManualClock();
  const direction = new ShapedDirection(Impairment.parse(input), clock);
  const arrivals: Array<[string, number]> = [];
  return { clock, direction, arrivals, send: (label, bytes) => direction.schedule(bytes, () => arrivals.push([label, clock.time])) };
}

test('latency: every piece arrives its one-way delay after it was handed over, in order', () => {
  const { clock, arrivals, send } = link({ latencyMs: 20 });
  send('a', 100);
  clock.runUntil(5);
  send('b', 100);
  send('c', 0);
  clock.runUntil(100);
  expect(arrivals).toEqual([['a', 20], ['b', 25], ['c', 25]]);
});

test('bandwidth: 8 Mbit/s carries 1000 bytes a millisecond; pieces queue behind each other', () => {
  const { clock, arrivals, send, direction } = link({ latencyMs: 0, bandwidthMbps: 8 });
  send('a', 4000);
  send('b', 2000);
  expect(direction.queuedBytes).toBe(6000);
  clock.runUntil(100);
  expect(arrivals).toEqual([['a', 4], ['b', 6]]);
  expect(direction.queuedBytes).toBe(0);
  // An idle link starts afresh: the next piece waits only for its own transmission.
  clock.runUntil(150);
  send('c', 1000);
  clock.runUntil(400);
  expect(arrivals.at(-1)).toEqual(['c', 151]);
});

test('stalls: a pause after every so many KiB, on top of the latency', () => {
  const { clock, arrivals, send } = link({ latencyMs: 10, stallEveryKiB: 1, stallMs: 300 });
  send('a', 512);
  send('b', 512); // the first KiB is complete: the link stalls before it is free again
  send('c', 512);
  clock.runUntil(1000);
  expect(arrivals).toEqual([['a', 10], ['b', 310], ['c', 310]]);
});

test('whenBelow resumes a reader once the queue drains; stop drops what waits', () => {
  const { clock, send, direction, arrivals } = link({ latencyMs: 10 });
  send('a', 5000);
  send('b', 5000);
  let resumed = 0;
  direction.whenBelow(4000, () => resumed++);
  expect(resumed).toBe(0);
  clock.runUntil(10);
  expect(resumed).toBe(1);
  send('c', 10);
  direction.stop();
  clock.runUntil(100);
  expect(arrivals.map(([label]) => label)).toEqual(['a', 'b']);
  direction.whenBelow(1, () => resumed++);
  expect(resumed).toBe(2);
});

test('an impairment names its parts together: a stall needs its length', () => {
  expect(Impairment.safeParse({ stallEveryKiB: 64 }).success).toBe(false);
  expect(Impairment.safeParse({ latencyMs: -1 }).success).toBe(false);
  expect(Impairment.safeParse({ latencyMs: 10, bandwidthMbps: 100, extra: 1 }).success).toBe(false);
});
