/** LOGOFF request and response (MS-SMB2 2.2.7, 2.2.8): StructureSize 4 and Reserved only. */
import { SMB2_HEADER_SIZE, decodeReservedBody, encodeReservedBody } from './buffer.js';

export function encodeLogoffRequest(): Buffer {
  return encodeReservedBody();
}

export function encodeLogoffResponse(): Buffer {
  return encodeReservedBody();
}

export function decodeLogoffRequest(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): void {
  decodeReservedBody(message, 'LOGOFF request', bodyOffset);
}

export function decodeLogoffResponse(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): void {
  decodeReservedBody(message, 'LOGOFF response', bodyOffset);
}
