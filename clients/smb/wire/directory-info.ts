/**
 * Directory enumeration entries returned by QUERY_DIRECTORY (MS-FSCC 2.4.10, 2.4.14, 2.4.8,
 * 2.4.18, 2.4.17, 2.4.28): one decoder for all classes, fields a class lacks are absent.
 */
import { Reader, Writer, decodeUtf16, encodeUtf16, joinEntries, protocolError, splitEntries } from './buffer.js';
import { FileInfoClass } from './constants.js';
import { readFileTimes, writeFileTimes } from './file-times.js';
import type { FileTimes } from './file-times.js';

export interface DirectoryEntry extends Partial<FileTimes> {
  fileIndex: number;
  fileName: string;
  endOfFile?: bigint;
  allocationSize?: bigint;
  fileAttributes?: number;
  eaSize?: number;
  /** 8.3 name; Both classes only. */
  shortName?: string;
  /** 64-bit file id; Id classes only. */
  fileId?: bigint;
}

interface Layout {
  name: string;
  fixed: number;
  times: boolean;
  ea: boolean;
  shortName: boolean;
  id: 'none' | 'afterEa' | 'afterShortName';
}

const LAYOUTS = new Map<number, Layout>([
  [FileInfoClass.FileDirectoryInformation, { name: 'FileDirectoryInformation', fixed: 64, times: true, ea: false, shortName: false, id: 'none' }],
  [FileInfoClass.FileFullDirectoryInformation, { name: 'FileFullDirectoryInformation', fixed: 68, times: true, ea: true, shortName: false, id: 'none' }],
  [FileInfoClass.FileIdFullDirectoryInformation, { name: 'FileIdFullDirectoryInformation', fixed: 80, times: true, ea: true, shortName: false, id: 'afterEa' }],
  [FileInfoClass.FileBothDirectoryInformation, { name: 'FileBothDirectoryInformation', fixed: 94, times: true, ea: true, shortName: true, id: 'none' }],
  [FileInfoClass.FileIdBothDirectoryInformation, { name: 'FileIdBothDirectoryInformation', fixed: 104, times: true, ea: true, shortName: true, id: 'afterShortName' }],
  [FileInfoClass.FileNamesInformation, { name: 'FileNamesInformation', fixed: 12, times: false, ea: false, shortName: false, id: 'none' }],
]);

function layoutOf(infoClass: number): Layout {
  const layout = LAYOUTS.get(infoClass);
  if (!layout) throw protocolError('QUERY_DIRECTORY', 'FileInformationClass', `${infoClass} has no decoder`);
  return layout;
}

function decodeEntry(entry: Buffer, layout: Layout): DirectoryEntry {
  const r = new Reader(entry, layout.name, 4);
  const fileIndex = r.u32('FileIndex');
  if (!layout.times) {
    const nameLength = r.u32('FileNameLength');
    return { fileIndex, fileName: decodeUtf16(r.bytes(nameLength, 'FileName'), layout.name, 'FileNameLength') };
  }
  const result: DirectoryEntry = { fileIndex, fileName: '', ...readFileTimes(r) };
  result.endOfFile = r.u64('EndOfFile');
  result.allocationSize = r.u64('AllocationSize');
  result.fileAttributes = r.u32('FileAttributes');
  const nameLength = r.u32('FileNameLength');
  if (layout.ea) result.eaSize = r.u32('EaSize');
  if (layout.id === 'afterEa') {
    r.skip(4, 'Reserved');
    result.fileId = r.u64('FileId');
  }
  if (layout.shortName) {
    const shortLength = r.u8('ShortNameLength');
    r.skip(1, 'Reserved1');
    const shortName = r.bytes(24, 'ShortName');
    if (shortLength > 24) throw protocolError(layout.name, 'ShortNameLength', `${shortLength} exceeds 24`);
    result.shortName = decodeUtf16(shortName.subarray(0, shortLength), layout.name, 'ShortNameLength');
  }
  if (layout.id === 'afterShortName') {
    r.skip(2, 'Reserved2');
    result.fileId = r.u64('FileId');
  }
  result.fileName = decodeUtf16(r.bytes(nameLength, 'FileName'), layout.name, 'FileNameLength');
  return result;
}

/** Decodes a QUERY_DIRECTORY output buffer of the given class. */
export function decodeDirectoryEntries(output: Buffer, infoClass: number): DirectoryEntry[] {
  const layout = layoutOf(infoClass);
  return splitEntries(output, layout.name, layout.fixed).map((entry) => decodeEntry(entry, layout));
}

function encodeEntry(entry: DirectoryEntry, layout: Layout): Buffer {
  const name = encodeUtf16(entry.fileName);
  const w = new Writer(layout.fixed + name.length, layout.name);
  w.u32(0, 'NextEntryOffset').u32(entry.fileIndex, 'FileIndex');
  if (layout.times) {
    writeFileTimes(w, {
      creationTime: entry.creationTime ?? 0n,
      lastAccessTime: entry.lastAccessTime ?? 0n,
      lastWriteTime: entry.lastWriteTime ?? 0n,
      changeTime: entry.changeTime ?? 0n,
    });
    w.u64(entry.endOfFile ?? 0n, 'EndOfFile').u64(entry.allocationSize ?? 0n, 'AllocationSize');
    w.u32(entry.fileAttributes ?? 0, 'FileAttributes');
  }
  w.u32(name.length, 'FileNameLength');
  if (layout.ea) w.u32(entry.eaSize ?? 0, 'EaSize');
  if (layout.id === 'afterEa') w.u32(0, 'Reserved').u64(entry.fileId ?? 0n, 'FileId');
  if (layout.shortName) {
    const shortName = encodeUtf16(entry.shortName ?? '');
    if (shortName.length > 24) throw protocolError(layout.name, 'ShortName', 'is longer than 12 characters');
    w.u8(shortName.length, 'ShortNameLength').u8(0, 'Reserved1').bytes(shortName, 'ShortName').zeros(24 - shortName.length);
  }
  if (layout.id === 'afterShortName') w.u16(0, 'Reserved2').u64(entry.fileId ?? 0n, 'FileId');
  w.bytes(name, 'FileName');
  return w.buffer;
}

/** The inverse of decodeDirectoryEntries (used to build server replies in tests). */
export function encodeDirectoryEntries(entries: readonly DirectoryEntry[], infoClass: number): Buffer {
  const layout = layoutOf(infoClass);
  return joinEntries(entries.map((entry) => encodeEntry(entry, layout)));
}
