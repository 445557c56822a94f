/** CREATE request (MS-SMB2 2.2.13) and response (MS-SMB2 2.2.14). */
import {
  Reader,
  SMB2_HEADER_SIZE,
  Writer,
  alignUp,
  decodeUtf16,
  encodeUtf16,
  optionalSlice,
  readFileId,
  writeFileId,
  fromHeader,
} from './buffer.js';
import type { FileId } from './buffer.js';
import { ImpersonationLevel, OplockLevel } from './constants.js';
import { decodeCreateContexts, encodeCreateContexts } from './create-contexts.js';
import type { CreateContext } from './create-contexts.js';
import { readTimesAndSizes, writeTimesAndSizes } from './file-times.js';
import type { FileTimesAndSizes } from './file-times.js';

export interface CreateRequest {
  requestedOplockLevel?: number;
  impersonationLevel?: number;
  desiredAccess: number;
  fileAttributes?: number;
  shareAccess: number;
  createDisposition: number;
  createOptions: number;
  /** Relative to the share, no leading backslash; '' opens the share root. */
  name: string;
  contexts?: CreateContext[];
}

/** Times are FILETIME, sizes bytes, both as bigint. */
export interface CreateResponse extends FileTimesAndSizes {
  oplockLevel: number;
  /** SMB2_CREATE_FLAG_REPARSEPOINT (0x01) in 3.1.1. */
  flags: number;
  createAction: number;
  fileAttributes: number;
  fileId: FileId;
  contexts: CreateContext[];
}

const REQUEST = 'CREATE request';
const RESPONSE = 'CREATE response';
const REQUEST_FIXED = 56;
const RESPONSE_FIXED = 88;

export function encodeCreateRequest(request: CreateRequest): Buffer {
  const name = encodeUtf16(request.name);
  const contexts = encodeCreateContexts(request.contexts ?? []);
  const nameEnd = SMB2_HEADER_SIZE + REQUEST_FIXED + name.length;
  const contextsOffset = contexts.length > 0 ? alignUp(nameEnd) : 0;
  // The Buffer field must hold at least one byte even when the name is empty.
  const end = contexts.length > 0 ? contextsOffset + contexts.length : Math.max(nameEnd, SMB2_HEADER_SIZE + REQUEST_FIXED + 1);
  const w = new Writer(end - SMB2_HEADER_SIZE, REQUEST);
  w.u16(57, 'StructureSize');
  w.u8(0, 'SecurityFlags');
  w.u8(request.requestedOplockLevel ?? OplockLevel.None, 'RequestedOplockLevel');
  w.u32(request.impersonationLevel ?? ImpersonationLevel.Impersonation, 'ImpersonationLevel');
  w.u64(0n, 'SmbCreateFlags');
  w.u64(0n, 'Reserved');
  w.u32(request.desiredAccess, 'DesiredAccess');
  w.u32(request.fileAttributes ?? 0, 'FileAttributes');
  w.u32(request.shareAccess, 'ShareAccess');
  w.u32(request.createDisposition, 'CreateDisposition');
  w.u32(request.createOptions, 'CreateOptions');
  w.u16(SMB2_HEADER_SIZE + REQUEST_FIXED, 'NameOffset');
  w.u16(name.length, 'NameLength');
  w.u32(contextsOffset, 'CreateContextsOffset');
  w.u32(contexts.length, 'CreateContextsLength');
  w.bytes(name, 'Name');
  if (contexts.length > 0) {
    w.offset = contextsOffset - SMB2_HEADER_SIZE;
    w.bytes(contexts, 'CreateContexts');
  }
  return w.buffer;
}

export function decodeCreateRequest(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): CreateRequest {
  const r = new Reader(message, REQUEST, bodyOffset);
  const base = fromHeader(message, bodyOffset);
  r.structureSize(57);
  r.skip(1, 'SecurityFlags');
  const requestedOplockLevel = r.u8('RequestedOplockLevel');
  const impersonationLevel = r.u32('ImpersonationLevel');
  r.skip(16, 'SmbCreateFlags');
  const desiredAccess = r.u32('DesiredAccess');
  const fileAttributes = r.u32('FileAttributes');
  const shareAccess = r.u32('ShareAccess');
  const createDisposition = r.u32('CreateDisposition');
  const createOptions = r.u32('CreateOptions');
  const nameOffset = r.u16('NameOffset');
  const nameLength = r.u16('NameLength');
  const contextsOffset = r.u32('CreateContextsOffset');
  const contextsLength = r.u32('CreateContextsLength');
  const name = decodeUtf16(optionalSlice(base, nameOffset, nameLength, REQUEST, 'NameOffset'), REQUEST, 'NameLength');
  const chain = optionalSlice(base, contextsOffset, contextsLength, REQUEST, 'CreateContextsOffset');
  return {
    requestedOplockLevel,
    impersonationLevel,
    desiredAccess,
    fileAttributes,
    shareAccess,
    createDisposition,
    createOptions,
    name,
    contexts: decodeCreateContexts(chain, REQUEST),
  };
}

export function encodeCreateResponse(response: CreateResponse): Buffer {
  const contexts = encodeCreateContexts(response.contexts);
  const w = new Writer(RESPONSE_FIXED + contexts.length, RESPONSE);
  w.u16(89, 'StructureSize');
  w.u8(response.oplockLevel, 'OplockLevel');
  w.u8(response.flags, 'Flags');
  w.u32(response.createAction, 'CreateAction');
  writeTimesAndSizes(w, response);
  w.u32(response.fileAttributes, 'FileAttributes');
  w.u32(0, 'Reserved2');
  writeFileId(w, response.fileId);
  w.u32(contexts.length > 0 ? SMB2_HEADER_SIZE + RESPONSE_FIXED : 0, 'CreateContextsOffset');
  w.u32(contexts.length, 'CreateContextsLength');
  w.bytes(contexts, 'CreateContexts');
  return w.buffer;
}

export function decodeCreateResponse(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): CreateResponse {
  const r = new Reader(message, RESPONSE, bodyOffset);
  const base = fromHeader(message, bodyOffset);
  r.structureSize(89);
  const oplockLevel = r.u8('OplockLevel');
  const flags = r.u8('Flags');
  const createAction = r.u32('CreateAction');
  const timesAndSizes = readTimesAndSizes(r);
  const fileAttributes = r.u32('FileAttributes');
  r.skip(4, 'Reserved2');
  const fileId = readFileId(r);
  const contextsOffset = r.u32('CreateContextsOffset');
  const contextsLength = r.u32('CreateContextsLength');
  const chain = optionalSlice(base, contextsOffset, contextsLength, RESPONSE, 'CreateContextsOffset', SMB2_HEADER_SIZE + RESPONSE_FIXED);
  return {
    oplockLevel,
    flags,
    createAction,
    ...timesAndSizes,
    fileAttributes,
    fileId,
    contexts: decodeCreateContexts(chain, RESPONSE),
  };
}
