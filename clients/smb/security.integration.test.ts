import { test, expect } from '@playwright/test';
import { SmbError } from './errors.js';
import { namedFaults, withFaults } from './faults.js';
import { connectAs, recorder, withTarget } from './native-target.fixture.js';
import type { StartedNativeTarget } from '../../servers/samba/native.js';

test.describe.configure({ mode: 'parallel' });

/** smbd writes the keys shortly after it answers SESSION_SETUP: wait for them. */
async function loggedKeys(target: StartedNativeTarget, sessionId: bigint) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = target.sessionKeys().find((k) => k.sessionId === sessionId);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`smbd logged no keys for session 0x${sessionId.toString(16)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// smbd dumps keys for the 3.x dialects only.
for (const name of ['smb302-ccm', 'smb311-gcm', 'smb311-aes256', 'smb300-signing-cmac', 'smb311-signing-gmac']) {
  test(`onSessionKeys on ${name} reports the keys smbd itself derived`, async () => {
    await withTarget(name, async (target) => {
      const observer = recorder();
      const client = await connectAs(target, { observer });
      try {
        expect(observer.keys).toHaveLength(1);
        const keys = observer.keys[0]!;
        expect(keys.dialect).toBe(client.negotiated.dialect);
        expect(keys.cipher).toBe(client.negotiated.cipher);
        const logged = await loggedKeys(target, keys.sessionId);
        expect(keys.sessionKey.toString('hex')).toBe(logged.sessionKey.toString('hex'));
        expect(keys.signingKey.toString('hex')).toBe(logged.signingKey.toString('hex'));
        if (keys.cipher === null) {
          expect(keys.encryptionKey).toBeNull();
        } else {
          // The server's "ServerIn" key decrypts what the client encrypts.
          expect(keys.encryptionKey?.toString('hex')).toBe(logged.serverInKey?.toString('hex'));
          expect(keys.decryptionKey?.toString('hex')).toBe(logged.serverOutKey?.toString('hex'));
          expect(keys.encryptionKey).toHaveLength(keys.cipher.startsWith('AES-256') ? 32 : 16);
        }
      } finally {
        await client.close();
      }
    });
  });
}

test('fault omitEncryptionCapability: smb302-ccm refuses the client that forgot SMB2_GLOBAL_CAP_ENCRYPTION', async () => {
  await withTarget('smb302-ccm', async (target) => {
    const healthy = recorder();
    const good = await connectAs(target, { observer: healthy });
    await good.connectTree('data');
    await good.close();
    const sentCapabilities = (events: typeof healthy.messages) => events.find((m) => m.command === 'NEGOTIATE' && m.direction === 'send')!.bytes.readUInt32LE(64 + 8);
    expect(sentCapabilities(healthy.messages) & 0x40).toBe(0x40);

    const faulty = recorder();
    const error = await connectAs(target, withFaults({ observer: faulty }, namedFaults({ omitEncryptionCapability: true })))
      .then(async (client) => {
        try {
          await client.connectTree('data');
        } finally {
          await client.close();
        }
      })
      .then(() => undefined, (e: unknown) => e as Error);
    expect(sentCapabilities(faulty.messages) & 0x40).toBe(0);
    const negotiateResponse = faulty.messages.find((m) => m.command === 'NEGOTIATE' && m.direction === 'receive')!;
    expect(negotiateResponse.bytes.readUInt32LE(64 + 24) & 0x40).toBe(0); // the server negotiated no encryption
    expect(error).toBeInstanceOf(SmbError);
    // MS-SMB2 3.3.5.5: encryption required and no SMB2_GLOBAL_CAP_ENCRYPTION from the client.
    expect(error?.message).toBe('STATUS_ACCESS_DENIED (0xC0000022) on SESSION_SETUP');
  });
});

test('fault zeroInnerSessionIdWhenEncrypting: smb302-ccm refuses the first encrypted request', async () => {
  await withTarget('smb302-ccm', async (target) => {
    const observer = recorder();
    const client = await connectAs(target, withFaults({ observer }, namedFaults({ zeroInnerSessionIdWhenEncrypting: true })));
    try {
      expect(client.negotiated.encryptionOn).toBe(true);
      const error = await client.connectTree('data').then(() => undefined, (e: unknown) => e as Error);
      // smbd finds no session 0 and answers in the clear (it has no key to encrypt with).
      expect(error).toBeInstanceOf(SmbError);
      expect(error?.message).toBe(
        `STATUS_USER_SESSION_DELETED (0xC0000203) on TREE_CONNECT \\\\${target.host}\\data, in an unencrypted response to an encrypted request`,
      );
      const treeConnect = observer.messages.find((m) => m.command === 'TREE_CONNECT' && m.direction === 'send')!;
      expect(treeConnect).toMatchObject({ encrypted: true, sessionId: 0n });
    } finally {
      await client.close();
    }
    const normal = await connectAs(target);
    try {
      expect((await normal.connectTree('data')).encrypted).toBe(true);
    } finally {
      await normal.close();
    }
  });
});
