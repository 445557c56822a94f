/** TREE_CONNECT request (MS-SMB2 2.2.9) and response (MS-SMB2 2.2.10). */
import { Reader, SMB2_HEADER_SIZE, Writer, fromHeader, decodeUtf16, encodeUtf16, optionalSlice } from './buffer.js';

/** Request Flags, 3.1.1 only (MS-SMB2 2.2.9). */
export const enum TreeConnectFlag {
  ClusterReconnect = 0x0001,
  RedirectToOwner = 0x0002,
  ExtensionPresent = 0x0004,
}

export interface TreeConnectRequest {
  flags?: number;
  /** `\\server\share` */
  path: string;
}

export interface TreeConnectResponse {
  shareType: number;
  shareFlags: number;
  capabilities: number;
  maximalAccess: number;
}

const REQUEST = 'TREE_CONNECT request';
const RESPONSE = 'TREE_CONNECT response';
const REQUEST_FIXED = 8;

export function encodeTreeConnectRequest(request: TreeConnectRequest): Buffer {
  const path = encodeUtf16(request.path);
  const w = new Writer(REQUEST_FIXED + path.length, REQUEST);
  w.u16(9, 'StructureSize');
  w.u16(request.flags ?? 0, 'Flags');
  w.u16(SMB2_HEADER_SIZE + REQUEST_FIXED, 'PathOffset');
  w.u16(path.length, 'PathLength');
  w.bytes(path, 'Buffer');
  return w.buffer;
}

export function decodeTreeConnectRequest(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): TreeConnectRequest {
  const r = new Reader(message, REQUEST, bodyOffset);
  const base = fromHeader(message, bodyOffset);
  r.structureSize(9);
  const flags = r.u16('Flags');
  const offset = r.u16('PathOffset');
  const length = r.u16('PathLength');
  const path = decodeUtf16(optionalSlice(base, offset, length, REQUEST, 'PathOffset'), REQUEST, 'PathLength');
  return { flags, path };
}

export function encodeTreeConnectResponse(response: TreeConnectResponse): Buffer {
  const w = new Writer(16, RESPONSE);
  w.u16(16, 'StructureSize');
  w.u8(response.shareType, 'ShareType');
  w.u8(0, 'Reserved');
  w.u32(response.shareFlags, 'ShareFlags');
  w.u32(response.capabilities, 'Capabilities');
  w.u32(response.maximalAccess, 'MaximalAccess');
  return w.buffer;
}

export function decodeTreeConnectResponse(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): TreeConnectResponse {
  const r = new Reader(message, RESPONSE, bodyOffset);
  r.structureSize(16);
  const shareType = r.u8('ShareType');
  r.skip(1, 'Reserved');
  const shareFlags = r.u32('ShareFlags');
  const capabilities = r.u32('Capabilities');
  const maximalAccess = r.u32('MaximalAccess');
  return { shareType, shareFlags, capabilities, maximalAccess };
}
