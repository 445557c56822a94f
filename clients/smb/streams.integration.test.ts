import { test, expect } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream as createDiskReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SmbError } from './errors.js';
import { ioSize, readRequest } from './io.js';
import { describeOnTarget } from './native-target.fixture.js';

const TARGETS = ['smb302-ccm', 'smb311-gcm', 'smb311-signing-gmac', 'smb202-legacy'];
const MiB = 1 << 20;

/** `total` bytes in 64 KiB chunks, each different (its index is stamped into it). */
function generated(total: number): Readable {
  const block = randomBytes(MiB);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(65536, total - sent);
      const chunk = Buffer.allocUnsafe(size);
      block.copy(chunk, 0, sent % MiB, (sent % MiB) + size);
      if (size >= 8) chunk.writeDoubleLE(sent, 0);
      sent += size;
      this.push(chunk);
    },
  });
}

/** A pass-through sink that hashes what goes by. */
function hasher(): { sink: Writable; digest(): string } {
  const hash = createHash('sha256');
  return {
    sink: new Writable({ write(chunk: Buffer, _encoding, callback) { hash.update(chunk); callback(); } }),
    digest: () => hash.digest('hex'),
  };
}

async function diskDigest(path: string): Promise<string> {
  const { sink, digest } = hasher();
  await pipeline(createDiskReadStream(path), sink);
  return digest();
}

/** Peak RSS growth over the baseline while `work` runs, sampled every 20 ms. */
async function peakGrowth(work: () => Promise<void>): Promise<number> {
  globalThis.gc?.();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, 20);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, process.memoryUsage.rss()) - baseline;
}

for (const name of TARGETS) describeOnTarget(name, (context) => {
  test('a 256 MiB file streamed up and down with bounded memory, equal to the bytes on disk', async () => {
    const { tree, root } = context();
    const size = 256 * MiB + 12345;
    const sent = hasher();
    const upGrowth = await peakGrowth(async () => {
      const source = generated(size);
      source.on('data', (chunk: Buffer) => sent.sink.write(chunk));
      await pipeline(source, tree.createWriteStream('big.bin'));
    });
    const expected = sent.digest();
    expect(await diskDigest(join(root, 'big.bin'))).toBe(expected);
    const received = hasher();
    const downGrowth = await peakGrowth(() => pipeline(tree.createReadStream('big.bin'), received.sink));
    expect(received.digest()).toBe(expected);
    expect(upGrowth, 'RSS growth while writing').toBeLessThan(150 * MiB);
    expect(downGrowth, 'RSS growth while reading').toBeLessThan(150 * MiB);
  });

  test('READ responses from smbd land in the reader\'s buffer (except with CCM), equal to the bytes on disk', async () => {
    const { tree, root } = context();
    const data = randomBytes(2 * MiB);
    await tree.writeFile('placed.bin', data);
    expect(readFileSync(join(root, 'placed.bin')).equals(data)).toBe(true);
    await using handle = await tree.open('placed.bin', 'r');
    const size = ioSize(tree, 'read');
    const into = Buffer.alloc(size, 0xee);
    const response = await tree.request(readRequest(handle.fileId, MiB, size, handle.path, into));
    // CCM decrypts only whole messages; clear, signed and GCM responses are received in place.
    if (name === 'smb302-ccm') {
      expect(response.placed).toBeUndefined();
    } else {
      expect(response.placed?.buffer).toBe(into.buffer);
      expect(response.placed?.byteOffset).toBe(into.byteOffset);
    }
    expect(response.signatureVerified).toBe(name === 'smb311-signing-gmac');
    const buffer = Buffer.alloc(MiB + 10);
    expect(await handle.read(buffer, MiB - 10)).toBe(MiB + 10);
    expect(buffer.equals(data.subarray(MiB - 10))).toBe(true);
    if (response.placed !== undefined) expect(into.equals(data.subarray(MiB, MiB + size))).toBe(true);
  });

  test('stream ranges, append and errors', async () => {
    const { tree, root } = context();
    const data = randomBytes(3 * MiB + 7);
    await tree.writeFile('range.bin', data);
    const parts: Buffer[] = [];
    await pipeline(tree.createReadStream('range.bin', { start: 10, end: 2 * MiB + 99 }), new Writable({
      write(chunk: Buffer, _encoding, callback) { parts.push(chunk); callback(); },
    }));
    expect(Buffer.concat(parts).equals(data.subarray(10, 2 * MiB + 100))).toBe(true);
    // Where responses land in place, one READ (up to 8 MiB) answers the whole range and is pushed
    // as it came; with CCM the READs are of 1 MiB, and on 2.0.2 (no LARGE_MTU) the 64 KiB ones
    // are gathered into 1 MiB chunks, so the consumer never sees small ones.
    const oneRead = name !== 'smb302-ccm' && tree.session.connection.negotiated.supportsMultiCredit;
    expect(parts.map((part) => part.length)).toEqual(oneRead ? [2 * MiB + 90] : [MiB, MiB, 90]);

    await pipeline(Readable.from([Buffer.from('one '), Buffer.from('two')]), tree.createWriteStream('log.txt'));
    await pipeline(Readable.from([Buffer.from(' three')]), tree.createWriteStream('log.txt', { flags: 'a' }));
    expect(readFileSync(join(root, 'log.txt'), 'utf8')).toBe('one two three');

    const writeError = await pipeline(Readable.from([Buffer.from('x')]), tree.createWriteStream('no/such/dir.txt')).catch((e: unknown) => e);
    expect(writeError).toBeInstanceOf(SmbError);
    expect((writeError as SmbError).statusName).toBe('STATUS_OBJECT_PATH_NOT_FOUND');
    const readError = await pipeline(tree.createReadStream('missing.bin'), new Writable({ write(_c, _e, cb) { cb(); } })).catch((e: unknown) => e);
    expect((readError as SmbError).statusName).toBe('STATUS_OBJECT_NAME_NOT_FOUND');
  });
});
