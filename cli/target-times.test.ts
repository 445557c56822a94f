import { test, expect } from '@playwright/test';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMatrix, writeMatrix, type Matrix } from '../matrix/schema.js';
import { resolveProfiles } from '../servers/catalog/index.js';
import { ReferenceSeconds, TARGET_SECONDS_ENV, lastTargetSeconds, loadReferenceSeconds, referenceSeconds, startOrder, targetSecondsFromEnv, workersByTime } from './target-times.js';

const fixture = (name: string) => new URL(`../matrix/fixtures/${name}`, import.meta.url).pathname;

test('the longest targets of the last run start first; domain targets stay apart; targets without a figure follow, impaired first', () => {
  const t = (name: string, profile: { domain?: string; impairment?: object } = {}) => ({ name, profile });
  const all = [t('ad-kerberos', { domain: 'x' }), t('a'), t('b'), t('wan', { impairment: {} }), t('c'), t('ad-negotiate', { domain: 'x' }), t('d')];
  expect(startOrder(all, { b: 40, c: 200, a: 90 }).map((s) => s.name)).toEqual(['ad-kerberos', 'c', 'a', 'b', 'wan', 'd', 'ad-negotiate']);
  // Without figures: the order before (the first domain target, impaired ones, the rest in catalog order, the other domain targets).
  expect(startOrder(all, {}).map((s) => s.name)).toEqual(['ad-kerberos', 'wan', 'a', 'b', 'c', 'd', 'ad-negotiate']);
  // With four workers, c taking two: ad-kerberos, c and a start at once, and the next DC is the
  // first project a worker that comes free takes.
  const workersOf = (spec: { name: string }) => (spec.name === 'c' ? 2 : 1);
  expect(startOrder(all, { b: 40, c: 200, a: 90 }, { slots: 4, workersOf }).map((s) => s.name)).toEqual(['ad-kerberos', 'c', 'a', 'ad-negotiate', 'b', 'wan', 'd']);
  // More workers than projects: the second DC still comes last.
  expect(startOrder(all, { b: 40, c: 200, a: 90 }, { slots: 20, workersOf }).map((s) => s.name)).toEqual(['ad-kerberos', 'c', 'a', 'b', 'wan', 'd', 'ad-negotiate']);
});

test('each selected cell\'s seconds come from the newest run that ran it, summed per target; unreadable runs and other cells are skipped', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'smb-interop-times-'));
  try {
    const whole = await readMatrix(join(fixture('run-all-outcomes'), 'matrix.json'));
    // Each target's whole cell time (its start included) in the fixture run.
    const seconds: Record<string, number> = {};
    for (const cell of whole.cells) seconds[cell.target] = (seconds[cell.target] ?? 0) + cell.durationMs / 1000;
    const [first, second] = Object.keys(seconds);
    expect(first !== undefined && second !== undefined).toBe(true);
    // An older run with both targets; a newer one with only the first target's cells of one
    // scenario, three times as slow; a newest that is not a matrix.
    const slow = whole.cells.find((c) => c.target === first && c.durationMs > 0)!;
    const run = (id: string, cells: Matrix['cells']): Matrix => ({ ...whole, run: { ...whole.run, id }, cells });
    await mkdir(join(dir, '2026-12-01T00-00-00Z'));
    await writeMatrix(join(dir, '2026-12-01T00-00-00Z', 'matrix.json'), run('2026-12-01T00-00-00Z', whole.cells));
    await mkdir(join(dir, '2026-12-02T00-00-00Z'));
    await writeMatrix(join(dir, '2026-12-02T00-00-00Z', 'matrix.json'), run('2026-12-02T00-00-00Z', [{ ...slow, durationMs: slow.durationMs * 3 }]));
    await mkdir(join(dir, '2026-12-03T00-00-00Z'));
    await writeFile(join(dir, '2026-12-03T00-00-00Z', 'matrix.json'), 'not json');
    const selected = [...whole.cells.filter((c) => c.target === first || c.target === second), { target: 'never-ran@native', client: 'smb-ts', scenario: 'files/x' }];
    const found = await lastTargetSeconds(dir, selected);
    expect(found[first!]).toBeCloseTo(seconds[first!]! + (2 * slow.durationMs) / 1000, 6);
    expect(found[second!]).toBeCloseTo(seconds[second!]!, 6);
    expect(Object.keys(found).sort()).toEqual([first!, second!].sort());
    // Only the selected cells count: another client's cells of the same target add nothing.
    const one = await lastTargetSeconds(dir, [{ target: slow.target, client: slow.client, scenario: slow.scenario }]);
    expect(one).toEqual({ [first!]: (3 * slow.durationMs) / 1000 });
    expect(await lastTargetSeconds(join(dir, 'no-such-dir'), selected)).toEqual({});
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the figures pass through the environment; a malformed value means no figures', () => {
  expect(targetSecondsFromEnv({ [TARGET_SECONDS_ENV]: JSON.stringify({ 'a@native': 12.5, 'b@native': 'x' }) })).toEqual({ 'a@native': 12.5 });
  expect(targetSecondsFromEnv({ [TARGET_SECONDS_ENV]: '{not json' })).toEqual({});
  expect(targetSecondsFromEnv({})).toEqual({});
});

test('a target whose last run took over two thirds of a worker\'s fair share gets two workers', () => {
  // The run of 2026-12-07: 13 targets, 6 workers, 1250 s of cell time; a fair share is 208 s.
  const seconds: Record<string, number> = { 'cmac@native': 223, 'gcm@native': 97, 'legacy@native': 130, 'wan@native': 215 };
  for (let i = 0; i < 9; i++) seconds[`t${i}@native`] = 65;
  expect(workersByTime('cmac@native', 1, seconds, 6)).toBe(2);
  expect(workersByTime('legacy@native', 1, seconds, 6)).toBe(1);
  expect(workersByTime('gcm@native', 1, seconds, 6)).toBe(1);
  // An impaired target's own count stays when it is larger.
  expect(workersByTime('wan@native', 4, seconds, 6)).toBe(4);
  // No figure, or one worker in all: the base count.
  expect(workersByTime('new@native', 1, seconds, 6)).toBe(1);
  expect(workersByTime('cmac@native', 1, seconds, 1)).toBe(1);
});

test('the shipped reference figures stand in for cells no earlier run has; a run\'s own figure wins', async () => {
  const whole = await readMatrix(join(fixture('run-all-outcomes'), 'matrix.json'));
  const reference = referenceSeconds([whole]);
  const timed = whole.cells.filter((c) => c.durationMs >= 50);
  expect(timed.length).toBeGreaterThan(1);
  for (const cell of timed) expect(reference.seconds[cell.target]?.[cell.client]?.[cell.scenario]).toBe(Math.round(cell.durationMs / 100) / 10);
  expect(reference.runs).toEqual([whole.run.id]);
  const dir = await mkdtemp(join(tmpdir(), 'smb-interop-times-'));
  try {
    // No results at all: the reference alone, summed per target.
    const fromReference = await lastTargetSeconds(join(dir, 'none'), timed, { reference: reference.seconds });
    const expected: Record<string, number> = {};
    for (const cell of timed) expected[cell.target] = (expected[cell.target] ?? 0) + Math.round(cell.durationMs / 100) / 10;
    expect(Object.keys(fromReference).sort()).toEqual(Object.keys(expected).sort());
    for (const [target, value] of Object.entries(expected)) expect(fromReference[target]).toBeCloseTo(value, 6);
    // A run of the first cell, ten times as slow: its figure replaces the reference's for that cell only.
    const first = timed[0]!;
    await mkdir(join(dir, '2026-12-05T00-00-00Z'));
    await writeMatrix(join(dir, '2026-12-05T00-00-00Z', 'matrix.json'), { ...whole, cells: [{ ...first, durationMs: first.durationMs * 10 }] });
    const mixed = await lastTargetSeconds(dir, timed, { reference: reference.seconds });
    expect(mixed[first.target]).toBeCloseTo(expected[first.target]! - Math.round(first.durationMs / 100) / 10 + (first.durationMs * 10) / 1000, 6);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the checked-in reference figures are valid and cover the default native matrix; a broken file gives none', async () => {
  const file = new URL('../matrix/cell-seconds.json', import.meta.url).pathname;
  const parsed = ReferenceSeconds.parse(JSON.parse(await readFile(file, 'utf8')));
  // Every target of the default native matrix, with figures for the two clients that run on all of them.
  const natives = resolveProfiles({}).map((profile) => `${profile.name}@native`);
  const uncovered = natives.filter((name) => !['smb-ts', 'smbclient'].every((client) => Object.keys(parsed.seconds[name]?.[client] ?? {}).length > 0));
  expect({ natives: natives.length, uncovered }).toEqual({ natives: 13, uncovered: [] });
  expect(await loadReferenceSeconds(join(tmpdir(), 'no-such-cell-seconds.json'))).toEqual({});
  const dir = await mkdtemp(join(tmpdir(), 'smb-interop-times-'));
  try {
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ runs: [], seconds: { 't@native': { 'smb-ts': { 'files/x': -1 } } } }));
    expect(await loadReferenceSeconds(join(dir, 'bad.json'))).toEqual({});
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
