/**
 * Bounds-checked reads for the auth tokens. Every failure is a ProtocolError that
 * names the structure and field, so a hostile or truncated token never escapes as
 * a RangeError.
 */
import { ProtocolError } from '../errors.js';

export function malformed(structure: string, field: string, problem: string): ProtocolError {
  const where = `${structure}.${field}`;
  return new ProtocolError(`malformed ${where}: ${problem}`, { field: where });
}

function need(buf: Uint8Array, offset: number, length: number, structure: string, field: string): void {
  if (offset < 0 || length < 0 || offset + length > buf.length) {
    throw malformed(structure, field, `needs bytes ${offset}..${offset + length} but the token has ${buf.length}`);
  }
}

export function u16(buf: Buffer, offset: number, structure: string, field: string): number {
  need(buf, offset, 2, structure, field);
  return buf.readUInt16LE(offset);
}

export function u32(buf: Buffer, offset: number, structure: string, field: string): number {
  need(buf, offset, 4, structure, field);
  return buf.readUInt32LE(offset);
}

export function slice(buf: Buffer, offset: number, length: number, structure: string, field: string): Buffer {
  need(buf, offset, length, structure, field);
  return buf.subarray(offset, offset + length);
}

export function utf16(text: string): Buffer {
  return Buffer.from(text, 'utf16le');
}

/**
 * Upper-cases one UTF-16 code unit at a time, as Windows does for NTOWFv2: a character
 * whose upper case is longer (German sharp s), or that needs a surrogate pair, stays as it is.
 */
export function upperCaseUnits(text: string): string {
  let out = '';
  for (const ch of text) {
    const upper = ch.length === 1 ? ch.toUpperCase() : ch;
    out += upper.length === 1 ? upper : ch;
  }
  return out;
}

/** Milliseconds since 1970 to a Windows FILETIME (100 ns ticks since 1601), 8 bytes LE. */
export function fileTime(date: Date): Buffer {
  const ticks = (BigInt(date.getTime()) + 11_644_473_600_000n) * 10_000n;
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(ticks < 0n ? 0n : ticks);
  return out;
}

export function fileTimeToDate(value: Buffer): Date {
  const ticks = value.readBigUInt64LE(0);
  return new Date(Number(ticks / 10_000n - 11_644_473_600_000n));
}
