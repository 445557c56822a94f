/**
 * Direct TCP framing (MS-SMB2 2.1): every SMB2 message travels behind a 4-byte header whose
 * first byte is zero and whose other three bytes are the message length, big-endian. The
 * FrameReader reassembles messages from socket chunks; it knows nothing of what they hold.
 */
import { ProtocolError } from './errors.js';

export const FRAME_HEADER_BYTES = 4;
/** Frames at least this large reuse the memory of a released one (fewer allocations, no page faults). */
export const REUSE_MINIMUM = 64 * 1024;

/**
 * Where the bytes of one large frame go instead of a buffer of its own (READ data straight into
 * the reader's buffer). The FrameReader hands over every byte after the prefix, in order, then
 * calls finish().
 */
export interface RoutedFrame {
  /** Memory the next bytes may be received into in place (at least `minimum` bytes), or undefined: use push(). */
  target(minimum: number): Buffer | undefined;
  /** `length` bytes were received into the buffer target() returned last. */
  filled(length: number): void;
  /** The next bytes, in memory the caller reuses afterwards. */
  push(chunk: Buffer): void;
  /**
   * When target() has no place for the next bytes: the most the next socket read should take
   * (the header of a chained message, so the data after it lands in place); undefined for no limit.
   */
  boundary?(): number | undefined;
  /** Every byte of the frame has arrived. */
  finish(): void;
}

/**
 * A large frame is arriving: once its first `prefixBytes` have arrived (a frame of at least
 * `minimumFrame` bytes), `arriving` is shown them and may take the rest of the frame (a
 * RoutedFrame); undefined receives the frame as usual. `prefix` belongs to the hook from then on.
 */
export interface LargeFrameHook {
  readonly prefixBytes: number;
  readonly minimumFrame: number;
  arriving(prefix: Buffer, frameLength: number): RoutedFrame | undefined;
}

/**
 * Reassembles frames from arbitrary chunks. A frame inside one chunk is handed on as a view
 * (unless the chunk is `reused`); a frame spanning chunks is copied once into a buffer of its
 * exact size, allocated when its length is known, so an 8 MiB frame arriving in 64 KiB
 * chunks costs one 8 MiB copy, not a growing concatenation. With a router, a large frame's
 * first bytes are shown to it first, and it may take the rest (RoutedFrame).
 */
export class FrameReader {
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFill = 0;
  private frame: Buffer | undefined;
  private frameFill = 0;
  /** The start of a large frame, collected for the router. */
  private prefix: Buffer | undefined;
  private prefixFill = 0;
  /** The length of the frame being received when it is collected as a prefix or routed. */
  private frameLength = 0;
  private routed: RoutedFrame | undefined;
  private routedLeft = 0;
  /** A released large frame's memory, for the next large frame. */
  private spare: Buffer | undefined;
  /**
   * The last large frame was read into place: the next one likely is too (a run of READ
   * responses), so reads between frames stop where its prefix ends (boundaryRead).
   */
  private inPlaceRun = false;

  private readonly prefixBytes: number;
  private readonly minimumFrame: number;

  constructor(private readonly onFrame: (frame: Buffer) => unknown, private readonly router?: LargeFrameHook) {
    this.prefixBytes = router?.prefixBytes ?? 0;
    this.minimumFrame = router?.minimumFrame ?? Infinity;
  }

  private allocate(length: number): Buffer {
    const spare = this.spare;
    if (spare !== undefined && length >= REUSE_MINIMUM && length <= spare.length) {
      this.spare = undefined;
      return spare.subarray(0, length);
    }
    return Buffer.allocUnsafe(length);
  }

  /** Hands a completed frame on; keeps its memory when the receiver released it. */
  private deliver(frame: Buffer, owned: boolean): void {
    const released = this.onFrame(frame) === true;
    if (owned && released && frame.length >= REUSE_MINIMUM && (this.spare === undefined || this.spare.length < frame.buffer.byteLength)) {
      this.spare = Buffer.from(frame.buffer, frame.byteOffset, frame.buffer.byteLength - frame.byteOffset);
    }
  }

  /** Bytes received of the header or message not yet complete. */
  get pendingBytes(): number {
    if (this.frame !== undefined) return this.frameFill;
    if (this.prefix !== undefined) return this.prefixFill;
    if (this.routed !== undefined) return this.frameLength - this.routedLeft;
    return this.headerFill;
  }

  /** Length of the frame being received, when its header has arrived. */
  get expectedBytes(): number | undefined {
    if (this.frame !== undefined) return this.frame.length;
    return this.prefix !== undefined || this.routed !== undefined ? this.frameLength : undefined;
  }

  /**
   * Where the next socket read may go directly: the rest of a large frame being received, so
   * its bytes land in place instead of being copied (then report them with `filled`).
   */
  directTarget(minimum: number): Buffer | undefined {
    if (this.routed !== undefined) {
      const target = this.routed.target(minimum);
      return target === undefined || target.length < minimum ? undefined : target.subarray(0, this.routedLeft);
    }
    const frame = this.frame;
    if (frame === undefined || frame.length - this.frameFill < minimum) return undefined;
    return frame.subarray(this.frameFill);
  }

  /**
   * How many bytes the next socket read should take when directTarget() has no place for it:
   * undefined (as many as there are), or, during a run of frames read into place, only up to
   * the end of the next frame's routing prefix. The rest of that frame is then read into place
   * instead of arriving with the prefix and being copied.
   */
  boundaryRead(): number | undefined {
    if (!this.inPlaceRun || this.frame !== undefined) return undefined;
    if (this.routed !== undefined) {
      const inner = this.routed.boundary?.();
      if (inner !== undefined) return Math.min(inner, this.routedLeft);
      // The last bytes of a frame being read into place (too few for a read of their own) come with the next prefix.
      return this.routedLeft + FRAME_HEADER_BYTES + this.prefixBytes;
    }
    if (this.prefix !== undefined) return this.prefixBytes - this.prefixFill;
    return FRAME_HEADER_BYTES - this.headerFill + this.prefixBytes;
  }

  /** `length` bytes were read straight into the buffer directTarget() returned. */
  filled(length: number): void {
    if (this.routed !== undefined) {
      this.routed.filled(length);
      this.routedDone(length);
      return;
    }
    const frame = this.frame;
    if (frame === undefined) throw new Error('FrameReader: filled() without a frame in progress');
    this.frameFill += length;
    if (this.frameFill === frame.length) {
      this.frame = undefined;
      this.frameFill = 0;
      this.deliver(frame, true);
    }
  }

  /** A frame's length is known: receive it as a view, a prefix for the router, or into its own buffer. */
  private begin(length: number, chunk: Buffer, at: number, reused: boolean): number {
    if (length < this.minimumFrame) this.inPlaceRun = false;
    if (length >= this.minimumFrame) {
      this.prefix = Buffer.allocUnsafe(this.prefixBytes);
      this.prefixFill = 0;
      this.frameLength = length;
      return at;
    }
    if (!reused && chunk.length - at >= length) {
      this.onFrame(chunk.subarray(at, at + length));
      return at + length;
    }
    this.frame = this.allocate(length);
    return at;
  }

  /** The prefix is complete: the router takes the rest, or the frame gets its own buffer. */
  private route(): void {
    const prefix = this.prefix!;
    this.prefix = undefined;
    const routed = this.router!.arriving(prefix, this.frameLength);
    this.inPlaceRun = routed?.target(0) !== undefined;
    if (routed !== undefined) {
      this.routed = routed;
      this.routedLeft = this.frameLength - this.prefixBytes;
      if (this.routedLeft === 0) this.finishRouted();
      return;
    }
    this.frame = this.allocate(this.frameLength);
    this.frameFill = prefix.copy(this.frame, 0);
  }

  /** `length` more bytes of the routed frame were handed over; the last ones finish it. */
  private routedDone(length: number): void {
    this.routedLeft -= length;
    if (this.routedLeft === 0) this.finishRouted();
  }

  private finishRouted(): void {
    const routed = this.routed!;
    this.routed = undefined;
    routed.finish();
  }

  /** `reused`: the caller overwrites `chunk` afterwards, so no frame may be a view of it. */
  push(chunk: Buffer, reused = false): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.routed !== undefined) {
        const take = Math.min(this.routedLeft, chunk.length - at);
        this.routed.push(chunk.subarray(at, at + take));
        at += take;
        this.routedDone(take);
        continue;
      }
      if (this.prefix !== undefined) {
        const used = chunk.copy(this.prefix, this.prefixFill, at, at + this.prefixBytes - this.prefixFill);
        this.prefixFill += used;
        at += used;
        if (this.prefixFill === this.prefixBytes) this.route();
        continue;
      }
      if (this.frame === undefined) {
        if (this.headerFill === 0 && chunk.length - at >= FRAME_HEADER_BYTES) {
          const length = frameLength(chunk.subarray(at, at + FRAME_HEADER_BYTES));
          at = this.begin(length, chunk, at + FRAME_HEADER_BYTES, reused);
        } else {
          const used = chunk.copy(this.header, this.headerFill, at, at + FRAME_HEADER_BYTES - this.headerFill);
          this.headerFill += used;
          at += used;
          if (this.headerFill < FRAME_HEADER_BYTES) return;
          this.headerFill = 0;
          at = this.begin(frameLength(this.header), chunk, at, reused);
        }
      }
      const frame = this.frame;
      if (frame === undefined) continue;
      const used = chunk.copy(frame, this.frameFill, at, at + frame.length - this.frameFill);
      this.frameFill += used;
      at += used;
      if (this.frameFill === frame.length) {
        this.frame = undefined;
        this.frameFill = 0;
        this.deliver(frame, true);
      }
    }
  }
}

function frameLength(header: Buffer): number {
  if (header[0] !== 0) {
    throw new ProtocolError(
      `direct TCP frame header starts with 0x${header.toString('hex')}; the first byte must be zero (MS-SMB2 2.1)`,
      { field: 'direct TCP header' },
    );
  }
  return header.readUInt32BE(0);
}
