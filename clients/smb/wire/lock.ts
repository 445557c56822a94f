/** LOCK request (MS-SMB2 2.2.26) and response (MS-SMB2 2.2.27). */
import {
  Reader,
  SMB2_HEADER_SIZE,
  Writer,
  checkCount,
  decodeReservedBody,
  encodeReservedBody,
  protocolError,
  readFileId,
  writeFileId,
} from './buffer.js';
import type { FileId } from './buffer.js';

/** SMB2_LOCK_ELEMENT Flags (MS-SMB2 2.2.26.1). */
export const enum LockFlag {
  Shared = 0x00000001,
  Exclusive = 0x00000002,
  Unlock = 0x00000004,
  FailImmediately = 0x00000010,
}

export interface LockElement {
  offset: bigint;
  length: bigint;
  flags: number;
}

export interface LockRequest {
  /** Lock sequence (resilient/persistent handles): number in bits 0-3, index in bits 4-31. */
  lockSequenceNumber?: number;
  lockSequenceIndex?: number;
  fileId: FileId;
  locks: LockElement[];
}

const REQUEST = 'LOCK request';
const ELEMENT_SIZE = 24;

export function encodeLockRequest(request: LockRequest): Buffer {
  if (request.locks.length === 0) throw protocolError(REQUEST, 'LockCount', 'must be at least 1');
  const w = new Writer(24 + request.locks.length * ELEMENT_SIZE, REQUEST);
  w.u16(48, 'StructureSize');
  w.u16(request.locks.length, 'LockCount');
  const number = request.lockSequenceNumber ?? 0;
  const index = request.lockSequenceIndex ?? 0;
  if (number > 0xf) throw protocolError(REQUEST, 'LockSequenceNumber', `${number} does not fit in 4 bits`);
  if (index > 0x0fffffff) throw protocolError(REQUEST, 'LockSequenceIndex', `${index} does not fit in 28 bits`);
  w.u32(((index << 4) | number) >>> 0, 'LockSequence');
  writeFileId(w, request.fileId);
  for (const lock of request.locks) {
    w.u64(lock.offset, 'Locks.Offset').u64(lock.length, 'Locks.Length').u32(lock.flags, 'Locks.Flags').u32(0, 'Locks.Reserved');
  }
  return w.buffer;
}

export function decodeLockRequest(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): Required<LockRequest> {
  const r = new Reader(message, REQUEST, bodyOffset);
  r.structureSize(48);
  const count = r.u16('LockCount');
  const sequence = r.u32('LockSequence');
  const fileId = readFileId(r);
  if (count === 0) throw protocolError(REQUEST, 'LockCount', 'is 0');
  checkCount(count, ELEMENT_SIZE, r.remaining, REQUEST, 'LockCount');
  const locks: LockElement[] = [];
  for (let i = 0; i < count; i++) {
    const offset = r.u64('Locks.Offset');
    const length = r.u64('Locks.Length');
    const flags = r.u32('Locks.Flags');
    r.skip(4, 'Locks.Reserved');
    locks.push({ offset, length, flags });
  }
  return { lockSequenceNumber: sequence & 0xf, lockSequenceIndex: sequence >>> 4, fileId, locks };
}

export function encodeLockResponse(): Buffer {
  return encodeReservedBody();
}

export function decodeLockResponse(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): void {
  decodeReservedBody(message, 'LOCK response', bodyOffset);
}
