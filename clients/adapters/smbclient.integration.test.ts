import { test, expect } from '@playwright/test';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withTarget } from '../smb/native-target.fixture.js';
import { AdapterError } from './adapter.js';
import { smbclientAdapter } from './smbclient.js';

async function failure(promise: Promise<unknown>): Promise<AdapterError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AdapterError);
  return error as AdapterError;
}

test('smbclient holds one session for all its operations: each answer is its own, a failed one names its status and the next still works', async () => {
  await withTarget('smb311-gcm', async (target) => {
    const user = target.user();
    const local = target.share('data').localPath!;
    const session = await smbclientAdapter.connect({ host: target.host, port: target.port, share: 'data', username: user.username, password: user.password, timeoutMs: 20_000 });
    try {
      await session.mkdir('held');
      const data = Buffer.from('one smbclient, one logon\n');
      await session.writeFile('held/a.txt', data);
      expect(await readFile(join(local, 'held', 'a.txt'))).toEqual(data);
      await writeFile(join(local, 'held', 'from the server.txt'), 'xyz');
      expect((await session.readFile('held/a.txt')).equals(data)).toBe(true);
      expect(await session.stat('held/a.txt')).toEqual({ size: data.length, isDirectory: false });
      expect(await session.readdir('held')).toEqual([
        { name: 'a.txt', isDirectory: false, size: data.length },
        { name: 'from the server.txt', isDirectory: false, size: 3 },
      ]);
      const missing = await failure(session.readFile('held/none.txt'));
      expect([missing.statusName, missing.operation]).toEqual(['STATUS_OBJECT_NAME_NOT_FOUND', 'get']);
      // The failure ended neither the session nor the process: the answers stay in step.
      expect(await session.exists('held/none.txt')).toBe(false);
      await session.rename('held/a.txt', 'held/b.txt');
      expect(await session.exists('held/b.txt')).toBe(true);
      const sessions = (await target.serverSessions()).filter((s) => s.username === user.username);
      expect(sessions, 'the server\'s sessions of the user while the adapter session is open').toHaveLength(1);
    } finally {
      await session.close();
    }
    await expect.poll(async () => (await target.serverSessions()).filter((s) => s.username === user.username).length, { timeout: 5000 }).toBe(0);
  });
});

test('a refused logon or an unknown share fails connect with the server\'s status', async () => {
  await withTarget('smb311-gcm', async (target) => {
    const user = target.user();
    const refused = await failure(smbclientAdapter.connect({ host: target.host, port: target.port, share: 'data', username: user.username, password: 'wrong', timeoutMs: 20_000 }));
    expect(refused.statusName).toBe('STATUS_LOGON_FAILURE');
    const unknownShare = await failure(smbclientAdapter.connect({ host: target.host, port: target.port, share: 'nosuchshare', username: user.username, password: user.password, timeoutMs: 20_000 }));
    expect(unknownShare.statusName).toBe('STATUS_BAD_NETWORK_NAME');
  });
});
