import { test, expect } from '@playwright/test';
import { mkdir, mkdtemp, readFile, rm, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMatrix, type Matrix } from '../schema.js';
import { parseXml, type XmlElement } from '../testing/xml.js';
import { renderHistory, renderHtml, renderJunit, renderMarkdown, renderRunDirectory } from './index.js';

const fixturePath = (name: string) => new URL(`../fixtures/${name}/matrix.json`, import.meta.url).pathname;
let current: Matrix;
let baseline: Matrix;
test.beforeAll(async () => {
  current = await readMatrix(fixturePath('run-all-outcomes'));
  baseline = await readMatrix(fixturePath('run-baseline'));
});

test('summary.md: the target table, regressions and failures, line by line', () => {
  const lines = renderMarkdown(current, baseline).split('\n');
  expect(lines.slice(0, 15)).toEqual([
    '## SMB interop matrix — run 2026-11-25T07-30-12Z',
    '',
    '17 cells (2 clients × 3 targets × 4 scenarios) in 1 min 29 s: 7 passed, 1 failed, 1 expected failure, 1 unexpected pass, 3 not applicable, 3 infra error, 1 flaky.',
    '',
    '| client | smb311-gcm@native | smb302-ccm@native | guest@native |',
    '|---|---|---|---|',
    '| smb-ts | 3 passed · 0 failed · 0 unsupported · 1 not applicable | 1 passed · 1 failed · 0 unsupported · 1 expected failure · 1 not applicable | 0 passed · 0 failed · 0 unsupported · 3 infra error · 1 not applicable |',
    '| smbclient | 1 passed · 1 failed · 0 unsupported · 1 flaky | 2 passed · 0 failed · 0 unsupported | – |',
    '',
    '| target | dialect | cipher | signing | server | passed | failed | unexpected pass | infra error | flaky | expected failure | not applicable | unsupported | total |',
    '|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    '| smb311-gcm@native | 3.1.1 | AES-128-GCM | AES-128-GMAC | 4.17.12-Debian | 4 | 0 | 1 | 0 | 1 | 0 | 1 | 0 | 7 |',
    '| smb302-ccm@native | 3.0.2 | AES-128-CCM | AES-128-CMAC | 4.17.12-Debian | 3 | 1 | 0 | 0 | 0 | 1 | 1 | 0 | 6 |',
    '| guest@native | unknown | unknown | unknown | unknown | 0 | 0 | 0 | 3 | 0 | 0 | 1 | 0 | 4 |',
    '',
  ]);
  const section = (title: string) => {
    const start = lines.indexOf(title);
    expect(start, `section "${title}"`).toBeGreaterThan(0);
    const end = lines.findIndex((l, i) => i > start + 1 && l === '');
    return lines.slice(start + 2, end < 0 ? undefined : end);
  };
  expect(section('### Regressions since 2026-11-24T07-30-00Z')).toEqual([
    '- `smb-ts` × `smb302-ccm@native` × `files/round-trip-small`: passed → failed — STATUS\\_ACCESS\\_DENIED on TREE\\_CONNECT at step connect › tree connect to data',
    '- `smbclient` × `smb311-gcm@native` × `tree/encrypted-share`: expected failure → unexpected pass — passed although listed as failing: smbclient 4.17 refuses AES-128-GCM shares',
  ]);
  expect(section('### Fixed since 2026-11-24T07-30-00Z')).toEqual(['- `smbclient` × `smb311-gcm@native` × `negotiate/dialect`: failed → passed']);
  expect(section('### Failures')).toEqual([
    '- **failed** `smb-ts` × `smb302-ccm@native` × `files/round-trip-small` — STATUS\\_ACCESS\\_DENIED on TREE\\_CONNECT at step connect › tree connect to data',
    '- **infra error** `smb-ts` × `guest@native` × `negotiate/dialect` — cannot start guest@native: smbd exited with code 1',
    '- **infra error** `smb-ts` × `guest@native` × `files/round-trip-small` — cannot start guest@native: smbd exited with code 1',
    '- **infra error** `smb-ts` × `guest@native` × `session/guest` — cannot start guest@native: smbd exited with code 1',
    '- **unexpected pass** `smbclient` × `smb311-gcm@native` × `tree/encrypted-share` — passed although listed as failing: smbclient 4.17 refuses AES-128-GCM shares',
  ]);
  expect(section('### Flaky')).toEqual(['- `smbclient` × `smb311-gcm@native` × `files/round-trip-small`: passed 3 of 4 runs — STATUS\\_IO\\_TIMEOUT on WRITE at step write']);
  expect(section('### Expired expectations (no longer applied)')).toEqual(['- `smb-ts` × `smb202-*` × `files/*` expired 2026-10-01: large MTU not supported']);
});

test('summary.md without a previous run has no regressions section; Markdown in messages is escaped', () => {
  const hostile = structuredClone(current);
  const failed = hostile.cells.find((c) => c.outcome === 'failed')!;
  failed.error = { message: '| injected | table |\n# heading [x](javascript:alert(1))', statusName: null, command: null };
  failed.failingStep = null;
  const text = renderMarkdown(hostile);
  expect(text).not.toContain('### Regressions');
  expect(text).toContain('— \\| injected \\| table \\|');
  expect(text).not.toMatch(/\n# heading/);
});

test('summary.md: a Debian version string stays as it is; what could start a heading or a list is escaped there only', () => {
  const edited = structuredClone(current);
  edited.targets[0]!.serverVersion = '4.22.3+dfsg-1~bpo12+1';
  const failed = edited.cells.find((c) => c.outcome === 'failed')!;
  failed.error = { message: '+ not a list, # not a heading, - nor this', statusName: null, command: null };
  failed.failingStep = null;
  const text = renderMarkdown(edited);
  expect(text).toContain('| 4.22.3+dfsg-1\\~bpo12+1 |');
  expect(text).toContain('— \\+ not a list, # not a heading, - nor this');
});

test('an impaired variant is marked as such in summary.md and index.html; other targets are not', () => {
  const edited = structuredClone(current);
  edited.targets[0]!.impairment = '10 ms each way, 100 Mbit/s';
  const name = edited.targets[0]!.name;
  expect(renderMarkdown(edited)).toContain(`| ${name} (impaired link: 10 ms each way, 100 Mbit/s) |`);
  expect(renderHtml(edited)).toContain(`<th>${name} (impaired link: 10 ms each way, 100 Mbit/s)</th>`);
  expect(renderMarkdown(current)).not.toContain('impaired link');
});

test('summary.md: the signing column marks an algorithm that is negotiated but not in use', () => {
  const edited = structuredClone(current);
  const target = edited.targets.find((t) => t.name === 'smb311-gcm@native')!;
  const declared = { dialect: '2.0.2', cipher: null, signingAlgorithm: 'HMAC-SHA256', preauthIntegrity: false, encryption: false, signing: false, encryptedShares: [] };
  target.declared = declared;
  const row = renderMarkdown(edited).split('\n').find((line) => line.startsWith('| smb311-gcm@native |'));
  expect(row).toContain('| 2.0.2 | none | HMAC-SHA256 (not in use) |');
  target.declared = { ...declared, signing: true };
  expect(renderMarkdown(edited)).toContain('| 2.0.2 | none | HMAC-SHA256 |');
});

function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

test('junit.xml parses back: one suite per client x target with failures, errors and skips', () => {
  const root = parseXml(renderJunit(current));
  expect(root.name).toBe('testsuites');
  expect(root.attributes).toMatchObject({ tests: '17', failures: '2', errors: '3', skipped: '4' });
  const suites = root.children.map((s) => [s.attributes.name, s.attributes.tests, s.attributes.failures, s.attributes.errors, s.attributes.skipped]);
  expect(suites).toEqual([
    ['smb-ts × smb311-gcm@native', '4', '0', '0', '1'],
    ['smb-ts × smb302-ccm@native', '4', '1', '0', '2'],
    ['smb-ts × guest@native', '4', '0', '3', '1'],
    ['smbclient × smb311-gcm@native', '3', '1', '0', '0'],
    ['smbclient × smb302-ccm@native', '2', '0', '0', '0'],
  ]);
  const ccm = root.children[1]!;
  const failedCase = ccm.children.find((c) => c.attributes.name === 'files/round-trip-small')!;
  const failure = child(failedCase, 'failure')!;
  expect(failure.attributes).toEqual({ message: 'STATUS_ACCESS_DENIED on TREE_CONNECT', type: 'STATUS_ACCESS_DENIED' });
  // The server text comes back verbatim, minus the terminal colour codes XML cannot carry.
  expect(failure.text.split('\n')[0]).toBe('STATUS_ACCESS_DENIED (0xC0000022) on TREE_CONNECT \\\\127.0.0.1\\data <script>alert("x")</script> & ]]> red');
  expect(failure.text).toContain('failing step: connect › tree connect to data');
  const expected = ccm.children.find((c) => c.attributes.name === 'tree/encrypted-share')!;
  expect(child(expected, 'skipped')?.attributes.message).toBe('expected failure: inner SessionId zeroed under encryption');
  const guest = root.children[2]!;
  expect(child(guest.children[0]!, 'error')?.attributes).toEqual({ message: 'cannot start guest@native: smbd exited with code 1', type: 'infra-error' });
  const unexpected = root.children[3]!.children.find((c) => c.attributes.name === 'tree/encrypted-share')!;
  expect(child(unexpected, 'failure')?.attributes.type).toBe('unexpected-pass');
  const flaky = root.children[3]!.children.find((c) => c.attributes.name === 'files/round-trip-small')!;
  expect(child(flaky, 'system-out')?.text.split('\n')[0]).toBe('flaky: passed 3 of 4 runs');
  expect(child(flaky, 'failure')).toBeUndefined();
});

test('plug-in clients: the reports lead with the client x target view; unsupported cells are counted, skipped in junit, and a plug-in\'s stderr is linked', async () => {
  const plugins = await readMatrix(fixturePath('run-plugins'));
  const md = renderMarkdown(plugins).split('\n');
  expect(md.slice(2, 8)).toEqual([
    '8 cells (2 clients × 2 targets × 2 scenarios) in 20 s: 4 passed, 1 failed, 1 infra error, 2 unsupported.',
    '',
    '| client | smb311-aes256@native | smb311-gcm@native |',
    '|---|---|---|',
    '| smb-ts | 2 passed · 0 failed · 0 unsupported | 2 passed · 0 failed · 0 unsupported |',
    '| go-smb2 | 0 passed · 0 failed · 2 unsupported | 0 passed · 1 failed · 0 unsupported · 1 infra error |',
  ]);
  // Unsupported cells are no failures: they are not listed under Failures.
  expect(md.filter((l) => l.startsWith('- **')).map((l) => l.slice(0, l.indexOf(' — ')))).toEqual([
    '- **infra error** `go-smb2` × `smb311-gcm@native` × `dirs/rename`',
    '- **failed** `go-smb2` × `smb311-gcm@native` × `files/round-trip-small`',
  ]);

  const html = renderHtml(plugins);
  const view = html.indexOf('<table class="clients-targets">');
  expect(view, 'the client x target view comes before the targets table and the cell grid').toBeGreaterThan(0);
  expect(view).toBeLessThan(html.indexOf('<table class="targets">'));
  expect(view).toBeLessThan(html.indexOf('<table class="grid">'));
  const counts = [...html.matchAll(/<td class="ct[^"]*" data-client="([^"]+)" data-target="([^"]+)" data-passed="(\d+)" data-failed="(\d+)" data-unsupported="(\d+)">/g)].map((m) => m.slice(1).join(' '));
  expect(counts).toEqual([
    'smb-ts smb311-aes256@native 2 0 0',
    'smb-ts smb311-gcm@native 2 0 0',
    'go-smb2 smb311-aes256@native 0 0 2',
    'go-smb2 smb311-gcm@native 0 1 0',
  ]);
  expect(html).toContain('<span class="reason">smb311-aes256@native needs cipher AES-256-GCM; go-smb2 declares AES-128-CCM, AES-128-GCM</span>');
  expect(html).toContain('<a class="attachment-clientStderr" href="cells/smb311-gcm%40native/go-smb2/dirs--rename/client-stderr.txt">client&#39;s stderr</a>');

  const root = parseXml(renderJunit(plugins));
  expect(root.attributes).toMatchObject({ tests: '8', failures: '1', errors: '1', skipped: '2' });
  const aes256 = root.children.find((s) => s.attributes.name === 'go-smb2 × smb311-aes256@native')!;
  expect(aes256.children.map((c) => child(c, 'skipped')?.attributes.message)).toEqual([
    'unsupported: smb311-aes256@native needs cipher AES-256-GCM; go-smb2 declares AES-128-CCM, AES-128-GCM',
    'unsupported: smb311-aes256@native needs cipher AES-256-GCM; go-smb2 declares AES-128-CCM, AES-128-GCM',
  ]);
});

test('the XML checker rejects what a careless renderer would write', () => {
  expect(() => parseXml('<a b="1 < 2"/>')).toThrow(/"<" in text or attribute value/);
  expect(() => parseXml('<a>Tom & Jerry</a>')).toThrow(/unterminated entity|unknown entity/);
  expect(() => parseXml('<a><b></a>')).toThrow(/<\/a> closes <b>/);
  expect(() => parseXml('<a>\u001b[31m</a>')).toThrow(/U\+001b is not allowed/);
  expect(parseXml('<a x="&lt;&amp;&#65;">t&gt;</a>')).toEqual({ name: 'a', attributes: { x: '<&A' }, children: [], text: 't>' });
});

test('index.html escapes every value: no markup from the matrix reaches the page', () => {
  const html = renderHtml(current);
  expect(html).not.toContain('<script>alert');
  expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; ]]&gt; red');
  expect(html).not.toContain('\u001b');
  expect(html).toContain('href="cells/smb302-ccm%40native/smb-ts/files--round-trip-small/trace.pcapng"');
  expect(html).toContain('<a href="https://example.org/bugs/17">');
  expect(html.match(/<script>/g)).toHaveLength(1);
  expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\/(?!example\.org\/bugs)/);
});

test('results/index.html lists runs newest first and outlines cells that changed', () => {
  const page = renderHistory([current, baseline]);
  const runs = [...page.matchAll(/<tr class="run"><td><a href="([^"]+)">([^<]+)<\/a>.*?<td class="changes">([^<]+)<\/td>/g)].map((m) => [m[1], m[2], m[3]]);
  expect(runs).toEqual([
    ['2026-11-25T07-30-12Z/index.html', '2026-11-25T07-30-12Z', '2 regressions, 1 fixes, 1 new, 0 other changes'],
    ['2026-11-24T07-30-00Z/index.html', '2026-11-24T07-30-00Z', 'first run'],
  ]);
  const row = page.match(/<tr data-cell="smb-ts\|smb302-ccm@native\|files\/round-trip-small">(.*?)<\/tr>/)?.[1] ?? '';
  expect([...row.matchAll(/<td class="h ([^"]+)"/g)].map((m) => m[1])).toEqual(['o-failed changed', 'o-passed']);
  const steady = page.match(/<tr data-cell="smb-ts\|smb311-gcm@native\|negotiate\/dialect">(.*?)<\/tr>/)?.[1] ?? '';
  expect([...steady.matchAll(/<td class="h ([^"]+)"/g)].map((m) => m[1])).toEqual(['o-passed', 'o-passed']);
});

test('renderRunDirectory writes the three reports and the run list, comparing with the run before', async () => {
  const results = await mkdtemp(join(tmpdir(), 'smb-interop-render-'));
  try {
    for (const name of ['run-baseline', 'run-all-outcomes']) {
      const m = name === 'run-baseline' ? baseline : current;
      await mkdir(join(results, m.run.id), { recursive: true });
      await cp(fixturePath(name), join(results, m.run.id, 'matrix.json'));
    }
    const rendered = await renderRunDirectory(join(results, current.run.id));
    expect(rendered.previous?.run.id).toBe(baseline.run.id);
    expect(await readFile(join(results, current.run.id, 'summary.md'), 'utf8')).toContain('### Regressions since 2026-11-24T07-30-00Z');
    expect(parseXml(await readFile(join(results, current.run.id, 'junit.xml'), 'utf8')).children).toHaveLength(5);
    expect(await readFile(join(results, current.run.id, 'index.html'), 'utf8')).toContain('<table class="grid">');
    expect(await readFile(join(results, 'index.html'), 'utf8')).toContain('SMB interop matrix: 2 runs');
  } finally {
    await rm(results, { recursive: true, force: true });
  }
});

test('a failed cell leads with its explanation in summary.md and index.html; spec warnings of passing cells get their own section', () => {
  const explained = structuredClone(current);
  const failed = explained.cells.find((c) => c.outcome === 'failed')!;
  failed.explanation = [
    'spec: encryption-capability (MS-SMB2 2.2.3, 3.2.4.2.2.2, 3.3.5.4): TREE_CONNECT request mid=3: encrypted on dialect 0x0302, but the NEGOTIATE request\'s Capabilities 0x00000007 lack SMB2_GLOBAL_CAP_ENCRYPTION',
    'server: reject session with dialect[0x0302] as encryption is required (smb2_sesssetup.c:147)',
  ];
  const passed = explained.cells.find((c) => c.outcome === 'passed')!;
  passed.specViolations = [{ rule: 'credit-charge', section: 'MS-SMB2 3.1.5.2, 3.2.4.1.5', detail: 'READ request mid=9: CreditCharge 1 for 1048576 bytes, needs at least 16', count: 3 }];
  const lines = renderMarkdown(explained).split('\n');
  const failureLine = lines.find((l) => l.startsWith('- **failed**')) ?? '';
  // The cause is cut like every line of the summary (200 characters); the HTML has it whole.
  expect(failureLine).toBe('- **failed** `smb-ts` × `smb302-ccm@native` × `files/round-trip-small` — STATUS\\_ACCESS\\_DENIED on TREE\\_CONNECT at step connect › tree connect to data — spec: encryption-capability (MS-SMB2 2.2.3, 3.2.4.2.2.2, 3.3.5.4): TREE\\_CONNECT request mid=3: encrypted on dialect 0x0302, but the NEGOTIATE request\'s Capabilities 0x00000007 lack SMB2\\_GLOBAL\\_CAP\\_EN…');
  const warnings = lines.indexOf('### Spec warnings');
  expect(warnings).toBeGreaterThan(0);
  expect(lines[warnings + 2]).toBe(`- \`${passed.client}\` × \`${passed.target}\` × \`${passed.scenario}\`: \`credit-charge\` (MS-SMB2 3.1.5.2, 3.2.4.1.5) READ request mid=9: CreditCharge 1 for 1048576 bytes, needs at least 16`);
  const html = renderHtml(explained);
  const detail = html.slice(html.indexOf('files/round-trip-small</h3>'));
  expect(detail.indexOf('<ul class="explanation"><li>spec: encryption-capability')).toBeGreaterThan(0);
  expect(detail.indexOf('<li>server: reject session with dialect[0x0302] as encryption is required (smb2_sesssetup.c:147)</li>')).toBeGreaterThan(0);
  expect(detail.indexOf('class="explanation"')).toBeLessThan(detail.indexOf('<pre class="error">'));
  expect(html).toContain('<ul class="spec-violations"><li>credit-charge (MS-SMB2 3.1.5.2, 3.2.4.1.5): READ request mid=9: CreditCharge 1 for 1048576 bytes, needs at least 16 (and 2 more)</li></ul>');
});
