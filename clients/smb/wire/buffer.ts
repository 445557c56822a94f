/**
 * Bounds-checked little-endian reading and writing. Every failure is a ProtocolError naming
 * the structure and field, so a hostile or truncated message never surfaces as a RangeError.
 */
import { ProtocolError } from '../errors.js';

/** Size of the SMB2 sync/async header; command bodies start here and offsets count from 0. */
export const SMB2_HEADER_SIZE = 64;

export function protocolError(structure: string, field: string, detail: string): ProtocolError {
  return new ProtocolError(`${structure}: ${field} ${detail}`, { field: `${structure}.${field}` });
}

export class Reader {
  constructor(
    readonly buffer: Buffer,
    readonly structure: string,
    public offset = 0,
  ) {}

  get remaining(): number {
    return Math.max(0, this.buffer.length - this.offset);
  }

  private need(size: number, field: string): number {
    const at = this.offset;
    if (at < 0 || at + size > this.buffer.length) {
      throw protocolError(
        this.structure,
        field,
        `at offset ${at} needs ${size} bytes but the message length is ${this.buffer.length}`,
      );
    }
    this.offset = at + size;
    return at;
  }

  u8(field: string): number {
    return this.buffer.readUInt8(this.need(1, field));
  }

  u16(field: string): number {
    return this.buffer.readUInt16LE(this.need(2, field));
  }

  u32(field: string): number {
    return this.buffer.readUInt32LE(this.need(4, field));
  }

  u64(field: string): bigint {
    return this.buffer.readBigUInt64LE(this.need(8, field));
  }

  /** A view (no copy) of the next `length` bytes. */
  bytes(length: number, field: string): Buffer {
    const at = this.need(length, field);
    return this.buffer.subarray(at, at + length);
  }

  skip(length: number, field: string): void {
    this.need(length, field);
  }

  /** Reads StructureSize and insists on the value the spec fixes for this structure. */
  structureSize(expected: number): void {
    const actual = this.u16('StructureSize');
    if (actual !== expected) {
      throw protocolError(this.structure, 'StructureSize', `is ${actual}, expected ${expected}`);
    }
  }
}

/**
 * A view of `length` bytes at `offset` of `buffer`, or a ProtocolError such as
 * `NEGOTIATE response: SecurityBufferOffset 4000 + length 80 exceeds message length 200`.
 * `fixedEnd`: where the variable part can start at the earliest (the end of the header and the
 * fixed fields), so that an offset cannot hand back the header's own bytes as data.
 */
export function sliceChecked(
  buffer: Buffer,
  offset: number,
  length: number,
  structure: string,
  offsetField: string,
  fixedEnd = 0,
): Buffer {
  if (offset < fixedEnd) {
    throw protocolError(structure, offsetField, `${offset} points before the end of the fixed fields at ${fixedEnd}`);
  }
  if (offset < 0 || offset + length > buffer.length) {
    throw protocolError(
      structure,
      offsetField,
      `${offset} + length ${length} exceeds message length ${buffer.length}`,
    );
  }
  return buffer.subarray(offset, offset + length);
}

/** Like sliceChecked, but a zero length is allowed to carry any offset (servers often send 0). */
export function optionalSlice(
  buffer: Buffer,
  offset: number,
  length: number,
  structure: string,
  offsetField: string,
  fixedEnd = 0,
): Buffer {
  if (length === 0) return buffer.subarray(0, 0);
  return sliceChecked(buffer, offset, length, structure, offsetField, fixedEnd);
}

/** Rejects a count of fixed-size elements that could not fit in the bytes left. */
export function checkCount(
  count: number,
  elementSize: number,
  available: number,
  structure: string,
  field: string,
): void {
  if (count * elementSize > available) {
    throw protocolError(
      structure,
      field,
      `${count} needs ${count * elementSize} bytes but only ${available} remain`,
    );
  }
}

export class Writer {
  readonly buffer: Buffer;
  offset = 0;

  constructor(
    size: number,
    readonly structure: string,
  ) {
    // Small structures come from Node's shared pool (a header per request adds up); zeroed, as fields left alone must be.
    this.buffer = Buffer.allocUnsafe(size).fill(0);
  }

  private integer(value: number, max: number, field: string): void {
    if (!Number.isInteger(value) || value < 0 || value > max) {
      throw protocolError(this.structure, field, `${value} is not an integer in 0..${max}`);
    }
  }

  u8(value: number, field: string): this {
    this.integer(value, 0xff, field);
    this.offset = this.buffer.writeUInt8(value, this.offset);
    return this;
  }

  u16(value: number, field: string): this {
    this.integer(value, 0xffff, field);
    this.offset = this.buffer.writeUInt16LE(value, this.offset);
    return this;
  }

  u32(value: number, field: string): this {
    this.integer(value, 0xffffffff, field);
    this.offset = this.buffer.writeUInt32LE(value, this.offset);
    return this;
  }

  u64(value: bigint, field: string): this {
    if (value < 0n || value > 0xffffffffffffffffn) {
      throw protocolError(this.structure, field, `${value} is not an unsigned 64-bit integer`);
    }
    this.offset = this.buffer.writeBigUInt64LE(value, this.offset);
    return this;
  }

  /** Copies `bytes`; when `exactLength` is given the argument must have exactly that size. */
  bytes(bytes: Uint8Array, field: string, exactLength?: number): this {
    if (exactLength !== undefined && bytes.length !== exactLength) {
      throw protocolError(this.structure, field, `must be ${exactLength} bytes, got ${bytes.length}`);
    }
    this.buffer.set(bytes, this.offset);
    this.offset += bytes.length;
    return this;
  }

  zeros(length: number): this {
    this.offset += length;
    return this;
  }

  /** Moves to the next multiple of `alignment` of `base + offset` (zero-filled). */
  align(alignment: number, base = 0): this {
    this.offset += padding(base + this.offset, alignment);
    return this;
  }
}

/** Bytes needed after `length` to reach a multiple of `alignment`. */
export function padding(length: number, alignment = 8): number {
  return (alignment - (length % alignment)) % alignment;
}

export function alignUp(length: number, alignment = 8): number {
  return length + padding(length, alignment);
}

export function encodeUtf16(text: string): Buffer {
  return Buffer.from(text, 'utf16le');
}

export function decodeUtf16(bytes: Buffer, structure: string, field: string): string {
  if (bytes.length % 2 !== 0) {
    throw protocolError(structure, field, `length ${bytes.length} is odd for UTF-16LE text`);
  }
  return bytes.toString('utf16le');
}

/** SMB2_FILEID (MS-SMB2 2.2.14.1). */
export interface FileId {
  persistent: bigint;
  volatile: bigint;
}

/** The FileId a related compound request uses to mean "the handle of the previous response". */
export const RELATED_FILE_ID: FileId = Object.freeze({
  persistent: 0xffffffffffffffffn,
  volatile: 0xffffffffffffffffn,
});

export function readFileId(reader: Reader, field = 'FileId'): FileId {
  return { persistent: reader.u64(`${field}.Persistent`), volatile: reader.u64(`${field}.Volatile`) };
}

export function writeFileId(writer: Writer, fileId: FileId, field = 'FileId'): void {
  writer.u64(fileId.persistent, `${field}.Persistent`).u64(fileId.volatile, `${field}.Volatile`);
}

const FILETIME_UNIX_EPOCH = 116444736000000000n;

/** FILETIME (100 ns ticks since 1601) to Date; millisecond precision. */
export function filetimeToDate(filetime: bigint): Date {
  return new Date(Number((filetime - FILETIME_UNIX_EPOCH) / 10000n));
}

export function dateToFiletime(date: Date): bigint {
  return BigInt(date.getTime()) * 10000n + FILETIME_UNIX_EPOCH;
}

/**
 * Bodies that are only StructureSize 4 + Reserved (LOGOFF, TREE_DISCONNECT, ECHO, CANCEL,
 * FLUSH response, LOCK response).
 */
export function encodeReservedBody(): Buffer {
  return new Writer(4, 'reserved body').u16(4, 'StructureSize').u16(0, 'Reserved').buffer;
}

export function decodeReservedBody(message: Buffer, structure: string, bodyOffset = SMB2_HEADER_SIZE): void {
  const r = new Reader(message, structure, bodyOffset);
  r.structureSize(4);
  r.skip(2, 'Reserved');
}

/**
 * The message seen from its own SMB2 header, which is where every Offset field counts from.
 * Differs from `message` only when a body is decoded in place inside a larger buffer.
 */
export function fromHeader(message: Buffer, bodyOffset: number): Buffer {
  return message.subarray(Math.max(0, bodyOffset - SMB2_HEADER_SIZE));
}

/**
 * Splits an MS-FSCC list chained by a leading 4-byte NextEntryOffset into entry views.
 * Every offset must move forward by at least `minEntrySize` and stay inside the buffer, so a
 * hostile chain can neither loop nor reach outside; the entry count is bounded by the bytes.
 */
export function splitEntries(buffer: Buffer, structure: string, minEntrySize: number): Buffer[] {
  const entries: Buffer[] = [];
  let start = 0;
  while (start < buffer.length) {
    const next = new Reader(buffer, structure, start).u32(`[${entries.length}].NextEntryOffset`);
    if (next !== 0 && (next < minEntrySize || start + next > buffer.length)) {
      throw protocolError(
        structure,
        `[${entries.length}].NextEntryOffset`,
        `${next} at offset ${start} does not lead to a further entry inside ${buffer.length} bytes`,
      );
    }
    const end = next === 0 ? buffer.length : start + next;
    entries.push(buffer.subarray(start, end));
    if (next === 0) break;
    start = end;
  }
  return entries;
}

/** Writes entries with NextEntryOffset chaining, each 8-byte aligned except the last. */
export function joinEntries(entries: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const [i, entry] of entries.entries()) {
    const isLast = i === entries.length - 1;
    const size = isLast ? entry.length : alignUp(entry.length);
    const copy = Buffer.alloc(size);
    entry.copy(copy);
    copy.writeUInt32LE(isLast ? 0 : size, 0);
    parts.push(copy);
  }
  return Buffer.concat(parts);
}

/**
 * Responses that are StructureSize 9 + OutputBufferOffset(2) + OutputBufferLength(4) + Buffer:
 * QUERY_DIRECTORY, QUERY_INFO and CHANGE_NOTIFY (MS-SMB2 2.2.34, 2.2.38, 2.2.36).
 */
export function encodeOutputBufferResponse(structure: string, output: Buffer): Buffer {
  const w = new Writer(8 + Math.max(1, output.length), structure);
  w.u16(9, 'StructureSize');
  w.u16(output.length > 0 ? SMB2_HEADER_SIZE + 8 : 0, 'OutputBufferOffset');
  w.u32(output.length, 'OutputBufferLength');
  w.bytes(output, 'Buffer');
  return w.buffer;
}

/** The output buffer as a view of the message. */
export function decodeOutputBufferResponse(message: Buffer, structure: string, bodyOffset = SMB2_HEADER_SIZE): Buffer {
  const r = new Reader(message, structure, bodyOffset);
  r.structureSize(9);
  const offset = r.u16('OutputBufferOffset');
  const length = r.u32('OutputBufferLength');
  return optionalSlice(fromHeader(message, bodyOffset), offset, length, structure, 'OutputBufferOffset', SMB2_HEADER_SIZE + 8);
}
