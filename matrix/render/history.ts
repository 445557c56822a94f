/**
 * results/index.html: every run found under the results directory, newest first, and each cell's
 * outcome across runs, marking where it changed since the run before.
 */
import { OUTCOMES, cellKey, type Cell, type Matrix } from '../schema.js';
import { compareMatrices } from '../compare.js';
import { escapeHtml as h, hrefForPath } from './escape.js';
import { OUTCOME_COLOR, OUTCOME_LABEL, countOutcomes, describeCounts, formatDuration, runDurationMs } from './summary.js';

/** How many runs the per-cell history shows. */
const HISTORY_DEPTH = 30;

const STYLE = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem;color:#222;background:#fafafa}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.25rem .45rem;text-align:left}
th{background:#f0f0f0}td.h{min-width:1.4rem;text-align:center;font-size:12px}td.changed{outline:3px solid #000;outline-offset:-3px}
td.o-none{background:#fff;color:#aaa}
${OUTCOMES.map((o) => `.o-${o}{background:${OUTCOME_COLOR[o]};color:${o === 'flaky' ? '#222' : '#fff'}}`).join('\n')}
`;

/** Short marks for the history grid. */
const MARK: Readonly<Record<Cell['outcome'], string>> = {
  passed: '✓',
  failed: '✗',
  'expected-failure': 'x',
  'unexpected-pass': '!',
  'not-applicable': '–',
  'infra-error': 'E',
  flaky: '~',
  unsupported: 'u',
};

/** Runs ordered oldest first by start time. */
export function orderRuns(runs: readonly Matrix[]): Matrix[] {
  return [...runs].sort((a, b) => Date.parse(a.run.start) - Date.parse(b.run.start) || a.run.id.localeCompare(b.run.id));
}

export function renderHistory(runs: readonly Matrix[]): string {
  const ordered = orderRuns(runs);
  const newestFirst = [...ordered].reverse();
  const runRows = newestFirst.map((m, i) => {
    const older = newestFirst[i + 1];
    const diff = older ? compareMatrices(older, m) : null;
    const changes = diff
      ? [`${diff.regressions.length} regressions`, `${diff.fixes.length} fixes`, `${diff.added.length} new`, `${diff.changed.length} other changes`].join(', ')
      : 'first run';
    const shard = m.run.shard ? ` (shard ${m.run.shard.current}/${m.run.shard.total})` : '';
    return `<tr class="run"><td><a href="${h(hrefForPath(`${m.run.id}/index.html`))}">${h(m.run.id)}</a>${h(shard)}</td><td>${h(m.run.start)}</td><td>${h(formatDuration(runDurationMs(m)))}</td><td>${h(describeCounts(countOutcomes(m.cells)))}</td><td class="changes">${h(changes)}</td></tr>`;
  });

  const shown = newestFirst.slice(0, HISTORY_DEPTH);
  const lookup = shown.map((m) => new Map(m.cells.map((c) => [cellKey(c), c])));
  const keys = [...new Set(shown.flatMap((m) => m.cells.map(cellKey)))].sort();
  const historyRows = keys.map((key) => {
    const [client, target, scenario] = key.split('|');
    const tds = shown.map((_, i) => {
      const cell = lookup[i]?.get(key);
      const older = lookup[i + 1]?.get(key);
      if (!cell) return '<td class="h o-none">·</td>';
      const changed = i + 1 < shown.length && older?.outcome !== cell.outcome;
      const title = `${shown[i]?.run.id}: ${OUTCOME_LABEL[cell.outcome]}${changed ? ` (was ${older ? OUTCOME_LABEL[older.outcome] : 'absent'})` : ''}`;
      return `<td class="h o-${cell.outcome}${changed ? ' changed' : ''}" data-outcome="${cell.outcome}" title="${h(title)}">${MARK[cell.outcome]}</td>`;
    });
    return `<tr data-cell="${h(key)}"><th>${h(client ?? '')}</th><th>${h(target ?? '')}</th><th>${h(scenario ?? '')}</th>${tds.join('')}</tr>`;
  });

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>SMB interop matrix: runs</title><style>${STYLE}</style></head>
<body>
<h1>SMB interop matrix: ${ordered.length} runs</h1>
<table class="runs"><thead><tr><th>run</th><th>start</th><th>duration</th><th>cells</th><th>since the run before</th></tr></thead><tbody>${runRows.join('')}</tbody></table>
<h2>Cell history (newest run first; outlined: changed since the run before)</h2>
<table class="history"><thead><tr><th>client</th><th>target</th><th>scenario</th>${shown.map((m) => `<th title="${h(m.run.start)}">${h(m.run.id)}</th>`).join('')}</tr></thead>
<tbody>${historyRows.join('')}</tbody></table>
</body></html>
`;
}
