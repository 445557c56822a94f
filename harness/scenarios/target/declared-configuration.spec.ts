import { test, expect } from '../../fixtures.js';
import { verifyTarget } from '../../verify-target.js';

test.describe('target', () => {
  test('every share negotiates what the profile declares, as the server reports it', async ({ target }) => {
    const result = await test.step(`smbclient on every share of ${target.name}`, () => verifyTarget(target));
    expect(result.problems, JSON.stringify(result.observations)).toEqual([]);
    expect(result.observations.map((o) => o.share)).toEqual(target.profile.shares.map((s) => s.name));
  });
});
