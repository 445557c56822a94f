/**
 * Direct TCP transport (MS-SMB2 2.1): every SMB2 message travels behind a 4-byte header whose
 * first byte is zero and whose other three bytes are the message length, big-endian.
 */
import { Socket } from 'node:net';
import type { SocketConstructorOpts } from 'node:net';
import { ProtocolError, TimeoutError, TransportError } from './errors.js';
import { FRAME_HEADER_BYTES, FrameReader } from './frame-reader.js';
import type { LargeFrameHook } from './frame-reader.js';


/** The largest message a 24-bit length can describe. */
export const MAX_FRAME_BYTES = 0xffffff;

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
  /** Sees the start of each large frame and may take its bytes (LargeFrameHook). */
  largeFrame?: LargeFrameHook;
}

export interface TransportConnectOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
}

/**
 * Socket reads go into one reused buffer and are copied into their frame, except the rest of a
 * large frame, which is read straight into place (no buffer per read, no copy for bulk data).
 */
const READ_BUFFER_BYTES = 256 * 1024;
const DIRECT_READ_MINIMUM = 16 * 1024;

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
    this.reader = new FrameReader((frame) => handlers.onFrame(frame), handlers.largeFrame);
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
