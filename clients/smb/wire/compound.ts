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
  body: Buffer;
}

export interface Compound {
  /** The whole frame to send. */
  message: Buffer;
  /** Views of each message including its trailing padding: what each signature covers. */
  parts: Buffer[];
}

/**
 * Builds a chain. With `related`, every message after the first carries
 * SMB2_FLAGS_RELATED_OPERATIONS, so it inherits the SessionId, TreeId and (with
 * RELATED_FILE_ID in the body) the FileId of the one before.
 */
export function buildCompound(parts: readonly CompoundPart[], options: { related: boolean }): Compound {
  const sizes = parts.map((part, i) => {
    const length = SMB2_HEADER_SIZE + part.body.length;
    return i < parts.length - 1 ? alignUp(length) : length;
  });
  const message = Buffer.alloc(sizes.reduce((a, b) => a + b, 0));
  const views: Buffer[] = [];
  let offset = 0;
  for (const [i, part] of parts.entries()) {
    const size = sizes[i] ?? 0;
    const isLast = i === parts.length - 1;
    let flags = part.header.flags ?? 0;
    if (options.related && i > 0) flags = (flags | HeaderFlag.RelatedOperations) >>> 0;
    const header = encodeHeader({ ...part.header, flags, nextCommand: isLast ? 0 : size });
    header.copy(message, offset);
    part.body.copy(message, offset + SMB2_HEADER_SIZE);
    views.push(message.subarray(offset, offset + size));
    offset += size;
  }
  return { message, parts: views };
}

const STRUCTURE = 'compound';

/**
 * Splits a received frame into its messages (views, each starting at its header). A
 * NextCommand that points backwards, into its own header, off alignment or past the end is a
 * ProtocolError. A single non-compound message comes back as a one-element list.
 */
export function splitCompound(frame: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const header = decodeHeader(frame, offset);
    const next = header.nextCommand;
    if (next === 0) {
      messages.push(frame.subarray(offset));
      return messages;
    }
    const field = `[${messages.length}].NextCommand`;
    if (next < SMB2_HEADER_SIZE) {
      throw protocolError(STRUCTURE, field, `${next} points inside the message's own header`);
    }
    if (next % 8 !== 0) {
      throw protocolError(STRUCTURE, field, `${next} is not 8-byte aligned`);
    }
    if (offset + next + SMB2_HEADER_SIZE > frame.length) {
      throw protocolError(STRUCTURE, field, `${next} at offset ${offset} points past the ${frame.length}-byte frame`);
    }
    messages.push(frame.subarray(offset, offset + next));
    offset += next;
  }
}
