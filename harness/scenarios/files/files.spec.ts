import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, expect } from '../../fixtures.js';
import { Requirement } from '../../annotations.js';
import { forEachClient, scenario } from '../../scenario.js';
import { NO_DIFFERENCE, failureOf, firstDifference, firstDifferenceOnDisk, onDisk, patternBytes, sharedPatternBytes } from '../helpers.js';

/** Portable: every scenario here runs for the TypeScript client and for smbclient. */
forEachClient((client, suffix) => {
  test.describe(`files${suffix}`, () => {
    const sizes = [['empty', 'an empty file', 0], ['small', 'a small file', 1000], ['unaligned', 'a file of unaligned size', 1024 * 1024 + 4093]] as const;
    for (const [slug, what, size] of sizes) {
      test(`${what} (${size} bytes) round-trips byte-exact, also on the server's disk${suffix}`, scenario({ id: `files/round-trip-${slug}`, client }), async ({ adapter }) => {
        const { session, dir, local } = adapter;
        const data = patternBytes(size, size + 1);
        await session.writeFile(`${dir}/${slug}.bin`, data);
        expect(firstDifference(await session.readFile(`${dir}/${slug}.bin`), data), 'the file read back').toBe(NO_DIFFERENCE);
        const disk = await onDisk(local, `${slug}.bin`);
        if (disk !== undefined) expect(firstDifference(disk, data), 'the file on the server\'s disk').toBe(NO_DIFFERENCE);
        expect(await session.stat(`${dir}/${slug}.bin`)).toEqual({ size, isDirectory: false });
      });
    }

    test(`64 MiB written and read back byte-exact, also on the server's disk${suffix}`, scenario({ id: 'files/large-64mib', client }), async ({ adapter }) => {
      const { session, dir, local } = adapter;
      const data = sharedPatternBytes(64 * 1024 * 1024, 64);
      await session.writeFile(`${dir}/large.bin`, data);
      const disk = await firstDifferenceOnDisk(local, 'large.bin', data);
      if (disk !== undefined) expect(disk, 'the file on the server\'s disk').toBe(NO_DIFFERENCE);
      expect(firstDifference(await session.readFile(`${dir}/large.bin`), data), 'the file read back').toBe(NO_DIFFERENCE);
    });

    test(`overwriting a file with shorter content leaves exactly the new bytes${suffix}`, scenario({ id: 'files/overwrite', client }), async ({ adapter }) => {
      const { session, dir, local } = adapter;
      await session.writeFile(`${dir}/o.txt`, Buffer.from('a much longer first version of the file'));
      await session.writeFile(`${dir}/o.txt`, Buffer.from('short'));
      expect((await session.readFile(`${dir}/o.txt`)).toString()).toBe('short');
      const disk = await onDisk(local, 'o.txt');
      if (disk !== undefined) expect(disk.toString()).toBe('short');
    });

    test(`bytes put on the server's disk read back through the client${suffix}`, scenario({ id: 'files/server-written', client, requires: [Requirement.localPath] }), async ({ adapter }) => {
      const { session, dir, local } = adapter;
      const data = patternBytes(300_001, 7);
      await writeFile(join(local!, 'from-disk.bin'), data);
      expect(firstDifference(await session.readFile(`${dir}/from-disk.bin`), data), 'the file read back').toBe(NO_DIFFERENCE);
    });

    const names = [
      ['cjk', 'in Chinese, Japanese and Korean script', '漢字かなカナ한국어.txt'],
      ['emoji', 'with emoji', 'emoji-😀🚀🧪.txt'],
      ['combining', 'with combining marks', 'combining-e\u0301a\u0308o\u0302.txt'],
      ['spaces', 'with spaces and parentheses', 'with  two spaces (and parens).txt'],
      ['long-255', 'of 255 characters', `${'n'.repeat(251)}.txt`],
    ] as const;
    for (const [slug, how, name] of names) {
      test(`a file named ${how} round-trips with its exact name${suffix}`, scenario({ id: `files/name-${slug}`, client }), async ({ adapter }) => {
        const { session, dir } = adapter;
        const data = Buffer.from(`content of ${slug}`);
        await session.writeFile(`${dir}/${name}`, data);
        expect((await session.readdir(dir)).map((e) => e.name)).toEqual([name]);
        expect((await session.readFile(`${dir}/${name}`)).equals(data)).toBe(true);
      });
    }

    test(`reading a missing file is STATUS_OBJECT_NAME_NOT_FOUND${suffix}`, scenario({ id: 'files/not-found', client }), async ({ adapter }) => {
      const error = await failureOf(adapter.session.readFile(`${adapter.dir}/missing.txt`));
      expect(error.statusName).toBe('STATUS_OBJECT_NAME_NOT_FOUND');
    });

    test(`a name with a wildcard is STATUS_OBJECT_NAME_INVALID${suffix}`, scenario({ id: 'files/invalid-name', client }), async ({ adapter }) => {
      const error = await failureOf(adapter.session.writeFile(`${adapter.dir}/bad*name.txt`, Buffer.from('x')));
      expect(error.statusName).toBe('STATUS_OBJECT_NAME_INVALID');
    });

    test(`unlink removes the file from the server${suffix}`, scenario({ id: 'files/unlink', client }), async ({ adapter }) => {
      const { session, dir } = adapter;
      await session.writeFile(`${dir}/gone.txt`, Buffer.from('x'));
      await session.unlink(`${dir}/gone.txt`);
      expect(await session.exists(`${dir}/gone.txt`)).toBe(false);
      expect(await session.readdir(dir)).toEqual([]);
    });
  });
});
