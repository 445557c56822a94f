/**
 * Compounded requests and responses (MS-SMB2 3.2.4.1.4, 3.3.5.2.7): several messages in one
 * transport frame, each starting 8-byte aligned, chained by the header's NextCommand.
 */
import { SMB2_HEADER_SIZE, alignUp, protocolError } from './buffer.js';
import { HeaderFlag, decodeHeader, encodeHeader } from './header.js';
import type { HeaderFields } from './header.js';

export interface CompoundPart {
  /** NextCommand is filled in, and RelatedOperations for related chains. */
  header: HeaderFields;
  /** The body, whole or in parts (a WRITE's fixed part and its data). */
  body: Buffer | readonly Buffer[];
}

export interface Compound {
  /** The whole frame to send. */
  message: Buffer;
  /** Views of each message including its trailing padding: what each signature covers. */
  parts: Buffer[];
}

export interface ChainOptions {
  related: boolean;
  /** Set in every message's Flags besides its own (SMB2_FLAGS_SIGNED for a signed chain). */
  flags?: number;
}

/** Zero bytes that pad a message of a chain to the next 8-byte boundary. */
const PADDING = Buffer.alloc(7);

function bodyLength(body: Buffer | readonly Buffer[]): number {
  if (Buffer.isBuffer(body)) return body.length;
  let length = 0;
  for (const part of body) length += part.length;
  return length;
}

/**
 * A chain as the pieces of its frame, in order (each header, its body's parts, its padding),
 * without copying any body: for a chain nothing needs in one piece (unsigned, nothing
 * watching). `sizes` are the messages' lengths including their padding. With `related`, every
 * message after the first carries SMB2_FLAGS_RELATED_OPERATIONS, so it inherits the SessionId,
 * TreeId and (with RELATED_FILE_ID in the body) the FileId of the one before.
 */
export function buildCompoundVector(parts: readonly CompoundPart[], options: ChainOptions): { pieces: Buffer[]; sizes: number[] } {
  const flags = options.flags ?? 0;
  const pieces: Buffer[] = [];
  const sizes: number[] = [];
  for (const [i, part] of parts.entries()) {
    const length = SMB2_HEADER_SIZE + bodyLength(part.body);
    const isLast = i === parts.length - 1;
    const size = isLast ? length : alignUp(length);
    const related = options.related && i > 0 ? HeaderFlag.RelatedOperations : 0;
    pieces.push(encodeHeader(part.header, (flags | related) >>> 0, isLast ? 0 : size));
    if (Buffer.isBuffer(part.body)) pieces.push(part.body);
    else for (const piece of part.body) pieces.push(piece);
    if (size > length) pieces.push(PADDING.subarray(0, size - length));
    sizes.push(size);
  }
  return { pieces, sizes };
}

/** A chain in one buffer (buildCompoundVector joined), with a view of each message to sign. */
export function buildCompound(parts: readonly CompoundPart[], options: ChainOptions): Compound {
  const { pieces, sizes } = buildCompoundVector(parts, options);
  const message = Buffer.concat(pieces);
  const views: Buffer[] = [];
  let offset = 0;
  for (const size of sizes) {
    views.push(message.subarray(offset, offset + size));
    offset += size;
  }
  return { message, parts: views };
}

const STRUCTURE = 'compound';

/**
 * Checks the NextCommand of the `index`th message of a chain, which starts at `offset` of a
 * `frameLength`-byte frame: one that points backwards, into its own header, off alignment or
 * past the end is a ProtocolError.
 */
export function checkNextCommand(next: number, offset: number, frameLength: number, index: number): void {
  const field = `[${index}].NextCommand`;
  if (next < SMB2_HEADER_SIZE) throw protocolError(STRUCTURE, field, `${next} points inside the message's own header`);
  if (next % 8 !== 0) throw protocolError(STRUCTURE, field, `${next} is not 8-byte aligned`);
  if (offset + next + SMB2_HEADER_SIZE > frameLength) {
    throw protocolError(STRUCTURE, field, `${next} at offset ${offset} points past the ${frameLength}-byte frame`);
  }
}

/**
 * Splits a received frame into its messages (views, each starting at its header), checking
 * each NextCommand (checkNextCommand). A single non-compound message comes back as a
 * one-element list.
 */
export function splitCompound(frame: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const next = decodeHeader(frame, offset).nextCommand;
    if (next === 0) {
      messages.push(frame.subarray(offset));
      return messages;
    }
    checkNextCommand(next, offset, frame.length, messages.length);
    messages.push(frame.subarray(offset, offset + next));
    offset += next;
  }
}
