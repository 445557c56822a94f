import { test, expect } from '@playwright/test';
import { createServer, type AddressInfo } from 'node:net';
import { ArgumentError } from '../errors.js';
import { chooseAuthenticator, type AuthChoiceOptions } from './choose.js';
import { KerberosError } from './kerberos/errors.js';
import { Oid, encodeNegTokenInit } from './spnego.js';

const base: AuthChoiceOptions = { auth: 'kerberos', username: 'alice', password: 'secret', host: 'fs1.example.test', kerberos: { realm: 'EXAMPLE.TEST', kdc: '127.0.0.1:1' } };
const offers = (...mechTypes: string[]): Buffer => encodeNegTokenInit({ mechTypes });
const none = Buffer.alloc(0);

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(() => {
    throw new Error('expected a rejection');
  }, (e: Error) => e);
}

test('kerberos by address without serviceHost is an ArgumentError naming the option', async () => {
  const error = await rejection(chooseAuthenticator({ ...base, host: '192.0.2.7' }, none));
  expect(error).toBeInstanceOf(ArgumentError);
  expect(error.message).toContain('192.0.2.7 is an address: pass kerberos.serviceHost');
});

test('kerberos without a realm, or without a KDC, says which is missing', async () => {
  expect((await rejection(chooseAuthenticator({ ...base, kerberos: { kdc: '127.0.0.1' } }, none))).message).toContain('pass kerberos.realm or a username of the form user@REALM');
  expect((await rejection(chooseAuthenticator({ ...base, kerberos: { realm: 'EXAMPLE.TEST' } }, none))).message).toContain('no KDC: pass kerberos.kdc');
  expect((await rejection(chooseAuthenticator({ ...base, kerberos: { realm: 'R.TEST', kdc: 'a:b:c' } }, none))).message).toContain('is not host or host:port');
});

test('an unknown auth value and an anonymous kerberos logon are ArgumentErrors', async () => {
  expect((await rejection(chooseAuthenticator({ ...base, auth: 'basic' as 'ntlm' }, none))).message).toContain(`auth must be 'ntlm', 'kerberos' or 'negotiate', got "basic"`);
  expect(await rejection(chooseAuthenticator({ ...base, username: '' }, none))).toBeInstanceOf(ArgumentError);
});

test('kerberos with no KDC listening fails in the KDC connection step', async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  const error = await rejection(chooseAuthenticator({ ...base, kerberos: { realm: 'EXAMPLE.TEST', kdc: `127.0.0.1:${port}` } }, none));
  expect(error).toBeInstanceOf(KerberosError);
  expect((error as KerberosError).step).toBe('KDC connection');
  expect(error.message).toContain(`KDC 127.0.0.1:${port}: connection failed (ECONNREFUSED)`);
});

test('negotiate logs on with NTLM where Kerberos cannot be had: no name, no realm, not offered, no KDC', async () => {
  const negotiate: AuthChoiceOptions = { ...base, auth: 'negotiate' };
  expect((await chooseAuthenticator({ ...negotiate, host: '192.0.2.7' }, none)).mechanism).toBe('ntlm');
  expect((await chooseAuthenticator({ ...negotiate, kerberos: {} }, none)).mechanism).toBe('ntlm');
  expect((await chooseAuthenticator(negotiate, offers(Oid.NTLMSSP))).mechanism).toBe('ntlm');
  expect((await chooseAuthenticator(negotiate, offers(Oid.KERBEROS, Oid.NTLMSSP))).mechanism).toBe('ntlm');
  expect((await chooseAuthenticator({ ...negotiate, username: '' }, none)).isAnonymous).toBe(true);
});

test('ntlm is NTLM whatever the Kerberos options', async () => {
  expect((await chooseAuthenticator({ ...base, auth: 'ntlm' }, offers(Oid.KERBEROS))).mechanism).toBe('ntlm');
});
