import { test, expect } from '@playwright/test';
import {
  encodeAuthenticateMessage,
  encodeNegotiateMessage,
  parseAuthenticateMessage,
  parseChallengeMessage,
} from './ntlm-messages.js';
import { AvId, parseAvPairs, encodeAvPairs, describeTargetInfo, addClientAvPairs } from './ntlm-av-pairs.js';
import { CLIENT_FLAGS, flagNames } from './ntlm-flags.js';
import { buildChallenge, text, timestampPair } from './ntlm-test-server.fixture.js';
import { EXAMPLE, EXPECTED } from './ms-nlmp-example.fixture.js';
import { expectOnlyProtocolErrors, expectProtocolError } from './test-helpers.fixture.js';

test('NEGOTIATE_MESSAGE carries the SMB flags and Version', () => {
  const message = encodeNegotiateMessage(CLIENT_FLAGS, { major: 10, minor: 0, build: 20348, revision: 15 });
  expect(message.toString('hex')).toBe(
    '4e544c4d53535000' + '01000000' + '358288e2' + '0000000028000000' + '0000000028000000' + '0a007c4f0000000f',
  );
  expect(flagNames(CLIENT_FLAGS)).toEqual([
    'UNICODE', 'REQUEST_TARGET', 'SIGN', 'SEAL', 'NTLM', 'ALWAYS_SIGN', 'EXTENDED_SESSIONSECURITY',
    'TARGET_INFO', 'VERSION', 'NEGOTIATE_128', 'KEY_EXCH', 'NEGOTIATE_56',
  ]);
});

test('parses the MS-NLMP 4.2.4.3 CHALLENGE_MESSAGE', () => {
  const challenge = parseChallengeMessage(EXPECTED.challengeMessage);
  expect(challenge.flags).toBe(0xe28a8233);
  expect(challenge.serverChallenge.toString('hex')).toBe('0123456789abcdef');
  expect(challenge.targetName).toBe('Server');
  expect(challenge.version).toEqual({ major: 6, minor: 0, build: 6000, revision: 15 });
  expect(describeTargetInfo(challenge.targetInfo)).toEqual({ nbDomainName: 'Domain', nbComputerName: 'Server' });
  expect(encodeAvPairs(challenge.targetInfo).equals(EXAMPLE.targetInfo)).toBe(true);
});

test('parses a hand-built CHALLENGE_MESSAGE with every common AV pair', () => {
  // 2024-01-01T00:00:00Z as FILETIME.
  const ticks = (BigInt(Date.UTC(2024, 0, 1)) + 11_644_473_600_000n) * 10_000n;
  const flagsValue = Buffer.alloc(4);
  flagsValue.writeUInt32LE(0x1);
  const message = buildChallenge({
    targetName: 'EXAMPLE',
    serverChallenge: Buffer.from('1122334455667788', 'hex'),
    targetInfo: [
      text(AvId.NbDomainName, 'EXAMPLE'),
      text(AvId.NbComputerName, 'FS1'),
      text(AvId.DnsDomainName, 'example.test'),
      text(AvId.DnsComputerName, 'fs1.example.test'),
      text(AvId.DnsTreeName, 'example.test'),
      { id: AvId.Flags, value: flagsValue },
      timestampPair(ticks),
      text(AvId.TargetName, 'cifs/fs1'),
    ],
  });
  const challenge = parseChallengeMessage(message);
  expect(challenge.targetName).toBe('EXAMPLE');
  expect(challenge.serverChallenge.toString('hex')).toBe('1122334455667788');
  expect(challenge.version).toEqual({ major: 10, minor: 0, build: 20348, revision: 15 });
  expect(challenge.raw.equals(message)).toBe(true);
  expect(describeTargetInfo(challenge.targetInfo)).toEqual({
    nbDomainName: 'EXAMPLE',
    nbComputerName: 'FS1',
    dnsDomainName: 'example.test',
    dnsComputerName: 'fs1.example.test',
    dnsTreeName: 'example.test',
    flags: 1,
    timestamp: new Date(Date.UTC(2024, 0, 1)),
    targetName: 'cifs/fs1',
  });
});

test('a CHALLENGE_MESSAGE without TARGET_INFO has no AV pairs', () => {
  const challenge = parseChallengeMessage(buildChallenge({ flags: 0x02088235 }));
  expect(challenge.targetInfo).toEqual([]);
});

test('encodes the MS-NLMP 4.2.4.3 AUTHENTICATE_MESSAGE byte for byte and parses it back', () => {
  const lm = EXPECTED.lmv2Response;
  const nt = Buffer.concat([EXPECTED.ntProofStr, EXPECTED.temp]);
  const message = encodeAuthenticateMessage({
    flags: EXAMPLE.flags,
    lmChallengeResponse: lm,
    ntChallengeResponse: nt,
    domain: EXAMPLE.domain,
    user: EXAMPLE.user,
    workstation: EXAMPLE.workstation,
    encryptedRandomSessionKey: EXPECTED.encryptedSessionKey,
    version: EXAMPLE.version,
    withMic: false,
  });
  expect(message.toString('hex')).toBe(EXPECTED.authenticateMessage.toString('hex'));
  const parsed = parseAuthenticateMessage(message);
  expect(parsed).toMatchObject({ flags: EXAMPLE.flags, domain: 'Domain', user: 'User', workstation: 'COMPUTER' });
  expect(parsed.ntChallengeResponse.equals(nt)).toBe(true);
});

test('an AUTHENTICATE_MESSAGE with a MIC starts its payload at 88', () => {
  const message = encodeAuthenticateMessage({
    flags: EXAMPLE.flags,
    lmChallengeResponse: Buffer.alloc(24),
    ntChallengeResponse: Buffer.alloc(48, 1),
    domain: 'D',
    user: 'U',
    workstation: '',
    encryptedRandomSessionKey: Buffer.alloc(16, 2),
    withMic: true,
  });
  expect(message.readUInt32LE(32)).toBe(88);
  expect(message.subarray(64, 72).equals(Buffer.alloc(8))).toBe(true);
  expect(parseAuthenticateMessage(message).user).toBe('U');
});

test('client AV pairs: MsvAvFlags gets MIC_PRESENT, channel bindings and target name are added before EOL', () => {
  const server = [text(AvId.NbDomainName, 'D'), { id: AvId.Flags, value: Buffer.from([1, 0, 0, 0]) }];
  const pairs = addClientAvPairs(server, { micPresent: true, channelBindings: Buffer.alloc(16), targetName: 'cifs/h' });
  expect(pairs.map((p) => p.id)).toEqual([AvId.NbDomainName, AvId.Flags, AvId.ChannelBindings, AvId.TargetName]);
  expect(pairs[1]?.value.readUInt32LE(0)).toBe(3);
  expect(parseAvPairs(encodeAvPairs(pairs))).toEqual(pairs);
});

test('truncated CHALLENGE_MESSAGEs are ProtocolErrors at every length', () => {
  const message = buildChallenge({ targetInfo: [text(AvId.NbDomainName, 'D'), timestampPair(1n)] });
  for (let length = 0; length < message.length; length++) {
    expectProtocolError(() => parseChallengeMessage(message.subarray(0, length)), { field: /^CHALLENGE_MESSAGE|^AV_PAIR/ });
  }
});

test('CHALLENGE_MESSAGE with a bad signature or type', () => {
  const message = buildChallenge();
  const badSignature = Buffer.from(message);
  badSignature[0] = 0x41;
  expectProtocolError(() => parseChallengeMessage(badSignature), { field: /Signature/ });
  const badType = Buffer.from(message);
  badType.writeUInt32LE(3, 8);
  expectProtocolError(() => parseChallengeMessage(badType), { field: /MessageType/ });
});

test('CHALLENGE_MESSAGE offsets beyond the buffer', () => {
  const message = buildChallenge();
  const nameBeyond = Buffer.from(message);
  nameBeyond.writeUInt32LE(0xfffffff0, 16);
  expectProtocolError(() => parseChallengeMessage(nameBeyond), { field: /TargetName$/ });
  const infoBeyond = Buffer.from(message);
  infoBeyond.writeUInt16LE(0xffff, 40);
  expectProtocolError(() => parseChallengeMessage(infoBeyond), { field: /TargetInfo$/ });
});

test('AV pair length lies, missing EOL and wrong fixed sizes', () => {
  const lie = Buffer.from('02000a0044000000', 'hex');
  expectProtocolError(() => parseChallengeMessage(buildChallenge({ rawTargetInfo: lie })), { field: /AV_PAIR\.Value/ });
  const noEol = encodeAvPairs([text(AvId.NbDomainName, 'D')]).subarray(0, -4);
  expectProtocolError(() => parseChallengeMessage(buildChallenge({ rawTargetInfo: noEol })), { field: /AV_PAIR\.AvId/ });
  const shortTimestamp = Buffer.from('0700040000000000' + '00000000', 'hex');
  expectProtocolError(() => parseChallengeMessage(buildChallenge({ rawTargetInfo: shortTimestamp })), { field: /AV_PAIR\.AvLen/ });
  const eolWithLength = Buffer.from('0000020000000000', 'hex');
  expectProtocolError(() => parseAvPairs(eolWithLength), { field: /AV_PAIR\.AvLen/ });
});

test('random garbage never escapes as anything but a ProtocolError', () => {
  const base = buildChallenge({ targetInfo: [text(AvId.NbDomainName, 'D'), timestampPair(7n)] });
  expectOnlyProtocolErrors([base], [parseChallengeMessage], { rounds: 2000, seed: 12345, keepPrefix: 12 });
});
