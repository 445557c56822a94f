import { test, expect } from '@playwright/test';
import { encodeHeader } from './header.js';
import { ReadFlag, decodeReadRequest, decodeReadResponse, encodeReadRequest, encodeReadResponse } from './read.js';
import { bytes, expectEveryTruncationRejected, expectProtocolError, u16, u32, u64, u8, withHeader, zeros } from './test-builder.js';

const FILE_ID = { persistent: 0x0102030405060708n, volatile: 0x1112131415161718n };

test('READ request is 49 bytes with Padding 0x50 and round-trips', () => {
  const body = encodeReadRequest({ length: 65536, offset: 1n << 33n, fileId: FILE_ID, minimumCount: 1, flags: ReadFlag.Unbuffered });
  expect(body).toEqual(
    bytes(u16(49), u8(0x50), u8(1), u32(65536), u64(1n << 33n), u64(FILE_ID.persistent), u64(FILE_ID.volatile), u32(1), u32(0), u32(0), u16(0), u16(0), u8(0)),
  );
  expect(decodeReadRequest(withHeader(body))).toEqual({
    length: 65536,
    offset: 1n << 33n,
    fileId: FILE_ID,
    minimumCount: 1,
    channel: 0,
    remainingBytes: 0,
    flags: 1,
    padding: 0x50,
  });
});

test('READ response data is a view at DataOffset', () => {
  const data = Buffer.from('hello, world');
  const message = withHeader(encodeReadResponse(data, 7));
  expect(message.subarray(64, 80)).toEqual(bytes(u16(17), u8(0x50), u8(0), u32(12), u32(7), u32(0)));
  const response = decodeReadResponse(message);
  expect(response.data).toEqual(data);
  expect(response.data.buffer).toBe(message.buffer);
  expect(response.dataRemaining).toBe(7);
  expectEveryTruncationRejected(message, decodeReadResponse);
});

test('READ response inside a larger buffer resolves DataOffset from its own header', () => {
  const message = Buffer.concat([zeros(24), encodeHeader({ command: 8, messageId: 1n }), encodeReadResponse(Buffer.from('xyz'))]);
  expect(decodeReadResponse(message, 24 + 64).data.toString()).toBe('xyz');
});

test('READ response with empty data and offset 0 is accepted; lying fields are not', () => {
  expect(decodeReadResponse(withHeader(bytes(u16(17), u8(0), u8(0), u32(0), u32(0), u32(0)))).data.length).toBe(0);
  const lyingLength = withHeader(bytes(u16(17), u8(0x50), u8(0), u32(0x7fffffff), u32(0), u32(0), Buffer.from('abc')));
  expectProtocolError(() => decodeReadResponse(lyingLength), 'READ response.DataOffset', /80 \+ length 2147483647 exceeds message length 83/);
  const lyingOffset = withHeader(bytes(u16(17), u8(0xff), u8(0), u32(3), u32(0), u32(0), Buffer.from('abc')));
  expectProtocolError(() => decodeReadResponse(lyingOffset), 'READ response.DataOffset');
  expectProtocolError(() => decodeReadResponse(Buffer.alloc(0)), 'READ response.StructureSize');
});
