import { test, expect } from '@playwright/test';
import { ProtocolError } from './errors.js';
import { pipelined, readData } from './io.js';
import { NtStatus, encodeReadResponse } from './wire/index.js';

const response = (data: Buffer, status: number = NtStatus.Success) => ({ status, message: Buffer.concat([Buffer.alloc(64), encodeReadResponse(data)]) });

test('readData: the data as a view, empty at end of file, more than asked is a ProtocolError', () => {
  const ok = response(Buffer.from('hello'));
  expect(readData(ok, 5).toString()).toBe('hello');
  expect(readData(ok, 5).buffer).toBe(ok.message.buffer);
  expect(readData({ status: NtStatus.EndOfFile, message: Buffer.alloc(72) }, 5)).toHaveLength(0);
  const error = (() => { try { readData(response(Buffer.alloc(10)), 5); } catch (e) { return e; } })();
  expect(error).toBeInstanceOf(ProtocolError);
  expect(error).toMatchObject({ field: 'READ response.DataLength', message: 'READ response: DataLength 10 exceeds the 5 bytes requested' });
});

test('pipelined keeps at most `window` tasks running, runs each once, and the first failure wins', async () => {
  let running = 0;
  let peak = 0;
  const done: number[] = [];
  await pipelined(20, 3, async (i) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setTimeout(resolve, (i * 7) % 5));
    running--;
    done.push(i);
  });
  expect(peak).toBe(3);
  expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));

  const started: number[] = [];
  const failure = await pipelined(20, 2, async (i) => {
    started.push(i);
    if (i === 3) throw new Error('task 3 failed');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }).catch((e: unknown) => e as Error);
  expect(failure).toBeInstanceOf(Error);
  expect((failure as Error).message).toBe('task 3 failed');
  expect(started.length).toBeLessThan(20); // no new tasks after the failure
});
