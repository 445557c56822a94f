import { test, expect } from '@playwright/test';
import {
  ErrorId,
  decodeBufferTooSmallErrorData,
  decodeErrorResponse,
  decodeSymlinkErrorData,
  encodeErrorResponse,
} from './error-response.js';
import { bytes, expectEveryTruncationRejected, expectProtocolError, u16, u32, u8, utf16, withHeader, zeros } from './test-builder.js';

test('plain ERROR response: StructureSize 9 with one zero byte of ErrorData', () => {
  const body = encodeErrorResponse();
  expect(body).toEqual(bytes(u16(9), u8(0), u8(0), u32(0), u8(0)));
  expect(decodeErrorResponse(withHeader(body))).toEqual({ errorContextCount: 0, errorData: Buffer.alloc(0), contexts: [] });
});

test('STATUS_BUFFER_TOO_SMALL carries the required size', () => {
  const message = withHeader(bytes(u16(9), u8(0), u8(0), u32(4), u32(1024)));
  const response = decodeErrorResponse(message);
  expect(decodeBufferTooSmallErrorData(response.errorData)).toBe(1024);
  expect(encodeErrorResponse({ errorData: u32(1024) })).toEqual(message.subarray(64));
});

test('3.1.1 error contexts are parsed as views, 8-byte aligned', () => {
  const contexts = [
    { errorId: ErrorId.Default, data: u32(4096) },
    { errorId: ErrorId.ShareRedirect, data: Buffer.from('redirect-data') },
  ];
  const body = encodeErrorResponse({ contexts });
  expect(body).toEqual(
    bytes(u16(9), u8(2), u8(0), u32(8 + 4 + 4 + 8 + 13), u32(4), u32(0), u32(4096), zeros(4), u32(13), u32(0x72645253), Buffer.from('redirect-data')),
  );
  const message = withHeader(body);
  const response = decodeErrorResponse(message);
  expect(response.contexts).toEqual(contexts);
  expect(response.contexts[1]?.data.buffer).toBe(message.buffer);
  expectEveryTruncationRejected(message, decodeErrorResponse);
});

function symlinkErrorData(substitute: string, print: string, unparsed: number): Buffer {
  const sub = utf16(substitute);
  const prt = utf16(print);
  const reparseDataLength = 12 + sub.length + prt.length;
  const rest = bytes(
    u32(0x4c4d5953), u32(0xa000000c), u16(reparseDataLength), u16(unparsed),
    u16(0), u16(sub.length), u16(sub.length), u16(prt.length), u32(1), sub, prt,
  );
  return bytes(u32(rest.length), rest);
}

test('STATUS_STOPPED_ON_SYMLINK error data', () => {
  const data = symlinkErrorData('..\\target', '..\\target', 10);
  expect(decodeSymlinkErrorData(data)).toEqual({
    unparsedPathLength: 10,
    substituteName: '..\\target',
    printName: '..\\target',
    flags: 1,
  });
  const lyingName = Buffer.from(data);
  lyingName.writeUInt16LE(0x7000, 18); // SubstituteNameLength
  expectProtocolError(() => decodeSymlinkErrorData(lyingName), 'Symbolic Link Error Response.SubstituteNameOffset');
  const wrongTag = Buffer.from(data);
  wrongTag.writeUInt32LE(0, 4);
  expectProtocolError(() => decodeSymlinkErrorData(wrongTag), 'Symbolic Link Error Response.SymLinkErrorTag');
  const lyingLength = Buffer.from(data);
  lyingLength.writeUInt32LE(0xffffff, 0);
  expectProtocolError(() => decodeSymlinkErrorData(lyingLength), 'Symbolic Link Error Response.SymLinkLength');
});

test('hostile ERROR responses', () => {
  expectProtocolError(
    () => decodeErrorResponse(withHeader(bytes(u16(9), u8(0), u8(0), u32(0xffffffff), u8(0)))),
    'ERROR response.ByteCount',
  );
  const lyingContext = withHeader(bytes(u16(9), u8(1), u8(0), u32(8), u32(0xfffffff0), u32(0)));
  expectProtocolError(() => decodeErrorResponse(lyingContext), 'ERROR response.ErrorContext[0].ErrorContextData');
  const tooManyContexts = withHeader(bytes(u16(9), u8(200), u8(0), u32(12), u32(4), u32(0), u32(7)));
  expectProtocolError(() => decodeErrorResponse(tooManyContexts), 'ERROR response.ErrorContext[1].Padding');
});
