import { test, expect, logonOptions } from '../../fixtures.js';
import { scenario } from '../../scenario.js';
import { NO_DIFFERENCE, firstDifference, patternBytes } from '../helpers.js';
import { smbclientAdapter } from '../../../clients/adapters/smbclient.js';
import type { AdapterSession } from '../../../clients/adapters/adapter.js';
import type { StartedTarget } from '../../../servers/target.js';

/** smbclient as the target's first user, through the cell's capture, logging on as any client there would (Kerberos in a realm). */
function smbclientAs(target: StartedTarget, endpoint: { host: string; port: number }, share: string): Promise<AdapterSession> {
  const user = target.user();
  return smbclientAdapter.connect({ ...endpoint, share, username: user.username, password: user.password, domain: user.domain, ...logonOptions(target, { auth: ['kerberos'] }) });
}

test.describe('interop', () => {
  test('a file written by this client reads back byte-exact through smbclient', scenario({ id: 'interop/ts-to-smbclient' }), async ({ share, target, traces }) => {
    const data = patternBytes(3 * 1024 * 1024 + 17, 3);
    await share.tree.writeFile(`${share.dir}/ours.bin`, data);
    const reference = await smbclientAs(target, traces.endpoint, share.share);
    try {
      expect(firstDifference(await reference.readFile(`${share.dir}/ours.bin`), data), 'the file smbclient read').toBe(NO_DIFFERENCE);
    } finally {
      await reference.close();
    }
  });

  test('a file written by smbclient reads back byte-exact through this client', scenario({ id: 'interop/smbclient-to-ts' }), async ({ share, target, traces }) => {
    const data = patternBytes(2 * 1024 * 1024 + 5, 4);
    const reference = await smbclientAs(target, traces.endpoint, share.share);
    try {
      await reference.writeFile(`${share.dir}/theirs.bin`, data);
    } finally {
      await reference.close();
    }
    expect(firstDifference(await share.tree.readFile(`${share.dir}/theirs.bin`), data), 'the file this client read').toBe(NO_DIFFERENCE);
  });
});
