import { test, expect } from '../../fixtures.js';
import { Requirement } from '../../annotations.js';
import { scenario } from '../../scenario.js';
import { AuthenticationError, SmbError } from '../../../clients/smb/index.js';

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a failure, but it succeeded');
    },
    (error: Error) => error,
  );
}

test.describe('auth', () => {
  test('NTLMv2 login as a known user gives an authenticated session the server sees', scenario({ id: 'auth/ntlmv2-login' }), async ({ client, target }) => {
    expect(client.negotiated).toMatchObject({ isGuest: false, isAnonymous: false });
    expect(client.active).toBe(true);
    if (target.serverSessions) {
      const sessions = await target.serverSessions();
      expect(sessions.map((s) => s.username)).toContain(target.user().username);
    }
  });

  test('a wrong password is STATUS_LOGON_FAILURE on SESSION_SETUP', scenario({ id: 'auth/wrong-password' }), async ({ connect }) => {
    const error = await failureOf(connect({ password: 'not-the-password' }));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ statusName: 'STATUS_LOGON_FAILURE', command: 'SESSION_SETUP' });
  });

  test('an unknown user is refused, or mapped to guest where the target admits guests', scenario({ id: 'auth/unknown-user' }), async ({ connect, target }) => {
    const attempt = connect({ username: 'nosuchuser', password: 'whatever', guest: true });
    if (target.profile.guest.enabled) {
      const client = await attempt;
      expect(client.negotiated).toMatchObject({ isGuest: true, signingOn: false, encryptionOn: false });
    } else {
      const error = await failureOf(attempt);
      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error).toMatchObject({ statusName: 'STATUS_LOGON_FAILURE', command: 'SESSION_SETUP' });
    }
  });

  test('a guest reaches the guest share but not the private one, and neither signs nor encrypts', scenario({ id: 'auth/guest', requires: [Requirement.guest] }), async ({ connect, target }) => {
    const guest = await connect({ username: 'guestvisitor', password: '', guest: true });
    expect(guest.negotiated).toMatchObject({ isGuest: true, signingOn: false, encryptionOn: false });
    const open = target.shares.find((s) => s.guestOk);
    const closed = target.shares.find((s) => !s.guestOk);
    expect(open, `${target.name} declares a guest share`).toBeDefined();
    const tree = await guest.connectTree(open!.name);
    expect(tree.encrypted).toBe(false);
    if (closed !== undefined) {
      const error = await failureOf(guest.connectTree(closed.name));
      expect(error).toMatchObject({ statusName: 'STATUS_ACCESS_DENIED', command: 'TREE_CONNECT' });
    }
  });

  test('after LOGOFF the session is gone: STATUS_USER_SESSION_DELETED', scenario({ id: 'auth/use-after-logoff' }), async ({ client, target }) => {
    await client.logoff();
    expect(client.active).toBe(false);
    const error = await failureOf(client.connectTree(target.shares[0]!.name));
    expect(error).toBeInstanceOf(SmbError);
    expect(error).toMatchObject({ statusName: 'STATUS_USER_SESSION_DELETED', command: 'TREE_CONNECT' });
    if (target.serverSessions) {
      const deadline = Date.now() + 5000;
      let mine = (await target.serverSessions()).filter((s) => s.username === target.user().username);
      while (mine.length > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        mine = (await target.serverSessions()).filter((s) => s.username === target.user().username);
      }
      expect(mine).toEqual([]);
    }
  });
});
