import { test, expect } from '../../fixtures.js';
import { Requirement } from '../../annotations.js';
import { forEachClient, scenario } from '../../scenario.js';
import { wireSessions } from '../../wire-proof.js';
import type { WireSession } from '../../wire-proof.js';
import type { DecodedWire, WireMessage } from '../../capture/wire-decode.js';
import { described } from '../helpers.js';
import { SmbError } from '../../../clients/smb/index.js';
import { cipherNameOf } from '../../../clients/smb/negotiation.js';
import { NtStatus, ShareFlag } from '../../../clients/smb/wire/index.js';

function authenticated(wire: DecodedWire): WireSession[] {
  const sessions = wireSessions(wire).filter((s) => !s.guest && !s.anonymous);
  expect(sessions.length, `authenticated sessions on the wire (problems: ${wire.problems.map((p) => p.problem).join('; ') || 'none'})`).toBeGreaterThan(0);
  return sessions;
}

/** Transforms whose nonce another transform of the same session and direction used before. */
function repeatedNonces(messages: readonly WireMessage[]): string[] {
  const seen = new Set<string>();
  const repeated: string[] = [];
  // The pieces of one compound share their transform: count each transform once.
  const transforms = new Map<string, WireMessage>();
  for (const m of messages) if (m.transform !== undefined) transforms.set(`${m.connection}/${m.frame}`, m);
  for (const m of transforms.values()) {
    const key = `${m.transform!.sessionId} ${m.direction} ${m.transform!.nonce.toString('hex')}`;
    if (seen.has(key)) repeated.push(`${described(m)} #${m.index}: nonce ${m.transform!.nonce.toString('hex')}`);
    seen.add(key);
  }
  return repeated;
}

/** Portable: what travelled encrypted, read from the wire and opened with the server's keys. */
forEachClient((client, suffix) => {
  test.describe(`encryption${suffix}`, () => {
    test(`TREE_CONNECT travels encrypted both ways, the share says ENCRYPT_DATA and the server logged the declared cipher${suffix}`, scenario({ id: 'encryption/encrypted-tree-connect', client, requires: [Requirement.encryptionRequired] }), async ({ adapter, target, cellWire }) => {
      await adapter.session.close();
      const share = target.shares[0]!.name;
      const [session] = authenticated(await cellWire());
      const tree = session!.trees.find((t) => t.share.toLowerCase() === share.toLowerCase());
      expect(tree, `a TREE_CONNECT to ${share} (trees: ${session!.trees.map((t) => t.share).join(', ') || 'none'})`).toBeDefined();
      expect([tree!.request, tree!.response].map((m) => (m === undefined ? 'missing' : described(m)))).toEqual(['TREE_CONNECT request (encrypted)', 'TREE_CONNECT response STATUS_SUCCESS (encrypted)']);
      expect((tree!.shareFlags ?? 0) & ShareFlag.EncryptData, `ShareFlags 0x${(tree!.shareFlags ?? 0).toString(16)}`).toBe(ShareFlag.EncryptData);
      // Both TREE_CONNECT messages opened with the server's keys; the tag verified under the declared cipher.
      expect([tree!.request, tree!.response].map((m) => m?.transform?.cipher), 'the cipher the TREE_CONNECT transforms opened with').toEqual([target.profile.expect.cipher, target.profile.expect.cipher]);
      // smbd up to 4.22 also logs the session's cipher (4.23 and later do not).
      const logged = target.sessionKeys?.().find((k) => k.sessionId === session!.sessionId)?.cipher;
      if (logged !== undefined) expect(cipherNameOf(logged), 'the cipher the server logged for the session').toBe(target.profile.expect.cipher);
    });

    test(`after SESSION_SETUP every message of the session is a transform that opens with the server's keys${suffix}`, scenario({ id: 'encryption/all-transformed', client, requires: [Requirement.encryption] }), async ({ adapter, cellWire }) => {
      const { session, dir } = adapter;
      await session.writeFile(`${dir}/e.txt`, Buffer.from('encrypted'));
      expect((await session.readFile(`${dir}/e.txt`)).toString()).toBe('encrypted');
      await session.readdir(dir);
      await session.close();
      const sessions = authenticated(await cellWire());
      expect(sessions.map((s) => s.after.length).reduce((a, b) => a + b, 0), 'messages after SESSION_SETUP').toBeGreaterThanOrEqual(6);
      expect(sessions.flatMap((s) => s.after.filter((m) => !m.encrypted).map((m) => `session 0x${s.sessionId.toString(16)}: ${described(m)}`)), 'clear messages after SESSION_SETUP').toEqual([]);
      expect(sessions.flatMap((s) => s.opaque), 'frames that do not open with the server\'s keys').toEqual([]);
    });

    test(`nonces never repeat within a session and direction (read from the wire)${suffix}`, scenario({ id: 'encryption/unique-nonces', client, requires: [Requirement.encryption] }), async ({ adapter, cellWire }) => {
      const { session, dir } = adapter;
      for (let i = 0; i < 8; i++) await session.writeFile(`${dir}/n${i}.txt`, Buffer.from(`nonce ${i}`));
      await session.readdir(dir);
      await session.close();
      const wire = await cellWire();
      authenticated(wire);
      const transforms = wire.messages.filter((m) => m.transform !== undefined);
      expect(transforms.length, 'encrypted messages').toBeGreaterThanOrEqual(40);
      expect(repeatedNonces(wire.messages), 'transforms reusing a nonce of their session and direction').toEqual([]);
    });
  });
});

/**
 * This project's client only. `unique-nonces-10000`: ten thousand ECHOs, two hundred in flight,
 * stress its nonce counter (ECHO is not a plug-in operation). `refused-without-encryption`: its
 * own `encryption: 'off'` option and the error type it throws.
 */
test.describe('encryption', () => {
  test('nonces never repeat across 10,000 encrypted ECHOs, 200 in flight (read from the wire)', scenario({ id: 'encryption/unique-nonces-10000', requires: [Requirement.encryption] }), async ({ client, cellWire }) => {
    const total = 10_000;
    const batch = 200;
    for (let sent = 0; sent < total; sent += batch) {
      await Promise.all(Array.from({ length: batch }, () => client.echo()));
    }
    await client.close();
    const wire = await cellWire();
    const echoes = wire.messages.filter((m) => m.header.command === 'ECHO' && m.direction === 'send');
    expect(echoes.filter((m) => !m.encrypted).length, 'ECHO requests in the clear').toBe(0);
    expect(echoes.length).toBeGreaterThanOrEqual(total);
    expect(repeatedNonces(wire.messages), 'transforms reusing a nonce of their session and direction').toEqual([]);
  });

  test('a client set not to encrypt is refused by a server that requires encryption: STATUS_ACCESS_DENIED on the wire', scenario({ id: 'encryption/refused-without-encryption', requires: [Requirement.encryptionRequired] }), async ({ connect, target, cellWire }) => {
    const started = Date.now();
    const error = await connect({ encryption: 'off' })
      .then(async (client) => client.connectTree(target.shares[0]!.name))
      .then(() => undefined, (e: Error) => e);
    expect(error).toBeInstanceOf(SmbError);
    expect((error as SmbError).statusName).toBe('STATUS_ACCESS_DENIED');
    expect(Date.now() - started, 'refused promptly, not by a timeout').toBeLessThan(10_000);
    const refused = (await cellWire()).messages.filter((m) => m.direction === 'receive' && m.header.status === NtStatus.AccessDenied);
    expect(refused.map(described), 'the server\'s refusal').toEqual([expect.stringMatching(/^(SESSION_SETUP|TREE_CONNECT) response STATUS_ACCESS_DENIED/)]);
  });
});
