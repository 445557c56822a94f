import { expect, test } from '@playwright/test';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findProfile, resolveProfiles } from '../../servers/catalog/index.js';
import { startNativeTarget } from '../../servers/samba/native.js';
import { decodeTreeConnectRequest } from '../../clients/smb/wire/index.js';
import { readWireFrames } from '../pcap-reader.js';
import { CaptureProxy } from './proxy.js';
import type { ServerSessionKeys } from '../../servers/samba/server-keys.js';
import { decodeWire, serverKeysFor } from './wire-decode.js';
import type { DecodedWire } from './wire-decode.js';

const execFileAsync = promisify(execFile);
const profiles = resolveProfiles({});

let dir: string;
test.beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smb-interop-wire-decode-'));
});
test.afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** smbclient (Samba's own client, not this project's) puts a file through the capture proxy; the capture is decoded with the server's logged keys. */
async function smbclientCapture(profileName: string, protocol: string): Promise<{ wire: DecodedWire; frames: Awaited<ReturnType<typeof readWireFrames>>; keys: ServerSessionKeys[] }> {
  const target = await startNativeTarget(findProfile(profiles, profileName));
  const pcapPath = join(dir, 'trace.pcapng');
  const proxy = await CaptureProxy.start({ upstreamHost: target.host, upstreamPort: target.port, pcapPath });
  try {
    const local = join(dir, 'upload.txt');
    await writeFile(local, 'judged on the wire');
    const user = target.user();
    await execFileAsync('smbclient', [
      `//127.0.0.1/${target.shares[0]!.name}`, '-p', String(proxy.port), '-U', `${user.username}%${user.password}`,
      '-m', protocol, '-c', `put ${local} upload.txt; ls`,
    ], { timeout: 30_000 });
    await proxy.close();
    const frames = await readWireFrames(pcapPath, 445);
    const keys = await serverKeysFor(frames, () => target.sessionKeys());
    return { wire: decodeWire(frames, keys), frames, keys };
  } finally {
    await proxy.close();
    await target.stop();
  }
}

function treeConnectPaths(wire: DecodedWire): string[] {
  return wire.messages
    .filter((m) => m.header.command === 'TREE_CONNECT' && m.direction === 'send')
    .map((m) => decodeTreeConnectRequest(m.bytes).path);
}

for (const [profile, protocol, cipher] of [
  ['smb302-ccm', 'SMB3_02', 'AES-128-CCM'],
  ['smb311-gcm', 'SMB3_11', 'AES-128-GCM'],
  ['smb311-aes256', 'SMB3_11', 'AES-256-GCM'],
] as const) {
  test(`${profile}: the server's keys decrypt smbclient's ${cipher} capture; the TREE_CONNECT path is the share`, async () => {
    const { wire, frames, keys } = await smbclientCapture(profile, protocol);
    expect(wire.problems).toEqual([]);
    expect(keys.length).toBeGreaterThanOrEqual(1);
    // smbclient connects IPC$ (for a DFS referral) before the share it was given.
    expect(treeConnectPaths(wire)).toEqual([`\\\\127.0.0.1\\IPC$`, `\\\\127.0.0.1\\data`]);
    // After the session is set up, everything of that session travels encrypted, both ways.
    const sessionId = keys[0]!.sessionId;
    const afterSetup = wire.messages.filter((m) => m.header.sessionId === sessionId && m.header.command !== 'SESSION_SETUP' && m.header.command !== 'NEGOTIATE');
    expect(afterSetup.length).toBeGreaterThan(4);
    expect(afterSetup.filter((m) => !m.encrypted).map((m) => `${m.direction} ${m.header.command}`)).toEqual([]);
    const written = wire.messages.find((m) => m.header.command === 'WRITE' && m.direction === 'send');
    expect(written?.bytes.includes(Buffer.from('judged on the wire'))).toBe(true);
    expect([...new Set(afterSetup.map((m) => m.transform?.cipher))]).toEqual([cipher]);

    // A server that logs no cipher (smbd 4.23+): the connection's NEGOTIATE gives it, and the same frames open.
    const unnamed = decodeWire(frames, keys.map((k) => ({ ...k, cipher: undefined })));
    expect(unnamed.problems).toEqual([]);
    expect(unnamed.messages.map((m) => [m.header.command, m.transform?.cipher])).toEqual(wire.messages.map((m) => [m.header.command, m.transform?.cipher]));
  });
}

test('smb311-signing-gmac: every signed message of smbclient\'s session verifies with the server\'s signing key; a flipped bit does not', async () => {
  const { wire, frames, keys } = await smbclientCapture('smb311-signing-gmac', 'SMB3_11');
  expect(wire.problems).toEqual([]);
  expect(keys.map((k) => k.signingAlgorithm)).toEqual([2]);
  const signed = wire.messages.filter((m) => m.signature !== 'unsigned');
  expect(signed.length).toBeGreaterThan(4);
  expect([...new Set(signed.map((m) => m.signature))]).toEqual(['valid']);
  expect(wire.messages.filter((m) => m.header.command === 'TREE_CONNECT').map((m) => m.signature)).toEqual(['valid', 'valid', 'valid', 'valid']);

  // Tampering with a signed TREE_CONNECT request's path is caught.
  const tree = wire.messages.find((m) => m.header.command === 'TREE_CONNECT' && m.direction === 'send')!;
  const tampered = frames.map((f, i) => (i === tree.frame ? { ...f, bytes: Buffer.from(f.bytes) } : f));
  tampered[tree.frame]!.bytes[tampered[tree.frame]!.bytes.length - 2]! ^= 0x01;
  const again = decodeWire(tampered, keys);
  expect(again.messages.find((m) => m.frame === tree.frame)?.signature).toBe('invalid');
});

test('a flipped bit in an encrypted frame is a problem naming the session, the key and the cipher; the rest still decodes', async () => {
  const { wire, frames, keys } = await smbclientCapture('smb311-gcm', 'SMB3_11');
  const target = wire.messages.find((m) => m.header.command === 'TREE_CONNECT' && m.direction === 'send')!;
  const tampered = frames.map((f, i) => (i === target.frame ? { ...f, bytes: Buffer.from(f.bytes) } : f));
  tampered[target.frame]!.bytes[60]! ^= 0x80;
  const again = decodeWire(tampered, keys);
  expect(again.problems.map((p) => [p.frame, p.direction])).toEqual([[target.frame, 'send']]);
  expect(again.problems[0]!.problem).toMatch(/^does not decrypt with session 0x[0-9a-f]{16}'s ServerIn key \(AES-128-GCM\)/);
  expect(again.messages.length).toBe(wire.messages.length - 1);
});
