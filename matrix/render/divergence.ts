/**
 * A red cell's divergence in index.html: the first difference from its reference, and the two
 * conversations aligned side by side with the divergent row marked and the field's two values
 * under it. Every value goes through escapeHtml.
 */
import type { Cell } from '../schema.js';
import { escapeHtml as h } from './escape.js';

export const DIVERGENCE_STYLE = `
.side-by-side{width:100%;table-layout:fixed}.side-by-side td{font:12px/1.35 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-word}
.side-by-side td.absent{color:#999}.side-by-side tr.gap td{color:#777;font-style:italic;text-align:center}
.side-by-side tr.diverges td{background:#fde2e2;border-top:2px solid #c62828;border-bottom:2px solid #c62828}
.side-by-side .field{display:block;font-weight:bold;color:#b71c1c;margin-top:.2rem}
`;

function side(text: string | null, field: string | undefined): string {
  if (text === null) return '<td class="absent">—</td>';
  return `<td>${h(text)}${field === undefined ? '' : `<span class="field">${h(field)}</span>`}</td>`;
}

function gap(count: number, where: string): string {
  return count > 0 ? `<tr class="gap"><td colspan="2">${count} ${count === 1 ? 'row' : 'rows'} ${where}</td></tr>` : '';
}

/** The cell's divergence section, or '' when it has none. */
export function renderDivergence(cell: Cell): string {
  const d = cell.divergence;
  if (d === undefined) return '';
  const ref = d.reference;
  const who = ref.differs === 'client' ? `${ref.client}, another client on this target` : `${ref.client} on ${ref.target}, the same client on another target`;
  const named = (value: string | undefined) => (d.field === undefined || value === undefined ? undefined : `${d.field}: ${value}`);
  const rows = d.rows.map((r) => `<tr${r.mark ? ' class="diverges"' : ''}>${side(r.cell, r.mark ? named(d.value) : undefined)}${side(r.reference, r.mark ? named(d.referenceValue) : undefined)}</tr>`);
  const section = d.section === undefined ? '' : ` <span class="divergence-section">(${h(d.section)})</span>`;
  return `<section class="divergence"><p>First divergence from the reference (${h(who)}): <code class="divergence-text">${h(d.text)}</code>${section}</p>
<table class="side-by-side"><thead><tr><th>this cell (${h(cell.client)} on ${h(cell.target)})</th><th>reference (${h(ref.client)} on ${h(ref.target)})</th></tr></thead>
<tbody>${gap(d.rowsBefore, 'before')}${rows.join('')}${gap(d.rowsAfter, 'after')}</tbody></table></section>`;
}
