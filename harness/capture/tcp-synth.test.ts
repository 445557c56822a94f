import { expect, test } from '@playwright/test';
import { MAX_SEGMENT_SIZE, TcpFlag, TcpFlow, encodeSegmentHeaders, internetChecksum, ipv4Bytes } from './tcp-synth.js';
import type { SynthFrame } from './tcp-synth.js';

/** RFC 1071 done the slow, obvious way: the whole packet as one list of bytes. */
function naiveChecksum(bytes: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) + (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return 0xffff - sum;
}

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

test('a textbook IPv4 header (192.168.0.1 -> 192.168.0.199, UDP) has checksum 0xb861', () => {
  const header = hex('4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7');
  expect(internetChecksum([header])).toBe(0xb861);
  expect(naiveChecksum([...header])).toBe(0xb861);
});

test('the checksum is the same whether an odd-length buffer splits a 16-bit word or not', () => {
  // 0x0102 + 0x0300 = 0x0402, complemented 0xfbfd
  expect(internetChecksum([hex('01'), hex('0203')])).toBe(0xfbfd);
  expect(internetChecksum([hex('010203')])).toBe(0xfbfd);
  expect(internetChecksum([hex('01'), Buffer.alloc(0), hex('02'), hex('03')])).toBe(0xfbfd);
});

test('large, odd-sized and oddly aligned buffers checksum as the slow byte-by-byte definition says', () => {
  let seed = 12345;
  const random = (limit: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % limit;
  };
  const backing = Buffer.from(Array.from({ length: 300_000 }, () => random(256)));
  for (let round = 0; round < 12; round++) {
    const start = random(7);
    const whole = backing.subarray(start, start + 100_000 + random(150_000));
    const cuts = [random(whole.length), random(whole.length), random(whole.length)].sort((a, b) => a - b);
    const parts = [whole.subarray(0, cuts[0]), whole.subarray(cuts[0], cuts[1]), whole.subarray(cuts[1], cuts[2]), whole.subarray(cuts[2])];
    expect(internetChecksum(parts)).toBe(naiveChecksum([...whole]));
  }
  expect(internetChecksum([Buffer.alloc(70_000, 0xff)])).toBe(naiveChecksum(Array.from({ length: 70_000 }, () => 0xff)));
  // Every alignment of the first byte against 32-bit words, and every length remainder.
  const aligned = Buffer.from(new ArrayBuffer(4096));
  backing.copy(aligned, 0, 0, 4096);
  for (let start = 0; start < 8; start++) {
    for (let length = 64; length < 72; length++) {
      const piece = aligned.subarray(start, start + length);
      expect(internetChecksum([piece]), `start ${start}, length ${length}`).toBe(naiveChecksum([...piece]));
    }
  }
});

test('one data segment, byte for byte: Ethernet, IPv4 and TCP headers with both checksums', () => {
  const payload = Buffer.from('hi');
  const headers = encodeSegmentHeaders({
    fromClient: true,
    sourceIp: ipv4Bytes('127.0.0.1'),
    destinationIp: ipv4Bytes('127.0.0.2'),
    sourcePort: 50000,
    destinationPort: 445,
    sequence: 1000,
    acknowledgement: 2000,
    flags: TcpFlag.PSH | TcpFlag.ACK,
    ipId: 1,
  }, payload);
  // Checksums worked out by hand: IPv4 words sum to 0x1c334 -> 0xc335 -> ~ 0x3cca; TCP with the
  // pseudo header (7f00 0001 7f00 0002 0006 0016) sums to 0x38764 -> 0x8767 -> ~ 0x7898.
  expect(headers.toString('hex')).toBe(hex(`
    020000000002 020000000001 0800
    4500 002a 0001 4000 4006 3cca 7f000001 7f000002
    c350 01bd 000003e8 000007d0 5018 ffff 7898 0000
  `).toString('hex'));
  const ip = [...headers.subarray(14, 34)];
  expect(naiveChecksum(ip)).toBe(0);
  const pseudo = [127, 0, 0, 1, 127, 0, 0, 2, 0, 6, 0, 22];
  expect(naiveChecksum([...pseudo, ...headers.subarray(34), ...payload])).toBe(0);
});

test('an IPv4 packet over 65535 bytes is refused with the size', () => {
  const fields = {
    fromClient: false, sourceIp: ipv4Bytes('127.0.0.2'), destinationIp: ipv4Bytes('127.0.0.1'),
    sourcePort: 445, destinationPort: 50000, sequence: 0, acknowledgement: 0, flags: TcpFlag.ACK, ipId: 1,
  };
  expect(() => encodeSegmentHeaders(fields, Buffer.alloc(MAX_SEGMENT_SIZE + 1))).toThrow('IPv4 packet of 65536 bytes exceeds 65535');
  expect(encodeSegmentHeaders(fields, Buffer.alloc(MAX_SEGMENT_SIZE)).readUInt16BE(16)).toBe(65535);
  expect(() => ipv4Bytes('::1')).toThrow('"::1" is not an IPv4 address');
});

interface Seen {
  from: number;
  seq: number;
  ack: number;
  flags: string;
  length: number;
  ipLength: number;
}

function read(frames: readonly SynthFrame[]): Seen[] {
  const names: [number, string][] = [[TcpFlag.SYN, 'S'], [TcpFlag.FIN, 'F'], [TcpFlag.RST, 'R'], [TcpFlag.PSH, 'P'], [TcpFlag.ACK, 'A']];
  return frames.map(({ headers, payload }) => {
    const tcp = headers.subarray(34);
    return {
      from: tcp.readUInt16BE(0),
      seq: tcp.readUInt32BE(4),
      ack: tcp.readUInt32BE(8),
      flags: names.filter(([bit]) => (tcp[13]! & bit) !== 0).map(([, n]) => n).join(''),
      length: payload.length,
      ipLength: headers.readUInt16BE(16),
    };
  });
}

test('a connection: handshake, a 70000-byte write in two segments, the ACK, FIN, then a reset', () => {
  const flow = new TcpFlow({ ip: '127.0.0.1', port: 50000 }, { ip: '127.0.0.1', port: 445 }, { client: 100, server: 500 });
  const frames = [...flow.handshake(), ...flow.data(true, Buffer.alloc(70_000)), ...flow.fin(true), ...flow.reset(false)];
  expect(read(frames)).toEqual([
    { from: 50000, seq: 100, ack: 0, flags: 'S', length: 0, ipLength: 48 },
    { from: 445, seq: 500, ack: 101, flags: 'SA', length: 0, ipLength: 48 },
    { from: 50000, seq: 101, ack: 501, flags: 'A', length: 0, ipLength: 40 },
    { from: 50000, seq: 101, ack: 501, flags: 'A', length: 65495, ipLength: 65535 },
    { from: 50000, seq: 65596, ack: 501, flags: 'PA', length: 4505, ipLength: 4545 },
    { from: 445, seq: 501, ack: 70101, flags: 'A', length: 0, ipLength: 40 },
    { from: 50000, seq: 70101, ack: 501, flags: 'FA', length: 0, ipLength: 40 },
    { from: 445, seq: 501, ack: 70102, flags: 'A', length: 0, ipLength: 40 },
    { from: 445, seq: 501, ack: 70102, flags: 'RA', length: 0, ipLength: 40 },
  ]);
  // MSS 65495, NOP, window scale 7 in both SYNs.
  expect(frames[0]!.headers.subarray(54).toString('hex')).toBe('0204ffd7' + '01030307');
  expect(flow.closed).toBe(true);
  expect(flow.data(true, Buffer.from('late'))).toEqual([]);
});

test('sequence numbers wrap at 2^32 and a refused connect is SYN then RST-ACK', () => {
  const flow = new TcpFlow({ ip: '127.0.0.1', port: 1 }, { ip: '127.0.0.2', port: 445 }, { client: 0xfffffffe, server: 7 });
  const seen = read([...flow.handshake(), ...flow.data(true, Buffer.from('abc'))]);
  expect(seen.map((s) => s.seq)).toEqual([0xfffffffe, 7, 0xffffffff, 0xffffffff, 8]);
  expect(seen[4]!.ack).toBe(2);
  const refused = new TcpFlow({ ip: '127.0.0.1', port: 1 }, { ip: '127.0.0.2', port: 445 }, { client: 10, server: 0 });
  expect(read(refused.failedHandshake(true)).map((s) => `${s.from} ${s.flags} ${s.seq}/${s.ack}`)).toEqual(['1 S 10/0', '445 RA 0/11']);
  const unanswered = new TcpFlow({ ip: '127.0.0.1', port: 1 }, { ip: '127.0.0.2', port: 445 }, { client: 10, server: 0 });
  expect(read(unanswered.failedHandshake(false)).map((s) => s.flags)).toEqual(['S']);
});
