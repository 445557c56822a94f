/** FLUSH request (MS-SMB2 2.2.17) and response (MS-SMB2 2.2.18). */
import {
  Reader,
  SMB2_HEADER_SIZE,
  Writer,
  decodeReservedBody,
  encodeReservedBody,
  readFileId,
  writeFileId,
} from './buffer.js';
import type { FileId } from './buffer.js';

const REQUEST = 'FLUSH request';

export function encodeFlushRequest(fileId: FileId): Buffer {
  const w = new Writer(24, REQUEST);
  w.u16(24, 'StructureSize');
  w.u16(0, 'Reserved1');
  w.u32(0, 'Reserved2');
  writeFileId(w, fileId);
  return w.buffer;
}

export function decodeFlushRequest(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): FileId {
  const r = new Reader(message, REQUEST, bodyOffset);
  r.structureSize(24);
  r.skip(6, 'Reserved');
  return readFileId(r);
}

export function encodeFlushResponse(): Buffer {
  return encodeReservedBody();
}

export function decodeFlushResponse(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): void {
  decodeReservedBody(message, 'FLUSH response', bodyOffset);
}
