/**
 * READ data received in place: a large READ response whose request named a buffer for its data
 * (RequestOptions.readInto) is taken off the socket straight into that buffer, or decrypted into
 * it piece by piece as it arrives (GCM), so it needs no frame buffer and no copy afterwards; a
 * signed one has its signature computed over the bytes as they arrive.
 * The connection decides which frames qualify (Connection.route); this is what receives one.
 */
import type { AeadDecipher, SignatureCheck } from './crypto/index.js';
import type { RoutedFrame } from './transport.js';

export class PlacedRead implements RoutedFrame {
  private placed = 0;

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
    if (this.decipher !== undefined || !this.live() || this.into.length - this.placed < minimum) return undefined;
    return this.into.subarray(this.placed);
  }

  filled(length: number): void {
    this.check?.update(this.into.subarray(this.placed, this.placed + length));
    this.placed += length;
  }

  push(chunk: Buffer): void {
    // Decrypting continues after the request is over: the tag check at the end needs every byte.
    const clear = this.decipher === undefined ? chunk : this.decipher.update(chunk);
    this.check?.update(clear);
    if (this.live()) clear.copy(this.into, this.placed);
    this.placed += clear.length;
  }

  finish(): void {
    this.done(this);
  }

  /** Checks the tag of an encrypted response (SecurityError when it does not match). */
  verify(): void {
    this.decipher?.final();
  }

  /** For a signed response: whether its signature matched the bytes received. */
  signatureMatches(): boolean {
    return this.check?.verify() ?? false;
  }
}
