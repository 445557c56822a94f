/** QUERY_DIRECTORY request (MS-SMB2 2.2.33) and response (MS-SMB2 2.2.34). */
import {
  Reader,
  SMB2_HEADER_SIZE,
  Writer,
  decodeOutputBufferResponse,
  decodeUtf16,
  encodeOutputBufferResponse,
  encodeUtf16,
  fromHeader,
  optionalSlice,
  readFileId,
  writeFileId,
} from './buffer.js';
import type { FileId } from './buffer.js';

/** Request Flags (MS-SMB2 2.2.33). */
export const enum QueryDirectoryFlag {
  RestartScans = 0x01,
  ReturnSingleEntry = 0x02,
  IndexSpecified = 0x04,
  Reopen = 0x10,
}

export interface QueryDirectoryRequest {
  fileInformationClass: number;
  flags?: number;
  fileIndex?: number;
  fileId: FileId;
  /** Search pattern, e.g. `*`. */
  pattern: string;
  outputBufferLength: number;
}

const REQUEST = 'QUERY_DIRECTORY request';
const RESPONSE = 'QUERY_DIRECTORY response';
const FIXED = 32;

export function encodeQueryDirectoryRequest(request: QueryDirectoryRequest): Buffer {
  const pattern = encodeUtf16(request.pattern);
  const w = new Writer(FIXED + Math.max(1, pattern.length), REQUEST);
  w.u16(33, 'StructureSize');
  w.u8(request.fileInformationClass, 'FileInformationClass');
  w.u8(request.flags ?? 0, 'Flags');
  w.u32(request.fileIndex ?? 0, 'FileIndex');
  writeFileId(w, request.fileId);
  w.u16(pattern.length > 0 ? SMB2_HEADER_SIZE + FIXED : 0, 'FileNameOffset');
  w.u16(pattern.length, 'FileNameLength');
  w.u32(request.outputBufferLength, 'OutputBufferLength');
  w.bytes(pattern, 'Buffer');
  return w.buffer;
}

export function decodeQueryDirectoryRequest(
  message: Buffer,
  bodyOffset = SMB2_HEADER_SIZE,
): Required<QueryDirectoryRequest> {
  const r = new Reader(message, REQUEST, bodyOffset);
  r.structureSize(33);
  const fileInformationClass = r.u8('FileInformationClass');
  const flags = r.u8('Flags');
  const fileIndex = r.u32('FileIndex');
  const fileId = readFileId(r);
  const nameOffset = r.u16('FileNameOffset');
  const nameLength = r.u16('FileNameLength');
  const outputBufferLength = r.u32('OutputBufferLength');
  const name = optionalSlice(fromHeader(message, bodyOffset), nameOffset, nameLength, REQUEST, 'FileNameOffset');
  const pattern = decodeUtf16(name, REQUEST, 'FileNameLength');
  return { fileInformationClass, flags, fileIndex, fileId, pattern, outputBufferLength };
}

export function encodeQueryDirectoryResponse(output: Buffer): Buffer {
  return encodeOutputBufferResponse(RESPONSE, output);
}

/** The raw entries buffer (a view); decode it with decodeDirectoryEntries. */
export function decodeQueryDirectoryResponse(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): Buffer {
  return decodeOutputBufferResponse(message, RESPONSE, bodyOffset);
}
