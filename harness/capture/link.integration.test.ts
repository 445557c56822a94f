/**
 * The impaired link against a real smbd: what a client sees through the capture proxy of an
 * impaired variant (latency on every round trip, a bandwidth cap on bulk data, a reset after so
 * many bytes), and that the data still arrives whole.
 */
import { test, expect } from '@playwright/test';
import { findProfile, resolveProfiles } from '../../servers/catalog/index.js';
import { startNativeTarget } from '../../servers/samba/native.js';
import type { StartedNativeTarget } from '../../servers/samba/native.js';
import { SmbClient } from '../../clients/smb/client.js';
import type { Impairment } from '../../servers/catalog/schema.js';
import { CaptureProxy } from './proxy.js';
import { patternBytes } from '../scenarios/helpers.js';

test.describe.configure({ mode: 'serial' });
const profiles = resolveProfiles({});
let target: StartedNativeTarget;

test.beforeAll(async () => {
  target = await startNativeTarget(findProfile(profiles, 'smb311-gcm'));
});
test.afterAll(async () => {
  await target?.stop();
});

async function through<T>(impairment: Impairment, use: (client: SmbClient, proxy: CaptureProxy) => Promise<T>): Promise<T> {
  const proxy = await CaptureProxy.start({ upstreamHost: target.host, upstreamPort: target.port, impairment });
  try {
    const user = target.user();
    const client = await SmbClient.connect({ host: proxy.host, port: proxy.port, username: user.username, password: user.password, timeoutMs: 10_000 });
    try {
      return await use(client, proxy);
    } finally {
      await client.close().catch(() => undefined);
    }
  } finally {
    await proxy.close();
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

test('latency: an ECHO round trip costs at least twice the one-way delay, and none is added without it', async () => {
  const rtt = async (impairment: Impairment): Promise<number> => through(impairment, async (client) => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await client.echo();
      times.push(performance.now() - started);
    }
    return median(times);
  });
  const slow = await rtt({ latencyMs: 40 });
  const plain = await rtt({ latencyMs: 0 });
  expect(slow, `median ECHO round trip over 40 ms each way (plain link: ${plain.toFixed(1)} ms)`).toBeGreaterThanOrEqual(80);
  expect(slow, 'the delay is added once each way, not per chunk').toBeLessThan(200);
  expect(plain).toBeLessThan(40);
});

test('bandwidth: 2 MiB each way at 16 Mbit/s takes about a second each way, and the file comes back whole', async () => {
  const data = patternBytes(2 * 1024 * 1024, 77);
  await through({ latencyMs: 0, bandwidthMbps: 16 }, async (client) => {
    const tree = await client.connectTree('data');
    const started = performance.now();
    await tree.writeFile('link-bandwidth.bin', data);
    const wrote = performance.now() - started;
    const back = await tree.readFile('link-bandwidth.bin');
    const read = performance.now() - started - wrote;
    expect(back.equals(data), 'bytes read back equal bytes written').toBe(true);
    // 2 MiB is 16.8 Mbit: just over a second at 16 Mbit/s, each way.
    expect(wrote, 'ms to write 2 MiB').toBeGreaterThanOrEqual(1000);
    expect(read, 'ms to read 2 MiB').toBeGreaterThanOrEqual(1000);
  });
});

test('reset after N KiB: the client gets a TransportError and the proxy says the link reset the connection', async () => {
  await through({ latencyMs: 0, resetAfterKiB: 256 }, async (client, proxy) => {
    const tree = await client.connectTree('data');
    const error = await tree.writeFile('link-reset.bin', patternBytes(1024 * 1024, 5)).then(() => undefined, (e: Error) => e);
    expect(error?.name, `the write's error (${error?.message})`).toBe('TransportError');
    expect(proxy.closeEvents.map((e) => e.description).join('\n')).toContain('harness: the impaired link reset the connection after 256 KiB');
  });
});
