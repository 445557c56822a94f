/**
 * The first divergence of a failed cell's conversation from a reference cell's: the same scenario
 * on the same target from a client that passed it, or the same client on another target. Both
 * captures decoded and decrypted (harness/capture/wire-decode.ts) and kept as wire summaries
 * (wire-summary.ts), their messages aligned, and the first difference that matters named with both
 * values and the MS-SMB2 section that defines the field. Pure, and free of the codec: two wire
 * summaries in, one finding out (the matrix runs it after a run, from the cells' attachments).
 *
 * Connections are compared in order of appearance, each as a sequence of exchanges (a request
 * with its response, exchanges.ts) aligned tolerant of insertions.
 *
 * Ranking. With `sameClient` every difference counts and the first in message order is reported.
 * With another client as the reference, a difference is reported only when it can matter whatever
 * the client (message-fields.ts ranks each field): statuses, SessionFlags, the server's choices,
 * encryption, signatures, the inner SessionId, a share name, a dialect/hash offer lacking what the
 * server chose for the reference (cipher and signing offers, and the ENCRYPTION capability, only
 * where the connection encrypted or signed; the capability on 3.0.x or where the chosen cipher
 * differs), a frame the harness could not read, a request left unanswered, a connection that ended
 * after a failure, by the server's hand, or before reaching the reference's session or tree.
 * Other capability bits, SecurityMode, contexts, CREATE options, extra exchanges and a shorter
 * conversation after the tree is connected are what two working implementations legitimately
 * differ in; they are reported only when nothing else differs, and then as `none`. Either way the
 * first in message order wins, so a request field that differs before a response status does is
 * named as the likely cause, not the status it led to.
 */
import { align, exchangesByConnection } from './exchanges.js';
import type { Exchange, Step } from './exchanges.js';
import type { MessageField, Negotiated, SummaryMessage, WireSummary } from './wire-summary.js';

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

const CAP_ENCRYPTION = 0x00000040;
const DIALECT_300 = 0x0300;
const DIALECT_302 = 0x0302;

/**
 * Whether a difference in a field matters against a reference from another client. An offer of
 * ciphers or signing algorithms, and the ENCRYPTION capability, matter only on a connection that
 * encrypted or signed: a client need not offer what the target does not ask for.
 */
export function mattersAcrossClients(cell: MessageField | undefined, reference: MessageField | undefined, cellFacts: Negotiated, referenceFacts: Negotiated): boolean {
  const rank = (cell ?? reference)!.rank;
  if (rank === 'decisive' || rank === 'incidental') return rank === 'decisive';
  // Signing is the client's choice unless the server requires it (MS-SMB2 3.2.4.1.1); a signature that does not verify always matters.
  if (rank === 'signature') return cell?.key === 'invalid' || reference?.key === 'invalid' || cellFacts.signingRequired === true || referenceFacts.signingRequired === true;
  const encrypting = cellFacts.encrypts === true || referenceFacts.encrypts === true;
  if ('offer' in rank) {
    if (rank.offer === 'cipher' && !encrypting) return false;
    if (rank.offer === 'signing' && cellFacts.signs !== true && referenceFacts.signs !== true) return false;
    const chosen = referenceFacts[rank.offer];
    const offered = cell !== undefined && typeof cell.rank === 'object' && 'offer' in cell.rank ? cell.rank.values : [];
    // Where this cell's NEGOTIATE got no answer to judge by, only an offer lacking the reference's choice matters.
    const cellChose = cellFacts[rank.offer];
    return chosen !== undefined && (!offered.includes(chosen) || (cellChose !== undefined && cellChose !== chosen));
  }
  const bitOf = (f: MessageField | undefined) => (f !== undefined && typeof f.rank === 'object' && 'encryptionBit' in f.rank ? f.rank.encryptionBit & CAP_ENCRYPTION : 0);
  // MS-SMB2 3.3.5.4: on 3.0/3.0.2 the bit decides whether the session can encrypt; elsewhere it matters when the cipher the server chose differs.
  const on300 = [cellFacts.dialect, referenceFacts.dialect].some((d) => d === DIALECT_300 || d === DIALECT_302);
  return encrypting && bitOf(cell) !== bitOf(reference) && (on300 || cellFacts.cipher !== referenceFacts.cipher);
}


interface Finding {
  decisive: boolean;
  order: number;
  divergence: Divergence;
}

const ERROR_SEVERITY = 3;
/** The exchanges that set a connection up to the share (alignment keys). */
const SETUP = new Set(['NEGOTIATE', 'SESSION_SETUP', 'TREE_CONNECT']);

function describe(m: SummaryMessage): DivergentMessage {
  return { index: m.index, connection: m.connection, command: m.command, direction: m.direction === 'send' ? 'request' : 'response' };
}

/** The exchange's first message (or last, `atEnd`), or for an unreadable frame the place it took. */
function describeExchange(e: Exchange, atEnd = false): DivergentMessage {
  const m = atEnd ? e.response ?? e.request : e.request ?? e.response;
  if (m !== undefined) return describe(m);
  return { index: e.index, connection: e.connection, command: 'unreadable frame', direction: e.problem?.direction === 'receive' ? 'response' : 'request' };
}

const ipc = (e: Exchange): string => (e.key.endsWith(' IPC$') ? ' (IPC$)' : '');

/** What the exchange began with: `sent TREE_CONNECT request`. */
function began(e: Exchange): string {
  if (e.request !== undefined) return `sent ${e.request.command} request${ipc(e)}`;
  if (e.response !== undefined) return `received ${e.response.command} response`;
  return `${e.problem?.direction === 'receive' ? 'received' : 'sent'} a frame the harness could not read (${e.problem?.text ?? 'unknown'})`;
}

/** Where the exchange ended: `SESSION_SETUP response`. */
function ended(e: Exchange): string {
  const m = e.response ?? e.request;
  if (m === undefined) return 'a frame the harness could not read';
  return `${m.command} ${m === e.response ? 'response' : 'request'}${ipc(e)}`;
}

/** The exchange failed: unreadable, unanswered, or answered with an error status. */
function failed(e: Exchange): boolean {
  return e.problem !== undefined || e.response === undefined || e.response.status >>> 30 === ERROR_SEVERITY;
}

function factsOf(exchanges: readonly Exchange[]): Negotiated {
  const messages = exchanges.flatMap((e) => [e.request, e.response]).filter((m): m is SummaryMessage => m !== undefined);
  const negotiate = messages.filter((m) => m.command === 'NEGOTIATE' && m.direction === 'receive').at(-1);
  return { ...(negotiate?.negotiated ?? {}), encrypts: messages.some((m) => m.encrypted), signs: messages.some((m) => m.signed) };
}

interface ConnectionContext {
  sameClient: boolean;
  closedByServer: boolean;
  prefix: string;
  /** The order of the connection's first exchange in the cell. */
  firstOrder: number;
  cellFacts: Negotiated;
  referenceFacts: Negotiated;
}

function fieldFindings(cell: SummaryMessage, ref: SummaryMessage, order: number, ctx: ConnectionContext, suffix: string): Finding[] {
  const ours = cell.fields;
  const theirs = ref.fields;
  const value = (f: MessageField | undefined) => f?.value ?? 'absent';
  const findings: Finding[] = [];
  for (const name of new Set([...ours, ...theirs].map((f) => f.name))) {
    const a = ours.find((f) => f.name === name);
    const b = theirs.find((f) => f.name === name);
    if ((a?.key ?? a?.value) === (b?.key ?? b?.value)) continue;
    const section = (a ?? b)!.section;
    const where = `${cell.command} ${cell.direction === 'send' ? 'request' : 'response'}${suffix}`;
    findings.push({
      decisive: ctx.sameClient || mattersAcrossClients(a, b, ctx.cellFacts, ctx.referenceFacts),
      order,
      divergence: {
        kind: 'field', message: describe(cell), referenceMessage: describe(ref), field: name, value: value(a), reference: value(b), section,
        text: `${ctx.prefix}${where} ${name}: ${value(a)}; reference: ${value(b)} (${section})`,
      },
    });
  }
  return findings;
}

function structure(text: string, ctx: ConnectionContext, cell: DivergentMessage | undefined, ref: DivergentMessage | undefined): Divergence {
  return { kind: 'structure', ...(cell ? { message: cell } : {}), ...(ref ? { referenceMessage: ref } : {}), text: ctx.prefix + text };
}

/** Two exchanges of the same command: their requests' fields, then their responses'. */
function pairFindings(cell: Exchange, ref: Exchange, cellEnded: boolean, ctx: ConnectionContext): Finding[] {
  const findings: Finding[] = [];
  if (cell.request !== undefined && ref.request !== undefined) findings.push(...fieldFindings(cell.request, ref.request, cell.order, ctx, ipc(cell)));
  if (cell.response !== undefined && ref.response !== undefined) findings.push(...fieldFindings(cell.response, ref.response, cell.order, ctx, ipc(cell)));
  else if (cell.request !== undefined && ref.response !== undefined) {
    const end = ctx.closedByServer ? ' and the server closed the connection' : cellEnded ? ' and the connection ended' : '';
    const text = `${cell.request.command} request${ipc(cell)} got no response${end}; the reference's got ${ref.response.statusName}`;
    findings.push({ decisive: true, order: cell.order, divergence: structure(text, ctx, describe(cell.request), describe(ref.response)) });
  }
  return findings;
}

function stepFindings(step: Step, lastCell: Exchange | undefined, cellEnded: boolean, setupFollows: boolean, ctx: ConnectionContext): Finding[] {
  const { cell, ref } = step;
  if (cell !== undefined && ref !== undefined) {
    if (cell.key === ref.key) return pairFindings(cell, ref, cellEnded, ctx);
    return [{ decisive: true, order: cell.order, divergence: structure(`this cell ${began(cell)} where the reference ${began(ref)}`, ctx, describeExchange(cell), describeExchange(ref)) }];
  }
  if (cell !== undefined) {
    const after = lastCell === undefined ? '' : ` after ${ended(lastCell)}`;
    // An unreadable frame always matters: the reference passed without one.
    const text = `this cell ${began(cell)}${after}, which the reference did not`;
    return [{ decisive: ctx.sameClient || cell.problem !== undefined, order: cell.order, divergence: structure(text, ctx, describeExchange(cell), undefined) }];
  }
  if (lastCell === undefined) {
    return [{ decisive: ctx.sameClient, order: ctx.firstOrder - 0.5, divergence: structure(`the reference ${began(ref!)} first, which this cell did not`, ctx, undefined, describeExchange(ref!)) }];
  }
  const order = lastCell.order + 0.5;
  if (cellEnded) {
    // Another client may simply do more once a tree is connected; a connection that ended by the
    // server's hand, after a failure, or before getting as far as the reference's did matters.
    const decisive = ctx.sameClient || ctx.closedByServer || failed(lastCell) || setupFollows;
    const end = ctx.closedByServer ? 'was closed by the server' : 'ended';
    return [{ decisive, order, divergence: structure(`after ${ended(lastCell)} the reference ${began(ref!)}; this cell's connection ${end}`, ctx, describeExchange(lastCell, true), describeExchange(ref!)) }];
  }
  return [{ decisive: ctx.sameClient, order, divergence: structure(`after ${ended(lastCell)} the reference ${began(ref!)}, which this cell did not`, ctx, describeExchange(lastCell, true), describeExchange(ref!)) }];
}

/** The first decisive and the first incidental finding of one connection, in message order. */
function compareConnection(cell: readonly Exchange[], ref: readonly Exchange[], ctx: ConnectionContext): { decisive?: Finding; incidental?: Finding } {
  const steps = align(cell, ref);
  const lastCellStep = steps.findLastIndex((s) => s.cell !== undefined);
  const lastSetupStep = steps.findLastIndex((s) => SETUP.has(s.ref?.key ?? ''));
  let lastCell: Exchange | undefined;
  let incidental: Finding | undefined;
  for (const [k, step] of steps.entries()) {
    for (const finding of stepFindings(step, lastCell, k >= lastCellStep, k <= lastSetupStep, ctx)) {
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
export function firstDivergence(cell: WireSummary, reference: WireSummary, options: DivergenceOptions): Divergence {
  const ours = exchangesByConnection(cell);
  const theirs = exchangesByConnection(reference);
  if (theirs.size === 0) return { kind: 'none', text: 'no divergence to report: the reference cell\'s capture holds no SMB2 message' };
  const total = cell.messages.length + cell.problems.length;
  const decisive: Finding[] = [];
  const incidental: Finding[] = [];
  for (let connection = 1; connection <= Math.max(ours.size, theirs.size); connection++) {
    const a = ours.get(connection) ?? [];
    const b = theirs.get(connection) ?? [];
    const prefix = connection > 1 ? `connection ${connection}: ` : '';
    if (a.length === 0) {
      const text = `${prefix}the reference opened connection ${connection} and ${began(b[0]!)}; this cell did not`;
      decisive.push({ decisive: true, order: total + connection, divergence: { kind: 'structure', referenceMessage: describeExchange(b[0]!), text } });
      continue;
    }
    if (b.length === 0) {
      const text = `${prefix}this cell opened connection ${connection} and ${began(a[0]!)}; the reference did not`;
      (options.sameClient ? decisive : incidental).push({ decisive: options.sameClient, order: a[0]!.order, divergence: { kind: 'structure', message: describeExchange(a[0]!), text } });
      continue;
    }
    const ctx: ConnectionContext = {
      sameClient: options.sameClient, closedByServer: options.closedByServer?.has(connection) ?? false, prefix, firstOrder: a[0]!.order,
      cellFacts: factsOf(a), referenceFacts: factsOf(b),
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
