/**
 * A decoded wire (capture/wire-decode.ts) as the wire summary a cell keeps (wire-summary.ts):
 * the header facts and significant fields of each message, without payloads, security blobs or
 * keys, so that it can be compared with another cell's after the run.
 */
import { decodeTreeConnectRequest } from '../../clients/smb/wire/index.js';
import type { DecodedWire, WireMessage } from '../capture/wire-decode.js';
import { messageFields, negotiatedBy } from './message-fields.js';
import { WIRE_SUMMARY_MAX_MESSAGES, WIRE_SUMMARY_VERSION } from './wire-summary.js';
import type { SummaryMessage, WireSummary } from './wire-summary.js';

function isIpcTreeConnect(m: WireMessage): boolean {
  if (m.header.command !== 'TREE_CONNECT' || m.direction !== 'send') return false;
  try {
    return decodeTreeConnectRequest(m.bytes).path.toUpperCase().endsWith('\\IPC$');
  } catch {
    return false;
  }
}

function summarizeMessage(m: WireMessage): SummaryMessage {
  const h = m.header;
  const negotiated = h.command === 'NEGOTIATE' && m.direction === 'receive' ? negotiatedBy(m) : undefined;
  return {
    index: m.index,
    connection: m.connection,
    frame: m.frame,
    direction: m.direction,
    command: h.command,
    messageId: h.messageId.toString(),
    status: h.status,
    statusName: h.statusName,
    creditCharge: h.creditCharge,
    credits: h.credits,
    flags: h.flags,
    encrypted: m.encrypted,
    signed: h.signed,
    signature: m.signature,
    ...(isIpcTreeConnect(m) ? { ipc: true } : {}),
    // JSON keeps no undefined values; the schema is strict about what it does keep.
    ...(negotiated === undefined ? {} : { negotiated: JSON.parse(JSON.stringify(negotiated)) as SummaryMessage['negotiated'] }),
    fields: messageFields(m).map((f) => (f.key === undefined ? { name: f.name, value: f.value, section: f.section, rank: f.rank } : f)),
  };
}

/** The summary of a cell's wire; `closedByServer` lists the connections the server ended. */
export function summarizeWire(wire: DecodedWire, closedByServer: readonly number[] = []): WireSummary {
  const kept = wire.messages.slice(0, WIRE_SUMMARY_MAX_MESSAGES);
  const lastFrame = kept.length < wire.messages.length ? kept.at(-1)?.frame ?? -1 : Number.POSITIVE_INFINITY;
  return {
    version: WIRE_SUMMARY_VERSION,
    messages: kept.map(summarizeMessage),
    problems: wire.problems.filter((p) => p.frame <= lastFrame).map((p) => ({ connection: p.connection, frame: p.frame, direction: p.direction, problem: p.problem })),
    omitted: wire.messages.length - kept.length,
    closedByServer: [...closedByServer],
  };
}
