/**
 * A pcapng writer (draft-ietf-opsawg-pcapng): one Section Header Block, one Interface
 * Description Block (Ethernet, microsecond timestamps), then Enhanced Packet Blocks appended to
 * the file as packets happen. Packets gather in a bounded buffer (at most `FLUSH_BYTES` and one
 * packet) written in one synchronous writev when full or on flush(): memory stays bounded whatever
 * the transfer size, a bulk transfer costs one system call per MiB rather than one per packet,
 * and a signal handler can still finish the file.
 */
import { closeSync, openSync, writevSync } from 'node:fs';

/** Block types (pcapng 4.1, 4.2, 4.3). */
export const BlockType = {
  sectionHeader: 0x0a0d0d0a,
  interfaceDescription: 0x00000001,
  enhancedPacket: 0x00000006,
} as const;

export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
export const LINKTYPE_ETHERNET = 1;
/** if_tsresol = 6: timestamps count microseconds, the clock the client's transcript uses too. */
export const TIMESTAMP_RESOLUTION_EXPONENT = 6;

const OPTION_END = 0;
const OPTION_COMMENT = 1;
const SHB_USER_APPLICATION = 4;
const IF_NAME = 2;
const IF_TSRESOL = 9;

function pad4(length: number): number {
  return (4 - (length % 4)) % 4;
}

function encodeOption(code: number, value: Buffer): Buffer {
  const option = Buffer.alloc(4 + value.length + pad4(value.length));
  option.writeUInt16LE(code, 0);
  option.writeUInt16LE(value.length, 2);
  value.copy(option, 4);
  return option;
}

function encodeOptions(options: readonly { code: number; value: Buffer }[]): Buffer {
  if (options.length === 0) return Buffer.alloc(0);
  return Buffer.concat([...options.map((o) => encodeOption(o.code, o.value)), Buffer.alloc(4)]); // opt_endofopt
}

/** A block: type, total length, body, total length again (pcapng 3.1). */
function encodeBlock(type: number, body: Buffer): Buffer {
  const total = 12 + body.length;
  const block = Buffer.alloc(total);
  block.writeUInt32LE(type, 0);
  block.writeUInt32LE(total, 4);
  body.copy(block, 8);
  block.writeUInt32LE(total, total - 4);
  return block;
}

/** Section Header Block (pcapng 4.1), little-endian, section length unknown (-1). */
export function encodeSectionHeader(application: string): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  fixed.writeUInt16LE(1, 4); // major version
  fixed.writeUInt16LE(0, 6); // minor version
  fixed.writeBigInt64LE(-1n, 8);
  const options = encodeOptions([{ code: SHB_USER_APPLICATION, value: Buffer.from(application, 'utf8') }]);
  return encodeBlock(BlockType.sectionHeader, Buffer.concat([fixed, options]));
}

/** Interface Description Block (pcapng 4.2); snapLength 0 means no limit. */
export function encodeInterfaceDescription(name: string, snapLength: number): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16LE(LINKTYPE_ETHERNET, 0);
  fixed.writeUInt32LE(snapLength, 4);
  const options = encodeOptions([
    { code: IF_NAME, value: Buffer.from(name, 'utf8') },
    { code: IF_TSRESOL, value: Buffer.from([TIMESTAMP_RESOLUTION_EXPONENT]) },
  ]);
  return encodeBlock(BlockType.interfaceDescription, Buffer.concat([fixed, options]));
}

export interface PacketRecord {
  /** Microseconds since the Unix epoch. */
  timestamp: bigint;
  /** The frame, in pieces (headers, then payload): written as they are, never concatenated. */
  parts: readonly Buffer[];
  /** Store at most this many bytes of the frame (0: all). */
  snapLength?: number;
  comment?: string;
}

/**
 * Enhanced Packet Block (pcapng 4.3) as a list of buffers: the 28-byte fixed part, the captured
 * bytes, then padding, options and the trailing length.
 */
export function encodeEnhancedPacket(packet: PacketRecord): Buffer[] {
  const originalLength = packet.parts.reduce((n, p) => n + p.length, 0);
  const snap = packet.snapLength ?? 0;
  const capturedLength = snap > 0 ? Math.min(snap, originalLength) : originalLength;
  const captured: Buffer[] = [];
  let remaining = capturedLength;
  for (const part of packet.parts) {
    if (remaining === 0) break;
    const piece = part.length <= remaining ? part : part.subarray(0, remaining);
    captured.push(piece);
    remaining -= piece.length;
  }
  const options = packet.comment === undefined ? Buffer.alloc(0) : encodeOptions([{ code: OPTION_COMMENT, value: Buffer.from(packet.comment, 'utf8') }]);
  const padding = pad4(capturedLength);
  const total = 28 + capturedLength + padding + options.length + 4;
  const head = Buffer.alloc(28);
  head.writeUInt32LE(BlockType.enhancedPacket, 0);
  head.writeUInt32LE(total, 4);
  head.writeUInt32LE(0, 8); // interface id
  head.writeUInt32LE(Number(packet.timestamp >> 32n), 12);
  head.writeUInt32LE(Number(packet.timestamp & 0xffffffffn), 16);
  head.writeUInt32LE(capturedLength, 20);
  head.writeUInt32LE(originalLength, 24);
  const tail = Buffer.alloc(padding + options.length + 4);
  options.copy(tail, padding);
  tail.writeUInt32LE(total, tail.length - 4);
  return [head, ...captured, tail];
}

/** Microseconds since the Unix epoch on the same clock as SmbMessageEvent.time. */
export function nowMicroseconds(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
}

/** Buffered bytes that make the next packet write them out. */
export const FLUSH_BYTES = 1 << 20;
/** Buffered pieces that do the same: one writev takes at most IOV_MAX (1024 on Linux) of them. */
const FLUSH_PIECES = 1024;

/** A pcapng file being written: header blocks at open, one EPB per packet, closed once. */
export class PcapngFile {
  private fd: number | undefined;
  private count = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingPackets = 0;
  private written = 0;

  private constructor(readonly path: string, fd: number, private readonly snapLength: number) {
    this.fd = fd;
  }

  static create(path: string, options: { interfaceName?: string; snapLength?: number } = {}): PcapngFile {
    const snapLength = options.snapLength ?? 0;
    if (!Number.isInteger(snapLength) || snapLength < 0) {
      throw new Error(`capture: snapLength must be a non-negative integer, got ${snapLength}`);
    }
    let file: PcapngFile | undefined;
    try {
      file = new PcapngFile(path, openSync(path, 'w', 0o600), snapLength);
      file.write([encodeSectionHeader('smb-interop capture proxy'), encodeInterfaceDescription(options.interfaceName ?? 'capture-proxy', snapLength)]);
      return file;
    } catch (error) {
      file?.close();
      throw new Error(`capture: cannot write the pcapng ${path}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Packets taken so far, written or buffered; the next packet is frame number `packets + 1` in Wireshark. */
  get packets(): number {
    return this.count;
  }

  get isOpen(): boolean {
    return this.fd !== undefined;
  }

  /** Packets in the file (the rest are buffered). */
  get packetsWritten(): number {
    return this.written;
  }

  /** Bytes buffered and not yet written. */
  get buffered(): number {
    return this.pendingBytes;
  }

  /**
   * Appends a packet (its parts are kept, not copied, until written: they must not change);
   * returns its 1-based frame number, or 0 once the file is closed.
   */
  writePacket(timestamp: bigint, parts: readonly Buffer[], comment?: string): number {
    if (this.fd === undefined) return 0;
    const packet: PacketRecord = { timestamp, parts, snapLength: this.snapLength };
    if (comment !== undefined) packet.comment = comment;
    for (const block of encodeEnhancedPacket(packet)) {
      this.pending.push(block);
      this.pendingBytes += block.length;
    }
    this.pendingPackets++;
    if (this.pendingBytes >= FLUSH_BYTES || this.pending.length >= FLUSH_PIECES) this.flush();
    return ++this.count;
  }

  /** Writes what is buffered. A failed write (a full disk) throws; what it held is dropped. */
  flush(): void {
    if (this.pendingBytes === 0) return;
    const batch = this.pending;
    const packets = this.pendingPackets;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingPackets = 0;
    this.write(batch);
    this.written += packets;
  }

  /** Writes what is buffered and closes the file. Idempotent. */
  close(): void {
    if (this.fd === undefined) return;
    try {
      this.flush();
    } finally {
      const fd = this.fd;
      this.fd = undefined;
      closeSync(fd);
    }
  }

  private write(buffers: Buffer[]): void {
    if (this.fd === undefined) return;
    let pending = buffers;
    let total = pending.reduce((n, b) => n + b.length, 0);
    while (total > 0) {
      const written = writevSync(this.fd, pending);
      total -= written;
      if (total === 0) break;
      pending = skipBytes(pending, written);
    }
  }
}

/** The buffers left after a short write of `count` bytes. */
function skipBytes(buffers: readonly Buffer[], count: number): Buffer[] {
  const rest: Buffer[] = [];
  let skip = count;
  for (const buffer of buffers) {
    if (skip >= buffer.length) {
      skip -= buffer.length;
      continue;
    }
    rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
    skip = 0;
  }
  return rest;
}
