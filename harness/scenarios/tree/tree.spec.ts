import { test, expect } from '../../fixtures.js';
import { Requirement } from '../../annotations.js';
import { scenario } from '../../scenario.js';
import { Command, CreateDisposition, NtStatus, ShareType, encodeCreateRequest } from '../../../clients/smb/wire/index.js';

test.describe('tree', () => {
  test('TREE_CONNECT to the share gives a disk tree the server lists', scenario({ id: 'tree/connect-share' }), async ({ client, target }) => {
    const share = target.shares[0]!;
    const tree = await client.connectTree(share.name);
    expect(tree.id).not.toBe(0);
    expect(tree.shareType).toBe(ShareType.Disk);
    expect(tree.path).toBe(`\\\\${client.connection.options.host}\\${share.name}`);
    if (target.serverSessions) {
      const mine = (await target.serverSessions()).find((s) => s.username === target.user().username);
      expect(mine?.trees.map((t) => t.share)).toContain(share.name);
    }
  });

  test('IPC$ is a pipe tree', scenario({ id: 'tree/ipc' }), async ({ client }) => {
    const tree = await client.connectTree('IPC$');
    expect(tree.shareType).toBe(ShareType.Pipe);
    await tree.disconnect();
  });

  test('an unknown share is STATUS_BAD_NETWORK_NAME and the session stays usable', scenario({ id: 'tree/unknown-share' }), async ({ client, target }) => {
    const error = await client.connectTree('no-such-share').then(() => undefined, (e: Error) => e);
    expect(error).toMatchObject({ statusName: 'STATUS_BAD_NETWORK_NAME', command: 'TREE_CONNECT' });
    expect((await client.connectTree(target.shares[0]!.name)).id).not.toBe(0);
  });

  test('per-share encryption: the encrypted share travels in transform headers, the other in the clear (read from the wire)', scenario({ id: 'tree/per-share-encryption', requires: [Requirement.shareEncryption] }), async ({ client, target, traces }) => {
    const secureName = target.profile.expect.encryptedShares[0]!;
    const plainName = target.shares.find((s) => !target.profile.expect.encryptedShares.includes(s.name))!.name;
    const secure = await client.connectTree(secureName);
    const plain = await client.connectTree(plainName);
    expect([secure.encrypted, secure.shareEncrypted, plain.encrypted]).toEqual([true, true, false]);
    await secure.disconnect();
    await plain.disconnect();
    await client.close();
    const frames = (await traces.wireFrames()).filter((f) => f.bytes[0] === 0xfd || (f.bytes[0] === 0xfe && f.bytes.readUInt16LE(12) === Command.TreeDisconnect));
    // TREE_DISCONNECT of the secure tree is encrypted (a transform), of the plain tree in the clear.
    const clearDisconnects = frames.filter((f) => f.bytes[0] === 0xfe);
    expect(clearDisconnects.map((f) => f.bytes.readUInt32LE(36))).toEqual([plain.id, plain.id]);
    expect(frames.filter((f) => f.bytes[0] === 0xfd).length).toBeGreaterThanOrEqual(2);
    expect(traces.transcript.messages.filter((m) => m.treeId === secure.id && m.command !== 'TREE_CONNECT').every((m) => m.encrypted)).toBe(true);
    expect(traces.transcript.messages.filter((m) => m.treeId === plain.id).some((m) => m.encrypted)).toBe(false);
  });

  test('after TREE_DISCONNECT the server refuses the old tree id: STATUS_NETWORK_NAME_DELETED', scenario({ id: 'tree/use-after-disconnect' }), async ({ client, target }) => {
    const tree = await client.connectTree(target.shares[0]!.name);
    await tree.disconnect();
    // Bypass the client's own refusal: send a CREATE on the old tree id and let the server answer.
    const error = await client.session
      .request({
        command: Command.Create,
        treeId: tree.id,
        encrypt: tree.encrypted,
        body: encodeCreateRequest({ name: 'anything.txt', desiredAccess: 0x80, fileAttributes: 0, shareAccess: 7, createDisposition: CreateDisposition.Open, createOptions: 0 }),
      })
      .then(() => undefined, (e: Error) => e);
    expect(error).toMatchObject({ status: NtStatus.NetworkNameDeleted, statusName: 'STATUS_NETWORK_NAME_DELETED', command: 'CREATE' });
  });
});
