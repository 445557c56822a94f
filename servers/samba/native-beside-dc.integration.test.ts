import { expect, test } from '@playwright/test';
import { findProfile, resolveProfiles } from '../catalog/index.js';
import { run } from './accounts.js';
import { SambaAdDc } from './ad-dc.js';
import { startNativeTarget } from './native.js';

// The first DC start of a realm provisions its template (about a minute on a loaded machine).
test.setTimeout(300_000);

// A running AD DC owns the machine's winbindd socket. A native (standalone) smbd that asked that
// winbindd about its private accounts got ids its own files do not hold and refused every logon
// with STATUS_LOGON_FAILURE ("getpwuid(3000018) failed" in its log) while the DC ran.
test('a native target logs its users on while an AD DC runs on the same machine', async () => {
  const dc = await new SambaAdDc({ realm: 'ADTEST.INTEROP' }).start();
  try {
    const target = await startNativeTarget(findProfile(resolveProfiles({}), 'smb311-gcm'));
    try {
      const user = target.user();
      const listing = await run('smbclient', [
        `//127.0.0.1/${target.shares[0]!.name}`, '-p', String(target.port), '-U', `${user.username}%${user.password}`, '-m', 'SMB3_11', '-c', 'ls',
      ], { timeoutMs: 30_000 });
      expect(listing.stdout + listing.stderr).not.toContain('NT_STATUS_LOGON_FAILURE');
      expect(listing.code).toBe(0);
      expect(target.log()).not.toContain('getpwuid');
    } finally {
      await target.stop();
    }
  } finally {
    await dc.stop();
  }
});
