import { expect, test } from '@playwright/test';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
// The child runs the built JavaScript: `npm run test:integration` builds before it runs.
const BUILT_PROXY = fileURLToPath(new URL('../../dist/harness/capture/proxy.js', import.meta.url));

/**
 * A process that relays one echoed message through a proxy, then stays alive after the signal (as
 * a test runner's graceful shutdown would) and reports whether its own proxy still accepts and
 * whether the open connection was ended.
 */
function childScript(pcapPath: string, signal: string): string {
  return `
    const { CaptureProxy } = await import(${JSON.stringify(pathToFileURL(BUILT_PROXY).href)});
    const net = await import('node:net');
    const echo = net.createServer((s) => s.pipe(s));
    await new Promise((r) => echo.listen(0, '127.0.0.1', r));
    const proxy = await CaptureProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: echo.address().port, pcapPath: ${JSON.stringify(pcapPath)} });
    const client = net.connect(proxy.port, proxy.host);
    let clientClosed = false;
    client.on('close', () => (clientClosed = true));
    client.on('error', () => undefined);
    client.write('abc');
    await new Promise((r) => client.once('data', r));
    process.on(${JSON.stringify(signal)}, () => {
      const probe = net.connect(proxy.port, '127.0.0.1');
      const report = (result) => {
        probe.destroy();
        setTimeout(() => {
          process.stdout.write(JSON.stringify({ probe: result, clientClosed }) + '\\n');
          process.exit(0);
        }, 50);
      };
      probe.on('connect', () => report('accepted'));
      probe.on('error', (error) => report(error.code));
    });
    process.stdout.write('ready\\n');
    setInterval(() => undefined, 1000);
  `;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} to a process holding a proxy that lives on: the listener and connections are gone, the pcap is complete`, async () => {
    test.skip(!existsSync(BUILT_PROXY), `${BUILT_PROXY} is missing: run npm run build first`);
    const dir = await mkdtemp(join(tmpdir(), 'smb-interop-capture-signal-'));
    try {
      const pcapPath = join(dir, 'trace.pcapng');
      const child = spawn(process.execPath, ['--input-type=module', '-e', childScript(pcapPath, signal)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const lines: string[] = [];
      let notify: () => void = () => undefined;
      child.stdout.on('data', (d: Buffer) => {
        lines.push(...d.toString().split('\n').filter((l) => l !== ''));
        notify();
      });
      const waitForLine = (n: number): Promise<void> => new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the child printed ${lines.length} of ${n} lines within 20 s`)), 20_000);
        notify = () => {
          if (lines.length >= n) {
            clearTimeout(timer);
            resolve();
          }
        };
        notify();
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await waitForLine(1);
      expect(lines[0]).toBe('ready');
      child.kill(signal);
      await waitForLine(2);
      expect(await exited).toBe(0);
      expect(JSON.parse(lines[1]!)).toEqual({ probe: 'ECONNREFUSED', clientClosed: true });
      const { stdout } = await execFileAsync('tshark', ['-r', pcapPath, '-T', 'fields', '-e', 'tcp.len'], { timeout: 30_000 });
      expect(stdout.split('\n').filter((l) => l !== '')).toEqual(['0', '0', '0', '3', '0', '3', '0']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
