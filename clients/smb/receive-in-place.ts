/**
 * Receive-in-place: READ data taken off the socket straight into the reader's buffer. A large
 * READ response whose request named a buffer for its data (RequestOptions.readInto) needs no
 * frame buffer and no copy afterwards; a signed one has its signature computed over the bytes
 * as they arrive. An encrypted one (GCM) is received into the buffer as ciphertext and decrypted
 * there once whole (AeadDecipher.decryptInPlace: natively in place, or through node:crypto in
 * pieces of DECRYPT_PIECE copied back). A compound chain of responses is received message by
 * message (PlacedChain), each READ in it this way.
 *
 * ReceiveInPlace is the transport's LargeFrameHook: shown a large frame's first bytes, it
 * decides whether the frame qualifies and takes it; the connection answers what it asks
 * (InPlaceHost) and receives every other frame whole.
 */
import { TRANSFORM_HEADER_BYTES, isGcm, openMessageDecipher, openSignatureCheck, parseTransformHeader } from './crypto/index.js';
import type { AeadDecipher, SignatureCheck } from './crypto/index.js';
import { ProtocolError, SecurityError } from './errors.js';
import type { LargeFrameHook, RoutedFrame } from './frame-reader.js';
import { formatSessionId } from './requests.js';
import type { Outstanding, SessionSecurity } from './requests.js';
import {
  Command,
  HeaderFlag,
  NtStatus,
  READ_RESPONSE_DATA_OFFSET,
  SMB2_HEADER_SIZE,
  checkNextCommand,
  classifyMessage,
  decodeHeader,
  decodeReadResponseHead,
  isResponse,
  protocolError,
} from './wire/index.js';
import type { Header } from './wire/index.js';

/** What the connection is shown of a large frame: a TRANSFORM_HEADER (52), an SMB2 header (64) and a READ response's fixed part (16). */
export const ROUTE_PREFIX_BYTES = 132;
/** Smaller frames are not worth receiving in place. */
export const ROUTE_MINIMUM = 4096;

export class PlacedRead implements RoutedFrame {
  private placed = 0;
  /** Encrypted: the bytes before this are clear (decrypted in place), from here to `placed` ciphertext. */
  private clear = 0;

  /**
   * @param into exactly the response's DataLength bytes of the reader's buffer
   * @param decipher set for an encrypted response: the bytes that arrive are ciphertext
   * @param check set for a signed response: it is given every clear byte after the fixed fields
   * @param live false once the request is over (timed out, connection failing): bytes still
   *   arriving are then consumed without touching `into`, which its owner may be reusing
   * @param done the whole response arrived
   */
  constructor(
    private readonly into: Buffer,
    private readonly decipher: AeadDecipher | undefined,
    private readonly check: SignatureCheck | undefined,
    private readonly live: () => boolean,
    private readonly done: (read: PlacedRead) => void,
  ) {}

  /** The data, once done: a view of the reader's buffer. */
  get data(): Buffer {
    return this.into;
  }

  target(minimum: number): Buffer | undefined {
    if (!this.live() || this.into.length - this.placed < minimum) return undefined;
    return this.into.subarray(this.placed);
  }

  filled(length: number): void {
    this.check?.update(this.into.subarray(this.placed, this.placed + length));
    this.placed += length;
  }

  push(chunk: Buffer): void {
    if (!this.live()) {
      // The request is over and `into` is its owner's again; the connection is failing, so
      // the bytes are only consumed (the frame's tag no longer decides anything).
      this.placed += chunk.length;
      this.clear = this.placed;
      return;
    }
    chunk.copy(this.into, this.placed);
    this.check?.update(chunk);
    this.placed += chunk.length;
  }

  finish(): void {
    const decipher = this.decipher;
    if (decipher !== undefined && this.live()) {
      decipher.decryptInPlace(this.into.subarray(this.clear, this.placed));
      this.clear = this.placed;
    }
    this.done(this);
  }

  /** Bytes after the data that its signature covers too (a chained message's padding). */
  pad(bytes: Buffer): void {
    if (this.live()) this.check?.update(bytes);
  }

  /** Checks the tag of an encrypted response (SecurityError when it does not match); `data` counts only after this. */
  verify(): void {
    this.decipher?.final();
  }

  /** For a signed response: whether its signature matched the bytes received. */
  signatureMatches(): boolean {
    return this.check?.verify() ?? false;
  }
}

/** An SMB2 header and a READ response's fixed part: what decides where a READ's data goes. */
const READ_HEAD_BYTES = READ_RESPONSE_DATA_OFFSET;

/** What a chain of responses asks the connection, message by message. */
export interface ChainHooks {
  /**
   * A message's first bytes: its header (`header`, decoded) and, when it is long enough, the 16
   * bytes after it (`head`, the chain's to give away). Returns where its data goes, and how many
   * bytes of the message that data is, or undefined to receive the message whole.
   */
  place(head: Buffer, header: Header, length: number, last: boolean): { read: PlacedRead; dataLength: number } | undefined;
  /** A message received whole (with its trailing padding, as a signature covers it). */
  whole(message: Buffer): void;
  /** The frame's last byte arrived. */
  end(): void;
}

/**
 * A compound response (MS-SMB2 3.3.4.1.3) received message by message: each READ that may
 * (ChainHooks.place) has its data received in place (PlacedRead) and is done when its last
 * byte, padding included, arrives; anything else is collected whole and handed on as it
 * completes. Between two messages, reads stop at the next one's head (boundary()), so its data
 * lands in place too. A NextCommand that does not fit the frame is a ProtocolError.
 */
export class PlacedChain implements RoutedFrame {
  /** Where the current message starts, and its length once its header is in (0 before). */
  private start = 0;
  private length = 0;
  private index = 0;
  private head = Buffer.allocUnsafe(READ_HEAD_BYTES);
  private headFill = 0;
  /** The current message's header, once its first 64 bytes are in. */
  private header: Header | undefined;
  private read: PlacedRead | undefined;
  private dataLeft = 0;
  private padLeft = 0;
  private whole: Buffer | undefined;
  private wholeFill = 0;

  constructor(private readonly frameLength: number, private readonly hooks: ChainHooks) {}

  target(minimum: number): Buffer | undefined {
    if (this.read === undefined || this.dataLeft < minimum) return undefined;
    return this.read.target(minimum)?.subarray(0, this.dataLeft);
  }

  filled(length: number): void {
    this.read!.filled(length);
    this.dataLeft -= length;
    if (this.dataLeft === 0 && this.padLeft === 0) this.endPlaced();
  }

  boundary(): number | undefined {
    const last = this.start + this.length === this.frameLength && this.length > 0;
    if (this.read !== undefined) return last ? undefined : this.dataLeft + this.padLeft + READ_HEAD_BYTES;
    if (this.whole !== undefined) return last ? undefined : this.whole.length - this.wholeFill + READ_HEAD_BYTES;
    return READ_HEAD_BYTES - this.headFill;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.read !== undefined) {
        if (this.dataLeft > 0) {
          const take = Math.min(this.dataLeft, chunk.length - at);
          this.read.push(chunk.subarray(at, at + take));
          this.dataLeft -= take;
          at += take;
        } else {
          const take = Math.min(this.padLeft, chunk.length - at);
          this.read.pad(chunk.subarray(at, at + take));
          this.padLeft -= take;
          at += take;
        }
        if (this.dataLeft === 0 && this.padLeft === 0) this.endPlaced();
      } else if (this.whole !== undefined) {
        const take = Math.min(this.whole.length - this.wholeFill, chunk.length - at);
        chunk.copy(this.whole, this.wholeFill, at, at + take);
        this.wholeFill += take;
        at += take;
        if (this.wholeFill === this.whole.length) this.endWhole();
      } else {
        at += this.collectHead(chunk, at);
      }
    }
  }

  finish(): void {
    if (this.start !== this.frameLength) {
      throw protocolError('compound', `[${this.index}]`, `the ${this.frameLength}-byte frame ends inside this message`);
    }
    this.hooks.end();
  }

  /** Takes bytes of the current message's head; once it is in, decides where the rest goes. Returns the bytes taken. */
  private collectHead(chunk: Buffer, at: number): number {
    const wanted = (this.length === 0 ? SMB2_HEADER_SIZE : Math.min(READ_HEAD_BYTES, this.length)) - this.headFill;
    const take = Math.min(wanted, chunk.length - at);
    chunk.copy(this.head, this.headFill, at, at + take);
    this.headFill += take;
    if (take < wanted) return take;
    if (this.length === 0) {
      this.header = decodeHeader(this.head.subarray(0, SMB2_HEADER_SIZE));
      const next = this.header.nextCommand;
      const rest = this.frameLength - this.start;
      if (next === 0) {
        if (rest < SMB2_HEADER_SIZE) throw protocolError('compound', `[${this.index}]`, `needs ${SMB2_HEADER_SIZE} bytes but ${rest} are left of the frame`);
      } else {
        checkNextCommand(next, this.start, this.frameLength, this.index);
      }
      this.length = next === 0 ? rest : next;
      // The head may now be complete (a message of 64 bytes), or want its READ fields.
      if (Math.min(READ_HEAD_BYTES, this.length) > this.headFill) return take;
    }
    const head = this.head.subarray(0, this.headFill);
    this.head = Buffer.allocUnsafe(READ_HEAD_BYTES);
    this.headFill = 0;
    const last = this.start + this.length === this.frameLength;
    const placed = this.length >= READ_HEAD_BYTES ? this.hooks.place(head, this.header!, this.length, last) : undefined;
    if (placed !== undefined) {
      this.read = placed.read;
      this.dataLeft = placed.dataLength;
      this.padLeft = this.length - READ_HEAD_BYTES - placed.dataLength;
      if (this.dataLeft === 0 && this.padLeft === 0) this.endPlaced();
    } else {
      this.whole = Buffer.allocUnsafe(this.length);
      this.wholeFill = head.copy(this.whole, 0);
      if (this.wholeFill === this.length) this.endWhole();
    }
    return take;
  }

  private endWhole(): void {
    const message = this.whole!;
    this.whole = undefined;
    this.next();
    this.hooks.whole(message);
  }

  private endPlaced(): void {
    const read = this.read!;
    this.read = undefined;
    this.next();
    read.finish();
  }

  private next(): void {
    this.start += this.length;
    this.length = 0;
    this.header = undefined;
    this.index++;
  }
}

/** What ReceiveInPlace asks of the connection. */
export interface InPlaceHost {
  /** Frames may be received in place (the connection is open, nothing needs them whole). */
  readonly receiving: boolean;
  outstanding(messageId: bigint): Outstanding | undefined;
  session(sessionId: bigint): SessionSecurity | undefined;
  /** A READ response received in place, its data verified (and its signature, when `verified`). */
  placed(message: Buffer, transformSessionId: bigint | undefined, data: Buffer, verified: boolean): void;
  /** A message of a chain received whole. */
  whole(message: Buffer): void;
  /** A chain of responses is arriving (true) or has ended (false). */
  chain(arriving: boolean): void;
  fail(error: Error): void;
}

export class ReceiveInPlace implements LargeFrameHook {
  readonly prefixBytes = ROUTE_PREFIX_BYTES;
  readonly minimumFrame = ROUTE_MINIMUM;
  /** The READ whose response is being received in place, while it is. */
  placing: Outstanding | undefined;

  constructor(private readonly host: InPlaceHost) {}

  /**
   * A large READ response to a request that gave `readInto` goes straight into that buffer
   * (PlacedRead). Only a successful response with its data right after the fixed fields
   * qualifies: clear, signed (verified over the bytes as they arrive) or GCM-encrypted, alone in
   * its frame or (clear) in a chain of responses, whose other messages are received whole
   * (PlacedChain); anything else (CCM, an encrypted chain, whatever looks odd) is received whole
   * and judged the usual way. Connection.receivesInPlace predicts this for the read stream's
   * READ size and must change with it.
   */
  arriving(prefix: Buffer, frameLength: number): RoutedFrame | undefined {
    if (!this.host.receiving) return undefined;
    let chain: PlacedChain;
    try {
      if (classifyMessage(prefix) === 'transform') {
        const transformSessionId = parseTransformHeader(prefix).sessionId;
        const security = this.host.session(transformSessionId);
        if (security?.cipher === undefined || security.decryptionKey === undefined || !isGcm(security.cipher)) return undefined;
        const decipher = openMessageDecipher({ cipher: security.cipher, key: security.decryptionKey, head: prefix, frameLength });
        const head = decipher.update(prefix.subarray(TRANSFORM_HEADER_BYTES));
        const header = decodeHeader(head);
        if (header.nextCommand !== 0 || header.sessionId !== transformSessionId) return undefined;
        return this.placeRead(head, header, frameLength - TRANSFORM_HEADER_BYTES, 0, decipher, transformSessionId)?.read;
      }
      const header = decodeHeader(prefix);
      if (header.nextCommand === 0) {
        const read = this.placeRead(prefix, header, frameLength, 0)?.read;
        // The first data bytes came with the prefix.
        read?.push(prefix.subarray(READ_RESPONSE_DATA_OFFSET));
        return read;
      }
      if (this.placeable(header) === undefined) return undefined;
      chain = new PlacedChain(frameLength, {
        place: (head, header, length, last) => this.placeRead(head, header, length, last ? 0 : 7),
        whole: (message) => this.host.whole(message),
        end: () => this.host.chain(false),
      });
    } catch {
      return undefined;
    }
    // From here the prefix is the chain's: a malformed chain fails the connection (through the transport).
    this.host.chain(true);
    chain.push(prefix);
    return chain;
  }

  /** The outstanding READ a response may be received in place for, if it may. */
  private placeable(header: Header): Outstanding | undefined {
    if (header.command !== Command.Read || !isResponse(header) || header.status !== NtStatus.Success) return undefined;
    const item = this.host.outstanding(header.messageId);
    if (item === undefined || item.options.readInto === undefined || item.command !== 'READ') return undefined;
    return item;
  }

  /**
   * Where a READ response's data goes when it can be received in place. `head`: the clear
   * message's first 80 bytes (header and fixed fields), kept as the response's message;
   * `length`: the message's bytes, of which up to `padding` may follow the data (a chain's
   * alignment); `decipher`: set when the bytes that follow arrive encrypted.
   */
  private placeRead(head: Buffer, header: Header, length: number, padding: number, decipher?: AeadDecipher, transformSessionId?: bigint): { read: PlacedRead; dataLength: number } | undefined {
    const item = this.placeable(header);
    const wanted = item?.options.readInto;
    if (item === undefined || wanted === undefined) return undefined;
    // Memory asked for on demand: for an encrypted response, the decrypted message received
    // whole can be that memory (its data a view of it), one allocation instead of two, since
    // node:crypto returns what it decrypts in memory of its own.
    if (decipher !== undefined && typeof wanted === 'function') return undefined;
    const { dataOffset, dataLength } = decodeReadResponseHead(head);
    const end = dataOffset + dataLength;
    if (dataOffset !== READ_RESPONSE_DATA_OFFSET || end > length || length - end > padding) return undefined;
    if (dataLength > (typeof wanted === 'function' ? item.options.payloadSize ?? 0 : wanted.length)) return undefined;
    const message = head.subarray(0, dataOffset);
    let check: SignatureCheck | undefined;
    const sessionId = item.options.sessionId ?? 0n;
    if ((header.flags & HeaderFlag.Signed) !== 0) {
      // As for a response received whole: the request's session signs a READ response.
      const security = this.host.session(sessionId);
      if (decipher !== undefined || security?.signingKey === undefined) return undefined;
      check = openSignatureCheck(security.signingAlgorithm, security.signingKey, message);
    }
    const into = typeof wanted === 'function' ? wanted(dataLength) : wanted;
    const host = this.host;
    const read = new PlacedRead(into.subarray(0, dataLength), decipher, check, () => host.receiving && host.outstanding(header.messageId) === item, (placed) => {
      this.placing = undefined;
      try {
        placed.verify();
        if (check !== undefined && !placed.signatureMatches()) {
          throw new SecurityError(`bad signature on READ response (message id ${header.messageId}, session ${formatSessionId(sessionId)})`, { command: 'READ' });
        }
        host.placed(message, transformSessionId, placed.data, check !== undefined);
      } catch (error) {
        host.fail(error instanceof Error ? error : new ProtocolError(String(error)));
      }
    });
    this.placing = item;
    return { read, dataLength };
  }
}
