import { test, expect } from '@playwright/test';
import { needsFromText, needsToText, targetNeeds, unmetNeed } from './needs.js';
import type { Capabilities } from './protocol.js';

const GO_SMB2: Capabilities = {
  dialects: ['2.0.2', '2.1', '3.0', '3.0.2', '3.1.1'],
  ciphers: ['AES-128-CCM', 'AES-128-GCM'],
  signing: ['HMAC-SHA256', 'AES-128-CMAC'],
  auth: ['ntlm'],
  operations: ['writeFile', 'readFile', 'stat', 'readdir', 'mkdir'],
};

test('a scenario\'s needs round-trip through its annotations; an unknown kind is named', () => {
  const needs = { operations: ['rename', 'stat'] as const, cipher: 'AES-256-GCM' as const, auth: 'guest' as const };
  expect(needsToText(needs)).toEqual(['operation:rename', 'operation:stat', 'cipher:AES-256-GCM', 'auth:guest']);
  expect(needsFromText(needsToText(needs))).toEqual({ operations: ['rename', 'stat'], cipher: 'AES-256-GCM', auth: 'guest' });
  expect(() => needsFromText(['colour:blue'])).toThrow('client need "colour:blue" is not <operation|dialect|cipher|signing|auth>:<value>');
});

test('what the client declares decides: a missing operation, cipher, signing algorithm or logon is the reason; all present is undefined', () => {
  expect(unmetNeed('go-smb2', GO_SMB2, { operations: ['mkdir', 'rename', 'unlink'] }, 'the scenario')).toBe(
    'go-smb2 does not implement rename, unlink, which the scenario uses (it implements writeFile, readFile, stat, readdir, mkdir)',
  );
  expect(unmetNeed('go-smb2', GO_SMB2, { cipher: 'AES-256-GCM' }, 'smb311-aes256@native')).toBe('smb311-aes256@native needs cipher AES-256-GCM; go-smb2 declares AES-128-CCM, AES-128-GCM');
  expect(unmetNeed('go-smb2', GO_SMB2, { signing: 'AES-128-GMAC' }, 'x')).toBe('x needs signing algorithm AES-128-GMAC; go-smb2 declares HMAC-SHA256, AES-128-CMAC');
  expect(unmetNeed('go-smb2', GO_SMB2, { auth: 'guest' }, 'the scenario')).toBe('the scenario needs guest logon; go-smb2 declares ntlm');
  expect(unmetNeed('go-smb2', { ...GO_SMB2, dialects: ['3.1.1'] }, { dialect: '2.0.2' }, 'smb202-legacy@native')).toBe('smb202-legacy@native needs dialect 2.0.2; go-smb2 declares 3.1.1');
  expect(unmetNeed('go-smb2', GO_SMB2, { operations: ['stat'], dialect: '3.1.1', cipher: 'AES-128-GCM', signing: 'AES-128-CMAC', auth: 'ntlm' }, 'the scenario')).toBeUndefined();
});

test('a target needs what its column proves: the declared dialect, the cipher when it encrypts, else the signing algorithm when it signs', () => {
  const gcm = { dialect: '3.1.1', cipher: 'AES-128-GCM', signingAlgorithm: 'AES-128-GMAC', signing: true, encryption: true } as const;
  expect(targetNeeds(gcm)).toEqual({ dialect: '3.1.1', cipher: 'AES-128-GCM' });
  expect(targetNeeds({ ...gcm, cipher: null, encryption: false })).toEqual({ dialect: '3.1.1', signing: 'AES-128-GMAC' });
  // smb202-legacy: signing optional and unused, no encryption.
  expect(targetNeeds({ dialect: '2.0.2', cipher: null, signingAlgorithm: 'HMAC-SHA256', signing: false, encryption: false })).toEqual({ dialect: '2.0.2' });
});

test('a server in a realm that refuses NTLM needs a client that has Kerberos; one that accepts NTLM needs nothing more', () => {
  const expect311 = { dialect: '3.1.1', cipher: 'AES-128-GCM', signingAlgorithm: 'AES-128-GMAC', signing: false, encryption: true } as const;
  expect(targetNeeds(expect311, { ntlm: false })).toEqual({ dialect: '3.1.1', cipher: 'AES-128-GCM', auth: 'kerberos' });
  expect(targetNeeds(expect311, { ntlm: true })).toEqual({ dialect: '3.1.1', cipher: 'AES-128-GCM' });
  const ntlmOnly = { dialects: ['3.1.1'], ciphers: ['AES-128-GCM'], signing: [], auth: ['ntlm'], operations: [] } as Capabilities;
  expect(unmetNeed('go-smb2', ntlmOnly, targetNeeds(expect311, { ntlm: false }), 'ad-kerberos@native')).toBe('ad-kerberos@native needs kerberos logon; go-smb2 declares ntlm');
});
