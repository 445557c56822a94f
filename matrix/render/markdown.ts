/** summary.md: a Markdown summary for $GITHUB_STEP_SUMMARY and pull-request comments. */
import type { Cell, Matrix } from '../schema.js';
import { compareMatrices, type CellChange } from '../compare.js';
import { escapeMarkdown as md, firstLine } from './escape.js';
import { OUTCOME_LABEL, countOutcomes, describeClientTarget, describeCounts, errorHeadline, formatDuration, runDurationMs, summarizeClientsByTarget, summarizeTargets, targetLabel } from './summary.js';
import { describeSplit, formatSeconds, timeReport } from './timing.js';

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function cellName(cell: Pick<Cell, 'client' | 'target' | 'scenario'>): string {
  return `${code(cell.client)} × ${code(cell.target)} × ${code(cell.scenario)}`;
}

/** What went wrong in one line: the status and command when known, the failing step, else the reason. */
export function cellProblem(cell: Cell): string {
  const headline = errorHeadline(cell);
  const parts: string[] = [];
  if (headline) parts.push(md(firstLine(headline)));
  if (cell.failingStep) parts.push(`at step ${md(cell.failingStep)}`);
  // The explanation's first line names the cause (a violated rule, else the server's reason).
  const cause = cell.explanation?.[0];
  if (cause !== undefined) parts.push(`— ${md(firstLine(cause))}`);
  if (cell.outcome === 'unexpected-pass' && cell.expectation) parts.push(`passed although listed as failing: ${md(firstLine(cell.expectation.reason))}`);
  else if (!headline && cell.reason) parts.push(md(firstLine(cell.reason)));
  return parts.join(' ');
}

/** Per client (rows), per target (columns): passed, failed, unsupported. */
function clientTargetTable(m: Matrix): string[] {
  const lines = [`| client | ${m.targets.map((t) => md(t.name)).join(' | ')} |`, `|---|${m.targets.map(() => '---').join('|')}|`];
  summarizeClientsByTarget(m).forEach((row, i) => lines.push(`| ${md(m.clients[i] ?? '')} | ${row.map(describeClientTarget).join(' | ')} |`));
  return lines;
}

function targetTable(m: Matrix): string[] {
  const lines = [
    '| target | dialect | cipher | signing | server | passed | failed | unexpected pass | infra error | flaky | expected failure | not applicable | unsupported | total |',
    '|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of summarizeTargets(m)) {
    const c = s.counts;
    lines.push(
      `| ${[targetLabel(s.target), s.dialect, s.cipher, s.signing, s.target.serverVersion ?? 'unknown'].map(md).join(' | ')} | ` +
        `${[c.passed, c.failed, c['unexpected-pass'], c['infra-error'], c.flaky, c['expected-failure'], c['not-applicable'], c.unsupported, s.total].join(' | ')} |`,
    );
  }
  return lines;
}

function timeSection(m: Matrix): string[] {
  const report = timeReport(m);
  const seconds = (ms: number | null) => (ms === null ? '–' : formatSeconds(ms));
  const lines = [
    '### Where the time went',
    '',
    `${formatSeconds(report.wallMs)} wall; the cells' time: ${describeSplit(report.all)}.`,
    '',
    '| target | cells | cell time | scenarios | harness | target start |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const t of report.targets) {
    const timed = t.timedCells > 0;
    lines.push(`| ${md(t.target)} | ${t.cells} | ${formatSeconds(t.cellMs)} | ${timed ? formatSeconds(t.scenarioMs) : '–'} | ${timed ? formatSeconds(t.setupMs + t.teardownMs) : '–'} | ${timed ? formatSeconds(t.targetStartMs) : '–'} |`);
  }
  lines.push('', `The ${report.slowest.length} slowest cells:`, '', '| cell | total | scenario | harness |', '|---|---:|---:|---:|');
  for (const s of report.slowest) lines.push(`| ${cellName(s.cell)} | ${formatSeconds(s.totalMs)} | ${seconds(s.scenarioMs)} | ${seconds(s.harnessMs)} |`);
  return lines;
}

function changeLine(change: CellChange): string {
  const before = change.before ? OUTCOME_LABEL[change.before.outcome] : 'absent';
  const problem = change.after ? cellProblem(change.after) : '';
  return `- ${cellName(change.key)}: ${before} → ${change.after ? OUTCOME_LABEL[change.after.outcome] : 'absent'}${problem ? ` — ${problem}` : ''}`;
}

export function renderMarkdown(m: Matrix, previous?: Matrix): string {
  const counts = countOutcomes(m.cells);
  const shard = m.run.shard ? `, shard ${m.run.shard.current}/${m.run.shard.total}` : '';
  const lines: string[] = [
    `## SMB interop matrix — run ${md(m.run.id)}`,
    '',
    `${m.cells.length} cells (${plural(m.clients.length, 'client')} × ${plural(m.targets.length, 'target')} × ${plural(m.scenarios.length, 'scenario')}) in ${formatDuration(runDurationMs(m))}${shard}: ${describeCounts(counts)}.`,
    '',
    ...clientTargetTable(m),
    '',
    ...targetTable(m),
  ];
  if (previous) {
    const diff = compareMatrices(previous, m);
    lines.push('', `### Regressions since ${md(previous.run.id)}`, '');
    lines.push(...(diff.regressions.length ? diff.regressions.map(changeLine) : ['None.']));
    if (diff.fixes.length) lines.push('', `### Fixed since ${md(previous.run.id)}`, '', ...diff.fixes.map(changeLine));
  }
  const failing = m.cells.filter((c) => c.outcome === 'failed' || c.outcome === 'unexpected-pass' || c.outcome === 'infra-error');
  lines.push('', '### Failures', '');
  lines.push(...(failing.length ? failing.map((c) => `- **${OUTCOME_LABEL[c.outcome]}** ${cellName(c)}${cellProblem(c) ? ` — ${cellProblem(c)}` : ''}`) : ['None.']));
  const flaky = m.cells.filter((c) => c.outcome === 'flaky');
  if (flaky.length) {
    lines.push('', '### Flaky', '', ...flaky.map((c) => `- ${cellName(c)}: passed ${c.passes} of ${c.attempts} runs${cellProblem(c) ? ` — ${cellProblem(c)}` : ''}`));
  }
  // Spec rules broken by cells that did not fail: the protocol is bent although the server let it pass.
  const warned = m.cells.filter((c) => c.specViolations?.length && !failing.includes(c));
  if (warned.length) {
    lines.push('', '### Spec warnings', '', ...warned.map((c) => `- ${cellName(c)}: ${(c.specViolations ?? []).map((v) => `${code(v.rule)} (${md(v.section)}) ${md(firstLine(v.detail))}`).join('; ')}`));
  }
  if (m.cells.length > 0) lines.push('', ...timeSection(m));
  if (m.run.expiredExpectations.length) {
    lines.push('', '### Expired expectations (no longer applied)', '');
    lines.push(...m.run.expiredExpectations.map((e) => `- ${code(e.client)} × ${code(e.target)} × ${code(e.scenario)} expired ${md(e.expires)}: ${md(e.reason)}`));
  }
  return `${lines.join('\n')}\n`;
}
