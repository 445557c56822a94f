/**
 * Which bytes of a server response are structure (lengths, offsets, sizes of structures, the
 * header, security flags: the client must check them) and which are values the server may
 * freely choose (file data, times, names, ids: an unsigned session cannot tell a changed one
 * from a real one). Offsets from MS-SMB2 2.2 and MS-FSCC 2.4; relative to the frame.
 */
import { Field, HEADER_BYTES, STATUS_PENDING, commandOf, messageOffsets } from './recording.js';

export interface FieldSpot {
  name: string;
  /** Offset in the frame. */
  at: number;
  width: 1 | 2 | 4 | 8;
}

export interface Layout {
  /** Length and offset fields, StructureSize, NextCommand...: targets of the lying-field mutation. */
  structure: FieldSpot[];
  /** [start, end) ranges of value bytes in the frame. */
  values: Array<[number, number]>;
  /** Sizes and limits the server states (EndOfFile, MaxReadSize...): values, but numbers a client may act on. */
  numbers: FieldSpot[];
}

type Spec = { structure: Array<[string, number, 1 | 2 | 4 | 8]>; values: Array<[number, number]> };

/** Body layouts by command: structure fields (name, body offset, width) and value ranges (body offsets). */
const BODIES: Record<number, Spec> = {
  0: { structure: [['StructureSize', 0, 2], ['NegotiateContextCount', 6, 2], ['SecurityBufferOffset', 56, 2], ['SecurityBufferLength', 58, 2], ['NegotiateContextOffset', 60, 4]], values: [[2, 6], [8, 56]] },
  1: { structure: [['StructureSize', 0, 2], ['SessionFlags', 2, 2], ['SecurityBufferOffset', 4, 2], ['SecurityBufferLength', 6, 2]], values: [] },
  3: { structure: [['StructureSize', 0, 2]], values: [[2, 16]] },
  5: { structure: [['StructureSize', 0, 2], ['CreateContextsOffset', 80, 4], ['CreateContextsLength', 84, 4]], values: [[2, 80]] },
  6: { structure: [['StructureSize', 0, 2]], values: [[2, 60]] },
  8: { structure: [['StructureSize', 0, 2], ['DataOffset', 2, 1], ['DataLength', 4, 4]], values: [[8, 16]] },
  9: { structure: [['StructureSize', 0, 2], ['Count', 4, 4], ['WriteChannelInfoOffset', 12, 2], ['WriteChannelInfoLength', 14, 2]], values: [[8, 12]] },
  14: { structure: [['StructureSize', 0, 2], ['OutputBufferOffset', 2, 2], ['OutputBufferLength', 4, 4]], values: [] },
  16: { structure: [['StructureSize', 0, 2], ['OutputBufferOffset', 2, 2], ['OutputBufferLength', 4, 4]], values: [] },
};
const ERROR_BODY: Spec = { structure: [['StructureSize', 0, 2], ['ErrorContextCount', 2, 1], ['ByteCount', 4, 4]], values: [] };
const SHORT_BODY: Spec = { structure: [['StructureSize', 0, 2]], values: [] };
const HEADER_FIELDS: Array<[string, number, 1 | 2 | 4 | 8]> = [
  ['StructureSize', Field.structureSize, 2], ['CreditCharge', Field.creditCharge, 2], ['Status', Field.status, 4], ['Command', Field.command, 2],
  ['CreditResponse', Field.credits, 2], ['Flags', Field.flags, 4], ['NextCommand', Field.nextCommand, 4], ['MessageId', Field.messageId, 8],
];

/** Numeric value fields by command (name, body offset, width). */
const NUMBERS: Record<number, Array<[string, number, 4 | 8]>> = {
  0: [['MaxTransactSize', 28, 4], ['MaxReadSize', 32, 4], ['MaxWriteSize', 36, 4]],
  5: [['AllocationSize', 40, 8], ['EndOfFile', 48, 8]],
  6: [['AllocationSize', 40, 8], ['EndOfFile', 48, 8]],
  8: [['DataRemaining', 8, 4]],
};

/** FileIdFullDirectoryInformation (MS-FSCC 2.4.18): the entries the client asks for. */
const DIRECTORY_ENTRY_FIXED = 80;

function isErrorLayout(message: Buffer): boolean {
  const status = message.readUInt32LE(Field.status);
  const command = commandOf(message);
  if (status === STATUS_PENDING) return true;
  if (command === 1 && status === 0xc0000016) return false; // MORE_PROCESSING_REQUIRED carries a token
  return status >= 0x80000000 && !(status === 0x80000005 && (command === 16 || command === 14));
}

function inside(frame: Buffer, start: number, end: number): [number, number] | undefined {
  const from = Math.max(0, start);
  const to = Math.min(frame.length, end);
  return to > from ? [from, to] : undefined;
}

/** The buffer a (offset, length) pair of a message's body points at, as frame offsets. */
function pointed(frame: Buffer, message: number, end: number, offsetAt: number, offsetWidth: 2 | 1, lengthAt: number, lengthWidth: 2 | 4): [number, number] | undefined {
  if (message + HEADER_BYTES + Math.max(offsetAt + offsetWidth, lengthAt + lengthWidth) > end) return undefined;
  const body = message + HEADER_BYTES;
  const offset = offsetWidth === 1 ? frame.readUInt8(body + offsetAt) : frame.readUInt16LE(body + offsetAt);
  const length = lengthWidth === 2 ? frame.readUInt16LE(body + lengthAt) : frame.readUInt32LE(body + lengthAt);
  return inside(frame, message + offset, Math.min(end, message + offset + length));
}

function directoryEntries(frame: Buffer, [start, end]: [number, number], layout: Layout): void {
  let at = start;
  for (let n = 0; n < 4096 && at + DIRECTORY_ENTRY_FIXED <= end; n++) {
    layout.structure.push({ name: `entry ${n} NextEntryOffset`, at, width: 4 }, { name: `entry ${n} FileNameLength`, at: at + 60, width: 4 });
    layout.values.push([at + 4, at + 60], [at + 64, Math.min(end, at + DIRECTORY_ENTRY_FIXED + frame.readUInt32LE(at + 60))]);
    layout.numbers.push({ name: `entry ${n} EndOfFile`, at: at + 40, width: 8 }, { name: `entry ${n} AllocationSize`, at: at + 48, width: 8 });
    const next = frame.readUInt32LE(at);
    if (next === 0) break;
    at += next;
  }
}

/** The layout of every message of a (well-formed, recorded) server frame. */
export function layoutOf(frame: Buffer): Layout {
  const layout: Layout = { structure: [], values: [], numbers: [] };
  const offsets = messageOffsets(frame);
  offsets.forEach((message, i) => {
    const end = i + 1 < offsets.length ? offsets[i + 1]! : frame.length;
    for (const [name, at, width] of HEADER_FIELDS) layout.structure.push({ name: `header ${name}`, at: message + at, width });
    const bytes = frame.subarray(message, end);
    const command = commandOf(bytes);
    const spec = isErrorLayout(bytes) ? ERROR_BODY : BODIES[command] ?? SHORT_BODY;
    const body = message + HEADER_BYTES;
    for (const [name, at, width] of spec.structure) {
      if (body + at + width <= end) layout.structure.push({ name, at: body + at, width });
    }
    for (const [from, to] of spec.values) {
      const range = inside(frame, body + from, Math.min(end, body + to));
      if (range !== undefined) layout.values.push(range);
    }
    if (spec !== BODIES[command]) return;
    for (const [name, at, width] of NUMBERS[command] ?? []) {
      if (body + at + width <= end) layout.numbers.push({ name, at: body + at, width });
    }
    let buffer: [number, number] | undefined;
    if (command === 0) buffer = pointed(frame, message, end, 56, 2, 58, 2);
    if (command === 1) buffer = pointed(frame, message, end, 4, 2, 6, 2);
    if (command === 8) buffer = pointed(frame, message, end, 2, 1, 4, 4);
    if (command === 14 || command === 16) buffer = pointed(frame, message, end, 2, 2, 4, 4);
    if (buffer === undefined) return;
    if (command === 14) directoryEntries(frame, buffer, layout);
    else layout.values.push(buffer);
    // FILE_ALL_INFORMATION (MS-FSCC 2.4.2): FILE_STANDARD_INFORMATION follows the 40-byte basic part.
    if (command === 16 && buffer[1] - buffer[0] >= 64) {
      layout.numbers.push({ name: 'AllocationSize (FileAllInformation)', at: buffer[0] + 40, width: 8 }, { name: 'EndOfFile (FileAllInformation)', at: buffer[0] + 48, width: 8 });
    }
  });
  return layout;
}

/** Whether every byte in `changed` (frame offsets) is a value byte. */
export function onlyValues(layout: Layout, changed: readonly number[]): boolean {
  return changed.length > 0 && changed.every((at) => layout.values.some(([from, to]) => at >= from && at < to));
}

/** Frame offsets where two frames of the same length differ. */
export function changedBytes(original: Buffer, mutated: Buffer): number[] {
  const changed: number[] = [];
  for (let i = 0; i < Math.min(original.length, mutated.length); i++) if (original[i] !== mutated[i]) changed.push(i);
  return changed;
}

const BODY_SIZES: Record<number, number> = { 0: 65, 1: 9, 2: 4, 3: 16, 4: 4, 5: 89, 6: 60, 7: 4, 8: 17, 9: 17, 14: 9, 16: 9, 17: 2 };

/** `offset`..`offset + length` (from the message start) lies after the fixed part and inside the message. */
function fits(offset: number, length: number, fixedEnd: number, messageLength: number): boolean {
  return length === 0 || (offset >= fixedEnd && offset + length <= messageLength);
}

function directoryWellFormed(buffer: Buffer): boolean {
  let at = 0;
  for (let n = 0; n < 4096; n++) {
    if (at + DIRECTORY_ENTRY_FIXED > buffer.length) return false;
    const next = buffer.readUInt32LE(at);
    const nameLength = buffer.readUInt32LE(at + 60);
    const entryEnd = next === 0 ? buffer.length - at : next;
    if (nameLength % 2 !== 0 || DIRECTORY_ENTRY_FIXED + nameLength > entryEnd || (next !== 0 && next % 8 !== 0)) return false;
    if (next === 0) return true;
    at += next;
  }
  return false;
}

/**
 * Whether a server could have sent this frame as it is: every message's sizes, offsets and
 * lengths consistent (MS-SMB2 2.2, MS-FSCC 2.4.18). A lying length that still describes a
 * well-formed message (a name shortened within its padding) cannot be told from the truth.
 */
export function wellFormed(frame: Buffer): boolean {
  try {
    return messagesWellFormed(frame);
  } catch (error) {
    // A field read past the end of a (short) message.
    if (error instanceof RangeError) return false;
    throw error;
  }
}

function messagesWellFormed(frame: Buffer): boolean {
  let at = 0;
  for (;;) {
    if (at + HEADER_BYTES + 2 > frame.length || frame.readUInt16LE(at + Field.structureSize) !== HEADER_BYTES) return false;
    const next = frame.readUInt32LE(at + Field.nextCommand);
    if (next !== 0 && (next % 8 !== 0 || next < HEADER_BYTES || at + next > frame.length)) return false;
    const message = frame.subarray(at, next === 0 ? frame.length : at + next);
    const command = commandOf(message);
    const error = isErrorLayout(message);
    const size = message.readUInt16LE(HEADER_BYTES);
    if (size !== (error ? 9 : BODY_SIZES[command] ?? size) || HEADER_BYTES + size - 1 > message.length) return false;
    const u16 = (o: number) => message.readUInt16LE(HEADER_BYTES + o);
    const u32 = (o: number) => message.readUInt32LE(HEADER_BYTES + o);
    if (!error) {
      if (command === 0 && !fits(u16(56), u16(58), HEADER_BYTES + 64, message.length)) return false;
      if (command === 1 && !fits(u16(4), u16(6), HEADER_BYTES + 8, message.length)) return false;
      if (command === 5 && !fits(u32(80), u32(84), HEADER_BYTES + 88, message.length)) return false;
      if (command === 8 && !fits(message.readUInt8(HEADER_BYTES + 2), u32(4), HEADER_BYTES + 16, message.length)) return false;
      if (command === 14 || command === 16) {
        if (!fits(u16(2), u32(4), HEADER_BYTES + 8, message.length)) return false;
        if (command === 14 && !directoryWellFormed(message.subarray(u16(2), u16(2) + u32(4)))) return false;
      }
    }
    if (next === 0) return true;
    at += next;
  }
}
