/**
 * WRITE request (MS-SMB2 2.2.21) and response (MS-SMB2 2.2.22). Large writes can send
 * `encodeWriteRequestHeader(...)` followed by the caller's data buffer, avoiding a copy.
 */
import { Reader, SMB2_HEADER_SIZE, Writer, fromHeader, optionalSlice, readFileId, writeFileId } from './buffer.js';
import type { FileId } from './buffer.js';

/** Request Flags (MS-SMB2 2.2.21). */
export const enum WriteFlag {
  WriteThrough = 0x00000001,
  WriteUnbuffered = 0x00000002,
}

/** Data follows the 48-byte fixed part: 64 + 48 = 0x70. */
export const WRITE_REQUEST_DATA_OFFSET = 0x70;
const FIXED = 48;

export interface WriteRequestFields {
  offset: bigint;
  fileId: FileId;
  channel?: number;
  remainingBytes?: number;
  flags?: number;
}

export interface WriteRequest extends WriteRequestFields {
  data: Buffer;
}

export interface WriteResponse {
  count: number;
  remaining: number;
}

const REQUEST = 'WRITE request';
const RESPONSE = 'WRITE response';

/**
 * The body up to the data: 48 bytes when `dataLength` > 0 (append the data), 49 for an empty
 * write (the Buffer field must hold at least one byte).
 */
export function encodeWriteRequestHeader(fields: WriteRequestFields, dataLength: number): Buffer {
  const w = new Writer(dataLength > 0 ? FIXED : FIXED + 1, REQUEST);
  w.u16(49, 'StructureSize');
  w.u16(WRITE_REQUEST_DATA_OFFSET, 'DataOffset');
  w.u32(dataLength, 'Length');
  w.u64(fields.offset, 'Offset');
  writeFileId(w, fields.fileId);
  w.u32(fields.channel ?? 0, 'Channel');
  w.u32(fields.remainingBytes ?? 0, 'RemainingBytes');
  w.u16(0, 'WriteChannelInfoOffset');
  w.u16(0, 'WriteChannelInfoLength');
  w.u32(fields.flags ?? 0, 'Flags');
  return w.buffer;
}

export function encodeWriteRequest(request: WriteRequest): Buffer {
  return Buffer.concat([encodeWriteRequestHeader(request, request.data.length), request.data]);
}

export function decodeWriteRequest(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): Required<WriteRequest> {
  const r = new Reader(message, REQUEST, bodyOffset);
  const base = fromHeader(message, bodyOffset);
  r.structureSize(49);
  const dataOffset = r.u16('DataOffset');
  const length = r.u32('Length');
  const offset = r.u64('Offset');
  const fileId = readFileId(r);
  const channel = r.u32('Channel');
  const remainingBytes = r.u32('RemainingBytes');
  r.skip(4, 'WriteChannelInfo');
  const flags = r.u32('Flags');
  const data = optionalSlice(base, dataOffset, length, REQUEST, 'DataOffset');
  return { offset, fileId, channel, remainingBytes, flags, data };
}

export function encodeWriteResponse(response: WriteResponse): Buffer {
  const w = new Writer(16, RESPONSE);
  w.u16(17, 'StructureSize');
  w.u16(0, 'Reserved');
  w.u32(response.count, 'Count');
  w.u32(response.remaining, 'Remaining');
  w.u16(0, 'WriteChannelInfoOffset');
  w.u16(0, 'WriteChannelInfoLength');
  return w.buffer;
}

export function decodeWriteResponse(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): WriteResponse {
  const r = new Reader(message, RESPONSE, bodyOffset);
  r.structureSize(17);
  r.skip(2, 'Reserved');
  const count = r.u32('Count');
  const remaining = r.u32('Remaining');
  r.skip(4, 'WriteChannelInfo');
  return { count, remaining };
}
