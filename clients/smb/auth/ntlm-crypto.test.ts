import { test, expect } from '@playwright/test';
import {
  computeMic,
  encryptSessionKey,
  lmv2Response,
  ntlmv2ClientBlob,
  ntlmv2Response,
  ntowfv2,
  sealingKey,
  signingKey,
} from './ntlm-crypto.js';
import { NtlmSessionSecurity } from './ntlm-session-security.js';
import { EXAMPLE, EXPECTED } from './ms-nlmp-example.fixture.js';

const hex = (b: Buffer): string => b.toString('hex');

test('NTOWFv2 matches MS-NLMP 4.2.4.1.1', () => {
  expect(hex(ntowfv2(EXAMPLE.password, EXAMPLE.user, EXAMPLE.domain))).toBe(hex(EXPECTED.ntowfv2));
});

test('NTOWFv2 upper-cases the user but not the domain', () => {
  const key = ntowfv2(EXAMPLE.password, 'USER', EXAMPLE.domain);
  expect(hex(key)).toBe(hex(EXPECTED.ntowfv2));
  expect(hex(ntowfv2(EXAMPLE.password, EXAMPLE.user, 'DOMAIN'))).not.toBe(hex(EXPECTED.ntowfv2));
});

test('the NTLMv2 client blob (temp) matches MS-NLMP 4.2.4.1.3', () => {
  expect(hex(ntlmv2ClientBlob(EXAMPLE.time, EXAMPLE.clientChallenge, EXAMPLE.targetInfo))).toBe(hex(EXPECTED.temp));
});

test('NTProofStr, NTLMv2 response and SessionBaseKey match MS-NLMP 4.2.4.1.2 and 4.2.4.2.2', () => {
  const blob = ntlmv2ClientBlob(EXAMPLE.time, EXAMPLE.clientChallenge, EXAMPLE.targetInfo);
  const response = ntlmv2Response(EXPECTED.ntowfv2, EXAMPLE.serverChallenge, blob);
  expect(hex(response.ntProofStr)).toBe(hex(EXPECTED.ntProofStr));
  expect(hex(response.ntChallengeResponse)).toBe(hex(Buffer.concat([EXPECTED.ntProofStr, EXPECTED.temp])));
  expect(hex(response.sessionBaseKey)).toBe(hex(EXPECTED.sessionBaseKey));
});

test('LMv2 response matches MS-NLMP 4.2.4.2.1', () => {
  expect(hex(lmv2Response(EXPECTED.ntowfv2, EXAMPLE.serverChallenge, EXAMPLE.clientChallenge))).toBe(
    hex(EXPECTED.lmv2Response),
  );
});

test('the encrypted random session key matches MS-NLMP 4.2.4.2.3', () => {
  expect(hex(encryptSessionKey(EXPECTED.sessionBaseKey, EXAMPLE.randomSessionKey))).toBe(
    hex(EXPECTED.encryptedSessionKey),
  );
});

test('client signing and sealing keys match MS-NLMP 4.2.4.4', () => {
  expect(hex(signingKey(EXAMPLE.randomSessionKey, 'client-to-server'))).toBe(hex(EXPECTED.signingKey));
  expect(hex(sealingKey(EXAMPLE.randomSessionKey, EXAMPLE.flags, 'client-to-server'))).toBe(hex(EXPECTED.sealingKey));
});

test('sealing keys are weakened without NEGOTIATE_128', () => {
  const full = sealingKey(EXAMPLE.randomSessionKey, EXAMPLE.flags, 'client-to-server');
  const without128 = (EXAMPLE.flags & ~0x20000000) >>> 0;
  const without128or56 = (without128 & ~0x80000000) >>> 0;
  const k56 = sealingKey(EXAMPLE.randomSessionKey, without128, 'client-to-server');
  const k40 = sealingKey(EXAMPLE.randomSessionKey, without128or56, 'client-to-server');
  expect(new Set([hex(full), hex(k56), hex(k40)]).size).toBe(3);
});

test('GSS_WrapEx with sequence number 0 matches MS-NLMP 4.2.4.4 (validates the MAC)', () => {
  const security = new NtlmSessionSecurity(EXAMPLE.randomSessionKey, EXAMPLE.flags, 'client');
  const sealed = security.seal(EXAMPLE.plaintext);
  expect(hex(sealed.message)).toBe(hex(EXPECTED.sealedPlaintext));
  expect(hex(sealed.signature)).toBe(hex(EXPECTED.signature));
});

test('a server-side context unseals what the client sealed, then rejects a replay', () => {
  const client = new NtlmSessionSecurity(EXAMPLE.randomSessionKey, EXAMPLE.flags, 'client');
  const server = new NtlmSessionSecurity(EXAMPLE.randomSessionKey, EXAMPLE.flags, 'server');
  const first = client.seal(EXAMPLE.plaintext);
  expect(server.unseal(first.message, first.signature)?.equals(EXAMPLE.plaintext)).toBe(true);
  expect(server.unseal(first.message, first.signature)).toBeUndefined();
});

test('sign/verify round trip in both directions, sequence numbers advancing', () => {
  const client = new NtlmSessionSecurity(EXAMPLE.randomSessionKey, EXAMPLE.flags, 'client');
  const server = new NtlmSessionSecurity(EXAMPLE.randomSessionKey, EXAMPLE.flags, 'server');
  const m1 = client.sign(EXAMPLE.plaintext);
  expect(m1.readUInt32LE(12)).toBe(0);
  expect(server.verify(EXAMPLE.plaintext, m1)).toBe(true);
  const m2 = client.sign(EXAMPLE.plaintext);
  expect(m2.readUInt32LE(12)).toBe(1);
  expect(server.verify(EXAMPLE.plaintext, m2)).toBe(true);
  const reply = server.sign(EXAMPLE.plaintext);
  expect(client.verify(EXAMPLE.plaintext, reply)).toBe(true);
  const tampered = Buffer.from(server.sign(EXAMPLE.plaintext));
  tampered[5] = (tampered[5] ?? 0) ^ 1;
  expect(client.verify(EXAMPLE.plaintext, tampered)).toBe(false);
});

test('the MIC is HMAC-MD5 over the three messages under the exported session key', () => {
  const a = computeMic(EXAMPLE.randomSessionKey, Buffer.from('n'), Buffer.from('c'), Buffer.from('a'));
  const b = computeMic(EXAMPLE.randomSessionKey, Buffer.from('nca'), Buffer.alloc(0), Buffer.alloc(0));
  expect(a.length).toBe(16);
  expect(hex(a)).toBe(hex(b));
});
