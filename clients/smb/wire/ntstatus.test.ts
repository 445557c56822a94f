import { test, expect } from '@playwright/test';
import { NtStatus, isError, isSuccess, isWarning, ntStatusCode, ntStatusName, severityOf } from './ntstatus.js';

test('names of common statuses (values per MS-ERREF)', () => {
  const expected: Array<[number, string]> = [
    [0x00000000, 'STATUS_SUCCESS'],
    [0x00000103, 'STATUS_PENDING'],
    [0x0000010c, 'STATUS_NOTIFY_ENUM_DIR'],
    [0x80000005, 'STATUS_BUFFER_OVERFLOW'],
    [0x80000006, 'STATUS_NO_MORE_FILES'],
    [0xc0000016, 'STATUS_MORE_PROCESSING_REQUIRED'],
    [0xc0000022, 'STATUS_ACCESS_DENIED'],
    [0xc0000034, 'STATUS_OBJECT_NAME_NOT_FOUND'],
    [0xc0000043, 'STATUS_SHARING_VIOLATION'],
    [0xc000006d, 'STATUS_LOGON_FAILURE'],
    [0xc00000cc, 'STATUS_BAD_NETWORK_NAME'],
    [0xc0000203, 'STATUS_USER_SESSION_DELETED'],
    [0xc000035c, 'STATUS_NETWORK_SESSION_EXPIRED'],
    [0xc05d0002, 'STATUS_SMB_GUEST_LOGON_BLOCKED'],
  ];
  for (const [code, name] of expected) {
    expect(ntStatusName(code)).toBe(name);
    expect(ntStatusCode(name)).toBe(code);
  }
  expect(ntStatusName(NtStatus.FileClosed)).toBe('STATUS_FILE_CLOSED');
});

test('NtStatus members carry their table names', () => {
  const members: Array<[number, string]> = [
    [NtStatus.AccessDenied, 'STATUS_ACCESS_DENIED'],
    [NtStatus.DirectoryNotEmpty, 'STATUS_DIRECTORY_NOT_EMPTY'],
    [NtStatus.NotADirectory, 'STATUS_NOT_A_DIRECTORY'],
    [NtStatus.FileIsADirectory, 'STATUS_FILE_IS_A_DIRECTORY'],
    [NtStatus.SmbNoPreauthIntegrityHashOverlap, 'STATUS_SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP'],
    [NtStatus.InsuffServerResources, 'STATUS_INSUFF_SERVER_RESOURCES'],
    [NtStatus.StoppedOnSymlink, 'STATUS_STOPPED_ON_SYMLINK'],
  ];
  for (const [code, name] of members) expect(ntStatusName(code)).toBe(name);
});

test('unknown codes are named, never thrown on; negative int32 input is normalised', () => {
  expect(ntStatusName(0xc00000ff)).toBe('STATUS_UNKNOWN_0xC00000FF');
  expect(ntStatusName(-1073741790)).toBe('STATUS_ACCESS_DENIED');
  expect(ntStatusName(0x1234)).toBe('STATUS_UNKNOWN_0x00001234');
  expect(ntStatusCode('STATUS_NOPE')).toBeUndefined();
});

test('severity helpers follow the top two bits', () => {
  expect(isSuccess(NtStatus.Success)).toBe(true);
  expect(isSuccess(NtStatus.Pending)).toBe(true);
  expect(isSuccess(0x40000000)).toBe(true); // informational
  expect(isWarning(NtStatus.BufferOverflow)).toBe(true);
  expect(isSuccess(NtStatus.BufferOverflow)).toBe(false);
  expect(isError(NtStatus.BufferOverflow)).toBe(false);
  expect(isError(NtStatus.AccessDenied)).toBe(true);
  expect(severityOf(0x40000000)).toBe('informational');
  expect(severityOf(NtStatus.NoMoreFiles)).toBe('warning');
  expect(severityOf(NtStatus.LogonFailure)).toBe('error');
});
