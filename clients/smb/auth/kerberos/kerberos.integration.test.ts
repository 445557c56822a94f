import { test, expect } from '@playwright/test';
import { SambaAdDc, type StartedAdDc } from '../../../../servers/samba/ad-dc.js';
import { KerberosError } from './errors.js';
import { requestServiceTicket, requestTicketGrantingTicket } from './kdc.js';
import { NameType } from './messages.js';

test.describe.configure({ mode: 'serial', timeout: 300_000 });

let dc: StartedAdDc;
test.beforeAll(async () => {
  dc = await new SambaAdDc({ realm: 'ADTEST.INTEROP' }).start();
});
test.afterAll(async () => {
  await dc?.stop();
});

const kdc = () => ({ host: dc.address });

async function expectKerberosError(promise: Promise<unknown>, name: string, step: string): Promise<void> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(KerberosError);
  expect((error as KerberosError).kerberosName).toBe(name);
  expect((error as KerberosError).step).toBe(step);
  expect((error as Error).message).toContain(name);
}

test('AS exchange after the PREAUTH_REQUIRED round, then a TGS exchange for cifs/<dc>', async () => {
  const alice = dc.user('alice');
  const started = Date.now();
  const tgt = await requestTicketGrantingTicket({ kdc: kdc(), realm: dc.realm, username: alice.username, password: alice.password });
  const service = await requestServiceTicket(tgt, { type: NameType.SRV_INST, components: ['cifs', dc.hostName] }, { kdc: kdc() });
  console.log(`AS + TGS exchanges: ${Date.now() - started} ms`);
  expect(tgt.server.components).toEqual(['krbtgt', dc.realm]);
  expect(tgt.client.components).toEqual([alice.username]);
  expect(tgt.sessionKey.etype).toBe(18);
  expect(service.server.components.map((c) => c.toLowerCase())).toEqual(['cifs', dc.hostName]);
  expect(service.endtime.getTime()).toBeGreaterThan(Date.now());
  expect(service.sessionKey.value.equals(tgt.sessionKey.value)).toBe(false);
});

test('a wrong password is KDC_ERR_PREAUTH_FAILED in the AS exchange', async () => {
  const alice = dc.user('alice');
  await expectKerberosError(requestTicketGrantingTicket({ kdc: kdc(), realm: dc.realm, username: alice.username, password: `x${alice.password}` }), 'KDC_ERR_PREAUTH_FAILED', 'AS exchange');
});

test('an unknown principal is KDC_ERR_C_PRINCIPAL_UNKNOWN in the AS exchange', async () => {
  await expectKerberosError(requestTicketGrantingTicket({ kdc: kdc(), realm: dc.realm, username: 'nobody-here', password: 'whatever' }), 'KDC_ERR_C_PRINCIPAL_UNKNOWN', 'AS exchange');
});

test('an unknown service is KDC_ERR_S_PRINCIPAL_UNKNOWN in the TGS exchange', async () => {
  const alice = dc.user('alice');
  const tgt = await requestTicketGrantingTicket({ kdc: kdc(), realm: dc.realm, username: alice.username, password: alice.password });
  await expectKerberosError(requestServiceTicket(tgt, { type: NameType.SRV_INST, components: ['cifs', 'no-such-host.example'] }, { kdc: kdc() }), 'KDC_ERR_S_PRINCIPAL_UNKNOWN', 'TGS exchange');
});
