import { test, expect } from '@playwright/test';
import { readMatrix, type Matrix } from '../schema.js';
import { renderHtml, renderMarkdown } from './index.js';
import { formatSeconds, timeReport } from './timing.js';

let timed: Matrix;
test.beforeAll(async () => {
  timed = await readMatrix(new URL('../fixtures/run-all-outcomes/matrix.json', import.meta.url).pathname);
  const cell = (client: string, target: string, scenario: string) => timed.cells.find((c) => c.client === client && c.target === target && c.scenario === scenario)!;
  cell('smb-ts', 'smb311-gcm@native', 'negotiate/dialect').timing = { targetStartMs: 300, setupMs: 50, scenarioMs: 40, teardownMs: 20 };
  cell('smb-ts', 'smb302-ccm@native', 'files/round-trip-small').timing = { targetStartMs: 0, setupMs: 100, scenarioMs: 1300, teardownMs: 130 };
});

test('summary.md: where the time went: the wall time, the split, each target and the ten slowest cells', () => {
  const lines = renderMarkdown(timed).split('\n');
  const start = lines.indexOf('### Where the time went');
  expect(start).toBeGreaterThan(0);
  expect(lines.slice(start, start + 11)).toEqual([
    '### Where the time went',
    '',
    "1 min 29 s wall; the cells' time: scenarios 1.3 s, harness 0.3 s (set-up 0.1 s, teardown 0.1 s), starting targets 0.3 s (split recorded for 2 of 17 cells).",
    '',
    '| target | cells | cell time | scenarios | harness | target start |',
    '|---|---:|---:|---:|---:|---:|',
    '| smb311-gcm@native | 7 | 2.5 s | 0.0 s | 0.1 s | 0.3 s |',
    '| smb302-ccm@native | 6 | 3.2 s | 1.3 s | 0.2 s | 0.0 s |',
    '| guest@native | 4 | 31.2 s | – | – | – |',
    '',
    'The 10 slowest cells:',
  ]);
  const slowest = lines.slice(start + 12);
  expect(slowest.slice(0, 5)).toEqual([
    '| cell | total | scenario | harness |',
    '|---|---:|---:|---:|',
    '| `smb-ts` × `guest@native` × `negotiate/dialect` | 30.0 s | – | – |',
    '| `smb-ts` × `smb302-ccm@native` × `files/round-trip-small` | 1.5 s | 1.3 s | 0.2 s |',
    '| `smb-ts` × `smb311-gcm@native` × `files/round-trip-small` | 0.4 s | – | – |',
  ]);
  expect(slowest.filter((l) => l.startsWith('| `')).length).toBe(10);
});

test('a run recorded without timings still says its wall time and what its cells took', () => {
  const plain = structuredClone(timed);
  for (const c of plain.cells) delete c.timing;
  const text = renderMarkdown(plain);
  expect(text).toContain("1 min 29 s wall; the cells' time: 36.9 s in all (no split recorded).");
  expect(text).toContain('| smb302-ccm@native | 6 | 3.2 s | – | – | – |');
  expect(timeReport(plain, 1).slowest.map((s) => [s.cell.scenario, s.totalMs, s.scenarioMs, s.harnessMs])).toEqual([['negotiate/dialect', 30001, null, null]]);
});

test('index.html: the same section, values escaped', () => {
  const html = renderHtml(timed);
  const section = html.slice(html.indexOf('<section class="time">'));
  expect(section).toContain("<p class=\"time-total\">1 min 29 s wall; the cells' time: scenarios 1.3 s, harness 0.3 s (set-up 0.1 s, teardown 0.1 s), starting targets 0.3 s (split recorded for 2 of 17 cells).</p>");
  expect(section).toContain('<tr data-target="smb302-ccm@native"><th>smb302-ccm@native</th><td>6</td><td>3.2 s</td><td>1.3 s</td><td>0.2 s</td><td>0.0 s</td></tr>');
  const rows = [...section.matchAll(/<tr><td>([^<]*)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><\/tr>/g)].map((m) => m.slice(1).join(' | '));
  expect(rows.slice(0, 2)).toEqual(['smb-ts × guest@native × negotiate/dialect | 30.0 s | – | –', 'smb-ts × smb302-ccm@native × files/round-trip-small | 1.5 s | 1.3 s | 0.2 s']);
  expect(rows).toHaveLength(10);
});

test('durations read as seconds with a decimal, minutes from 60 s', () => {
  expect([0, 49, 950, 59_949, 59_950, 61_400, 3_600_000].map(formatSeconds)).toEqual(['0.0 s', '0.0 s', '0.9 s', '59.9 s', '1 min 0 s', '1 min 1 s', '60 min 0 s']);
});
