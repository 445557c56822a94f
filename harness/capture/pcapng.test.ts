import { expect, test } from '@playwright/test';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLUSH_BYTES, PcapngFile, encodeEnhancedPacket, encodeInterfaceDescription, encodeSectionHeader } from './pcapng.js';

function hex(text: string): string {
  return text.replace(/\s+/g, '');
}

test('Section Header Block: little-endian magic, version 1.0, unknown section length, shb_userappl', () => {
  expect(encodeSectionHeader('ab').toString('hex')).toBe(hex(`
    0a0d0d0a 28000000
    4d3c2b1a 0100 0000 ffffffffffffffff
    0400 0200 6162 0000
    0000 0000
    28000000
  `));
});

test('Interface Description Block: Ethernet, snap length, if_name and if_tsresol = 6 (microseconds)', () => {
  expect(encodeInterfaceDescription('lo', 0).toString('hex')).toBe(hex(`
    01000000 28000000
    0100 0000 00000000
    0200 0200 6c6f 0000
    0900 0100 06 000000
    0000 0000
    28000000
  `));
  expect(encodeInterfaceDescription('lo', 128).subarray(12, 16).toString('hex')).toBe('80000000');
});

test('Enhanced Packet Block: 64-bit timestamp split high/low, lengths, padding to 4 bytes', () => {
  const parts = [Buffer.from('aabbcc', 'hex'), Buffer.from('dddd', 'hex')];
  expect(Buffer.concat(encodeEnhancedPacket({ timestamp: 0x1_00000002n, parts })).toString('hex')).toBe(hex(`
    06000000 28000000 00000000
    01000000 02000000
    05000000 05000000
    aabbccdddd 000000
    28000000
  `));
});

test('a snap length stores fewer bytes than the packet had; a comment becomes opt_comment', () => {
  const parts = [Buffer.from('aabbcc', 'hex'), Buffer.from('dddd', 'hex')];
  expect(Buffer.concat(encodeEnhancedPacket({ timestamp: 1n, parts, snapLength: 4 })).toString('hex')).toBe(hex(`
    06000000 24000000 00000000 00000000 01000000
    04000000 05000000
    aabbccdd
    24000000
  `));
  expect(Buffer.concat(encodeEnhancedPacket({ timestamp: 1n, parts: [Buffer.from('aa', 'hex')], comment: 'x' })).toString('hex')).toBe(hex(`
    06000000 30000000 00000000 00000000 01000000
    01000000 01000000
    aa 000000
    0100 0100 78 000000
    0000 0000
    30000000
  `));
});

test('PcapngFile writes the header blocks, then one block per packet, and stops at close', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'smb-interop-pcapng-test-'));
  try {
    const path = join(dir, 'trace.pcapng');
    const file = PcapngFile.create(path, { interfaceName: 'lo' });
    expect(file.writePacket(5n, [Buffer.from('aabb', 'hex')])).toBe(1);
    expect(file.writePacket(6n, [Buffer.from('cc', 'hex')])).toBe(2);
    file.close();
    file.close();
    expect(file.writePacket(7n, [Buffer.from('dd', 'hex')])).toBe(0);
    const bytes = await readFile(path);
    const shb = encodeSectionHeader('smb-interop capture proxy');
    const idb = encodeInterfaceDescription('lo', 0);
    const packets = [
      ...encodeEnhancedPacket({ timestamp: 5n, parts: [Buffer.from('aabb', 'hex')] }),
      ...encodeEnhancedPacket({ timestamp: 6n, parts: [Buffer.from('cc', 'hex')] }),
    ];
    expect(bytes.equals(Buffer.concat([shb, idb, ...packets]))).toBe(true);
    expect(bytes.length).toBe(shb.length + 40 + 36 + 36);
    expect(() => PcapngFile.create(join(dir, 'x.pcapng'), { snapLength: -1 })).toThrow('snapLength must be a non-negative integer, got -1');
    expect(() => PcapngFile.create('/dev/full')).toThrow(/^capture: cannot write the pcapng \/dev\/full: ENOSPC/);
    expect(() => PcapngFile.create(join(dir, 'missing', 'x.pcapng'))).toThrow(`capture: cannot write the pcapng ${join(dir, 'missing', 'x.pcapng')}: ENOENT`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('PcapngFile buffers packets up to FLUSH_BYTES: one write per batch, the rest at flush or close, in order', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'smb-interop-pcapng-test-'));
  try {
    const path = join(dir, 'trace.pcapng');
    const file = PcapngFile.create(path);
    const header = (await readFile(path)).length;
    const payload = Buffer.alloc(100_000, 0x5a);
    const perPacket = encodeEnhancedPacket({ timestamp: 1n, parts: [payload] }).reduce((n, b) => n + b.length, 0);
    const perBatch = Math.ceil(FLUSH_BYTES / perPacket);
    for (let i = 1; i < perBatch; i++) file.writePacket(BigInt(i), [payload]);
    expect([(await readFile(path)).length, file.packetsWritten, file.buffered]).toEqual([header, 0, (perBatch - 1) * perPacket]);
    file.writePacket(BigInt(perBatch), [payload]);
    expect([(await readFile(path)).length, file.packetsWritten, file.buffered]).toEqual([header + perBatch * perPacket, perBatch, 0]);
    file.writePacket(99n, [Buffer.from('tail')]);
    file.flush();
    expect(file.packetsWritten).toBe(perBatch + 1);
    file.writePacket(100n, [Buffer.from('last')]);
    file.close();
    const bytes = await readFile(path);
    expect(bytes.length).toBe(header + perBatch * perPacket + 2 * 36);
    expect(bytes.subarray(bytes.length - 36).equals(Buffer.concat(encodeEnhancedPacket({ timestamp: 100n, parts: [Buffer.from('last')] })))).toBe(true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
