/**
 * File and filesystem information structures used with QUERY_INFO and SET_INFO
 * (MS-FSCC 2.4 and 2.5). Decoders take the output buffer from decodeQueryInfoResponse.
 */
import { Reader, Writer, decodeUtf16, encodeUtf16 } from './buffer.js';
import { readFileTimes, readTimesAndSizes, writeFileTimes, writeTimesAndSizes } from './file-times.js';
import type { FileTimes, FileTimesAndSizes } from './file-times.js';

export interface FileBasicInformation extends FileTimes {
  fileAttributes: number;
}

/** MS-FSCC 2.4.7. In SET_INFO a time of 0 means "do not change", -1 (all ones) "stop updating". */
export function decodeFileBasicInformation(buffer: Buffer): FileBasicInformation {
  const r = new Reader(buffer, 'FileBasicInformation');
  const times = readFileTimes(r);
  return { ...times, fileAttributes: r.u32('FileAttributes') };
}

export function encodeFileBasicInformation(info: FileBasicInformation): Buffer {
  const w = new Writer(40, 'FileBasicInformation');
  writeFileTimes(w, info);
  w.u32(info.fileAttributes, 'FileAttributes').u32(0, 'Reserved');
  return w.buffer;
}

export interface FileStandardInformation {
  allocationSize: bigint;
  endOfFile: bigint;
  numberOfLinks: number;
  deletePending: boolean;
  directory: boolean;
}

/** MS-FSCC 2.4.41. */
export function decodeFileStandardInformation(buffer: Buffer): FileStandardInformation {
  const r = new Reader(buffer, 'FileStandardInformation');
  return {
    allocationSize: r.u64('AllocationSize'),
    endOfFile: r.u64('EndOfFile'),
    numberOfLinks: r.u32('NumberOfLinks'),
    deletePending: r.u8('DeletePending') !== 0,
    directory: r.u8('Directory') !== 0,
  };
}

/** MS-FSCC 2.4.22: the 64-bit file id (IndexNumber). */
export function decodeFileInternalInformation(buffer: Buffer): bigint {
  return new Reader(buffer, 'FileInternalInformation').u64('IndexNumber');
}

export interface FileAllInformation {
  basic: FileBasicInformation;
  standard: FileStandardInformation;
  indexNumber: bigint;
  eaSize: number;
  accessFlags: number;
  currentByteOffset: bigint;
  mode: number;
  alignmentRequirement: number;
  fileName: string;
  /** The server ran out of buffer (STATUS_BUFFER_OVERFLOW) before the end of the name. */
  fileNameTruncated: boolean;
}

/**
 * MS-FSCC 2.4.2. The fixed 100 bytes must be present; the name may be cut short when the
 * server answered STATUS_BUFFER_OVERFLOW, which is reported rather than rejected.
 */
export function decodeFileAllInformation(buffer: Buffer): FileAllInformation {
  const structure = 'FileAllInformation';
  const r = new Reader(buffer, structure);
  const basic = decodeFileBasicInformation(r.bytes(40, 'BasicInformation'));
  const standard = decodeFileStandardInformation(r.bytes(24, 'StandardInformation'));
  const indexNumber = r.u64('IndexNumber');
  const eaSize = r.u32('EaSize');
  const accessFlags = r.u32('AccessFlags');
  const currentByteOffset = r.u64('CurrentByteOffset');
  const mode = r.u32('Mode');
  const alignmentRequirement = r.u32('AlignmentRequirement');
  const nameLength = r.u32('FileNameLength');
  const available = Math.min(nameLength, r.remaining) & ~1;
  const fileName = decodeUtf16(r.bytes(available, 'FileName'), structure, 'FileNameLength');
  return {
    basic,
    standard,
    indexNumber,
    eaSize,
    accessFlags,
    currentByteOffset,
    mode,
    alignmentRequirement,
    fileName,
    fileNameTruncated: available < nameLength,
  };
}

export interface FileNetworkOpenInformation extends FileTimesAndSizes {
  fileAttributes: number;
}

/** MS-FSCC 2.4.29. */
export function decodeFileNetworkOpenInformation(buffer: Buffer): FileNetworkOpenInformation {
  const r = new Reader(buffer, 'FileNetworkOpenInformation');
  const timesAndSizes = readTimesAndSizes(r);
  return { ...timesAndSizes, fileAttributes: r.u32('FileAttributes') };
}

export function encodeFileNetworkOpenInformation(info: FileNetworkOpenInformation): Buffer {
  const w = new Writer(56, 'FileNetworkOpenInformation');
  writeTimesAndSizes(w, info);
  w.u32(info.fileAttributes, 'FileAttributes').u32(0, 'Reserved');
  return w.buffer;
}

/** MS-FSCC 2.4.13: set the file size. */
export function encodeFileEndOfFileInformation(endOfFile: bigint): Buffer {
  return new Writer(8, 'FileEndOfFileInformation').u64(endOfFile, 'EndOfFile').buffer;
}

/** MS-FSCC 2.4.11: mark for deletion on last close (or clear the mark). */
export function encodeFileDispositionInformation(deletePending: boolean): Buffer {
  return new Writer(1, 'FileDispositionInformation').u8(deletePending ? 1 : 0, 'DeletePending').buffer;
}

export interface FileRenameInformation {
  replaceIfExists: boolean;
  /** Full path from the share root, e.g. `dir\new.txt`. */
  fileName: string;
}

const RENAME_FIXED = 20;

/**
 * MS-FSCC 2.4.37.2 (FILE_RENAME_INFORMATION_TYPE_2, the SMB2 form): RootDirectory is 0.
 * Padded to at least 24 bytes because some servers check the buffer against the 64-bit
 * structure size even for one-character names.
 */
export function encodeFileRenameInformation(info: FileRenameInformation): Buffer {
  const name = encodeUtf16(info.fileName);
  const w = new Writer(Math.max(RENAME_FIXED + name.length, 24), 'FileRenameInformation');
  w.u8(info.replaceIfExists ? 1 : 0, 'ReplaceIfExists').zeros(7);
  w.u64(0n, 'RootDirectory');
  w.u32(name.length, 'FileNameLength');
  w.bytes(name, 'FileName');
  return w.buffer;
}

export function decodeFileRenameInformation(buffer: Buffer): FileRenameInformation {
  const structure = 'FileRenameInformation';
  const r = new Reader(buffer, structure);
  const replaceIfExists = r.u8('ReplaceIfExists') !== 0;
  r.skip(7, 'Reserved');
  r.skip(8, 'RootDirectory');
  const length = r.u32('FileNameLength');
  return { replaceIfExists, fileName: decodeUtf16(r.bytes(length, 'FileName'), structure, 'FileNameLength') };
}

export interface FileFsSizeInformation {
  totalAllocationUnits: bigint;
  availableAllocationUnits: bigint;
  sectorsPerAllocationUnit: number;
  bytesPerSector: number;
}

/** MS-FSCC 2.5.8. */
export function decodeFileFsSizeInformation(buffer: Buffer): FileFsSizeInformation {
  const r = new Reader(buffer, 'FileFsSizeInformation');
  return {
    totalAllocationUnits: r.u64('TotalAllocationUnits'),
    availableAllocationUnits: r.u64('AvailableAllocationUnits'),
    sectorsPerAllocationUnit: r.u32('SectorsPerAllocationUnit'),
    bytesPerSector: r.u32('BytesPerSector'),
  };
}

export interface FileFsFullSizeInformation {
  totalAllocationUnits: bigint;
  callerAvailableAllocationUnits: bigint;
  actualAvailableAllocationUnits: bigint;
  sectorsPerAllocationUnit: number;
  bytesPerSector: number;
}

/** MS-FSCC 2.5.4. */
export function decodeFileFsFullSizeInformation(buffer: Buffer): FileFsFullSizeInformation {
  const r = new Reader(buffer, 'FileFsFullSizeInformation');
  return {
    totalAllocationUnits: r.u64('TotalAllocationUnits'),
    callerAvailableAllocationUnits: r.u64('CallerAvailableAllocationUnits'),
    actualAvailableAllocationUnits: r.u64('ActualAvailableAllocationUnits'),
    sectorsPerAllocationUnit: r.u32('SectorsPerAllocationUnit'),
    bytesPerSector: r.u32('BytesPerSector'),
  };
}
