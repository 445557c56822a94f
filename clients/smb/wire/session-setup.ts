/** SESSION_SETUP request (MS-SMB2 2.2.5) and response (MS-SMB2 2.2.6). */
import { Reader, SMB2_HEADER_SIZE, Writer, fromHeader, optionalSlice } from './buffer.js';

/** Request Flags (MS-SMB2 2.2.5). */
export const SESSION_FLAG_BINDING = 0x01;

/** Response SessionFlags (MS-SMB2 2.2.6). */
export const enum SessionFlag {
  IsGuest = 0x0001,
  IsNull = 0x0002,
  EncryptData = 0x0004,
}

export interface SessionSetupRequest {
  /** SMB2_SESSION_FLAG_BINDING to bind an existing session to a new channel (3.x). */
  flags: number;
  securityMode: number;
  capabilities: number;
  channel: number;
  previousSessionId: bigint;
  securityBuffer: Buffer;
}

export interface SessionSetupResponse {
  sessionFlags: number;
  /** View of the GSS-API token. */
  securityBuffer: Buffer;
}

const REQUEST = 'SESSION_SETUP request';
const RESPONSE = 'SESSION_SETUP response';
const REQUEST_FIXED = 24;
const RESPONSE_FIXED = 8;

export function encodeSessionSetupRequest(request: SessionSetupRequest): Buffer {
  const w = new Writer(REQUEST_FIXED + request.securityBuffer.length, REQUEST);
  w.u16(25, 'StructureSize');
  w.u8(request.flags, 'Flags');
  w.u8(request.securityMode, 'SecurityMode');
  w.u32(request.capabilities, 'Capabilities');
  w.u32(request.channel, 'Channel');
  w.u16(SMB2_HEADER_SIZE + REQUEST_FIXED, 'SecurityBufferOffset');
  w.u16(request.securityBuffer.length, 'SecurityBufferLength');
  w.u64(request.previousSessionId, 'PreviousSessionId');
  w.bytes(request.securityBuffer, 'Buffer');
  return w.buffer;
}

export function decodeSessionSetupRequest(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): SessionSetupRequest {
  const r = new Reader(message, REQUEST, bodyOffset);
  const base = fromHeader(message, bodyOffset);
  r.structureSize(25);
  const flags = r.u8('Flags');
  const securityMode = r.u8('SecurityMode');
  const capabilities = r.u32('Capabilities');
  const channel = r.u32('Channel');
  const offset = r.u16('SecurityBufferOffset');
  const length = r.u16('SecurityBufferLength');
  const previousSessionId = r.u64('PreviousSessionId');
  const securityBuffer = optionalSlice(base, offset, length, REQUEST, 'SecurityBufferOffset');
  return { flags, securityMode, capabilities, channel, previousSessionId, securityBuffer };
}

export function encodeSessionSetupResponse(response: SessionSetupResponse): Buffer {
  const w = new Writer(RESPONSE_FIXED + response.securityBuffer.length, RESPONSE);
  w.u16(9, 'StructureSize');
  w.u16(response.sessionFlags, 'SessionFlags');
  w.u16(SMB2_HEADER_SIZE + RESPONSE_FIXED, 'SecurityBufferOffset');
  w.u16(response.securityBuffer.length, 'SecurityBufferLength');
  w.bytes(response.securityBuffer, 'Buffer');
  return w.buffer;
}

export function decodeSessionSetupResponse(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): SessionSetupResponse {
  const r = new Reader(message, RESPONSE, bodyOffset);
  const base = fromHeader(message, bodyOffset);
  r.structureSize(9);
  const sessionFlags = r.u16('SessionFlags');
  const offset = r.u16('SecurityBufferOffset');
  const length = r.u16('SecurityBufferLength');
  return { sessionFlags, securityBuffer: optionalSlice(base, offset, length, RESPONSE, 'SecurityBufferOffset', SMB2_HEADER_SIZE + RESPONSE_FIXED) };
}
