/**
 * Readable little-endian byte builders for the codec's tests: expected messages are written
 * field by field (`u16(36), u16(2), ...`) rather than as opaque hex.
 */
import { expect } from '@playwright/test';
import { ProtocolError } from '../errors.js';

export const u8 = (value: number): Buffer => Buffer.from([value]);

export function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value);
  return b;
}

export function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}

export function u64(value: bigint | number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(value));
  return b;
}

export const zeros = (length: number): Buffer => Buffer.alloc(length);
export const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
export const utf16 = (text: string): Buffer => Buffer.from(text, 'utf16le');
export const bytes = (...parts: Uint8Array[]): Buffer => Buffer.concat(parts);

/** A 16-byte GUID whose bytes are `first, first+1, ...` so tests can tell fields apart. */
export function guid(first: number): Buffer {
  return Buffer.from(Array.from({ length: 16 }, (_, i) => (first + i) & 0xff));
}

/** A 64-byte header placeholder: the command decoders read bodies at offset 64. */
export const withHeader = (body: Buffer): Buffer => Buffer.concat([Buffer.alloc(64), body]);

/** Runs `fn`, expecting a ProtocolError whose `field` is `field` (never a RangeError). */
export function expectProtocolError(fn: () => unknown, field: string, message?: RegExp): ProtocolError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a ProtocolError').toBeInstanceOf(ProtocolError);
  const error = caught as ProtocolError;
  expect(error.field).toBe(field);
  if (message) expect(error.message).toMatch(message);
  return error;
}

/** Every proper prefix of `message` must be rejected with a ProtocolError, never a crash. */
export function expectEveryTruncationRejected(message: Buffer, decode: (m: Buffer) => unknown): void {
  for (let length = 0; length < message.length; length++) {
    const prefix = message.subarray(0, length);
    let caught: unknown;
    try {
      decode(prefix);
    } catch (error) {
      caught = error;
    }
    expect(caught, `truncated to ${length} bytes`).toBeInstanceOf(ProtocolError);
  }
}
