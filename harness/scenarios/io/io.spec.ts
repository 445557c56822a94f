import { readFile, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { createHash } from 'node:crypto';
import { test, expect } from '../../fixtures.js';
import { Requirement } from '../../annotations.js';
import { scenario } from '../../scenario.js';
import { LoopChecks, NO_DIFFERENCE, firstDifference, onDisk, patternBytes, seededRandom, sha256 } from '../helpers.js';

test.describe('io', () => {
  test('random-offset reads and writes agree with an in-memory model (seed 20261125)', scenario({ id: 'io/random-offsets' }), async ({ share }) => {
    const { tree, dir, local } = share;
    const random = seededRandom(20261125);
    const model = Buffer.alloc(0);
    let current = model;
    const handle = await tree.open(`${dir}/model.bin`, 'w+');
    try {
      const checks = new LoopChecks();
      for (let step = 0; step < 300 && !checks.failed; step++) {
        const offset = Math.floor(random() * 3 * 1024 * 1024);
        const length = 1 + Math.floor(random() * 200_000);
        if (random() < 0.6) {
          const data = patternBytes(length, step);
          checks.equal(`step ${step}: WRITE of ${length} bytes at ${offset} wrote`, await handle.write(data, offset), length);
          if (offset + length > current.length) current = Buffer.concat([current, Buffer.alloc(offset + length - current.length)]);
          data.copy(current, offset);
        } else {
          const buffer = Buffer.alloc(length);
          const read = await handle.read(buffer, offset);
          const expected = current.subarray(Math.min(offset, current.length), Math.min(offset + length, current.length));
          checks.equal(`step ${step}: READ of ${length} bytes at ${offset} returned`, read, expected.length);
          const bytes = buffer.subarray(0, read);
          checks.that(`step ${step}: bytes read at ${offset}`, bytes.equals(expected), () => firstDifference(bytes, expected));
        }
      }
      expect(checks.failures, 'steps where the file and the in-memory model disagree').toEqual([]);
      expect((await handle.stat()).size).toBe(current.length);
    } finally {
      await handle.close();
    }
    const disk = await onDisk(local, 'model.bin');
    if (disk !== undefined) expect(firstDifference(disk, current), 'the file on the server\'s disk against the model').toBe(NO_DIFFERENCE);
  });

  test('16 files written and read in parallel on one connection', scenario({ id: 'io/parallel-16' }), async ({ share }) => {
    const { tree, dir, local } = share;
    const files = Array.from({ length: 16 }, (_, i) => ({ name: `p${i}.bin`, data: patternBytes(512 * 1024 + i * 4099, 100 + i) }));
    await Promise.all(files.map((f) => tree.writeFile(`${dir}/${f.name}`, f.data)));
    const back = await Promise.all(files.map((f) => tree.readFile(`${dir}/${f.name}`)));
    expect(back.map((b, i) => `${files[i]!.name}: ${firstDifference(b, files[i]!.data)}`), 'the files read back').toEqual(files.map((f) => `${f.name}: ${NO_DIFFERENCE}`));
    if (local !== undefined) {
      const disk = await Promise.all(files.map((f) => readFile(join(local, f.name))));
      expect(disk.map((b, i) => `${files[i]!.name}: ${firstDifference(b, files[i]!.data)}`), 'the files on the server\'s disk').toEqual(files.map((f) => `${f.name}: ${NO_DIFFERENCE}`));
    }
  });

  test('32 MiB through createWriteStream and back through createReadStream', scenario({ id: 'io/streams' }), async ({ share }) => {
    const { tree, dir, local } = share;
    const chunk = 1024 * 1024;
    const chunks = 32;
    const written = createHash('sha256');
    await pipeline(
      Readable.from((function* () {
        for (let i = 0; i < chunks; i++) {
          const data = patternBytes(chunk, 500 + i);
          written.update(data);
          yield data;
        }
      })()),
      tree.createWriteStream(`${dir}/stream.bin`),
    );
    const expected = written.digest('hex');
    if (local !== undefined) expect(sha256(await readFile(join(local, 'stream.bin')))).toBe(expected);
    const read = createHash('sha256');
    let total = 0;
    await pipeline(
      tree.createReadStream(`${dir}/stream.bin`),
      new Writable({
        write(data: Buffer, _encoding, done) {
          read.update(data);
          total += data.length;
          done();
        },
      }),
    );
    expect(total).toBe(chunk * chunks);
    expect(read.digest('hex')).toBe(expected);
  });

  test('append, truncate and extend change exactly the bytes they should', scenario({ id: 'io/append-truncate' }), async ({ share }) => {
    const { tree, dir, local } = share;
    await tree.writeFile(`${dir}/t.txt`, 'hello');
    await tree.appendFile(`${dir}/t.txt`, ', world');
    expect((await tree.readFile(`${dir}/t.txt`)).toString()).toBe('hello, world');
    await tree.truncate(`${dir}/t.txt`, 5);
    expect((await tree.readFile(`${dir}/t.txt`)).toString()).toBe('hello');
    await tree.truncate(`${dir}/t.txt`, 8);
    expect(await tree.readFile(`${dir}/t.txt`)).toEqual(Buffer.from('hello\0\0\0'));
    if (local !== undefined) expect(await readFile(join(local, 't.txt'))).toEqual(Buffer.from('hello\0\0\0'));
  });

  test('stat and utimes agree with the server\'s disk', scenario({ id: 'io/stat-utimes', requires: [Requirement.localPath] }), async ({ share }) => {
    const { tree, dir, local } = share;
    await tree.writeFile(`${dir}/s.bin`, patternBytes(12345, 1));
    const atime = new Date('2024-02-29T12:34:56.000Z');
    const mtime = new Date('2023-06-01T08:00:00.000Z');
    await tree.utimes(`${dir}/s.bin`, atime, mtime);
    const seen = await tree.stat(`${dir}/s.bin`);
    const disk = await stat(join(local!, 's.bin'));
    expect({ size: seen.size, isFile: seen.isFile, isDirectory: seen.isDirectory }).toEqual({ size: 12345, isFile: true, isDirectory: false });
    expect(seen.mtime.toISOString()).toBe(mtime.toISOString());
    expect(disk.mtime.toISOString()).toBe(mtime.toISOString());
    expect(disk.atime.toISOString()).toBe(atime.toISOString());
    // And the other direction: times set on disk are what the client reads.
    const later = new Date('2025-01-01T00:00:01.000Z');
    await utimes(join(local!, 's.bin'), later, later);
    expect((await tree.stat(`${dir}/s.bin`)).mtime.toISOString()).toBe(later.toISOString());
  });

  test('mkdir -p creates every level, and again is not an error', scenario({ id: 'io/mkdir-recursive' }), async ({ share }) => {
    const { tree, dir } = share;
    await tree.mkdir(`${dir}/a/b/c/d`, { recursive: true });
    await tree.mkdir(`${dir}/a/b/c/d`, { recursive: true });
    expect((await tree.stat(`${dir}/a/b/c/d`)).isDirectory).toBe(true);
    expect(await tree.readdir(`${dir}/a/b`)).toEqual(['c']);
  });
});
