import { test, expect } from '../../fixtures.js';
import { Requirement } from '../../annotations.js';
import { frameKind } from '../../pcap-reader.js';
import { scenario } from '../../scenario.js';
import { SmbError } from '../../../clients/smb/index.js';
import { Command } from '../../../clients/smb/wire/index.js';

const SESSION_SETUP = Command.SessionSetup;

test.describe('encryption', () => {
  test('the encrypted TREE_CONNECT succeeds and the server reports the tree encrypted', scenario({ id: 'encryption/encrypted-tree-connect', requires: [Requirement.encryptionRequired] }), async ({ client, target, traces }) => {
    const share = target.shares[0]!;
    const tree = await client.connectTree(share.name);
    expect(tree.encrypted).toBe(true);
    const treeConnect = traces.transcript.messages.filter((m) => m.command === 'TREE_CONNECT');
    expect(treeConnect.map((m) => `${m.direction} ${m.encrypted ? 'encrypted' : 'clear'} ${m.direction === 'receive' ? m.status : ''}`.trim()))
      .toEqual(['send encrypted', 'receive encrypted STATUS_SUCCESS']);
    if (target.serverSessions) {
      const mine = (await target.serverSessions()).find((s) => s.username === target.user().username);
      expect(mine?.encryption).toBe(target.profile.expect.cipher);
    }
  });

  test('after SESSION_SETUP every message on the wire is a transform header', scenario({ id: 'encryption/all-transformed', requires: [Requirement.encryption] }), async ({ client, target, traces }) => {
    const tree = await client.connectTree(target.shares[0]!.name);
    await client.echo();
    await tree.disconnect();
    await client.close();
    const frames = await traces.wireFrames();
    const lastSetup = frames.map((f) => frameKind(f.bytes) === 'smb2' && f.bytes.readUInt16LE(12) === SESSION_SETUP).lastIndexOf(true);
    expect(lastSetup, 'a clear SESSION_SETUP response on the wire').toBeGreaterThan(0);
    const after = frames.slice(lastSetup + 1);
    expect(after.length).toBeGreaterThanOrEqual(6);
    expect(after.map((f, i) => `${i} ${f.direction} ${frameKind(f.bytes)}`)).toEqual(after.map((f, i) => `${i} ${f.direction} transform`));
  });

  test('nonces never repeat across 10,000 encrypted messages (read from the wire)', scenario({ id: 'encryption/unique-nonces', requires: [Requirement.encryption] }), async ({ client, traces }) => {
    const total = 10_000;
    const batch = 200;
    for (let sent = 0; sent < total; sent += batch) {
      await Promise.all(Array.from({ length: batch }, () => client.echo()));
    }
    await client.close();
    const transforms = (await traces.wireFrames()).filter((f) => f.direction === 'send' && frameKind(f.bytes) === 'transform');
    expect(transforms.length).toBeGreaterThanOrEqual(total);
    // TRANSFORM_HEADER: ProtocolId(4) Signature(16) Nonce(16).
    const nonces = new Set(transforms.map((f) => f.bytes.subarray(20, 36).toString('hex')));
    expect(nonces.size).toBe(transforms.length);
  });

  test('a client set not to encrypt gets a clear error from a server that requires encryption', scenario({ id: 'encryption/refused-without-encryption', requires: [Requirement.encryptionRequired] }), async ({ connect, target }) => {
    const started = Date.now();
    const error = await connect({ encryption: 'off' })
      .then(async (client) => client.connectTree(target.shares[0]!.name))
      .then(() => undefined, (e: Error) => e);
    expect(error).toBeInstanceOf(SmbError);
    expect((error as SmbError).statusName).toBe('STATUS_ACCESS_DENIED');
    expect(error?.message).toMatch(/^STATUS_ACCESS_DENIED \(0xC0000022\) on (SESSION_SETUP|TREE_CONNECT)/);
    expect(Date.now() - started, 'refused promptly, not by a timeout').toBeLessThan(10_000);
  });
});
