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
  reporter: [['list']],
  projects: catalog.profiles.map((profile) => ({
    name: `${profile.name}@native`,
    use: { targetProfile: profile.name },
  })),
});
