import { test, expect } from '@playwright/test';
import { LockFlag, decodeLockRequest, decodeLockResponse, encodeLockRequest, encodeLockResponse } from './lock.js';
import { bytes, expectProtocolError, u16, u32, u64, withHeader } from './test-builder.js';

const FILE_ID = { persistent: 1n, volatile: 2n };

test('LOCK request with two elements and a lock sequence', () => {
  const request = {
    lockSequenceNumber: 3,
    lockSequenceIndex: 17,
    fileId: FILE_ID,
    locks: [
      { offset: 0n, length: 100n, flags: LockFlag.Exclusive | LockFlag.FailImmediately },
      { offset: 200n, length: 1n, flags: LockFlag.Unlock },
    ],
  };
  const body = encodeLockRequest(request);
  expect(body).toEqual(
    bytes(u16(48), u16(2), u32((17 << 4) | 3), u64(1), u64(2), u64(0), u64(100), u32(0x12), u32(0), u64(200), u64(1), u32(4), u32(0)),
  );
  expect(decodeLockRequest(withHeader(body))).toEqual(request);
  expect(encodeLockResponse()).toEqual(bytes(u16(4), u16(0)));
  decodeLockResponse(withHeader(encodeLockResponse()));
});

test('LOCK hostile counts and bad arguments', () => {
  const huge = withHeader(bytes(u16(48), u16(0xffff), u32(0), u64(1), u64(2), u64(0), u64(1), u32(2), u32(0)));
  expectProtocolError(() => decodeLockRequest(huge), 'LOCK request.LockCount', /65535 needs/);
  const zero = withHeader(bytes(u16(48), u16(0), u32(0), u64(1), u64(2)));
  expectProtocolError(() => decodeLockRequest(zero), 'LOCK request.LockCount');
  expectProtocolError(() => encodeLockRequest({ fileId: FILE_ID, locks: [] }), 'LOCK request.LockCount');
  expectProtocolError(
    () => encodeLockRequest({ fileId: FILE_ID, lockSequenceNumber: 16, locks: [{ offset: 0n, length: 1n, flags: 2 }] }),
    'LOCK request.LockSequenceNumber',
  );
});
