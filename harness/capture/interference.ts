/**
 * What the capture proxy may do to the server's frames when a scenario plays a hostile network or
 * a broken server: pass a frame, deliver an edited copy, or deliver part of it and then freeze,
 * reset or close the connection. The proxy follows the server's framing all the time
 * (`ServerFrameSplitter`) and holds whole frames only while an interference is installed; the
 * rules here decide per frame.
 * Everything the harness did is noted, and the pcap carries the note on the frame it touched.
 */
import { FRAME_HEADER_BYTES } from '../../clients/smb/frame-reader.js';
import { Command, Dialect, HeaderFlag, NtStatus, SMB2_HEADER_SIZE, SessionFlag, TRANSFORM_HEADER_SIZE, classifyMessage, decodeHeader } from '../../clients/smb/wire/index.js';

/** What happens to one whole server frame (the SMB message, without its 4-byte prefix). */
export type FrameVerdict =
  | { kind: 'pass' }
  | { kind: 'replace'; frame: Buffer; note: string }
  /** Deliver the first `deliver` bytes of the frame (prefix included), then act. */
  | { kind: 'freeze' | 'reset' | 'close'; deliver: number; note: string };

export interface FrameContext {
  /** The proxy's connection number, 1-based in accept order. */
  connection: number;
}

/** Decides what happens to each server frame while it is installed. */
export type Interference = (frame: Buffer, context: FrameContext) => FrameVerdict;

/** A piece of the server's stream: bytes relayed as they came, or a whole frame held for the interference. */
export type StreamPiece = { raw: Buffer } | { frame: Buffer };

/**
 * Follows the direct-TCP framing (MS-SMB2 2.1) of one direction of a connection at the cost of a
 * few comparisons per chunk, so that an interference installed in the middle of a connection
 * starts at the next frame boundary. While `hold` is on at a frame's start, that frame is
 * gathered whole and handed out as `{ frame }`; every other byte passes as `{ raw }`, in order.
 * A stream whose prefix is not a frame header (first byte not zero) is passed through raw.
 */
export class ServerFrameSplitter {
  private readonly prefix = Buffer.alloc(FRAME_HEADER_BYTES);
  private prefixHave = 0;
  private remaining = 0;
  private holding: Buffer[] | undefined;
  private unframed = false;

  split(chunk: Buffer, hold: boolean): StreamPiece[] {
    if (this.unframed) return [{ raw: chunk }];
    const pieces: StreamPiece[] = [];
    let rawStart = 0;
    let i = 0;
    while (i < chunk.length) {
      if (this.prefixHave < FRAME_HEADER_BYTES) {
        if (this.prefixHave === 0 && hold) {
          // A frame starts here: what came before it passes, the frame is held.
          if (i > rawStart) pieces.push({ raw: chunk.subarray(rawStart, i) });
          this.holding = [];
        }
        const take = Math.min(FRAME_HEADER_BYTES - this.prefixHave, chunk.length - i);
        chunk.copy(this.prefix, this.prefixHave, i, i + take);
        this.prefixHave += take;
        i += take;
        if (this.holding !== undefined) rawStart = i;
        if (this.prefixHave < FRAME_HEADER_BYTES) continue;
        if (this.prefix[0] !== 0) {
          // Not direct-TCP framing: stop following it and relay the rest as it comes.
          this.unframed = true;
          const held = this.holding === undefined ? [] : [Buffer.from(this.prefix)];
          this.holding = undefined;
          const rest = Buffer.concat([...held, chunk.subarray(rawStart)]);
          if (rest.length > 0) pieces.push({ raw: rest });
          return pieces;
        }
        this.remaining = this.prefix.readUIntBE(1, 3);
      } else {
        const take = Math.min(this.remaining, chunk.length - i);
        this.holding?.push(chunk.subarray(i, i + take));
        i += take;
        this.remaining -= take;
        if (this.holding !== undefined) rawStart = i;
      }
      if (this.remaining === 0) {
        if (this.holding !== undefined) pieces.push({ frame: Buffer.concat(this.holding) });
        this.holding = undefined;
        this.prefixHave = 0;
      }
    }
    if (chunk.length > rawStart) pieces.push({ raw: chunk.subarray(rawStart) });
    return pieces;
  }
}

/** The frame with its 4-byte direct-TCP prefix, as it travels. */
export function framed(frame: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + frame.length);
  out.writeUInt32BE(frame.length, 0);
  frame.copy(out, FRAME_HEADER_BYTES);
  return out;
}

/** The clear SMB2 messages of a frame with their offsets (none for a transform or a malformed frame). */
export function messagesOf(frame: Buffer): Array<{ offset: number; length: number; command: number; status: number; flags: number }> {
  const out: Array<{ offset: number; length: number; command: number; status: number; flags: number }> = [];
  try {
    if (classifyMessage(frame) !== 'smb2') return out;
    let offset = 0;
    for (;;) {
      const header = decodeHeader(frame, offset);
      const next = header.nextCommand;
      const length = next === 0 || offset + next > frame.length ? frame.length - offset : next;
      out.push({ offset, length, command: header.command, status: header.status, flags: header.flags });
      if (next === 0 || offset + next >= frame.length) return out;
      offset += next;
    }
  } catch {
    return out;
  }
}

export function isTransform(frame: Buffer): boolean {
  try {
    return classifyMessage(frame) === 'transform';
  } catch {
    return false;
  }
}

/** A copy of `frame` with one bit inverted. */
export function flipBit(frame: Buffer, byte: number, bit: number): Buffer {
  if (byte < 0 || byte >= frame.length) throw new RangeError(`flipBit: byte ${byte} is outside the ${frame.length}-byte frame`);
  const copy = Buffer.from(frame);
  copy[byte]! ^= 1 << (bit & 7);
  return copy;
}

/** Acts once, on the first frame `matches` accepts; every other frame passes. */
function once(matches: (frame: Buffer) => FrameVerdict | undefined): Interference {
  let done = false;
  return (frame) => {
    if (done) return { kind: 'pass' };
    const verdict = matches(frame);
    if (verdict === undefined) return { kind: 'pass' };
    done = true;
    return verdict;
  };
}

/**
 * A server that stops in the middle of a large response: the first frame of at least
 * `minimumFrame` bytes is cut in half, then the connection freezes (nothing more arrives, the
 * socket stays open), is reset, or is closed as by a server process that died.
 */
export function midTransfer(kind: 'freeze' | 'reset' | 'close', minimumFrame: number): Interference {
  const what = { freeze: 'froze (nothing more from the server, connection left open)', reset: 'reset the connection (RST)', close: 'closed the connection (FIN), as a server process that died' }[kind];
  return once((frame) => {
    if (frame.length < minimumFrame) return undefined;
    const deliver = FRAME_HEADER_BYTES + Math.floor(frame.length / 2);
    return { kind, deliver, note: `harness: the server ${what} after ${deliver} of this ${FRAME_HEADER_BYTES + frame.length}-byte frame` };
  });
}

/** Where a tampered bit goes: the response's data, a field no check but the signature covers, or (encrypted) the ciphertext, tag or nonce. */
export type FlipSpot = 'data' | 'field' | 'header';

/**
 * One bit inverted in the first protected response carrying file data (a READ response; in an
 * encrypted session, the first transform of at least `minimumFrame` bytes). Signed: in the READ
 * data, in its DataRemaining field, or in the header's CreditResponse. Encrypted: in the
 * ciphertext, in the authentication tag, or in the nonce (which the tag covers).
 */
export function flipInDataResponse(spot: FlipSpot, minimumFrame: number): Interference {
  return once((frame) => {
    if (isTransform(frame)) {
      if (frame.length < minimumFrame) return undefined;
      const [byte, where] = spot === 'data'
        ? [TRANSFORM_HEADER_SIZE + Math.floor((frame.length - TRANSFORM_HEADER_SIZE) / 2), 'the ciphertext']
        : spot === 'field' ? [4 + 7, 'the authentication tag (Signature)'] : [20 + 3, 'the Nonce'];
      return { kind: 'replace', frame: flipBit(frame, byte, 2), note: `harness: bit 2 of byte ${byte} inverted (${where} of a transform)` };
    }
    for (const m of messagesOf(frame)) {
      if (m.command !== Command.Read || m.status !== NtStatus.Success || (m.flags & HeaderFlag.ServerToRedir) === 0) continue;
      const body = m.offset + SMB2_HEADER_SIZE;
      const dataOffset = frame[body + 2] ?? 0;
      const dataLength = frame.readUInt32LE(body + 4);
      if (dataLength === 0) continue;
      const [byte, where] = spot === 'data'
        ? [m.offset + dataOffset + Math.floor(dataLength / 2), 'the READ response\'s data']
        : spot === 'field' ? [body + 8, 'the READ response\'s DataRemaining'] : [m.offset + 14, 'the header\'s CreditResponse'];
      return { kind: 'replace', frame: flipBit(frame, byte, 2), note: `harness: bit 2 of byte ${byte} inverted (${where})` };
    }
    return undefined;
  });
}

/** An edit of the first successful clear response to `command` that `edit` changes (it returns a note, or undefined to leave the message). */
function editResponse(command: number, edit: (message: Buffer) => string | undefined): Interference {
  return once((frame) => {
    for (const m of messagesOf(frame)) {
      if (m.command !== command || m.status !== NtStatus.Success || (m.flags & HeaderFlag.ServerToRedir) === 0) continue;
      const copy = Buffer.from(frame);
      const note = edit(copy.subarray(m.offset, m.offset + m.length));
      if (note !== undefined) return { kind: 'replace', frame: copy, note: `harness: ${note}` };
    }
    return undefined;
  });
}

const NEGOTIATE_DIALECT = SMB2_HEADER_SIZE + 4;
const NEGOTIATE_CAPABILITIES = SMB2_HEADER_SIZE + 24;
const SESSION_SETUP_FLAGS = SMB2_HEADER_SIZE + 2;
const SMB2_WILDCARD = 0x02ff;
const LOWER: Record<number, number> = { [Dialect.Smb311]: Dialect.Smb302, [Dialect.Smb302]: Dialect.Smb210, [Dialect.Smb300]: Dialect.Smb210, [Dialect.Smb210]: Dialect.Smb202 };

const hex = (n: number, width = 4): string => `0x${n.toString(16).padStart(width, '0')}`;

/** The NEGOTIATE response's DialectRevision lowered one step (3.1.1 to 3.0.2, 3.0.x to 2.1, 2.1 to 2.0.2); the SMB1-to-SMB2 wildcard answer is left alone. */
export function dialectDowngrade(): Interference {
  return editResponse(Command.Negotiate, (message) => {
    const dialect = message.readUInt16LE(NEGOTIATE_DIALECT);
    const lower = LOWER[dialect];
    if (dialect === SMB2_WILDCARD || lower === undefined) return undefined;
    message.writeUInt16LE(lower, NEGOTIATE_DIALECT);
    return `NEGOTIATE response DialectRevision ${hex(dialect)} rewritten to ${hex(lower)}`;
  });
}

/** The NEGOTIATE response's Capabilities cleared (no LEASING, LARGE_MTU, ENCRYPTION, ...). */
export function capabilityDowngrade(): Interference {
  return editResponse(Command.Negotiate, (message) => {
    if (message.readUInt16LE(NEGOTIATE_DIALECT) === SMB2_WILDCARD) return undefined;
    const capabilities = message.readUInt32LE(NEGOTIATE_CAPABILITIES);
    if (capabilities === 0) return undefined;
    message.writeUInt32LE(0, NEGOTIATE_CAPABILITIES);
    return `NEGOTIATE response Capabilities ${hex(capabilities, 8)} cleared to 0x00000000`;
  });
}

/** SMB2_SESSION_FLAG_IS_GUEST set in the final (STATUS_SUCCESS) SESSION_SETUP response of a logon that was not a guest's. */
export function guestFlag(): Interference {
  return editResponse(Command.SessionSetup, (message) => {
    const flags = message.readUInt16LE(SESSION_SETUP_FLAGS);
    if ((flags & SessionFlag.IsGuest) !== 0) return undefined;
    message.writeUInt16LE(flags | SessionFlag.IsGuest, SESSION_SETUP_FLAGS);
    return `SESSION_SETUP response SessionFlags ${hex(flags)} rewritten to ${hex(flags | SessionFlag.IsGuest)} (IS_GUEST)`;
  });
}
