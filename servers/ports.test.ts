import { test, expect } from '@playwright/test';
import { PortTakenError, TargetStartError } from './errors.js';
import { PORT_ATTEMPTS, startOnFreePort } from './ports.js';

test('a start whose port another server took is tried again on a new port, up to three ports', async () => {
  const tried: number[] = [];
  const error = await startOnFreePort('127.0.0.1', async (port) => {
    tried.push(port);
    return new PortTakenError('t@native', '127.0.0.1', port);
  }).catch((e: unknown) => e);
  expect(PORT_ATTEMPTS).toBe(3);
  expect(tried).toHaveLength(3);
  expect(new Set(tried).size).toBe(3);
  expect(error).toBeInstanceOf(PortTakenError);
  expect((error as Error).message).toBe(`cannot start t@native: 127.0.0.1:${tried[2]} answers, but not from this smbd (another server took the port first)`);
});

test('any other start failure ends the attempts at once; a server ends them with itself', async () => {
  let calls = 0;
  const failure = await startOnFreePort('127.0.0.1', async () => {
    calls++;
    return new TargetStartError('t@native', 'smbd ended during startup (exit code 1)', 'the last words');
  }).catch((e: unknown) => e);
  expect(calls).toBe(1);
  expect((failure as Error).message).toBe('cannot start t@native: smbd ended during startup (exit code 1)\n--- smbd log (last lines) ---\nthe last words');

  const indexes: number[] = [];
  const started = await startOnFreePort('127.0.0.1', async (port, index) => {
    indexes.push(index);
    return index === 0 ? new PortTakenError('t@native', '127.0.0.1', port) : { port, index };
  });
  expect(indexes).toEqual([0, 1]);
  expect(started.index).toBe(1);
});
