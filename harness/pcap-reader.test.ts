import { test, expect } from '@playwright/test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeEnhancedPacket, encodeInterfaceDescription, encodeSectionHeader } from './capture/pcapng.js';
import { readWireFrames, type WireFrame } from './pcap-reader.js';

const SERVER_PORT = 445;
const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;

/** One TCP segment as captured: which connection and direction, its sequence number, flags and data. */
interface Segment {
  clientPort: number;
  toServer: boolean;
  seq: number;
  flags?: number;
  payload?: Buffer;
}

/** Ethernet (14 bytes, IPv4) + IPv4 (20 bytes, TCP, exact total length) + TCP (20 bytes, data offset 5) + payload. */
function ethernetFrame({ clientPort, toServer, seq, flags = ACK, payload = Buffer.alloc(0) }: Segment): Buffer {
  const ethernet = Buffer.alloc(14);
  Buffer.from(toServer ? '020000000002' : '020000000001', 'hex').copy(ethernet, 0);
  Buffer.from(toServer ? '020000000001' : '020000000002', 'hex').copy(ethernet, 6);
  ethernet.writeUInt16BE(0x0800, 12);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 20 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 6;
  Buffer.from(toServer ? [10, 0, 0, 1] : [10, 0, 0, 2]).copy(ip, 12);
  Buffer.from(toServer ? [10, 0, 0, 2] : [10, 0, 0, 1]).copy(ip, 16);
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(toServer ? clientPort : SERVER_PORT, 0);
  tcp.writeUInt16BE(toServer ? SERVER_PORT : clientPort, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  tcp.writeUInt16BE(65535, 14);
  return Buffer.concat([ethernet, ip, tcp, payload]);
}

/** A pcapng file (SHB, Ethernet IDB, one EPB per segment, 1 ms apart) written into `dir`. */
async function writeCapture(dir: string, name: string, segments: readonly Segment[]): Promise<string> {
  const file = join(dir, name);
  const blocks = [encodeSectionHeader('pcap-reader test'), encodeInterfaceDescription('lo', 0)];
  segments.forEach((segment, i) => {
    blocks.push(...encodeEnhancedPacket({ timestamp: 1_796_540_400_000_000n + BigInt(i) * 1000n, parts: [ethernetFrame(segment)] }));
  });
  await writeFile(file, Buffer.concat(blocks));
  return file;
}

/** An SMB2 message of `length` bytes (0xFE 'SMB', then a pattern that shows any shifted or repeated byte). */
function smb2(length: number, salt: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + salt) & 0xff;
  bytes.set([0xfe, 0x53, 0x4d, 0x42], 0);
  return bytes;
}

/** The message as it crosses TCP: a 4-byte big-endian length (top byte 0), then the message. */
function framed(message: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(message.length, 0);
  return Buffer.concat([length, message]);
}

type Shown = { direction: WireFrame['direction']; clientPort: number; bytes: string };

function shown(frames: readonly WireFrame[]): Shown[] {
  return frames.map((f) => ({ direction: f.direction, clientPort: f.clientPort, bytes: f.bytes.toString('hex') }));
}

function expected(direction: WireFrame['direction'], clientPort: number, message: Buffer): Shown {
  return { direction, clientPort, bytes: message.toString('hex') };
}

let dir: string;

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smb-interop-pcap-reader-test-'));
});

test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a frame split over three in-order segments after the SYN is read once, byte for byte', async () => {
  const message = smb2(100, 1);
  const stream = framed(message);
  const file = await writeCapture(dir, 'in-order.pcapng', [
    { clientPort: 50000, toServer: true, seq: 1000, flags: SYN },
    { clientPort: 50000, toServer: false, seq: 9000, flags: SYN | ACK },
    { clientPort: 50000, toServer: true, seq: 1001, flags: ACK },
    { clientPort: 50000, toServer: true, seq: 1001, payload: stream.subarray(0, 30) },
    { clientPort: 50000, toServer: true, seq: 1031, payload: stream.subarray(30, 70) },
    { clientPort: 50000, toServer: true, seq: 1071, payload: stream.subarray(70) },
  ]);
  expect(shown(await readWireFrames(file, SERVER_PORT))).toEqual([expected('send', 50000, message)]);
});

test('a retransmitted segment (captured twice, same sequence number and data) is taken once: the frame is not corrupted', async () => {
  const first = smb2(80, 2);
  const second = smb2(64, 3);
  const stream = Buffer.concat([framed(first), framed(second)]);
  const file = await writeCapture(dir, 'retransmission.pcapng', [
    { clientPort: 50000, toServer: true, seq: 2000, flags: SYN },
    { clientPort: 50000, toServer: true, seq: 2001, payload: stream.subarray(0, 40) },
    { clientPort: 50000, toServer: true, seq: 2041, payload: stream.subarray(40, 70) },
    { clientPort: 50000, toServer: true, seq: 2041, payload: stream.subarray(40, 70) },
    { clientPort: 50000, toServer: true, seq: 2071, payload: stream.subarray(70) },
  ]);
  expect(shown(await readWireFrames(file, SERVER_PORT))).toEqual([expected('send', 50000, first), expected('send', 50000, second)]);
});

test('a segment that repeats the last 10 bytes of the previous one is trimmed: the frame is exact', async () => {
  const first = smb2(90, 4);
  const second = smb2(64, 5);
  const stream = Buffer.concat([framed(first), framed(second)]);
  const file = await writeCapture(dir, 'overlap.pcapng', [
    { clientPort: 50000, toServer: false, seq: 7000, flags: SYN | ACK },
    { clientPort: 50000, toServer: false, seq: 7001, payload: stream.subarray(0, 40) },
    // Bytes 30..69: 10 already read, 30 new.
    { clientPort: 50000, toServer: false, seq: 7031, payload: stream.subarray(30, 70) },
    { clientPort: 50000, toServer: false, seq: 7071, payload: stream.subarray(70) },
  ]);
  expect(shown(await readWireFrames(file, SERVER_PORT))).toEqual([expected('receive', 50000, first), expected('receive', 50000, second)]);
});

/** Two frames in one direction, four segments, captured 1, 3, 4, 2. */
function outOfOrder(): { first: Buffer; second: Buffer; segments: Segment[] } {
  const first = smb2(60, 6);
  const second = smb2(40, 7);
  const stream = Buffer.concat([framed(first), framed(second)]); // 64 + 44 = 108 bytes
  const at = (from: number, to?: number): Segment => ({ clientPort: 50000, toServer: true, seq: 3001 + from, payload: stream.subarray(from, to) });
  return {
    first,
    second,
    segments: [{ clientPort: 50000, toServer: true, seq: 3000, flags: SYN }, at(0, 25), at(50, 80), at(80), at(25, 50)],
  };
}

test('segments captured out of order (3 and 4 before 2): nothing until segment 2 arrives, then both frames whole and in order', async () => {
  const { first, second, segments } = outOfOrder();
  const before = await writeCapture(dir, 'out-of-order-gap.pcapng', segments.slice(0, 4));
  expect(shown(await readWireFrames(before, SERVER_PORT))).toEqual([]);
  const file = await writeCapture(dir, 'out-of-order.pcapng', segments);
  expect(shown(await readWireFrames(file, SERVER_PORT))).toEqual([expected('send', 50000, first), expected('send', 50000, second)]);
});

test('sequence numbers that wrap past 2^32 (SYN at 0xFFFFFFF0): frames whole, with reordering and a retransmission across the wrap', async () => {
  const first = smb2(36, 8);
  const second = smb2(50, 9);
  const response = smb2(70, 10);
  const stream = Buffer.concat([framed(first), framed(second)]); // 40 + 54 bytes, from 0xFFFFFFF1
  const reply = framed(response);
  const file = await writeCapture(dir, 'wrap.pcapng', [
    { clientPort: 50000, toServer: true, seq: 0xfffffff0, flags: SYN },
    { clientPort: 50000, toServer: false, seq: 0xffffffff, flags: SYN | ACK },
    // Bytes 20..39 (at 0x00000005) captured before bytes 0..19 (0xFFFFFFF1 to 0x00000004), which come twice.
    { clientPort: 50000, toServer: true, seq: 0x00000005, payload: stream.subarray(20, 40) },
    { clientPort: 50000, toServer: true, seq: 0xfffffff1, payload: stream.subarray(0, 20) },
    { clientPort: 50000, toServer: true, seq: 0xfffffff1, payload: stream.subarray(0, 20) },
    { clientPort: 50000, toServer: true, seq: 0x00000019, payload: stream.subarray(40) },
    // The server's data starts at 0 (SYN at 0xFFFFFFFF).
    { clientPort: 50000, toServer: false, seq: 0x00000000, payload: reply.subarray(0, 30) },
    { clientPort: 50000, toServer: false, seq: 0x0000001e, payload: reply.subarray(30) },
  ]);
  expect(shown(await readWireFrames(file, SERVER_PORT))).toEqual([
    expected('send', 50000, first),
    expected('send', 50000, second),
    expected('receive', 50000, response),
  ]);
});

test('two connections, both directions interleaved: each frame is attributed to its own connection and direction', async () => {
  const request1 = smb2(70, 11);
  const request2 = smb2(72, 12);
  const response1 = smb2(90, 13);
  const response2 = smb2(66, 14);
  const [q1, q2, r1, r2] = [framed(request1), framed(request2), framed(response1), framed(response2)];
  // Both connections use the same initial sequence numbers: only the port tells them apart.
  const file = await writeCapture(dir, 'two-connections.pcapng', [
    { clientPort: 50001, toServer: true, seq: 100, flags: SYN },
    { clientPort: 50002, toServer: true, seq: 100, flags: SYN },
    { clientPort: 50001, toServer: false, seq: 500, flags: SYN | ACK },
    { clientPort: 50002, toServer: false, seq: 500, flags: SYN | ACK },
    { clientPort: 50001, toServer: true, seq: 101, payload: q1.subarray(0, 30) },
    { clientPort: 50002, toServer: true, seq: 101, payload: q2.subarray(0, 50) },
    { clientPort: 50001, toServer: true, seq: 131, payload: q1.subarray(30) },
    { clientPort: 50002, toServer: false, seq: 501, payload: r2.subarray(0, 20) }, // before its request is whole
    { clientPort: 50002, toServer: true, seq: 151, payload: q2.subarray(50) },
    { clientPort: 50001, toServer: false, seq: 501, payload: r1.subarray(0, 60) },
    { clientPort: 50002, toServer: false, seq: 521, payload: r2.subarray(20) },
    { clientPort: 50001, toServer: false, seq: 561, payload: r1.subarray(60) },
  ]);
  expect(shown(await readWireFrames(file, SERVER_PORT))).toEqual([
    expected('send', 50001, request1),
    expected('send', 50002, request2),
    expected('receive', 50002, response2),
    expected('receive', 50001, response1),
  ]);
});

test('a new SYN on a client port drops what the previous connection on that port left half-read: the new connection\'s frames are exact', async () => {
  const stale = framed(smb2(100, 15));
  const staleReply = framed(smb2(100, 16));
  const request = smb2(68, 17);
  const response = smb2(80, 18);
  const [q, r] = [framed(request), framed(response)];
  const file = await writeCapture(dir, 'port-reuse.pcapng', [
    { clientPort: 50003, toServer: true, seq: 1000, flags: SYN },
    { clientPort: 50003, toServer: false, seq: 8000, flags: SYN | ACK },
    { clientPort: 50003, toServer: true, seq: 1001, payload: stale.subarray(0, 30) },
    { clientPort: 50003, toServer: false, seq: 8001, payload: staleReply.subarray(0, 50) },
    { clientPort: 50003, toServer: true, seq: 1031, flags: FIN | ACK },
    { clientPort: 50003, toServer: false, seq: 8051, flags: FIN | ACK },
    // The same port again, numbered from elsewhere.
    { clientPort: 50003, toServer: true, seq: 40000, flags: SYN },
    { clientPort: 50003, toServer: false, seq: 90000, flags: SYN | ACK },
    { clientPort: 50003, toServer: true, seq: 40001, payload: q.subarray(0, 40) },
    { clientPort: 50003, toServer: true, seq: 40041, payload: q.subarray(40) },
    { clientPort: 50003, toServer: false, seq: 90001, payload: r },
  ]);
  expect(shown(await readWireFrames(file, SERVER_PORT))).toEqual([expected('send', 50003, request), expected('receive', 50003, response)]);
});

test('reading only the leading frames (maxFrameBytes far above the file) gives the whole read\'s frames for an out-of-order capture', async () => {
  const { first, second, segments } = outOfOrder();
  const file = await writeCapture(dir, 'out-of-order-leading.pcapng', segments);
  const whole = shown(await readWireFrames(file, SERVER_PORT));
  const leading = shown(await readWireFrames(file, SERVER_PORT, { maxFrameBytes: 1_000_000_000 }));
  expect(leading).toEqual(whole);
  expect(leading).toEqual([expected('send', 50000, first), expected('send', 50000, second)]);
});

test('a capture started mid-connection (no SYN seen) reads frames from each direction\'s first data segment', async () => {
  const request = smb2(64, 19);
  const response = smb2(75, 20);
  const [q, r] = [framed(request), framed(response)];
  const file = await writeCapture(dir, 'no-syn.pcapng', [
    { clientPort: 50004, toServer: true, seq: 123_456, payload: q.subarray(0, 33) },
    { clientPort: 50004, toServer: true, seq: 123_489, payload: q.subarray(33) },
    { clientPort: 50004, toServer: false, seq: 3_000_000_000, payload: r.subarray(0, 10) },
    { clientPort: 50004, toServer: false, seq: 3_000_000_010, payload: r.subarray(10) },
  ]);
  expect(shown(await readWireFrames(file, SERVER_PORT))).toEqual([expected('send', 50004, request), expected('receive', 50004, response)]);
});
