/**
 * Large reads and writes: split by the negotiated MaxReadSize/MaxWriteSize (capped at
 * MAX_IO_SIZE; 64 KiB without LARGE_MTU, MS-SMB2 3.2.4.7), several requests in flight so one
 * transfer keeps the connection busy. The connection charges credits per request, and sends
 * those of 64 KiB made together as compound chains (Connection, IO_CHAIN).
 */
import { ProtocolError, SmbError } from './errors.js';
import type { TreeConnection, TreeRequest } from './tree-connection.js';
import {
  Command,
  NtStatus,
  decodeReadResponse,
  decodeWriteResponse,
  encodeReadRequest,
  encodeWriteRequestHeader,
} from './wire/index.js';
import type { FileId } from './wire/index.js';

/**
 * The largest READ and WRITE of FileHandle and whole-file transfers: larger ones did not go
 * faster against Samba on loopback (a block read waits for all of its READs, and the server
 * answers the first 1 MiB while it reads the next); see README "Performance".
 */
export const MAX_IO_SIZE = 1 << 20;
/**
 * The largest READ of a read stream whose responses are received in place (clear, signed,
 * GCM; PlacedRead), as smbclient asks for. The stream keeps two in flight, so the server
 * always has the next one, and with 8 times fewer requests to read, encrypt and send, streams
 * read 5-15% faster against Samba than with 1 MiB READs. CCM responses are decrypted whole
 * once received; there 1 MiB READs were the faster ones (each decrypted while the next
 * arrives) and kept the peak RSS lower.
 */
export const MAX_STREAM_READ_SIZE = 8 << 20;
/** Bytes one transfer keeps in flight: many small requests on 2.0.2, a few large ones with LARGE_MTU. */
export const IO_WINDOW_BYTES = 8 << 20;
const SINGLE_CREDIT_SIZE = 65536;

/** Requests of `size` bytes that one transfer keeps in flight. */
export function ioWindow(size: number): number {
  return Math.max(2, Math.floor(IO_WINDOW_BYTES / size));
}

export function ioSize(tree: TreeConnection, kind: 'read' | 'write'): number {
  const { limits } = tree;
  const max = kind === 'read' ? limits.maxReadSize : limits.maxWriteSize;
  const cap = limits.supportsMultiCredit ? MAX_IO_SIZE : SINGLE_CREDIT_SIZE;
  return Math.max(1, Math.min(max, cap));
}

/** The READ size of a read stream on `tree` (MAX_STREAM_READ_SIZE). */
export function streamReadSize(tree: TreeConnection): number {
  const size = ioSize(tree, 'read');
  if (size < MAX_IO_SIZE || !tree.limits.receivesInPlace) return size;
  return Math.min(tree.limits.maxReadSize, MAX_STREAM_READ_SIZE);
}

/** Reading at or past the end is an answer (0 bytes), not a failure. */
const READ_OK_STATUSES: readonly number[] = [NtStatus.EndOfFile];

/** `into`: where the data should go (RequestOptions.readInto); a large response is then received into it. */
export function readRequest(fileId: FileId, position: number, length: number, path: string, into?: Buffer | ((length: number) => Buffer)): TreeRequest {
  return { command: Command.Read, body: encodeReadRequest({ fileId, offset: BigInt(position), length }), payloadSize: length, okStatuses: READ_OK_STATUSES, path, readInto: into };
}

export function writeRequest(fileId: FileId, position: number, data: Buffer, path: string): TreeRequest {
  return {
    command: Command.Write,
    body: data.length === 0 ? encodeWriteRequestHeader({ fileId, offset: BigInt(position) }, 0) : [encodeWriteRequestHeader({ fileId, offset: BigInt(position) }, data.length), data],
    payloadSize: data.length,
    path,
  };
}

/**
 * The data of a READ response (a view of the received message), empty at end of file. More
 * than the `length` asked for is a ProtocolError: a server must not make a reader overrun.
 */
export function readData(response: { status: number; message: Buffer; placed?: Buffer | undefined }, length: number): Buffer {
  if (response.status === NtStatus.EndOfFile) return Buffer.alloc(0);
  // Received in place: the connection checked it against the request.
  if (response.placed !== undefined) return response.placed;
  const data = decodeReadResponse(response.message).data;
  if (data.length > length) {
    throw new ProtocolError(`READ response: DataLength ${data.length} exceeds the ${length} bytes requested`, { field: 'READ response.DataLength', command: 'READ' });
  }
  return data;
}

/**
 * Makes sure `into` holds a READ response's data (a response received in place already does;
 * otherwise the data is copied from the message) and returns its length.
 */
export function readDataInto(response: { status: number; message: Buffer; placed?: Buffer | undefined }, into: Buffer): number {
  const data = readData(response, into.length);
  if (data.buffer !== into.buffer || data.byteOffset !== into.byteOffset) data.copy(into);
  return data.length;
}

/** Runs task(0..count-1) with at most `window` running; the first failure wins, the rest stop starting. */
export async function pipelined(count: number, window: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < count && failure === undefined) {
      const index = next++;
      try {
        await task(index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, worker));
  if (failure !== undefined) throw failure.error;
}

/**
 * A READ that ended before the EndOfFile CREATE reported: STATUS_END_OF_FILE there (`atEnd`),
 * or STATUS_SUCCESS with no data, which a server that stopped short sends.
 */
export function endedEarly(path: string, offset: number, size: number, atEnd: boolean): ProtocolError {
  const answer = atEnd ? 'STATUS_END_OF_FILE' : 'STATUS_SUCCESS with no data';
  return new ProtocolError(`READ ${path} at offset ${offset}: ${answer}, but the file is ${size} bytes (EndOfFile at CREATE)`, {
    command: 'READ', path, field: 'READ response.DataLength',
  });
}

/** A READ that returned data past the end of file the same compound's CREATE reported. */
export function pastEnd(path: string, offset: number, length: number, size: number): ProtocolError {
  return new ProtocolError(`READ ${path} at offset ${offset}: ${length} bytes of data, past the end of the ${size}-byte file (EndOfFile at CREATE)`, {
    command: 'READ', path, field: 'READ response.DataLength',
  });
}

/**
 * readRange until `target` is full: a READ that returns less than asked before `knownEnd` (the
 * end of file as the caller knows it) is followed by a READ of the rest. Stops early at
 * STATUS_END_OF_FILE (`atEnd`), at an empty READ, or once `knownEnd` is reached.
 */
export async function readFully(tree: TreeConnection, fileId: FileId, path: string, target: Buffer, position: number, knownEnd: number): Promise<{ bytes: number; atEnd: boolean }> {
  let bytes = 0;
  for (;;) {
    const got = await readRange(tree, fileId, path, target.subarray(bytes), position + bytes);
    bytes += got.bytes;
    if (bytes === target.length || got.atEnd || got.bytes === 0 || position + bytes >= knownEnd) return { bytes, atEnd: got.atEnd };
  }
}

/**
 * Completes one READ at `position` that put `got` bytes into `into`, of a file of `size` bytes
 * (EndOfFile at CREATE) that covers all of `into`: the rest is read when the READ stopped short;
 * a file that ends before is a ProtocolError (endedEarly).
 */
export async function completeRead(tree: TreeConnection, fileId: FileId, path: string, into: Buffer, position: number, got: { bytes: number; atEnd: boolean }, size: number): Promise<void> {
  let { bytes, atEnd } = got;
  if (bytes > 0 && bytes < into.length && !atEnd) {
    const rest = await readFully(tree, fileId, path, into.subarray(bytes), position + bytes, size);
    bytes += rest.bytes;
    atEnd = rest.atEnd;
  }
  if (bytes < into.length) throw endedEarly(path, position + bytes, size, atEnd);
}

/**
 * Reads into `target` from `position`, with several READs in flight; returns the bytes read up
 * to the first READ that returned less than asked, and `atEnd` when that one said
 * STATUS_END_OF_FILE (not when it answered STATUS_SUCCESS with less: a short read to continue).
 */
export async function readRange(tree: TreeConnection, fileId: FileId, path: string, target: Buffer, position: number): Promise<{ bytes: number; atEnd: boolean }> {
  const chunk = ioSize(tree, 'read');
  const count = Math.ceil(target.length / chunk);
  const got = new Array<number>(count).fill(0);
  const ended = new Array<boolean>(count).fill(false);
  await pipelined(count, ioWindow(chunk), async (i) => {
    const start = i * chunk;
    const length = Math.min(chunk, target.length - start);
    const into = target.subarray(start, start + length);
    const response = await tree.request(readRequest(fileId, position + start, length, path, into));
    ended[i] = response.status === NtStatus.EndOfFile;
    got[i] = readDataInto(response, into);
  });
  let bytes = 0;
  for (const [i, n] of got.entries()) {
    bytes += n;
    if (n < Math.min(chunk, target.length - i * chunk)) return { bytes, atEnd: ended[i]! };
  }
  return { bytes, atEnd: false };
}

/** Writes all of `data` at `position`; returns the bytes the server acknowledged. */
export async function writeAt(tree: TreeConnection, fileId: FileId, path: string, data: Buffer, position: number): Promise<number> {
  if (data.length === 0) return 0;
  const chunk = ioSize(tree, 'write');
  const count = Math.ceil(data.length / chunk);
  let total = 0;
  await pipelined(count, ioWindow(chunk), async (i) => {
    const start = i * chunk;
    const part = data.subarray(start, Math.min(data.length, start + chunk));
    const written = decodeWriteResponse((await tree.request(writeRequest(fileId, position + start, part, path))).message).count;
    if (written !== part.length) throw new SmbError(`WRITE ${path}: the server wrote ${written} of ${part.length} bytes at offset ${position + start}`, { command: 'WRITE', path });
    total += written;
  });
  return total;
}
