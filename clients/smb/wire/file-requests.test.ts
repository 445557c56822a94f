import { test, expect } from '@playwright/test';
import {
  FileInfoClass,
  InfoType,
  decodeCancelRequest,
  decodeCloseResponse,
  decodeCreateResponse,
  decodeQueryInfoResponse,
  decodeReadResponse,
  decodeSetInfoRequest,
  decodeWriteResponse,
  encodeCancelRequest,
  encodeCloseResponse,
  encodeCreateResponse,
  encodeFileBasicInformation,
  encodeFileDispositionInformation,
  encodeFileEndOfFileInformation,
  encodeQueryInfoResponse,
  encodeReadResponse,
  encodeSetInfoRequest,
  encodeWriteResponse,
} from './index.js';
import { bytes, expectEveryTruncationRejected, expectProtocolError, u16, u32, u64, u8, withHeader } from './test-builder.js';

const FILE_ID = { persistent: 0x0102030405060708n, volatile: 0x1112131415161718n };

test('CANCEL request is StructureSize 4 and a reserved word', () => {
  expect(encodeCancelRequest()).toEqual(bytes(u16(4), u16(0)));
  decodeCancelRequest(withHeader(encodeCancelRequest()));
  expectProtocolError(() => decodeCancelRequest(withHeader(bytes(u16(5), u16(0)))), 'CANCEL request.StructureSize');
});

test('SET_INFO requests that truncate, delete and set times are byte-exact', () => {
  const endOfFile = encodeSetInfoRequest({ infoType: InfoType.File, fileInfoClass: FileInfoClass.FileEndOfFileInformation, fileId: FILE_ID, buffer: encodeFileEndOfFileInformation(5000n) });
  expect(endOfFile).toEqual(bytes(
    u16(33), u8(1), u8(20), u32(8), u16(96), u16(0), u32(0), u64(FILE_ID.persistent), u64(FILE_ID.volatile),
    u64(5000),
  ));
  expect(encodeFileDispositionInformation(true)).toEqual(u8(1));
  const basic = encodeFileBasicInformation({ creationTime: 0n, lastAccessTime: 1n, lastWriteTime: 2n, changeTime: 0n, fileAttributes: 0 });
  expect(basic).toEqual(bytes(u64(0), u64(1), u64(2), u64(0), u32(0), u32(0)));
  const decoded = decodeSetInfoRequest(withHeader(endOfFile));
  expect(decoded).toMatchObject({ infoType: 1, fileInfoClass: 20, fileId: FILE_ID, buffer: u64(5000) });
  const lying = withHeader(endOfFile);
  lying.writeUInt32LE(9, 64 + 4); // BufferLength 9 but 8 bytes follow
  expectProtocolError(() => decodeSetInfoRequest(lying), 'SET_INFO request.BufferOffset', /96 \+ length 9 exceeds message length 104/);
});

test('responses the file API reads reject every truncation and lying offsets, naming the field', () => {
  const create = withHeader(encodeCreateResponse({
    oplockLevel: 0, flags: 0, createAction: 2, creationTime: 1n, lastAccessTime: 2n, lastWriteTime: 3n, changeTime: 4n,
    allocationSize: 4096n, endOfFile: 10n, fileAttributes: 0x20, fileId: FILE_ID, contexts: [],
  }));
  expect(decodeCreateResponse(create)).toMatchObject({ createAction: 2, endOfFile: 10n, fileId: FILE_ID });
  expectEveryTruncationRejected(create.subarray(0, 64 + 88), decodeCreateResponse);

  const read = withHeader(encodeReadResponse(Buffer.from('payload')));
  expect(decodeReadResponse(read).data.toString()).toBe('payload');
  const lyingRead = Buffer.from(read);
  lyingRead.writeUInt32LE(8, 64 + 4); // DataLength 8 but 7 bytes follow
  expectProtocolError(() => decodeReadResponse(lyingRead), 'READ response.DataOffset', /80 \+ length 8 exceeds message length 87/);

  const write = withHeader(encodeWriteResponse({ count: 65536, remaining: 0 }));
  expect(decodeWriteResponse(write).count).toBe(65536);
  expectEveryTruncationRejected(write, decodeWriteResponse);

  const close = withHeader(encodeCloseResponse({ flags: 1, creationTime: 1n, lastAccessTime: 2n, lastWriteTime: 3n, changeTime: 4n, allocationSize: 0n, endOfFile: 0n, fileAttributes: 0x10 }));
  expectEveryTruncationRejected(close, decodeCloseResponse);

  const info = withHeader(encodeQueryInfoResponse(u64(77)));
  expect(decodeQueryInfoResponse(info)).toEqual(u64(77));
  const lyingInfo = Buffer.from(info);
  lyingInfo.writeUInt16LE(200, 64 + 2);
  expectProtocolError(() => decodeQueryInfoResponse(lyingInfo), 'QUERY_INFO response.OutputBufferOffset');
});
