import { test, expect } from '@playwright/test';
import { mkdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { SmbError } from './errors.js';
import { connectAs, describeOnTarget, recorder, transcript } from './native-target.fixture.js';
import type { WatchEvent, Watcher } from './watch.js';

const TARGETS = ['smb302-ccm', 'smb311-gcm', 'smb311-signing-gmac', 'smb202-legacy'];

async function statusOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof SmbError)) throw new Error(`expected an SmbError, got ${String(error)}`);
  return error.statusName;
}

/** Events of the watcher up to and including the first that `wanted` accepts; fails after 10 s. */
async function until(iterator: AsyncIterator<WatchEvent>, wanted: (event: WatchEvent) => boolean): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no wanted event within 10 s; saw ${JSON.stringify(events)}`)), 10_000);
  });
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), deadline]);
      if (next.done === true) throw new Error(`the watch ended; saw ${JSON.stringify(events)}`);
      events.push(next.value);
      if (wanted(next.value)) return events;
    }
  } finally {
    clearTimeout(timer);
  }
}

const is = (action: WatchEvent['action'], name: string) => (event: WatchEvent) => event.action === action && event.name === name;

for (const name of TARGETS) describeOnTarget(name, (context) => {
  test('byte-range locks: a second handle gets STATUS_LOCK_NOT_GRANTED on a locked range, waits with wait: true', async () => {
    const { tree } = context();
    await tree.writeFile('locked.bin', Buffer.alloc(1000));
    await using first = await tree.open('locked.bin', 'r+');
    await using second = await tree.open('locked.bin', 'r+');
    await first.lock(0, 100);
    expect(await statusOf(second.lock(50, 10))).toBe('STATUS_LOCK_NOT_GRANTED');
    await second.lock(100, 10);
    await first.lock(200, 10, { exclusive: false });
    await second.lock(200, 10, { exclusive: false });
    expect(await statusOf(second.lock(0, 1, { exclusive: false }))).toBe('STATUS_LOCK_NOT_GRANTED');
    const waiting = second.lock(0, 50, { wait: true });
    let granted = false;
    void waiting.then(() => { granted = true; }, () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(granted).toBe(false);
    await first.unlock(0, 100);
    await waiting;
    expect(await statusOf(first.lock(10, 1))).toBe('STATUS_LOCK_NOT_GRANTED');
    await second.unlock(0, 50);
    await first.lock(10, 1);
  });

  test('watch sees what a second connection does; close() cancels with STATUS_CANCELLED', async () => {
    const { target, root } = context();
    mkdirSync(join(root, 'watched', 'sub'), { recursive: true });
    chmodSync(join(root, 'watched'), 0o777);
    chmodSync(join(root, 'watched', 'sub'), 0o777);
    const observer = recorder();
    const watching = await connectAs(target, { observer, timeoutMs: 30_000 });
    const other = await connectAs(target, { timeoutMs: 30_000 });
    let watcher: Watcher | undefined;
    try {
      const tree = await watching.connectTree('data');
      const otherTree = await other.connectTree('data');
      watcher = tree.watch('watched', { recursive: true });
      const iterator = watcher[Symbol.asyncIterator]();
      // The first CHANGE_NOTIFY must be pending before the change, or the server has nothing to report it to.
      await expect.poll(() => transcript(observer.messages).filter((line) => line.startsWith('receive CHANGE_NOTIFY STATUS_PENDING')).length).toBe(1);
      await otherTree.writeFile('watched/new file.txt', 'hello');
      expect((await until(iterator, is('added', 'new file.txt')))[0]).toEqual({ action: 'added', name: 'new file.txt' });
      await otherTree.writeFile('watched/sub/deep.txt', 'x');
      await until(iterator, is('added', 'sub/deep.txt'));
      await otherTree.rename('watched/new file.txt', 'watched/renamed.txt');
      // smbd reports a rename as the pair FILE_ACTION_RENAMED_OLD_NAME/NEW_NAME, or, when the
      // kernel's notification reaches the watching smbd first (seen under load), as a removal
      // and an addition: either way the old name goes and the new one comes.
      const renamed = await until(iterator, (event) => event.name === 'renamed.txt' && (event.action === 'renamed-to' || event.action === 'added'));
      const arrived = renamed.at(-1)!;
      const left = arrived.action === 'renamed-to' ? 'renamed-from' : 'removed';
      expect(renamed, JSON.stringify(renamed)).toContainEqual({ action: left, name: 'new file.txt' });
      if (arrived.action === 'renamed-to') expect(renamed.slice(-2)).toEqual([{ action: 'renamed-from', name: 'new file.txt' }, { action: 'renamed-to', name: 'renamed.txt' }]);
      // Cancel a CHANGE_NOTIFY the server holds (not one it answers at once with changes it buffered).
      const lastNotify = () => transcript(observer.messages).filter((line) => line.includes(' CHANGE_NOTIFY')).at(-1);
      await expect.poll(lastNotify).toMatch(/^receive CHANGE_NOTIFY STATUS_PENDING/);
      await watcher.close();
      expect(await iterator.next()).toEqual({ done: true, value: undefined });
      const lines = transcript(observer.messages);
      expect(lines).toContain(`send CANCEL${lines.some((l) => l.includes('encrypted')) ? ' encrypted' : ''}${watching.negotiated.signingOn ? ' signed' : ''}`);
      expect(lines.filter((line) => line.startsWith('receive CHANGE_NOTIFY STATUS_CANCELLED')), lines.join('\n')).toHaveLength(1);
      await watcher.close();
    } finally {
      await watcher?.close();
      await watching.close();
      await other.close();
    }
  });

  test('a watch ended by an AbortSignal', async () => {
    const { tree } = context();
    await tree.mkdir('watched-abort');
    const controller = new AbortController();
    const watcher = tree.watch('watched-abort', { signal: controller.signal });
    const iterator = watcher[Symbol.asyncIterator]();
    const next = iterator.next();
    setTimeout(() => controller.abort(), 200);
    expect(await next).toEqual({ done: true, value: undefined });
  });
});
