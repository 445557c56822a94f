import { test, expect } from '@playwright/test';
import {
  WRITE_REQUEST_DATA_OFFSET,
  WriteFlag,
  decodeWriteRequest,
  decodeWriteResponse,
  encodeWriteRequest,
  encodeWriteRequestHeader,
  encodeWriteResponse,
} from './write.js';
import { bytes, expectEveryTruncationRejected, expectProtocolError, u16, u32, u64, u8, withHeader } from './test-builder.js';

const FILE_ID = { persistent: 5n, volatile: 6n };

test('WRITE request: fixed part then data at 0x70', () => {
  const data = Buffer.from('payload');
  const fields = { offset: 4096n, fileId: FILE_ID, flags: WriteFlag.WriteThrough };
  const header = encodeWriteRequestHeader(fields, data.length);
  expect(header).toEqual(bytes(u16(49), u16(0x70), u32(7), u64(4096), u64(5), u64(6), u32(0), u32(0), u16(0), u16(0), u32(1)));
  const body = encodeWriteRequest({ ...fields, data });
  expect(body).toEqual(Buffer.concat([header, data]));
  expect(WRITE_REQUEST_DATA_OFFSET).toBe(64 + header.length);
  const decoded = decodeWriteRequest(withHeader(body));
  expect(decoded).toEqual({ ...fields, channel: 0, remainingBytes: 0, data });
});

test('empty WRITE keeps one buffer byte', () => {
  const body = encodeWriteRequest({ offset: 0n, fileId: FILE_ID, data: Buffer.alloc(0) });
  expect(body.length).toBe(49);
  expect(decodeWriteRequest(withHeader(body)).data.length).toBe(0);
});

test('WRITE response round trip and hostile inputs', () => {
  const body = encodeWriteResponse({ count: 7, remaining: 0 });
  expect(body).toEqual(bytes(u16(17), u16(0), u32(7), u32(0), u16(0), u16(0)));
  const message = withHeader(body);
  expect(decodeWriteResponse(message)).toEqual({ count: 7, remaining: 0 });
  expectEveryTruncationRejected(message, decodeWriteResponse);
  const lying = withHeader(Buffer.concat([encodeWriteRequestHeader({ offset: 0n, fileId: FILE_ID }, 1 << 20), u8(1)]));
  expectProtocolError(() => decodeWriteRequest(lying), 'WRITE request.DataOffset');
});
