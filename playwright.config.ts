import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';
import { loadCatalog } from './servers/catalog/index.js';
import { providersFromEnv, targetSpecs } from './servers/providers.js';
import type { TargetSpec } from './servers/providers.js';
import type { WorkerFixtures } from './harness/fixtures.js';
import { matrixWorkers, workersPerTarget } from './harness/options.js';
import { startOrder, targetSecondsFromEnv, workersByTime } from './cli/target-times.js';

/**
 * The compatibility matrix: one Playwright project per target (`<profile>@<provider>`), generated
 * from the catalog (built-in profiles plus the user's smb-interop.config.*). Select targets with
 * --project globs, e.g. `npx playwright test --project='smb311-*'`, or `smb-interop run --targets`.
 * SMB_INTEROP_PROVIDER=native|container|remote|all picks providers (default: the config's choice,
 * else native plus any remote targets the config names).
 */
const catalog = await loadCatalog();
// The longest targets start first (cli/target-times.ts), the domain targets apart.
const seconds = targetSecondsFromEnv();
const selected = targetSpecs(catalog, { providers: providersFromEnv() });
const specs = startOrder(selected, seconds, { slots: matrixWorkers(), workersOf: workersFor });
/** The reporter beside this file: matrix/reporter.ts in a checkout, matrix/reporter.js beside the compiled dist/playwright.config.js. */
const reporter = `./matrix/reporter${extname(fileURLToPath(import.meta.url))}`;

export default defineConfig<{}, WorkerFixtures>({
  testDir: 'harness/scenarios',
  outputDir: 'results/.playwright',
  // Tests of one target share its server; targets run side by side in separate workers.
  fullyParallel: false,
  workers: matrixWorkers(),
  forbidOnly: !!process.env.CI,
  timeout: 180_000,
  // A cell that fails and then passes on retry is recorded as flaky, with its pass rate.
  retries: Number(process.env.SMB_INTEROP_RETRIES) || 0,
  // The matrix reporter writes results/<run-id>/; SMB_INTEROP_LIST=1 adds Playwright's per-test list.
  reporter: [...(process.env.SMB_INTEROP_LIST ? [['list'] as const] : []), [reporter]],
  // A worker per target at most when there are enough targets (`smb-interop run` counts the ones
  // it selects): each worker that takes a target's files starts its own server.
  // A domain target's DC is one per machine at a time: one worker each.
  projects: specs.map((spec) => ({
    name: spec.name,
    use: { targetName: spec.name },
    workers: workersFor(spec),
  })),
});

/**
 * A domain target has one worker (one DC at a time); an impaired one twice the share, at least
 * two, since its cells mostly wait on the link rather than use a core; the others their share,
 * and two for a target whose last run took long enough to set the end of this one (workersByTime).
 */
function workersFor(spec: TargetSpec): number {
  if (spec.profile.domain !== undefined) return 1;
  const share = workersPerTarget(matrixWorkers(), Number(process.env.SMB_INTEROP_SELECTED_TARGETS) || selected.length);
  const base = spec.profile.impairment === undefined ? share : Math.max(2, 2 * share);
  return workersByTime(spec.name, base, seconds, matrixWorkers());
}
