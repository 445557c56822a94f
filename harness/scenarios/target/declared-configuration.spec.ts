import { test, expect } from '../../fixtures.js';
import { observeShare } from '../../verify-target.js';

test.describe('target', () => {
  test('every share negotiates what the profile declares, as the server reports it', async ({ target }) => {
    const { expect: declared } = target.profile;
    for (const share of target.profile.shares) {
      const seen = await test.step(`smbclient on \\\\${target.host}\\${share.name}`, () => observeShare(target, share.name));
      expect.soft(seen.dialect, `dialect on ${share.name}`).toBe(declared.dialect);
      const encrypted = declared.encryption || declared.encryptedShares.includes(share.name);
      expect.soft(seen.encryption !== '', `encryption on ${share.name}`).toBe(encrypted);
      if (encrypted && declared.cipher) expect.soft(seen.encryption, `cipher on ${share.name}`).toBe(declared.cipher);
      if (declared.signingAlgorithm) expect.soft(seen.signing, `signing on ${share.name}`).toBe(declared.signingAlgorithm);
    }
  });
});
