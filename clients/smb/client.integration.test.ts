import { test, expect } from '@playwright/test';
import { SecurityError } from './errors.js';
import type { CipherName, DialectName, SigningAlgorithmName } from './negotiation.js';
import { connectAs, recorder, serverSession, transcript, withTarget } from './native-target.fixture.js';

test.describe.configure({ mode: 'parallel' });

const DIALECTS: DialectName[] = ['2.0.2', '2.1', '3.0', '3.0.2', '3.1.1'];

test('every dialect from 2.0.2 to 3.1.1: the server agrees on the dialect, and only 3.x can enter the encrypted share', async () => {
  await withTarget('share-encryption', async (target) => {
    for (const dialect of DIALECTS) await test.step(dialect, async () => {
      const client = await connectAs(target, { dialects: [dialect] });
      try {
        expect(client.negotiated.dialect).toBe(dialect);
        expect(client.negotiated.preauthIntegrity).toBe(dialect === '3.1.1');
        const plain = await client.connectTree('plain');
        expect(plain.encrypted).toBe(false);
        await client.echo();
        const smb3 = dialect.startsWith('3');
        if (smb3) {
          const secure = await client.connectTree('secure');
          expect(secure.encrypted).toBe(true);
          const cipher = dialect === '3.1.1' ? 'AES-128-GCM' : 'AES-128-CCM';
          expect(client.negotiated.cipher).toBe(cipher);
          const seen = await serverSession(target, target.user().username, 2);
          expect(seen.dialect).toBe(dialect);
          expect(seen.trees.map((t) => `${t.share}:${t.encryption}`).sort()).toEqual(['plain:', `secure:${cipher}`]);
        } else {
          await expect(client.connectTree('secure')).rejects.toThrow(
            `STATUS_ACCESS_DENIED (0xC0000022) on TREE_CONNECT \\\\${target.host}\\secure`,
          );
          const seen = await serverSession(target, target.user().username, 1);
          expect(seen.dialect).toBe(dialect);
          expect(seen.encryption).toBe('');
        }
      } finally {
        await client.close();
      }
    });
  });
});

const CIPHER_CASES: Array<{ profile: string; cipher: CipherName; dialect: DialectName; offer?: CipherName[] }> = [
  { profile: 'smb311-gcm', cipher: 'AES-128-GCM', dialect: '3.1.1' },
  { profile: 'smb302-ccm', cipher: 'AES-128-CCM', dialect: '3.0.2' },
  { profile: 'smb311-aes256', cipher: 'AES-256-GCM', dialect: '3.1.1' },
  { profile: 'smb311-aes256', cipher: 'AES-256-CCM', dialect: '3.1.1', offer: ['AES-256-CCM'] },
];

for (const c of CIPHER_CASES) {
  test(`${c.cipher} on ${c.profile} with encryption required: every request after SESSION_SETUP is encrypted, as the server confirms`, async () => {
    await withTarget(c.profile, async (target) => {
      const observer = recorder();
      const client = await connectAs(target, { encryption: 'required', observer, ...(c.offer ? { ciphers: c.offer } : {}) });
      try {
        expect(client.negotiated).toMatchObject({ dialect: c.dialect, cipher: c.cipher, encryptionOn: true, signingOn: false, isGuest: false });
        const tree = await client.connectTree('data');
        expect(tree.encrypted).toBe(true);
        await client.echo();
        const seen = await serverSession(target, target.user().username, 1);
        expect(seen).toMatchObject({ dialect: c.dialect, encryption: c.cipher });
        // smbstatus 4.17 prints "???" for a tree's AES-256 cipher; the session line above names it.
        expect(seen.trees).toEqual([expect.objectContaining({ share: 'data', encryption: c.cipher.startsWith('AES-256') ? '???' : c.cipher })]);
        const afterSetup = observer.messages.slice(observer.messages.findLastIndex((m) => m.command === 'SESSION_SETUP') + 1);
        expect(afterSetup.length).toBeGreaterThanOrEqual(4);
        for (const m of afterSetup) expect(`${m.direction} ${m.command} encrypted=${m.encrypted}`).toBe(`${m.direction} ${m.command} encrypted=true`);
        // The observer sees the clear SMB2 message, with the real SessionId inside.
        for (const m of afterSetup) {
          expect(m.bytes.subarray(0, 4)).toEqual(Buffer.from([0xfe, 0x53, 0x4d, 0x42]));
          expect(m.bytes.readBigUInt64LE(40)).toBe(m.sessionId);
          expect(m.sessionId).not.toBe(0n);
        }
      } finally {
        await client.close();
      }
    });
  });
}

const SIGNING_CASES: Array<{ profile: string; algorithm: SigningAlgorithmName; dialect: DialectName }> = [
  { profile: 'smb311-signing-gmac', algorithm: 'AES-128-GMAC', dialect: '3.1.1' },
  { profile: 'smb300-signing-cmac', algorithm: 'AES-128-CMAC', dialect: '3.0' },
  { profile: 'smb21-signing-hmac', algorithm: 'HMAC-SHA256', dialect: '2.1' },
];

for (const c of SIGNING_CASES) {
  test(`${c.algorithm} on ${c.profile} with signing mandatory: every message after SESSION_SETUP is signed and verified`, async () => {
    await withTarget(c.profile, async (target) => {
      const observer = recorder();
      const client = await connectAs(target, { signing: 'required', observer });
      try {
        expect(client.negotiated).toMatchObject({ dialect: c.dialect, signingAlgorithm: c.algorithm, signingOn: true, encryptionOn: false, cipher: null });
        expect(client.negotiated.securityMode & 0x2).toBe(0x2); // the server requires signing
        const tree = await client.connectTree('data');
        await client.echo();
        const seen = await serverSession(target, target.user().username, 1);
        expect(seen).toMatchObject({ dialect: c.dialect, signing: c.algorithm, encryption: '' });
        await tree.disconnect();
        const lines = transcript(observer.messages);
        const afterSetup = lines.slice(lines.lastIndexOf('receive SESSION_SETUP STATUS_SUCCESS signed') + 1);
        const validate = c.dialect === '3.0' ? ['send IOCTL signed', 'receive IOCTL STATUS_SUCCESS signed'] : [];
        expect(afterSetup).toEqual([
          'send TREE_CONNECT signed', 'receive TREE_CONNECT STATUS_SUCCESS signed',
          ...validate,
          'send ECHO signed', 'receive ECHO STATUS_SUCCESS signed',
          'send TREE_DISCONNECT signed', 'receive TREE_DISCONNECT STATUS_SUCCESS signed',
        ]);
      } finally {
        await client.close();
      }
    });
  });
}

test('per-share encryption: the "secure" tree is encrypted and "plain" is not, in one session', async () => {
  await withTarget('share-encryption', async (target) => {
    const observer = recorder();
    const client = await connectAs(target, { observer });
    try {
      expect(client.negotiated).toMatchObject({ dialect: '3.1.1', cipher: 'AES-128-GCM', encryptionOn: false });
      const secure = await client.connectTree('secure');
      const plain = await client.connectTree('plain');
      expect([secure.encrypted, secure.shareEncrypted, plain.encrypted]).toEqual([true, true, false]);
      observer.messages.length = 0;
      await secure.disconnect();
      await plain.disconnect();
      expect(transcript(observer.messages)).toEqual([
        'send TREE_DISCONNECT encrypted', 'receive TREE_DISCONNECT STATUS_SUCCESS encrypted',
        'send TREE_DISCONNECT', 'receive TREE_DISCONNECT STATUS_SUCCESS',
      ]);
      expect(observer.messages.map((m) => m.treeId)).toEqual([secure.id, secure.id, plain.id, plain.id]);
    } finally {
      await client.close();
    }
  });
});

test('guest: an unknown user is mapped to guest (asked for with guest: true), which neither signs nor encrypts; a client that requires encryption refuses it', async () => {
  await withTarget('guest', async (target) => {
    const observer = recorder();
    const client = await connectAs(target, { username: 'nosuchuser', password: 'whatever', guest: true, observer });
    try {
      expect(client.negotiated).toMatchObject({ dialect: '3.1.1', isGuest: true, signingOn: false, encryptionOn: false });
      const tree = await client.connectTree('public');
      expect(tree.encrypted).toBe(false);
      await client.echo();
      expect(observer.keys).toEqual([]);
      const afterSetup = observer.messages.slice(observer.messages.findLastIndex((m) => m.command === 'SESSION_SETUP') + 1);
      expect(afterSetup.filter((m) => m.signed || m.encrypted)).toEqual([]);
      const seen = (await target.serverSessions()).find((s) => s.trees.some((t) => t.share === 'public'));
      expect(seen).toMatchObject({ dialect: '3.1.1', encryption: '' });
    } finally {
      await client.close();
    }
    const refused = await connectAs(target, { username: 'nosuchuser', password: 'whatever', guest: true, encryption: 'required' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SecurityError);
    expect((refused as Error).message).toBe(
      'the server made this a guest session (SessionFlags IS_GUEST), which cannot use encryption, but the client requires encryption',
    );
  });
});

test('echo: many requests in flight at once, all answered, within the credits the server grants', async () => {
  await withTarget('smb311-gcm', async (target) => {
    const observer = recorder();
    const client = await connectAs(target, { observer });
    try {
      await Promise.all(Array.from({ length: 300 }, () => client.echo()));
      const echoes = observer.messages.filter((m) => m.command === 'ECHO');
      expect(echoes.filter((m) => m.direction === 'receive' && m.status === 0)).toHaveLength(300);
      const ids = echoes.filter((m) => m.direction === 'send').map((m) => m.messageId);
      expect(new Set(ids).size).toBe(300);
      // Never more credits spent than granted: the client queues instead.
      let available = 1;
      for (const m of observer.messages) {
        if (m.direction === 'send') {
          available -= Math.max(1, m.creditCharge);
          expect(available).toBeGreaterThanOrEqual(0);
        } else {
          available += m.credits;
        }
      }
    } finally {
      await client.close();
    }
  });
});

test('windows-hardened: mandatory signing and desired encryption give an encrypted 3.1.1 session with the defaults', async () => {
  await withTarget('windows-hardened', async (target) => {
    const client = await connectAs(target);
    try {
      expect(client.negotiated).toMatchObject({ dialect: '3.1.1', cipher: 'AES-128-GCM', signingAlgorithm: 'AES-128-GMAC', encryptionOn: true });
      expect(client.negotiated.securityMode & 0x2).toBe(0x2);
      expect((await client.connectTree('data')).encrypted).toBe(true);
      const seen = await serverSession(target, target.user().username, 1);
      expect(seen).toMatchObject({ dialect: '3.1.1', encryption: 'AES-128-GCM', signing: 'AES-128-GMAC' });
    } finally {
      await client.close();
    }
  });
});

test('anonymous: no username gives a null session that neither signs nor encrypts', async () => {
  await withTarget('guest', async (target) => {
    const observer = recorder();
    const client = await connectAs(target, { username: '', password: '', observer });
    try {
      expect(client.negotiated).toMatchObject({ isAnonymous: true, signingOn: false, encryptionOn: false });
      await client.echo();
      expect(observer.keys).toEqual([]);
      expect(observer.messages.filter((m) => m.command === 'ECHO').map((m) => m.signed || m.encrypted)).toEqual([false, false]);
    } finally {
      await client.close();
    }
  });
});
