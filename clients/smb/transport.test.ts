import { test, expect } from '@playwright/test';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { once } from 'node:events';
import { Connection } from './connection.js';
import { ProtocolError, TimeoutError, TransportError } from './errors.js';
import { FrameReader } from './frame-reader.js';
import type { LargeFrameHook, RoutedFrame } from './frame-reader.js';
import { ROUTE_MINIMUM, ROUTE_PREFIX_BYTES } from './receive-in-place.js';
import { Transport } from './transport.js';
import type { TransportHandlers } from './transport.js';
import { Command, encodeEchoRequest } from './wire/index.js';

/** A 4-byte direct TCP header followed by the payload. */
function frame(payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  return Buffer.concat([header, payload]);
}

function pattern(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

interface Peer {
  server: Server;
  port: number;
  socket: Promise<Socket>;
}

async function listen(): Promise<Peer> {
  const server = createServer();
  const socket = new Promise<Socket>((resolve) => server.once('connection', (s: Socket) => resolve(s)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { server, port, socket };
}

function closePeer(peer: Peer): Promise<void> {
  return new Promise((resolve) => {
    void peer.socket.then((s) => s.destroy());
    peer.server.close(() => resolve());
  });
}

function collector(): { frames: Buffer[]; closed: Promise<Error>; handlers: TransportHandlers } {
  const frames: Buffer[] = [];
  let onClosed: (error: Error) => void = () => {};
  const closed = new Promise<Error>((resolve) => (onClosed = resolve));
  return { frames, closed, handlers: { onFrame: (f) => frames.push(Buffer.from(f)), onClose: (e) => onClosed(e) } };
}

function openConnection(port: number): Promise<Connection> {
  return Connection.open({
    host: '127.0.0.1', port, timeoutMs: 5000, dialects: ['3.1.1'], ciphers: ['AES-128-GCM'],
    signingAlgorithms: ['AES-128-GMAC'], encryption: 'auto', signing: 'auto',
  });
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await tick();
  }
}

test('frames sent one byte at a time are reassembled', async () => {
  const peer = await listen();
  const sink = collector();
  const transport = await Transport.connect({ host: '127.0.0.1', port: peer.port, connectTimeoutMs: 2000 }, sink.handlers);
  try {
    const socket = await peer.socket;
    socket.setNoDelay(true);
    const payloads = [pattern(70, 1), pattern(3, 2), pattern(200, 3)];
    for (const byte of Buffer.concat(payloads.map(frame))) {
      socket.write(Buffer.from([byte]));
      await tick();
    }
    await until(() => sink.frames.length === 3);
    expect(sink.frames).toEqual(payloads);
  } finally {
    transport.close();
    await closePeer(peer);
  }
});

test('several frames coalesced in one chunk are split, and a frame may end mid-chunk', async () => {
  const peer = await listen();
  const sink = collector();
  const transport = await Transport.connect({ host: '127.0.0.1', port: peer.port, connectTimeoutMs: 2000 }, sink.handlers);
  try {
    const socket = await peer.socket;
    const payloads = [pattern(64, 4), pattern(65, 5), pattern(1000, 6), pattern(10, 7)];
    const all = Buffer.concat(payloads.map(frame));
    socket.write(all.subarray(0, 140)); // two whole frames and part of the third
    await tick();
    socket.write(all.subarray(140));
    await until(() => sink.frames.length === 4);
    expect(sink.frames).toEqual(payloads);
  } finally {
    transport.close();
    await closePeer(peer);
  }
});

test('an 8 MiB frame in 64 KiB chunks is copied once into a buffer of its exact size', () => {
  const frames: Buffer[] = [];
  const reader = new FrameReader((f) => frames.push(f));
  const payload = pattern(8 * 1024 * 1024, 9);
  const wire = frame(payload);
  for (let at = 0; at < wire.length; at += 65536) reader.push(wire.subarray(at, at + 65536));
  expect(frames).toHaveLength(1);
  expect(frames[0]!.length).toBe(payload.length);
  expect(frames[0]!.buffer.byteLength).toBeLessThanOrEqual(payload.length + 8192);
  expect(frames[0]!.equals(payload)).toBe(true);
  expect(reader.pendingBytes).toBe(0);
});

test('a frame inside one chunk is handed on as a view, without a copy', () => {
  const frames: Buffer[] = [];
  const reader = new FrameReader((f) => frames.push(f));
  const chunk = Buffer.concat([frame(pattern(100, 1)), frame(pattern(50, 2))]);
  reader.push(chunk);
  expect(frames.map((f) => f.buffer)).toEqual([chunk.buffer, chunk.buffer]);
});

test('from a reused read buffer every frame is copied out, so overwriting the buffer changes nothing', () => {
  const frames: Buffer[] = [];
  const reader = new FrameReader((f) => frames.push(f));
  const wire = Buffer.concat([frame(pattern(100, 1)), frame(pattern(70_000, 2)), frame(pattern(3, 3))]);
  const buffer = Buffer.alloc(4096);
  for (let at = 0; at < wire.length; at += buffer.length) {
    const length = wire.copy(buffer, 0, at, at + buffer.length);
    reader.push(buffer.subarray(0, length), true);
    buffer.fill(0xee);
  }
  expect(frames).toEqual([pattern(100, 1), pattern(70_000, 2), pattern(3, 3)]);
  expect(reader.pendingBytes).toBe(0);
});

test('the rest of a large frame can be read straight into it', () => {
  const frames: Buffer[] = [];
  const reader = new FrameReader((f) => frames.push(f));
  const payload = pattern(100_000, 4);
  const wire = frame(payload);
  reader.push(wire.subarray(0, 1000), true);
  expect(reader.directTarget(200_000)).toBeUndefined();
  const target = reader.directTarget(16_384)!;
  expect(target.length).toBe(wire.length - 1000);
  wire.copy(target, 0, 1000, 60_000);
  reader.filled(59_000);
  const rest = reader.directTarget(16_384)!;
  wire.copy(rest, 0, 60_000);
  reader.filled(wire.length - 60_000);
  expect(frames).toEqual([payload]);
  expect(frames[0]!.buffer).toBe(target.buffer);
  expect(reader.directTarget(1)).toBeUndefined();
});

test('a released large frame lends its memory to the next one; a kept one does not', () => {
  const seen: Buffer[] = [];
  let release = true;
  const reader = new FrameReader((f) => {
    seen.push(f);
    return release;
  });
  const push = (payload: Buffer) => {
    const wire = frame(payload);
    const buffer = Buffer.alloc(8192);
    for (let at = 0; at < wire.length; at += buffer.length) reader.push(buffer.subarray(0, wire.copy(buffer, 0, at, at + buffer.length)), true);
  };
  push(pattern(100_000, 1));
  expect(seen[0]).toEqual(pattern(100_000, 1));
  release = false;
  push(pattern(90_000, 2));
  expect(seen[1]!.buffer).toBe(seen[0]!.buffer);
  expect(seen[1]).toEqual(pattern(90_000, 2));
  push(pattern(90_000, 3));
  expect(seen[2]!.buffer).not.toBe(seen[1]!.buffer);
  expect(seen[1]).toEqual(pattern(90_000, 2)); // kept, so never overwritten
  expect(seen[2]).toEqual(pattern(90_000, 3));
});

test('a frame header whose first byte is not zero is a ProtocolError that closes the transport', async () => {
  const peer = await listen();
  const sink = collector();
  const transport = await Transport.connect({ host: '127.0.0.1', port: peer.port, connectTimeoutMs: 2000 }, sink.handlers);
  try {
    (await peer.socket).write(Buffer.from([0x85, 0, 0, 0]));
    const error = await sink.closed;
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toContain('first byte must be zero');
    expect(transport.closed).toBe(true);
  } finally {
    await closePeer(peer);
  }
});

test('send() reports congestion when the peer stops reading, and onDrain fires once it reads again', async () => {
  const peer = await listen();
  let drains = 0;
  const transport = await Transport.connect(
    { host: '127.0.0.1', port: peer.port, connectTimeoutMs: 2000 },
    { onFrame: () => {}, onClose: () => {}, onDrain: () => drains++ },
  );
  try {
    const socket = await peer.socket;
    socket.pause();
    const block = Buffer.alloc(1024 * 1024);
    let sent = 0;
    while (transport.send([block]) && sent < 512) sent++;
    expect(transport.congested).toBe(true);
    let received = 0;
    socket.on('data', (d: Buffer) => (received += d.length));
    socket.resume();
    await until(() => drains > 0, 10_000);
    expect(transport.congested).toBe(false);
    await until(() => received === (sent + 1) * (block.length + 4), 10_000);
  } finally {
    transport.close();
    await closePeer(peer);
  }
});

test('a peer that closes mid-frame fails every pending and queued request with one TransportError', async () => {
  const peer = await listen();
  const connection = await openConnection(peer.port);
  const socket = await peer.socket;
  const requests = [1, 2, 3].map(() => connection.request({ command: Command.Echo, body: encodeEchoRequest() }).catch((e: unknown) => e));
  await new Promise((resolve) => socket.once('data', resolve)); // the first echo arrived
  socket.end(Buffer.concat([Buffer.from([0, 0, 0, 80]), Buffer.alloc(30)]));
  const errors = await Promise.all(requests);
  for (const error of errors) {
    expect(error).toBeInstanceOf(TransportError);
    expect((error as Error).message).toBe(`connection to 127.0.0.1:${peer.port} closed by the server in the middle of a message (30 of 80 bytes received)`);
  }
  const later = await connection.request({ command: Command.Echo, body: encodeEchoRequest() }).catch((e: unknown) => e);
  expect(later).toBeInstanceOf(TransportError);
  expect((later as Error).message).toContain('is closed');
  await closePeer(peer);
});

test('a silent peer gives a TimeoutError naming the command and the server', async () => {
  const peer = await listen();
  const connection = await openConnection(peer.port);
  try {
    const started = Date.now();
    const error = await connection.request({ command: Command.Echo, body: encodeEchoRequest(), timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toBe(`no response to ECHO from 127.0.0.1:${peer.port} within 200 ms`);
    expect(Date.now() - started).toBeLessThan(1000);
  } finally {
    connection.close();
    await closePeer(peer);
  }
});

test('connecting to a closed port is a TransportError naming host:port', async () => {
  const peer = await listen();
  const port = peer.port;
  await closePeer(peer);
  const sink = collector();
  const error = await Transport.connect({ host: '127.0.0.1', port, connectTimeoutMs: 2000 }, sink.handlers).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TransportError);
  expect((error as Error).message).toBe(`cannot connect to 127.0.0.1:${port}: ECONNREFUSED`);
});

/** A router that takes frames whose first byte is 0x52 ('R'), collecting what it is given. */
function takingRouter(offerMemory: boolean) {
  const taken: Array<{ prefix: Buffer; length: number; body: Buffer; pieces: number; inPlace: number; finished: boolean }> = [];
  const arriving = (prefix: Buffer, length: number): RoutedFrame | undefined => {
    if (prefix[0] !== 0x52) return undefined;
    const record = { prefix: Buffer.from(prefix), length, body: Buffer.alloc(length - ROUTE_PREFIX_BYTES), pieces: 0, inPlace: 0, finished: false };
    let at = 0;
    taken.push(record);
    return {
      target: (minimum) => (offerMemory && record.body.length - at >= minimum ? record.body.subarray(at) : undefined),
      filled: (n) => { at += n; record.inPlace += n; },
      push: (chunk) => { at += chunk.copy(record.body, at); record.pieces++; },
      finish: () => { expect(at).toBe(record.body.length); record.finished = true; },
    };
  };
  const router: LargeFrameHook = { prefixBytes: ROUTE_PREFIX_BYTES, minimumFrame: ROUTE_MINIMUM, arriving };
  return { taken, router };
}

test('a router takes a large frame after its prefix, in order, however the bytes are chunked; other frames arrive whole', () => {
  const routed = Buffer.concat([Buffer.from('R'), pattern(100_000, 5)]);
  const declined = Buffer.concat([Buffer.from('X'), pattern(50_000, 6)]);
  const small = Buffer.concat([Buffer.from('R'), pattern(ROUTE_MINIMUM - 2, 7)]);
  const wire = Buffer.concat([frame(small), frame(routed), frame(declined), frame(routed)]);
  for (const chunk of [1, 3, 131, 132, 133, 4096, 65536, wire.length]) {
    const frames: Buffer[] = [];
    const { taken, router } = takingRouter(false);
    const reader = new FrameReader((f) => frames.push(Buffer.from(f)), router);
    const buffer = Buffer.alloc(chunk);
    for (let at = 0; at < wire.length; at += chunk) {
      reader.push(buffer.subarray(0, wire.copy(buffer, 0, at, at + chunk)), true);
      buffer.fill(0xee);
    }
    // Too small to be shown to the router, and declined by it: both as usual, prefix included.
    expect(frames).toEqual([small, declined]);
    expect(taken.map((t) => [t.length, t.finished])).toEqual([[routed.length, true], [routed.length, true]]);
    for (const t of taken) expect(Buffer.concat([t.prefix, t.body]).equals(routed)).toBe(true);
    expect(reader.pendingBytes).toBe(0);
  }
});

test('a routed frame offering memory has the socket read straight into it', () => {
  const routed = Buffer.concat([Buffer.from('R'), pattern(200_000, 8)]);
  const wire = frame(routed);
  const { taken, router } = takingRouter(true);
  const reader = new FrameReader(() => { throw new Error('the frame should have been routed'); }, router);
  reader.push(wire.subarray(0, 1000), true);
  expect(reader.expectedBytes).toBe(routed.length);
  for (let at = 1000; at < wire.length;) {
    const target = reader.directTarget(16_384);
    if (target === undefined) {
      reader.push(wire.subarray(at), true);
      break;
    }
    const length = wire.copy(target, 0, at, at + 60_000);
    reader.filled(length);
    at += length;
  }
  const [only] = taken;
  expect(only?.finished).toBe(true);
  expect(only!.inPlace).toBeGreaterThan(150_000);
  expect(Buffer.concat([only!.prefix, only!.body]).equals(routed)).toBe(true);
  expect(reader.directTarget(1)).toBeUndefined();
});

test('after a frame read in place, reads between frames stop where the next prefix ends, so its data too lands in place', () => {
  const routed = Buffer.concat([Buffer.from('R'), pattern(70_000, 9)]);
  const small = Buffer.concat([Buffer.from('X'), pattern(100, 10)]);
  const wire = Buffer.concat([frame(routed), frame(routed), frame(small), frame(routed)]);
  const frames: Buffer[] = [];
  const { taken, router } = takingRouter(true);
  const reader = new FrameReader((f) => frames.push(Buffer.from(f)), router);
  // As the transport does: into place when there is a place, else up to boundaryRead() bytes (or 64 KiB).
  const bounds: Array<number | undefined> = [];
  for (let at = 0; at < wire.length;) {
    const target = reader.directTarget(16_384);
    if (target !== undefined) {
      const length = wire.copy(target, 0, at, at + 65_536);
      reader.filled(length);
      at += length;
      continue;
    }
    const bound = reader.boundaryRead();
    bounds.push(bound);
    const chunk = wire.subarray(at, Math.min(wire.length, at + (bound ?? 65_536)));
    reader.push(Buffer.from(chunk), true);
    at += chunk.length;
  }
  expect(frames).toEqual([small]);
  expect(taken).toHaveLength(3);
  for (const t of taken) expect(Buffer.concat([t.prefix, t.body]).equals(routed)).toBe(true);
  // The first frame arrives with an unbounded read (nothing was read in place yet). The second
  // frame's prefix comes with the first one's tail, in a read that stops where that prefix ends:
  // all its data but its own short tail is read in place. The small frame ends the run, so the
  // last frame starts with an unbounded read again.
  const body = routed.length - ROUTE_PREFIX_BYTES;
  expect(bounds[0]).toBeUndefined();
  expect(taken[0]!.inPlace).toBe(0);
  expect(taken[1]!.inPlace).toBe(65_536);
  // Each tail read ends where the next prefix does.
  expect(bounds[1]).toBe(body - (65_536 - 4 - ROUTE_PREFIX_BYTES) + 4 + ROUTE_PREFIX_BYTES);
  expect(bounds[2]).toBe(body - 65_536 + 4 + ROUTE_PREFIX_BYTES);
  expect(bounds).toContain(undefined);
  expect(taken[2]!.inPlace).toBe(0);
  expect(reader.boundaryRead()).toBe(4 + ROUTE_PREFIX_BYTES);
});

test("send()'s written callback comes, in order, only once the socket has taken the message, or once the connection ended", async () => {
  const peer = await listen();
  const transport = await Transport.connect({ host: '127.0.0.1', port: peer.port, connectTimeoutMs: 2000 }, { onFrame: () => {}, onClose: () => {} });
  try {
    const socket = await peer.socket;
    socket.pause();
    // 64 MiB: far more than loopback's socket buffers hold while the peer reads nothing.
    const block = Buffer.alloc(1024 * 1024, 0x5a);
    const count = 64;
    const written: number[] = [];
    for (let i = 0; i < count; i++) transport.send([Buffer.alloc(64), block], () => written.push(i));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(written.length).toBeLessThan(count);
    let received = 0;
    socket.on('data', (d: Buffer) => (received += d.length));
    socket.resume();
    await until(() => written.length === count, 10_000);
    expect(written).toEqual(Array.from({ length: count }, (_, i) => i));
    await until(() => received === count * (4 + 64 + block.length), 10_000);

    // Ended with messages queued: Node then reports the write in progress (which may hold
    // several of them) as done, and fails the rest; either way each is reported at most once, in order.
    socket.pause();
    const late: number[] = [];
    for (let i = 0; i < count; i++) transport.send([block], () => late.push(i));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = late.length;
    expect(before).toBeLessThan(count);
    transport.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(late.length).toBeGreaterThanOrEqual(before);
    expect(late).toEqual(Array.from({ length: late.length }, (_, i) => i));
  } finally {
    transport.close();
    await closePeer(peer);
  }
});
