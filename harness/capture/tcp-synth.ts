/**
 * Synthetic Ethernet/IPv4/TCP framing for bytes the capture proxy relayed, so that a trace reads
 * like a real capture of one TCP connection: SYN / SYN-ACK / ACK, data segments with correct
 * sequence and acknowledgement numbers, an ACK for each burst, FIN or RST at the end.
 * Pure code: frames are returned, never written.
 */
import { isIPv4 } from 'node:net';

export const ETHERNET_HEADER_SIZE = 14;
export const IPV4_HEADER_SIZE = 20;
export const TCP_HEADER_SIZE = 20;

/**
 * The largest payload whose IPv4 packet still fits the 16-bit Total Length field
 * (65535 - 20 - 20), so a 64 KiB read splits into two segments, not dozens.
 */
export const MAX_SEGMENT_SIZE = 65_535 - IPV4_HEADER_SIZE - TCP_HEADER_SIZE;

/** Window scale announced in the SYNs (RFC 7323): 65535 << 7 = 8 MiB, never "window full". */
export const WINDOW_SCALE = 7;
const WINDOW = 0xffff;

/** TCP header flags (RFC 9293 3.1). */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
} as const;

/** Locally administered MAC addresses: 02:00:00:00:00:01 for the client, ...:02 for the server. */
const CLIENT_MAC = Buffer.from([0x02, 0, 0, 0, 0, 0x01]);
const SERVER_MAC = Buffer.from([0x02, 0, 0, 0, 0, 0x02]);
const ETHERTYPE_IPV4 = 0x0800;
const IP_PROTOCOL_TCP = 6;
const IP_DONT_FRAGMENT = 0x4000;
const TTL = 64;

export function ipv4Bytes(address: string): Buffer {
  if (!isIPv4(address)) throw new Error(`capture: "${address}" is not an IPv4 address`);
  return Buffer.from(address.split('.').map(Number));
}

/** 32-bit words summed before folding: 2^20 of them stay below 2^52, exact in a double. */
const WORD_BLOCK = 1 << 20;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
let scratch = new Uint8Array(0);

function fold16(sum: number): number {
  let folded = sum;
  while (folded > 0xffff) folded = (folded % 0x10000) + Math.floor(folded / 0x10000);
  return folded;
}

/**
 * Sums `bytes` (even length) as 16-bit words in the machine's byte order, folded. On a
 * little-endian machine that is, by RFC 1071 2(B) (byte order independence), the byte-swapped sum
 * of the big-endian words. It reads 32-bit words (half the additions; a 32-bit word's two halves
 * fold into the same 16-bit sum, RFC 1071 2(C)), from a 4-aligned copy when `bytes` is not aligned.
 */
function swappedWordSum(bytes: Uint8Array): number {
  let aligned = bytes;
  if (bytes.byteOffset % 4 !== 0) {
    if (scratch.length < bytes.length) scratch = new Uint8Array(Math.max(bytes.length, 65_536));
    scratch.set(bytes);
    aligned = scratch.subarray(0, bytes.length);
  }
  const count = bytes.length >>> 2;
  const words = new Uint32Array(aligned.buffer, aligned.byteOffset, count);
  let sum = 0;
  for (let start = 0; start < count; start += WORD_BLOCK) {
    let block = 0;
    const end = Math.min(start + WORD_BLOCK, count);
    for (let i = start; i < end; i++) block += words[i]!;
    sum = fold16(sum + fold16(block));
  }
  if ((bytes.length & 2) !== 0) {
    const last = bytes.length - 2;
    sum += LITTLE_ENDIAN ? aligned[last]! | (aligned[last + 1]! << 8) : (aligned[last]! << 8) | aligned[last + 1]!;
  }
  return fold16(sum);
}

/** RFC 1071 ones'-complement sum of 16-bit big-endian words, folded; the caller complements it. */
export function onesComplementSum(parts: readonly Buffer[], initial = 0): number {
  let sum = initial;
  let pendingHigh: number | undefined;
  for (const part of parts) {
    let i = 0;
    if (pendingHigh !== undefined && part.length > 0) {
      sum += (pendingHigh << 8) | part[0]!;
      pendingHigh = undefined;
      i = 1;
    }
    const wordBytes = (part.length - i) & ~1;
    if (wordBytes >= 64) {
      const words = swappedWordSum(part.subarray(i, i + wordBytes));
      sum += LITTLE_ENDIAN ? ((words & 0xff) << 8) | (words >>> 8) : words;
      i += wordBytes;
    }
    for (; i + 1 < part.length; i += 2) sum += (part[i]! << 8) | part[i + 1]!;
    if (i < part.length) pendingHigh = part[i]!;
    sum = fold16(sum);
  }
  if (pendingHigh !== undefined) sum += pendingHigh << 8;
  return fold16(sum);
}

export function internetChecksum(parts: readonly Buffer[]): number {
  return ~onesComplementSum(parts) & 0xffff;
}

export interface SegmentFields {
  fromClient: boolean;
  sourceIp: Buffer;
  destinationIp: Buffer;
  sourcePort: number;
  destinationPort: number;
  sequence: number;
  acknowledgement: number;
  flags: number;
  ipId: number;
  /** TCP options, a multiple of 4 bytes. */
  options?: Buffer;
}

/** Ethernet + IPv4 + TCP headers for `payload`, checksums computed over the whole payload. */
export function encodeSegmentHeaders(fields: SegmentFields, payload: Buffer): Buffer {
  const options = fields.options ?? Buffer.alloc(0);
  if (options.length % 4 !== 0) throw new Error(`capture: TCP options must be a multiple of 4 bytes, got ${options.length}`);
  const tcpLength = TCP_HEADER_SIZE + options.length + payload.length;
  const ipTotalLength = IPV4_HEADER_SIZE + tcpLength;
  if (ipTotalLength > 0xffff) throw new Error(`capture: IPv4 packet of ${ipTotalLength} bytes exceeds 65535`);
  const frame = Buffer.alloc(ETHERNET_HEADER_SIZE + IPV4_HEADER_SIZE + TCP_HEADER_SIZE + options.length);
  (fields.fromClient ? SERVER_MAC : CLIENT_MAC).copy(frame, 0);
  (fields.fromClient ? CLIENT_MAC : SERVER_MAC).copy(frame, 6);
  frame.writeUInt16BE(ETHERTYPE_IPV4, 12);

  // RFC 791 3.1
  const ip = frame.subarray(ETHERNET_HEADER_SIZE, ETHERNET_HEADER_SIZE + IPV4_HEADER_SIZE);
  ip[0] = 0x45; // version 4, IHL 5 words
  ip.writeUInt16BE(ipTotalLength, 2);
  ip.writeUInt16BE(fields.ipId & 0xffff, 4);
  ip.writeUInt16BE(IP_DONT_FRAGMENT, 6);
  ip[8] = TTL;
  ip[9] = IP_PROTOCOL_TCP;
  fields.sourceIp.copy(ip, 12);
  fields.destinationIp.copy(ip, 16);
  ip.writeUInt16BE(internetChecksum([ip]), 10);

  // RFC 9293 3.1
  const tcp = frame.subarray(ETHERNET_HEADER_SIZE + IPV4_HEADER_SIZE);
  tcp.writeUInt16BE(fields.sourcePort, 0);
  tcp.writeUInt16BE(fields.destinationPort, 2);
  tcp.writeUInt32BE(fields.sequence >>> 0, 4);
  tcp.writeUInt32BE((fields.flags & TcpFlag.ACK) !== 0 ? fields.acknowledgement >>> 0 : 0, 8);
  tcp[12] = ((TCP_HEADER_SIZE + options.length) / 4) << 4;
  tcp[13] = fields.flags;
  tcp.writeUInt16BE(WINDOW, 14);
  options.copy(tcp, TCP_HEADER_SIZE);
  const pseudoHeader = Buffer.alloc(12);
  fields.sourceIp.copy(pseudoHeader, 0);
  fields.destinationIp.copy(pseudoHeader, 4);
  pseudoHeader[9] = IP_PROTOCOL_TCP;
  pseudoHeader.writeUInt16BE(tcpLength, 10);
  tcp.writeUInt16BE(internetChecksum([pseudoHeader, tcp, payload]), 16);
  return frame;
}

/** MSS (kind 2), NOP, window scale (kind 3): the options of both SYNs. */
export function synOptions(): Buffer {
  return Buffer.from([2, 4, MAX_SEGMENT_SIZE >> 8, MAX_SEGMENT_SIZE & 0xff, 1, 3, 3, WINDOW_SCALE]);
}

export interface Endpoint {
  ip: string;
  port: number;
}

/** One frame: the synthetic headers, then the relayed bytes (a view, not a copy). */
export interface SynthFrame {
  headers: Buffer;
  payload: Buffer;
}

interface Side {
  ip: Buffer;
  port: number;
  /** The next sequence number this side sends. */
  next: number;
  ipId: number;
}

/**
 * The TCP state of one relayed connection, turning what the proxy saw into frames.
 * Sequence numbers are the real byte counts (from the initial sequence numbers given),
 * so Wireshark's stream analysis finds no gaps.
 */
export class TcpFlow {
  private readonly client: Side;
  private readonly server: Side;
  private finished = false;

  constructor(client: Endpoint, server: Endpoint, initialSequence: { client: number; server: number }) {
    this.client = { ip: ipv4Bytes(client.ip), port: client.port, next: initialSequence.client >>> 0, ipId: 1 };
    this.server = { ip: ipv4Bytes(server.ip), port: server.port, next: initialSequence.server >>> 0, ipId: 1 };
  }

  get closed(): boolean {
    return this.finished;
  }

  /** SYN, SYN-ACK, ACK. */
  handshake(): SynthFrame[] {
    return [
      this.segment(true, TcpFlag.SYN, Buffer.alloc(0), 1, synOptions()),
      this.segment(false, TcpFlag.SYN | TcpFlag.ACK, Buffer.alloc(0), 1, synOptions()),
      this.segment(true, TcpFlag.ACK, Buffer.alloc(0)),
    ];
  }

  /** A SYN that got no answer (`refused` false) or a RST-ACK (`refused` true). */
  failedHandshake(refused: boolean): SynthFrame[] {
    const syn = this.segment(true, TcpFlag.SYN, Buffer.alloc(0), 1, synOptions());
    this.finished = true;
    if (!refused) return [syn];
    return [syn, this.segment(false, TcpFlag.RST | TcpFlag.ACK, Buffer.alloc(0))];
  }

  /** Data from one side, in segments of at most MAX_SEGMENT_SIZE, then the peer's ACK. */
  data(fromClient: boolean, bytes: Buffer): SynthFrame[] {
    if (this.finished || bytes.length === 0) return [];
    const frames: SynthFrame[] = [];
    for (let offset = 0; offset < bytes.length; offset += MAX_SEGMENT_SIZE) {
      const end = Math.min(offset + MAX_SEGMENT_SIZE, bytes.length);
      const flags = TcpFlag.ACK | (end === bytes.length ? TcpFlag.PSH : 0);
      frames.push(this.segment(fromClient, flags, bytes.subarray(offset, end), end - offset));
    }
    frames.push(this.segment(!fromClient, TcpFlag.ACK, Buffer.alloc(0)));
    return frames;
  }

  /** FIN-ACK from one side and the peer's ACK. */
  fin(fromClient: boolean): SynthFrame[] {
    if (this.finished) return [];
    const frames = [this.segment(fromClient, TcpFlag.FIN | TcpFlag.ACK, Buffer.alloc(0), 1)];
    frames.push(this.segment(!fromClient, TcpFlag.ACK, Buffer.alloc(0)));
    return frames;
  }

  /** RST-ACK from one side; nothing follows it. */
  reset(fromClient: boolean): SynthFrame[] {
    if (this.finished) return [];
    this.finished = true;
    return [this.segment(fromClient, TcpFlag.RST | TcpFlag.ACK, Buffer.alloc(0))];
  }

  /** Marks the flow over after both FINs (later events add no frames). */
  end(): void {
    this.finished = true;
  }

  private segment(fromClient: boolean, flags: number, payload: Buffer, consumes = payload.length, options?: Buffer): SynthFrame {
    const from = fromClient ? this.client : this.server;
    const to = fromClient ? this.server : this.client;
    const fields: SegmentFields = {
      fromClient,
      sourceIp: from.ip,
      destinationIp: to.ip,
      sourcePort: from.port,
      destinationPort: to.port,
      sequence: from.next,
      acknowledgement: to.next,
      flags,
      ipId: from.ipId,
    };
    if (options !== undefined) fields.options = options;
    const headers = encodeSegmentHeaders(fields, payload);
    from.next = (from.next + consumes) >>> 0;
    from.ipId = (from.ipId + 1) & 0xffff;
    return { headers, payload };
  }
}
