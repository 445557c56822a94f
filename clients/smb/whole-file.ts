/**
 * readFile, writeFile and appendFile. A file that fits in one READ or WRITE takes a single
 * round trip: CREATE + READ/WRITE + CLOSE as one related compound (MS-SMB2 3.2.4.1.4).
 */
import { constants } from 'node:buffer';
import { withCleanup } from './cleanup.js';
import { SmbError } from './errors.js';
import { FileHandle, openSpec } from './file.js';
import { onFile } from './handles.js';
import { IO_WINDOW_BYTES, endedEarly, ioSize, pastEnd, readData, readFully, readRequest, writeAt, writeRequest } from './io.js';
import { displayPath, toShareFilePath } from './paths.js';
import type { TreeConnection } from './tree-connection.js';
import { NtStatus, decodeWriteResponse } from './wire/index.js';

const MAX_LENGTH = constants.MAX_LENGTH;

export type FileData = Buffer | Uint8Array | string;

export function toBuffer(data: FileData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * The whole file, up to the EndOfFile CREATE reported: a short READ before it is followed by
 * a READ of the rest; STATUS_END_OF_FILE or an empty READ before it is a ProtocolError naming
 * the offset and the size (endedEarly), and data past it a ProtocolError too (pastEnd). The server's EndOfFile is not trusted with memory: the
 * file is read in parts, each at most as large as all the data received before it (or one
 * transfer window), which are joined at the end, so a file holds at most twice its size while
 * it is read.
 */
export async function readFile(tree: TreeConnection, path: string): Promise<Buffer> {
  const sharePath = toShareFilePath(path, 'readFile');
  const chunk = ioSize(tree, 'read');
  const { create, responses } = await onFile(tree, sharePath, openSpec('r'), (fileId, display) => [readRequest(fileId, 0, chunk, display)]);
  const first = readData(responses[0]!, chunk);
  const size = Number(create.endOfFile);
  if (first.length > size) throw pastEnd(displayPath(tree.path, sharePath), 0, first.length, size);
  if (size === first.length) return first;
  if (first.length === 0 || responses[0]!.status === NtStatus.EndOfFile) {
    throw endedEarly(displayPath(tree.path, sharePath), first.length, size, responses[0]!.status === NtStatus.EndOfFile);
  }
  if (size > MAX_LENGTH) throw new SmbError(`readFile ${path}: ${size} bytes do not fit in one Buffer (at most ${MAX_LENGTH}); use createReadStream`, { path });
  // Larger than one READ: keep the first chunk, read the rest through a new handle.
  const handle = await FileHandle.open(tree, sharePath, 'r');
  return withCleanup(async () => {
    const parts = [first];
    let position = first.length;
    while (position < size) {
      const part = Buffer.allocUnsafe(Math.min(size - position, Math.max(IO_WINDOW_BYTES, position)));
      const { bytes, atEnd } = await readFully(tree, handle.fileId, handle.path, part, position, size);
      parts.push(part.subarray(0, bytes));
      position += bytes;
      if (bytes < part.length) throw endedEarly(handle.path, position, size, atEnd);
    }
    return Buffer.concat(parts, position);
  }, () => handle.close());
}

export async function writeFile(tree: TreeConnection, path: string, data: FileData): Promise<void> {
  const sharePath = toShareFilePath(path, 'writeFile');
  const bytes = toBuffer(data);
  if (bytes.length <= ioSize(tree, 'write')) {
    const { responses } = await onFile(tree, sharePath, openSpec('w'), (fileId, display) =>
      bytes.length === 0 ? [] : [writeRequest(fileId, 0, bytes, display)]);
    const written = responses.length === 0 ? 0 : decodeWriteResponse(responses[0]!.message).count;
    if (written !== bytes.length) throw new SmbError(`WRITE ${path}: the server wrote ${written} of ${bytes.length} bytes`, { command: 'WRITE', path });
    return;
  }
  const handle = await FileHandle.open(tree, sharePath, 'w');
  await withCleanup(() => writeAt(tree, handle.fileId, handle.path, bytes, 0), () => handle.close());
}

export async function appendFile(tree: TreeConnection, path: string, data: FileData): Promise<void> {
  const handle = await FileHandle.open(tree, toShareFilePath(path, 'appendFile'), 'a');
  await withCleanup(() => handle.write(toBuffer(data), 0), () => handle.close());
}
