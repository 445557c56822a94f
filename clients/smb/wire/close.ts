/** CLOSE request (MS-SMB2 2.2.15) and response (MS-SMB2 2.2.16). */
import { Reader, SMB2_HEADER_SIZE, Writer, readFileId, writeFileId } from './buffer.js';
import type { FileId } from './buffer.js';
import { readTimesAndSizes, writeTimesAndSizes } from './file-times.js';
import type { FileTimesAndSizes } from './file-times.js';

/** Ask the server to return the file's attributes in the response. */
export const CLOSE_FLAG_POSTQUERY_ATTRIB = 0x0001;

export interface CloseRequest {
  flags?: number;
  fileId: FileId;
}

/** Attribute fields are zero unless the request set CLOSE_FLAG_POSTQUERY_ATTRIB. */
export interface CloseResponse extends FileTimesAndSizes {
  flags: number;
  fileAttributes: number;
}

const REQUEST = 'CLOSE request';
const RESPONSE = 'CLOSE response';

export function encodeCloseRequest(request: CloseRequest): Buffer {
  const w = new Writer(24, REQUEST);
  w.u16(24, 'StructureSize');
  w.u16(request.flags ?? 0, 'Flags');
  w.u32(0, 'Reserved');
  writeFileId(w, request.fileId);
  return w.buffer;
}

export function decodeCloseRequest(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): Required<CloseRequest> {
  const r = new Reader(message, REQUEST, bodyOffset);
  r.structureSize(24);
  const flags = r.u16('Flags');
  r.skip(4, 'Reserved');
  return { flags, fileId: readFileId(r) };
}

export function encodeCloseResponse(response: CloseResponse): Buffer {
  const w = new Writer(60, RESPONSE);
  w.u16(60, 'StructureSize');
  w.u16(response.flags, 'Flags');
  w.u32(0, 'Reserved');
  writeTimesAndSizes(w, response);
  w.u32(response.fileAttributes, 'FileAttributes');
  return w.buffer;
}

export function decodeCloseResponse(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): CloseResponse {
  const r = new Reader(message, RESPONSE, bodyOffset);
  r.structureSize(60);
  const flags = r.u16('Flags');
  r.skip(4, 'Reserved');
  const timesAndSizes = readTimesAndSizes(r);
  return { flags, ...timesAndSizes, fileAttributes: r.u32('FileAttributes') };
}
