import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { configurationDifferences } from './configuration.js';
import { frameKind, readWireFrames } from './pcap-reader.js';
import { scenario, selectedClients, unmetRequirement } from './scenario.js';
import { failureOf } from './scenarios/helpers.js';
import { PluginFault } from '../clients/plugins/host.js';
import { ClientUnsupported } from '../clients/plugins/needs.js';
import { matrixWorkers, testFaultsFromEnv, traceModeFromEnv, workersPerTarget } from './options.js';
import { findProfile, resolveProfiles } from '../servers/catalog/index.js';
import type { StartedTarget } from '../servers/target.js';

const profiles = resolveProfiles({});
function fakeTarget(name: string, localPath: string | null = '/srv/x'): StartedTarget {
  const profile = findProfile(profiles, name);
  return { name: `${name}@native`, profile, provider: 'native', shares: [{ name: 'data', unc: '', encrypted: false, guestOk: false, localPath: localPath ?? undefined }] } as unknown as StartedTarget;
}

test('scenario(): annotations carry id, area, client and requirements; bad ids are refused', () => {
  expect(scenario({ id: 'files/round-trip-small', requires: ['local-path'] })).toEqual({
    tag: ['@files', '@smb-ts'],
    annotation: [
      { type: 'scenario', description: 'files/round-trip-small' },
      { type: 'area', description: 'files' },
      { type: 'client', description: 'smb-ts' },
      { type: 'requires', description: 'local-path' },
    ],
  });
  expect(() => scenario({ id: 'Files round trip' })).toThrow('scenario id "Files round trip" is not of the form <area>/<slug>');
});

test('requirements are decided from what the target declares, with the reason', () => {
  expect(unmetRequirement('encryption', fakeTarget('smb302-ccm'))).toBeUndefined();
  expect(unmetRequirement('encryption', fakeTarget('smb202-legacy'))).toBe('smb202-legacy@native does not encrypt its sessions');
  expect(unmetRequirement('encryption-required', fakeTarget('windows-hardened'))).toBe('windows-hardened@native does not require encryption (mode desired)');
  expect(unmetRequirement('smb3.1.1', fakeTarget('smb300-signing-cmac'))).toBe('smb300-signing-cmac@native negotiates 3.0, not 3.1.1');
  expect(unmetRequirement('smb3.0.x', fakeTarget('smb302-ccm'))).toBeUndefined();
  expect(unmetRequirement('signing-required', fakeTarget('smb311-gcm'))).toBe('smb311-gcm@native does not require signing');
  expect(unmetRequirement('guest', fakeTarget('guest'))).toBeUndefined();
  expect(unmetRequirement('share-encryption', fakeTarget('share-encryption'))).toBeUndefined();
  expect(unmetRequirement('share-encryption', fakeTarget('smb311-gcm'))).toBe('smb311-gcm@native has no share that alone requires encryption');
  expect(unmetRequirement('local-path', fakeTarget('smb311-gcm', null))).toBe('smb311-gcm@native gives no access to its disk (native provider)');
});

test('configuration differences name each field with what was seen and what is declared', () => {
  const declared = { dialect: '3.1.1', cipher: 'AES-128-GCM', signingAlgorithm: 'AES-128-GMAC', preauthIntegrity: true, encryption: true, signing: false };
  expect(configurationDifferences({ ...declared }, declared)).toEqual([]);
  expect(configurationDifferences({ ...declared, cipher: 'AES-128-CCM', encryption: false, preauthIntegrity: false }, declared)).toEqual([
    'cipher AES-128-CCM, declared AES-128-GCM',
    'preauthIntegrity off, declared on',
    'encryption off, declared on',
  ]);
  // Only what an observer could see is compared (smbclient: no cipher when the session is clear).
  expect(configurationDifferences({ dialect: '3.0.2' }, declared)).toEqual(['dialect 3.0.2, declared 3.1.1']);
});

test('environment options are checked: trace mode and clients', () => {
  expect(traceModeFromEnv({})).toBe('retain-on-failure');
  expect(traceModeFromEnv({ SMB_INTEROP_TRACE: 'on' })).toBe('on');
  expect(() => traceModeFromEnv({ SMB_INTEROP_TRACE: 'always' })).toThrow('SMB_INTEROP_TRACE: "always" is not one of on, off, retain-on-failure');
  expect(testFaultsFromEnv({})).toBeUndefined();
  expect(testFaultsFromEnv({ SMB_INTEROP_TEST_FAULTS: 'omitEncryptionCapability' })).toEqual({ omitEncryptionCapability: true });
  expect(() => testFaultsFromEnv({ SMB_INTEROP_TEST_FAULTS: 'dropEverything' })).toThrow('SMB_INTEROP_TEST_FAULTS: unknown fault "dropEverything"');
  expect(selectedClients({})).toEqual(['smb-ts', 'smbclient', 'go-smb2', 'impacket']);
  expect(selectedClients({ SMB_INTEROP_CLIENTS: 'smbclient' })).toEqual(['smbclient']);
  expect(() => selectedClients({ SMB_INTEROP_CLIENTS: 'smbclient,wincli' })).toThrow('SMB_INTEROP_CLIENTS: unknown client wincli');
});

/** A pcapng built by hand: SHB, an Ethernet IDB, and EPBs each with Ethernet + IPv4 + TCP headers. */
function pcapng(segments: Array<{ toServer: boolean; payload: Buffer; micros?: number }>): Buffer {
  const block = (type: number, body: Buffer) => {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    const head = Buffer.alloc(8);
    head.writeUInt32LE(type, 0);
    head.writeUInt32LE(padded.length + 12, 4);
    const tail = Buffer.alloc(4);
    tail.writeUInt32LE(padded.length + 12, 0);
    return Buffer.concat([head, padded, tail]);
  };
  const shb = Buffer.from('4d3c2b1a01000000ffffffffffffffff', 'hex');
  const idb = Buffer.from('0100000000000400', 'hex');
  // Each direction's sequence numbers run on from its first segment, as a real capture's do.
  const next = { toServer: 1000, toClient: 5000 };
  const packets = segments.map(({ toServer, payload, micros = 0 }) => {
    const eth = Buffer.from('00000000000200000000000108 00'.replace(/ /g, ''), 'hex');
    const ip = Buffer.from('450000000000400040060000 7f000001 7f000002'.replace(/ /g, ''), 'hex');
    ip.writeUInt16BE(20 + 20 + payload.length, 2);
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(toServer ? 50000 : 445, 0);
    tcp.writeUInt16BE(toServer ? 445 : 50000, 2);
    const direction = toServer ? 'toServer' : 'toClient';
    tcp.writeUInt32BE(next[direction], 4);
    next[direction] += payload.length;
    tcp[12] = 5 << 4;
    const frame = Buffer.concat([eth, ip, tcp, payload]);
    const epb = Buffer.alloc(20);
    epb.writeUInt32LE(Math.floor(micros / 2 ** 32), 4);
    epb.writeUInt32LE(micros % 2 ** 32, 8);
    epb.writeUInt32LE(frame.length, 12);
    epb.writeUInt32LE(frame.length, 16);
    return block(6, Buffer.concat([epb, frame]));
  });
  return Buffer.concat([block(0x0a0d0d0a, shb), block(1, idb), ...packets]);
}

test('the pcapng reader reassembles direct-TCP frames split across segments, per direction', async () => {
  const smb2 = Buffer.concat([Buffer.from([0xfe, 0x53, 0x4d, 0x42]), Buffer.alloc(60, 1)]);
  const transform = Buffer.concat([Buffer.from([0xfd, 0x53, 0x4d, 0x42]), Buffer.alloc(100, 2)]);
  const framed = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, (b.length >> 8) & 0xff, b.length & 0xff]), b]);
  const request = framed(smb2);
  const response = framed(transform);
  const dir = await mkdtemp(join(tmpdir(), 'smb-interop-pcap-'));
  try {
    const file = join(dir, 'x.pcapng');
    await writeFile(file, pcapng([
      { toServer: true, payload: request.subarray(0, 10), micros: 1_796_540_400_000_000 },
      { toServer: false, payload: response, micros: 1_796_540_400_001_250 },
      { toServer: true, payload: request.subarray(10), micros: 1_796_540_400_002_500 },
    ]));
    const frames = await readWireFrames(file);
    // Each frame is timed by the packet that completed it, in milliseconds since the epoch.
    expect(frames.map((f) => `${f.direction} ${f.clientPort} ${frameKind(f.bytes)} ${f.bytes.length} ${new Date(f.time!).toISOString()} ${f.time! % 1}`)).toEqual([
      'receive 50000 transform 104 2026-12-06T07:00:00.001Z 0.25',
      'send 50000 smb2 64 2026-12-06T07:00:00.002Z 0.5',
    ]);
    await writeFile(file, Buffer.from('not a capture at all'));
    await expect(readWireFrames(file)).rejects.toThrow(`${file}: bad block length`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the first frames of a capture, read a chunk at a time up to a byte limit, are the whole read\'s first frames; frames cross chunk boundaries', async () => {
  // Frames of 64 B to 2.5 MiB both ways, cut into segments of up to 60,000 bytes, interleaved.
  const sizes = [64, 200, 2_500_000, 1_048_576, 70, 900_000, 3_000, 2_000_000, 64, 1_500_000, 128, 700_000];
  const segments: Array<{ toServer: boolean; payload: Buffer }> = [];
  sizes.forEach((size, i) => {
    const bytes = Buffer.alloc(4 + size, i + 1);
    bytes.writeUInt32BE(size, 0);
    bytes.set([0xfe, 0x53, 0x4d, 0x42], 4);
    for (let at = 0; at < bytes.length; at += 60_000) segments.push({ toServer: i % 2 === 0, payload: bytes.subarray(at, at + 60_000) });
  });
  const dir = await mkdtemp(join(tmpdir(), 'smb-interop-pcap-'));
  try {
    const file = join(dir, 'bulk.pcapng');
    await writeFile(file, pcapng(segments));
    const all = await readWireFrames(file);
    expect(all.map((f) => f.bytes.length)).toEqual(sizes);
    const shape = (frames: typeof all) => frames.map((f) => `${f.direction} ${f.bytes.length} ${f.bytes[f.bytes.length - 1]}`);
    for (const limit of [0, 100, 2_600_000, 5_000_000, 100_000_000]) {
      const leading = await readWireFrames(file, 445, { maxFrameBytes: limit });
      // Frames until their bytes pass the limit (the last one read crosses it), or all of them.
      let n = 0;
      for (let total = 0; n < sizes.length && total <= limit; n++) total += sizes[n]!;
      expect(shape(leading), `limit ${limit}`).toEqual(shape(all.slice(0, n)));
    }
    await writeFile(file, Buffer.from('not a capture at all'));
    await expect(readWireFrames(file, 445, { maxFrameBytes: 1000 })).rejects.toThrow(`${file}: bad block length`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('workers per target: one each when targets are at least as many as workers, a share otherwise; the environment overrides both', () => {
  expect([10, 4, 3, 2, 1].map((targets) => workersPerTarget(4, targets, {}))).toEqual([1, 1, 2, 2, 4]);
  expect(workersPerTarget(4, 10, { SMB_INTEROP_TARGET_WORKERS: '3' })).toBe(3);
  expect(workersPerTarget(4, 10, { SMB_INTEROP_TARGET_WORKERS: 'many' })).toBe(1);
  expect(matrixWorkers({ SMB_INTEROP_WORKERS: '6' })).toBe(6);
});

test('failureOf hands a scenario the failure it expects, but lets a plug-in fault or a refused operation through', async () => {
  const status = Object.assign(new Error('STATUS_OBJECT_NAME_NOT_FOUND from go-smb2 readFile x'), { statusName: 'STATUS_OBJECT_NAME_NOT_FOUND' });
  expect((await failureOf(Promise.reject(status))).statusName).toBe('STATUS_OBJECT_NAME_NOT_FOUND');
  await expect(failureOf(Promise.resolve())).rejects.toThrow('expected a failure, but the operation succeeded');
  const fault = new PluginFault('go-smb2 did not answer readFile within 60000 ms', 'go-smb2', 'timeout', 'readFile');
  await expect(failureOf(Promise.reject(fault))).rejects.toBe(fault);
  const refused = new ClientUnsupported('go-smb2', 'go-smb2 does not implement rename');
  await expect(failureOf(Promise.reject(refused))).rejects.toBe(refused);
});
