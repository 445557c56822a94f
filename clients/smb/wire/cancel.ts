/**
 * CANCEL request (MS-SMB2 2.2.30). There is no response. The header must repeat the MessageId
 * (sync) or AsyncId with SMB2_FLAGS_ASYNC_COMMAND (async) of the request being cancelled, and
 * CANCEL consumes no credits.
 */
import { SMB2_HEADER_SIZE, decodeReservedBody, encodeReservedBody } from './buffer.js';

export function encodeCancelRequest(): Buffer {
  return encodeReservedBody();
}

export function decodeCancelRequest(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): void {
  decodeReservedBody(message, 'CANCEL request', bodyOffset);
}
