/** SET_INFO request (MS-SMB2 2.2.39) and response (MS-SMB2 2.2.40). */
import {
  Reader,
  SMB2_HEADER_SIZE,
  Writer,
  fromHeader,
  optionalSlice,
  readFileId,
  writeFileId,
} from './buffer.js';
import type { FileId } from './buffer.js';

export interface SetInfoRequest {
  infoType: number;
  fileInfoClass: number;
  additionalInformation?: number;
  fileId: FileId;
  /** The encoded information structure, e.g. from encodeFileRenameInformation. */
  buffer: Buffer;
}

const REQUEST = 'SET_INFO request';
const RESPONSE = 'SET_INFO response';
const FIXED = 32;

export function encodeSetInfoRequest(request: SetInfoRequest): Buffer {
  const w = new Writer(FIXED + Math.max(1, request.buffer.length), REQUEST);
  w.u16(33, 'StructureSize');
  w.u8(request.infoType, 'InfoType');
  w.u8(request.fileInfoClass, 'FileInfoClass');
  w.u32(request.buffer.length, 'BufferLength');
  w.u16(SMB2_HEADER_SIZE + FIXED, 'BufferOffset');
  w.u16(0, 'Reserved');
  w.u32(request.additionalInformation ?? 0, 'AdditionalInformation');
  writeFileId(w, request.fileId);
  w.bytes(request.buffer, 'Buffer');
  return w.buffer;
}

export function decodeSetInfoRequest(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): Required<SetInfoRequest> {
  const r = new Reader(message, REQUEST, bodyOffset);
  r.structureSize(33);
  const infoType = r.u8('InfoType');
  const fileInfoClass = r.u8('FileInfoClass');
  const length = r.u32('BufferLength');
  const offset = r.u16('BufferOffset');
  r.skip(2, 'Reserved');
  const additionalInformation = r.u32('AdditionalInformation');
  const fileId = readFileId(r);
  const buffer = optionalSlice(fromHeader(message, bodyOffset), offset, length, REQUEST, 'BufferOffset');
  return { infoType, fileInfoClass, additionalInformation, fileId, buffer };
}

export function encodeSetInfoResponse(): Buffer {
  return new Writer(2, RESPONSE).u16(2, 'StructureSize').buffer;
}

export function decodeSetInfoResponse(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): void {
  new Reader(message, RESPONSE, bodyOffset).structureSize(2);
}
