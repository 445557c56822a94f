import { test, expect } from '../../fixtures.js';
import { frameKind } from '../../pcap-reader.js';
import { scenario } from '../../scenario.js';
import { LoopChecks, failureOf } from '../helpers.js';
import type { WatchEvent } from '../../../clients/smb/index.js';

test.describe('protocol', () => {
  test('ECHO is answered', scenario({ id: 'protocol/echo' }), async ({ client, traces }) => {
    await client.echo();
    const echo = traces.transcript.messages.filter((m) => m.command === 'ECHO');
    expect(echo.map((m) => `${m.direction} ${m.direction === 'receive' ? m.status : ''}`.trim())).toEqual(['send', 'receive STATUS_SUCCESS']);
  });

  test('a small file is written and read with compound CREATE+WRITE+CLOSE and CREATE+READ+CLOSE (read from the wire)', scenario({ id: 'protocol/compound-small-file' }), async ({ share, client, traces }) => {
    const { tree, dir } = share;
    await tree.writeFile(`${dir}/small.txt`, 'compound');
    expect((await tree.readFile(`${dir}/small.txt`)).toString()).toBe('compound');
    const commands = (m: { command: string }[]) => m.map((x) => x.command).join('+');
    const sent = traces.transcript.messages.filter((m) => m.direction === 'send');
    expect(commands(sent)).toContain('CREATE+WRITE+CLOSE');
    expect(commands(sent)).toContain('CREATE+READ+CLOSE');
    await client.close();
    // On the wire: requests whose first header has NextCommand set (a compound), clear or inside a transform.
    const frames = (await traces.wireFrames()).filter((f) => f.direction === 'send');
    const compounds = frames.filter((f) => frameKind(f.bytes) === 'transform' || (frameKind(f.bytes) === 'smb2' && f.bytes.readUInt32LE(20) !== 0));
    expect(compounds.length).toBeGreaterThanOrEqual(2);
  });

  test('10,000 small operations on one handle never run out of credits', scenario({ id: 'protocol/10000-operations' }), async ({ share }) => {
    const { tree, dir } = share;
    await tree.writeFile(`${dir}/c.txt`, 'credits');
    const handle = await tree.open(`${dir}/c.txt`, 'r');
    const total = 10_000;
    const checks = new LoopChecks();
    try {
      const concurrency = 64;
      let started = 0;
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (started < total && !checks.failed) {
          const operation = ++started;
          checks.equal(`operation ${operation} of ${total}: QUERY_INFO size`, (await handle.stat()).size, 7);
        }
      }));
    } finally {
      await handle.close();
    }
    expect(checks.failures, 'operations whose QUERY_INFO saw another size than the 7 bytes written').toEqual([]);
    expect(checks.checked, 'operations answered').toBe(total);
  });

  test('a watch sees a file created by a second connection, and cancelling it ends with STATUS_CANCELLED', scenario({ id: 'protocol/change-notify' }), async ({ share, connect, target, traces }) => {
    const { tree, dir } = share;
    const watcher = tree.watch(dir);
    const events: WatchEvent[] = [];
    const seen = (async () => {
      for await (const event of watcher) {
        events.push(event);
        if (event.name === 'from-elsewhere.txt') return event;
      }
      return undefined;
    })();
    await new Promise((r) => setTimeout(r, 200));
    const other = await connect();
    const otherTree = await other.connectTree(target.shares[0]!.name);
    await otherTree.writeFile(`${dir}/from-elsewhere.txt`, 'hi');
    const event = await Promise.race([seen, new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000))]);
    expect(event).toEqual({ action: 'added', name: 'from-elsewhere.txt' });
    const again = tree.watch(dir);
    const iterator = again[Symbol.asyncIterator]();
    const pending = iterator.next();
    await new Promise((r) => setTimeout(r, 200));
    await again.close();
    await watcher.close();
    expect(await pending).toMatchObject({ done: true });
    const notifyResponses = traces.transcript.messages.filter((m) => m.command === 'CHANGE_NOTIFY' && m.direction === 'receive');
    expect(notifyResponses.map((m) => m.status)).toContain('STATUS_CANCELLED');
  });

  test('a byte-range lock held by one handle is STATUS_LOCK_NOT_GRANTED for another, until unlocked', scenario({ id: 'protocol/lock-conflict' }), async ({ share, connect, target }) => {
    const { tree, dir } = share;
    await tree.writeFile(`${dir}/locked.bin`, Buffer.alloc(4096));
    const first = await tree.open(`${dir}/locked.bin`, 'r+');
    const other = await connect();
    const second = await (await other.connectTree(target.shares[0]!.name)).open(`${dir}/locked.bin`, 'r+');
    try {
      await first.lock(100, 200, { exclusive: true });
      const error = await failureOf(second.lock(150, 10, { exclusive: true }));
      expect(error).toMatchObject({ statusName: 'STATUS_LOCK_NOT_GRANTED', command: 'LOCK' });
      await second.lock(400, 10, { exclusive: true });
      await first.unlock(100, 200);
      await second.lock(150, 10, { exclusive: true });
      await second.unlock(150, 10);
      await second.unlock(400, 10);
    } finally {
      await first.close();
      await second.close();
    }
  });

  test('two connections at once see each other\'s files', scenario({ id: 'protocol/two-connections' }), async ({ share, connect, target }) => {
    const { tree, dir } = share;
    const other = await (await connect({ user: 'bob' })).connectTree(target.shares[0]!.name);
    await Promise.all([tree.writeFile(`${dir}/from-a.txt`, 'a'), other.writeFile(`${dir}/from-b.txt`, 'b')]);
    expect((await tree.readFile(`${dir}/from-b.txt`)).toString()).toBe('b');
    expect((await other.readFile(`${dir}/from-a.txt`)).toString()).toBe('a');
    expect((await tree.readdir(dir)).sort()).toEqual(['from-a.txt', 'from-b.txt']);
  });
});
