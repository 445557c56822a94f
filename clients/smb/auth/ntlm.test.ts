import { inspect } from 'node:util';
import { test, expect } from '@playwright/test';
import { NegotiationError } from '../errors.js';
import { NtlmClient } from './ntlm.js';
import type { NtlmClientOptions } from './ntlm.js';
import { AvId, AvFlags, findAvPair } from './ntlm-av-pairs.js';
import { NegotiateFlags, hasFlag } from './ntlm-flags.js';
import { NtlmSessionSecurity } from './ntlm-session-security.js';
import { parseAuthenticateMessage } from './ntlm-messages.js';
import { SERVER_FLAGS, buildChallenge, text, timestampPair, verifyAuthenticate } from './ntlm-test-server.fixture.js';
import { EXAMPLE, EXPECTED } from './ms-nlmp-example.fixture.js';

/** Hands out the spec's client challenge (8 bytes) and random session key (16 bytes). */
function exampleRandom(size: number): Buffer {
  if (size === 8) return Buffer.from(EXAMPLE.clientChallenge);
  if (size === 16) return Buffer.from(EXAMPLE.randomSessionKey);
  throw new Error(`unexpected randomBytes(${size})`);
}

const exampleOptions: NtlmClientOptions = {
  user: EXAMPLE.user,
  password: EXAMPLE.password,
  domain: EXAMPLE.domain,
  workstation: EXAMPLE.workstation,
  version: EXAMPLE.version,
  now: () => new Date(Date.UTC(1601, 0, 1)),
  randomBytes: exampleRandom,
};

test('reproduces the MS-NLMP 4.2.4.3 AUTHENTICATE_MESSAGE from its CHALLENGE_MESSAGE', () => {
  const client = new NtlmClient(exampleOptions);
  client.negotiate();
  const authenticate = client.authenticate(EXPECTED.challengeMessage);
  expect(authenticate.toString('hex')).toBe(EXPECTED.authenticateMessage.toString('hex'));
  expect(client.flags).toBe(EXAMPLE.flags);
  expect(client.micPresent).toBe(false);
  expect(client.exportedSessionKey?.equals(EXAMPLE.randomSessionKey)).toBe(true);
});

const credentials = { user: 'alice', password: 'S3cret!', domain: 'EXAMPLE' };
const serverTicks = 133_485_408_000_000_000n;

function challengeWithTimestamp(): Buffer {
  return buildChallenge({
    targetInfo: [text(AvId.NbDomainName, 'EXAMPLE'), text(AvId.NbComputerName, 'FS1'), timestampPair(serverTicks)],
  });
}

test('with MsvAvTimestamp: MIC, MsvAvFlags, channel bindings, target name, Z(24) LM response', () => {
  const client = new NtlmClient({ ...credentials, targetName: 'cifs/fs1.example.test' });
  const negotiate = client.negotiate();
  const challenge = challengeWithTimestamp();
  const authenticate = client.authenticate(challenge);

  const logon = verifyAuthenticate(credentials, negotiate, challenge, authenticate);
  expect(logon.micPresent).toBe(true);
  expect(client.micPresent).toBe(true);
  expect(logon.exportedSessionKey.equals(client.exportedSessionKey ?? Buffer.alloc(0))).toBe(true);
  expect(logon.message.lmChallengeResponse.equals(Buffer.alloc(24))).toBe(true);
  expect(logon.message.encryptedRandomSessionKey.length).toBe(16);
  expect(logon.message).toMatchObject({ user: 'alice', domain: 'EXAMPLE', workstation: '' });
  expect(logon.clientPairs.map((p) => p.id)).toEqual([
    AvId.NbDomainName,
    AvId.NbComputerName,
    AvId.Timestamp,
    AvId.Flags,
    AvId.ChannelBindings,
    AvId.TargetName,
  ]);
  expect(findAvPair(logon.clientPairs, AvId.Flags)?.readUInt32LE(0)).toBe(AvFlags.MIC_PRESENT);
  expect(findAvPair(logon.clientPairs, AvId.ChannelBindings)?.equals(Buffer.alloc(16))).toBe(true);
  expect(findAvPair(logon.clientPairs, AvId.TargetName)?.toString('utf16le')).toBe('cifs/fs1.example.test');
  // The blob's time is the server's, not the local clock.
  const ntResponse = logon.message.ntChallengeResponse;
  expect(ntResponse.readBigUInt64LE(16 + 8)).toBe(serverTicks);
});

test('a tampered AUTHENTICATE_MESSAGE fails the server-side MIC check', () => {
  const client = new NtlmClient(credentials);
  const negotiate = client.negotiate();
  const challenge = challengeWithTimestamp();
  const authenticate = client.authenticate(challenge);
  const tampered = Buffer.from(authenticate);
  tampered.writeUInt32LE((tampered.readUInt32LE(60) & ~NegotiateFlags.SEAL) >>> 0, 60);
  expect(() => verifyAuthenticate(credentials, negotiate, challenge, tampered)).toThrow(/MIC mismatch/);
  expect(() => verifyAuthenticate({ ...credentials, password: 'wrong' }, negotiate, challenge, authenticate)).toThrow(
    /NTProofStr/,
  );
});

test('without a server timestamp the local clock is used', () => {
  const now = new Date(Date.UTC(2024, 0, 1));
  const client = new NtlmClient({ ...credentials, now: () => now });
  client.negotiate();
  const message = parseAuthenticateMessage(client.authenticate(buildChallenge()));
  const ticks = (BigInt(now.getTime()) + 11_644_473_600_000n) * 10_000n;
  expect(message.ntChallengeResponse.readBigUInt64LE(24)).toBe(ticks);
  expect(message.lmChallengeResponse.length).toBe(24);
  expect(message.lmChallengeResponse.equals(Buffer.alloc(24))).toBe(false);
});

test('an empty password is an ordinary (guest-style) logon', () => {
  const guest = { user: 'guest', password: '', domain: '' };
  const client = new NtlmClient(guest);
  const negotiate = client.negotiate();
  const challenge = challengeWithTimestamp();
  const logon = verifyAuthenticate(guest, negotiate, challenge, client.authenticate(challenge));
  expect(client.isAnonymous).toBe(false);
  expect(logon.micPresent).toBe(true);
});

test('anonymous: ANONYMOUS flag, LM Z(1), empty NT response, no key exchange, no session key', () => {
  const client = new NtlmClient({ user: '', password: '', anonymous: true });
  const negotiate = client.negotiate();
  expect(hasFlag(negotiate.readUInt32LE(12), NegotiateFlags.KEY_EXCH)).toBe(false);
  const message = parseAuthenticateMessage(client.authenticate(challengeWithTimestamp()));
  expect(hasFlag(message.flags, NegotiateFlags.ANONYMOUS)).toBe(true);
  expect(hasFlag(message.flags, NegotiateFlags.KEY_EXCH)).toBe(false);
  expect(message.lmChallengeResponse.equals(Buffer.alloc(1))).toBe(true);
  expect(message.ntChallengeResponse.length).toBe(0);
  expect(message.encryptedRandomSessionKey.length).toBe(0);
  expect(message.user).toBe('');
  expect(client.exportedSessionKey).toBeUndefined();
  expect(() => client.createSessionSecurity()).toThrow();
});

test('an empty user and password is anonymous even without the option', () => {
  expect(new NtlmClient({ user: '', password: '' }).isAnonymous).toBe(true);
});

test('session security keys match between client and a server holding the exported key', () => {
  const client = new NtlmClient(credentials);
  const negotiate = client.negotiate();
  const challenge = challengeWithTimestamp();
  const logon = verifyAuthenticate(credentials, negotiate, challenge, client.authenticate(challenge));
  const server = new NtlmSessionSecurity(logon.exportedSessionKey, logon.message.flags, 'server');
  const security = client.createSessionSecurity();
  const data = Buffer.from('mechTypes');
  expect(server.verify(data, security.sign(data))).toBe(true);
  expect(security.verify(data, server.sign(data))).toBe(true);
});

test('servers without Unicode or extended session security are refused', () => {
  const noUnicode = new NtlmClient(credentials);
  noUnicode.negotiate();
  expect(() => noUnicode.authenticate(buildChallenge({ flags: (SERVER_FLAGS & ~NegotiateFlags.UNICODE) >>> 0 }))).toThrow(
    NegotiationError,
  );
  const noEss = new NtlmClient(credentials);
  noEss.negotiate();
  expect(() =>
    noEss.authenticate(buildChallenge({ flags: (SERVER_FLAGS & ~NegotiateFlags.EXTENDED_SESSIONSECURITY) >>> 0 })),
  ).toThrow(NegotiationError);
});

test('calls out of order are refused', () => {
  const client = new NtlmClient(credentials);
  expect(() => client.authenticate(buildChallenge())).toThrow(/negotiate/);
  client.negotiate();
  expect(() => client.negotiate()).toThrow();
  client.authenticate(buildChallenge());
  expect(() => client.authenticate(buildChallenge())).toThrow();
});

test('inspect and JSON never show the password or keys', () => {
  const client = new NtlmClient(credentials);
  client.negotiate();
  client.authenticate(buildChallenge());
  const key = client.exportedSessionKey?.toString('hex') ?? 'none';
  for (const shown of [inspect(client, { showHidden: true, depth: 5 }), JSON.stringify(client), String(client)]) {
    expect(shown).not.toContain('S3cret!');
    expect(shown).not.toContain(key);
  }
});
