/**
 * Open files: `tree.open(path, flags)` gives a FileHandle with positional read and write,
 * stat, truncate, flush, byte-range locks (MS-SMB2 3.2.4.19) and an idempotent close.
 */
import { ArgumentError, SmbError } from './errors.js';
import { closeHandle, openHandle, toFileStat } from './handles.js';
import type { FileStat, OpenSpec } from './handles.js';
import { endedEarly, readFully, writeAt } from './io.js';
import { baseName, displayPath, toShareFilePath } from './paths.js';
import type { TreeConnection } from './tree-connection.js';
import {
  AccessMask,
  Command,
  CreateDisposition,
  CreateOption,
  FileInfoClass,
  InfoType,
  LockFlag,
  decodeFileAllInformation,
  decodeQueryInfoResponse,
  encodeFileEndOfFileInformation,
  encodeFlushRequest,
  encodeLockRequest,
  encodeQueryInfoRequest,
  encodeSetInfoRequest,
} from './wire/index.js';
import type { FileId } from './wire/index.js';

export type OpenFlags = 'r' | 'r+' | 'w' | 'w+' | 'wx' | 'a' | 'a+';

export interface LockOptions {
  /** Exclusive (write) lock; false for a shared (read) lock. Default true. */
  exclusive?: boolean;
  /** Wait until the range is free instead of failing with STATUS_LOCK_NOT_GRANTED. Default false. */
  wait?: boolean;
}

const READ_ACCESS = AccessMask.FileReadData | AccessMask.FileReadAttributes | AccessMask.FileReadEa | AccessMask.ReadControl | AccessMask.Synchronize;
const WRITE_ACCESS = AccessMask.FileWriteData | AccessMask.FileAppendData | AccessMask.FileWriteAttributes | AccessMask.FileWriteEa
  | AccessMask.FileReadAttributes | AccessMask.Synchronize;

/** node's flags as CREATE access and disposition (MS-SMB2 2.2.13). */
const FLAGS: Record<OpenFlags, { access: number; disposition: number; append: boolean }> = {
  r: { access: READ_ACCESS, disposition: CreateDisposition.Open, append: false },
  'r+': { access: READ_ACCESS | WRITE_ACCESS, disposition: CreateDisposition.Open, append: false },
  w: { access: WRITE_ACCESS, disposition: CreateDisposition.OverwriteIf, append: false },
  'w+': { access: READ_ACCESS | WRITE_ACCESS, disposition: CreateDisposition.OverwriteIf, append: false },
  wx: { access: WRITE_ACCESS, disposition: CreateDisposition.Create, append: false },
  a: { access: WRITE_ACCESS, disposition: CreateDisposition.OpenIf, append: true },
  'a+': { access: READ_ACCESS | WRITE_ACCESS, disposition: CreateDisposition.OpenIf, append: true },
};

export function openSpec(flags: OpenFlags): OpenSpec {
  const entry = FLAGS[flags];
  if (entry === undefined) throw new ArgumentError(`open: unknown flags "${String(flags)}" (expected ${Object.keys(FLAGS).join(', ')})`);
  return { desiredAccess: entry.access, createDisposition: entry.disposition, createOptions: CreateOption.NonDirectoryFile };
}

function checkRange(operation: string, path: string, position: number, length: number): void {
  if (!Number.isSafeInteger(position) || position < 0) throw new ArgumentError(`${operation} ${path}: position ${position} is not a non-negative integer`, { path });
  if (!Number.isSafeInteger(length) || length < 0) throw new ArgumentError(`${operation} ${path}: length ${length} is not a non-negative integer`, { path });
}

export class FileHandle {
  private closing: Promise<void> | undefined;
  /** Where the next write of an append-mode handle goes (node's 'a': every write appends). */
  private endOfFile: number;

  private constructor(
    readonly tree: TreeConnection,
    /** `\\host\share\dir\name` */
    readonly path: string,
    readonly name: string,
    readonly fileId: FileId,
    readonly flags: OpenFlags,
    /** EndOfFile as the CREATE response reported it. */
    readonly sizeAtOpen: number,
  ) {
    this.endOfFile = sizeAtOpen;
  }

  static async open(tree: TreeConnection, path: string, flags: OpenFlags = 'r'): Promise<FileHandle> {
    const sharePath = toShareFilePath(path, 'open');
    const created = await openHandle(tree, sharePath, openSpec(flags));
    return new FileHandle(tree, displayPath(tree.path, sharePath), baseName(sharePath), created.fileId, flags, Number(created.endOfFile));
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  private check(operation: string): void {
    if (this.closing !== undefined) throw new SmbError(`${operation} ${this.path}: the file handle is closed`, { command: operation, path: this.path });
  }

  /**
   * Reads up to buffer.length bytes at `position` into `buffer`; 0 at end of file. A READ that
   * returns less than asked before the end of file as this handle knows it (EndOfFile at CREATE,
   * moved by its own writes) is followed by a READ of the rest; STATUS_END_OF_FILE or an empty
   * READ before that end is a ProtocolError (endedEarly), never a short count.
   */
  async read(buffer: Buffer, position: number): Promise<number> {
    this.check('READ');
    checkRange('read', this.path, position, buffer.length);
    const { bytes, atEnd } = await readFully(this.tree, this.fileId, this.path, buffer, position, this.endOfFile);
    const end = position + bytes;
    if (bytes < buffer.length && end < this.endOfFile) throw endedEarly(this.path, end, this.endOfFile, atEnd);
    return bytes;
  }

  /** Writes all of `buffer` at `position` (at the end of file for 'a' and 'a+'); returns the bytes written. */
  async write(buffer: Buffer | Uint8Array, position: number): Promise<number> {
    this.check('WRITE');
    const data = Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const append = FLAGS[this.flags].append;
    const at = append ? this.endOfFile : position;
    checkRange('write', this.path, at, data.length);
    if (append) this.endOfFile += data.length;
    const written = await writeAt(this.tree, this.fileId, this.path, data, at);
    if (!append) this.endOfFile = Math.max(this.endOfFile, at + written);
    return written;
  }

  async stat(): Promise<FileStat> {
    this.check('QUERY_INFO');
    const response = await this.tree.request({
      command: Command.QueryInfo,
      body: encodeQueryInfoRequest({ infoType: InfoType.File, fileInfoClass: FileInfoClass.FileAllInformation, outputBufferLength: 4096, fileId: this.fileId }),
      path: this.path,
    });
    const all = decodeFileAllInformation(decodeQueryInfoResponse(response.message));
    // What the handle knows of the end of file (read, append) follows what the server now says.
    this.endOfFile = Number(all.standard.endOfFile);
    return toFileStat(this.name, {
      ...all.basic,
      allocationSize: all.standard.allocationSize,
      endOfFile: all.standard.endOfFile,
    }, all.indexNumber);
  }

  /** Sets the file size: cuts or extends with zeros. */
  async truncate(length = 0): Promise<void> {
    this.check('SET_INFO');
    checkRange('truncate', this.path, 0, length);
    await this.tree.request({
      command: Command.SetInfo,
      body: encodeSetInfoRequest({
        infoType: InfoType.File, fileInfoClass: FileInfoClass.FileEndOfFileInformation, fileId: this.fileId,
        buffer: encodeFileEndOfFileInformation(BigInt(length)),
      }),
      path: this.path,
    });
    this.endOfFile = length;
  }

  async flush(): Promise<void> {
    this.check('FLUSH');
    await this.tree.request({ command: Command.Flush, body: encodeFlushRequest(this.fileId), path: this.path });
  }

  /** A byte-range lock; a conflicting one fails with STATUS_LOCK_NOT_GRANTED unless `wait`. */
  async lock(offset: number, length: number, options: LockOptions = {}): Promise<void> {
    this.check('LOCK');
    checkRange('lock', this.path, offset, length);
    const wait = options.wait ?? false;
    const flags = (options.exclusive ?? true ? LockFlag.Exclusive : LockFlag.Shared) | (wait ? 0 : LockFlag.FailImmediately);
    await this.tree.request({
      command: Command.Lock,
      body: encodeLockRequest({ fileId: this.fileId, locks: [{ offset: BigInt(offset), length: BigInt(length), flags }] }),
      path: this.path,
      // A waiting lock is answered STATUS_PENDING and completes when the range is free.
      ...(wait ? { pendingTimeoutMs: null } : {}),
    });
  }

  async unlock(offset: number, length: number): Promise<void> {
    this.check('LOCK');
    checkRange('unlock', this.path, offset, length);
    await this.tree.request({
      command: Command.Lock,
      body: encodeLockRequest({ fileId: this.fileId, locks: [{ offset: BigInt(offset), length: BigInt(length), flags: LockFlag.Unlock }] }),
      path: this.path,
    });
  }

  /** CLOSE; calling it again returns the first call's result. */
  close(): Promise<void> {
    this.closing ??= closeHandle(this.tree, this.fileId, this.path);
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
