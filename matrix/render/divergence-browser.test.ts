/// <reference lib="dom" />
/**
 * A red cell's divergence in the published page, in a real browser (Debian's chromium,
 * headless): both conversations side by side, the divergent row marked with the field's two
 * values, text from the wire shown as text.
 */
import { test, expect, chromium, type Browser, type Page } from '@playwright/test';
import { mkdir, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { readMatrix, type Cell, type Matrix } from '../schema.js';
import { renderHtml } from './html.js';

const CHROMIUM = '/usr/bin/chromium';
const HOSTILE = '<img src=x onerror=alert(1)>';
let browser: Browser;
let page: Page;
const dialogs: string[] = [];

const DIVERGENCE: NonNullable<Cell['divergence']> = {
  reference: { client: 'smbclient', target: 'smb302-ccm@native', differs: 'client' },
  kind: 'field',
  text: 'NEGOTIATE request Capabilities: DFS|LEASING|LARGE_MTU; reference: DFS|LEASING|LARGE_MTU|ENCRYPTION (MS-SMB2 2.2.3)',
  field: 'Capabilities',
  value: 'DFS|LEASING|LARGE_MTU',
  referenceValue: 'DFS|LEASING|LARGE_MTU|ENCRYPTION',
  section: 'MS-SMB2 2.2.3',
  rows: [
    { cell: '#1 → NEGOTIATE request mid=0', reference: '#1 → NEGOTIATE request mid=0', mark: true },
    { cell: '#2 ← NEGOTIATE response STATUS_SUCCESS mid=0', reference: '#2 ← NEGOTIATE response STATUS_SUCCESS mid=0', mark: false },
    { cell: `#6 ← SESSION_SETUP response STATUS_ACCESS_DENIED mid=2 ${HOSTILE}`, reference: '#6 ← SESSION_SETUP response STATUS_SUCCESS mid=2', mark: false },
    { cell: null, reference: '#7 → TREE_CONNECT request mid=3 encrypted', mark: false },
  ],
  rowsBefore: 0,
  rowsAfter: 3,
};

test.beforeAll(async ({}, testInfo) => {
  const fixture = await readMatrix(new URL('../fixtures/run-all-outcomes/matrix.json', import.meta.url).pathname);
  const failed = fixture.cells.findIndex((c) => c.client === 'smb-ts' && c.target === 'smb302-ccm@native' && c.scenario === 'files/round-trip-small');
  expect(failed, 'the fixture has the failed cell').toBeGreaterThanOrEqual(0);
  const matrix: Matrix = { ...fixture, cells: fixture.cells.map((c, i) => (i === failed ? { ...c, divergence: DIVERGENCE } : c)) };
  const dir = testInfo.outputPath('report');
  await mkdir(dir, { recursive: true });
  await writeFile(`${dir}/index.html`, renderHtml(matrix));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(pathToFileURL(`${dir}/index.html`).href);
});

test.afterAll(async () => {
  await browser?.close();
});

test('a failed cell\'s detail shows both conversations side by side, the divergent row marked with the field\'s two values', async () => {
  await page.locator('section[data-client="smb-ts"] tr[data-scenario="files/round-trip-small"] td[data-target="smb302-ccm@native"] button').click();
  const detail = page.locator('section.detail:visible');
  await expect(detail).toHaveCount(1);
  const table = detail.locator('table.side-by-side');
  await expect(table).toBeVisible();
  await expect(table.locator('thead th')).toHaveText(['this cell (smb-ts on smb302-ccm@native)', 'reference (smbclient on smb302-ccm@native)']);
  await expect(detail.locator('.divergence-text')).toHaveText(DIVERGENCE.text);
  const marked = table.locator('tr.diverges');
  await expect(marked).toHaveCount(1);
  await expect(marked.locator('td')).toHaveText([
    '#1 → NEGOTIATE request mid=0Capabilities: DFS|LEASING|LARGE_MTU',
    '#1 → NEGOTIATE request mid=0Capabilities: DFS|LEASING|LARGE_MTU|ENCRYPTION',
  ]);
  expect(await marked.locator('td').first().evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(253, 226, 226)');
  expect(await table.locator('tbody tr').nth(1).locator('td').first().evaluate((el) => getComputedStyle(el).backgroundColor)).not.toBe('rgb(253, 226, 226)');
  // A message only the reference has faces an empty cell; what was left out is counted.
  await expect(table.locator('tbody tr').nth(3).locator('td')).toHaveText(['—', '#7 → TREE_CONNECT request mid=3 encrypted']);
  await expect(table.locator('tr.gap')).toHaveText('3 rows after');
  // Text from the wire is text: shown literally, never run.
  await expect(table.locator('tbody tr').nth(2).locator('td').first()).toHaveText(`#6 ← SESSION_SETUP response STATUS_ACCESS_DENIED mid=2 ${HOSTILE}`);
  await expect(table.locator('img')).toHaveCount(0);
  expect(dialogs).toEqual([]);
});

test('cells without a divergence show no side-by-side table', async () => {
  await expect(page.locator('section.detail table.side-by-side')).toHaveCount(1);
});
