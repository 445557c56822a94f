import { test, expect } from '@playwright/test';
import { orphanedLegacyAccounts } from './legacy-accounts.js';
import { PRIVATE_ID_MAX, PRIVATE_ID_MIN, privateAccounts, renderGroup, renderPasswd } from './private-accounts.js';

test('a target private passwd and group hold root, the guest account and its accounts in one group of their own', () => {
  const accounts = privateAccounts(['si0a1b2c-alice', 'si0a1b2c-bob'], 4_200_000);
  expect(accounts).toEqual([
    { username: 'si0a1b2c-alice', uid: 4_200_001, gid: 4_200_000 },
    { username: 'si0a1b2c-bob', uid: 4_200_002, gid: 4_200_000 },
  ]);
  expect(renderPasswd(accounts)).toBe(
    'root:x:0:0:root:/root:/bin/sh\n' +
      'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' +
      'si0a1b2c-alice:x:4200001:4200000:smb-interop:/nonexistent:/usr/sbin/nologin\n' +
      'si0a1b2c-bob:x:4200002:4200000:smb-interop:/nonexistent:/usr/sbin/nologin\n',
  );
  expect(renderGroup(accounts)).toBe('root:x:0:\nnogroup:x:65534:\nsmb-interop:x:4200000:si0a1b2c-alice,si0a1b2c-bob\n');
});

test('private account ids stay in their range and names stay valid passwd fields', () => {
  expect(() => privateAccounts(['alice'], 60_000)).toThrow(`private account ids must lie in [${PRIVATE_ID_MIN}, ${PRIVATE_ID_MAX}); base 60000 with 1 accounts does not`);
  expect(() => privateAccounts(['alice', 'bob'], PRIVATE_ID_MAX - 2)).toThrow(RangeError);
  expect(() => privateAccounts(['al:ice'], PRIVATE_ID_MIN)).toThrow('"al:ice" cannot be a Unix account name');
  expect(privateAccounts(['a', 'b'], PRIVATE_ID_MAX - 3).map((a) => a.uid)).toEqual([PRIVATE_ID_MAX - 2, PRIVATE_ID_MAX - 1]);
});

test('accounts older versions made are orphaned once their process is gone; others are left alone', () => {
  const passwd = [
    'root:x:0:0:root:/root:/bin/bash',
    'si0a1b2c-alice:x:1031:100:smb-interop pid 5909:/nonexistent:/usr/sbin/nologin',
    'si0a1b2c-bob:x:1032:100:smb-interop pid 5909:/nonexistent:/usr/sbin/nologin',
    'si3d4e5f-alice:x:1033:100:smb-interop pid 6093:/nonexistent:/usr/sbin/nologin',
    'sidekick:x:1034:100:smb-interop pid 5909:/home/sidekick:/bin/sh',
    'si0a1b2c-carol:x:1035:100:someone else:/nonexistent:/usr/sbin/nologin',
    '',
  ].join('\n');
  expect(orphanedLegacyAccounts(passwd, (pid) => pid === 6093)).toEqual(['si0a1b2c-alice', 'si0a1b2c-bob']);
  expect(orphanedLegacyAccounts(passwd, () => true)).toEqual([]);
});
