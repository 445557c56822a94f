import { test, expect } from '../../fixtures.js';
import { scenario } from '../../scenario.js';
import { patternBytes, sha256 } from '../helpers.js';
import { smbclientAdapter } from '../../../clients/adapters/smbclient.js';

test.describe('interop', () => {
  test('a file written by this client reads back byte-exact through smbclient', scenario({ id: 'interop/ts-to-smbclient' }), async ({ share, target, traces }) => {
    const data = patternBytes(3 * 1024 * 1024 + 17, 3);
    await share.tree.writeFile(`${share.dir}/ours.bin`, data);
    const user = target.user();
    const reference = await smbclientAdapter.connect({ ...traces.endpoint, share: share.share, username: user.username, password: user.password, domain: user.domain });
    try {
      expect(sha256(await reference.readFile(`${share.dir}/ours.bin`))).toBe(sha256(data));
    } finally {
      await reference.close();
    }
  });

  test('a file written by smbclient reads back byte-exact through this client', scenario({ id: 'interop/smbclient-to-ts' }), async ({ share, target, traces }) => {
    const data = patternBytes(2 * 1024 * 1024 + 5, 4);
    const user = target.user();
    const reference = await smbclientAdapter.connect({ ...traces.endpoint, share: share.share, username: user.username, password: user.password, domain: user.domain });
    try {
      await reference.writeFile(`${share.dir}/theirs.bin`, data);
    } finally {
      await reference.close();
    }
    expect(sha256(await share.tree.readFile(`${share.dir}/theirs.bin`))).toBe(sha256(data));
  });
});
