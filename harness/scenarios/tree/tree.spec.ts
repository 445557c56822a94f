import { stat } from 'node:fs/promises';
import { test, expect } from '../../fixtures.js';
import { Requirement } from '../../annotations.js';
import { forEachClient, scenario } from '../../scenario.js';
import { wireSessions } from '../../wire-proof.js';
import type { WireTree } from '../../wire-proof.js';
import type { DecodedWire } from '../../capture/wire-decode.js';
import { described, failureOf } from '../helpers.js';
import { Command, CreateDisposition, NtStatus, ShareFlag, ShareType, decodeTreeConnectRequest, decodeTreeConnectResponse, encodeCreateRequest } from '../../../clients/smb/wire/index.js';

/** Every TREE_CONNECT of every session on the wire. */
function treesOf(wire: DecodedWire): WireTree[] {
  return wireSessions(wire).flatMap((s) => s.trees);
}

const named = (share: string) => (t: WireTree) => t.share.toLowerCase() === share.toLowerCase();

/** Portable: tree connects as the wire and the server's disk show them. */
forEachClient((client, suffix) => {
  test.describe(`tree${suffix}`, () => {
    test(`TREE_CONNECT to the share gives a disk tree, and the client's directory is on the share's disk${suffix}`, scenario({ id: 'tree/connect-share', client }), async ({ adapter, target, cellWire }) => {
      const share = target.shares[0]!;
      await adapter.session.close();
      const trees = treesOf(await cellWire()).filter(named(share.name));
      expect(trees.length, `TREE_CONNECTs to ${share.name}`).toBeGreaterThan(0);
      const path = new RegExp(`^\\\\\\\\[^\\\\]+\\\\${share.name}$`, 'i');
      const seen = trees.map((t) => [
        path.test(t.path) ? 'path \\\\server\\share' : `path ${t.path}`,
        t.response === undefined ? 'no response' : t.response.header.statusName,
        t.treeId === undefined || t.treeId === 0 ? 'no TreeId' : 'TreeId',
        t.shareType === ShareType.Disk ? 'DISK' : `ShareType ${t.shareType}`,
      ].join(', '));
      expect(seen, 'each TREE_CONNECT: its path, the answer, the TreeId, the ShareType').toEqual(trees.map(() => 'path \\\\server\\share, STATUS_SUCCESS, TreeId, DISK'));
      // The fixture's fresh directory, made through that tree, is on the share's disk.
      if (adapter.local !== undefined) expect((await stat(adapter.local)).isDirectory()).toBe(true);
    });

    test(`an unknown share is STATUS_BAD_NETWORK_NAME from the server, and the client's other session stays usable${suffix}`, scenario({ id: 'tree/unknown-share', client }), async ({ adapter, openAdapter, cellWire }) => {
      // A client that connects lazily fails at its first operation instead.
      await failureOf(openAdapter({ share: 'no-such-share' }).then((s) => s.exists('anything')));
      await adapter.session.writeFile(`${adapter.dir}/still.txt`, Buffer.from('usable'));
      expect((await adapter.session.readFile(`${adapter.dir}/still.txt`)).toString()).toBe('usable');
      await adapter.session.close();
      const unknown = treesOf(await cellWire()).filter(named('no-such-share'));
      expect(unknown.length, 'TREE_CONNECTs to no-such-share').toBeGreaterThan(0);
      expect(unknown.map((t) => (t.response === undefined ? 'no response' : described(t.response).replace(/ \((encrypted|signed)\)$/, '')))).toEqual(unknown.map(() => 'TREE_CONNECT response STATUS_BAD_NETWORK_NAME'));
    });

    test(`per-share encryption: the encrypted share's tree travels in transforms, the other share's in the clear (read from the wire)${suffix}`, scenario({ id: 'tree/per-share-encryption', client, requires: [Requirement.shareEncryption] }), async ({ adapter, openAdapter, target, cellWire }) => {
      const secureName = target.profile.expect.encryptedShares[0]!;
      const plainName = target.shares.find((s) => !target.profile.expect.encryptedShares.includes(s.name))!.name;
      expect(target.shares[0]!.name, 'the fixture\'s session is on the encrypted share').toBe(secureName);
      const plain = await openAdapter({ share: plainName });
      await adapter.session.writeFile(`${adapter.dir}/secret.txt`, Buffer.from('secret'));
      await plain.writeFile(`plain-${adapter.dir}.txt`, Buffer.from('plain'));
      await plain.unlink(`plain-${adapter.dir}.txt`);
      await plain.close();
      await adapter.session.close();
      const trees = treesOf(await cellWire());
      const secure = trees.filter(named(secureName));
      const clear = trees.filter(named(plainName));
      expect([secure.length > 0, clear.length > 0], `TREE_CONNECTs to ${secureName} and ${plainName}`).toEqual([true, true]);
      const flagged = (t: WireTree) => ((t.shareFlags ?? 0) & ShareFlag.EncryptData) !== 0;
      expect([...secure.map(flagged), ...clear.map(flagged)], `ShareFlags ENCRYPT_DATA of ${secureName} (${secure.length}), then ${plainName} (${clear.length})`).toEqual([...secure.map(() => true), ...clear.map(() => false)]);
      expect(secure.flatMap((t) => t.messages.filter((m) => !m.encrypted).map(described)), `messages on ${secureName} in the clear`).toEqual([]);
      expect(clear.flatMap((t) => t.messages.filter((m) => m.encrypted).map(described)), `messages on ${plainName} encrypted`).toEqual([]);
      expect(secure.flatMap((t) => t.messages).length, `messages on ${secureName}`).toBeGreaterThanOrEqual(2);
      expect(clear.flatMap((t) => t.messages).length, `messages on ${plainName}`).toBeGreaterThanOrEqual(2);
    });
  });
});

/**
 * This project's client only: IPC$ and a request on a disconnected tree id are not plug-in
 * operations (the plug-in protocol works on files of one share).
 */
test.describe('tree', () => {
  test('IPC$ is a pipe tree (read from the wire)', scenario({ id: 'tree/ipc' }), async ({ client, cellWire }) => {
    const tree = await client.connectTree('IPC$');
    await tree.disconnect();
    await client.close();
    const messages = (await cellWire()).messages.filter((m) => m.header.command === 'TREE_CONNECT');
    const request = messages.find((m) => m.direction === 'send' && decodeTreeConnectRequest(m.bytes).path.endsWith('\\IPC$'));
    const response = messages.find((m) => m.direction === 'receive' && m.header.messageId === request?.header.messageId);
    expect(response?.header.status, 'TREE_CONNECT IPC$ answered').toBe(NtStatus.Success);
    expect(decodeTreeConnectResponse(response!.bytes).shareType, 'ShareType').toBe(ShareType.Pipe);
  });

  test('after TREE_DISCONNECT the server refuses the old tree id: STATUS_NETWORK_NAME_DELETED (read from the wire)', scenario({ id: 'tree/use-after-disconnect' }), async ({ client, target, cellWire }) => {
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
    await client.close();
    const create = (await cellWire()).messages.filter((m) => m.header.command === 'CREATE' && m.header.treeId === tree.id && m.direction === 'receive');
    expect(create.map((m) => m.header.statusName), 'the server\'s answers to CREATE on the old tree id').toEqual(['STATUS_NETWORK_NAME_DELETED']);
  });
});
