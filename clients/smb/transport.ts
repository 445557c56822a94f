/**
 * Direct TCP transport (MS-SMB2 2.1): every SMB2 message travels behind a 4-byte header whose
 * first byte is zero and whose other three bytes are the message length, big-endian.
 */
import { Socket } from 'node:net';
import type { SocketConstructorOpts } from 'node:net';
import { ProtocolError, TimeoutError, TransportError } from './errors.js';

/** The largest message a 24-bit length can describe. */
export const MAX_FRAME_BYTES = 0xffffff;
const FRAME_HEADER_BYTES = 4;

export interface TransportHandlers {
  /**
   * One whole message, without the 4-byte header. The buffer may be a view of a received chunk.
   * Returning true (exactly) says nothing keeps a view of it (an encrypted frame, once decrypted), so its
   * memory may receive the next large frame.
   */
  onFrame(frame: Buffer): unknown;
  /** Called once, when the connection ends for any reason other than close() by this side. */
  onClose(error: TransportError | ProtocolError): void;
  /** The socket accepted everything buffered after send() returned false. */
  onDrain?(): void;
  /** Takes the bytes of large frames it recognises (FrameRouter). */
  route?: FrameRouter;
}

export interface TransportConnectOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
}

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
 * Asked once the first ROUTE_PREFIX_BYTES of a frame of at least ROUTE_MINIMUM bytes have
 * arrived; undefined receives the frame as usual. `prefix` belongs to the router from then on.
 */
export type FrameRouter = (prefix: Buffer, frameLength: number) => RoutedFrame | undefined;

/** A TRANSFORM_HEADER (52), an SMB2 header (64) and a READ response's fixed part (16). */
export const ROUTE_PREFIX_BYTES = 132;
/** Smaller frames are not worth routing. */
export const ROUTE_MINIMUM = 4096;

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

  constructor(private readonly onFrame: (frame: Buffer) => unknown, private readonly router?: FrameRouter) {}

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
      return this.routedLeft + FRAME_HEADER_BYTES + ROUTE_PREFIX_BYTES;
    }
    if (this.prefix !== undefined) return ROUTE_PREFIX_BYTES - this.prefixFill;
    return FRAME_HEADER_BYTES - this.headerFill + ROUTE_PREFIX_BYTES;
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
    if (length < ROUTE_MINIMUM) this.inPlaceRun = false;
    if (this.router !== undefined && length >= ROUTE_MINIMUM) {
      this.prefix = Buffer.allocUnsafe(ROUTE_PREFIX_BYTES);
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
    const routed = this.router!(prefix, this.frameLength);
    this.inPlaceRun = routed?.target(0) !== undefined;
    if (routed !== undefined) {
      this.routed = routed;
      this.routedLeft = this.frameLength - ROUTE_PREFIX_BYTES;
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
        const used = chunk.copy(this.prefix, this.prefixFill, at, at + ROUTE_PREFIX_BYTES - this.prefixFill);
        this.prefixFill += used;
        at += used;
        if (this.prefixFill === ROUTE_PREFIX_BYTES) this.route();
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

/**
 * Socket reads go into one reused buffer and are copied into their frame, except the rest of a
 * large frame, which is read straight into place (no buffer per read, no copy for bulk data).
 */
const READ_BUFFER_BYTES = 256 * 1024;
const DIRECT_READ_MINIMUM = 16 * 1024;
/** Frames at least this large reuse the memory of a released one (fewer allocations, no page faults). */
const REUSE_MINIMUM = 64 * 1024;

export class Transport {
  private closedWith: TransportError | ProtocolError | undefined;
  private closedByUs = false;
  private readonly reader: FrameReader;
  private direct: Buffer | undefined;

  private readBuffer(shared: Buffer): Buffer {
    this.direct = this.reader.directTarget(DIRECT_READ_MINIMUM);
    if (this.direct !== undefined) return this.direct;
    const bounded = this.reader.boundaryRead();
    return bounded === undefined ? shared : shared.subarray(0, bounded);
  }

  /** The socket's onread callback: `buffer` is the shared one (reused) or a frame's own bytes. */
  private received(buffer: Buffer, length: number): void {
    try {
      if (this.direct !== undefined && buffer.buffer === this.direct.buffer && buffer.byteOffset === this.direct.byteOffset) {
        this.direct = undefined;
        this.reader.filled(length);
      } else {
        this.reader.push(buffer.subarray(0, length), true);
      }
    } catch (error) {
      this.fail(error instanceof ProtocolError ? error : new TransportError(`bad data from ${this.peer}`, { cause: error }));
    }
  }

  private constructor(
    private readonly socket: Socket,
    readonly peer: string,
    private readonly handlers: TransportHandlers,
  ) {
    this.reader = new FrameReader((frame) => handlers.onFrame(frame), handlers.route);
    socket.on('drain', () => handlers.onDrain?.());
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const what = error.code === 'ECONNRESET' ? 'reset by the server' : `failed: ${error.code ?? error.message}`;
      this.fail(new TransportError(`connection to ${peer} ${what}${this.midFrame()}`, { cause: error }));
    });
    socket.on('close', () => this.fail(new TransportError(`connection to ${peer} closed by the server${this.midFrame()}`)));
  }

  /** Opens the TCP connection; TimeoutError naming host:port if it takes longer than allowed. */
  static connect(options: TransportConnectOptions, handlers: TransportHandlers): Promise<Transport> {
    const peer = `${options.host}:${options.port}`;
    return new Promise((resolve, reject) => {
      let transport: Transport | undefined;
      const shared = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      // onread works only when given to the constructor (not to connect()).
      const socket = new Socket(<SocketConstructorOpts>{
        onread: {
          buffer: () => transport === undefined ? shared : transport.readBuffer(shared),
          callback: (length: number, received: Uint8Array) => {
            transport?.received(received as Buffer, length);
            return true;
          },
        },
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TimeoutError(`TCP connect to ${peer} timed out after ${options.connectTimeoutMs} ms`));
      }, options.connectTimeoutMs);
      const onError = (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new TransportError(`cannot connect to ${peer}: ${error.code ?? error.message}`, { cause: error }));
      };
      socket.once('error', onError);
      socket.connect({ host: options.host, port: options.port }, () => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 30_000);
        transport = new Transport(socket, peer, handlers);
        resolve(transport);
      });
    });
  }

  get closed(): boolean {
    return this.closedWith !== undefined || this.closedByUs;
  }

  /** Why the connection ended, if it did. */
  get closeReason(): TransportError | ProtocolError | undefined {
    return this.closedWith;
  }

  /** True while the socket's buffer is over its high-water mark: wait for onDrain before sending more. */
  get congested(): boolean {
    return this.socket.writableNeedDrain;
  }

  /**
   * Frames and writes one message given as parts (header, body, payload) without joining them.
   * Returns false when the caller should wait for onDrain (the message is still sent).
   * `written` is called once the socket is done with the parts' memory, so it may be used again:
   * every byte was taken, or the connection ended (Node then reports the write in progress as
   * done, and may never report the messages behind it).
   */
  send(parts: readonly Buffer[], written?: () => void): boolean {
    if (this.closed) throw this.closedWith ?? new TransportError(`connection to ${this.peer} is closed`);
    let length = 0;
    for (const part of parts) length += part.length;
    if (length > MAX_FRAME_BYTES) {
      throw new ProtocolError(`message of ${length} bytes exceeds the ${MAX_FRAME_BYTES}-byte direct TCP limit`, {
        field: 'direct TCP header',
      });
    }
    const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
    header.writeUInt32BE(length, 0);
    this.socket.cork();
    // The last write's callback comes after the ones before it: once the socket is done with them all.
    const done = written === undefined ? undefined : (error?: Error | null) => { if (error == null) written(); };
    let ok = this.socket.write(header, parts.length === 0 ? done : undefined);
    for (let i = 0; i < parts.length; i++) ok = this.socket.write(parts[i]!, i === parts.length - 1 ? done : undefined);
    this.socket.uncork();
    return ok;
  }

  /** Runs `send` calls made inside `work` as one socket write. */
  batch(work: () => void): void {
    this.socket.cork();
    try {
      work();
    } finally {
      this.socket.uncork();
    }
  }

  /** Closes without notifying onClose; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closedByUs = true;
    this.socket.destroy();
  }

  private midFrame(): string {
    const expected = this.reader.expectedBytes;
    const have = this.reader.pendingBytes;
    if (expected !== undefined) return ` in the middle of a message (${have} of ${expected} bytes received)`;
    return have > 0 ? ` in the middle of a message header (${have} of 4 bytes received)` : '';
  }

  private fail(error: TransportError | ProtocolError): void {
    if (this.closed) return;
    this.closedWith = error;
    this.socket.destroy();
    this.handlers.onClose(error);
  }
}
