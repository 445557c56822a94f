import { test, expect } from '@playwright/test';
import { AuthenticationError, NegotiationError, SmbError, TimeoutError } from './errors.js';
import { connectAs, withTarget } from './native-target.fixture.js';

test.describe.configure({ mode: 'parallel' });

/** The error a promise rejects with (the test fails if it resolves). */
async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error as Error,
  );
  if (outcome === undefined) throw new Error('expected a failure, but it succeeded');
  return outcome;
}

test('a wrong password is an AuthenticationError naming STATUS_LOGON_FAILURE and SESSION_SETUP', async () => {
  await withTarget('smb311-gcm', async (target) => {
    const error = await failureOf(connectAs(target, { password: 'not-the-password' }));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toBe('STATUS_LOGON_FAILURE (0xC000006D) on SESSION_SETUP');
    expect(error).toMatchObject({ code: 'SMB_AUTHENTICATION', status: 0xc000006d, statusName: 'STATUS_LOGON_FAILURE', command: 'SESSION_SETUP' });
    expect(error.message).not.toContain('not-the-password');
  });
});

test('an unknown share is STATUS_BAD_NETWORK_NAME on TREE_CONNECT with the UNC path; the session stays usable', async () => {
  await withTarget('smb311-gcm', async (target) => {
    const client = await connectAs(target);
    try {
      const error = await failureOf(client.connectTree('nosuch'));
      expect(error).toBeInstanceOf(SmbError);
      expect(error.message).toBe(`STATUS_BAD_NETWORK_NAME (0xC00000CC) on TREE_CONNECT \\\\${target.host}\\nosuch`);
      expect(error).toMatchObject({ statusName: 'STATUS_BAD_NETWORK_NAME', command: 'TREE_CONNECT', path: `\\\\${target.host}\\nosuch` });
      await client.echo();
      expect((await client.connectTree('data')).encrypted).toBe(true);
    } finally {
      await client.close();
    }
  });
});

test('no common dialect is a NegotiationError that lists what each side said', async () => {
  await withTarget('smb311-gcm', async (target) => {
    const error = await failureOf(connectAs(target, { dialects: ['2.0.2'] }));
    expect(error).toBeInstanceOf(NegotiationError);
    expect(error.message).toBe('client offered 2.0.2; server answered STATUS_NOT_SUPPORTED (0xC00000BB) on NEGOTIATE (no dialect in common)');
  });
});

test("encryption 'off' against a server that requires encryption fails fast with a clear error, not a hang", async () => {
  await withTarget('smb302-ccm', async (target) => {
    const started = Date.now();
    const error = await failureOf(connectAs(target, { encryption: 'off', timeoutMs: 5000 }));
    expect(error).not.toBeInstanceOf(TimeoutError);
    expect(error).toBeInstanceOf(SmbError);
    expect(error.message).toBe(
      'STATUS_ACCESS_DENIED (0xC0000022) on SESSION_SETUP (the server may require encryption, which this client has turned off)',
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

test("encryption 'off' on a per-share encryption server: the plain share works, the encrypted one is refused", async () => {
  await withTarget('share-encryption', async (target) => {
    const client = await connectAs(target, { encryption: 'off' });
    try {
      expect(client.negotiated).toMatchObject({ dialect: '3.1.1', cipher: null, encryptionOn: false });
      expect((await client.connectTree('plain')).encrypted).toBe(false);
      const error = await failureOf(client.connectTree('secure'));
      expect(error.message).toBe(`STATUS_ACCESS_DENIED (0xC0000022) on TREE_CONNECT \\\\${target.host}\\secure`);
    } finally {
      await client.close();
    }
  });
});

test('after LOGOFF, any use of the session is STATUS_USER_SESSION_DELETED, and the server has no session left', async () => {
  await withTarget('smb311-signing-gmac', async (target) => {
    const client = await connectAs(target);
    try {
      await client.connectTree('data');
      await client.logoff();
      expect(client.active).toBe(false);
      const echo = await failureOf(client.echo());
      expect(echo).toBeInstanceOf(SmbError);
      expect(echo.message).toMatch(/^STATUS_USER_SESSION_DELETED \(0xC0000203\) on ECHO: session 0x[0-9a-f]{16} was logged off$/);
      const tree = await failureOf(client.connectTree('data'));
      expect(tree.message).toMatch(/^STATUS_USER_SESSION_DELETED \(0xC0000203\) on TREE_CONNECT/);
      expect((await target.serverSessions()).filter((s) => s.username === target.user().username)).toEqual([]);
    } finally {
      await client.close();
    }
  });
});

test('a request after close() fails at once with a TransportError', async () => {
  await withTarget('smb202-legacy', async (target) => {
    const client = await connectAs(target);
    await client.close();
    const error = await failureOf(client.echo());
    expect(error.name).toBe('TransportError');
    expect(error.message).toBe(`connection to ${target.host}:${target.port} is closed: connection to ${target.host}:${target.port} closed by the client`);
  });
});

test("encryption 'required' against a 2.1-only server is a SecurityError right after NEGOTIATE", async () => {
  await withTarget('smb21-signing-hmac', async (target) => {
    const error = await failureOf(connectAs(target, { encryption: 'required' }));
    expect(error.name).toBe('SecurityError');
    expect(error.message).toBe('encryption is required by the client but dialect 2.1 cannot encrypt');
  });
});
