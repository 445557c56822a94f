/** NEGOTIATE request (MS-SMB2 2.2.3) and response (MS-SMB2 2.2.4). */
import {
  Reader,
  SMB2_HEADER_SIZE,
  Writer,
  alignUp,
  checkCount,
  optionalSlice,
  protocolError,
  fromHeader,
} from './buffer.js';
import { Dialect } from './constants.js';
import { decodeNegotiateContexts, encodeNegotiateContexts } from './negotiate-contexts.js';
import type { NegotiateContext } from './negotiate-contexts.js';

export interface NegotiateRequest {
  dialects: number[];
  securityMode: number;
  capabilities: number;
  clientGuid: Buffer;
  /** Sent only when 0x0311 is among the dialects; otherwise the field is ClientStartTime (0). */
  negotiateContexts?: NegotiateContext[];
}

export interface NegotiateResponse {
  securityMode: number;
  dialectRevision: number;
  serverGuid: Buffer;
  capabilities: number;
  maxTransactSize: number;
  maxReadSize: number;
  maxWriteSize: number;
  /** FILETIME */
  systemTime: bigint;
  /** FILETIME */
  serverStartTime: bigint;
  /** View of the GSS-API token (usually SPNEGO NegTokenInit). */
  securityBuffer: Buffer;
  /** Present only for dialect 0x0311. */
  negotiateContexts: NegotiateContext[];
}

const REQUEST = 'NEGOTIATE request';
const RESPONSE = 'NEGOTIATE response';
const REQUEST_FIXED = 36;
const RESPONSE_FIXED = 64;

function offersSmb311(dialects: readonly number[]): boolean {
  return dialects.includes(Dialect.Smb311);
}

export function encodeNegotiateRequest(request: NegotiateRequest): Buffer {
  const withContexts = offersSmb311(request.dialects) && (request.negotiateContexts?.length ?? 0) > 0;
  const contexts = withContexts ? encodeNegotiateContexts(request.negotiateContexts ?? []) : Buffer.alloc(0);
  const dialectsEnd = REQUEST_FIXED + request.dialects.length * 2;
  const contextsAt = withContexts ? alignUp(SMB2_HEADER_SIZE + dialectsEnd) - SMB2_HEADER_SIZE : dialectsEnd;
  const w = new Writer(contextsAt + contexts.length, REQUEST);
  w.u16(REQUEST_FIXED, 'StructureSize');
  w.u16(request.dialects.length, 'DialectCount');
  w.u16(request.securityMode, 'SecurityMode');
  w.u16(0, 'Reserved');
  w.u32(request.capabilities, 'Capabilities');
  w.bytes(request.clientGuid, 'ClientGuid', 16);
  if (withContexts) {
    w.u32(SMB2_HEADER_SIZE + contextsAt, 'NegotiateContextOffset');
    w.u16(request.negotiateContexts?.length ?? 0, 'NegotiateContextCount');
    w.u16(0, 'Reserved2');
  } else {
    w.u64(0n, 'ClientStartTime');
  }
  for (const dialect of request.dialects) w.u16(dialect, 'Dialects');
  w.offset = contextsAt;
  w.bytes(contexts, 'NegotiateContextList');
  return w.buffer;
}

export function decodeNegotiateRequest(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): NegotiateRequest {
  const r = new Reader(message, REQUEST, bodyOffset);
  const base = fromHeader(message, bodyOffset);
  r.structureSize(REQUEST_FIXED);
  const dialectCount = r.u16('DialectCount');
  const securityMode = r.u16('SecurityMode');
  r.skip(2, 'Reserved');
  const capabilities = r.u32('Capabilities');
  const clientGuid = r.bytes(16, 'ClientGuid');
  const contextOffset = r.u32('NegotiateContextOffset');
  const contextCount = r.u16('NegotiateContextCount');
  r.skip(2, 'Reserved2');
  checkCount(dialectCount, 2, r.remaining, REQUEST, 'DialectCount');
  const dialects: number[] = [];
  for (let i = 0; i < dialectCount; i++) dialects.push(r.u16('Dialects'));
  const request: NegotiateRequest = { dialects, securityMode, capabilities, clientGuid };
  if (offersSmb311(dialects) && contextCount > 0) {
    request.negotiateContexts = decodeNegotiateContexts(base, contextOffset, contextCount, REQUEST);
  }
  return request;
}

export function encodeNegotiateResponse(response: NegotiateResponse): Buffer {
  const is311 = response.dialectRevision === Dialect.Smb311;
  const contexts = is311 ? encodeNegotiateContexts(response.negotiateContexts) : Buffer.alloc(0);
  const securityEnd = RESPONSE_FIXED + response.securityBuffer.length;
  const contextsAt = contexts.length > 0 ? alignUp(securityEnd) : securityEnd;
  const w = new Writer(contextsAt + contexts.length, RESPONSE);
  w.u16(65, 'StructureSize');
  w.u16(response.securityMode, 'SecurityMode');
  w.u16(response.dialectRevision, 'DialectRevision');
  w.u16(is311 ? response.negotiateContexts.length : 0, 'NegotiateContextCount');
  w.bytes(response.serverGuid, 'ServerGuid', 16);
  w.u32(response.capabilities, 'Capabilities');
  w.u32(response.maxTransactSize, 'MaxTransactSize');
  w.u32(response.maxReadSize, 'MaxReadSize');
  w.u32(response.maxWriteSize, 'MaxWriteSize');
  w.u64(response.systemTime, 'SystemTime');
  w.u64(response.serverStartTime, 'ServerStartTime');
  w.u16(SMB2_HEADER_SIZE + RESPONSE_FIXED, 'SecurityBufferOffset');
  w.u16(response.securityBuffer.length, 'SecurityBufferLength');
  w.u32(contexts.length > 0 ? SMB2_HEADER_SIZE + contextsAt : 0, 'NegotiateContextOffset');
  w.bytes(response.securityBuffer, 'Buffer');
  w.offset = contextsAt;
  w.bytes(contexts, 'NegotiateContextList');
  return w.buffer;
}

export function decodeNegotiateResponse(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): NegotiateResponse {
  const r = new Reader(message, RESPONSE, bodyOffset);
  const base = fromHeader(message, bodyOffset);
  r.structureSize(65);
  const securityMode = r.u16('SecurityMode');
  const dialectRevision = r.u16('DialectRevision');
  const contextCount = r.u16('NegotiateContextCount');
  const serverGuid = r.bytes(16, 'ServerGuid');
  const capabilities = r.u32('Capabilities');
  const maxTransactSize = r.u32('MaxTransactSize');
  const maxReadSize = r.u32('MaxReadSize');
  const maxWriteSize = r.u32('MaxWriteSize');
  const systemTime = r.u64('SystemTime');
  const serverStartTime = r.u64('ServerStartTime');
  const securityOffset = r.u16('SecurityBufferOffset');
  const securityLength = r.u16('SecurityBufferLength');
  const contextOffset = r.u32('NegotiateContextOffset');
  const securityBuffer = optionalSlice(base, securityOffset, securityLength, RESPONSE, 'SecurityBufferOffset', SMB2_HEADER_SIZE + RESPONSE_FIXED);
  let negotiateContexts: NegotiateContext[] = [];
  if (dialectRevision === Dialect.Smb311) {
    if (contextCount === 0) {
      throw protocolError(RESPONSE, 'NegotiateContextCount', 'is 0 but dialect 3.1.1 requires contexts');
    }
    negotiateContexts = decodeNegotiateContexts(base, contextOffset, contextCount, RESPONSE, SMB2_HEADER_SIZE + RESPONSE_FIXED);
  }
  return {
    securityMode,
    dialectRevision,
    serverGuid,
    capabilities,
    maxTransactSize,
    maxReadSize,
    maxWriteSize,
    systemTime,
    serverStartTime,
    securityBuffer,
    negotiateContexts,
  };
}
