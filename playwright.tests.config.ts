import { defineConfig } from '@playwright/test';

/**
 * The project's own tests (not the compatibility matrix, which is playwright.config.ts):
 * - unit: pure code (codecs, crypto, catalog, renderers), byte-exact, no servers.
 * - integration: against real Samba started by the native provider.
 */
export default defineConfig({
  reporter: [['list'], ['./tests/summary-reporter.ts']],
  outputDir: 'results/.test-output',
  timeout: 60_000,
  forbidOnly: !!process.env.CI,
  projects: [
    {
      name: 'unit',
      testDir: '.',
      testMatch: ['{clients,servers,harness,matrix,cli}/**/*.test.ts'],
      testIgnore: ['**/*.integration.test.ts', 'node_modules/**', 'harness/scenarios/**'],
    },
    {
      name: 'integration',
      testDir: '.',
      testMatch: ['{clients,servers,harness,matrix,cli}/**/*.integration.test.ts'],
      testIgnore: ['node_modules/**', 'harness/scenarios/**'],
    },
  ],
});
