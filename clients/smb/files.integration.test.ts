import { test, expect } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentError, SmbError } from './errors.js';
import { connectAs, describeOnTarget, recorder, transcript } from './native-target.fixture.js';

/** Encrypted (CCM and GCM), signed and plain: the I/O paths differ in each. */
const TARGETS = ['smb302-ccm', 'smb311-gcm', 'smb311-signing-gmac', 'smb202-legacy'];

/** The SMB user is not the test's own uid: what the test puts on disk is open to everyone. */
function diskDirectory(path: string): void {
  mkdirSync(path);
  chmodSync(path, 0o777);
}

function diskFile(path: string, data: Buffer | string): void {
  writeFileSync(path, data);
  chmodSync(path, 0o666);
}

async function statusOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof SmbError)) throw new Error(`expected an SmbError, got ${String(error)}`);
  return error.statusName;
}

for (const name of TARGETS) describeOnTarget(name, (context) => {
  test('writeFile and readFile: empty, small, unaligned and 64 MiB files, equal on disk both ways', async () => {
    const { tree, root } = context();
    diskDirectory(join(root, 'sizes'));
    const chunk = tree.session.connection.negotiated.supportsMultiCredit ? 1 << 20 : 65536;
    const sizes = [0, 1, 13, 4095, 65536, chunk + 3, 3 * chunk + 5, 64 << 20];
    for (const size of sizes) {
      const data = randomBytes(size);
      await tree.writeFile(`sizes/w${size}.bin`, data);
      expect(readFileSync(join(root, 'sizes', `w${size}.bin`)).equals(data), `written ${size}`).toBe(true);
      const other = randomBytes(size);
      diskFile(join(root, 'sizes', `r${size}.bin`), other);
      expect((await tree.readFile(`/sizes/r${size}.bin`)).equals(other), `read ${size}`).toBe(true);
    }
  });

  test('overwrite, append, truncate and extend', async () => {
    const { tree, root } = context();
    const file = join(root, 'resize.txt');
    await tree.writeFile('resize.txt', 'a long first version');
    await tree.writeFile('resize.txt', 'short');
    expect(readFileSync(file, 'utf8')).toBe('short');
    await tree.appendFile('resize.txt', ' and more');
    await tree.appendFile('resize-new.txt', 'created by append');
    expect(readFileSync(file, 'utf8')).toBe('short and more');
    expect(readFileSync(join(root, 'resize-new.txt'), 'utf8')).toBe('created by append');
    await tree.truncate('resize.txt', 5);
    expect(readFileSync(file, 'utf8')).toBe('short');
    await tree.truncate('resize.txt', 9);
    expect(readFileSync(file)).toEqual(Buffer.from('short\0\0\0\0'));
  });

  test('FileHandle: positional reads and writes, EOF, flags wx and a, stat, truncate, idempotent close', async () => {
    const { tree, root } = context();
    const handle = await tree.open('handle.bin', 'w+');
    expect(await handle.write(Buffer.from('hello world'), 0)).toBe(11);
    expect(await handle.write(Buffer.from('WORLD'), 6)).toBe(5);
    await handle.flush();
    const buffer = Buffer.alloc(20);
    expect(await handle.read(buffer, 0)).toBe(11);
    expect(buffer.subarray(0, 11).toString()).toBe('hello WORLD');
    expect(await handle.read(buffer, 11)).toBe(0);
    expect(await handle.read(buffer, 1000)).toBe(0);
    expect(await handle.stat()).toMatchObject({ name: 'handle.bin', size: 11, isFile: true, isDirectory: false });
    await handle.truncate(5);
    await handle.close();
    await handle.close();
    expect(readFileSync(join(root, 'handle.bin'), 'utf8')).toBe('hello');
    await expect(handle.read(buffer, 0)).rejects.toThrow('the file handle is closed');

    expect(await statusOf(tree.open('handle.bin', 'wx'))).toBe('STATUS_OBJECT_NAME_COLLISION');
    await using appender = await tree.open('handle.bin', 'a');
    await appender.write(Buffer.from('!'), 0);
    await appender.write(Buffer.from('?'), 0);
    expect(readFileSync(join(root, 'handle.bin'), 'utf8')).toBe('hello!?');
  });

  test('stat and utimes agree with the file on disk', async () => {
    const { tree, root } = context();
    diskFile(join(root, 'timed.txt'), 'twelve bytes');
    diskDirectory(join(root, 'timed-dir'));
    const atime = new Date('2021-03-04T05:06:07.890Z');
    const mtime = new Date('2022-08-09T10:11:12.345Z');
    await tree.utimes('timed.txt', atime, mtime);
    const onDisk = statSync(join(root, 'timed.txt'));
    expect(onDisk.mtime.getTime()).toBe(mtime.getTime());
    expect(onDisk.atime.getTime()).toBe(atime.getTime());
    const stat = await tree.stat('timed.txt');
    expect(stat).toMatchObject({ name: 'timed.txt', size: 12, isFile: true, isDirectory: false });
    expect(stat.mtime.getTime()).toBe(mtime.getTime());
    expect(stat.atime.getTime()).toBe(atime.getTime());
    // Samba reports the change time as the later of ctime and mtime; never before mtime.
    expect(stat.ctime.getTime()).toBeGreaterThanOrEqual(mtime.getTime());
    expect(stat.size).toBe(onDisk.size);
    expect(stat.fileId).toBe(BigInt(onDisk.ino));
    utimesSync(join(root, 'timed-dir'), atime, mtime);
    expect(await tree.stat('timed-dir')).toMatchObject({ name: 'timed-dir', isDirectory: true, isFile: false, mtime });
    expect(await tree.exists('timed.txt')).toBe(true);
    expect(await tree.exists('timed-dir/missing')).toBe(false);
  });

  test('rename within and across directories, with and without replace', async () => {
    const { tree, root } = context();
    await tree.mkdir('mv/a/deep', { recursive: true });
    await tree.mkdir('mv/b');
    await tree.writeFile('mv/a/one.txt', '1');
    await tree.writeFile('mv/b/two.txt', '2');
    await tree.rename('mv/a/one.txt', 'mv/a/uno.txt');
    expect(readdirSync(join(root, 'mv', 'a')).sort()).toEqual(['deep', 'uno.txt']);
    await tree.rename('/mv/a/uno.txt', '\\mv\\b\\one.txt');
    expect(readFileSync(join(root, 'mv', 'b', 'one.txt'), 'utf8')).toBe('1');
    expect(await statusOf(tree.rename('mv/b/one.txt', 'mv/b/two.txt'))).toBe('STATUS_OBJECT_NAME_COLLISION');
    await tree.rename('mv/b/one.txt', 'mv/b/two.txt', { replace: true });
    expect(readdirSync(join(root, 'mv', 'b'))).toEqual(['two.txt']);
    expect(readFileSync(join(root, 'mv', 'b', 'two.txt'), 'utf8')).toBe('1');
    await tree.rename('mv/a/deep', 'mv/b/deeper');
    expect(statSync(join(root, 'mv', 'b', 'deeper')).isDirectory()).toBe(true);
  });

  test('mkdir -p, unlink, rmdir and their errors', async () => {
    const { tree, root, target } = context();
    await tree.mkdir('p/q/r', { recursive: true });
    await tree.mkdir('p/q/r', { recursive: true });
    expect(statSync(join(root, 'p', 'q', 'r')).isDirectory()).toBe(true);
    expect(await statusOf(tree.mkdir('p/q'))).toBe('STATUS_OBJECT_NAME_COLLISION');
    await tree.writeFile('p/q/r/f.txt', 'x');
    expect(await statusOf(tree.rmdir('p/q/r'))).toBe('STATUS_DIRECTORY_NOT_EMPTY');
    await tree.unlink('p/q/r/f.txt');
    await tree.rmdir('p/q/r');
    expect(existsSync(join(root, 'p', 'q', 'r'))).toBe(false);
    const missing = await tree.readFile('p/x.txt').catch((e: unknown) => e as SmbError);
    expect(missing).toBeInstanceOf(SmbError);
    expect(missing).toMatchObject({ statusName: 'STATUS_OBJECT_NAME_NOT_FOUND', command: 'CREATE', path: `\\\\${target.host}\\data\\p\\x.txt` });
    expect((missing as Error).message).toBe(`STATUS_OBJECT_NAME_NOT_FOUND (0xC0000034) on CREATE \\\\${target.host}\\data\\p\\x.txt`);
    expect(await statusOf(tree.unlink('p/x.txt'))).toBe('STATUS_OBJECT_NAME_NOT_FOUND');
    expect(await statusOf(tree.writeFile('p/bad*name.txt', 'x'))).toBe('STATUS_OBJECT_NAME_INVALID');
    await expect(tree.readFile('p/../etc/passwd')).rejects.toThrow(ArgumentError);
    await expect(tree.readFile('p//x.txt')).rejects.toThrow('empty name between separators');
  });

  test('a directory of 2,000 entries is listed exactly, without . and ..', async () => {
    const { tree, root } = context();
    const dir = join(root, 'many');
    diskDirectory(dir);
    const names = Array.from({ length: 2000 }, (_, i) => `entry-${String(i).padStart(4, '0')}-${'x'.repeat(i % 40)}.txt`);
    for (const n of names) diskFile(join(dir, n), n);
    diskDirectory(join(dir, 'sub'));
    const listed = await tree.readdir('many');
    expect(listed.sort()).toEqual([...names, 'sub'].sort());
    const typed = await tree.readdir('many', { withFileTypes: true });
    expect(typed.filter((e) => e.isDirectory).map((e) => e.name)).toEqual(['sub']);
    const one = typed.find((e) => e.name === names[7]);
    expect(one).toMatchObject({ size: names[7]!.length, isFile: true });
    expect(await tree.readdir('')).toEqual(expect.arrayContaining(['many']));
  });

  test('names in CJK, emoji, combining marks, with spaces, and 255 characters long', async () => {
    const { tree, root } = context();
    await tree.mkdir('名前');
    const names = ['日本語のファイル.txt', '😀 smile 🎉.txt', 'e\u0301te\u0301 cafe\u0301.txt', '  spaced  name .txt', `${'n'.repeat(251)}.txt`];
    for (const n of names) {
      await tree.writeFile(`名前/${n}`, n);
      expect(readFileSync(join(root, '名前', n), 'utf8')).toBe(n);
      expect((await tree.readFile(`名前/${n}`)).toString()).toBe(n);
    }
    expect(readdirSync(join(root, '名前')).sort()).toEqual([...names].sort());
    expect((await tree.readdir('名前')).sort()).toEqual([...names].sort());
  });

  test('a small file is written and read in one round trip: CREATE + WRITE/READ + CLOSE compounded', async () => {
    const { target, root } = context();
    const observer = recorder();
    const client = await connectAs(target, { observer, timeoutMs: 30_000 });
    try {
      const tree = await client.connectTree('data');
      const data = randomBytes(5000);
      const mark = observer.messages.length;
      await tree.writeFile('compound.bin', data);
      expect(readFileSync(join(root, 'compound.bin')).equals(data)).toBe(true);
      expect((await tree.readFile('compound.bin')).equals(data)).toBe(true);
      const sent = observer.messages.slice(mark).filter((m) => m.direction === 'send');
      expect(sent.map((m) => m.command)).toEqual(['CREATE', 'WRITE', 'CLOSE', 'CREATE', 'READ', 'CLOSE']);
      // Related: every element after the first carries SMB2_FLAGS_RELATED_OPERATIONS.
      expect(sent.map((m) => (m.flags & 0x4) !== 0)).toEqual([false, true, true, false, true, true]);
      const lines = transcript(observer.messages.slice(mark));
      expect(lines.findIndex((l) => l.startsWith('receive'))).toBe(3); // all three sent before any answer
    } finally {
      await client.close();
    }
  });

  test('16 files written and read in parallel on one connection', async () => {
    const { tree, root } = context();
    await tree.mkdir('parallel');
    const files = Array.from({ length: 16 }, (_, i) => ({ name: `parallel/f${i}.bin`, data: randomBytes(100_000 + i * 300_007) }));
    await Promise.all(files.map((f) => tree.writeFile(f.name, f.data)));
    for (const f of files) expect(readFileSync(join(root, f.name)).equals(f.data)).toBe(true);
    const back = await Promise.all(files.map((f) => tree.readFile(f.name)));
    back.forEach((data, i) => expect(data.equals(files[i]!.data)).toBe(true));
  });
});
