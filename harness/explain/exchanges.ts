/**
 * A decoded wire as exchanges (a request with its response), per connection, and the alignment of
 * two connections' exchanges. Clients differ in how they interleave messages (one sends CREATE
 * and CLOSE as a compound and reads both responses, another waits for each), so responses are
 * paired with their requests by MessageId before anything is aligned.
 */
import type { SummaryMessage, WireSummary } from './wire-summary.js';

export interface Exchange {
  connection: number;
  /** What alignment matches on: the command (`TREE_CONNECT IPC$` apart), a lone response, or an unreadable frame. */
  key: string;
  request?: SummaryMessage;
  /** Absent when the server never answered (or the request was a CANCEL). */
  response?: SummaryMessage;
  /** A frame the harness could not read: its direction and why. */
  problem?: { direction: 'send' | 'receive'; text: string };
  /** Position of its first message among all of the capture's, for "first in message order" across connections. */
  order: number;
  /** 1-based index of its first message; for a problem, of the message before it (0 when none). */
  index: number;
}

export type Step = { cell?: Exchange; ref?: Exchange };

const STATUS_PENDING = 0x00000103;
/** How far ahead on either side alignment looks for the exchanges to agree again. */
const LOOKAHEAD = 16;
/** How many agreeing exchanges in a row make a resynchronisation point certain. */
const RUN = 4;

export function exchangesByConnection(wire: WireSummary): Map<number, Exchange[]> {
  // An interim STATUS_PENDING response (MS-SMB2 3.3.4.2) depends on timing, not on the client.
  const messages = wire.messages.filter((m) => !(m.direction === 'receive' && m.status === STATUS_PENDING));
  const entries = [
    ...messages.map((m) => ({ frame: m.frame, late: 0, message: m, problem: undefined, connection: m.connection, direction: m.direction })),
    ...wire.problems.map((p) => ({ frame: p.frame, late: 1, message: undefined, problem: p.problem, connection: p.connection, direction: p.direction })),
  ].sort((a, b) => a.frame - b.frame || a.late - b.late);
  const out = new Map<number, Exchange[]>();
  const awaiting = new Map<string, Exchange>();
  let index = 0;
  entries.forEach((e, order) => {
    const list = out.get(e.connection) ?? [];
    out.set(e.connection, list);
    const m = e.message;
    if (m === undefined) {
      list.push({ connection: e.connection, key: `${e.direction} unreadable`, problem: { direction: e.direction, text: e.problem! }, order, index });
      return;
    }
    index = m.index;
    const id = `${e.connection} ${m.messageId}`;
    if (m.direction === 'send') {
      // Some clients visit IPC$ (a DFS referral, srvsvc) before the share: a detour, aligned apart from the share's TREE_CONNECT.
      const ipc = m.command === 'TREE_CONNECT' && m.ipc === true;
      const exchange: Exchange = { connection: e.connection, key: `${m.command}${ipc ? ' IPC$' : ''}`, request: m, order, index };
      // A CANCEL carries the MessageId of the request it cancels and has no response (MS-SMB2 3.2.4.24).
      if (m.command !== 'CANCEL') awaiting.set(id, exchange);
      list.push(exchange);
      return;
    }
    const exchange = awaiting.get(id);
    if (exchange !== undefined && exchange.request?.command === m.command) {
      exchange.response = m;
      awaiting.delete(id);
    } else {
      list.push({ connection: e.connection, key: `receive ${m.command}`, response: m, order, index });
    }
  });
  return out;
}

/** How many exchanges agree from (i, j) on, up to RUN. */
function agreeing(cell: readonly Exchange[], i: number, ref: readonly Exchange[], j: number): number {
  let n = 0;
  while (n < RUN && cell[i + n] !== undefined && cell[i + n]!.key === ref[j + n]?.key) n++;
  return n;
}

/**
 * Where to agree again after a disagreement at (i, j): among the points within LOOKAHEAD on both
 * sides, the one followed by the longest run of agreeing exchanges (up to RUN), then the nearest,
 * so that a detour's IOCTL is not taken for the share's.
 */
function resync(cell: readonly Exchange[], i: number, ref: readonly Exchange[], j: number): { cell: number; ref: number } | undefined {
  let best: { cell: number; ref: number; run: number } | undefined;
  for (let a = 0; a <= LOOKAHEAD; a++) {
    for (let b = 0; b <= LOOKAHEAD; b++) {
      const run = agreeing(cell, i + a, ref, j + b);
      if (run === 0) continue;
      if (best === undefined || run > best.run || (run === best.run && a + b < best.cell + best.ref)) best = { cell: a, ref: b, run };
    }
  }
  return best;
}

/**
 * Aligns two connections' exchanges. A greedy walk rather than a longest common subsequence: two
 * clients' conversations run in lockstep with local detours (an IPC$ visit, a validate-negotiate
 * IOCTL, a QUERY_INFO before a CLOSE), and resynchronising at the nearest point from which they
 * agree for a few exchanges takes such a detour as an insertion, without pairing a message with a
 * far-away one of the same command as an LCS can in a long run of READs. Linear in the length of
 * the conversation. Where nothing agrees within LOOKAHEAD, the two exchanges are paired as a substitution.
 */
export function align(cell: readonly Exchange[], ref: readonly Exchange[]): Step[] {
  const steps: Step[] = [];
  let i = 0;
  let j = 0;
  while (i < cell.length || j < ref.length) {
    if (i < cell.length && cell[i]!.key === ref[j]?.key) {
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
    steps.push({ cell: cell[i++], ref: ref[j++] });
  }
  return steps;
}
