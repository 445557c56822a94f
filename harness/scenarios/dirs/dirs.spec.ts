import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, expect } from '../../fixtures.js';
import { Requirement } from '../../annotations.js';
import { forEachClient, scenario } from '../../scenario.js';
import { failureOf } from '../helpers.js';

forEachClient((client, suffix) => {
  test.describe(`dirs${suffix}`, () => {
    test(`mkdir and rmdir, and a listing shows types and sizes${suffix}`, scenario({ id: 'dirs/mkdir-rmdir', client }), async ({ adapter }) => {
      const { session, dir } = adapter;
      await session.mkdir(`${dir}/sub`);
      await session.writeFile(`${dir}/f.txt`, Buffer.from('12345'));
      expect(await session.readdir(dir)).toEqual([
        { name: 'f.txt', isDirectory: false, size: 5 },
        { name: 'sub', isDirectory: true, size: 0 },
      ]);
      await session.rmdir(`${dir}/sub`);
      expect(await session.exists(`${dir}/sub`)).toBe(false);
    });

    test(`a directory of 2,000 entries is listed exactly${suffix}`, scenario({ id: 'dirs/list-2000', client, requires: [Requirement.localPath] }), async ({ adapter }) => {
      const { session, dir, local } = adapter;
      const names = Array.from({ length: 2000 }, (_, i) => `entry-${String(i).padStart(4, '0')}-${'x'.repeat(i % 40)}.dat`);
      await mkdir(join(local!, 'many'));
      await Promise.all(names.map((n, i) => writeFile(join(local!, 'many', n), Buffer.alloc(i % 7))));
      const listed = await session.readdir(`${dir}/many`);
      expect(listed.length).toBe(2000);
      const expected = names.map((n, i) => `${n} ${i % 7}`).sort();
      expect(listed.map((e) => `${e.name} ${e.isDirectory ? 'dir' : e.size}`)).toEqual(expected);
    });

    test(`rename within a directory and across directories${suffix}`, scenario({ id: 'dirs/rename', client }), async ({ adapter }) => {
      const { session, dir } = adapter;
      await session.mkdir(`${dir}/a`);
      await session.mkdir(`${dir}/b`);
      await session.writeFile(`${dir}/a/one.txt`, Buffer.from('one'));
      await session.rename(`${dir}/a/one.txt`, `${dir}/a/two.txt`);
      await session.rename(`${dir}/a/two.txt`, `${dir}/b/three.txt`);
      expect(await session.readdir(`${dir}/a`)).toEqual([]);
      expect((await session.readdir(`${dir}/b`)).map((e) => e.name)).toEqual(['three.txt']);
      expect((await session.readFile(`${dir}/b/three.txt`)).toString()).toBe('one');
    });

    test(`rename onto an existing name: STATUS_OBJECT_NAME_COLLISION, or replaced when asked${suffix}`, scenario({ id: 'dirs/rename-replace', client }), async ({ adapter }) => {
      const { session, dir } = adapter;
      await session.writeFile(`${dir}/src.txt`, Buffer.from('new'));
      await session.writeFile(`${dir}/dst.txt`, Buffer.from('old'));
      const error = await failureOf(session.rename(`${dir}/src.txt`, `${dir}/dst.txt`));
      expect(error.statusName).toBe('STATUS_OBJECT_NAME_COLLISION');
      expect((await session.readFile(`${dir}/dst.txt`)).toString()).toBe('old');
      await session.rename(`${dir}/src.txt`, `${dir}/dst.txt`, { replace: true });
      expect((await session.readFile(`${dir}/dst.txt`)).toString()).toBe('new');
      expect((await session.readdir(dir)).map((e) => e.name)).toEqual(['dst.txt']);
    });

    test(`removing a directory that is not empty is STATUS_DIRECTORY_NOT_EMPTY${suffix}`, scenario({ id: 'dirs/rmdir-not-empty', client }), async ({ adapter }) => {
      const { session, dir } = adapter;
      await session.mkdir(`${dir}/full`);
      await session.writeFile(`${dir}/full/x`, Buffer.from('x'));
      const error = await failureOf(session.rmdir(`${dir}/full`));
      expect(error.statusName).toBe('STATUS_DIRECTORY_NOT_EMPTY');
      expect(await session.exists(`${dir}/full/x`)).toBe(true);
    });

    test(`creating a directory that exists is STATUS_OBJECT_NAME_COLLISION${suffix}`, scenario({ id: 'dirs/mkdir-exists', client }), async ({ adapter }) => {
      const { session, dir } = adapter;
      await session.mkdir(`${dir}/twice`);
      const error = await failureOf(session.mkdir(`${dir}/twice`));
      expect(error.statusName).toBe('STATUS_OBJECT_NAME_COLLISION');
    });
  });
});
