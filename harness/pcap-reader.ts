/**
 * Reads the SMB2 frames back out of a pcapng file (Ethernet / IPv4 / TCP, direct TCP framing), so
 * scenarios can check what really crossed the wire: transform headers, nonces, capabilities.
 * Only what the scenarios need: no IPv6, no out-of-order reassembly (TCP segments are taken in
 * capture order per direction, which is how the capture proxy writes them).
 */
import { readFile } from 'node:fs/promises';

export interface WireFrame {
  /** `send` = client to server (towards `serverPort`). */
  direction: 'send' | 'receive';
  /** The client's TCP port: one value per connection. */
  clientPort: number;
  /** The frame without its 4-byte length: an SMB2 message, a compound, or a TRANSFORM_HEADER + ciphertext. */
  bytes: Buffer;
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
  payload: Buffer;
}

function* packets(data: Buffer, file: string): Generator<Buffer> {
  let offset = 0;
  let linkTypes: number[] = [];
  while (offset + 12 <= data.length) {
    const type = data.readUInt32LE(offset);
    const length = data.readUInt32LE(offset + 4);
    if (length < 12 || length % 4 !== 0 || offset + length > data.length) throw new PcapFormatError(file, `bad block length ${length} at offset ${offset}`);
    if (type === BLOCK_SHB) {
      if (data.readUInt32LE(offset + 8) !== 0x1a2b3c4d) throw new PcapFormatError(file, 'not a little-endian pcapng section');
      linkTypes = [];
    } else if (type === BLOCK_IDB) {
      linkTypes.push(data.readUInt16LE(offset + 8));
    } else if (type === BLOCK_EPB) {
      const iface = data.readUInt32LE(offset + 8);
      const captured = data.readUInt32LE(offset + 20);
      if (linkTypes[iface] !== 1) throw new PcapFormatError(file, `interface ${iface} is not Ethernet`);
      yield data.subarray(offset + 28, offset + 28 + captured);
    }
    offset += length;
  }
}

function tcpSegment(frame: Buffer, serverPort: number): Segment | undefined {
  if (frame.length < 14 || frame.readUInt16BE(12) !== ETHERTYPE_IPV4) return undefined;
  const ip = frame.subarray(14);
  const ihl = (ip[0]! & 0x0f) * 4;
  if (ip[9] !== PROTO_TCP) return undefined;
  const total = ip.readUInt16BE(2);
  const tcp = ip.subarray(ihl, total);
  const srcPort = tcp.readUInt16BE(0);
  const dstPort = tcp.readUInt16BE(2);
  const dataOffset = (tcp[12]! >> 4) * 4;
  const toServer = dstPort === serverPort;
  if (!toServer && srcPort !== serverPort) return undefined;
  return { clientPort: toServer ? srcPort : dstPort, toServer, payload: tcp.subarray(dataOffset) };
}

/** Every complete direct-TCP frame in the file, in capture order per direction and connection. */
export async function readWireFrames(file: string, serverPort = 445): Promise<WireFrame[]> {
  const data = await readFile(file);
  const pending = new Map<string, { chunks: Buffer[]; size: number; need: number }>();
  const frames: WireFrame[] = [];
  for (const packet of packets(data, file)) {
    const segment = tcpSegment(packet, serverPort);
    if (segment === undefined || segment.payload.length === 0) continue;
    const direction = segment.toServer ? 'send' : 'receive';
    const key = `${segment.clientPort}:${direction}`;
    const stream = pending.get(key) ?? { chunks: [], size: 0, need: 4 };
    pending.set(key, stream);
    stream.chunks.push(segment.payload);
    stream.size += segment.payload.length;
    // Concatenate only once a whole frame (or its length) is there: large frames span many segments.
    while (stream.size >= stream.need) {
      let buffer = Buffer.concat(stream.chunks, stream.size);
      const length = buffer.readUInt32BE(0) & 0x00ffffff;
      if (buffer.length < 4 + length) {
        stream.chunks = [buffer];
        stream.need = 4 + length;
        break;
      }
      frames.push({ direction, clientPort: segment.clientPort, bytes: Buffer.from(buffer.subarray(4, 4 + length)) });
      buffer = buffer.subarray(4 + length);
      stream.chunks = buffer.length > 0 ? [buffer] : [];
      stream.size = buffer.length;
      stream.need = 4;
    }
  }
  return frames;
}

/** `transform` (0xFD 'SMB'), `smb2` (0xFE 'SMB'), `compressed` (0xFC 'SMB') or `other`. */
export function frameKind(bytes: Buffer): 'transform' | 'smb2' | 'compressed' | 'other' {
  if (bytes.length < 4 || bytes[1] !== 0x53 || bytes[2] !== 0x4d || bytes[3] !== 0x42) return 'other';
  if (bytes[0] === 0xfd) return 'transform';
  if (bytes[0] === 0xfe) return 'smb2';
  if (bytes[0] === 0xfc) return 'compressed';
  return 'other';
}
