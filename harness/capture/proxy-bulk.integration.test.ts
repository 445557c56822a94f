import { expect, test } from '@playwright/test';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CaptureProxy } from './proxy.js';

const execFileAsync = promisify(execFile);
const TOTAL = 64 * 1024 * 1024;
const CHUNK = 1024 * 1024;
const SNAP = 200;

test('64 MiB each way through the proxy arrive intact; with a snap length the pcap stays small and Wireshark reads it whole', async () => {
  test.setTimeout(180_000);
  const dir = await mkdtemp(join(tmpdir(), 'smb-interop-capture-bulk-'));
  const echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const pcapPath = join(dir, 'bulk.pcapng');
  const proxy = await CaptureProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: (echo.address() as { port: number }).port, pcapPath, snapLength: SNAP });
  try {
    const block = randomBytes(CHUNK);
    const sent = createHash('sha256');
    const received = createHash('sha256');
    const client = connect(proxy.port, proxy.host);
    let receivedBytes = 0;
    const done = new Promise<void>((resolve, reject) => {
      client.on('data', (chunk: Buffer) => {
        received.update(chunk);
        receivedBytes += chunk.length;
        if (receivedBytes === TOTAL) client.end();
      });
      client.on('close', () => resolve());
      client.on('error', reject);
    });
    await new Promise<void>((resolve) => client.once('connect', resolve));
    for (let written = 0; written < TOTAL; written += CHUNK) {
      const piece = Buffer.from(block);
      piece.writeUInt32BE(written / CHUNK, 0);
      sent.update(piece);
      if (!client.write(piece)) await new Promise((resolve) => client.once('drain', resolve));
    }
    await done;
    await proxy.close();
    expect(receivedBytes).toBe(TOTAL);
    expect(received.digest('hex')).toBe(sent.digest('hex'));
    expect(proxy.counters).toMatchObject({ connections: 1, bytesClientToServer: TOTAL, bytesServerToClient: TOTAL });

    const size = (await stat(pcapPath)).size;
    expect(size).toBeLessThan(8 * 1024 * 1024);
    const { stdout } = await execFileAsync('tshark', ['-r', pcapPath, '-T', 'fields', '-e', 'tcp.srcport', '-e', 'tcp.len', '-e', 'frame.cap_len', '-e', 'frame.len'],
      { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    let fromClient = 0;
    let fromServer = 0;
    let largestStored = 0;
    let largestFrame = 0;
    for (const line of stdout.split('\n').filter((l) => l !== '')) {
      const [port, length, stored, original] = line.split('\t').map(Number) as [number, number, number, number];
      if (port === 445) fromServer += length;
      else fromClient += length;
      largestStored = Math.max(largestStored, stored);
      largestFrame = Math.max(largestFrame, original);
    }
    expect({ fromClient, fromServer, largestStored }).toEqual({ fromClient: TOTAL, fromServer: TOTAL, largestStored: SNAP });
    expect(largestFrame).toBeLessThanOrEqual(14 + 65_535);
  } finally {
    await proxy.close();
    echo.close();
    await rm(dir, { recursive: true, force: true });
  }
});
