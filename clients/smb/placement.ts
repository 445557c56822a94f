/**
 * READ data received in place: a large READ response whose request named a buffer for its data
 * (RequestOptions.readInto) is taken off the socket straight into that buffer, so it needs no
 * frame buffer and no copy afterwards; a signed one has its signature computed over the bytes as
 * they arrive. An encrypted one (GCM) is received into the buffer as ciphertext and decrypted
 * there once whole (AeadDecipher.decryptInPlace: natively in place, or through node:crypto in
 * pieces of DECRYPT_PIECE copied back).
 * A compound chain of responses is received message by message (PlacedChain), each READ in it
 * this way. The connection decides which frames qualify (Connection.route); this is what
 * receives one.
 */
import type { AeadDecipher, SignatureCheck } from './crypto/index.js';
import type { RoutedFrame } from './frame-reader.js';
import { READ_RESPONSE_DATA_OFFSET, SMB2_HEADER_SIZE, checkNextCommand, decodeHeader, protocolError } from './wire/index.js';
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
