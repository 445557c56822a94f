import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test, expect } from '../../fixtures.js';
import { forEachClient, scenario } from '../../scenario.js';
import type { WireMessage } from '../../capture/wire-decode.js';
import { LoopChecks, described, failureOf, kerberosSessionUsers, logons } from '../helpers.js';
import { wireSessions } from '../../wire-proof.js';
import type { WatchEvent } from '../../../clients/smb/index.js';

/** Portable: two sessions of the cell's client at once, judged on the wire and the server's disk. */
forEachClient((client, suffix) => {
  test.describe(`protocol${suffix}`, () => {
    test(`two sessions as two users at once see each other's files, on the server's disk too${suffix}`, scenario({ id: 'protocol/two-connections', client }), async ({ adapter, openAdapter, target, cellWire, traces }) => {
      const { session, dir, local } = adapter;
      const other = await openAdapter({ user: 'bob' });
      await Promise.all([session.writeFile(`${dir}/from-a.txt`, Buffer.from('a')), other.writeFile(`${dir}/from-b.txt`, Buffer.from('b'))]);
      expect((await session.readFile(`${dir}/from-b.txt`)).toString()).toBe('b');
      expect((await other.readFile(`${dir}/from-a.txt`)).toString()).toBe('a');
      expect((await session.readdir(dir)).map((e) => e.name)).toEqual(['from-a.txt', 'from-b.txt']);
      if (local !== undefined) expect([(await stat(join(local, 'from-a.txt'))).size, (await stat(join(local, 'from-b.txt'))).size]).toEqual([1, 1]);
      await other.close();
      await session.close();
      // Two users, each logged on by the server: NTLM logons name theirs on the wire; Kerberos ones
      // only in the server's audit (a ticket's client name travels encrypted).
      const wire = await cellWire();
      const expected = [target.user().username, target.user('bob').username].map((u) => u.toLowerCase()).sort();
      const users = (): string[] => {
        const ntlm = logons(wire).filter((l) => l.response?.header.status === 0).map((l) => l.authenticate.user.toLowerCase());
        const kerberos = wireSessions(wire).some((s) => s.authMechanism === 'kerberos') ? kerberosSessionUsers(target.logSince(traces.started)) : [];
        return [...new Set([...ntlm, ...kerberos])].sort();
      };
      await expect.poll(users, { timeout: 5000, message: 'users logged on (NTLM on the wire, Kerberos in the server\'s audit)' }).toEqual(expected);
    });
  });
});

/** The requests of each frame a connection sent: a compound chain is several in one frame. */
function sentChains(messages: readonly WireMessage[]): string[] {
  const chains = new Map<string, string[]>();
  for (const m of messages.filter((x) => x.direction === 'send')) {
    const key = `${m.connection}/${m.frame}`;
    chains.set(key, [...(chains.get(key) ?? []), m.header.command]);
  }
  return [...chains.values()].map((c) => c.join('+'));
}

/**
 * This project's client only: ECHO and byte-range locks are not plug-in operations, and the
 * subjects of the others are its own API (compounding choices, FileHandle, the watch iterator).
 */
test.describe('protocol', () => {
  test('ECHO is answered (read from the wire)', scenario({ id: 'protocol/echo' }), async ({ client, cellWire }) => {
    await client.echo();
    await client.close();
    const echo = (await cellWire()).messages.filter((m) => m.header.command === 'ECHO');
    expect(echo.map(described).map((d) => d.replace(/ \((encrypted|signed)\)$/, ''))).toEqual(['ECHO request', 'ECHO response STATUS_SUCCESS']);
  });

  test('a small file is written and read with compound CREATE+WRITE+CLOSE and CREATE+READ+CLOSE (read from the wire)', scenario({ id: 'protocol/compound-small-file' }), async ({ share, client, cellWire }) => {
    const { tree, dir } = share;
    await tree.writeFile(`${dir}/small.txt`, 'compound');
    expect((await tree.readFile(`${dir}/small.txt`)).toString()).toBe('compound');
    await client.close();
    const chains = sentChains((await cellWire()).messages);
    expect(chains, 'requests sent in one frame').toContain('CREATE+WRITE+CLOSE');
    expect(chains, 'requests sent in one frame').toContain('CREATE+READ+CLOSE');
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

  test('a watch sees a file created by a second connection, and cancelling it ends with STATUS_CANCELLED', scenario({ id: 'protocol/change-notify' }), async ({ share, client, connect, target, cellWire }) => {
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
    await other.close();
    await client.close();
    const notifyResponses = (await cellWire()).messages.filter((m) => m.header.command === 'CHANGE_NOTIFY' && m.direction === 'receive');
    expect(notifyResponses.map((m) => m.header.statusName)).toContain('STATUS_CANCELLED');
  });

  test('a byte-range lock held by one handle is STATUS_LOCK_NOT_GRANTED for another, until unlocked', scenario({ id: 'protocol/lock-conflict' }), async ({ share, client, connect, target, cellWire }) => {
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
    await other.close();
    await client.close();
    // The refusal is the server's: its LOCK answers on the wire.
    const locks = (await cellWire()).messages.filter((m) => m.header.command === 'LOCK' && m.direction === 'receive');
    expect(locks.map((m) => m.header.statusName)).toEqual(['STATUS_SUCCESS', 'STATUS_LOCK_NOT_GRANTED', 'STATUS_SUCCESS', 'STATUS_SUCCESS', 'STATUS_SUCCESS', 'STATUS_SUCCESS', 'STATUS_SUCCESS']);
  });
});
