import { test, expect } from '@playwright/test';
import { REUSED_BYTES_LIMIT, REUSED_FRAME_MINIMUM, SendBuffers } from './send-buffers.js';

const MiB = 1 << 20;
/** A sealed 1 MiB WRITE: TRANSFORM_HEADER, SMB2 header, WRITE fields, data. */
const WRITE_FRAME = 52 + 64 + 48 + MiB;

test('a frame given back is handed out again for a message of its size, not before', () => {
  const buffers = new SendBuffers();
  const first = buffers.take(WRITE_FRAME);
  const second = buffers.take(WRITE_FRAME);
  expect(first.length).toBe(WRITE_FRAME);
  expect(second.buffer).not.toBe(first.buffer);
  buffers.give(first);
  expect(buffers.kept).toBe(first.buffer.byteLength);
  const again = buffers.take(WRITE_FRAME - 100);
  expect(again.buffer).toBe(first.buffer);
  expect(again.length).toBe(WRITE_FRAME - 100);
  expect(buffers.kept).toBe(0);
  // Nothing is kept now: the next frame is new memory, not the one still out (`second`).
  const third = buffers.take(WRITE_FRAME);
  expect(third.buffer).not.toBe(second.buffer);
  expect(third.buffer).not.toBe(first.buffer);
});

test('frames of another size class, small frames and frames not from take() are not kept', () => {
  const buffers = new SendBuffers();
  const large = buffers.take(WRITE_FRAME);
  buffers.give(large);
  const other = buffers.take(4 * MiB);
  expect(other.buffer).not.toBe(large.buffer);
  expect(buffers.kept).toBe(large.buffer.byteLength);
  const small = buffers.take(REUSED_FRAME_MINIMUM - 1);
  buffers.give(small);
  buffers.give(Buffer.alloc(REUSED_FRAME_MINIMUM + 1));
  expect(buffers.kept).toBe(large.buffer.byteLength);
});

test('a frame given back twice is kept once; what is kept stays under the limit; clear() lets go of it all, for good', () => {
  const buffers = new SendBuffers();
  const frame = buffers.take(WRITE_FRAME);
  buffers.give(frame);
  buffers.give(frame);
  expect(buffers.kept).toBe(frame.buffer.byteLength);
  const frames = Array.from({ length: 40 }, () => buffers.take(WRITE_FRAME));
  for (const each of frames) buffers.give(each);
  expect(buffers.kept).toBeLessThanOrEqual(REUSED_BYTES_LIMIT);
  expect(buffers.kept).toBeGreaterThan(REUSED_BYTES_LIMIT - frame.buffer.byteLength - 1);
  buffers.clear();
  expect(buffers.kept).toBe(0);
  const after = buffers.take(WRITE_FRAME);
  expect(after.buffer).not.toBe(frames[0]!.buffer);
  // A send completing after the connection ended gives its frame back to nothing.
  buffers.give(after);
  expect(buffers.kept).toBe(0);
});
