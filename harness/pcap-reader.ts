/**
 * Reads the SMB2 frames back out of a pcapng file (Ethernet / IPv4 / TCP, direct TCP framing), so
 * scenarios can check what really crossed the wire: transform headers, nonces, capabilities.
 * Each direction's bytes are put together by TCP sequence number: a retransmitted or repeated
 * segment is taken once, one captured ahead of a gap waits for the gap to fill. No IPv6.
 */
import { open, readFile } from 'node:fs/promises';

export interface WireFrame {
  /** `send` = client to server (towards `serverPort`). */
  direction: 'send' | 'receive';
  /** The client's TCP port: one value per connection. */
  clientPort: number;
  /** The frame without its 4-byte length: an SMB2 message, a compound, or a TRANSFORM_HEADER + ciphertext. */
  bytes: Buffer;
  /** When the packet that completed the frame was captured, in milliseconds since the epoch (from the pcap). */
  time?: number;
}

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_EPB = 0x00000006;
const ETHERTYPE_IPV4 = 0x0800;
const PROTO_TCP = 6;

export class PcapFormatError extends Error {
  readonly code = 'SMB_INTEROP_PCAP';
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'PcapFormatError';
  }
}

interface Segment {
  clientPort: number;
  toServer: boolean;
  /** The sequence number of the payload's first byte (of the SYN itself when `syn`). */
  seq: number;
  /** A SYN opens the direction: its bytes start one after `seq`, and what was pending before is another connection's. */
  syn: boolean;
  payload: Buffer;
  time: number;
}

/** An Enhanced Packet Block's packet and its timestamp (microseconds, the default resolution). */
interface Packet {
  data: Buffer;
  time: number;
}

/** The packets of whole pcapng blocks; `linkTypes` (the interfaces seen) carries over between calls. */
function* packets(data: Buffer, file: string, linkTypes: number[] = []): Generator<Packet> {
  let offset = 0;
  while (offset + 12 <= data.length) {
    const type = data.readUInt32LE(offset);
    const length = data.readUInt32LE(offset + 4);
    if (length < 12 || length % 4 !== 0 || offset + length > data.length) throw new PcapFormatError(file, `bad block length ${length} at offset ${offset}`);
    if (type === BLOCK_SHB) {
      if (data.readUInt32LE(offset + 8) !== 0x1a2b3c4d) throw new PcapFormatError(file, 'not a little-endian pcapng section');
      linkTypes.length = 0;
    } else if (type === BLOCK_IDB) {
      linkTypes.push(data.readUInt16LE(offset + 8));
    } else if (type === BLOCK_EPB) {
      const iface = data.readUInt32LE(offset + 8);
      const captured = data.readUInt32LE(offset + 20);
      if (linkTypes[iface] !== 1) throw new PcapFormatError(file, `interface ${iface} is not Ethernet`);
      const micros = data.readUInt32LE(offset + 12) * 2 ** 32 + data.readUInt32LE(offset + 16);
      yield { data: data.subarray(offset + 28, offset + 28 + captured), time: micros / 1000 };
    }
    offset += length;
  }
}

function tcpSegment({ data: frame, time }: Packet, serverPort: number): Segment | undefined {
  if (frame.length < 14 || frame.readUInt16BE(12) !== ETHERTYPE_IPV4) return undefined;
  const ip = frame.subarray(14);
  const ihl = (ip[0]! & 0x0f) * 4;
  if (ip[9] !== PROTO_TCP) return undefined;
  // A segment the sender's TCP offloads (larger than 64 KiB) has 0 there: it ends with the packet.
  const total = ip.readUInt16BE(2) || ip.length;
  const tcp = ip.subarray(ihl, total);
  const srcPort = tcp.readUInt16BE(0);
  const dstPort = tcp.readUInt16BE(2);
  const dataOffset = (tcp[12]! >> 4) * 4;
  const toServer = dstPort === serverPort;
  if (!toServer && srcPort !== serverPort) return undefined;
  return { clientPort: toServer ? srcPort : dstPort, toServer, seq: tcp.readUInt32BE(4), syn: (tcp[13]! & 0x02) !== 0, payload: tcp.subarray(dataOffset), time };
}

/** Whether the segment carries anything the assembler needs (data, or the SYN that numbers it). */
function carries(segment: Segment | undefined): segment is Segment {
  return segment !== undefined && (segment.payload.length > 0 || segment.syn);
}

interface Stream {
  chunks: Buffer[];
  size: number;
  need: number;
  /** The sequence number of the next byte this direction owes (undefined until its first segment). */
  next: number | undefined;
  /** Segments captured ahead of a gap, by sequence number, until the gap is filled. */
  early: Map<number, Segment>;
}

/** `a - b` in 32-bit sequence space. */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** Cuts each connection's two byte streams into direct-TCP frames (4-byte length, then the frame). */
class FrameAssembler {
  private readonly pending = new Map<number, Stream>();
  readonly frames: WireFrame[] = [];
  /** The frames' bytes so far. */
  bytes = 0;

  /** `payload` must stay unchanged while it is pending (copy it when its buffer is reused). */
  push(segment: Segment): void {
    const key = segment.clientPort * 2 + (segment.toServer ? 0 : 1);
    let stream = this.pending.get(key);
    if (stream === undefined || segment.syn) {
      stream = { chunks: [], size: 0, need: 4, next: segment.syn ? (segment.seq + 1) >>> 0 : undefined, early: new Map() };
      this.pending.set(key, stream);
    }
    if (segment.payload.length === 0) return;
    stream.next ??= segment.seq;
    const ahead = seqDiff(segment.seq, stream.next);
    if (ahead > 0) {
      stream.early.set(segment.seq, segment);
      return;
    }
    this.take(stream, segment, -ahead, segment.time);
    // The gap this segment filled may free segments captured after it (their frames complete now).
    while (stream.early.size > 0) {
      let taken = false;
      for (const [seq, early] of stream.early) {
        if (seqDiff(seq, stream.next!) > 0) continue;
        stream.early.delete(seq);
        this.take(stream, early, seqDiff(stream.next!, seq), segment.time);
        taken = true;
      }
      if (!taken) break;
    }
  }

  /** Appends the segment's bytes after the first `seen` (already taken: a retransmission's overlap); frames it completes are timed `time`. */
  private take(stream: Stream, segment: Segment, seen: number, time: number): void {
    if (seen >= segment.payload.length) return;
    const payload = seen > 0 ? segment.payload.subarray(seen) : segment.payload;
    stream.next = (stream.next! + payload.length) >>> 0;
    const direction = segment.toServer ? 'send' : 'receive';
    stream.chunks.push(payload);
    stream.size += payload.length;
    // Concatenate only once a whole frame (or its length) is there: large frames span many segments.
    while (stream.size >= stream.need) {
      let buffer = stream.chunks.length === 1 ? stream.chunks[0]! : Buffer.concat(stream.chunks, stream.size);
      const length = buffer.readUInt32BE(0) & 0x00ffffff;
      if (buffer.length < 4 + length) {
        stream.chunks = [buffer];
        stream.need = 4 + length;
        break;
      }
      this.frames.push({ direction, clientPort: segment.clientPort, bytes: buffer.subarray(4, 4 + length), time });
      this.bytes += length;
      buffer = buffer.subarray(4 + length);
      stream.chunks = buffer.length > 0 ? [buffer] : [];
      stream.size = buffer.length;
      stream.need = 4;
    }
  }
}

export interface ReadWireOptions {
  /**
   * Stop once the frames read hold more than this many bytes: the capture's first frames only,
   * read without loading the rest of the file (the last frame read crosses the limit).
   */
  maxFrameBytes?: number;
}

/**
 * Every complete direct-TCP frame in the file, in capture order per direction and connection
 * (or its first frames, `maxFrameBytes`). The frames share the file's bytes.
 */
export async function readWireFrames(file: string, serverPort = 445, options: ReadWireOptions = {}): Promise<WireFrame[]> {
  if (options.maxFrameBytes !== undefined) return readLeadingFrames(file, serverPort, options.maxFrameBytes);
  const assembler = new FrameAssembler();
  for (const packet of packets(await readFile(file), file)) {
    const segment = tcpSegment(packet, serverPort);
    if (carries(segment)) assembler.push(segment);
  }
  return assembler.frames;
}

const READ_CHUNK_BYTES = 1024 * 1024;

/** The first frames, reading the file a chunk at a time and stopping at the limit. */
async function readLeadingFrames(file: string, serverPort: number, maxFrameBytes: number): Promise<WireFrame[]> {
  const assembler = new FrameAssembler();
  const handle = await open(file, 'r');
  try {
    const linkTypes: number[] = [];
    let data = Buffer.alloc(0);
    let position = 0;
    for (;;) {
      const rest = data;
      const chunk = Buffer.allocUnsafe(Math.max(READ_CHUNK_BYTES, rest.length * 2));
      rest.copy(chunk);
      const { bytesRead } = await handle.read(chunk, rest.length, chunk.length - rest.length, position);
      position += bytesRead;
      data = chunk.subarray(0, rest.length + bytesRead);
      // Whole blocks are parsed now; one cut at the chunk's end waits for the next read. At the
      // end of the file everything is parsed, so a truncated block is named as in a whole read.
      let whole = data.length;
      if (bytesRead > 0) {
        whole = 0;
        while (data.length - whole >= 8) {
          const length = data.readUInt32LE(whole + 4);
          if (length >= 12 && whole + length > data.length) break;
          whole += Math.max(length, 12);
        }
        whole = Math.min(whole, data.length);
      }
      for (const packet of packets(data.subarray(0, whole), file, linkTypes)) {
        const segment = tcpSegment(packet, serverPort);
        // The chunk is not read into again, but a pending payload would keep all of it alive.
        if (carries(segment)) assembler.push({ ...segment, payload: Buffer.from(segment.payload) });
        if (assembler.bytes > maxFrameBytes) return assembler.frames;
      }
      if (bytesRead === 0) return assembler.frames;
      data = data.subarray(whole);
    }
  } finally {
    await handle.close();
  }
}

/** `transform` (0xFD 'SMB'), `smb2` (0xFE 'SMB'), `compressed` (0xFC 'SMB') or `other`. */
export function frameKind(bytes: Buffer): 'transform' | 'smb2' | 'compressed' | 'other' {
  if (bytes.length < 4 || bytes[1] !== 0x53 || bytes[2] !== 0x4d || bytes[3] !== 0x42) return 'other';
  if (bytes[0] === 0xfd) return 'transform';
  if (bytes[0] === 0xfe) return 'smb2';
  if (bytes[0] === 0xfc) return 'compressed';
  return 'other';
}
