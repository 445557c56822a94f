import { cpus } from 'node:os';
import { defineConfig } from '@playwright/test';
import { loadCatalog } from './servers/catalog/index.js';
import { targetSpecs } from './servers/providers.js';
import type { ProviderKind } from './servers/target.js';
import type { WorkerFixtures } from './harness/fixtures.js';

/**
 * The compatibility matrix: one Playwright project per target (`<profile>@<provider>`), generated
 * from the catalog (built-in profiles plus the user's smb-interop.config.*). Select targets with
 * --project globs, e.g. `npx playwright test --project='smb311-*'`, or `smb-interop run --targets`.
 * SMB_INTEROP_PROVIDER=native|container|all picks providers (default native).
 */
const catalog = await loadCatalog();

function providersFromEnv(): ProviderKind[] {
  const raw = process.env.SMB_INTEROP_PROVIDER?.trim() || 'native';
  if (raw === 'all') return ['native', 'container', 'remote'];
  const kinds = raw.split(',').map((s) => s.trim());
  for (const kind of kinds) {
    if (!['native', 'container', 'remote'].includes(kind)) throw new Error(`SMB_INTEROP_PROVIDER: unknown provider "${kind}" (native, container, remote or all)`);
  }
  return kinds as ProviderKind[];
}

export default defineConfig<{}, WorkerFixtures>({
  testDir: 'harness/scenarios',
  outputDir: 'results/.playwright',
  // Tests of one target share its server; targets run side by side in separate workers.
  fullyParallel: false,
  workers: Number(process.env.SMB_INTEROP_WORKERS) || Math.max(2, cpus().length),
  forbidOnly: !!process.env.CI,
  timeout: 180_000,
  // The matrix reporter writes results/<run-id>/; SMB_INTEROP_LIST=1 adds Playwright's per-test list.
  reporter: [...(process.env.SMB_INTEROP_LIST ? [['list'] as const] : []), ['./matrix/reporter.ts']],
  projects: targetSpecs(catalog, { providers: providersFromEnv() }).map((spec) => ({
    name: spec.name,
    use: { targetName: spec.name },
  })),
});
