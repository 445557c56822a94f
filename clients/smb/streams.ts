/**
 * Node streams over a file. The readable keeps a window of READs in flight (ioWindow) ahead of the
 * consumer and pushes chunks of at least PUSH_BYTES: one READ's data each with LARGE_MTU (up to
 * MAX_STREAM_READ_SIZE, streamReadSize), several READs of 64 KiB received into one chunk of
 * PUSH_BYTES without, so the consumer (a file, a socket) sees a few large writes rather than many
 * small ones. Responses land in the chunk in place where the connection allows (PlacedRead), else
 * they are the message itself or a copy of its data. The writable coalesces small writes into
 * request-sized ones, keeps a window of WRITEs in flight and holds further data back
 * (backpressure) until one is acknowledged. 'finish' comes after the last acknowledgement and the
 * CLOSE.
 */
import { Readable, Writable } from 'node:stream';
import { ArgumentError, SmbError } from './errors.js';
import { FileHandle } from './file.js';
import { completeRead, ioSize, ioWindow, readData, readDataInto, readRequest, streamReadSize, writeRequest } from './io.js';
import { NtStatus, decodeWriteResponse } from './wire/index.js';
import type { TreeConnection } from './tree-connection.js';

export interface ReadStreamOptions {
  /** First byte to read; default 0. */
  start?: number;
  /** Last byte to read, inclusive (like node's fs.createReadStream); default end of file. */
  end?: number;
  highWaterMark?: number;
}

export interface WriteStreamOptions {
  /** 'w' (default) replaces the file, 'a' appends to it. */
  flags?: 'w' | 'a';
}

/** The smallest chunk the readable pushes, end of file aside. */
export const PUSH_BYTES = 1 << 20;

function settle(error: Error | null, handle: FileHandle | undefined, callback: (error?: Error | null) => void): void {
  if (handle === undefined) {
    callback(error);
    return;
  }
  handle.close().then(() => callback(error), (closeError: unknown) => callback(error ?? (closeError as Error)));
}

/** READs of one pushed chunk: one READ with LARGE_MTU, PUSH_BYTES / 64 KiB without. */
interface ChunkReads {
  length: number;
  /** The chunk's data, all `length` bytes of it (a file that ends earlier is an error). */
  data: Promise<Buffer>;
}

class SmbReadStream extends Readable {
  private handle: FileHandle | undefined;
  private next: number;
  private limit = 0;
  private readonly inFlight: ChunkReads[] = [];
  private waiting = false;
  private ended = false;

  constructor(private readonly tree: TreeConnection, private readonly path: string, private readonly options: ReadStreamOptions) {
    // Room for a few responses, so a slow consumer and the network overlap.
    super({ highWaterMark: options.highWaterMark ?? 4 * PUSH_BYTES });
    this.next = options.start ?? 0;
    for (const [field, value] of [['start', options.start], ['end', options.end]] as const) {
      if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) throw new ArgumentError(`createReadStream ${path}: ${field} ${value} is not a non-negative integer`, { path });
    }
  }

  override _construct(callback: (error?: Error | null) => void): void {
    FileHandle.open(this.tree, this.path, 'r').then((handle) => {
      this.handle = handle;
      // The file as it was when opened: up to its size then, or to `end`.
      this.limit = Math.min(handle.sizeAtOpen, this.options.end === undefined ? Infinity : this.options.end + 1);
      callback();
    }, (error: unknown) => callback(error as Error));
  }

  /**
   * Sends the READs of the next chunk. A READ as large as a chunk gets memory of its own only
   * if its response can be received in place (else the data stays a view of the message);
   * smaller READs share one chunk buffer, each receiving into its own part of it. The chunk
   * lies before the end of file as it was at open: a READ that returns less is completed
   * (completeRead), and a file that ends earlier is an error, never a shorter stream.
   */
  private readChunk(handle: FileHandle, size: number): ChunkReads {
    const at = this.next;
    const complete = (into: Buffer, position: number, got: number, atEnd: boolean) =>
      completeRead(this.tree, handle.fileId, handle.path, into, position, { bytes: got, atEnd }, handle.sizeAtOpen);
    if (size >= PUSH_BYTES) {
      const length = Math.min(size, this.limit - at);
      this.next += length;
      const data = this.tree.request(readRequest(handle.fileId, at, length, handle.path, (n) => Buffer.allocUnsafe(n))).then(async (response) => {
        const got = readData(response, length);
        if (got.length === length) return got;
        const whole = Buffer.allocUnsafe(length);
        got.copy(whole);
        await complete(whole, at, got.length, response.status === NtStatus.EndOfFile);
        return whole;
      });
      return { length, data };
    }
    const length = Math.min(PUSH_BYTES, this.limit - at);
    this.next += length;
    const chunk = Buffer.allocUnsafe(length);
    const parts: Array<Promise<void>> = [];
    for (let offset = 0; offset < length; offset += size) {
      const into = chunk.subarray(offset, Math.min(length, offset + size));
      parts.push(this.tree.request(readRequest(handle.fileId, at + offset, into.length, handle.path, into)).then(async (response) => {
        const got = readDataInto(response, into);
        if (got < into.length) await complete(into, at + offset, got, response.status === NtStatus.EndOfFile);
      }));
    }
    return { length, data: Promise.all(parts).then(() => chunk) };
  }

  override _read(): void {
    const handle = this.handle;
    if (handle === undefined || this.ended) return;
    const size = streamReadSize(this.tree);
    const perChunk = Math.max(1, Math.floor(PUSH_BYTES / size));
    const window = Math.max(2, Math.floor(ioWindow(size) / perChunk));
    // Refill once half the window has come back: the new READs then leave in one socket write.
    const refill = this.inFlight.length <= window / 2;
    while (refill && this.inFlight.length < window && this.next < this.limit) {
      const reads = this.readChunk(handle, size);
      reads.data.catch(() => undefined);
      this.inFlight.push(reads);
    }
    const head = this.inFlight[0];
    if (head === undefined) {
      this.ended = true;
      this.push(null);
      return;
    }
    if (this.waiting) return;
    this.waiting = true;
    head.data.then((data) => {
      this.waiting = false;
      this.inFlight.shift();
      if (this.destroyed) return;
      if (data.length > 0 && !this.push(data)) return;
      this._read();
    }, (error: unknown) => this.destroy(error as Error));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.ended = true;
    settle(error, this.handle, callback);
  }
}

class SmbWriteStream extends Writable {
  private handle: FileHandle | undefined;
  private position = 0;
  private staging: Buffer | undefined;
  private staged = 0;
  private readonly inFlight = new Set<Promise<unknown>>();
  private failure: Error | undefined;
  private blocked: (() => void) | undefined;
  private chunk = 0;

  constructor(private readonly tree: TreeConnection, private readonly path: string, private readonly flags: 'w' | 'a') {
    super({ highWaterMark: 1 << 20 });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    FileHandle.open(this.tree, this.path, this.flags).then((handle) => {
      this.handle = handle;
      this.chunk = ioSize(this.tree, 'write');
      // 'a' starts at the end; the stream is then the only one moving its position.
      this.position = this.flags === 'a' ? handle.sizeAtOpen : 0;
      callback();
    }, (error: unknown) => callback(error as Error));
  }

  /**
   * Sends one WRITE. Returns a promise to wait on when the window is full, else undefined, so a
   * run of WRITEs is issued in one tick and leaves in one socket write.
   */
  private send(data: Buffer): Promise<void> | undefined {
    const handle = this.handle!;
    const at = this.position;
    this.position += data.length;
    const write = this.tree.request(writeRequest(handle.fileId, at, data, handle.path)).then((response) => {
      const written = decodeWriteResponse(response.message).count;
      if (written !== data.length) throw new SmbError(`WRITE ${handle.path}: the server wrote ${written} of ${data.length} bytes at offset ${at}`, { command: 'WRITE', path: handle.path });
    }).catch((error: unknown) => {
      this.failure ??= error as Error;
    }).finally(() => {
      this.inFlight.delete(write);
      const resume = this.blocked;
      this.blocked = undefined;
      resume?.();
    });
    this.inFlight.add(write);
    if (this.inFlight.size < ioWindow(this.chunk)) return undefined;
    return new Promise((resolve) => { this.blocked = resolve; });
  }

  private async accept(data: Buffer): Promise<void> {
    let offset = 0;
    while (offset < data.length && this.failure === undefined) {
      if (this.staged === 0 && data.length - offset >= this.chunk) {
        // Whole requests straight from the caller's buffer: no copy.
        const full = this.send(data.subarray(offset, offset + this.chunk));
        if (full !== undefined) await full;
        offset += this.chunk;
        continue;
      }
      this.staging ??= Buffer.allocUnsafe(this.chunk);
      const copied = data.copy(this.staging, this.staged, offset);
      this.staged += copied;
      offset += copied;
      if (this.staged === this.chunk) {
        const full = this.flushStaging();
        if (full !== undefined) await full;
      }
    }
    if (this.failure !== undefined) throw this.failure;
  }

  private flushStaging(): Promise<void> | undefined {
    if (this.staging === undefined || this.staged === 0) return undefined;
    const full = this.staging.subarray(0, this.staged);
    this.staging = undefined;
    this.staged = 0;
    return this.send(full);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.accept(chunk).then(() => callback(), (error: unknown) => callback(error as Error));
  }

  override _final(callback: (error?: Error | null) => void): void {
    (async () => {
      await this.flushStaging();
      while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
      if (this.failure !== undefined) throw this.failure;
      const handle = this.handle;
      this.handle = undefined;
      await handle?.close();
    })().then(() => callback(), (error: unknown) => callback(error as Error));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    settle(error, this.handle, callback);
  }
}

export function createReadStream(tree: TreeConnection, path: string, options: ReadStreamOptions = {}): Readable {
  return new SmbReadStream(tree, path, options);
}

export function createWriteStream(tree: TreeConnection, path: string, options: WriteStreamOptions = {}): Writable {
  const flags = options.flags ?? 'w';
  if (flags !== 'w' && flags !== 'a') throw new ArgumentError(`createWriteStream ${path}: flags must be 'w' or 'a', got '${String(flags)}'`, { path });
  return new SmbWriteStream(tree, path, flags);
}
