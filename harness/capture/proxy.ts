/**
 * A TCP proxy on 127.0.0.1 that relays a client's connections to an SMB server unchanged and
 * records them as a pcapng trace (synthetic TCP framing around the real bytes, server port shown
 * as 445 so Wireshark dissects SMB2 without "decode as"). It needs no privileges and works for
 * remote targets as well as local ones. How each connection ended (who, FIN or RST, after which
 * frame) is kept in `closeEvents`: a reset right after the client's first encrypted request is
 * the failure this harness was built to make visible.
 */
import { createServer, connect, isIPv4 } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { randomInt } from 'node:crypto';
import { registerCleanup } from '../../servers/cleanup.js';
import { PcapngFile, nowMicroseconds } from './pcapng.js';
import { TcpFlow } from './tcp-synth.js';
import type { SynthFrame } from './tcp-synth.js';
import { ServerFrameSplitter, framed } from './interference.js';
import { ShapedDirection } from './link.js';
import type { Impairment } from '../../servers/catalog/schema.js';
import type { FrameVerdict, Interference } from './interference.js';

export interface CaptureProxyOptions {
  upstreamHost: string;
  upstreamPort: number;
  /** Where to write the pcapng; without it only counters and close events are kept. */
  pcapPath?: string;
  /** The server port the trace shows (default 445, which Wireshark dissects as SMB). */
  displayServerPort?: number;
  /** Default 5000 ms; on timeout the client's socket is reset. */
  connectTimeoutMs?: number;
  /** Store at most this many bytes of each frame (for huge transfers); default all. */
  snapLength?: number;
  /** How long close() lets open connections end on their own before ending them; default 500 ms. */
  closeGraceMs?: number;
  /** Play an impaired link (latency, bandwidth, stalls, resets) between client and server. */
  impairment?: Impairment;
}

export type CloseKind = 'FIN' | 'RST' | 'ERROR' | 'CONNECT_FAILED' | 'CONNECT_TIMEOUT' | 'PROXY_CLOSED';

export interface CloseEvent {
  /** 1-based, in accept order. */
  connection: number;
  /** Who ended it: `proxy` when close() ended a connection still open. */
  side: 'client' | 'server' | 'proxy';
  kind: CloseKind;
  /** Milliseconds since the Unix epoch. */
  time: number;
  /** The last frame carrying data on this connection (0: none). */
  afterFrame: number;
  /** Milliseconds between that frame and this event; null when no data flowed. */
  msAfterFrame: number | null;
  /** The socket error code (ECONNRESET, ECONNREFUSED, ...) when there was one. */
  errorCode?: string;
  /** e.g. `server reset the connection 2 ms after frame 7 (client data, 254 bytes)` */
  description: string;
}

export interface CaptureCounters {
  connections: number;
  bytesClientToServer: number;
  bytesServerToClient: number;
  /** Frames the trace holds (or would hold, without a pcapPath). */
  frames: number;
}

interface LastData {
  frame: number;
  time: number;
  fromClient: boolean;
  length: number;
}

interface Relay {
  id: number;
  client: Socket;
  /** The client's address and ephemeral port, read at accept (a closed socket forgets them). */
  clientIp: string;
  clientPort: number;
  upstream: Socket;
  flow: TcpFlow | undefined;
  clientEnded: boolean;
  serverEnded: boolean;
  lastData: LastData | undefined;
  closed: Promise<void>;
  /** The server's frames, followed so that an interference starts at a frame boundary. */
  serverFrames: ServerFrameSplitter;
  /** An interference froze the server's side: nothing more is read from it or relayed. */
  frozen: boolean;
  /** The impaired link's two directions (none without an impairment). */
  link: { toServer: ShapedDirection; toClient: ShapedDirection } | undefined;
  /** Bytes that crossed the connection, both ways (for an impairment's reset). */
  bytes: number;
}

/** An impaired link holds at most this much in flight per direction before it stops reading. */
const LINK_HIGH_WATER = 8 * 1024 * 1024;
const LINK_LOW_WATER = 2 * 1024 * 1024;

const CLOSE_WAIT_MS = 2000;
const FLUSH_DELAY_MS = 200;

export class CaptureProxy {
  readonly host = '127.0.0.1';
  readonly closeEvents: CloseEvent[] = [];
  readonly counters: CaptureCounters = { connections: 0, bytesClientToServer: 0, bytesServerToClient: 0, frames: 0 };
  private readonly relays = new Set<Relay>();
  private closing: Promise<void> | undefined;
  private readonly unregister: () => void;
  private listenPort = 0;
  private pcapFailure: string | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private interference: Interference | undefined;
  /** What interferences did to the server's frames, in order (also in the pcap, as comments on the frames). */
  readonly interferences: Array<{ connection: number; note: string }> = [];

  private constructor(
    private readonly server: Server,
    private readonly options: Required<Omit<CaptureProxyOptions, 'pcapPath' | 'snapLength' | 'impairment'>> & Pick<CaptureProxyOptions, 'impairment'>,
    private readonly pcap: PcapngFile | undefined,
  ) {
    this.unregister = registerCleanup(() => this.closeNow());
  }

  static async start(options: CaptureProxyOptions): Promise<CaptureProxy> {
    const resolved = {
      upstreamHost: options.upstreamHost,
      upstreamPort: options.upstreamPort,
      displayServerPort: options.displayServerPort ?? 445,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      closeGraceMs: options.closeGraceMs ?? 500,
      impairment: options.impairment,
    };
    for (const [field, value] of Object.entries({ upstreamPort: resolved.upstreamPort, displayServerPort: resolved.displayServerPort })) {
      if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`capture proxy: ${field} must be a TCP port (1-65535), got ${value}`);
    }
    const pcap = options.pcapPath === undefined
      ? undefined
      : PcapngFile.create(options.pcapPath, { interfaceName: `proxy to ${resolved.upstreamHost}:${resolved.upstreamPort}`, snapLength: options.snapLength ?? 0 });
    const server = createServer({ pauseOnConnect: true, allowHalfOpen: true });
    const proxy = new CaptureProxy(server, resolved, pcap);
    server.on('connection', (socket) => proxy.accept(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
          server.off('error', reject);
          proxy.listenPort = (server.address() as AddressInfo).port;
          resolve();
        });
      });
    } catch (error) {
      proxy.closeNow();
      throw new Error(`capture proxy: cannot listen on 127.0.0.1: ${(error as Error).message}`, { cause: error });
    }
    return proxy;
  }

  /** The listening port; kept after close() so messages can still name it. */
  get port(): number {
    return this.listenPort;
  }

  get pcapPath(): string | undefined {
    return this.pcap?.path;
  }

  /** Why the pcap stopped early (e.g. the disk filled up); undefined while it is whole. */
  get pcapError(): string | undefined {
    return this.pcapFailure;
  }

  /**
   * From the next frame boundary on, every whole frame from the server goes through
   * `interference` before the client sees it (held until it is whole); undefined relays
   * unchanged again. For scenarios that play a hostile network or a broken server.
   */
  interfere(interference: Interference | undefined): void {
    this.interference = interference;
  }

  /** Resets every connection an interference froze, as a hung server's host finally would. */
  releaseFrozen(): void {
    for (const relay of this.relays) {
      if (relay.frozen && !relay.client.destroyed) this.resetByHarness(relay, 'harness: the frozen connection released');
    }
  }

  /** Ends every connection, stops listening and finishes the pcap file. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const listening = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // A client that just closed has its FIN in flight: give every connection a moment to end on its own.
    await withTimeout(Promise.all([...this.relays].map((r) => r.closed)), this.options.closeGraceMs);
    for (const relay of this.relays) this.abandon(relay);
    await withTimeout(Promise.all([listening, ...[...this.relays].map((r) => r.closed)]), CLOSE_WAIT_MS);
    this.closeNow();
  }

  /** The synchronous part of closing, also what a signal handler runs. */
  private closeNow(): void {
    for (const relay of this.relays) {
      stopLink(relay);
      relay.client.destroy();
      relay.upstream.destroy();
    }
    this.relays.clear();
    this.server.close();
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    try {
      this.pcap?.close();
    } catch (error) {
      this.pcapFailed(error as Error);
    }
    this.unregister();
  }

  private accept(client: Socket): void {
    const id = ++this.counters.connections;
    const upstream = connect({ host: this.options.upstreamHost, port: this.options.upstreamPort, allowHalfOpen: true });
    let markClosed!: () => void;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    const clientIp = client.remoteAddress !== undefined && isIPv4(client.remoteAddress) ? client.remoteAddress : '127.0.0.1';
    const relay: Relay = {
      id, client, clientIp, clientPort: client.remotePort ?? 0, upstream, flow: undefined, clientEnded: false, serverEnded: false, lastData: undefined, closed,
      serverFrames: new ServerFrameSplitter(), frozen: false, bytes: 0,
      link: this.options.impairment === undefined ? undefined : { toServer: new ShapedDirection(this.options.impairment), toClient: new ShapedDirection(this.options.impairment) },
    };
    this.relays.add(relay);
    let open = 2;
    const onClose = (): void => {
      if (--open === 0) {
        stopLink(relay);
        this.relays.delete(relay);
        markClosed();
      }
    };
    const timer = setTimeout(() => {
      this.connectFailed(relay, 'CONNECT_TIMEOUT', `no answer from ${this.upstreamName()} within ${this.options.connectTimeoutMs} ms`);
    }, this.options.connectTimeoutMs);
    client.once('close', () => {
      clearTimeout(timer);
      if (relay.frozen) upstream.destroy(); // a frozen side is read no more: it would never end
      onClose();
    });
    upstream.once('close', onClose);
    upstream.once('connect', () => {
      clearTimeout(timer);
      if (client.destroyed) upstream.destroy(); // the client left while the server was answering
      else this.connected(relay);
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (relay.flow === undefined) {
        clearTimeout(timer);
        this.connectFailed(relay, 'CONNECT_FAILED', `cannot connect to ${this.upstreamName()}: ${error.code ?? error.message}`, error.code);
      } else {
        this.aborted(relay, false, error);
      }
    });
    client.on('error', (error: NodeJS.ErrnoException) => {
      if (relay.flow === undefined) upstream.destroy();
      else this.aborted(relay, true, error);
    });
  }

  private connected(relay: Relay): void {
    const { client, upstream } = relay;
    const serverIp = upstream.remoteAddress !== undefined && isIPv4(upstream.remoteAddress) ? upstream.remoteAddress : '127.0.0.2';
    relay.flow = new TcpFlow(
      { ip: relay.clientIp, port: relay.clientPort },
      { ip: serverIp, port: this.options.displayServerPort },
      { client: randomInt(2 ** 31), server: randomInt(2 ** 31) },
    );
    this.record(relay.flow.handshake());
    this.relayData(relay, client, upstream, true);
    this.relayData(relay, upstream, client, false);
    client.on('end', () => this.ended(relay, true));
    upstream.on('end', () => this.ended(relay, false));
    client.resume();
  }

  /**
   * Relays `from` to `to`; pauses `from` while `to` cannot take more. The server's side goes
   * frame by frame through the interference while one is installed.
   */
  private relayData(relay: Relay, from: Socket, to: Socket, fromClient: boolean): void {
    let waiting = false;
    const send = (bytes: Buffer, note?: string, then?: () => void): void => {
      if (fromClient) this.counters.bytesClientToServer += bytes.length;
      else this.counters.bytesServerToClient += bytes.length;
      const frames = relay.flow?.data(fromClient, bytes) ?? [];
      const first = this.counters.frames + 1;
      this.record(frames, note);
      relay.lastData = { frame: first, time: Date.now(), fromClient, length: bytes.length };
      if (to.destroyed) return; // the harness ended the server's side: the client's bytes go nowhere
      if (!to.write(bytes, then) && !waiting) {
        waiting = true;
        from.pause();
        to.once('drain', () => {
          waiting = false;
          if (!relay.frozen) from.resume();
        });
      }
      relay.bytes += bytes.length;
      const resetAfter = this.options.impairment?.resetAfterKiB;
      if (resetAfter !== undefined && relay.bytes >= resetAfter * 1024 && relay.flow?.closed === false) {
        this.resetByHarness(relay, `harness: the impaired link reset the connection after ${resetAfter} KiB`);
      }
    };
    const direction = fromClient ? relay.link?.toServer : relay.link?.toClient;
    // On an impaired link every piece waits its turn; reading stops while too much is in flight.
    const deliver = direction === undefined ? send : (bytes: Buffer, note?: string, then?: () => void): void => {
      direction.schedule(bytes.length, () => send(bytes, note, then));
      if (direction.queuedBytes >= LINK_HIGH_WATER) {
        from.pause();
        direction.whenBelow(LINK_LOW_WATER, () => {
          if (!relay.frozen && !waiting) from.resume();
        });
      }
    };
    from.on('data', (chunk: Buffer) => {
      if (fromClient) return deliver(chunk);
      if (relay.frozen) return;
      const pieces = relay.serverFrames.split(chunk, this.interference !== undefined);
      for (const piece of pieces) {
        if (relay.frozen) return;
        if ('raw' in piece) deliver(piece.raw);
        else this.interfered(relay, piece.frame, deliver);
      }
    });
  }

  /**
   * The harness ends a connection as a server reset would (a frozen server released, an impaired
   * link giving up, an interference's reset): the client gets an RST, the real server's side is
   * dropped, and the trace says why.
   */
  private resetByHarness(relay: Relay, reason: string): void {
    const event = this.closeEvent(relay, 'server', 'RST', undefined, reason);
    if (relay.flow !== undefined && !relay.flow.closed) this.record(relay.flow.reset(false), event.description);
    stopLink(relay);
    relay.client.resetAndDestroy();
    relay.upstream.destroy();
  }

  /** Applies the interference to one whole server frame. */
  private interfered(relay: Relay, frame: Buffer, deliver: (bytes: Buffer, note?: string, then?: () => void) => void): void {
    let verdict: FrameVerdict;
    try {
      verdict = this.interference?.(frame, { connection: relay.id }) ?? { kind: 'pass' };
    } catch (error) {
      verdict = { kind: 'pass' };
      this.interferences.push({ connection: relay.id, note: `harness: the interference failed on a ${frame.length}-byte frame and let it pass: ${(error as Error).message}` });
    }
    if (verdict.kind === 'pass') return deliver(framed(frame));
    this.interferences.push({ connection: relay.id, note: verdict.note });
    if (verdict.kind === 'replace') return deliver(framed(verdict.frame), verdict.note);
    const { kind, note } = verdict;
    const part = framed(frame).subarray(0, verdict.deliver);
    if (kind === 'freeze') {
      relay.frozen = true;
      relay.upstream.pause();
      return deliver(part, note);
    }
    relay.serverEnded = true;
    deliver(part, note, () => {
      if (kind === 'reset') return this.resetByHarness(relay, note);
      const event = this.closeEvent(relay, 'server', 'FIN', undefined, note);
      this.record(relay.flow?.fin(false) ?? [], event.description);
      relay.client.end();
    });
    relay.upstream.destroy();
  }

  private ended(relay: Relay, byClient: boolean): void {
    // On an impaired link the FIN follows the data still on its way.
    const direction = byClient ? relay.link?.toServer : relay.link?.toClient;
    if (direction !== undefined) direction.schedule(0, () => this.finished(relay, byClient));
    else this.finished(relay, byClient);
  }

  private finished(relay: Relay, byClient: boolean): void {
    if (byClient) relay.clientEnded = true;
    else relay.serverEnded = true;
    this.closeEvent(relay, byClient ? 'client' : 'server', 'FIN');
    this.record(relay.flow?.fin(byClient) ?? []);
    if (relay.clientEnded && relay.serverEnded) relay.flow?.end();
    (byClient ? relay.upstream : relay.client).end();
  }

  private aborted(relay: Relay, byClient: boolean, error: NodeJS.ErrnoException): void {
    const flow = relay.flow;
    if (flow === undefined || flow.closed) return;
    const kind: CloseKind = error.code === 'ECONNRESET' ? 'RST' : 'ERROR';
    const event = this.closeEvent(relay, byClient ? 'client' : 'server', kind, error.code ?? error.message);
    this.record(flow.reset(byClient), event.description);
    (byClient ? relay.upstream : relay.client).resetAndDestroy();
  }

  private connectFailed(relay: Relay, kind: 'CONNECT_FAILED' | 'CONNECT_TIMEOUT', reason: string, errorCode?: string): void {
    if (relay.client.destroyed && relay.upstream.destroyed) return;
    const flow = new TcpFlow(
      { ip: relay.clientIp, port: relay.clientPort },
      { ip: isIPv4(this.options.upstreamHost) ? this.options.upstreamHost : '127.0.0.2', port: this.options.displayServerPort },
      { client: randomInt(2 ** 31), server: 0 },
    );
    const event = this.closeEvent(relay, 'server', kind, errorCode, reason);
    this.record(flow.failedHandshake(errorCode === 'ECONNREFUSED'), event.description);
    relay.upstream.destroy();
    relay.client.resetAndDestroy();
  }

  /** close() ending a connection that is still open: both sides get a FIN. */
  private abandon(relay: Relay): void {
    if (relay.flow !== undefined && !relay.flow.closed) {
      const event = this.closeEvent(relay, 'proxy', 'PROXY_CLOSED');
      if (!relay.clientEnded) this.record(relay.flow.fin(true), event.description);
      if (!relay.serverEnded) this.record(relay.flow.fin(false));
      relay.flow.end();
    }
    relay.client.destroy();
    relay.upstream.destroy();
  }

  private closeEvent(relay: Relay, side: CloseEvent['side'], kind: CloseKind, errorCode?: string, reason?: string): CloseEvent {
    const time = Date.now();
    const last = relay.lastData;
    const event: CloseEvent = {
      connection: relay.id,
      side,
      kind,
      time,
      afterFrame: last?.frame ?? 0,
      msAfterFrame: last === undefined ? null : time - last.time,
      description: describeClose(side, kind, last, time, reason ?? errorCode) + ((kind === 'FIN' || kind === 'RST') && reason !== undefined ? ` (${reason})` : ''),
    };
    if (errorCode !== undefined) event.errorCode = errorCode;
    this.closeEvents.push(event);
    return event;
  }

  private record(frames: readonly SynthFrame[], comment?: string): void {
    const timestamp = nowMicroseconds();
    frames.forEach((frame, i) => {
      this.counters.frames++;
      if (this.pcap?.isOpen !== true) return;
      try {
        this.pcap.writePacket(timestamp, [frame.headers, frame.payload], i === 0 ? comment : undefined);
      } catch (error) {
        this.pcapFailed(error as Error);
      }
    });
    // What a quiet connection leaves buffered still reaches the file within FLUSH_DELAY_MS.
    if (this.pcap !== undefined && this.pcap.buffered > 0 && this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        try {
          this.pcap?.flush();
        } catch (error) {
          this.pcapFailed(error as Error);
        }
      }, FLUSH_DELAY_MS).unref();
    }
  }

  /** A full disk must not break the connection under test: stop tracing, say why. */
  private pcapFailed(error: Error): void {
    if (this.pcap === undefined || this.pcapFailure !== undefined) return;
    this.pcapFailure = `${this.pcap.path}: ${error.message}; the trace stops after frame ${this.pcap.packetsWritten}`;
    try {
      this.pcap.close();
    } catch {
      // the file's end was already lost with the failed write
    }
  }

  private upstreamName(): string {
    return `${this.options.upstreamHost}:${this.options.upstreamPort}`;
  }
}

export function describeClose(side: CloseEvent['side'], kind: CloseKind, last: LastData | undefined, time: number, detail?: string): string {
  const what = {
    FIN: `${side} closed the connection (FIN)`,
    RST: `${side} reset the connection (RST)`,
    ERROR: `${side} connection failed (${detail ?? 'error'})`,
    CONNECT_FAILED: `${detail ?? 'cannot connect to the server'}`,
    CONNECT_TIMEOUT: `${detail ?? 'the server did not answer'}`,
    PROXY_CLOSED: 'the capture ended with the connection still open',
  }[kind];
  if (last === undefined) return `${what} before any data`;
  const data = `${last.fromClient ? 'client' : 'server'} data, ${last.length} bytes`;
  return `${what} ${time - last.time} ms after frame ${last.frame} (${data})`;
}

async function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Drops what an impaired link still holds for either direction. */
function stopLink(relay: Relay): void {
  relay.link?.toServer.stop();
  relay.link?.toClient.stop();
}
