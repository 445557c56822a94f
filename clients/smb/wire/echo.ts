/** ECHO request and response (MS-SMB2 2.2.28, 2.2.29): StructureSize 4 and Reserved. */
import { SMB2_HEADER_SIZE, decodeReservedBody, encodeReservedBody } from './buffer.js';

export function encodeEchoRequest(): Buffer {
  return encodeReservedBody();
}

export function encodeEchoResponse(): Buffer {
  return encodeReservedBody();
}

export function decodeEchoRequest(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): void {
  decodeReservedBody(message, 'ECHO request', bodyOffset);
}

export function decodeEchoResponse(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): void {
  decodeReservedBody(message, 'ECHO response', bodyOffset);
}
