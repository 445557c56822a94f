import { test, expect } from '../../fixtures.js';
import { Requirement } from '../../annotations.js';
import { forEachClient, scenario } from '../../scenario.js';
import { isInterim, wireSessions } from '../../wire-proof.js';
import type { WireSession } from '../../wire-proof.js';
import { tokenKind } from '../../capture/logon-mechanism.js';
import { decodeSessionSetupRequest } from '../../../clients/smb/wire/index.js';
import type { DecodedWire } from '../../capture/wire-decode.js';
import { failureOf, logons } from '../helpers.js';

/** A session as the wire shows its logon: mechanism, the server's AP-REP, and whose session it is. */
function logonOf(s: WireSession): string {
  return [s.authMechanism ?? 'no mechanism token', s.mutualAuth ? 'AP-REP' : 'no AP-REP', s.guest || s.anonymous ? 'guest or anonymous' : 'as a user'].join(' ');
}

/** Every SESSION_SETUP request's token, by kind: what reached the server whatever the client reports. */
function setupTokens(wire: DecodedWire): string[] {
  return wire.messages
    .filter((m) => m.header.command === 'SESSION_SETUP' && m.direction === 'send')
    .map((m) => {
      try {
        return tokenKind(decodeSessionSetupRequest(m.bytes).securityBuffer);
      } catch {
        return 'unreadable';
      }
    });
}

/**
 * Portable Kerberos scenarios for targets in a realm (domain profiles): the client gets its
 * tickets from the realm's KDC, and the SMB server and the wire judge the logon.
 */
forEachClient((client, suffix) => {
  test.describe(`auth kerberos${suffix}`, () => {
    test(`a Kerberos logon gives a session that the server authenticates mutually (AP-REQ, then AP-REP), whose keys the server logs${suffix}`, scenario({ id: 'auth/kerberos-login', client, logon: 'kerberos' }), async ({ adapter, cellWire, target }) => {
      const data = Buffer.from(`kerberos ${target.kerberos?.realm}`);
      await adapter.session.writeFile(`${adapter.dir}/in.txt`, data);
      expect((await adapter.session.readFile(`${adapter.dir}/in.txt`)).equals(data), 'bytes read back equal bytes written').toBe(true);
      await adapter.session.close();
      const sessions = wireSessions(await cellWire());
      expect(sessions.length, 'sessions on the wire').toBeGreaterThan(0);
      expect(sessions.map(logonOf), 'each session: mechanism, the server\'s AP-REP, whose').toEqual(sessions.map(() => 'kerberos AP-REP as a user'));
      // The session key came from the Kerberos exchange: the keys the server derived from it open
      // (and verify) everything after SESSION_SETUP, interim responses aside (MS-SMB2 3.3.4.2: not signed).
      expect(sessions.map((s) => s.opaque.length === 0 && s.after.length > 0 && s.after.every((m) => m.encrypted || m.signature === 'valid' || isInterim(m))), 'each session\'s later messages opened or verified with the server\'s keys').toEqual(sessions.map(() => true));
    });

    test(`on a target that accepts both, negotiate chooses Kerberos (the wire's SESSION_SETUP carries an AP-REQ)${suffix}`, scenario({ id: 'auth/negotiate-prefers-kerberos', client, requires: [Requirement.domain, Requirement.ntlm], needs: { auth: 'kerberos' } }), async ({ adapter, cellWire }) => {
      await adapter.session.writeFile(`${adapter.dir}/in.txt`, Buffer.from('negotiate'));
      await adapter.session.close();
      const sessions = wireSessions(await cellWire());
      expect(sessions.length, 'sessions on the wire').toBeGreaterThan(0);
      expect(sessions.map((s) => s.authMechanism ?? 'no mechanism token'), 'the mechanism of each session').toEqual(sessions.map(() => 'kerberos'));
    });

    test(`negotiate falls back to NTLM when the KDC knows no service principal for the server's name${suffix}`, scenario({ id: 'auth/negotiate-ntlm-fallback', client, requires: [Requirement.domain, Requirement.ntlm, Requirement.serverLog], needs: { auth: 'kerberos', operations: ['writeFile', 'readFile'] } }), async ({ openAdapter, cellWire, target, traces }) => {
      const serviceHost = `no-such-host.${target.kerberos!.realm.toLowerCase()}`;
      const session = await openAdapter({ auth: 'negotiate', serviceHost });
      const data = Buffer.from('fallback');
      await session.writeFile(`fallback-${test.info().testId.replace(/[^A-Za-z0-9]/g, '')}.txt`, data);
      await session.close();
      const wire = await cellWire();
      const sessions = wireSessions(wire);
      expect(sessions.length, 'sessions on the wire').toBeGreaterThan(0);
      expect(sessions.map((s) => `${s.authMechanism ?? 'no mechanism token'} ${s.guest || s.anonymous ? 'guest or anonymous' : 'as a user'}`), `each session (cifs/${serviceHost} is unknown to the KDC)`).toEqual(sessions.map(() => 'ntlm as a user'));
      expect(setupTokens(wire), 'no AP-REQ reached the server').not.toContain('kerberos-ap-req');
      // A fall back, not NTLM from the start: the client did get its ticket-granting ticket.
      const user = target.user().username;
      await expect.poll(() => kdcAudit(target.logSince(traces.started), user), { timeout: 5000, message: `the KDC's audit of ${user}'s logons (Kerberos tried first)` }).toContain('NT_STATUS_OK');
    });

    test(`a wrong password gets no ticket: the KDC refuses pre-authentication and no session reaches the server${suffix}`, scenario({ id: 'auth/kerberos-wrong-password', client, logon: 'kerberos', requires: [Requirement.serverLog] }), async ({ openAdapter, cellWire, target }) => {
      const since = new Date();
      await failureOf(openAdapter({ password: 'not-the-password' }).then((s) => s.exists('anything')));
      const wire = await cellWire();
      expect(wireSessions(wire).map(logonOf), 'sessions the server accepted').toEqual([]);
      expect(setupTokens(wire).filter((t) => t === 'kerberos-ap-req' || t === 'ntlm'), 'AP-REQs or NTLM logons that reached the SMB server').toEqual([]);
      const user = target.user().username;
      await expect.poll(() => kdcAudit(target.logSince(since), user), { timeout: 5000, message: `the KDC's audit of ${user}'s logons` }).toContain('NT_STATUS_WRONG_PASSWORD');
    });

    test(`an unknown principal gets no ticket: the KDC does not know it and no session reaches the server${suffix}`, scenario({ id: 'auth/kerberos-unknown-principal', client, logon: 'kerberos', requires: [Requirement.serverLog] }), async ({ openAdapter, cellWire, target }) => {
      const since = new Date();
      await failureOf(openAdapter({ username: 'nosuchuser', password: 'whatever' }).then((s) => s.exists('anything')));
      const wire = await cellWire();
      expect(wireSessions(wire).map(logonOf), 'sessions the server accepted').toEqual([]);
      expect(setupTokens(wire).filter((t) => t === 'kerberos-ap-req' || t === 'ntlm'), 'AP-REQs or NTLM logons that reached the SMB server').toEqual([]);
      await expect.poll(() => kdcAudit(target.logSince(since), 'nosuchuser'), { timeout: 5000, message: 'the KDC\'s audit of nosuchuser\'s logons' }).toContain('NT_STATUS_NO_SUCH_USER');
    });

    test(`a server that refuses NTLM answers an NTLM logon with an error, and gives no session${suffix}`, scenario({ id: 'auth/ntlm-refused', client, requires: [Requirement.kerberosOnly] }), async ({ openAdapter, cellWire, target }) => {
      await failureOf(openAdapter({ auth: 'ntlm' }).then((s) => s.exists('anything')));
      const wire = await cellWire();
      const mine = logons(wire).filter((l) => l.authenticate.user.toLowerCase() === target.user().username.toLowerCase());
      expect(mine.length, 'NTLM logons as the user on the wire').toBeGreaterThan(0);
      expect(mine.map((l) => l.response?.header.statusName ?? 'no answer'), 'the server\'s answers').toEqual(mine.map(() => 'STATUS_NTLM_BLOCKED'));
      expect(wireSessions(wire).map(logonOf), 'sessions the server accepted').toEqual([]);
    });
  });
});

/**
 * The KDC's audit of `user`'s logons since a point in time, one NTSTATUS per attempt: Samba's
 * auth_audit line `Auth: [Kerberos KDC,<step>] user [...]\[<user>@<REALM>] ... status [NT_STATUS_...]`.
 */
function kdcAudit(log: string, user: string): string[] {
  const out: string[] = [];
  for (const line of log.split('\n')) {
    const m = /^Auth: \[Kerberos KDC,[^\]]*\] user \[[^\]]*\]\\\[([^\]@]*)@[^\]]*\].* status \[(NT_STATUS_[A-Z0-9_]+)\]/.exec(line);
    if (m !== null && m[1]!.toLowerCase() === user.toLowerCase()) out.push(m[2]!);
  }
  return out;
}
