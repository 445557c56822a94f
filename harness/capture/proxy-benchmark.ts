/**
 * Benchmark of the capture proxy: relays a bulk transfer both ways through it (to a local echo
 * server) and prints throughput, pcap size and memory, with and without a snap length. The pcap
 * is written as bytes flow, so peak memory must not grow with the transfer size.
 *
 *   npm run build && node dist/harness/capture/proxy-benchmark.js [MiB]
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureProxy } from './proxy.js';

const MiB = 1024 * 1024;

interface Figures {
  label: string;
  seconds: number;
  pcapBytes: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
}

async function relay(totalBytes: number, label: string, snapLength: number | undefined): Promise<Figures> {
  const dir = await mkdtemp(join(tmpdir(), 'smb-interop-capture-bench-'));
  const echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const pcapPath = join(dir, 'bench.pcapng');
  const options: Parameters<typeof CaptureProxy.start>[0] = { upstreamHost: '127.0.0.1', upstreamPort: (echo.address() as AddressInfo).port, pcapPath };
  if (snapLength !== undefined) options.snapLength = snapLength;
  const proxy = await CaptureProxy.start(options);
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
  const started = performance.now();
  try {
    const client = connect(proxy.port, proxy.host);
    await new Promise<void>((resolve) => client.once('connect', resolve));
    let received = 0;
    const done = new Promise<void>((resolve, reject) => {
      client.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= totalBytes) resolve();
      });
      client.on('error', reject);
    });
    const block = Buffer.alloc(MiB, 0x5a);
    for (let sent = 0; sent < totalBytes; sent += MiB) {
      if (!client.write(block)) await new Promise((resolve) => client.once('drain', resolve));
    }
    await done;
    client.end();
    const seconds = (performance.now() - started) / 1000;
    await proxy.close();
    return { label, seconds, pcapBytes: (await stat(pcapPath)).size, rssBeforeMiB: rssBefore / MiB, rssPeakMiB: rssPeak / MiB };
  } finally {
    clearInterval(sampler);
    await proxy.close();
    echo.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const mib = Number(process.argv[2] ?? 256);
  if (!Number.isInteger(mib) || mib < 1) throw new Error(`proxy-benchmark: the size must be a whole number of MiB, got ${process.argv[2]}`);
  const total = mib * MiB;
  console.log(`relaying ${mib} MiB each way through the capture proxy`);
  console.log('run                 seconds  MiB/s (each way)  pcap MiB  RSS before  RSS peak');
  for (const [label, snap] of [['full payload', undefined], ['snapLength 256', 256]] as const) {
    const f = await relay(total, label, snap);
    console.log([
      f.label.padEnd(18),
      f.seconds.toFixed(2).padStart(8),
      (mib / f.seconds).toFixed(0).padStart(17),
      (f.pcapBytes / MiB).toFixed(1).padStart(9),
      f.rssBeforeMiB.toFixed(0).padStart(11),
      f.rssPeakMiB.toFixed(0).padStart(9),
    ].join(' '));
  }
}

await main();
