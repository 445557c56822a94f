/**
 * READs and WRITEs of 64 KiB (SMB 2.0.2, no LARGE_MTU) travel as compound chains against real
 * Samba, which answers them as chains; the bytes on the server's disk and read back are the
 * file's. A relay between client and server counts the messages of every frame each way.
 */
import { test, expect } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import { FrameReader } from './frame-reader.js';
import { Command, decodeHeader, splitCompound } from './wire/index.js';
import { connectAs, withTarget } from './native-target.fixture.js';

interface Traffic {
  /** For each frame carrying READs or WRITEs, the number of its messages, by direction. */
  requests: number[];
  responses: number[];
}

/** A relay to `port` that records how many messages each READ or WRITE frame carries. */
async function countingRelay(port: number): Promise<{ port: number; traffic: Traffic; close(): Promise<void> }> {
  const traffic: Traffic = { requests: [], responses: [] };
  const sockets: Socket[] = [];
  const count = (into: number[]) => new FrameReader((frame) => {
    const messages = splitCompound(Buffer.from(frame));
    const command = decodeHeader(messages[0]!).command;
    if (command === Command.Read || command === Command.Write) into.push(messages.length);
  });
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    sockets.push(client, upstream);
    const up = count(traffic.requests);
    const down = count(traffic.responses);
    client.on('data', (chunk: Buffer) => { up.push(chunk); upstream.write(chunk); });
    upstream.on('data', (chunk: Buffer) => { down.push(chunk); client.write(chunk); });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    traffic,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Messages that travelled in frames of more than one. */
function chainedShare(frames: readonly number[]): number {
  const total = frames.reduce((a, b) => a + b, 0);
  return total === 0 ? 0 : frames.filter((n) => n > 1).reduce((a, b) => a + b, 0) / total;
}

test('on 2.0.2, a 4 MiB write and read go as chains of up to 8 and come back as chains; the bytes on disk and read back are the file; ioChain 1 sends none', async () => {
  test.setTimeout(60_000);
  await withTarget('smb202-legacy', async (target) => {
    const share = target.share('data').localPath!;
    const relay = await countingRelay(target.port);
    try {
      const data = randomBytes(4 * 1024 * 1024 + 1000);
      const client = await connectAs(target, { port: relay.port });
      try {
        expect(client.negotiated.dialect).toBe('2.0.2');
        const tree = await client.connectTree('data');
        const handle = await tree.open('chained.bin', 'w');
        expect(await handle.write(data, 0)).toBe(data.length);
        await handle.close();
        expect(readFileSync(join(share, 'chained.bin')).equals(data)).toBe(true);

        const back = Buffer.alloc(data.length);
        const reader = await tree.open('chained.bin', 'r');
        expect(await reader.read(back, 0)).toBe(data.length);
        await reader.close();
        expect(back.equals(data)).toBe(true);
      } finally {
        await client.close();
      }
      // 65 WRITEs and 65 READs, each way in chains (the last messages of each may go alone).
      expect(Math.max(...relay.traffic.requests)).toBe(8);
      expect(Math.max(...relay.traffic.responses)).toBe(8);
      expect(chainedShare(relay.traffic.requests)).toBeGreaterThan(0.75);
      expect(chainedShare(relay.traffic.responses)).toBeGreaterThan(0.75);

      const onDisk = randomBytes(3 * 1024 * 1024 + 17);
      writeFileSync(join(share, 'alone.bin'), onDisk);
      const before = relay.traffic.requests.length;
      const alone = await connectAs(target, { port: relay.port, ioChain: 1 });
      try {
        const tree = await alone.connectTree('data');
        const reader = await tree.open('alone.bin', 'r');
        const back = Buffer.alloc(onDisk.length);
        expect(await reader.read(back, 0)).toBe(onDisk.length);
        await reader.close();
        expect(back.equals(onDisk)).toBe(true);
      } finally {
        await alone.close();
      }
      expect(relay.traffic.requests.slice(before).every((n) => n === 1)).toBe(true);
      expect(relay.traffic.requests.length - before).toBe(49);
    } finally {
      await relay.close();
    }
  });
});
