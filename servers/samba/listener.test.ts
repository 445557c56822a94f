import { test, expect } from '@playwright/test';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { claimPort, freeLoopbackPort } from '../ports.js';
import { LISTENER_HELD_IN_CONTAINER, listenerHeldBy, listeningInodes, portHeldByAnother } from './listener.js';

async function listening(host: string): Promise<{ server: Server; port: number }> {
  const server = createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  return { server, port: typeof address === 'object' && address !== null ? address.port : 0 };
}

test('the listener on a port is found in /proc and belongs to the process that holds it, not to another', async () => {
  const { server, port } = await listening('127.0.0.1');
  const other = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    expect(listeningInodes(port)?.length).toBe(1);
    expect(portHeldByAnother(port)).toBe(true);
    expect(listenerHeldBy(process.pid, port)).toBe(true);
    expect(listenerHeldBy(other.pid!, port)).toBe(false);
  } finally {
    other.kill();
    server.close();
  }
  await once(server, 'close');
  expect(listeningInodes(port)).toEqual([]);
  expect(listenerHeldBy(process.pid, port)).toBe(false);
  expect(portHeldByAnother(port)).toBe(false);
});

test('an IPv6 listener is found as well', async () => {
  let ipv6: { server: Server; port: number };
  try {
    ipv6 = await listening('::1');
  } catch (error) {
    test.skip(true, `no IPv6 loopback here: ${(error as Error).message}`);
    return;
  }
  try {
    expect(listenerHeldBy(process.pid, ipv6.port)).toBe(true);
  } finally {
    ipv6.server.close();
  }
});

test("the container's sh check exits 0 for a port some process it sees listens on, 1 for a free port", async () => {
  const { server, port } = await listening('127.0.0.1');
  try {
    const held = spawnSync('sh', ['-c', LISTENER_HELD_IN_CONTAINER, 'sh', String(port)], { encoding: 'utf8' });
    expect(held.status, held.stderr).toBe(0);
  } finally {
    server.close();
  }
  await once(server, 'close');
  const free = spawnSync('sh', ['-c', LISTENER_HELD_IN_CONTAINER, 'sh', String(port)], { encoding: 'utf8' });
  expect(free.status, free.stderr).toBe(1);
});

test('a port is handed out once: targets starting together never share one', async () => {
  expect(claimPort(1)).toBe(true);
  expect(claimPort(1)).toBe(false);
  const ports = await Promise.all(Array.from({ length: 64 }, () => freeLoopbackPort()));
  expect(new Set(ports).size).toBe(ports.length);
  for (const port of ports) expect(claimPort(port)).toBe(false);
});
