/**
 * One mutation of the server's side of a recorded session: which frame, what is done to it,
 * and what the client may then be expected to report. The replay server plays `plan`.
 */
import { changedBytes, layoutOf, onlyValues, wellFormed } from './layout.js';
import type { FieldSpot } from './layout.js';
import type { Prng } from './prng.js';
import {
  COMMAND_NAMES, FLAG_ASYNC, Field, HEADER_BYTES, STATUS_PENDING, UNSOLICITED_MESSAGE_ID, commandOf, describeFrame, messageOffsets, splitMessages,
} from './recording.js';
import type { Recording } from './recording.js';

export type Action = { type: 'send'; bytes: Buffer; delayMs?: number; pieces?: number } | { type: 'end' } | { type: 'reset' };

export const MUTATION_KINDS = [
  'bitflip', 'byte', 'field', 'credits', 'messageId', 'command', 'status', 'flags', 'netbiosLength', 'truncate', 'cut',
  'close', 'reset', 'drop', 'duplicate', 'unsolicited', 'pending', 'pendingOnly', 'late', 'pieces', 'number',
] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

const WEIGHTS: ReadonlyArray<readonly [MutationKind, number]> = [
  ['bitflip', 20], ['byte', 8], ['field', 22], ['credits', 4], ['messageId', 5], ['command', 4], ['status', 5], ['flags', 4],
  ['netbiosLength', 6], ['truncate', 6], ['cut', 3], ['close', 2], ['reset', 2], ['drop', 4], ['duplicate', 4], ['unsolicited', 6],
  ['pending', 5], ['pendingOnly', 2], ['late', 2], ['pieces', 2], ['number', 6],
];

export interface Mutation {
  kind: MutationKind;
  exchange: number;
  frame: number;
  description: string;
  /** Only value bytes changed (layout.ts): an unsigned session cannot tell, so changed results are no finding. */
  payloadOnly: boolean;
  /**
   * The mutated frame is one a server could have sent (layout.wellFormed): a changed result
   * then is no finding unless the data's length changed (the client knows the size and what it asked).
   */
  consistent: boolean;
  /** The connection ends here: the client must report a TransportError or ProtocolError. */
  closes: boolean;
  /** The final response to these commands never comes (in time): the error must be a TimeoutError on one of them. */
  timeoutOn: string[];
  plan: Action[][];
}

/** Past the client's timeout in the fuzz (500 ms). */
export const LATE_MS = 1000;

export function netbios(frame: Buffer, length = frame.length): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(length);
  return Buffer.concat([header, frame]);
}

export function unmutatedPlan(recording: Recording): Action[][] {
  return recording.exchanges.map((e) => e.responses.map((frame): Action => ({ type: 'send', bytes: netbios(frame) })));
}

const STATUSES = [0, STATUS_PENDING, 0xc0000016, 0x80000005, 0xc0000011, 0x80000006, 0xc0000022, 0xc000000d, 0xc0000203, 0xc000035c, 0x1, 0xffffffff];
const FLAGS = [0x1, 0x2, 0x4, 0x8, 0x10000000, 0x20000000];

function interesting(prng: Prng, original: number, width: 1 | 2 | 4, frameLength: number, messageStart: number): number {
  const max = width === 4 ? 0xffffffff : width === 2 ? 0xffff : 0xff;
  const candidates = [0, 1, original - 1, original + 1, original + 2, original - 8, original + 8, original * 2, frameLength, frameLength + 1,
    frameLength - messageStart, frameLength - messageStart + 1, 63, 64, 65, max, max - 1, Math.floor(max / 2) + 1, prng.uint32()];
  return (prng.pick(candidates) >>> 0) % (max + 1);
}

function writeField(frame: Buffer, spot: FieldSpot, value: number | bigint): void {
  if (spot.width === 8) frame.writeBigUInt64LE(BigInt.asUintN(64, BigInt(value)), spot.at);
  else if (spot.width === 4) frame.writeUInt32LE(Number(value) >>> 0, spot.at);
  else if (spot.width === 2) frame.writeUInt16LE(Number(value) & 0xffff, spot.at);
  else frame.writeUInt8(Number(value) & 0xff, spot.at);
}

function readField(frame: Buffer, spot: FieldSpot): number {
  if (spot.width === 8) return Number(frame.readBigUInt64LE(spot.at) & 0xffffffffn);
  if (spot.width === 4) return frame.readUInt32LE(spot.at);
  return spot.width === 2 ? frame.readUInt16LE(spot.at) : frame.readUInt8(spot.at);
}

/** STATUS_PENDING interim responses (MS-SMB2 3.3.4.2) for every message of `frame`. */
function interims(prng: Prng, frame: Buffer, count: number): Buffer[] {
  const out: Buffer[] = [];
  for (const message of splitMessages(frame)) {
    const interim = Buffer.alloc(HEADER_BYTES + 9);
    message.copy(interim, 0, 0, HEADER_BYTES);
    interim.writeUInt32LE(STATUS_PENDING, Field.status);
    interim.writeUInt32LE((interim.readUInt32LE(Field.flags) | FLAG_ASYNC) & ~0x4, Field.flags);
    interim.writeUInt32LE(0, Field.nextCommand);
    interim.writeBigUInt64LE(BigInt(prng.uint32() + 1), Field.asyncId);
    interim.writeUInt16LE(prng.pick([0, 1]), Field.credits);
    interim.writeUInt16LE(9, HEADER_BYTES);
    for (let i = 0; i < count; i++) out.push(netbios(interim));
  }
  return out;
}

function commandsOf(frame: Buffer): string[] {
  return splitMessages(frame).map((m) => COMMAND_NAMES[commandOf(m)] ?? 'UNKNOWN');
}

/** Draws one mutation of `recording` from `prng`. */
export function drawMutation(recording: Recording, prng: Prng): Mutation {
  const frames = recording.exchanges.flatMap((e, exchange) => e.responses.map((_, frame) => [exchange, frame] as const));
  const [exchange, frameIndex] = prng.pick(frames);
  const original = recording.exchanges[exchange]!.responses[frameIndex]!;
  const kind = prng.weighted(WEIGHTS);
  const plan = unmutatedPlan(recording);
  const actions = plan[exchange]!;
  const layout = layoutOf(original);
  const offsets = messageOffsets(original);
  const message = prng.pick(offsets);
  const mutated = Buffer.from(original);
  const isFinal = original.readUInt32LE(Field.status) !== STATUS_PENDING;
  const where = `${describeFrame(original)} (exchange ${exchange}, server frame ${frameIndex}, ${original.length} bytes)`;
  let consistent = false;
  const replaceWith = (bytes: Buffer) => {
    actions[frameIndex] = { type: 'send', bytes: netbios(bytes) };
    consistent = wellFormed(bytes);
  };
  const result = (description: string, extra: Partial<Mutation> = {}): Mutation => ({
    kind, exchange, frame: frameIndex, description: `${kind}: ${description} in ${where}`, payloadOnly: false, consistent, closes: false, timeoutOn: [], plan, ...extra,
  });
  const header = (field: number, width: 1 | 2 | 4 | 8) => ({ name: '', at: message + field, width });

  switch (kind) {
    case 'bitflip':
    case 'byte': {
      const at = prng.below(mutated.length);
      const before = mutated[at]!;
      mutated[at] = kind === 'bitflip' ? before ^ (1 << prng.below(8)) : prng.pick([0x00, 0xff, 0x7f, 0x80, 0x01, prng.below(256)]);
      replaceWith(mutated);
      const changed = changedBytes(original, mutated);
      return result(`byte ${at} 0x${before.toString(16)} -> 0x${mutated[at]!.toString(16)}`, { payloadOnly: onlyValues(layout, changed) });
    }
    case 'field': {
      const spot = prng.pick(layout.structure.filter((s) => s.width !== 8));
      const before = readField(mutated, spot);
      const value = interesting(prng, before, spot.width as 1 | 2 | 4, mutated.length, message);
      writeField(mutated, spot, value);
      replaceWith(mutated);
      return result(`${spot.name} (at ${spot.at}) ${before} -> ${value}`);
    }
    case 'credits': {
      const value = prng.pick([0, 0xffff, 1, 0x8000, prng.below(0x10000)]);
      writeField(mutated, header(Field.credits, 2), value);
      replaceWith(mutated);
      return result(`CreditResponse of the message at ${message} -> ${value}`);
    }
    case 'messageId': {
      const before = mutated.readBigUInt64LE(message + Field.messageId);
      const value = prng.pick([before + 1n, before - 1n, before + 2n, 0n, UNSOLICITED_MESSAGE_ID, BigInt(prng.uint32()), before + 1000n]);
      writeField(mutated, header(Field.messageId, 8), value);
      replaceWith(mutated);
      return result(`MessageId of the message at ${message} ${before} -> ${BigInt.asUintN(64, value)}`);
    }
    case 'command': {
      const value = prng.pick([prng.below(19), prng.below(19), prng.below(0x10000)]);
      writeField(mutated, header(Field.command, 2), value);
      replaceWith(mutated);
      return result(`Command of the message at ${message} -> 0x${value.toString(16)}`);
    }
    case 'status': {
      const value = prng.pick([...STATUSES, prng.uint32()]);
      writeField(mutated, header(Field.status, 4), value);
      replaceWith(mutated);
      return result(`Status of the message at ${message} -> 0x${value.toString(16).padStart(8, '0')}`);
    }
    case 'flags': {
      const bit = prng.pick(FLAGS);
      writeField(mutated, header(Field.flags, 4), mutated.readUInt32LE(message + Field.flags) ^ bit);
      replaceWith(mutated);
      return result(`Flags of the message at ${message} ^ 0x${bit.toString(16)}`);
    }
    case 'netbiosLength': {
      const length = original.length;
      const value = prng.pick([length - 1, length + 1, length - 1 - prng.below(64), length + 1 + prng.below(64), 0, 0xffffff, 0x01000000 | length, 0xff000000 | length]);
      actions[frameIndex] = { type: 'send', bytes: netbios(original, Math.max(0, value) >>> 0) };
      return result(`Direct TCP length ${length} -> 0x${(Math.max(0, value) >>> 0).toString(16)}`);
    }
    case 'truncate': {
      const keep = prng.pick([0, 1, 63, 64, 65, original.length - 1, prng.below(original.length)]);
      replaceWith(original.subarray(0, Math.max(0, Math.min(keep, original.length - 1))));
      return result(`to ${Math.max(0, Math.min(keep, original.length - 1))} bytes, with a Direct TCP length that says so`);
    }
    case 'cut': {
      const keep = prng.below(original.length + 4);
      actions.splice(frameIndex, actions.length - frameIndex, { type: 'send', bytes: netbios(original).subarray(0, keep) }, { type: 'end' });
      return result(`connection ended after ${keep} of ${original.length + 4} bytes`, { closes: true });
    }
    case 'close':
    case 'reset':
      actions.splice(frameIndex, actions.length - frameIndex, { type: kind === 'close' ? 'end' : 'reset' });
      return result(kind === 'close' ? 'the server ends the connection instead' : 'the server resets the connection instead', { closes: true });
    case 'drop':
      actions.splice(frameIndex, 1);
      return result('never sent', { timeoutOn: isFinal ? commandsOf(original) : [] });
    case 'duplicate':
      actions.splice(frameIndex, 0, { type: 'send', bytes: netbios(original) });
      return result('sent twice');
    case 'unsolicited': {
      const variant = prng.below(4);
      let extra: Buffer;
      let what: string;
      if (variant === 0) {
        const [e, f] = prng.pick(frames);
        extra = recording.exchanges[e]!.responses[f]!;
        what = `recorded frame ${describeFrame(extra)} of exchange ${e}`;
      } else if (variant === 1) {
        extra = Buffer.from(original);
        for (const at of offsets) extra.writeBigUInt64LE(UNSOLICITED_MESSAGE_ID, at + Field.messageId);
        what = 'a copy with MessageId 0xFFFFFFFFFFFFFFFF';
      } else if (variant === 2) {
        extra = Buffer.from(Array.from({ length: prng.below(160) }, () => prng.below(256)));
        what = `${extra.length} random bytes`;
      } else {
        extra = Buffer.alloc(HEADER_BYTES);
        what = 'a 64-byte frame of zeros';
      }
      const after = prng.below(2);
      actions.splice(frameIndex + after, 0, { type: 'send', bytes: netbios(extra) });
      return result(`${what} sent ${after === 1 ? 'after' : 'before'} it`);
    }
    case 'pending':
    case 'pendingOnly': {
      const count = prng.pick([1, 2, 10, 100, 1000]);
      const storm = interims(prng, original, count).map((bytes): Action => ({ type: 'send', bytes }));
      actions.splice(frameIndex, kind === 'pending' ? 0 : 1, ...storm);
      return kind === 'pending'
        ? result(`${count} STATUS_PENDING interim responses per message before it`)
        : result(`${count} STATUS_PENDING interim responses per message instead of it`, { timeoutOn: isFinal ? commandsOf(original) : [] });
    }
    case 'late':
      actions[frameIndex] = { type: 'send', bytes: netbios(original), delayMs: LATE_MS };
      return result(`sent ${LATE_MS} ms late`, { timeoutOn: isFinal ? commandsOf(original) : [] });
    case 'number': {
      const spot = layout.numbers.length > 0 ? prng.pick(layout.numbers) : undefined;
      if (spot === undefined) return result('no size or limit in this frame: unchanged', { payloadOnly: true });
      const before = spot.width === 8 ? mutated.readBigUInt64LE(spot.at) : BigInt(mutated.readUInt32LE(spot.at));
      const huge = [0n, 1n, 0x7fffffffn, 0xffffffffn, 0x100000000n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, before * 1000n + 1n, before + 65536n];
      const value = BigInt.asUintN(spot.width * 8, prng.pick(huge));
      if (spot.width === 8) mutated.writeBigUInt64LE(value, spot.at);
      else mutated.writeUInt32LE(Number(value), spot.at);
      replaceWith(mutated);
      // A value the server may state: a changed result is no finding, what the client does with it may be.
      return result(`${spot.name} (at ${spot.at}) ${before} -> ${value}`, { payloadOnly: true });
    }
    case 'pieces': {
      const pieces = prng.pick([1, 2, 3, 7, 61, 1000]);
      actions[frameIndex] = { type: 'send', bytes: netbios(original), pieces };
      return result(`sent in pieces of ${pieces} bytes`);
    }
  }
}
