/**
 * The run of FILETIMEs and sizes that CREATE and CLOSE responses and several MS-FSCC
 * information classes share: CreationTime, LastAccessTime, LastWriteTime, ChangeTime,
 * then (in most of them) AllocationSize and EndOfFile.
 */
import type { Reader, Writer } from './buffer.js';

export interface FileTimes {
  creationTime: bigint;
  lastAccessTime: bigint;
  lastWriteTime: bigint;
  changeTime: bigint;
}

export interface FileTimesAndSizes extends FileTimes {
  allocationSize: bigint;
  endOfFile: bigint;
}

export function readFileTimes(r: Reader): FileTimes {
  return {
    creationTime: r.u64('CreationTime'),
    lastAccessTime: r.u64('LastAccessTime'),
    lastWriteTime: r.u64('LastWriteTime'),
    changeTime: r.u64('ChangeTime'),
  };
}

export function writeFileTimes(w: Writer, times: FileTimes): void {
  w.u64(times.creationTime, 'CreationTime');
  w.u64(times.lastAccessTime, 'LastAccessTime');
  w.u64(times.lastWriteTime, 'LastWriteTime');
  w.u64(times.changeTime, 'ChangeTime');
}

/** Times, then AllocationSize, then EndOfFile. */
export function readTimesAndSizes(r: Reader): FileTimesAndSizes {
  const times = readFileTimes(r);
  return { ...times, allocationSize: r.u64('AllocationSize'), endOfFile: r.u64('EndOfFile') };
}

export function writeTimesAndSizes(w: Writer, value: FileTimesAndSizes): void {
  writeFileTimes(w, value);
  w.u64(value.allocationSize, 'AllocationSize');
  w.u64(value.endOfFile, 'EndOfFile');
}
