import { defineConfig } from '@playwright/test';
import { loadCatalog } from './servers/catalog/index.js';
import type { WorkerFixtures } from './harness/fixtures.js';

/**
 * The compatibility matrix: one Playwright project per target, generated from the catalog
 * (built-in profiles plus the user's smb-interop.config.*). Select targets with --project, e.g.
 * `npx playwright test --project='smb311-*'`.
 */
const catalog = await loadCatalog();

export default defineConfig<{}, WorkerFixtures>({
  testDir: 'harness/scenarios',
  outputDir: 'results/.playwright',
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  timeout: 120_000,
  // The matrix reporter writes results/<run-id>/; SMB_INTEROP_LIST=1 adds Playwright's per-test list.
  reporter: [...(process.env.SMB_INTEROP_LIST ? [['list'] as const] : []), ['./matrix/reporter.ts']],
  projects: catalog.profiles.map((profile) => ({
    name: `${profile.name}@native`,
    use: { targetProfile: profile.name },
  })),
});
