import { test, expect } from '@playwright/test';
import { ServerLog, parseSambaTimestamp } from './server-log.js';

test('lines with a Samba header take its time; the lines after it belong to that entry', () => {
  const log = new ServerLog();
  log.push('[2026/11/25 06:00:26.123456,  1] ../../source3/smbd/server.c:1741(main)\n  smbd version 4.17.12 started.\n');
  log.push('[2026/11/25 06:00:30.000000,  3] ../../source3/smbd/smb2_server.c:3236(smbd_smb2_request_error_ex)\n  status[NT_STATUS_USER_SESSION_DELETED]\n');
  expect(parseSambaTimestamp('[2026/11/25 06:00:26.123456,  1] x')).toBe(new Date(2026, 10, 25, 6, 0, 26, 123).getTime());
  expect(log.since(new Date(2026, 10, 25, 6, 0, 29))).toBe(
    '[2026/11/25 06:00:30.000000,  3] ../../source3/smbd/smb2_server.c:3236(smbd_smb2_request_error_ex)\n  status[NT_STATUS_USER_SESSION_DELETED]',
  );
});

test('without headers (smbd --debug-stdout) each line is timed when it arrives, so a window selects it', async () => {
  const log = new ServerLog();
  log.push('Allowed connection from 127.0.0.1\nSelected protocol SMB3_02\n');
  await new Promise((r) => setTimeout(r, 30));
  const window = new Date();
  await new Promise((r) => setTimeout(r, 10));
  log.push('smbd_smb2_request_error_ex: idx[1] status[NT_STATUS_USER_SESSION_DELETED]\npartial');
  expect(log.since(window)).toBe('smbd_smb2_request_error_ex: idx[1] status[NT_STATUS_USER_SESSION_DELETED]');
  expect(log.text()).toBe('Allowed connection from 127.0.0.1\nSelected protocol SMB3_02\nsmbd_smb2_request_error_ex: idx[1] status[NT_STATUS_USER_SESSION_DELETED]\npartial');
});
