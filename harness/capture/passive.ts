/**
 * The capture of a cell whose server runs on this machine: a packet socket on the loopback
 * interface records the client's connections to the server while they cross it
 * (native/smb_capture.c), so the client talks to the server directly and nothing relays its
 * bytes. Every frame is in the pcapng as the kernel carried it (server port shown as 445), and
 * how each connection ended is read from its FIN and RST segments. It needs the native module
 * and CAP_NET_RAW; without either, or for traffic the harness must change or delay (faults,
 * impaired links) or that does not cross this machine's loopback, the cell uses the relaying
 * CaptureProxy, which needs neither.
 */
import { constants as osConstants } from 'node:os';
import { isIPv4 } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { loadNativeModule } from '../../servers/native-module.js';
import { describeClose } from './proxy.js';
import type { CaptureCounters, CloseEvent } from './proxy.js';

/** frames, payload bytes each way, drops, the errno of a failed write, connections, connection ends. */
type Figures = [number, number, number, number, number, number, number[][]];

interface NativeCapture {
  open(interfaceName: string, ringBytes: number, blockBytes: number, retireMs: number): number;
  begin(id: number, path: string, ipv4: number, port: number, display: number, label: string): number;
  end(id: number): number;
  poll(id: number): Figures | undefined | number;
  close(id: number): number;
}

/** The kernel ring each capture holds: what it absorbs while its thread waits for a core. */
export const RING_BYTES = 96 * 1024 * 1024;
/** Three 64 KiB segments fit a block; the flush at a cell's end writes no more than a block's worth. */
const BLOCK_BYTES = 256 * 1024;
/**
 * A block the kernel fills only partly reaches the thread after this long. The timer fires on
 * every ring all the time, so it is long; a cell's end is made visible by a flush instead.
 */
const RETIRE_MS = 20;
/** How long the end of a capture may take before it is reported as stuck (the thread normally needs a few ms, or the 200 ms grace for open connections). */
const END_TIMEOUT_MS = 5_000;

function loadNative(): { native?: NativeCapture; reason?: string } {
  if (process.env.SMB_INTEROP_CAPTURE === 'proxy') return { reason: 'SMB_INTEROP_CAPTURE=proxy' };
  if (process.platform !== 'linux') return { reason: `packet sockets are used on Linux only (this is ${process.platform})` };
  const { module, reason } = loadNativeModule<NativeCapture>('smb_capture.node', ['open', 'begin', 'end', 'poll', 'close']);
  return module === undefined ? { reason: reason! } : { native: module };
}

const loaded = loadNative();
/** Captures this process opened, each serving one cell at a time. */
const pool: Array<{ id: number; busy: boolean }> = [];
let unavailable: string | undefined = loaded.reason;

/** Why cells here use the relaying proxy for every target; undefined when the passive capture works. */
export function passiveCaptureUnavailable(): string | undefined {
  return unavailable;
}

function ipv4Number(host: string): number | undefined {
  if (!isIPv4(host)) return undefined;
  return host.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/** Whether a server at `host` is reached over this machine's loopback interface. */
export function onLoopback(host: string): boolean {
  return isIPv4(host) && host.startsWith('127.');
}

function takeCapture(native: NativeCapture, ringBytes: number): { id: number; busy: boolean } | undefined {
  const idle = pool.find((entry) => !entry.busy && ringBytes === RING_BYTES);
  if (idle !== undefined) return idle;
  const id = native.open('lo', ringBytes, BLOCK_BYTES, RETIRE_MS);
  if (id < 0) {
    // Not allowed here (no CAP_NET_RAW) or no memory for the ring: the proxy for the rest of the run.
    if (pool.length === 0) unavailable = `a packet socket on lo could not be opened: ${getSystemErrorName(id)}`;
    return undefined;
  }
  const entry = { id, busy: false };
  if (ringBytes === RING_BYTES) pool.push(entry);
  return entry;
}

export interface PassiveCaptureOptions {
  /** The server's address (IPv4 on the loopback) and port. */
  host: string;
  port: number;
  pcapPath: string;
  /** The server port the trace shows (default 445, which Wireshark dissects as SMB). */
  displayServerPort?: number;
  /** The kernel ring's size (default RING_BYTES); a smaller one is a capture of its own. */
  ringBytes?: number;
}

/** Why a capture is incomplete or failed. */
export class PassiveCaptureError extends Error {
  readonly code = 'SMB_INTEROP_CAPTURE';
  constructor(message: string) {
    super(message);
    this.name = 'PassiveCaptureError';
  }
}

export class PassiveCapture {
  readonly closeEvents: CloseEvent[] = [];
  readonly counters: CaptureCounters = { connections: 0, bytesClientToServer: 0, bytesServerToClient: 0, frames: 0 };
  /** Packets the kernel dropped because the ring was full (the pcap has holes when this is not 0). */
  drops = 0;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly native: NativeCapture,
    private readonly slot: { id: number; busy: boolean },
    readonly host: string,
    readonly port: number,
    readonly pcapPath: string,
    private readonly ringBytes: number,
  ) {}

  private get shared(): boolean {
    return this.ringBytes === RING_BYTES;
  }

  /**
   * Starts recording the connections to `host:port` made from now on, or returns undefined when
   * this machine cannot (see passiveCaptureUnavailable()) or the server is not on the loopback.
   */
  static start(options: PassiveCaptureOptions): PassiveCapture | undefined {
    const native = loaded.native;
    const ip = ipv4Number(options.host);
    // Once a packet socket was refused here, every cell goes through the proxy without asking again.
    if (native === undefined || unavailable !== undefined || ip === undefined || !onLoopback(options.host)) return undefined;
    const ringBytes = options.ringBytes ?? RING_BYTES;
    const slot = takeCapture(native, ringBytes);
    if (slot === undefined) return undefined;
    const display = options.displayServerPort ?? 445;
    const label = `lo (${options.host}:${options.port}${display === options.port ? '' : `, shown as port ${display}`})`;
    const result = native.begin(slot.id, options.pcapPath, ip, options.port, display, label);
    if (result === -osConstants.errno.EBUSY) {
      // Its last cell never finished (its thread stuck on a write): leave it, record this cell through the proxy.
      const at = pool.indexOf(slot);
      if (at >= 0) pool.splice(at, 1);
      return undefined;
    }
    if (result < 0) {
      if (ringBytes !== RING_BYTES) native.close(slot.id);
      throw new PassiveCaptureError(`capture of ${options.host}:${options.port}: cannot start writing ${options.pcapPath}: ${getSystemErrorName(result)}`);
    }
    slot.busy = true;
    return new PassiveCapture(native, slot, options.host, options.port, options.pcapPath, ringBytes);
  }

  /** The capture stops once the cell's connections have closed (or after a short grace), and the pcap is complete. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private async finish(): Promise<void> {
    const { native, slot } = this;
    native.end(slot.id);
    const started = Date.now();
    try {
      for (;;) {
        const figures = native.poll(slot.id);
        if (Array.isArray(figures)) {
          this.record(figures);
          return;
        }
        if (typeof figures === 'number') throw new PassiveCaptureError(`capture of ${this.host}:${this.port}: the capture was lost (${getSystemErrorName(figures)})`);
        if (Date.now() - started > END_TIMEOUT_MS) {
          throw new PassiveCaptureError(`capture of ${this.host}:${this.port}: its thread did not finish ${this.pcapPath} within ${END_TIMEOUT_MS} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    } finally {
      slot.busy = false;
      if (!this.shared) native.close(slot.id);
    }
  }

  private record([frames, toServer, toClient, drops, writeErrno, connections, events]: Figures): void {
    this.counters.frames = frames;
    this.counters.bytesClientToServer = toServer;
    this.counters.bytesServerToClient = toClient;
    this.counters.connections = connections;
    this.drops = drops;
    for (const [connection, side, kind, timeMicros, afterFrame, lastMicros, lastFromClient, lastLength] of events) {
      const time = timeMicros! / 1000;
      const last = lastMicros! < 0 ? undefined : { frame: afterFrame!, time: lastMicros! / 1000, fromClient: lastFromClient === 1, length: lastLength! };
      const sideName = side === 0 ? 'client' : 'server';
      const kindName = kind === 0 ? 'FIN' : 'RST';
      this.closeEvents.push({
        connection: connection!,
        side: sideName,
        kind: kindName,
        time,
        afterFrame: last?.frame ?? 0,
        msAfterFrame: last === undefined ? null : Math.round(time - last.time),
        description: describeClose(sideName, kindName, last === undefined ? undefined : { ...last, time: Math.round(last.time) }, Math.round(time)),
      });
    }
    if (writeErrno !== 0) throw new PassiveCaptureError(`capture of ${this.host}:${this.port}: writing ${this.pcapPath} failed (${getSystemErrorName(-writeErrno)}); the trace stops early`);
    if (drops > 0) throw new PassiveCaptureError(`capture of ${this.host}:${this.port}: the kernel dropped ${drops} packets (its ring of ${this.ringBytes / 1024 / 1024} MiB was full), so the trace has holes`);
  }
}
