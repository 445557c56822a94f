import { test, expect } from '@playwright/test';
import { withCleanup } from './cleanup.js';
import { SecurityError, TransportError } from './errors.js';

const closed = new TransportError('connection to 127.0.0.1:445 is closed: bad signature');

test('the work failing: its error is the one thrown, the cleanup still ran and its own failure is dropped', async () => {
  const ran: string[] = [];
  const error = await withCleanup(async () => {
    throw new SecurityError('bad signature on QUERY_DIRECTORY response');
  }, async () => {
    ran.push('cleanup');
    throw closed;
  }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SecurityError);
  expect((error as Error).message).toBe('bad signature on QUERY_DIRECTORY response');
  expect(ran).toEqual(['cleanup']);
});

test('the work succeeding: its result, unless the cleanup fails, whose error is then the one thrown', async () => {
  expect(await withCleanup(async () => 42, async () => undefined)).toBe(42);
  await expect(withCleanup(async () => 42, async () => { throw closed; })).rejects.toBe(closed);
});
