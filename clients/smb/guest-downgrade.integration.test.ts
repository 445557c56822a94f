/**
 * A man in the middle that sets SMB2_SESSION_FLAG_IS_GUEST in the final SESSION_SETUP response
 * of a session authenticated with a password would turn off signing, encryption and secure
 * negotiate. Guest is the caller's explicit choice (`guest: true`); otherwise such a response is
 * refused (MS-SMB2 3.2.5.3.1).
 */
import { test, expect } from '@playwright/test';
import { SecurityError } from './errors.js';
import { connectAs, withTarget } from './native-target.fixture.js';
import { withProxy } from './tampering-proxy.fixture.js';
import type { ServerMessage } from './tampering-proxy.fixture.js';
import { Command, HeaderFlag, NtStatus, SessionFlag } from './wire/index.js';

test.describe.configure({ mode: 'parallel' });

const SESSION_FLAGS = 64 + 2;

/** Sets IS_GUEST in the final SESSION_SETUP response; with `unsign`, also removes its signature. */
function guestFlag(unsign: boolean) {
  return (frame: Buffer, messages: ServerMessage[]): Buffer => {
    for (const { header, message } of messages) {
      if (header.command !== Command.SessionSetup || header.status !== NtStatus.Success) continue;
      message.writeUInt16LE(message.readUInt16LE(SESSION_FLAGS) | SessionFlag.IsGuest, SESSION_FLAGS);
      if (unsign) {
        message.writeUInt32LE(message.readUInt32LE(16) & ~HeaderFlag.Signed, 16);
        message.fill(0, 48, 64);
      }
    }
    return frame;
  };
}

async function failure(promise: Promise<{ close(): Promise<void> }>): Promise<Error> {
  const outcome = await promise.then(async (client) => {
    await client.close();
    return undefined;
  }, (error: unknown) => error as Error);
  if (outcome === undefined) throw new Error('expected the connection to be refused, but it succeeded');
  return outcome;
}

test('3.1.1 with mandatory signing: IS_GUEST set in the signed final SESSION_SETUP response is a bad signature, not a guest session', async () => {
  await withTarget('smb311-signing-gmac', async (target) => {
    await withProxy(target, guestFlag(false), async (proxy) => {
      const error = await failure(connectAs(target, { port: proxy.port }));
      expect(error).toBeInstanceOf(SecurityError);
      expect(error.message).toMatch(/^bad signature on the final SESSION_SETUP response \(session 0x[0-9a-f]{16}\)$/);
      expect(proxy.seen).not.toContain(String(Command.TreeConnect));
    });
  });
});

test('3.0 with mandatory signing: IS_GUEST set and the signature stripped is refused as a guest downgrade of a password logon', async () => {
  await withTarget('smb300-signing-cmac', async (target) => {
    await withProxy(target, guestFlag(true), async (proxy) => {
      const error = await failure(connectAs(target, { port: proxy.port }));
      expect(error).toBeInstanceOf(SecurityError);
      expect(error.message).toBe(
        `the server made this a guest session (SessionFlags IS_GUEST), but the client authenticated as ${target.user().username}: `
        + 'a guest session is neither signed nor encrypted (pass guest: true to accept one)',
      );
      expect(error).toMatchObject({ command: 'SESSION_SETUP' });
    });
  });
});

test('2.0.2 with optional signing: an unsigned IS_GUEST response to a password logon is refused too', async () => {
  await withTarget('smb202-legacy', async (target) => {
    await withProxy(target, guestFlag(true), async (proxy) => {
      const error = await failure(connectAs(target, { port: proxy.port }));
      expect(error).toBeInstanceOf(SecurityError);
      expect(error.message).toContain('(pass guest: true to accept one)');
    });
  });
});

test('guest target: an unknown user mapped to guest is refused unless the caller asked for guest', async () => {
  await withTarget('guest', async (target) => {
    const refused = await failure(connectAs(target, { username: 'nosuchuser', password: 'whatever' }));
    expect(refused).toBeInstanceOf(SecurityError);
    expect(refused.message).toBe(
      'the server made this a guest session (SessionFlags IS_GUEST), but the client authenticated as nosuchuser: '
      + 'a guest session is neither signed nor encrypted (pass guest: true to accept one)',
    );
    const guest = await connectAs(target, { username: 'nosuchuser', password: 'whatever', guest: true });
    try {
      expect(guest.negotiated).toMatchObject({ isGuest: true, signingOn: false, encryptionOn: false });
      expect((await guest.connectTree('public')).encrypted).toBe(false);
    } finally {
      await guest.close();
    }
    const member = await connectAs(target, { guest: true });
    try {
      expect(member.negotiated).toMatchObject({ isGuest: false, isAnonymous: false });
    } finally {
      await member.close();
    }
  });
});
