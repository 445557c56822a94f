/**
 * IOCTL request (MS-SMB2 2.2.31) and response (MS-SMB2 2.2.32), plus the
 * FSCTL_VALIDATE_NEGOTIATE_INFO payloads (MS-SMB2 2.2.31.4, 2.2.32.6).
 */
import {
  Reader,
  SMB2_HEADER_SIZE,
  Writer,
  alignUp,
  checkCount,
  optionalSlice,
  readFileId,
  writeFileId,
  fromHeader,
} from './buffer.js';
import type { FileId } from './buffer.js';

/** CtlCode values with SMB2-specific processing (MS-SMB2 2.2.31) and common MS-FSCC ones. */
export const enum Fsctl {
  DfsGetReferrals = 0x00060194,
  DfsGetReferralsEx = 0x000601b0,
  PipePeek = 0x0011400c,
  PipeWait = 0x00110018,
  PipeTransceive = 0x0011c017,
  SrvCopychunk = 0x001440f2,
  SrvCopychunkWrite = 0x001480f2,
  SrvEnumerateSnapshots = 0x00144064,
  SrvRequestResumeKey = 0x00140078,
  SrvReadHash = 0x001441bb,
  LmrRequestResiliency = 0x001401d4,
  QueryNetworkInterfaceInfo = 0x001401fc,
  SetReparsePoint = 0x000900a4,
  GetReparsePoint = 0x000900a8,
  FileLevelTrim = 0x00098208,
  ValidateNegotiateInfo = 0x00140204,
  SetSparse = 0x000900c4,
  SetZeroData = 0x000980c8,
  QueryAllocatedRanges = 0x000940cf,
}

/** IOCTL Flags (MS-SMB2 2.2.31). */
export const IOCTL_IS_FSCTL = 0x00000001;

export interface IoctlRequest {
  ctlCode: number;
  fileId: FileId;
  input?: Buffer;
  /** Rarely used: data sent in the request's output buffer. */
  output?: Buffer;
  maxInputResponse?: number;
  maxOutputResponse: number;
  /** IOCTL_IS_FSCTL (default) or 0 for a device IOCTL. */
  flags?: number;
}

export interface IoctlResponse {
  ctlCode: number;
  fileId: FileId;
  /** Views into the message. */
  input: Buffer;
  output: Buffer;
  flags: number;
}

const REQUEST = 'IOCTL request';
const RESPONSE = 'IOCTL response';
const REQUEST_FIXED = 56;
const RESPONSE_FIXED = 48;

/** Places input then output (8-byte aligned) after the fixed part; offsets from the header. */
function layout(fixed: number, input: Buffer, output: Buffer) {
  const inputOffset = SMB2_HEADER_SIZE + fixed;
  const outputOffset = output.length > 0 ? alignUp(inputOffset + input.length) : 0;
  const end = output.length > 0 ? outputOffset + output.length : inputOffset + input.length;
  return { inputOffset: input.length > 0 ? inputOffset : 0, outputOffset, size: end - SMB2_HEADER_SIZE };
}

export function encodeIoctlRequest(request: IoctlRequest): Buffer {
  const input = request.input ?? Buffer.alloc(0);
  const output = request.output ?? Buffer.alloc(0);
  const at = layout(REQUEST_FIXED, input, output);
  const w = new Writer(at.size, REQUEST);
  w.u16(57, 'StructureSize');
  w.u16(0, 'Reserved');
  w.u32(request.ctlCode, 'CtlCode');
  writeFileId(w, request.fileId);
  w.u32(at.inputOffset, 'InputOffset');
  w.u32(input.length, 'InputCount');
  w.u32(request.maxInputResponse ?? 0, 'MaxInputResponse');
  w.u32(at.outputOffset, 'OutputOffset');
  w.u32(output.length, 'OutputCount');
  w.u32(request.maxOutputResponse, 'MaxOutputResponse');
  w.u32(request.flags ?? IOCTL_IS_FSCTL, 'Flags');
  w.u32(0, 'Reserved2');
  w.bytes(input, 'Input');
  if (output.length > 0) w.buffer.set(output, at.outputOffset - SMB2_HEADER_SIZE);
  return w.buffer;
}

export function decodeIoctlRequest(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): IoctlRequest {
  const r = new Reader(message, REQUEST, bodyOffset);
  const base = fromHeader(message, bodyOffset);
  r.structureSize(57);
  r.skip(2, 'Reserved');
  const ctlCode = r.u32('CtlCode');
  const fileId = readFileId(r);
  const inputOffset = r.u32('InputOffset');
  const inputCount = r.u32('InputCount');
  const maxInputResponse = r.u32('MaxInputResponse');
  const outputOffset = r.u32('OutputOffset');
  const outputCount = r.u32('OutputCount');
  const maxOutputResponse = r.u32('MaxOutputResponse');
  const flags = r.u32('Flags');
  r.skip(4, 'Reserved2');
  return {
    ctlCode,
    fileId,
    input: optionalSlice(base, inputOffset, inputCount, REQUEST, 'InputOffset'),
    output: optionalSlice(base, outputOffset, outputCount, REQUEST, 'OutputOffset'),
    maxInputResponse,
    maxOutputResponse,
    flags,
  };
}

export function encodeIoctlResponse(response: IoctlResponse): Buffer {
  const at = layout(RESPONSE_FIXED, response.input, response.output);
  const w = new Writer(at.size, RESPONSE);
  w.u16(49, 'StructureSize');
  w.u16(0, 'Reserved');
  w.u32(response.ctlCode, 'CtlCode');
  writeFileId(w, response.fileId);
  w.u32(at.inputOffset, 'InputOffset');
  w.u32(response.input.length, 'InputCount');
  w.u32(at.outputOffset, 'OutputOffset');
  w.u32(response.output.length, 'OutputCount');
  w.u32(response.flags, 'Flags');
  w.u32(0, 'Reserved2');
  w.bytes(response.input, 'Input');
  if (response.output.length > 0) w.buffer.set(response.output, at.outputOffset - SMB2_HEADER_SIZE);
  return w.buffer;
}

export function decodeIoctlResponse(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): IoctlResponse {
  const r = new Reader(message, RESPONSE, bodyOffset);
  const base = fromHeader(message, bodyOffset);
  r.structureSize(49);
  r.skip(2, 'Reserved');
  const ctlCode = r.u32('CtlCode');
  const fileId = readFileId(r);
  const inputOffset = r.u32('InputOffset');
  const inputCount = r.u32('InputCount');
  const outputOffset = r.u32('OutputOffset');
  const outputCount = r.u32('OutputCount');
  const flags = r.u32('Flags');
  r.skip(4, 'Reserved2');
  return {
    ctlCode,
    fileId,
    input: optionalSlice(base, inputOffset, inputCount, RESPONSE, 'InputOffset', SMB2_HEADER_SIZE + RESPONSE_FIXED),
    output: optionalSlice(base, outputOffset, outputCount, RESPONSE, 'OutputOffset', SMB2_HEADER_SIZE + RESPONSE_FIXED),
    flags,
  };
}

export interface ValidateNegotiateInfoRequest {
  capabilities: number;
  guid: Buffer;
  securityMode: number;
  dialects: number[];
}

export interface ValidateNegotiateInfoResponse {
  capabilities: number;
  guid: Buffer;
  securityMode: number;
  dialect: number;
}

const VNI_REQUEST = 'VALIDATE_NEGOTIATE_INFO request';
const VNI_RESPONSE = 'VALIDATE_NEGOTIATE_INFO response';

export function encodeValidateNegotiateInfoRequest(request: ValidateNegotiateInfoRequest): Buffer {
  const w = new Writer(24 + request.dialects.length * 2, VNI_REQUEST);
  w.u32(request.capabilities, 'Capabilities');
  w.bytes(request.guid, 'Guid', 16);
  w.u16(request.securityMode, 'SecurityMode');
  w.u16(request.dialects.length, 'DialectCount');
  for (const dialect of request.dialects) w.u16(dialect, 'Dialects');
  return w.buffer;
}

export function decodeValidateNegotiateInfoRequest(input: Buffer): ValidateNegotiateInfoRequest {
  const r = new Reader(input, VNI_REQUEST);
  const capabilities = r.u32('Capabilities');
  const guid = r.bytes(16, 'Guid');
  const securityMode = r.u16('SecurityMode');
  const count = r.u16('DialectCount');
  checkCount(count, 2, r.remaining, VNI_REQUEST, 'DialectCount');
  const dialects: number[] = [];
  for (let i = 0; i < count; i++) dialects.push(r.u16('Dialects'));
  return { capabilities, guid, securityMode, dialects };
}

export function encodeValidateNegotiateInfoResponse(response: ValidateNegotiateInfoResponse): Buffer {
  const w = new Writer(24, VNI_RESPONSE);
  w.u32(response.capabilities, 'Capabilities');
  w.bytes(response.guid, 'Guid', 16);
  w.u16(response.securityMode, 'SecurityMode');
  w.u16(response.dialect, 'Dialect');
  return w.buffer;
}

export function decodeValidateNegotiateInfoResponse(output: Buffer): ValidateNegotiateInfoResponse {
  const r = new Reader(output, VNI_RESPONSE);
  return {
    capabilities: r.u32('Capabilities'),
    guid: r.bytes(16, 'Guid'),
    securityMode: r.u16('SecurityMode'),
    dialect: r.u16('Dialect'),
  };
}
