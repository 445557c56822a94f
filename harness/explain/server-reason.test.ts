import { expect, test } from '@playwright/test';
import { serverEndedConnections, serverEnvironmentFault, serverExits, serverFailures, serverReasonFor } from './server-reason.js';

// Excerpts of smbd 4.17 logs at level 3 (--debug-stdout), as cells of the matrix recorded them.
const ENCRYPTION_REQUIRED = `Allowed connection from 127.0.0.1 (127.0.0.1)
init_oplocks: initializing messages.
Selected protocol SMB3_02
GENSEC backend 'ntlmssp' registered
Got NTLMSSP neg_flags=0xe2888235
auth_check_ntlm_password: sam_ignoredomain authentication for user [si2cd291-alice] succeeded
{"timestamp": "2026-12-06T20:10:23.809714+0000", "type": "Authentication", "Authentication": {"status": "NT_STATUS_OK"}}
lp_load_ex: refreshing parameters
Processing section "[data]"
NTLMSSP Sign/Seal - Initialising with flags:
Failed to fetch domain sid for WORKGROUP
reject session with dialect[0x0302] as encryption is required
smbd_smb2_request_error_ex: smbd_smb2_request_error_ex: idx[1] status[NT_STATUS_ACCESS_DENIED] || at ../../source3/smbd/smb2_sesssetup.c:147
Server exit (NT_STATUS_END_OF_FILE)`;

const WRONG_PASSWORD = `ntlm_password_check: NTLMv2 password check failed
ntlm_password_check: Lanman passwords NOT PERMITTED for user sid1aa1e-alice
check_ntlm_password:  Authentication for user [sid1aa1e-alice] -> [sid1aa1e-alice] FAILED with error NT_STATUS_WRONG_PASSWORD, authoritative=1
Auth: [SMB2,(null)] user []\\[sid1aa1e-alice] with [NTLMv2] status [NT_STATUS_WRONG_PASSWORD] workstation []
{"timestamp": "2026-12-06T20:14:09.587017+0000", "type": "Authentication", "Authentication": {"status": "NT_STATUS_WRONG_PASSWORD"}}
gensec_spnego_server_negTokenTarg_step: SPNEGO(ntlmssp) login failed: NT_STATUS_WRONG_PASSWORD
smbd_smb2_request_error_ex: smbd_smb2_request_error_ex: idx[1] status[NT_STATUS_LOGON_FAILURE] || at ../../source3/smbd/smb2_sesssetup.c:147`;

const UNKNOWN_SHARE = `Adding homes service for user 'sif7e20b-alice' using home directory: '/nonexistent'
checking for home directory no-such-share gave (NULL)
load_usershare_service: directory /tmp/x/usershares is not owned by root or does not have the sticky bit 't' set or is writable by anyone.
find_service() failed to find service no-such-share
smbd_smb2_tree_connect: couldn't find service no-such-share
smbd_smb2_request_error_ex: smbd_smb2_request_error_ex: idx[1] status[NT_STATUS_BAD_NETWORK_NAME] || at ../../source3/smbd/smb2_tcon.c:151`;

const READ_PAST_END = `sid1aa1e-alice opened file t-8dc8/empty.bin read=Yes write=No (numopen=2)
fcntl_getlock: fd 30 is returned info 2 pid 0
smbd_smb2_request_error_ex: smbd_smb2_request_error_ex: idx[5] status[NT_STATUS_END_OF_FILE] || at ../../source3/smbd/smb2_read.c:135
smbd_dirptr_get_entry mask=[*] found a fname=a (a)
smbd_smb2_request_error_ex: smbd_smb2_request_error_ex: idx[1] status[STATUS_NO_MORE_FILES] || at ../../source3/smbd/smb2_query_directory.c:160`;

test('a failed request is explained by the line before it that gives a reason, with the source location', () => {
  expect(serverReasonFor(serverFailures(ENCRYPTION_REQUIRED), 'STATUS_ACCESS_DENIED')).toBe('reject session with dialect[0x0302] as encryption is required (smb2_sesssetup.c:147)');
  expect(serverReasonFor(serverFailures(WRONG_PASSWORD), 'STATUS_LOGON_FAILURE')).toBe('SPNEGO(ntlmssp) login failed: NT_STATUS_WRONG_PASSWORD (smb2_sesssetup.c:147)');
  expect(serverReasonFor(serverFailures(UNKNOWN_SHARE), 'STATUS_BAD_NETWORK_NAME')).toBe("couldn't find service no-such-share (smb2_tcon.c:151)");
});

test('without a reason in the log the status and its source location are given; statuses logged without NT_ are read too', () => {
  const failures = serverFailures(READ_PAST_END);
  expect(failures.map((f) => [f.status, f.location, f.reason])).toEqual([
    ['STATUS_END_OF_FILE', 'smb2_read.c:135', undefined],
    ['STATUS_NO_MORE_FILES', 'smb2_query_directory.c:160', undefined],
  ]);
  expect(serverReasonFor(failures, 'STATUS_END_OF_FILE')).toBe('STATUS_END_OF_FILE at smb2_read.c:135');
  expect(serverReasonFor(failures, 'STATUS_ACCESS_DENIED')).toBeUndefined();
});

test('a reason is never borrowed from an earlier request or an earlier connection', () => {
  const log = `reject session with dialect[0x0302] as encryption is required
smbd_smb2_request_error_ex: smbd_smb2_request_error_ex: idx[1] status[NT_STATUS_ACCESS_DENIED] || at ../../source3/smbd/smb2_sesssetup.c:147
opened file a.txt
smbd_smb2_request_error_ex: smbd_smb2_request_error_ex: idx[1] status[NT_STATUS_OBJECT_NAME_NOT_FOUND] || at ../../source3/smbd/smb2_create.c:339
couldn't find service x
Allowed connection from 127.0.0.1 (127.0.0.1)
smbd_smb2_request_error_ex: smbd_smb2_request_error_ex: idx[1] status[NT_STATUS_NOT_SUPPORTED] || at ../../source3/smbd/smb2_negprot.c:231`;
  expect(serverFailures(log).map((f) => f.reason)).toEqual(['reject session with dialect[0x0302] as encryption is required', undefined, undefined]);
});

test('with Samba headers, the reason comes from the same process when connections interleave', () => {
  const log = `[2026/12/06 20:11:06.214933,  3, pid=100] ../../source3/smbd/smb2_sesssetup.c:310(smbd_smb2_auth_generic_return)
  reject session with dialect[0x0302] as encryption is required
[2026/12/06 20:11:06.215000,  3, pid=200] ../../source3/smbd/smb2_tcon.c:140(smbd_smb2_tree_connect)
  smbd_smb2_tree_connect: couldn't find service nope
[2026/12/06 20:11:06.215100,  3, pid=100] ../../source3/smbd/smb2_server.c:3910(smbd_smb2_request_error_ex)
  smbd_smb2_request_error_ex: smbd_smb2_request_error_ex: idx[1] status[NT_STATUS_ACCESS_DENIED] || at ../../source3/smbd/smb2_sesssetup.c:147`;
  expect(serverReasonFor(serverFailures(log), 'STATUS_ACCESS_DENIED')).toBe('reject session with dialect[0x0302] as encryption is required (smb2_sesssetup.c:147)');
});

test('the n-th failure of a status is explained by its own lines', () => {
  const log = `${WRONG_PASSWORD}\nAllowed connection from 127.0.0.1 (127.0.0.1)\n${ENCRYPTION_REQUIRED.replace('NT_STATUS_ACCESS_DENIED', 'NT_STATUS_LOGON_FAILURE')}`;
  const failures = serverFailures(log);
  expect(serverReasonFor(failures, 'STATUS_LOGON_FAILURE', 0)).toMatch(/^SPNEGO\(ntlmssp\) login failed/);
  expect(serverReasonFor(failures, 'STATUS_LOGON_FAILURE', 1)).toMatch(/^reject session with dialect/);
  expect(serverReasonFor(failures, 'STATUS_LOGON_FAILURE', 5)).toMatch(/^reject session with dialect/);
});

test('connections the server ended are told apart from clients closing, with what the server logged before', () => {
  const log = `${ENCRYPTION_REQUIRED}
Allowed connection from 127.0.0.1 (127.0.0.1)
Server exit (failed to receive request length)
Allowed connection from 127.0.0.1 (127.0.0.1)
smb2_validate_sequence_number: smb2_validate_sequence_number: bad message_id 7 (sequence id 7) (granted = 1, low = 1, range = 1)
Server exit (smbd_smb2_request_dispatch: smbd_smb2_request_dispatch failed)`;
  expect(serverExits(log).map((e) => [e.exit, e.clientWent])).toEqual([
    ['NT_STATUS_END_OF_FILE', true],
    ['failed to receive request length', true],
    ['smbd_smb2_request_dispatch: smbd_smb2_request_dispatch failed', false],
  ]);
  expect(serverEndedConnections(log)).toEqual([
    'smbd_smb2_request_dispatch: smbd_smb2_request_dispatch failed, after: smb2_validate_sequence_number: bad message_id 7 (sequence id 7) (granted = 1, low = 1, range = 1)',
  ]);
});

test('a fault of the server\'s environment is recognised (accounts, memory, databases, panics); a client\'s mistake is not', () => {
  expect(serverEnvironmentFault(`Allowed connection from 127.0.0.1 (127.0.0.1)
SID S-1-5-21-1-2-3-1001 -> getpwuid(1000123) failed, is nsswitch configured?
smbd_smb2_request_error_ex: smbd_smb2_request_error_ex: idx[1] status[NT_STATUS_LOGON_FAILURE] || at ../../source3/smbd/smb2_sesssetup.c:147`)).toBe('SID S-1-5-21-1-2-3-1001 -> getpwuid(1000123) failed, is nsswitch configured?');
  expect(serverEnvironmentFault('create_connection_session_info failed: NT_STATUS_NO_MEMORY')).toBe('create_connection_session_info failed: NT_STATUS_NO_MEMORY');
  expect(serverEnvironmentFault('[2026/12/06 20:11:06.214933,  0, pid=77] ../../lib/util/fault.c:173(smb_panic_log)\n  PANIC (pid 77): assert failed')).toBe('PANIC (pid 77): assert failed');
  expect(serverEnvironmentFault(`${ENCRYPTION_REQUIRED}\n${WRONG_PASSWORD}\n${UNKNOWN_SHARE}`)).toBeUndefined();
});
