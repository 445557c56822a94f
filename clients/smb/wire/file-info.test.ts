import { test, expect } from '@playwright/test';
import { FileInfoClass, FsInfoClass, InfoType } from './constants.js';
import {
  decodeFileAllInformation,
  decodeFileBasicInformation,
  decodeFileFsFullSizeInformation,
  decodeFileFsSizeInformation,
  decodeFileInternalInformation,
  decodeFileNetworkOpenInformation,
  decodeFileRenameInformation,
  decodeFileStandardInformation,
  encodeFileBasicInformation,
  encodeFileDispositionInformation,
  encodeFileEndOfFileInformation,
  encodeFileNetworkOpenInformation,
  encodeFileRenameInformation,
} from './file-info.js';
import { decodeQueryInfoRequest, decodeQueryInfoResponse, encodeQueryInfoRequest, encodeQueryInfoResponse } from './query-info.js';
import { decodeSetInfoRequest, decodeSetInfoResponse, encodeSetInfoRequest, encodeSetInfoResponse } from './set-info.js';
import { bytes, expectProtocolError, u16, u32, u64, u8, utf16, withHeader, zeros } from './test-builder.js';

const FILE_ID = { persistent: 7n, volatile: 8n };
const BASIC = bytes(u64(1), u64(2), u64(3), u64(4), u32(0x20), u32(0));
const STANDARD = bytes(u64(8192), u64(5000), u32(1), u8(0), u8(1), u16(0));

test('QUERY_INFO request and response', () => {
  const body = encodeQueryInfoRequest({ infoType: InfoType.File, fileInfoClass: FileInfoClass.FileAllInformation, outputBufferLength: 4096, fileId: FILE_ID });
  expect(body).toEqual(bytes(u16(41), u8(1), u8(18), u32(4096), u16(0), u16(0), u32(0), u32(0), u32(0), u64(7), u64(8), u8(0)));
  expect(decodeQueryInfoRequest(withHeader(body))).toMatchObject({ infoType: 1, fileInfoClass: 18, outputBufferLength: 4096, fileId: FILE_ID });
  const message = withHeader(encodeQueryInfoResponse(BASIC));
  expect(message.subarray(64, 72)).toEqual(bytes(u16(9), u16(72), u32(40)));
  expect(decodeFileBasicInformation(decodeQueryInfoResponse(message))).toEqual({
    creationTime: 1n, lastAccessTime: 2n, lastWriteTime: 3n, changeTime: 4n, fileAttributes: 0x20,
  });
});

test('FileAllInformation: the parts stat needs, and a name cut short by BUFFER_OVERFLOW', () => {
  const tail = bytes(u64(0x1234), u32(0), u32(0x001f01ff), u64(0), u32(0), u32(0));
  const full = bytes(BASIC, STANDARD, tail, u32(utf16('\\dir\\file.txt').length), utf16('\\dir\\file.txt'));
  const info = decodeFileAllInformation(full);
  expect(info.basic.fileAttributes).toBe(0x20);
  expect(info.standard).toEqual({ allocationSize: 8192n, endOfFile: 5000n, numberOfLinks: 1, deletePending: false, directory: true });
  expect(info.indexNumber).toBe(0x1234n);
  expect(info.accessFlags).toBe(0x001f01ff);
  expect(info.fileName).toBe('\\dir\\file.txt');
  expect(info.fileNameTruncated).toBe(false);
  const cut = decodeFileAllInformation(full.subarray(0, 100 + 7));
  expect(cut.fileName).toBe('\\di');
  expect(cut.fileNameTruncated).toBe(true);
  expectProtocolError(() => decodeFileAllInformation(full.subarray(0, 99)), 'FileAllInformation.FileNameLength');
  expectProtocolError(() => decodeFileAllInformation(Buffer.alloc(0)), 'FileAllInformation.BasicInformation');
});

test('fixed-size information classes decode and encode byte-exact', () => {
  expect(encodeFileBasicInformation(decodeFileBasicInformation(BASIC))).toEqual(BASIC);
  expect(decodeFileInternalInformation(u64(99))).toBe(99n);
  const networkOpen = bytes(u64(1), u64(2), u64(3), u64(4), u64(4096), u64(10), u32(0x80), u32(0));
  const decoded = decodeFileNetworkOpenInformation(networkOpen);
  expect(decoded).toMatchObject({ allocationSize: 4096n, endOfFile: 10n, fileAttributes: 0x80 });
  expect(encodeFileNetworkOpenInformation(decoded)).toEqual(networkOpen);
  expect(decodeFileFsSizeInformation(bytes(u64(1000), u64(500), u32(8), u32(512)))).toEqual({
    totalAllocationUnits: 1000n, availableAllocationUnits: 500n, sectorsPerAllocationUnit: 8, bytesPerSector: 512,
  });
  expect(decodeFileFsFullSizeInformation(bytes(u64(1000), u64(400), u64(500), u32(8), u32(512)))).toEqual({
    totalAllocationUnits: 1000n, callerAvailableAllocationUnits: 400n, actualAvailableAllocationUnits: 500n, sectorsPerAllocationUnit: 8, bytesPerSector: 512,
  });
  expect(encodeFileEndOfFileInformation(1n << 40n)).toEqual(u64(1n << 40n));
  expect(encodeFileDispositionInformation(true)).toEqual(u8(1));
  expectProtocolError(() => decodeFileStandardInformation(Buffer.alloc(21)), 'FileStandardInformation.Directory');
  expectProtocolError(() => decodeFileFsFullSizeInformation(Buffer.alloc(31)), 'FileFsFullSizeInformation.BytesPerSector');
  expect(FsInfoClass.FileFsFullSizeInformation).toBe(7);
});

test('SET_INFO rename carries FILE_RENAME_INFORMATION_TYPE_2', () => {
  const rename = encodeFileRenameInformation({ replaceIfExists: true, fileName: 'dir\\new.txt' });
  expect(rename).toEqual(bytes(u8(1), zeros(7), u64(0), u32(22), utf16('dir\\new.txt')));
  expect(encodeFileRenameInformation({ replaceIfExists: false, fileName: 'a' }).length).toBe(24);
  expect(decodeFileRenameInformation(rename)).toEqual({ replaceIfExists: true, fileName: 'dir\\new.txt' });
  const body = encodeSetInfoRequest({ infoType: InfoType.File, fileInfoClass: FileInfoClass.FileRenameInformation, fileId: FILE_ID, buffer: rename });
  expect(body.subarray(0, 32)).toEqual(bytes(u16(33), u8(1), u8(10), u32(42), u16(96), u16(0), u32(0), u64(7), u64(8)));
  expect(decodeSetInfoRequest(withHeader(body))).toEqual({ infoType: 1, fileInfoClass: 10, additionalInformation: 0, fileId: FILE_ID, buffer: rename });
  expect(encodeSetInfoResponse()).toEqual(u16(2));
  decodeSetInfoResponse(withHeader(u16(2)));
  const lying = Buffer.from(rename);
  lying.writeUInt32LE(1000, 16);
  expectProtocolError(() => decodeFileRenameInformation(lying), 'FileRenameInformation.FileName');
});
