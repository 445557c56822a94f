import { test, expect } from '@playwright/test';
import { parseAllinfo, parseLsOutput } from './smbclient.js';

test('ls output: names with spaces, directories, sizes; . and .. and the free-space line are dropped', () => {
  const stdout = [
    '  .                                   D        0  Wed Nov 25 06:43:18 2026',
    '  ..                                  D        0  Wed Nov 25 06:43:18 2026',
    '  x y.txt                             A        6  Wed Nov 25 06:43:18 2026',
    '  sub                                 D        0  Wed Nov  5 16:03:08 2026',
    '  漢字 😀.bin                          AN  1048576  Thu Jan  1 00:00:00 2026',
    '',
    '\t\t264212084 blocks of size 1024. 81738968 blocks available',
  ].join('\n');
  expect(parseLsOutput(stdout)).toEqual([
    { name: 'sub', isDirectory: true, size: 0 },
    { name: 'x y.txt', isDirectory: false, size: 6 },
    { name: '漢字 😀.bin', isDirectory: false, size: 1048576 },
  ]);
});

test('allinfo output: file size from the ::$DATA stream, directory from the attributes', () => {
  const file = 'altname: X9DHUH~I.TXT\ncreate_time:    Wed Nov 25 06:43:19 2026 UTC\nattributes: A (20)\nstream: [::$DATA], 6 bytes\n';
  const dir = 'altname: D74FVK~I\nattributes: D (10)\n';
  expect(parseAllinfo(file)).toEqual({ size: 6, isDirectory: false });
  expect(parseAllinfo(dir)).toEqual({ size: 0, isDirectory: true });
  expect(() => parseAllinfo('NT_STATUS_OBJECT_NAME_NOT_FOUND getting alt name')).toThrow(/unexpected allinfo output/);
});
