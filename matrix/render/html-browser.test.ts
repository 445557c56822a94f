/// <reference lib="dom" />
/**
 * The published page in a real browser (Debian's chromium, headless): the grid's colours, a
 * filter, a failed cell's detail. Needs /usr/bin/chromium (scripts/setup.sh installs it).
 */
import { test, expect, chromium, type Browser, type Page } from '@playwright/test';
import { mkdir, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { readMatrix, type Outcome } from '../schema.js';
import { renderHtml } from './html.js';
import { OUTCOME_COLOR } from './summary.js';

const CHROMIUM = '/usr/bin/chromium';
let browser: Browser;
let page: Page;
const dialogs: string[] = [];

test.beforeAll(async ({}, testInfo) => {
  const matrix = await readMatrix(new URL('../fixtures/run-all-outcomes/matrix.json', import.meta.url).pathname);
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
  const external: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) external.push(r.url());
  });
  await page.goto(pathToFileURL(`${dir}/index.html`).href);
  expect(external, 'the page fetches nothing from the network').toEqual([]);
});

test.afterAll(async () => {
  await browser?.close();
});

function rgb(hex: string): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgb(${n >> 16}, ${(n >> 8) & 0xff}, ${n & 0xff})`;
}

async function cellColor(client: string, target: string, scenario: string): Promise<{ outcome: string | null; color: string; text: string }> {
  const td = page.locator(`section[data-client="${client}"] tr[data-scenario="${scenario}"] td[data-target="${target}"]`);
  return {
    outcome: await td.getAttribute('data-outcome'),
    color: await td.evaluate((el) => getComputedStyle(el).backgroundColor),
    text: (await td.innerText()).trim(),
  };
}

test('the grid has one cell per scenario x target per client, coloured by outcome', async () => {
  await expect(page.locator('section.client')).toHaveCount(2);
  await expect(page.locator('section[data-client="smb-ts"] td.cell')).toHaveCount(4 * 3);
  const expected: [string, string, string, Outcome, string][] = [
    ['smb-ts', 'smb311-gcm@native', 'negotiate/dialect', 'passed', 'passed'],
    ['smb-ts', 'smb302-ccm@native', 'files/round-trip-small', 'failed', 'failed'],
    ['smb-ts', 'smb302-ccm@native', 'tree/encrypted-share', 'expected-failure', 'expected failure'],
    ['smb-ts', 'guest@native', 'negotiate/dialect', 'infra-error', 'infra error'],
    ['smb-ts', 'smb311-gcm@native', 'session/guest', 'not-applicable', 'not applicable'],
    ['smbclient', 'smb311-gcm@native', 'tree/encrypted-share', 'unexpected-pass', 'unexpected pass'],
    ['smbclient', 'smb311-gcm@native', 'files/round-trip-small', 'flaky', 'flaky 75%'],
  ];
  for (const [client, target, scenario, outcome, text] of expected) {
    expect(await cellColor(client, target, scenario), `${client} ${target} ${scenario}`).toEqual({ outcome, color: rgb(OUTCOME_COLOR[outcome]), text });
  }
  const absent = await cellColor('smbclient', 'guest@native', 'negotiate/dialect');
  expect([absent.outcome, absent.text]).toEqual([null, '–']);
  await expect(page.locator('table.targets tr[data-target="smb302-ccm@native"] td')).toHaveText(['3.0.2', 'AES-128-CCM', 'AES-128-CMAC', '3/6', '4.17.12-Debian']);
});

test('the outcome filter leaves only rows with a matching cell; the target filter hides other columns', async () => {
  await page.selectOption('#filter-outcome', 'failed');
  const visibleRows = page.locator('section[data-client="smb-ts"] tbody tr:visible');
  await expect(visibleRows).toHaveCount(1);
  await expect(visibleRows.locator('th')).toHaveText('files/round-trip-small');
  await expect(page.locator('section[data-client="smbclient"] tbody tr:visible')).toHaveCount(0);
  await page.selectOption('#filter-outcome', '');
  await page.selectOption('#filter-target', 'guest@native');
  await expect(page.locator('section[data-client="smb-ts"] thead th:visible')).toHaveText(['scenario', 'guest@native']);
  await page.selectOption('#filter-target', '');
  await page.selectOption('#filter-area', 'files');
  await expect(page.locator('section[data-client="smb-ts"] tbody tr:visible th')).toHaveText(['files/round-trip-small']);
  await page.selectOption('#filter-area', '');
  await expect(page.locator('section[data-client="smb-ts"] tbody tr:visible')).toHaveCount(4);
});

test("a failed cell's detail shows the error, the status name and links to its traces", async ({}, testInfo) => {
  await expect(page.locator('.detail:visible')).toHaveCount(0);
  await page.locator('section[data-client="smb-ts"] tr[data-scenario="files/round-trip-small"] td[data-target="smb302-ccm@native"] button').click();
  const detail = page.locator('.detail:visible');
  await expect(detail).toHaveCount(1);
  await expect(detail.locator('.status-name')).toHaveText('STATUS_ACCESS_DENIED');
  await expect(detail.locator('.command')).toHaveText('TREE_CONNECT');
  await expect(detail.locator('pre.error')).toHaveText('STATUS_ACCESS_DENIED (0xC0000022) on TREE_CONNECT \\\\127.0.0.1\\data <script>alert("x")</script> & ]]> red');
  await expect(detail.locator('.step')).toHaveText('connect › tree connect to data');
  await expect(detail.locator('.negotiated')).toHaveText('dialect 3.0.2, cipher AES-128-CCM, signing AES-128-CMAC, preauth integrity no, session encrypted');
  const links = await detail.locator('ul.attachments a').evaluateAll((as) => as.map((a) => [a.textContent, (a as HTMLAnchorElement).href]));
  const base = page.url().replace(/index\.html$/, 'cells/smb302-ccm%40native/smb-ts/files--round-trip-small/');
  expect(links).toEqual([
    ['capture (pcapng)', `${base}trace.pcapng`],
    ['Wireshark key file', `${base}wireshark-keys.txt`],
    ['transcript (JSON)', `${base}transcript.json`],
    ['transcript (text)', `${base}transcript.txt`],
    ['server log', `${base}server.log`],
  ]);
  await expect(detail.locator('pre.repro')).toHaveText('npx smb-interop repro smb302-ccm@native files/round-trip-small --client smb-ts');
  await expect(detail.locator('pre.wireshark')).toContainText('wireshark -r');
  expect(dialogs, 'no script from the matrix ran').toEqual([]);
  const shot = testInfo.outputPath('matrix-report.png');
  await page.screenshot({ path: shot, fullPage: true });
  await testInfo.attach('matrix-report', { path: shot, contentType: 'image/png' });
});
