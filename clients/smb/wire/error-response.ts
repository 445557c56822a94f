/**
 * ERROR response (MS-SMB2 2.2.2) with 3.1.1 error contexts (2.2.2.1) and the two ErrorData
 * formats a client interprets: symbolic link (2.2.2.2.1) and buffer too small (2.2.2.2.2).
 */
import {
  Reader,
  SMB2_HEADER_SIZE,
  Writer,
  decodeUtf16,
  padding,
  protocolError,
  sliceChecked,
} from './buffer.js';

/** ErrorId (MS-SMB2 2.2.2.1). */
export const enum ErrorId {
  Default = 0x00000000,
  ShareRedirect = 0x72645253,
}

export interface ErrorContext {
  errorId: number;
  /** View of ErrorContextData. */
  data: Buffer;
}

export interface ErrorResponse {
  errorContextCount: number;
  /** View of all ErrorData bytes (ByteCount of them). */
  errorData: Buffer;
  /** Parsed only when ErrorContextCount > 0 (dialect 3.1.1). */
  contexts: ErrorContext[];
}

const STRUCTURE = 'ERROR response';

/** `errorData` raw bytes, or `contexts` (3.1.1 form); with neither, one zero byte is sent. */
export function encodeErrorResponse(options: { errorData?: Buffer; contexts?: ErrorContext[] } = {}): Buffer {
  const contexts = options.contexts ?? [];
  let data = options.errorData ?? Buffer.alloc(0);
  if (contexts.length > 0) {
    const parts: Buffer[] = [];
    for (const [i, context] of contexts.entries()) {
      const header = new Writer(8, STRUCTURE)
        .u32(context.data.length, 'ErrorDataLength')
        .u32(context.errorId, 'ErrorId').buffer;
      const pad = i < contexts.length - 1 ? padding(context.data.length) : 0;
      parts.push(header, context.data, Buffer.alloc(pad));
    }
    data = Buffer.concat(parts);
  }
  const w = new Writer(8 + Math.max(1, data.length), STRUCTURE);
  w.u16(9, 'StructureSize');
  w.u8(contexts.length, 'ErrorContextCount');
  w.u8(0, 'Reserved');
  w.u32(data.length, 'ByteCount');
  w.bytes(data, 'ErrorData');
  return w.buffer;
}

export function decodeErrorResponse(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): ErrorResponse {
  const r = new Reader(message, STRUCTURE, bodyOffset);
  r.structureSize(9);
  const errorContextCount = r.u8('ErrorContextCount');
  r.skip(1, 'Reserved');
  const byteCount = r.u32('ByteCount');
  const errorData = sliceChecked(message, r.offset, byteCount, STRUCTURE, 'ByteCount');
  const contexts: ErrorContext[] = [];
  const cr = new Reader(errorData, STRUCTURE);
  for (let i = 0; i < errorContextCount; i++) {
    if (i > 0) cr.skip(padding(cr.offset), `ErrorContext[${i}].Padding`);
    const length = cr.u32(`ErrorContext[${i}].ErrorDataLength`);
    const errorId = cr.u32(`ErrorContext[${i}].ErrorId`);
    contexts.push({ errorId, data: cr.bytes(length, `ErrorContext[${i}].ErrorContextData`) });
  }
  return { errorContextCount, errorData, contexts };
}

/** STATUS_BUFFER_TOO_SMALL ErrorData: the buffer size the server needs (MS-SMB2 2.2.2.2.2). */
export function decodeBufferTooSmallErrorData(errorData: Buffer): number {
  return new Reader(errorData, 'ERROR response buffer-too-small data').u32('RequiredBufferLength');
}

export interface SymlinkErrorData {
  /** Bytes of the original path the server did not parse (from the end). */
  unparsedPathLength: number;
  substituteName: string;
  printName: string;
  /** SYMLINK_FLAG_RELATIVE = 0x00000001 */
  flags: number;
}

const SYMLINK = 'Symbolic Link Error Response';
const SYMLINK_ERROR_TAG = 0x4c4d5953; // 'SYML'
const IO_REPARSE_TAG_SYMLINK = 0xa000000c;

/** STATUS_STOPPED_ON_SYMLINK ErrorData (MS-SMB2 2.2.2.2.1). */
export function decodeSymlinkErrorData(errorData: Buffer): SymlinkErrorData {
  const r = new Reader(errorData, SYMLINK);
  const symLinkLength = r.u32('SymLinkLength');
  sliceChecked(errorData, 4, symLinkLength, SYMLINK, 'SymLinkLength');
  if (r.u32('SymLinkErrorTag') !== SYMLINK_ERROR_TAG) {
    throw protocolError(SYMLINK, 'SymLinkErrorTag', 'is not 0x4C4D5953');
  }
  if (r.u32('ReparseTag') !== IO_REPARSE_TAG_SYMLINK) {
    throw protocolError(SYMLINK, 'ReparseTag', 'is not IO_REPARSE_TAG_SYMLINK');
  }
  r.skip(2, 'ReparseDataLength');
  const unparsedPathLength = r.u16('UnparsedPathLength');
  const substituteOffset = r.u16('SubstituteNameOffset');
  const substituteLength = r.u16('SubstituteNameLength');
  const printOffset = r.u16('PrintNameOffset');
  const printLength = r.u16('PrintNameLength');
  const flags = r.u32('Flags');
  const pathBuffer = errorData.subarray(r.offset, 4 + symLinkLength);
  const name = (offset: number, length: number, field: string) =>
    decodeUtf16(sliceChecked(pathBuffer, offset, length, SYMLINK, field), SYMLINK, field);
  return {
    unparsedPathLength,
    substituteName: name(substituteOffset, substituteLength, 'SubstituteNameOffset'),
    printName: name(printOffset, printLength, 'PrintNameOffset'),
    flags,
  };
}
