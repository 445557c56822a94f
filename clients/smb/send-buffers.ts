/**
 * Memory for the encrypted messages a connection sends. A large message is sealed into a frame
 * taken from here (encryptMessageInto) and the frame comes back once the socket has taken its
 * bytes, so a transfer of many WRITEs cycles through a few frames instead of leaving one
 * allocation per request for V8 to collect (each of which it counts towards its next
 * collection). Small messages get memory of their own, as before.
 */

/** Frames at least this large are reused. */
export const REUSED_FRAME_MINIMUM = 64 * 1024;
/** Reused frames have a capacity in steps of this, so WRITEs of one size share them. */
const CAPACITY_STEP = 64 * 1024;
/** The most memory kept for reuse: a window of 1 MiB WRITEs (io.ts IO_WINDOW_BYTES) and some. */
export const REUSED_BYTES_LIMIT = 12 << 20;

export class SendBuffers {
  private readonly free: Buffer[] = [];
  private keptBytes = 0;
  private cleared = false;

  /** Memory kept for reuse now (for tests and diagnostics). */
  get kept(): number {
    return this.keptBytes;
  }

  /** `length` bytes, not zeroed: a reused frame's start, or new memory. */
  take(length: number): Buffer {
    if (length < REUSED_FRAME_MINIMUM) return Buffer.allocUnsafe(length);
    const capacity = Math.ceil(length / CAPACITY_STEP) * CAPACITY_STEP;
    for (let i = this.free.length - 1; i >= 0; i--) {
      const frame = this.free[i]!;
      if (frame.length !== capacity) continue;
      this.free.splice(i, 1);
      this.keptBytes -= capacity;
      return frame.subarray(0, length);
    }
    return Buffer.allocUnsafe(capacity).subarray(0, length);
  }

  /**
   * A frame from take() whose bytes the socket no longer needs. Only after that: a frame given
   * back is handed out again and overwritten.
   */
  give(frame: Buffer): void {
    if (frame.length < REUSED_FRAME_MINIMUM || this.cleared) return;
    const whole = Buffer.from(frame.buffer, frame.byteOffset, frame.buffer.byteLength - frame.byteOffset);
    if (whole.length % CAPACITY_STEP !== 0 || this.keptBytes + whole.length > REUSED_BYTES_LIMIT) return;
    if (this.free.some((kept) => kept.buffer === whole.buffer)) return;
    this.free.push(whole);
    this.keptBytes += whole.length;
  }

  /** Lets go of every kept frame and keeps none from now on (the connection ended). */
  clear(): void {
    this.cleared = true;
    this.free.length = 0;
    this.keptBytes = 0;
  }
}
