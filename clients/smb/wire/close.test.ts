import { test, expect } from '@playwright/test';
import { CLOSE_FLAG_POSTQUERY_ATTRIB, decodeCloseRequest, decodeCloseResponse, encodeCloseRequest, encodeCloseResponse } from './close.js';
import { FileAttribute } from './constants.js';
import { decodeFlushRequest, decodeFlushResponse, encodeFlushRequest, encodeFlushResponse } from './flush.js';
import { bytes, expectEveryTruncationRejected, expectProtocolError, u16, u32, u64, withHeader } from './test-builder.js';

const FILE_ID = { persistent: 0xan, volatile: 0xbn };

test('CLOSE request with POSTQUERY_ATTRIB', () => {
  const body = encodeCloseRequest({ flags: CLOSE_FLAG_POSTQUERY_ATTRIB, fileId: FILE_ID });
  expect(body).toEqual(bytes(u16(24), u16(1), u32(0), u64(0xa), u64(0xb)));
  expect(decodeCloseRequest(withHeader(body))).toEqual({ flags: 1, fileId: FILE_ID });
});

test('CLOSE response returns the attributes', () => {
  const message = withHeader(
    bytes(u16(60), u16(1), u32(0), u64(1), u64(2), u64(3), u64(4), u64(8192), u64(100), u32(FileAttribute.Directory)),
  );
  const response = decodeCloseResponse(message);
  expect(response).toEqual({
    flags: 1,
    creationTime: 1n,
    lastAccessTime: 2n,
    lastWriteTime: 3n,
    changeTime: 4n,
    allocationSize: 8192n,
    endOfFile: 100n,
    fileAttributes: 0x10,
  });
  expect(encodeCloseResponse(response)).toEqual(message.subarray(64));
  expectEveryTruncationRejected(message, decodeCloseResponse);
});

test('FLUSH request and response', () => {
  const body = encodeFlushRequest(FILE_ID);
  expect(body).toEqual(bytes(u16(24), u16(0), u32(0), u64(0xa), u64(0xb)));
  expect(decodeFlushRequest(withHeader(body))).toEqual(FILE_ID);
  expect(encodeFlushResponse()).toEqual(bytes(u16(4), u16(0)));
  decodeFlushResponse(withHeader(encodeFlushResponse()));
  expectProtocolError(() => decodeFlushRequest(withHeader(body.subarray(0, 20))), 'FLUSH request.FileId.Volatile');
});
