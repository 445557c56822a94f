import { test, expect } from '@playwright/test';
import { ArgumentError } from './errors.js';
import { baseName, displayPath, toShareFilePath, toSharePath } from './paths.js';

test('paths: either separator, leading and trailing separators dropped, any Unicode kept as is', () => {
  expect(toSharePath('a/b\\c.txt', 'op')).toBe('a\\b\\c.txt');
  expect(toSharePath('/a/b/', 'op')).toBe('a\\b');
  expect(toSharePath('\\\\dir', 'op')).toBe('dir');
  expect(toSharePath('', 'op')).toBe('');
  expect(toSharePath('/', 'op')).toBe('');
  expect(toSharePath('名前/😀 e\u0301.txt', 'op')).toBe('名前\\😀 e\u0301.txt');
  expect(toSharePath(' a /..b', 'op')).toBe(' a \\..b');
  expect(baseName('a\\b\\c.txt')).toBe('c.txt');
  expect(baseName('')).toBe('');
  expect(displayPath('\\\\h\\s', 'a\\b')).toBe('\\\\h\\s\\a\\b');
  expect(displayPath('\\\\h\\s', '')).toBe('\\\\h\\s');
});

test('paths: .. and . segments, empty names, NUL and the root where a name is needed are ArgumentErrors', () => {
  const refused: Array<[string, string]> = [
    ['a/../b', 'unlink "a/../b": ".." segments are not allowed'],
    ['./a', 'unlink "./a": "." segments are not allowed'],
    ['a//b', 'unlink "a//b": empty name between separators'],
    ['a\0b', 'unlink "a\0b": names cannot contain NUL'],
    ['/', 'unlink "/": needs a file or directory name, not the share root'],
  ];
  for (const [path, message] of refused) {
    const error = (() => { try { toShareFilePath(path, 'unlink'); } catch (e) { return e; } })();
    expect(error, path).toBeInstanceOf(ArgumentError);
    expect((error as ArgumentError).message).toBe(message);
    expect((error as ArgumentError).code).toBe('SMB_ARGUMENT');
  }
});
