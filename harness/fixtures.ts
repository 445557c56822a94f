import { test as base, expect } from '@playwright/test';
import { findProfile, loadCatalog } from '../servers/catalog/index.js';
import { startNativeTarget } from '../servers/samba/native.js';
import type { StartedTarget } from '../servers/target.js';

export interface WorkerFixtures {
  /** Profile name of the project's target (set per project in playwright.config.ts). */
  targetProfile: string;
  /** The started target, shared by every scenario a worker runs for that project. */
  target: StartedTarget;
}

export interface TestFixtures {
  /** Attaches the server's log lines of this scenario's time window to the result. */
  serverLog: void;
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  targetProfile: ['', { option: true, scope: 'worker' }],
  target: [
    async ({ targetProfile }, use) => {
      if (!targetProfile) throw new Error('no target: run a project generated from the catalog (see playwright.config.ts)');
      const { profiles } = await loadCatalog();
      const target = await startNativeTarget(findProfile(profiles, targetProfile));
      try {
        await use(target);
      } finally {
        await target.stop();
      }
    },
    { scope: 'worker', timeout: 30_000 },
  ],
  serverLog: [
    async ({ target }, use, testInfo) => {
      const since = new Date();
      await use();
      await testInfo.attach('server.log', { body: target.logSince(since), contentType: 'text/plain' });
    },
    { auto: true },
  ],
});

export { expect };
