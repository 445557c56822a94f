import { test, expect } from '@playwright/test';
import { FileAttribute, FileInfoClass } from './constants.js';
import { decodeDirectoryEntries, encodeDirectoryEntries } from './directory-info.js';
import type { DirectoryEntry } from './directory-info.js';
import {
  QueryDirectoryFlag,
  decodeQueryDirectoryRequest,
  decodeQueryDirectoryResponse,
  encodeQueryDirectoryRequest,
  encodeQueryDirectoryResponse,
} from './query-directory.js';
import { bytes, expectProtocolError, u16, u32, u64, u8, utf16, withHeader, zeros } from './test-builder.js';

const FILE_ID = { persistent: 3n, volatile: 4n };

test('QUERY_DIRECTORY request with pattern and flags', () => {
  const request = {
    fileInformationClass: FileInfoClass.FileIdBothDirectoryInformation,
    flags: QueryDirectoryFlag.RestartScans | QueryDirectoryFlag.Reopen,
    fileIndex: 0,
    fileId: FILE_ID,
    pattern: '*',
    outputBufferLength: 65536,
  };
  const body = encodeQueryDirectoryRequest(request);
  expect(body).toEqual(bytes(u16(33), u8(0x25), u8(0x11), u32(0), u64(3), u64(4), u16(96), u16(2), u32(65536), utf16('*')));
  expect(decodeQueryDirectoryRequest(withHeader(body))).toEqual(request);
});

/** A FileIdBothDirectoryInformation entry laid out field by field (MS-FSCC 2.4.17). */
function idBothEntry(next: number, name: string, shortName: string, fileId: bigint, size: bigint): Buffer {
  const short = utf16(shortName);
  return bytes(
    u32(next), u32(0),
    u64(1), u64(2), u64(3), u64(4), // times
    u64(size), u64(4096), // EndOfFile, AllocationSize
    u32(FileAttribute.Archive), u32(utf16(name).length), u32(0), // attributes, name length, EaSize
    u8(short.length), u8(0), short, zeros(24 - short.length),
    u16(0), u64(fileId),
    utf16(name),
  );
}

test('decodes FileIdBothDirectoryInformation entries from a QUERY_DIRECTORY response', () => {
  const first = idBothEntry(0, '.', '', 1n, 0n);
  const padded = bytes(first, zeros(8 - (first.length % 8)));
  padded.writeUInt32LE(padded.length, 0);
  const second = idBothEntry(0, 'Long File Name.txt', 'LONGFI~1.TXT', 0x99n, 12345n);
  const output = bytes(padded, second);
  const message = withHeader(encodeQueryDirectoryResponse(output));
  const view = decodeQueryDirectoryResponse(message);
  expect(view.buffer).toBe(message.buffer);
  const entries = decodeDirectoryEntries(view, FileInfoClass.FileIdBothDirectoryInformation);
  expect(entries).toHaveLength(2);
  expect(entries[1]).toEqual({
    fileIndex: 0,
    creationTime: 1n,
    lastAccessTime: 2n,
    lastWriteTime: 3n,
    changeTime: 4n,
    endOfFile: 12345n,
    allocationSize: 4096n,
    fileAttributes: FileAttribute.Archive,
    eaSize: 0,
    shortName: 'LONGFI~1.TXT',
    fileId: 0x99n,
    fileName: 'Long File Name.txt',
  });
  expect(encodeDirectoryEntries(entries, FileInfoClass.FileIdBothDirectoryInformation)).toEqual(output);
});

test('every supported class round-trips', () => {
  const entries: DirectoryEntry[] = [
    { fileIndex: 1, fileName: 'a', creationTime: 5n, lastAccessTime: 6n, lastWriteTime: 7n, changeTime: 8n, endOfFile: 9n, allocationSize: 10n, fileAttributes: 0x10, eaSize: 0, shortName: 'A', fileId: 11n },
    { fileIndex: 2, fileName: 'bb.txt', creationTime: 1n, lastAccessTime: 1n, lastWriteTime: 1n, changeTime: 1n, endOfFile: 0n, allocationSize: 0n, fileAttributes: 0x20, eaSize: 0, shortName: '', fileId: 12n },
  ];
  const keep: Record<number, Array<keyof DirectoryEntry>> = {
    [FileInfoClass.FileDirectoryInformation]: ['eaSize', 'shortName', 'fileId'],
    [FileInfoClass.FileFullDirectoryInformation]: ['shortName', 'fileId'],
    [FileInfoClass.FileIdFullDirectoryInformation]: ['shortName'],
    [FileInfoClass.FileBothDirectoryInformation]: ['fileId'],
    [FileInfoClass.FileIdBothDirectoryInformation]: [],
  };
  for (const [infoClass, drop] of Object.entries(keep)) {
    const expected = entries.map((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !drop.includes(k as keyof DirectoryEntry))));
    expect(decodeDirectoryEntries(encodeDirectoryEntries(entries, Number(infoClass)), Number(infoClass))).toEqual(expected);
  }
  const names = encodeDirectoryEntries(entries, FileInfoClass.FileNamesInformation);
  expect(names.subarray(0, 16)).toEqual(bytes(u32(16), u32(1), u32(2), utf16('a'), zeros(2)));
  expect(decodeDirectoryEntries(names, FileInfoClass.FileNamesInformation)).toEqual([
    { fileIndex: 1, fileName: 'a' },
    { fileIndex: 2, fileName: 'bb.txt' },
  ]);
});

test('hostile directory listings: loops, overruns, lying name lengths', () => {
  const cls = FileInfoClass.FileNamesInformation;
  const entry = bytes(u32(0), u32(0), u32(2), utf16('x'));
  const loop = Buffer.from(entry);
  loop.writeUInt32LE(4, 0); // points into itself
  expectProtocolError(() => decodeDirectoryEntries(loop, cls), 'FileNamesInformation.[0].NextEntryOffset');
  const outside = Buffer.from(entry);
  outside.writeUInt32LE(0xffffffff, 0);
  expectProtocolError(() => decodeDirectoryEntries(outside, cls), 'FileNamesInformation.[0].NextEntryOffset');
  const longName = Buffer.from(entry);
  longName.writeUInt32LE(0x7fffffff, 8);
  expectProtocolError(() => decodeDirectoryEntries(longName, cls), 'FileNamesInformation.FileName');
  expectProtocolError(() => decodeDirectoryEntries(Buffer.alloc(6), cls), 'FileNamesInformation.FileIndex');
  expect(decodeDirectoryEntries(Buffer.alloc(0), cls)).toEqual([]);
  const badShort = idBothEntry(0, 'n', '', 1n, 1n);
  badShort.writeUInt8(200, 68);
  expectProtocolError(() => decodeDirectoryEntries(badShort, FileInfoClass.FileIdBothDirectoryInformation), 'FileIdBothDirectoryInformation.ShortNameLength');
  expectProtocolError(() => decodeDirectoryEntries(entry, 0x77), 'QUERY_DIRECTORY.FileInformationClass');
  const lying = withHeader(bytes(u16(9), u16(72), u32(1000), u8(0)));
  expectProtocolError(() => decodeQueryDirectoryResponse(lying), 'QUERY_DIRECTORY response.OutputBufferOffset');
});
