/** READ request (MS-SMB2 2.2.19) and response (MS-SMB2 2.2.20). */
import { Reader, SMB2_HEADER_SIZE, Writer, fromHeader, optionalSlice, readFileId, writeFileId } from './buffer.js';
import type { FileId } from './buffer.js';

/** Request Flags (MS-SMB2 2.2.19). */
export const enum ReadFlag {
  Unbuffered = 0x01,
  RequestCompressed = 0x02,
}

/** Where the server is asked to put the data: right after the 16-byte response body. */
export const READ_RESPONSE_DATA_OFFSET = 0x50;

export interface ReadRequest {
  length: number;
  offset: bigint;
  fileId: FileId;
  minimumCount?: number;
  /** SMB2_CHANNEL_NONE (0) unless reading over RDMA. */
  channel?: number;
  remainingBytes?: number;
  flags?: number;
  /** Requested response DataOffset; 0x50 by default. */
  padding?: number;
}

export interface ReadResponse {
  /** View of the data inside the message: no copy. */
  data: Buffer;
  dataRemaining: number;
  flags: number;
}

const REQUEST = 'READ request';
const RESPONSE = 'READ response';

export function encodeReadRequest(request: ReadRequest): Buffer {
  const w = new Writer(49, REQUEST);
  w.u16(49, 'StructureSize');
  w.u8(request.padding ?? READ_RESPONSE_DATA_OFFSET, 'Padding');
  w.u8(request.flags ?? 0, 'Flags');
  w.u32(request.length, 'Length');
  w.u64(request.offset, 'Offset');
  writeFileId(w, request.fileId);
  w.u32(request.minimumCount ?? 0, 'MinimumCount');
  w.u32(request.channel ?? 0, 'Channel');
  w.u32(request.remainingBytes ?? 0, 'RemainingBytes');
  w.u16(0, 'ReadChannelInfoOffset');
  w.u16(0, 'ReadChannelInfoLength');
  // The one-byte Buffer stays zero.
  return w.buffer;
}

export function decodeReadRequest(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): Required<ReadRequest> {
  const r = new Reader(message, REQUEST, bodyOffset);
  r.structureSize(49);
  const padding = r.u8('Padding');
  const flags = r.u8('Flags');
  const length = r.u32('Length');
  const offset = r.u64('Offset');
  const fileId = readFileId(r);
  const minimumCount = r.u32('MinimumCount');
  const channel = r.u32('Channel');
  const remainingBytes = r.u32('RemainingBytes');
  r.skip(4, 'ReadChannelInfo');
  return { length, offset, fileId, minimumCount, channel, remainingBytes, flags, padding };
}

export function encodeReadResponse(data: Buffer, dataRemaining = 0): Buffer {
  const w = new Writer(16 + data.length, RESPONSE);
  w.u16(17, 'StructureSize');
  w.u8(READ_RESPONSE_DATA_OFFSET, 'DataOffset');
  w.u8(0, 'Reserved');
  w.u32(data.length, 'DataLength');
  w.u32(dataRemaining, 'DataRemaining');
  w.u32(0, 'Flags');
  w.bytes(data, 'Buffer');
  return w.buffer;
}

export function decodeReadResponse(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): ReadResponse {
  const r = new Reader(message, RESPONSE, bodyOffset);
  const base = fromHeader(message, bodyOffset);
  r.structureSize(17);
  const dataOffset = r.u8('DataOffset');
  r.skip(1, 'Reserved');
  const dataLength = r.u32('DataLength');
  const dataRemaining = r.u32('DataRemaining');
  const flags = r.u32('Flags');
  const data = optionalSlice(base, dataOffset, dataLength, RESPONSE, 'DataOffset', READ_RESPONSE_DATA_OFFSET);
  return { data, dataRemaining, flags };
}

/**
 * DataOffset and DataLength of a READ response whose data has not arrived yet: `head` holds its
 * SMB2 header and the 16-byte fixed part of the body.
 */
export function decodeReadResponseHead(head: Buffer, bodyOffset = SMB2_HEADER_SIZE): { dataOffset: number; dataLength: number } {
  const r = new Reader(head, RESPONSE, bodyOffset);
  r.structureSize(17);
  const dataOffset = r.u8('DataOffset');
  r.skip(1, 'Reserved');
  return { dataOffset, dataLength: r.u32('DataLength') };
}
