/**
 * index.html of one run: a single offline page (inline CSS and JS, nothing fetched). Every value
 * from matrix.json goes through escapeHtml; links are built from validated run-relative paths.
 */
import { ATTACHMENT_KINDS, OUTCOMES, type AttachmentKind, type Cell, type Matrix } from '../schema.js';
import { escapeHtml as h, hrefForPath, isWebLink, stripControlCharacters } from './escape.js';
import {
  OUTCOME_COLOR,
  OUTCOME_LABEL,
  countOutcomes,
  describeClientTarget,
  describeCounts,
  errorHeadline,
  formatDuration,
  runDurationMs,
  summarizeClientsByTarget,
  summarizeTargets,
  targetLabel,
  worstOutcome,
} from './summary.js';
import { DIVERGENCE_STYLE, renderDivergence } from './divergence.js';
import { describeSplit, formatSeconds, timeReport } from './timing.js';

const ATTACHMENT_LABEL: Readonly<Record<AttachmentKind, string>> = {
  pcap: 'capture (pcapng)',
  keys: 'Wireshark key file',
  transcriptJson: 'transcript (JSON)',
  transcriptText: 'transcript (text)',
  serverLog: 'server log',
  clientStderr: "client's stderr",
};

function outcomeStyles(): string {
  return OUTCOMES.map((o) => `.o-${o}{background:${OUTCOME_COLOR[o]};color:${o === 'flaky' ? '#222' : '#fff'}}`).join('\n');
}

const STYLE = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem;color:#222;background:#fafafa}
h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f0f0}.meta{color:#555}.meta code{background:#eee;padding:0 .2rem}
.grid td.cell{padding:0;text-align:center;min-width:7rem}
.grid td.cell button{all:unset;cursor:pointer;display:block;padding:.35rem .5rem;width:100%;box-sizing:border-box}
.grid td.cell button:focus-visible{outline:3px solid #000}
.grid td.o-none{background:#fff;color:#aaa}
.grid tr.hidden,.grid .hidden{display:none}.grid td.dim{opacity:.15}
.filters{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}.filters label{display:flex;gap:.3rem;align-items:center}
.detail{border:1px solid #ccc;background:#fff;padding:.8rem 1rem;margin:1rem 0}
.detail pre{white-space:pre-wrap;word-break:break-word;background:#f4f4f4;padding:.5rem;margin:.3rem 0}
.badge{display:inline-block;padding:0 .4rem;border-radius:3px}
.legend span{margin-right:.4rem}
${outcomeStyles()}
${DIVERGENCE_STYLE}
`;

/** Filters hide rows and columns; a click on a cell shows its detail. No data lives in the script. */
const SCRIPT = `
(function(){
  var area=document.getElementById('filter-area'),outcome=document.getElementById('filter-outcome'),target=document.getElementById('filter-target');
  function apply(){
    var a=area.value,o=outcome.value,t=target.value;
    document.querySelectorAll('.grid [data-target]').forEach(function(el){el.classList.toggle('hidden',t!==''&&el.getAttribute('data-target')!==t);});
    document.querySelectorAll('.grid tbody tr').forEach(function(row){
      var any=false;
      row.querySelectorAll('td.cell').forEach(function(td){
        var match=(o===''||td.getAttribute('data-outcome')===o)&&(t===''||td.getAttribute('data-target')===t);
        td.classList.toggle('dim',!match);if(match&&td.getAttribute('data-outcome'))any=true;
      });
      row.classList.toggle('hidden',(a!==''&&row.getAttribute('data-area')!==a)||(o!==''&&!any));
    });
  }
  [area,outcome,target].forEach(function(s){s.addEventListener('change',apply);});
  document.querySelectorAll('.grid td.cell button').forEach(function(b){
    b.addEventListener('click',function(){
      document.querySelectorAll('.detail').forEach(function(d){d.hidden=true;});
      var d=document.getElementById(b.getAttribute('data-detail'));
      if(d){d.hidden=false;d.scrollIntoView({block:'nearest'});}
    });
  });
})();
`;

function option(value: string, label: string): string {
  return `<option value="${h(value)}">${h(label)}</option>`;
}

function runHeader(m: Matrix): string {
  const counts = countOutcomes(m.cells);
  const shard = m.run.shard ? ` · shard ${m.run.shard.current}/${m.run.shard.total}` : '';
  const expired = m.run.expiredExpectations.length
    ? `<p class="meta">Expired expectations (no longer applied): ${m.run.expiredExpectations
        .map((e) => `<code>${h(`${e.client} ${e.target} ${e.scenario}`)}</code> (${h(e.reason)}, expired ${h(e.expires)})`)
        .join('; ')}</p>`
    : '';
  return `<h1>SMB interop matrix — run ${h(m.run.id)}</h1>
<p class="meta">${h(m.run.start)} · ${h(formatDuration(runDurationMs(m)))} · host ${h(m.run.host)} · Node ${h(m.run.nodeVersion)} · smb-interop ${h(m.run.clientVersion)}${h(shard)}</p>
<p class="meta">Command: <code>${h(m.run.commandLine.join(' '))}</code></p>
<p><strong>${m.cells.length} cells:</strong> ${h(describeCounts(counts))}</p>${expired}
<p class="legend">${OUTCOMES.map((o) => `<span class="badge o-${o}">${h(OUTCOME_LABEL[o])}</span>`).join('')}</p>`;
}

/** The view the page leads with: per client, per target, how many cells passed, failed, were unsupported. */
function clientTargetTable(m: Matrix): string {
  const head = m.targets.map((t) => `<th>${h(t.name)}</th>`).join('');
  const rows = summarizeClientsByTarget(m).map((row, i) => {
    const tds = row.map((s) => {
      const worst = worstOutcome(s);
      return `<td class="ct${worst ? ` o-${worst}` : ''}" data-client="${h(s.client)}" data-target="${h(s.target)}" data-passed="${s.counts.passed}" data-failed="${s.failed}" data-unsupported="${s.counts.unsupported}">${h(describeClientTarget(s))}</td>`;
    });
    return `<tr><th>${h(m.clients[i] ?? '')}</th>${tds.join('')}</tr>`;
  });
  return `<h2>Clients × targets</h2><table class="clients-targets"><thead><tr><th>client</th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function targetTable(m: Matrix): string {
  const rows = summarizeTargets(m).map(
    (s) =>
      `<tr data-target="${h(s.target.name)}"><th>${h(targetLabel(s.target))}</th><td>${h(s.dialect)}</td><td>${h(s.cipher)}</td><td>${h(s.signing)}</td>` +
      `<td class="passed-total">${s.counts.passed}/${s.total}</td><td>${h(s.target.serverVersion ?? 'unknown')}</td></tr>`,
  );
  return `<h2>Targets</h2><table class="targets"><thead><tr><th>target</th><th>dialect</th><th>cipher</th><th>signing</th><th>passed/total</th><th>server version</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function timeSection(m: Matrix): string {
  const report = timeReport(m);
  const seconds = (ms: number | null) => (ms === null ? '–' : formatSeconds(ms));
  const targets = report.targets.map((t) => {
    const timed = t.timedCells > 0;
    return `<tr data-target="${h(t.target)}"><th>${h(t.target)}</th><td>${t.cells}</td><td>${h(formatSeconds(t.cellMs))}</td>` +
      `<td>${h(timed ? formatSeconds(t.scenarioMs) : '–')}</td><td>${h(timed ? formatSeconds(t.setupMs + t.teardownMs) : '–')}</td><td>${h(timed ? formatSeconds(t.targetStartMs) : '–')}</td></tr>`;
  });
  const slowest = report.slowest.map(
    (s) => `<tr><td>${h(s.cell.client)} × ${h(s.cell.target)} × ${h(s.cell.scenario)}</td><td>${h(formatSeconds(s.totalMs))}</td><td>${h(seconds(s.scenarioMs))}</td><td>${h(seconds(s.harnessMs))}</td></tr>`,
  );
  return `<section class="time"><h2>Where the time went</h2>
<p class="time-total">${h(formatSeconds(report.wallMs))} wall; the cells' time: ${h(describeSplit(report.all))}.</p>
<table class="time-targets"><thead><tr><th>target</th><th>cells</th><th>cell time</th><th>scenarios</th><th>harness</th><th>target start</th></tr></thead><tbody>${targets.join('')}</tbody></table>
<p>The ${report.slowest.length} slowest cells:</p>
<table class="time-slowest"><thead><tr><th>cell</th><th>total</th><th>scenario</th><th>harness</th></tr></thead><tbody>${slowest.join('')}</tbody></table></section>`;
}

function filters(m: Matrix): string {
  const areas = [...new Set(m.scenarios.map((s) => s.area))].sort();
  return `<div class="filters">
<label>area <select id="filter-area">${option('', 'all')}${areas.map((a) => option(a, a)).join('')}</select></label>
<label>outcome <select id="filter-outcome">${option('', 'all')}${OUTCOMES.map((o) => option(o, OUTCOME_LABEL[o])).join('')}</select></label>
<label>target <select id="filter-target">${option('', 'all')}${m.targets.map((t) => option(t.name, t.name)).join('')}</select></label>
</div>`;
}

function cellId(index: number): string {
  return `cell-${index}`;
}

function gridFor(m: Matrix, client: string, index: Map<Cell, number>): string {
  const byKey = new Map(m.cells.filter((c) => c.client === client).map((c) => [`${c.target}|${c.scenario}`, c]));
  const head = m.targets.map((t) => `<th data-target="${h(t.name)}">${h(t.name)}</th>`).join('');
  const rows = m.scenarios.map((s) => {
    const tds = m.targets.map((t) => {
      const cell = byKey.get(`${t.name}|${s.id}`);
      if (!cell) return `<td class="cell o-none" data-target="${h(t.name)}">–</td>`;
      const title = [OUTCOME_LABEL[cell.outcome], errorHeadline(cell) ?? cell.reason ?? ''].filter(Boolean).join(': ');
      const label = cell.outcome === 'flaky' && cell.passRate !== null ? `flaky ${Math.round(cell.passRate * 100)}%` : OUTCOME_LABEL[cell.outcome];
      return `<td class="cell o-${cell.outcome}" data-outcome="${cell.outcome}" data-target="${h(t.name)}" title="${h(title)}"><button type="button" data-detail="${cellId(index.get(cell) ?? -1)}">${h(label)}</button></td>`;
    });
    return `<tr data-area="${h(s.area)}" data-scenario="${h(s.id)}"><th title="${h(s.title)}">${h(s.id)}</th>${tds.join('')}</tr>`;
  });
  return `<section class="client" data-client="${h(client)}"><h2>Client ${h(client)}</h2>
<table class="grid"><thead><tr><th>scenario</th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function negotiatedText(cell: Cell): string {
  const n = cell.negotiated;
  if (!n) return 'not recorded';
  return `dialect ${n.dialect}, cipher ${n.cipher ?? 'none'}, signing ${n.signingAlgorithm ?? 'none'}, preauth integrity ${n.preauthIntegrity ? 'yes' : 'no'}, session ${n.encryption ? 'encrypted' : n.signing ? 'signed' : 'plain'}`;
}

function detail(cell: Cell, id: string): string {
  const parts: string[] = [
    `<h3>${h(cell.client)} × ${h(cell.target)} × ${h(cell.scenario)}</h3>`,
    `<p>Outcome: <span class="badge o-${cell.outcome} outcome">${h(OUTCOME_LABEL[cell.outcome])}</span>` +
      (cell.attempts > 1 || cell.outcome === 'flaky' ? ` · passed ${cell.passes} of ${cell.attempts} runs` : '') +
      ` · ${h(formatDuration(cell.durationMs))}</p>`,
  ];
  if (cell.reason) parts.push(`<p>Reason: <span class="reason">${h(cell.reason)}</span></p>`);
  if (cell.expectation) {
    const link = cell.expectation.link;
    const linkHtml = link ? (isWebLink(link) ? ` <a href="${h(link)}">${h(link)}</a>` : ` (${h(link)})`) : '';
    parts.push(`<p>Expectation: ${h(cell.expectation.reason)}${linkHtml}</p>`);
  }
  // The explanation leads: what the harness found in the cell's own wire and server log.
  if (cell.explanation?.length) parts.push(`<p>Why:</p><ul class="explanation">${cell.explanation.map((line) => `<li>${h(line)}</li>`).join('')}</ul>`);
  if (cell.divergence) parts.push(renderDivergence(cell));
  if (cell.specViolations?.length && !cell.explanation?.length) {
    parts.push(`<p>Spec warnings:</p><ul class="spec-violations">${cell.specViolations.map((v) => `<li>${h(`${v.rule} (${v.section}): ${v.detail}${v.count > 1 ? ` (and ${v.count - 1} more)` : ''}`)}</li>`).join('')}</ul>`);
  }
  if (cell.proof !== undefined && (cell.proof.checked.length > 0 || cell.proof.unchecked.length > 0)) {
    const list = (lines: string[], cls: string): string => `<ul class="${cls}">${lines.map((line) => `<li>${h(line)}</li>`).join('')}</ul>`;
    parts.push(`<details class="proof"><summary>Proof of configuration: ${cell.proof.checked.length} checked, ${cell.proof.unchecked.length} not checked</summary>`
      + (cell.proof.checked.length > 0 ? `<p>Checked on the wire and the server:</p>${list(cell.proof.checked, 'proof-checked')}` : '')
      + (cell.proof.unchecked.length > 0 ? `<p>Not checked, and why:</p>${list(cell.proof.unchecked, 'proof-unchecked')}` : '')
      + '</details>');
  }
  if (cell.error) {
    const status = cell.error.statusName
      ? `<p>Status: <code class="status-name">${h(cell.error.statusName)}</code>${cell.error.command ? ` on <code class="command">${h(cell.error.command)}</code>` : ''}</p>`
      : '';
    parts.push(`${status}<p>Error:</p><pre class="error">${h(stripControlCharacters(cell.error.message))}</pre>`);
  }
  if (cell.failingStep) parts.push(`<p>Failing step: <code class="step">${h(cell.failingStep)}</code></p>`);
  parts.push(`<p>Negotiated: <span class="negotiated">${h(negotiatedText(cell))}</span></p>`);
  const links = ATTACHMENT_KINDS.flatMap((kind) => {
    const path = cell.attachments[kind];
    return path ? [`<li><a class="attachment-${kind}" href="${h(hrefForPath(path))}">${h(ATTACHMENT_LABEL[kind])}</a></li>`] : [];
  });
  parts.push(links.length ? `<ul class="attachments">${links.join('')}</ul>` : '<p>No traces attached.</p>');
  if (cell.wireshark) parts.push(`<p>Open the capture decrypted:</p><pre class="wireshark">${h(cell.wireshark)}</pre>`);
  if (cell.repro) parts.push(`<p>Rerun this cell with full traces:</p><pre class="repro">${h(cell.repro)}</pre>`);
  return `<section class="detail" id="${id}" hidden>${parts.join('\n')}</section>`;
}

export function renderHtml(m: Matrix): string {
  const index = new Map(m.cells.map((c, i) => [c, i]));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'self' data:">
<title>SMB interop matrix ${h(m.run.id)}</title><style>${STYLE}</style></head>
<body>
${runHeader(m)}
${clientTargetTable(m)}
${targetTable(m)}
${filters(m)}
${m.clients.map((c) => gridFor(m, c, index)).join('\n')}
<div id="details">${m.cells.map((c, i) => detail(c, cellId(i))).join('\n')}</div>
${m.cells.length > 0 ? timeSection(m) : ''}
<script>${SCRIPT}</script>
</body></html>
`;
}
