/**
 * READ data received in place: a large READ response whose request named a buffer for its data
 * (RequestOptions.readInto) is taken off the socket straight into that buffer, so it needs no
 * frame buffer and no copy afterwards; a signed one has its signature computed over the bytes as
 * they arrive. An encrypted one (GCM) is received into the buffer as ciphertext and decrypted
 * there once whole, in pieces of DECRYPT_PIECE: node:crypto returns every update in memory of
 * its own, and in a microbenchmark updates of 64-256 KiB (the socket's read sizes) took 1.7-2.5
 * times as long as 1 MiB ones, mostly in page faults (in whole transfers the difference stayed
 * within the noise).
 * The connection decides which frames qualify (Connection.route); this is what receives one.
 */
import type { AeadDecipher, SignatureCheck } from './crypto/index.js';
import type { RoutedFrame } from './transport.js';

/** The most ciphertext one node:crypto update is given (its output is a buffer that size). */
export const DECRYPT_PIECE = 1 << 20;

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
      for (let at = this.clear; at < this.placed; at += DECRYPT_PIECE) {
        const end = Math.min(this.placed, at + DECRYPT_PIECE);
        decipher.update(this.into.subarray(at, end)).copy(this.into, at);
      }
      this.clear = this.placed;
    }
    this.done(this);
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
