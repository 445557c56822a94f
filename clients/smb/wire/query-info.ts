/** QUERY_INFO request (MS-SMB2 2.2.37) and response (MS-SMB2 2.2.38). */
import {
  Reader,
  SMB2_HEADER_SIZE,
  Writer,
  decodeOutputBufferResponse,
  encodeOutputBufferResponse,
  fromHeader,
  optionalSlice,
  readFileId,
  writeFileId,
} from './buffer.js';
import type { FileId } from './buffer.js';

export interface QueryInfoRequest {
  infoType: number;
  fileInfoClass: number;
  outputBufferLength: number;
  /** Security information flags for InfoType SECURITY, 0 otherwise. */
  additionalInformation?: number;
  /** SL_RESTART_SCAN etc. for EA and quota queries. */
  flags?: number;
  fileId: FileId;
  input?: Buffer;
}

const REQUEST = 'QUERY_INFO request';
const RESPONSE = 'QUERY_INFO response';
const FIXED = 40;

export function encodeQueryInfoRequest(request: QueryInfoRequest): Buffer {
  const input = request.input ?? Buffer.alloc(0);
  const w = new Writer(FIXED + Math.max(1, input.length), REQUEST);
  w.u16(41, 'StructureSize');
  w.u8(request.infoType, 'InfoType');
  w.u8(request.fileInfoClass, 'FileInfoClass');
  w.u32(request.outputBufferLength, 'OutputBufferLength');
  w.u16(input.length > 0 ? SMB2_HEADER_SIZE + FIXED : 0, 'InputBufferOffset');
  w.u16(0, 'Reserved');
  w.u32(input.length, 'InputBufferLength');
  w.u32(request.additionalInformation ?? 0, 'AdditionalInformation');
  w.u32(request.flags ?? 0, 'Flags');
  writeFileId(w, request.fileId);
  w.bytes(input, 'Buffer');
  return w.buffer;
}

export function decodeQueryInfoRequest(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): Required<QueryInfoRequest> {
  const r = new Reader(message, REQUEST, bodyOffset);
  r.structureSize(41);
  const infoType = r.u8('InfoType');
  const fileInfoClass = r.u8('FileInfoClass');
  const outputBufferLength = r.u32('OutputBufferLength');
  const inputOffset = r.u16('InputBufferOffset');
  r.skip(2, 'Reserved');
  const inputLength = r.u32('InputBufferLength');
  const additionalInformation = r.u32('AdditionalInformation');
  const flags = r.u32('Flags');
  const fileId = readFileId(r);
  const input = optionalSlice(fromHeader(message, bodyOffset), inputOffset, inputLength, REQUEST, 'InputBufferOffset');
  return { infoType, fileInfoClass, outputBufferLength, additionalInformation, flags, fileId, input };
}

export function encodeQueryInfoResponse(output: Buffer): Buffer {
  return encodeOutputBufferResponse(RESPONSE, output);
}

/** The information buffer (a view); decode it with the file-info decoders. */
export function decodeQueryInfoResponse(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): Buffer {
  return decodeOutputBufferResponse(message, RESPONSE, bodyOffset);
}
