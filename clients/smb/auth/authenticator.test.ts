import { inspect } from 'node:util';
import { test, expect } from '@playwright/test';
import { AuthenticationError, ProtocolError, SecurityError } from '../errors.js';
import { createNtlmAuthenticator } from './authenticator.js';
import type { NtlmAuthenticatorOptions } from './authenticator.js';
import { NegState, Oid, decodeNegTokenInit, decodeNegTokenResp, encodeNegTokenInit, encodeNegTokenResp } from './spnego.js';
import type { NegStateValue, NegTokenResp } from './spnego.js';
import { NtlmSessionSecurity } from './ntlm-session-security.js';
import { parseAuthenticateMessage } from './ntlm-messages.js';
import { AvId } from './ntlm-av-pairs.js';
import { buildChallenge, text, timestampPair, verifyAuthenticate } from './ntlm-test-server.fixture.js';

const credentials = { user: 'alice', password: 'correct horse', domain: 'EXAMPLE' };
const options: NtlmAuthenticatorOptions = {
  username: 'EXAMPLE\\alice',
  password: 'correct horse',
  targetHost: 'fs1.example.test',
};

function challenge(withTimestamp = true): Buffer {
  const pairs = [text(AvId.NbDomainName, 'EXAMPLE'), text(AvId.NbComputerName, 'FS1')];
  if (withTimestamp) pairs.push(timestampPair(133_485_408_000_000_000n));
  return buildChallenge({ targetInfo: pairs });
}

function challengeResponse(token: Buffer, negState: NegStateValue = NegState.ACCEPT_INCOMPLETE): Buffer {
  return encodeNegTokenResp({ negState, supportedMech: Oid.NTLMSSP, responseToken: token });
}

/** Runs the client through both legs against the fixture server; returns what the server saw. */
function logon(opts: NtlmAuthenticatorOptions = options, withTimestamp = true) {
  const auth = createNtlmAuthenticator(opts);
  const first = decodeNegTokenInit(auth.initialToken(Buffer.alloc(0)));
  const challengeMessage = challenge(withTimestamp);
  const second = decodeNegTokenResp(auth.continue(challengeResponse(challengeMessage)));
  return { auth, first, challengeMessage, second };
}

test('full SPNEGO/NTLMv2 exchange with mechListMIC in both directions', () => {
  const { auth, first, challengeMessage, second } = logon();
  expect(first.mechTypes).toEqual([Oid.NTLMSSP]);
  expect(second.negState).toBeUndefined();
  expect(second.mechListMIC?.length).toBe(16);

  const verified = verifyAuthenticate(credentials, first.mechToken ?? Buffer.alloc(0), challengeMessage, second.responseToken ?? Buffer.alloc(0));
  expect(verified.micPresent).toBe(true);
  expect(auth.sessionKey?.equals(verified.exportedSessionKey)).toBe(true);
  expect(auth.isAnonymous).toBe(false);
  expect(auth.serverInfo?.nbComputerName).toBe('FS1');

  // The server checks the client's mechListMIC over the mechTypes it received, then answers with its own.
  const server = new NtlmSessionSecurity(verified.exportedSessionKey, verified.message.flags, 'server');
  expect(server.verify(first.mechTypesDer, second.mechListMIC ?? Buffer.alloc(0))).toBe(true);
  const serverMic = server.sign(first.mechTypesDer);
  auth.complete(encodeNegTokenResp({ negState: NegState.ACCEPT_COMPLETED, mechListMIC: serverMic }));
});

test('a server mechListMIC that does not verify is a SecurityError', () => {
  const { auth } = logon();
  const bogus = Buffer.from('01000000aaaaaaaaaaaaaaaa00000000', 'hex');
  expect(() => auth.complete(encodeNegTokenResp({ negState: NegState.ACCEPT_COMPLETED, mechListMIC: bogus }))).toThrow(
    SecurityError,
  );
});

test('a server mechListMIC made with the client keys is refused (directions differ)', () => {
  const { auth, first } = logon();
  const key = auth.sessionKey ?? Buffer.alloc(16);
  const wrongDirection = new NtlmSessionSecurity(key, 0xe2888235, 'client').sign(first.mechTypesDer);
  expect(() =>
    auth.complete(encodeNegTokenResp({ negState: NegState.ACCEPT_COMPLETED, mechListMIC: wrongDirection })),
  ).toThrow(SecurityError);
});

test('the final response may be empty or carry no mechListMIC', () => {
  logon().auth.complete(Buffer.alloc(0));
  logon().auth.complete(encodeNegTokenResp({ negState: NegState.ACCEPT_COMPLETED }));
});

test('reject is an AuthenticationError, in the challenge leg and the final leg', () => {
  const auth = createNtlmAuthenticator(options);
  auth.initialToken();
  expect(() => auth.continue(encodeNegTokenResp({ negState: NegState.REJECT }))).toThrow(AuthenticationError);
  expect(() => logon().auth.complete(encodeNegTokenResp({ negState: NegState.REJECT }))).toThrow(AuthenticationError);
});

test('a final negState other than accept-completed is a ProtocolError', () => {
  expect(() => logon().auth.complete(encodeNegTokenResp({ negState: NegState.ACCEPT_INCOMPLETE }))).toThrow(ProtocolError);
});

test('the server hint must offer NTLMSSP when it lists mechanisms; an empty hint starts raw SPNEGO', () => {
  const krbOnly = encodeNegTokenInit({ mechTypes: [Oid.KERBEROS] });
  expect(() => createNtlmAuthenticator(options).initialToken(krbOnly)).toThrow(AuthenticationError);
  const both = encodeNegTokenInit({ mechTypes: [Oid.KERBEROS, Oid.NTLMSSP] });
  expect(decodeNegTokenInit(createNtlmAuthenticator(options).initialToken(both)).mechTypes).toEqual([Oid.NTLMSSP]);
  expect(decodeNegTokenInit(createNtlmAuthenticator(options).initialToken()).mechToken?.subarray(0, 8).toString()).toBe(
    'NTLMSSP\0',
  );
});

test('a server choosing another mechanism or sending no CHALLENGE is refused', () => {
  const other = createNtlmAuthenticator(options);
  other.initialToken();
  expect(() =>
    other.continue(encodeNegTokenResp({ negState: 1, supportedMech: Oid.KERBEROS, responseToken: challenge() })),
  ).toThrow(AuthenticationError);
  const none = createNtlmAuthenticator(options);
  none.initialToken();
  expect(() => none.continue(encodeNegTokenResp({ negState: 1, supportedMech: Oid.NTLMSSP }))).toThrow(ProtocolError);
});

function secondLeg(withTimestamp: boolean, negState: NegStateValue): NegTokenResp {
  const auth = createNtlmAuthenticator(options);
  auth.initialToken();
  return decodeNegTokenResp(auth.continue(challengeResponse(challenge(withTimestamp), negState)));
}

test('request-mic makes the client send a mechListMIC even without an NTLM MIC', () => {
  expect(secondLeg(false, NegState.ACCEPT_INCOMPLETE).mechListMIC).toBeUndefined();
  expect(secondLeg(false, NegState.REQUEST_MIC).mechListMIC?.length).toBe(16);
  expect(secondLeg(true, NegState.ACCEPT_INCOMPLETE).mechListMIC?.length).toBe(16);
});

test('DOMAIN\\user is split, an explicit domain wins', () => {
  const { second } = logon();
  expect(parseAuthenticateMessage(second.responseToken ?? Buffer.alloc(0))).toMatchObject({ domain: 'EXAMPLE', user: 'alice' });
  const explicit = logon({ username: 'bob', password: 'x', domain: 'OTHER' });
  expect(parseAuthenticateMessage(explicit.second.responseToken ?? Buffer.alloc(0))).toMatchObject({
    domain: 'OTHER',
    user: 'bob',
  });
});

test('anonymous: no session key, no mechListMIC sent, a server mechListMIC is not checked', () => {
  const { auth, second } = logon({ username: 'ignored', password: 'ignored', anonymous: true });
  expect(auth.isAnonymous).toBe(true);
  expect(auth.sessionKey).toBeUndefined();
  expect(second.mechListMIC).toBeUndefined();
  expect(parseAuthenticateMessage(second.responseToken ?? Buffer.alloc(0)).user).toBe('');
  auth.complete(encodeNegTokenResp({ negState: NegState.ACCEPT_COMPLETED, mechListMIC: Buffer.alloc(16) }));
});

test('deterministic with injected time and randomness', () => {
  const fixed: NtlmAuthenticatorOptions = {
    ...options,
    now: () => new Date(Date.UTC(2024, 0, 1)),
    randomBytes: (n) => Buffer.alloc(n, 0x42),
  };
  const a = logon(fixed, false).second;
  const b = logon(fixed, false).second;
  expect(a.responseToken?.equals(b.responseToken ?? Buffer.alloc(0))).toBe(true);
});

test('calls out of order, or after a failure, are refused', () => {
  const auth = createNtlmAuthenticator(options);
  expect(() => auth.continue(Buffer.alloc(0))).toThrow(ProtocolError);
  expect(() => auth.continue(Buffer.alloc(0))).toThrow(/^SESSION_SETUP: the server's answer came with the NTLM exchange in state initial, where negotiated was expected$/);
  auth.initialToken();
  expect(() => auth.initialToken()).toThrow(ProtocolError);
  expect(() => auth.continue(Buffer.from('garbage'))).toThrow(ProtocolError);
  expect(() => auth.continue(challengeResponse(challenge()))).toThrow(/state failed/);
});

test('a second challenge round after AUTHENTICATE (STATUS_MORE_PROCESSING_REQUIRED again) is a ProtocolError on SESSION_SETUP', () => {
  const auth = createNtlmAuthenticator(options);
  auth.initialToken();
  auth.continue(challengeResponse(challenge()));
  let error: unknown;
  try {
    auth.continue(challengeResponse(challenge()));
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ProtocolError);
  expect(error).toMatchObject({ command: 'SESSION_SETUP', field: 'SESSION_SETUP response.SecurityBuffer' });
  expect((error as Error).message).toMatch(/state authenticated, where negotiated was expected/);
});

test('hostile server tokens are ProtocolErrors', () => {
  const auth = createNtlmAuthenticator(options);
  expect(() => auth.initialToken(Buffer.from('60ff', 'hex'))).toThrow(ProtocolError);
  const next = createNtlmAuthenticator(options);
  next.initialToken();
  expect(() => next.continue(challengeResponse(challenge().subarray(0, 40)))).toThrow(ProtocolError);
});

test('no password or key in inspect, JSON, String or error messages', () => {
  const { auth } = logon();
  const key = auth.sessionKey?.toString('hex') ?? 'none';
  const shown = [inspect(auth, { showHidden: true, depth: 10, getters: true }), JSON.stringify(auth), String(auth)];
  try {
    auth.complete(encodeNegTokenResp({ negState: 0, mechListMIC: Buffer.alloc(16) }));
  } catch (error) {
    shown.push(String(error), inspect(error));
  }
  for (const text of shown) {
    expect(text).not.toContain('correct horse');
    expect(text).not.toContain(key);
  }
});
