import { test, expect } from '@playwright/test';
import {
  CHANGE_NOTIFY_WATCH_TREE,
  CompletionFilter,
  NotifyAction,
  decodeChangeNotifyRequest,
  decodeChangeNotifyResponse,
  encodeChangeNotifyRequest,
  encodeChangeNotifyResponse,
  notifyActionName,
} from './change-notify.js';
import { bytes, expectProtocolError, u16, u32, u64, u8, utf16, withHeader, zeros } from './test-builder.js';

test('CHANGE_NOTIFY request with WATCH_TREE', () => {
  const request = {
    flags: CHANGE_NOTIFY_WATCH_TREE,
    outputBufferLength: 4096,
    fileId: { persistent: 1n, volatile: 2n },
    completionFilter: CompletionFilter.FileName | CompletionFilter.DirName | CompletionFilter.LastWrite,
  };
  const body = encodeChangeNotifyRequest(request);
  expect(body).toEqual(bytes(u16(32), u16(1), u32(4096), u64(1), u64(2), u32(0x13), u32(0)));
  expect(decodeChangeNotifyRequest(withHeader(body))).toEqual(request);
});

test('CHANGE_NOTIFY response: FILE_NOTIFY_INFORMATION entries with action names', () => {
  const first = bytes(u32(24), u32(4), u32(10), utf16('a.txt'), zeros(2));
  const second = bytes(u32(0), u32(5), u32(10), utf16('b.txt'));
  const message = withHeader(bytes(u16(9), u16(72), u32(first.length + second.length), first, second));
  const notifications = decodeChangeNotifyResponse(message);
  expect(notifications).toEqual([
    { action: NotifyAction.RenamedOldName, actionName: 'FILE_ACTION_RENAMED_OLD_NAME', fileName: 'a.txt' },
    { action: NotifyAction.RenamedNewName, actionName: 'FILE_ACTION_RENAMED_NEW_NAME', fileName: 'b.txt' },
  ]);
  expect(encodeChangeNotifyResponse(notifications)).toEqual(message.subarray(64));
  expect(notifyActionName(0x42)).toBe('FILE_ACTION_0x42');
  expect(notifyActionName(0)).toBe('FILE_ACTION_0x0');
});

test('empty notify buffer (STATUS_NOTIFY_ENUM_DIR) and hostile entries', () => {
  expect(decodeChangeNotifyResponse(withHeader(bytes(u16(9), u16(0), u32(0), u8(0))))).toEqual([]);
  const loop = withHeader(bytes(u16(9), u16(72), u32(14), u32(0), u32(1), u32(2), utf16('x')));
  loop.writeUInt32LE(0xfffffff0, 72);
  expectProtocolError(() => decodeChangeNotifyResponse(loop), 'FILE_NOTIFY_INFORMATION.[0].NextEntryOffset');
  const longName = withHeader(bytes(u16(9), u16(72), u32(14), u32(0), u32(1), u32(0xffff), utf16('x')));
  expectProtocolError(() => decodeChangeNotifyResponse(longName), 'FILE_NOTIFY_INFORMATION.FileName');
});
