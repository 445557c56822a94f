/** TREE_DISCONNECT request and response (MS-SMB2 2.2.11, 2.2.12): StructureSize 4 and Reserved. */
import { SMB2_HEADER_SIZE, decodeReservedBody, encodeReservedBody } from './buffer.js';

export function encodeTreeDisconnectRequest(): Buffer {
  return encodeReservedBody();
}

export function encodeTreeDisconnectResponse(): Buffer {
  return encodeReservedBody();
}

export function decodeTreeDisconnectRequest(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): void {
  decodeReservedBody(message, 'TREE_DISCONNECT request', bodyOffset);
}

export function decodeTreeDisconnectResponse(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): void {
  decodeReservedBody(message, 'TREE_DISCONNECT response', bodyOffset);
}
