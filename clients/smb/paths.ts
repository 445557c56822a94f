/**
 * Paths of the path-based tree API: `/` or `\` separated, leading separator optional, relative
 * to the share root. On the wire they are backslash-separated without a leading backslash
 * (MS-SMB2 2.2.13: the CREATE Name is relative to the share).
 */
import { ArgumentError } from './errors.js';

/** `a/b\c.txt` → `a\b\c.txt`; `''` or `/` → `''` (the share root). */
export function toSharePath(path: string, operation: string): string {
  if (typeof path !== 'string') throw new ArgumentError(`${operation}: the path must be a string, got ${typeof path}`);
  const trimmed = path.replace(/^[\\/]+/, '').replace(/[\\/]+$/, '');
  if (trimmed === '') return '';
  const segments = trimmed.split(/[\\/]/);
  for (const segment of segments) {
    if (segment === '') throw new ArgumentError(`${operation} "${path}": empty name between separators`, { path });
    if (segment === '..' || segment === '.') throw new ArgumentError(`${operation} "${path}": "${segment}" segments are not allowed`, { path });
    if (segment.includes('\0')) throw new ArgumentError(`${operation} "${path}": names cannot contain NUL`, { path });
  }
  return segments.join('\\');
}

/** Like toSharePath, but the share root itself is refused (for unlink, rename, ...). */
export function toShareFilePath(path: string, operation: string): string {
  const result = toSharePath(path, operation);
  if (result === '') throw new ArgumentError(`${operation} "${path}": needs a file or directory name, not the share root`, { path });
  return result;
}

/** The last name of a share path; '' for the root. */
export function baseName(sharePath: string): string {
  return sharePath.slice(sharePath.lastIndexOf('\\') + 1);
}

/** `\\host\share\dir\x.txt`: how errors name a file. */
export function displayPath(treePath: string, sharePath: string): string {
  return sharePath === '' ? treePath : `${treePath}\\${sharePath}`;
}
