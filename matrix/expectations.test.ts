import { test, expect } from '@playwright/test';
import { applyExpectations, intermittentFailure, parseExpectations, type ExpectationEntry } from './expectations.js';
import { readMatrix, type Cell } from './schema.js';

const NOW = new Date('2026-11-25T07:30:00Z');
let cells: Cell[];
test.beforeAll(async () => {
  cells = (await readMatrix(new URL('./fixtures/run-all-outcomes/matrix.json', import.meta.url).pathname)).cells;
});
const find = (list: Cell[], client: string, target: string, scenario: string) =>
  list.find((c) => c.client === client && c.target === target && c.scenario === scenario)!;

test('a listed failure becomes an expected failure with the entry reason and link', () => {
  const entries: ExpectationEntry[] = [{ client: 'smb-ts', target: 'smb302-*@native', scenario: 'files/*', reason: 'CCM write bug', link: 'https://example.org/1' }];
  const { cells: applied, expired } = applyExpectations(cells, entries, NOW);
  expect(find(applied, 'smb-ts', 'smb302-ccm@native', 'files/round-trip-small')).toMatchObject({
    outcome: 'expected-failure', reason: 'CCM write bug', expectation: { reason: 'CCM write bug', link: 'https://example.org/1' },
  });
  expect(expired).toEqual([]);
  // A passing cell under a glob that does not reach it stays passed.
  expect(find(applied, 'smb-ts', 'smb311-gcm@native', 'files/round-trip-small').outcome).toBe('passed');
});

test('a listed cell that passes is an unexpected pass; infra errors and not-applicable cells are left alone', () => {
  const entries: ExpectationEntry[] = [{ client: 'smb-ts', target: '*', scenario: 'negotiate/dialect', reason: 'dialect bug' }];
  const { cells: applied } = applyExpectations(cells, entries, NOW);
  expect(find(applied, 'smb-ts', 'smb311-gcm@native', 'negotiate/dialect')).toMatchObject({ outcome: 'unexpected-pass', reason: 'listed as failing: dialect bug' });
  expect(find(applied, 'smb-ts', 'guest@native', 'negotiate/dialect').outcome).toBe('infra-error');
  expect(find(applied, 'smbclient', 'smb311-gcm@native', 'negotiate/dialect').outcome).toBe('passed');
});

test('an intermittent entry: a failure is expected, a pass stays a pass with the entry recorded', () => {
  const entries: ExpectationEntry[] = [{ client: 'smb-ts', target: '*', scenario: 'files/round-trip-small', reason: 'race in the peer', intermittent: true }];
  const { cells: applied } = applyExpectations(cells, entries, NOW);
  expect(find(applied, 'smb-ts', 'smb302-ccm@native', 'files/round-trip-small')).toMatchObject({ outcome: 'expected-failure', reason: 'race in the peer' });
  expect(find(applied, 'smb-ts', 'smb311-gcm@native', 'files/round-trip-small')).toMatchObject({ outcome: 'passed', expectation: { reason: 'race in the peer', link: null } });
});

test('an entry that names an error takes only failures whose message contains it', () => {
  const cell = { client: 'smb-ts', target: 'smb302-ccm@native', scenario: 'files/round-trip-small' };
  const named: ExpectationEntry = { ...cell, reason: 'denied by the peer', error: 'STATUS_ACCESS_DENIED' };
  const other: ExpectationEntry = { ...cell, reason: 'a race', intermittent: true, error: 'signing required' };
  expect(find(applyExpectations(cells, [named], NOW).cells, cell.client, cell.target, cell.scenario)).toMatchObject({ outcome: 'expected-failure', reason: 'denied by the peer' });
  // The failure says STATUS_ACCESS_DENIED, not "signing required": not the entry's, still failed.
  expect(find(applyExpectations(cells, [other], NOW).cells, cell.client, cell.target, cell.scenario).outcome).toBe('failed');
  // The first entry whose error matches applies, even after one that does not.
  expect(find(applyExpectations(cells, [other, named], NOW).cells, cell.client, cell.target, cell.scenario).reason).toBe('denied by the peer');
  // A pass under an entry with an error is judged as before.
  expect(find(applyExpectations(cells, [{ ...named, scenario: '*', target: 'smb311-gcm@native' }], NOW).cells, 'smb-ts', 'smb311-gcm@native', 'files/round-trip-small').outcome).toBe('unexpected-pass');
});

test('a failure seen while the cell runs is expected only by an intermittent entry naming its error', () => {
  const cell = { client: 'go-smb2', target: 'smb21-signing-hmac@native', scenario: 'files/unlink' };
  const named: ExpectationEntry = { client: 'go-smb2', target: 'smb21-*', scenario: '*', reason: 'unsigned interim', intermittent: true, error: 'signing required' };
  const message = 'AdapterError: go-smb2 writeFile t/gone.txt: write t\\gone.txt: invalid response error: signing required';
  expect(intermittentFailure([named], cell, message, NOW)).toBe(named);
  expect(intermittentFailure([named], cell, 'expect(received).toBe(expected)', NOW)).toBeUndefined();
  expect(intermittentFailure([{ ...named, error: undefined }], cell, message, NOW)).toBeUndefined();
  expect(intermittentFailure([{ ...named, intermittent: undefined }], cell, message, NOW)).toBeUndefined();
  expect(intermittentFailure([{ ...named, expires: '2026-11-24' }], cell, message, NOW)).toBeUndefined();
  expect(intermittentFailure([named], { ...cell, client: 'smb-ts' }, message, NOW)).toBeUndefined();
});

test('an entry applies through its expiry day and is reported, not applied, from the day after', () => {
  const entry: ExpectationEntry = { client: 'smb-ts', target: 'smb302-ccm@native', scenario: 'files/round-trip-small', reason: 'temporary', expires: '2026-11-25' };
  expect(find(applyExpectations(cells, [entry], NOW).cells, 'smb-ts', 'smb302-ccm@native', 'files/round-trip-small').outcome).toBe('expected-failure');
  const later = applyExpectations(cells, [entry], new Date('2026-11-26T00:00:01Z'));
  expect(find(later.cells, 'smb-ts', 'smb302-ccm@native', 'files/round-trip-small').outcome).toBe('failed');
  expect(later.expired).toEqual([{ client: 'smb-ts', target: 'smb302-ccm@native', scenario: 'files/round-trip-small', reason: 'temporary', expires: '2026-11-25' }]);
});

test('invalid entries are rejected naming the file and the field', () => {
  const bad = { expectations: [{ client: 'smb-ts', target: '', scenario: 'x', reason: 'r', link: 'javascript:alert(1)' }, { client: 'a', target: 'b', scenario: 'c', reason: 'd', until: '2027-01-01' }] };
  let message = '';
  try {
    parseExpectations(bad, 'matrix/expectations.json');
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toMatch(/^matrix\/expectations\.json: invalid expectations\n/);
  expect(message).toMatch(/expected a name or a glob \(\* and \? wildcards\)\n\s+→ at expectations\[0\]\.target/);
  expect(message).toMatch(/→ at expectations\[0\]\.link/);
  expect(message).toMatch(/Unrecognized key: "until"\n\s+→ at expectations\[1\]/);
});

test('the checked-in expectations file is valid', async () => {
  const { loadExpectations } = await import('./expectations.js');
  const entries = await loadExpectations(new URL('./expectations.json', import.meta.url).pathname);
  expect(Array.isArray(entries)).toBe(true);
});
