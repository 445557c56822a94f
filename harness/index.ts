/**
 * What a scenario outside this project imports as `smb-interop/harness`: the Playwright fixtures
 * (`test`, `expect`), the `scenario()` helper and the names its declarations use.
 */
export { test, expect } from './fixtures.js';
export type { AdapterDirectory, ConnectOptions, ShareDirectory, TestFixtures, WorkerFixtures } from './fixtures.js';
export { forEachClient, scenario, selectedClients } from './scenario.js';
export type { ScenarioSpec } from './scenario.js';
export { ClientId, Requirement } from './annotations.js';
export type { ClientIdValue, RequirementId } from './annotations.js';
