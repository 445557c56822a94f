/**
 * The process the benchmark runs this client's transfers in (forked by bench/transfer.ts), as
 * smbclient runs in its own: it loads the client and nothing else, so what the client allocates
 * is measured against the client's heap, not the harness's (the catalog, its schema library).
 * That matters in Node: V8 answers the bulk buffers a transfer allocates with garbage
 * collections whose cost grows with everything else the heap holds (README "Performance").
 *
 * Each message from the parent is one transfer on a fresh connection; the answer is its
 * duration, timed here after a minor collection, and for streamed transfers this process's peak
 * RSS.
 */
import { readFileSync, writeFileSync, createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { SmbClient } from '../clients/smb/index.js';
import type { Tree } from '../clients/smb/index.js';

const MiB = 1 << 20;
const BLOCK = 8 * MiB;
const BLOCKS_IN_FLIGHT = 3;

export interface TransferJob {
  id: number;
  api: 'streams' | 'handle';
  direction: 'write' | 'read';
  local: string;
  remote: string;
  host: string;
  port: number;
  share: string;
  username: string;
  password: string;
}

export type TransferResult = { id: number; seconds: number; peakRss: number | undefined } | { id: number; error: string };

/** The kernel's record of this process's peak RSS (VmHWM), in bytes; undefined off Linux. */
function highWaterMark(): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Resets the high-water mark to the current RSS (`5` into /proc/self/clear_refs), so nothing
 * samples during the transfer (a 10 ms timer cost streamed transfers 10-20%). False off Linux.
 */
function resetHighWaterMark(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return highWaterMark() !== undefined;
  } catch {
    return false;
  }
}

/**
 * Copies in BLOCK pieces through BLOCKS_IN_FLIGHT reused buffers: block i goes into buffer
 * i % BLOCKS_IN_FLIGHT once that buffer's previous block has been written, so several blocks
 * are on their way at once. With one block at a time the server idles at the end of each
 * while the last responses of the block come back (measured: 2.0.2 and GCM writes 10% slower).
 * `read` returns the bytes it put in the buffer (0 at the end).
 */
async function copyInBlocks(
  read: (buffer: Buffer, position: number) => Promise<number>,
  write: (data: Buffer, position: number) => Promise<unknown>,
): Promise<void> {
  const buffers = Array.from({ length: BLOCKS_IN_FLIGHT }, () => Buffer.allocUnsafe(BLOCK));
  const free: Array<Promise<unknown>> = buffers.map(() => Promise.resolve());
  const reads: Array<Promise<number>> = [];
  const started: Array<Promise<unknown>> = [];
  const startRead = (block: number): void => {
    const slot = block % BLOCKS_IN_FLIGHT;
    const reading = free[slot]!.then(() => read(buffers[slot]!, block * BLOCK));
    reads[block] = reading;
    started.push(reading);
  };
  try {
    for (let block = 0; block < BLOCKS_IN_FLIGHT; block++) startRead(block);
    for (let block = 0; ; block++) {
      const length = await reads[block]!;
      if (length === 0) break;
      const slot = block % BLOCKS_IN_FLIGHT;
      const writing = write(buffers[slot]!.subarray(0, length), block * BLOCK);
      free[slot] = writing;
      started.push(writing);
      if (length < BLOCK) break;
      startRead(block + BLOCKS_IN_FLIGHT);
    }
  } finally {
    // Nothing may still be using the files when the caller closes them.
    const settled = await Promise.allSettled(started);
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  }
}

async function putWithHandle(tree: Tree, local: string, remote: string): Promise<void> {
  const source = await open(local, 'r');
  try {
    await using target = await tree.open(remote, 'w');
    await copyInBlocks(async (buffer, position) => (await source.read(buffer, 0, BLOCK, position)).bytesRead, (data, position) => target.write(data, position));
  } finally {
    await source.close();
  }
}

async function getWithHandle(tree: Tree, remote: string, local: string): Promise<void> {
  const target = await open(local, 'w');
  try {
    await using source = await tree.open(remote, 'r');
    await copyInBlocks((buffer, position) => source.read(buffer, position), (data, position) => target.write(data, 0, data.length, position));
  } finally {
    await target.close();
  }
}

/** One transfer on a fresh connection (smbclient connects for every command too). */
async function transfer(job: TransferJob): Promise<void> {
  const client = await SmbClient.connect({ host: job.host, port: job.port, username: job.username, password: job.password, timeoutMs: 60_000 });
  try {
    const tree = await client.connectTree(job.share);
    if (job.api === 'handle') {
      await (job.direction === 'write' ? putWithHandle(tree, job.local, job.remote) : getWithHandle(tree, job.remote, job.local));
    } else if (job.direction === 'write') {
      await pipeline(createReadStream(job.local, { highWaterMark: MiB }), tree.createWriteStream(job.remote));
    } else {
      await pipeline(tree.createReadStream(job.remote), createWriteStream(job.local));
    }
  } finally {
    await client.close();
  }
}

async function run(job: TransferJob): Promise<TransferResult> {
  try {
    // The young generation's garbage from the transfer before, collected. Not a full collection:
    // after one V8 marks the old generation again concurrently during the transfer, and on two
    // cores that took 20-25% more client CPU (2.0.2 reads: 0.94-1.04 against 1.13-1.23 times
    // smbclient, interleaved) for nothing a long-running program would see.
    (globalThis as { gc?: (options?: { type: 'minor' | 'major' }) => void }).gc?.({ type: 'minor' });
    const kernel = job.api === 'streams' && resetHighWaterMark();
    const start = process.hrtime.bigint();
    await transfer(job);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return { id: job.id, seconds, peakRss: kernel ? highWaterMark() : undefined };
  } catch (error) {
    return { id: job.id, error: error instanceof Error ? error.message : String(error) };
  }
}

if (process.send !== undefined) {
  process.on('message', (job: TransferJob) => {
    void run(job).then((result) => process.send?.(result));
  });
  // The benchmark ended (or died): nothing is left to do here.
  process.on('disconnect', () => process.exit(0));
}
