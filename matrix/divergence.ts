/**
 * After a run: each red cell compared with a cell that passed. The reference is the same scenario
 * on the same target from another client that passed it, else the same client on another target
 * that passed it (then the target is what differs, and every difference counts). The first
 * divergence of the two wire summaries (harness/explain/divergence.ts) goes into the cell's
 * explanation and, with both conversations aligned, into its `divergence`. Pure: cells and the
 * runs' wire summaries in, cells out.
 */
import { ClientId } from '../harness/annotations.js';
import { firstDivergence } from '../harness/explain/divergence.js';
import type { Divergence } from '../harness/explain/divergence.js';
import { align, exchangesByConnection } from '../harness/explain/exchanges.js';
import type { Exchange } from '../harness/explain/exchanges.js';
import { parseWireSummary, WIRE_SUMMARY_ATTACHMENT } from '../harness/explain/wire-summary.js';
import type { SummaryMessage, WireSummary } from '../harness/explain/wire-summary.js';
import type { CellIdentity, TargetFactsSeen, TestRun } from './cells.js';
import type { CellDivergence, TranscriptRow } from './divergence-schema.js';
import { cellKey } from './schema.js';
import type { Cell, DeclaredSettings } from './schema.js';

/** Rows kept around the mark: the conversation up to it (at most this many) and a few after. */
const ROWS_BEFORE_MARK = 60;
const ROWS_AFTER_MARK = 12;

/** The wire summary among a run's attachments (an in-memory body), or undefined. */
export function wireSummaryOf(attachments: readonly { name: string; body?: Buffer }[]): WireSummary | undefined {
  const body = attachments.find((a) => a.name === WIRE_SUMMARY_ATTACHMENT)?.body;
  if (body === undefined) return undefined;
  const parsed = parseWireSummary(body);
  return 'summary' in parsed ? parsed.summary : undefined;
}

const isRed = (c: Cell): boolean => c.outcome === 'failed' || c.outcome === 'expected-failure';
const isGreen = (c: Cell): boolean => c.outcome === 'passed' || c.outcome === 'flaky';

/** smbclient (Samba's own client) first as a reference, then this project's, then the rest by name. */
function referenceClientOrder(a: string, b: string): number {
  const rank = (c: string) => (c === ClientId.smbclient ? 0 : c === ClientId.typescript ? 1 : 2);
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** How alike two targets' declared settings are: the same dialect matters most, then encryption and signing. */
function likeness(a: DeclaredSettings | null | undefined, b: DeclaredSettings | null | undefined): number {
  if (!a || !b) return 0;
  return (a.dialect === b.dialect ? 8 : 0) + (a.encryption === b.encryption ? 4 : 0) + (a.cipher === b.cipher ? 2 : 0)
    + (a.signingAlgorithm === b.signingAlgorithm ? 1 : 0) + (a.signing === b.signing ? 1 : 0);
}

interface Reference {
  cell: Cell;
  summary: WireSummary;
  differs: 'client' | 'target';
}

function findReference(red: Cell, cells: readonly Cell[], wires: ReadonlyMap<Cell, WireSummary>, declared: ReadonlyMap<string, DeclaredSettings | null>): Reference | undefined {
  const usable = (c: Cell) => isGreen(c) && c.scenario === red.scenario && (wires.get(c)?.messages.length ?? 0) > 0;
  const otherClient = cells.filter((c) => usable(c) && c.target === red.target && c.client !== red.client).sort((a, b) => referenceClientOrder(a.client, b.client))[0];
  if (otherClient) return { cell: otherClient, summary: wires.get(otherClient)!, differs: 'client' };
  const mine = declared.get(red.target);
  const otherTarget = cells
    .filter((c) => usable(c) && c.client === red.client && c.target !== red.target)
    .sort((a, b) => likeness(mine, declared.get(b.target)) - likeness(mine, declared.get(a.target)) || a.target.localeCompare(b.target))[0];
  return otherTarget ? { cell: otherTarget, summary: wires.get(otherTarget)!, differs: 'target' } : undefined;
}

function messageLine(m: SummaryMessage, connections: number): string {
  const where = connections > 1 ? `c${m.connection} ` : '';
  const arrow = m.direction === 'send' ? '→' : '←';
  const kind = m.direction === 'send' ? 'request' : `response ${m.statusName}`;
  const security = m.encrypted ? ' encrypted' : m.signature === 'unsigned' ? '' : ` signed (${m.signature === 'valid' ? 'verifies' : m.signature === 'invalid' ? 'does not verify' : 'not checked'})`;
  return `#${m.index} ${where}${arrow} ${m.command}${m.ipc ? ' IPC$' : ''} ${kind} mid=${m.messageId}${security}`;
}

function problemLine(e: Exchange, connections: number): string {
  const where = connections > 1 ? `c${e.connection} ` : '';
  return `${where}${e.problem?.direction === 'receive' ? '←' : '→'} unreadable frame: ${e.problem?.text ?? 'unknown'}`;
}

/** Both conversations aligned, a row per message (requests, then responses, of each aligned pair of exchanges). */
function alignedRows(cell: WireSummary, reference: WireSummary, d: Divergence): { rows: TranscriptRow[]; mark: number } {
  const ours = exchangesByConnection(cell);
  const theirs = exchangesByConnection(reference);
  const ourConnections = ours.size;
  const theirConnections = theirs.size;
  const rows: TranscriptRow[] = [];
  let mark = -1;
  const isMarked = (m: SummaryMessage | undefined, target: Divergence['message']) => m !== undefined && target !== undefined && m.index === target.index && m.connection === target.connection && (m.direction === 'send') === (target.direction === 'request');
  for (let connection = 1; connection <= Math.max(ourConnections, theirConnections); connection++) {
    for (const step of align(ours.get(connection) ?? [], theirs.get(connection) ?? [])) {
      for (const part of ['request', 'response'] as const) {
        const a = step.cell?.[part];
        const b = step.ref?.[part];
        const aProblem = part === 'request' && step.cell?.problem !== undefined ? problemLine(step.cell, ourConnections) : undefined;
        const bProblem = part === 'request' && step.ref?.problem !== undefined ? problemLine(step.ref, theirConnections) : undefined;
        const left = a ? messageLine(a, ourConnections) : aProblem ?? null;
        const right = b ? messageLine(b, theirConnections) : bProblem ?? null;
        if (left === null && right === null) continue;
        const marked = isMarked(a, d.message) || isMarked(b, d.referenceMessage)
          || (aProblem !== undefined && d.message?.command === 'unreadable frame' && d.message.index === step.cell?.index);
        if (marked && mark < 0) mark = rows.length;
        rows.push({ cell: left, reference: right, mark: marked && mark === rows.length });
      }
    }
  }
  return { rows, mark };
}

function divergenceEntry(red: Cell, wire: WireSummary, ref: Reference, d: Divergence): CellDivergence {
  const { rows, mark } = alignedRows(wire, ref.summary, d);
  const center = mark < 0 ? rows.length : mark;
  const from = Math.max(0, center - ROWS_BEFORE_MARK);
  const to = Math.min(rows.length, center + ROWS_AFTER_MARK + 1);
  return {
    reference: { client: ref.cell.client, target: ref.cell.target, differs: ref.differs },
    kind: d.kind,
    text: d.text,
    ...(d.field === undefined ? {} : { field: d.field }),
    ...(d.value === undefined ? {} : { value: d.value }),
    ...(d.reference === undefined ? {} : { referenceValue: d.reference }),
    ...(d.section === undefined ? {} : { section: d.section }),
    rows: rows.slice(from, to),
    rowsBefore: from,
    rowsAfter: rows.length - to,
  };
}

/** Where the divergence line goes: after what the cell's own wire shows (violated rules, signatures), before the server's account. */
function withLine(explanation: readonly string[] | undefined, line: string): string[] {
  const lines = [...(explanation ?? [])];
  const at = lines.findIndex((l) => l.startsWith('server') || l.startsWith('wire: '));
  lines.splice(at < 0 ? lines.length : at, 0, line);
  return lines;
}

function referenceName(ref: Reference): string {
  return ref.differs === 'client'
    ? `${ref.cell.client}, which passed on this target`
    : `${ref.cell.client} on ${ref.cell.target} (no other client passed here; the same client on another target, so the target is what differs)`;
}

/**
 * Each red cell (failed or expected-failure) with the first divergence from its reference in its
 * explanation and `divergence`; a red cell without a reference says so. Other cells unchanged.
 */
export function explainDivergences(cells: readonly Cell[], wires: ReadonlyMap<Cell, WireSummary>, declared: ReadonlyMap<string, DeclaredSettings | null>): Cell[] {
  return cells.map((cell) => {
    if (!isRed(cell)) return cell;
    const summary = wires.get(cell);
    if (summary === undefined || summary.messages.length + summary.problems.length === 0) return cell;
    const ref = findReference(cell, cells, wires, declared);
    if (ref === undefined) {
      // Not a cause: it goes last, after what the cell's own traces say.
      const line = `divergence: no reference: no other client passed ${cell.scenario} on ${cell.target}, and ${cell.client} passed it on no other target; the spec checks are all there is to compare with`;
      return { ...cell, explanation: [...(cell.explanation ?? []), line] };
    }
    const d = firstDivergence(summary, ref.summary, { sameClient: ref.differs === 'target', closedByServer: new Set(summary.closedByServer) });
    const line = `divergence from ${referenceName(ref)}: ${d.text}`;
    const explanation = d.kind === 'none' ? [...(cell.explanation ?? []), line] : withLine(cell.explanation, line);
    return { ...cell, explanation, divergence: divergenceEntry(cell, summary, ref, d) };
  });
}

/**
 * The matrix build's hook: the wire summaries of the cells' runs (a failing run's for a red cell,
 * a passing run's for the others) and the targets' declared settings, then explainDivergences.
 */
export function withDivergences(cells: readonly Cell[], groups: Iterable<{ identity: CellIdentity; runs: readonly TestRun[] }>, facts: ReadonlyMap<string, TargetFactsSeen>): Cell[] {
  const byKey = new Map(cells.map((c) => [cellKey(c), c]));
  const wires = new Map<Cell, WireSummary>();
  for (const { identity, runs } of groups) {
    const cell = byKey.get(cellKey(identity));
    if (cell === undefined) continue;
    const wanted = isRed(cell) ? (s: string) => s !== 'passed' && s !== 'skipped' : (s: string) => s === 'passed';
    const run = runs.filter((r) => wanted(r.result.status)).at(-1);
    const summary = run === undefined ? undefined : wireSummaryOf(run.result.attachments);
    if (summary !== undefined) wires.set(cell, summary);
  }
  const declared = new Map([...facts].map(([target, seen]) => [target, seen.declared]));
  return explainDivergences(cells, wires, declared);
}
