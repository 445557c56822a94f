/**
 * The first divergence of a failed cell's conversation from a reference cell's: the same scenario
 * on the same target from a client that passed it, or the same client on another target. Both
 * captures decoded and decrypted (harness/capture/wire-decode.ts), their messages aligned, and the
 * first difference that matters named with both values and the MS-SMB2 section that defines the
 * field. Pure: decoded wires in, one finding out.
 *
 * Ranking. With `sameClient` every difference counts and the first in message order is reported.
 * With another client as the reference, a difference is reported only when it can matter whatever
 * the client (message-fields.ts ranks each field): statuses, SessionFlags, the server's choices,
 * encryption, signatures, the inner SessionId, a cipher/signing/dialect/hash offer that lacks what
 * the server chose for the reference, the ENCRYPTION capability on 3.0.x, a share name, a frame
 * the harness could not read, a connection that ended early. Differences in capability bits,
 * SecurityMode, contexts, CREATE options or extra messages are what two working implementations
 * legitimately do; they are reported only when nothing else differs, and then as `none`. Either
 * way the first in message order wins, so a request field that differs before a response status
 * does is named as the likely cause, not the status it led to.
 */
import type { DecodedWire, WireMessage } from '../capture/wire-decode.js';
import { mattersAcrossClients, messageFields, negotiatedBy } from './message-fields.js';
import type { MessageField, Negotiated } from './message-fields.js';

export interface DivergenceOptions {
  /** The reference is the same client (on another target): every difference counts, first in message order. */
  sameClient: boolean;
  /** The failed cell's connections (1-based) the server ended, e.g. from its log (server-reason.ts), so that an early end can say who ended it. */
  closedByServer?: ReadonlySet<number>;
}

export interface DivergentMessage {
  /** 1-based, as in the decoded wire; for a frame the harness could not read, the message before it (0 when none). */
  index: number;
  connection: number;
  /** `NEGOTIATE`, or `unreadable frame` */
  command: string;
  direction: 'request' | 'response';
}

export interface Divergence {
  kind: 'field' | 'structure' | 'none';
  /** The failed cell's message where it diverges; for a connection that ended early, the last one it carried. */
  message?: DivergentMessage;
  /** The reference's message it was compared with, or that this cell lacks. */
  referenceMessage?: DivergentMessage;
  field?: string;
  value?: string;
  reference?: string;
  section?: string;
  /**
   * One line, e.g. `NEGOTIATE request Capabilities: DFS|LEASING|LARGE_MTU; reference:
   * DFS|LEASING|LARGE_MTU|ENCRYPTION (MS-SMB2 2.2.3)`. For `none` it says so and, when the
   * clients differ only where implementations may, names the first such difference (whose
   * details then fill the optional fields).
   */
  text: string;
}

interface Item {
  connection: number;
  direction: 'send' | 'receive';
  /** What alignment matches on: direction and command, or an unreadable frame. */
  key: string;
  message?: WireMessage;
  problem?: string;
  /** Position among all of the cell's items, for "first in message order" across connections. */
  order: number;
  /** The message's index, or for a problem the index of the message before it. */
  index: number;
}

interface Finding {
  decisive: boolean;
  order: number;
  divergence: Divergence;
}

const STATUS_PENDING = 0x00000103;
/** How far ahead on either side the walk looks for the next matching message. */
const LOOKAHEAD = 16;

function itemsByConnection(wire: DecodedWire): Map<number, Item[]> {
  // An interim STATUS_PENDING response (MS-SMB2 3.3.4.2) depends on timing, not on the client.
  const messages = wire.messages.filter((m) => !(m.direction === 'receive' && m.header.status === STATUS_PENDING));
  const entries = [
    ...messages.map((m) => ({ frame: m.frame, late: 0, message: m, problem: undefined, connection: m.connection, direction: m.direction })),
    ...wire.problems.map((p) => ({ frame: p.frame, late: 1, message: undefined, problem: p.problem, connection: p.connection, direction: p.direction })),
  ].sort((a, b) => a.frame - b.frame || a.late - b.late);
  const out = new Map<number, Item[]>();
  let index = 0;
  entries.forEach((e, order) => {
    if (e.message !== undefined) index = e.message.index;
    const key = e.message === undefined ? `${e.direction} unreadable` : `${e.direction} ${e.message.header.command}`;
    const list = out.get(e.connection) ?? [];
    list.push({ connection: e.connection, direction: e.direction, key, message: e.message, problem: e.problem, order, index });
    out.set(e.connection, list);
  });
  return out;
}

type Step = { cell?: Item; ref?: Item };

/**
 * Aligns two connections by (direction, command). A greedy walk rather than a longest common
 * subsequence: two clients' conversations run in lockstep with local insertions (an extra IOCTL,
 * another SESSION_SETUP leg, a QUERY_INFO), and taking the nearest point where they agree again
 * never pairs a message with a far-away one of the same command, as an LCS can in a long run of
 * READs. Linear in the length of the conversation. Where nothing agrees within LOOKAHEAD, the two
 * messages are paired as a substitution.
 */
function align(cell: readonly Item[], ref: readonly Item[]): Step[] {
  const steps: Step[] = [];
  let i = 0;
  let j = 0;
  while (i < cell.length || j < ref.length) {
    if (i < cell.length && j < ref.length && cell[i]!.key === ref[j]!.key) {
      steps.push({ cell: cell[i++], ref: ref[j++] });
      continue;
    }
    const skip = resync(cell, i, ref, j);
    if (skip === undefined) {
      steps.push({ ...(i < cell.length ? { cell: cell[i++] } : {}), ...(j < ref.length ? { ref: ref[j++] } : {}) });
      continue;
    }
    for (let a = 0; a < skip.cell; a++) steps.push({ cell: cell[i++] });
    for (let b = 0; b < skip.ref; b++) steps.push({ ref: ref[j++] });
  }
  return steps;
}

/** The fewest items to skip on both sides (fewer in the cell first) before the keys agree again. */
function resync(cell: readonly Item[], i: number, ref: readonly Item[], j: number): { cell: number; ref: number } | undefined {
  for (let total = 1; total <= 2 * LOOKAHEAD; total++) {
    for (let a = Math.max(0, total - LOOKAHEAD); a <= Math.min(total, LOOKAHEAD); a++) {
      const c = cell[i + a];
      const r = ref[j + total - a];
      if (c !== undefined && r !== undefined && c.key === r.key) return { cell: a, ref: total - a };
    }
  }
  return undefined;
}

function describe(item: Item): DivergentMessage {
  return {
    index: item.index,
    connection: item.connection,
    command: item.message?.header.command ?? 'unreadable frame',
    direction: item.direction === 'send' ? 'request' : 'response',
  };
}

function label(item: Item): string {
  if (item.message === undefined) return `a frame the harness could not read (${item.problem ?? 'unknown'})`;
  return `${item.message.header.command} ${item.direction === 'send' ? 'request' : 'response'}`;
}

const verb = (item: Item): string => (item.direction === 'send' ? 'sent' : 'received');

function lastNegotiated(items: readonly Item[]): Negotiated {
  const responses = items.filter((i) => i.message?.header.command === 'NEGOTIATE' && i.direction === 'receive');
  return negotiatedBy(responses.at(-1)?.message);
}

interface ConnectionContext {
  sameClient: boolean;
  closedByServer: boolean;
  prefix: string;
  /** The order of the connection's first item in the cell. */
  firstOrder: number;
  cellNegotiated: Negotiated;
  referenceNegotiated: Negotiated;
}

function fieldFindings(cell: Item, ref: Item, ctx: ConnectionContext): Finding[] {
  const ours = messageFields(cell.message!);
  const theirs = messageFields(ref.message!);
  const names = [...new Set([...ours, ...theirs].map((f) => f.name))];
  const value = (f: MessageField | undefined) => f?.value ?? 'absent';
  const findings: Finding[] = [];
  for (const name of names) {
    const a = ours.find((f) => f.name === name);
    const b = theirs.find((f) => f.name === name);
    if ((a?.key ?? a?.value) === (b?.key ?? b?.value)) continue;
    const section = (a ?? b)!.section;
    findings.push({
      decisive: ctx.sameClient || mattersAcrossClients(a, b, ctx.cellNegotiated, ctx.referenceNegotiated),
      order: cell.order,
      divergence: {
        kind: 'field', message: describe(cell), referenceMessage: describe(ref), field: name, value: value(a), reference: value(b), section,
        text: `${ctx.prefix}${label(cell)} ${name}: ${value(a)}; reference: ${value(b)} (${section})`,
      },
    });
  }
  return findings;
}

function structure(text: string, ctx: ConnectionContext, cell: Item | undefined, ref: Item | undefined): Divergence {
  return { kind: 'structure', ...(cell ? { message: describe(cell) } : {}), ...(ref ? { referenceMessage: describe(ref) } : {}), text: ctx.prefix + text };
}

function stepFinding(step: Step, lastCell: Item | undefined, cellEnded: boolean, ctx: ConnectionContext): Finding[] {
  const { cell, ref } = step;
  if (cell !== undefined && ref !== undefined) {
    if (cell.key !== ref.key) {
      return [{ decisive: true, order: cell.order, divergence: structure(`this cell ${verb(cell)} ${label(cell)} where the reference ${verb(ref)} ${label(ref)}`, ctx, cell, ref) }];
    }
    return cell.message !== undefined && ref.message !== undefined ? fieldFindings(cell, ref, ctx) : [];
  }
  if (cell !== undefined) {
    const after = lastCell === undefined ? '' : ` after ${label(lastCell)}`;
    // An unreadable frame always matters: the reference passed without one.
    return [{ decisive: ctx.sameClient || cell.message === undefined, order: cell.order, divergence: structure(`this cell ${verb(cell)} ${label(cell)}${after}, which the reference did not`, ctx, cell, undefined) }];
  }
  if (lastCell === undefined) {
    return [{ decisive: ctx.sameClient, order: ctx.firstOrder - 0.5, divergence: structure(`the reference ${verb(ref!)} ${label(ref!)} first, which this cell did not`, ctx, undefined, ref) }];
  }
  if (cellEnded) {
    const end = ctx.closedByServer ? 'was closed by the server' : lastCell.direction === 'send' ? 'ended without a response to it' : 'ended';
    return [{ decisive: true, order: lastCell.order + 0.5, divergence: structure(`after ${label(lastCell)} the reference ${verb(ref!)} ${label(ref!)}; this cell's connection ${end}`, ctx, lastCell, ref) }];
  }
  return [{ decisive: ctx.sameClient, order: lastCell.order + 0.5, divergence: structure(`after ${label(lastCell)} the reference ${verb(ref!)} ${label(ref!)}, which this cell did not`, ctx, lastCell, ref) }];
}

/** The first decisive and the first incidental finding of one connection, in message order. */
function compareConnection(cell: readonly Item[], ref: readonly Item[], ctx: ConnectionContext): { decisive?: Finding; incidental?: Finding } {
  const steps = align(cell, ref);
  const lastCellStep = steps.findLastIndex((s) => s.cell !== undefined);
  let lastCell: Item | undefined;
  let incidental: Finding | undefined;
  for (const [k, step] of steps.entries()) {
    for (const finding of stepFinding(step, lastCell, k > lastCellStep, ctx)) {
      if (finding.decisive) return { decisive: finding, ...(incidental ? { incidental } : {}) };
      incidental ??= finding;
    }
    lastCell = step.cell ?? lastCell;
  }
  return incidental ? { incidental } : {};
}

const first = (findings: readonly Finding[]): Finding | undefined => findings.reduce<Finding | undefined>((best, f) => (best === undefined || f.order < best.order ? f : best), undefined);

/**
 * The first divergence of `cell` (a failed cell's decoded wire) from `reference` (a passing
 * cell's), connection by connection in order of appearance. See the file comment for the ranking.
 */
export function firstDivergence(cell: DecodedWire, reference: DecodedWire, options: DivergenceOptions): Divergence {
  const ours = itemsByConnection(cell);
  const theirs = itemsByConnection(reference);
  if (theirs.size === 0) return { kind: 'none', text: 'no divergence to report: the reference cell\'s capture holds no SMB2 message' };
  const total = [...ours.values()].reduce((n, items) => n + items.length, 0);
  const decisive: Finding[] = [];
  const incidental: Finding[] = [];
  for (let connection = 1; connection <= Math.max(ours.size, theirs.size); connection++) {
    const a = ours.get(connection) ?? [];
    const b = theirs.get(connection) ?? [];
    const prefix = connection > 1 ? `connection ${connection}: ` : '';
    if (a.length === 0) {
      const text = `${prefix}the reference opened connection ${connection} with ${label(b[0]!)}; this cell did not`;
      decisive.push({ decisive: true, order: total + connection, divergence: { kind: 'structure', referenceMessage: describe(b[0]!), text } });
      continue;
    }
    if (b.length === 0) {
      const text = `${prefix}this cell opened connection ${connection} with ${label(a[0]!)}; the reference did not`;
      (options.sameClient ? decisive : incidental).push({ decisive: options.sameClient, order: a[0]!.order, divergence: { kind: 'structure', message: describe(a[0]!), text } });
      continue;
    }
    const ctx: ConnectionContext = {
      sameClient: options.sameClient, closedByServer: options.closedByServer?.has(connection) ?? false, prefix, firstOrder: a[0]!.order,
      cellNegotiated: lastNegotiated(a), referenceNegotiated: lastNegotiated(b),
    };
    const found = compareConnection(a, b, ctx);
    if (found.decisive) decisive.push(found.decisive);
    if (found.incidental) incidental.push(found.incidental);
  }
  const cause = first(decisive);
  if (cause !== undefined) return cause.divergence;
  const aside = first(incidental);
  if (aside !== undefined) {
    const { kind: _kind, text, ...details } = aside.divergence;
    return { kind: 'none', ...details, text: `no difference that matters: the clients differ only where implementations may, first ${text}` };
  }
  const count = cell.messages.length;
  return { kind: 'none', text: `no difference that matters: ${count} messages on ${ours.size} connection(s) match the reference's, apart from ids, GUIDs, nonces, timestamps and names` };
}
