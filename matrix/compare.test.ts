import { test, expect } from '@playwright/test';
import { compareMatrices } from './compare.js';
import { readMatrix } from './schema.js';

const fixture = (name: string) => readMatrix(new URL(`./fixtures/${name}/matrix.json`, import.meta.url).pathname);
const names = (changes: { key: { client: string; target: string; scenario: string } }[]) =>
  changes.map((c) => `${c.key.client} ${c.key.target} ${c.key.scenario}`);

test('a pass that now fails and a known failure that now passes are regressions; the reverse is a fix', async () => {
  const diff = compareMatrices(await fixture('run-baseline'), await fixture('run-all-outcomes'));
  expect(names(diff.regressions)).toEqual([
    'smb-ts smb302-ccm@native files/round-trip-small',
    'smbclient smb311-gcm@native tree/encrypted-share',
  ]);
  expect(diff.regressions.map((c) => `${c.before?.outcome} -> ${c.after?.outcome}`)).toEqual(['passed -> failed', 'expected-failure -> unexpected-pass']);
  expect(names(diff.fixes)).toEqual(['smbclient smb311-gcm@native negotiate/dialect']);
  expect(names(diff.added)).toEqual(['smbclient smb302-ccm@native files/round-trip-small']);
  expect(diff.removed).toEqual([]);
  expect(diff.changed).toEqual([]);
});

test('the same run compared with itself has no changes; reversed, regressions become fixes', async () => {
  const current = await fixture('run-all-outcomes');
  const same = compareMatrices(current, current);
  expect([same.regressions, same.fixes, same.added, same.removed, same.changed].map((l) => l.length)).toEqual([0, 0, 0, 0, 0]);
  const reversed = compareMatrices(current, await fixture('run-baseline'));
  expect(names(reversed.regressions)).toEqual(['smbclient smb311-gcm@native negotiate/dialect']);
  expect(names(reversed.fixes)).toEqual(['smb-ts smb302-ccm@native files/round-trip-small', 'smbclient smb311-gcm@native tree/encrypted-share']);
  expect(names(reversed.removed)).toEqual(['smbclient smb302-ccm@native files/round-trip-small']);
});

test('passed to infra-error is a change, not a regression of the client', async () => {
  const baseline = await fixture('run-baseline');
  const current = structuredClone(baseline);
  const cell = current.cells.find((c) => c.outcome === 'passed')!;
  cell.outcome = 'infra-error';
  cell.reason = 'cannot start';
  const diff = compareMatrices(baseline, current);
  expect(diff.regressions).toEqual([]);
  expect(diff.changed.map((c) => c.after?.outcome)).toEqual(['infra-error']);
});

test('unsupported is neither broken nor healthy: passed -> unsupported is a change, unsupported -> failed a regression', async () => {
  const plugins = await fixture('run-plugins');
  const before = structuredClone(plugins);
  const after = structuredClone(plugins);
  const passed = after.cells.find((c) => c.client === 'smb-ts' && c.outcome === 'passed')!;
  Object.assign(passed, { outcome: 'unsupported', reason: 'smb-ts no longer declares rename' });
  const unsupported = after.cells.find((c) => c.outcome === 'unsupported' && c.client === 'go-smb2')!;
  Object.assign(unsupported, { outcome: 'failed', reason: null, error: { message: 'STATUS_ACCESS_DENIED', statusName: 'STATUS_ACCESS_DENIED', command: null } });
  const diff = compareMatrices(before, after);
  expect(diff.changed.map((c) => `${c.before?.outcome} -> ${c.after?.outcome}`)).toEqual(['passed -> unsupported']);
  expect(diff.regressions.map((c) => `${c.before?.outcome} -> ${c.after?.outcome}`)).toEqual(['unsupported -> failed']);
});
