import { test, expect } from '../../fixtures.js';
import { Requirement } from '../../annotations.js';
import { forEachClient, scenario } from '../../scenario.js';
import { wireSessions } from '../../wire-proof.js';
import { described, failureOf, logons, unsupportedUnless } from '../helpers.js';
import type { Logon } from '../helpers.js';
import { SmbError } from '../../../clients/smb/index.js';
import { Command, SessionFlag, encodeTreeConnectRequest } from '../../../clients/smb/wire/index.js';

/** An NTLMv1 response is 24 bytes; an NTLMv2 one carries the 16-byte proof and the client's blob (MS-NLMP 2.2.2.8). */
const NTLMV1_RESPONSE_BYTES = 24;

const answer = (l: Logon): string => (l.response === undefined ? 'no answer' : l.response.header.statusName);

/** Portable: logons read from the wire (the NTLM AUTHENTICATE sent, the server's SESSION_SETUP answer). */
forEachClient((client, suffix) => {
  test.describe(`auth${suffix}`, () => {
    test(`an NTLMv2 logon as a known user gives an authenticated session the server keeps (read from the wire)${suffix}`, scenario({ id: 'auth/ntlmv2-login', client, logon: 'ntlm' }), async ({ adapter, target, cellWire }) => {
      await adapter.session.writeFile(`${adapter.dir}/in.txt`, Buffer.from('logged on'));
      await adapter.session.close();
      const wire = await cellWire();
      const mine = logons(wire).filter((l) => l.authenticate.user.toLowerCase() === target.user().username.toLowerCase());
      expect(mine.length, `NTLM logons as ${target.user().username} (all logons: ${logons(wire).map((l) => l.authenticate.user || '(anonymous)').join(', ') || 'none'})`).toBeGreaterThan(0);
      const seen = mine.map((l) => [
        l.authenticate.ntChallengeResponse.length > NTLMV1_RESPONSE_BYTES ? 'NTLMv2' : `NtChallengeResponse of ${l.authenticate.ntChallengeResponse.length} bytes`,
        answer(l),
        ((l.sessionFlags ?? 0) & (SessionFlag.IsGuest | SessionFlag.IsNull)) === 0 ? 'as the user' : `SessionFlags 0x${(l.sessionFlags ?? 0).toString(16)}`,
      ].join(' '));
      expect(seen, 'each logon: its response kind, the server\'s answer, the session it gave').toEqual(mine.map(() => 'NTLMv2 STATUS_SUCCESS as the user'));
      // The server kept the sessions: it answered the WRITE on one of them (a client may use a session per operation).
      const ids = new Set(mine.map((l) => l.response?.header.sessionId));
      const writes = wireSessions(wire).filter((s) => ids.has(s.sessionId)).flatMap((s) => s.after.filter((m) => m.direction === 'receive' && m.header.command === 'WRITE'));
      expect(writes.map((m) => m.header.statusName), 'the server\'s WRITE answers on those sessions').toContain('STATUS_SUCCESS');
    });

    test(`a wrong password is STATUS_LOGON_FAILURE on SESSION_SETUP${suffix}`, scenario({ id: 'auth/wrong-password', client, logon: 'ntlm' }), async ({ openAdapter, target, cellWire }) => {
      const error = await failureOf(openAdapter({ password: 'not-the-password' }).then((s) => s.exists('anything')));
      if (error.statusName !== undefined) expect(error.statusName, 'the status the client reports').toBe('STATUS_LOGON_FAILURE');
      const wrong = logons(await cellWire()).filter((l) => l.authenticate.user.toLowerCase() === target.user().username.toLowerCase());
      expect(wrong.length, 'logons with the wrong password on the wire').toBeGreaterThan(0);
      expect(wrong.map(answer)).toEqual(wrong.map(() => 'STATUS_LOGON_FAILURE'));
    });

    test(`an unknown user is refused, or mapped to guest where the target admits guests (the server's answer on the wire)${suffix}`, scenario({ id: 'auth/unknown-user', client, logon: 'ntlm' }), async ({ openAdapter, target, cellWire }) => {
      // Whether the client then accepts a guest session is its own policy; the server's answer is the subject.
      await openAdapter({ username: 'nosuchuser', password: 'whatever' }).then((s) => s.exists('anything')).catch(() => undefined);
      const unknown = logons(await cellWire()).filter((l) => l.authenticate.user === 'nosuchuser');
      expect(unknown.length, 'logons as nosuchuser on the wire').toBeGreaterThan(0);
      if (target.profile.guest.enabled) {
        expect(unknown.map((l) => `${answer(l)} ${((l.sessionFlags ?? 0) & SessionFlag.IsGuest) !== 0 ? 'guest' : 'not guest'}`)).toEqual(unknown.map(() => 'STATUS_SUCCESS guest'));
      } else {
        expect(unknown.map(answer)).toEqual(unknown.map(() => 'STATUS_LOGON_FAILURE'));
      }
    });

    test(`a guest reaches the guest share but not the private one, and its session neither signs nor encrypts (read from the wire)${suffix}`, scenario({ id: 'auth/guest', client, requires: [Requirement.guest] }), async ({ cell, openAdapter, target, cellWire }) => {
      unsupportedUnless(cell, { auth: 'guest' });
      const open = target.shares.find((s) => s.guestOk);
      const closed = target.shares.find((s) => !s.guestOk);
      expect(open, `${target.name} declares a guest share`).toBeDefined();
      const guest = await openAdapter({ guest: true, share: open!.name });
      const name = `guest-${test.info().testId.replace(/[^A-Za-z0-9]/g, '')}.txt`;
      await guest.writeFile(name, Buffer.from('guest'));
      expect((await guest.readFile(name)).toString()).toBe('guest');
      await guest.unlink(name);
      if (closed !== undefined) await failureOf(openAdapter({ guest: true, share: closed.name }).then((s) => s.exists('anything')));
      await guest.close();
      // Every session of this cell is a guest logon: the server flags it IS_GUEST or IS_NULL, or the
      // client logged on with an empty user name (Samba then sets no flag).
      const wire = await cellWire();
      const anonymous = new Set(logons(wire).filter((l) => l.authenticate.user === '').map((l) => l.response?.header.sessionId));
      const sessions = wireSessions(wire);
      expect(sessions.length, 'sessions on the wire').toBeGreaterThan(0);
      expect(sessions.filter((s) => !s.guest && !s.anonymous && !anonymous.has(s.sessionId)).map((s) => `session 0x${s.sessionId.toString(16)}`), 'sessions logged on as a user').toEqual([]);
      expect(sessions.flatMap((s) => s.after.filter((m) => m.encrypted || m.header.signed).map(described)), 'messages of the guest sessions signed or encrypted').toEqual([]);
      const trees = sessions.flatMap((s) => s.trees);
      expect(trees.filter((t) => t.share.toLowerCase() === open!.name.toLowerCase()).map((t) => t.response?.header.statusName)).toContain('STATUS_SUCCESS');
      if (closed !== undefined) {
        const refused = trees.filter((t) => t.share.toLowerCase() === closed.name.toLowerCase());
        expect(refused.length, `TREE_CONNECTs to ${closed.name}`).toBeGreaterThan(0);
        expect(refused.map((t) => t.response?.header.statusName)).toEqual(refused.map(() => 'STATUS_ACCESS_DENIED'));
      }
    });
  });
});

/** This project's client only: LOGOFF is not a plug-in operation. */
test.describe('auth', () => {
  test('after LOGOFF the session is gone: STATUS_USER_SESSION_DELETED on the wire, and the server no longer lists it', scenario({ id: 'auth/use-after-logoff' }), async ({ client, target, cellWire }) => {
    await client.logoff();
    expect(client.active).toBe(false);
    // The client refuses on its own; the server must refuse too: a TREE_CONNECT sent on the old session id.
    const error = await failureOf(client.connectTree(target.shares[0]!.name));
    expect(error).toBeInstanceOf(SmbError);
    expect(error).toMatchObject({ statusName: 'STATUS_USER_SESSION_DELETED', command: 'TREE_CONNECT' });
    const path = `\\\\${client.connection.options.host}\\${target.shares[0]!.name}`;
    const refused = await failureOf(client.connection.request({ command: Command.TreeConnect, sessionId: client.session.id, body: encodeTreeConnectRequest({ path }) }));
    expect(refused).toMatchObject({ statusName: 'STATUS_USER_SESSION_DELETED' });
    if (target.serverSessions) {
      const deadline = Date.now() + 5000;
      let mine = (await target.serverSessions()).filter((s) => s.username === target.user().username);
      while (mine.length > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        mine = (await target.serverSessions()).filter((s) => s.username === target.user().username);
      }
      expect(mine).toEqual([]);
    }
    await client.close();
    const messages = (await cellWire()).messages;
    const logoff = messages.find((m) => m.header.command === 'LOGOFF' && m.direction === 'receive');
    expect(logoff?.header.statusName, 'the server\'s LOGOFF answer').toBe('STATUS_SUCCESS');
    const after = messages.filter((m) => m.index > logoff!.index && m.header.command === 'TREE_CONNECT' && m.direction === 'receive');
    expect(after.map((m) => m.header.statusName)).toEqual(['STATUS_USER_SESSION_DELETED']);
  });
});
