/** Small helpers shared by the scenario files: deterministic data, hashes, the disk oracle. */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** mulberry32: a small seeded PRNG, so a failing random scenario replays exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `size` bytes that depend only on `seed` (fast: a PRNG word per 4 bytes). */
export function patternBytes(size: number, seed: number): Buffer {
  const random = seededRandom(seed);
  const out = Buffer.allocUnsafe(size);
  let i = 0;
  for (; i + 4 <= size; i += 4) out.writeUInt32LE((random() * 4294967296) >>> 0, i);
  for (; i < size; i++) out[i] = (random() * 256) & 0xff;
  return out;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The server's disk, when the target gives access to it; undefined otherwise. */
export async function onDisk(localDir: string | undefined, path: string): Promise<Buffer | undefined> {
  if (localDir === undefined) return undefined;
  return readFile(join(localDir, path));
}

export async function sizeOnDisk(localDir: string, path: string): Promise<number> {
  return (await stat(join(localDir, path))).size;
}

/** The error a promise rejects with; fails when it resolves. */
export async function failureOf(promise: Promise<unknown>): Promise<Error & { statusName?: string; command?: string }> {
  return promise.then(
    () => {
      throw new Error('expected a failure, but the operation succeeded');
    },
    (error: Error) => error,
  );
}
