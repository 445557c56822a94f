/**
 * The file-system facade of a share: the path-based API (like node:fs/promises), open files,
 * streams and watchers, over the tree-connect layer (TreeConnection) it extends. The modules it
 * composes (whole-file, path-operations, directory, file, streams, watch) take a TreeConnection
 * and import nothing from here.
 */
import type { Readable, Writable } from 'node:stream';
import type { Session } from './session.js';
import { listDirectory, makeDirectory, removeDirectory } from './directory.js';
import type { ReaddirOptions } from './directory.js';
import { FileHandle } from './file.js';
import type { OpenFlags } from './file.js';
import type { DirEntry, FileStat } from './handles.js';
import { exists, rename, stat, truncate, unlink, utimes } from './path-operations.js';
import { createReadStream, createWriteStream } from './streams.js';
import type { ReadStreamOptions, WriteStreamOptions } from './streams.js';
import { TreeConnection } from './tree-connection.js';
import type { TreeFields } from './tree-connection.js';
import { watch } from './watch.js';
import type { WatchOptions, Watcher } from './watch.js';
import { appendFile, readFile, writeFile } from './whole-file.js';
import type { FileData } from './whole-file.js';

export class Tree extends TreeConnection {
  private constructor(fields: TreeFields) {
    super(fields);
  }

  /** TREE_CONNECT to `\\host\share` (host as the client was given it). */
  static connect(session: Session, share: string): Promise<Tree> {
    return TreeConnection.attach(session, share, (fields) => new Tree(fields));
  }

  // The path-based file API, like node:fs/promises. Paths are relative to the share, `/` or `\`.

  /** The whole file; one round trip (CREATE + READ + CLOSE) when it fits in one READ. */
  readFile(path: string): Promise<Buffer> {
    return readFile(this, path);
  }

  /** Creates or replaces the file with `data` (strings as UTF-8). */
  writeFile(path: string, data: FileData): Promise<void> {
    return writeFile(this, path, data);
  }

  /** Appends `data`, creating the file if needed. */
  appendFile(path: string, data: FileData): Promise<void> {
    return appendFile(this, path, data);
  }

  stat(path: string): Promise<FileStat> {
    return stat(this, path);
  }

  exists(path: string): Promise<boolean> {
    return exists(this, path);
  }

  /** Names in the directory (never `.` and `..`), or entries with types, sizes and times. */
  readdir(path: string): Promise<string[]>;
  readdir(path: string, options: { withFileTypes: true }): Promise<DirEntry[]>;
  readdir(path: string, options?: ReaddirOptions): Promise<string[] | DirEntry[]>;
  async readdir(path: string, options: ReaddirOptions = {}): Promise<string[] | DirEntry[]> {
    const entries = await listDirectory(this, path);
    return options.withFileTypes === true ? entries : entries.map((entry) => entry.name);
  }

  /** Creates a directory; `recursive` creates missing parents and accepts an existing directory. */
  mkdir(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    return makeDirectory(this, path, options);
  }

  /** Removes an empty directory. */
  rmdir(path: string): Promise<void> {
    return removeDirectory(this, path);
  }

  /** Deletes a file. */
  unlink(path: string): Promise<void> {
    return unlink(this, path);
  }

  /** Renames or moves within the share; an existing target is replaced only with `replace: true`. */
  rename(from: string, to: string, options: { replace?: boolean } = {}): Promise<void> {
    return rename(this, from, to, options);
  }

  /** Cuts or extends (with zeros) the file to `length` bytes. */
  truncate(path: string, length = 0): Promise<void> {
    return truncate(this, path, length);
  }

  /** Sets last access and last write time. */
  utimes(path: string, atime: Date, mtime: Date): Promise<void> {
    return utimes(this, path, atime, mtime);
  }

  /** Opens a file with node's flags: r, r+, w, w+, wx, a, a+. */
  open(path: string, flags: OpenFlags = 'r'): Promise<FileHandle> {
    return FileHandle.open(this, path, flags);
  }

  /** A readable of the file (or of bytes `start`..`end` inclusive), several READs ahead. */
  createReadStream(path: string, options: ReadStreamOptions = {}): Readable {
    return createReadStream(this, path, options);
  }

  /** A writable that replaces ('w') or appends to ('a') the file; 'finish' once all is written and closed. */
  createWriteStream(path: string, options: WriteStreamOptions = {}): Writable {
    return createWriteStream(this, path, options);
  }

  /** Changes in the directory as an async iterable; close() (or the signal) ends it. */
  watch(path: string, options: WatchOptions = {}): Watcher {
    return watch(this, path, options);
  }
}
