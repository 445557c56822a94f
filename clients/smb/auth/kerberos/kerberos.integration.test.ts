import { test, expect } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureProxy } from '../../../../harness/capture/proxy.js';
import { decodeWire, serverKeysFor } from '../../../../harness/capture/wire-decode.js';
import { readWireFrames } from '../../../../harness/pcap-reader.js';
import { SambaAdDc, type StartedAdDc } from '../../../../servers/samba/ad-dc.js';
import { SmbClient, type SmbClientOptions } from '../../client.js';
import { AuthenticationError } from '../../errors.js';
import type { SmbSessionKeys } from '../../observer.js';
import { KerberosError } from './errors.js';
import { requestServiceTicket, requestTicketGrantingTicket } from './kdc.js';
import { NameType } from './messages.js';
import { KerberosTicketCache } from './ticket-cache.js';

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

// ---------------------------------------------------------------- SMB logon with Kerberos

/** A Kerberos logon to the DC's share through `port` on 127.0.0.1 (a proxy) or the DC itself. */
function kerberosOptions(extra: Partial<SmbClientOptions> = {}): SmbClientOptions {
  const alice = dc.user('alice');
  return {
    host: dc.address, username: alice.username, password: alice.password, auth: 'kerberos',
    kerberos: { realm: dc.realm, kdc: dc.address, serviceHost: dc.hostName },
    dialects: ['3.1.1'], ...extra,
  };
}

/** Runs `run` through a capture proxy to the DC, then `check` on the capture; the capture's directory goes in any case. */
async function withCapture<T>(run: (port: number) => Promise<T>, check: (result: T, pcap: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'smb-interop-kerberos-'));
  try {
    const pcap = join(dir, 'trace.pcapng');
    const proxy = await CaptureProxy.start({ upstreamHost: dc.address, upstreamPort: 445, pcapPath: pcap });
    let result: T;
    try {
      result = await run(proxy.port);
    } finally {
      await proxy.close();
    }
    await check(result, pcap);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// AES-256 ciphers take their keys from the whole 32-byte GSS key (MS-SMB2 Session.FullSessionKey), the rest from its first 16 bytes.
for (const [mode, cipher] of [['encrypted', 'AES-128-GCM'], ['encrypted', 'AES-256-GCM'], ['signed', undefined]] as const) {
  test(`Kerberos logon, ${mode} session${cipher === undefined ? '' : ` (${cipher})`}: bytes read back equal bytes written, and the server's logged keys ${mode === 'encrypted' ? 'decrypt' : 'verify'} the capture`, async () => {
    const data = randomBytes(200_000);
    const name = `kerberos-${mode}-${cipher ?? 'none'}.bin`;
    const clientKeys: SmbSessionKeys[] = [];
    await withCapture(async (port) => {
      const client = await SmbClient.connect(kerberosOptions({
        host: '127.0.0.1', port, encryption: mode === 'encrypted' ? 'required' : 'off', signing: 'required', ...(cipher === undefined ? {} : { ciphers: [cipher] }),
        observer: { onMessage: () => undefined, onSessionKeys: (keys) => clientKeys.push(keys) },
      }));
      try {
        const tree = await client.connectTree(dc.share);
        await tree.writeFile(name, data);
        expect((await tree.readFile(name)).equals(data)).toBe(true);
        return client.negotiated;
      } finally {
        await client.close();
      }
    }, async (negotiated, pcap) => {
      expect(negotiated.authMechanism).toBe('kerberos');
      expect(negotiated.encryptionOn).toBe(mode === 'encrypted');
      if (cipher !== undefined) expect(negotiated.cipher).toBe(cipher);
      expect(negotiated.signingOn).toBe(mode === 'signed');
      expect((await readFile(join(dc.sharePath, name))).equals(data)).toBe(true);

      const frames = await readWireFrames(pcap, 445);
      const serverKeys = await serverKeysFor(frames, () => dc.sessionKeys());
      const sessionId = clientKeys[0]!.sessionId;
      const server = serverKeys.find((k) => k.sessionId === sessionId);
      // The server derived its keys from the acceptor subkey too: both sides hold the same signing key.
      expect(server?.signingKey.equals(clientKeys[0]!.signingKey)).toBe(true);
      // The keys are secrets: the DC's published log shows where they were dumped, not what they are.
      expect(dc.log()).not.toContain(server!.signingKey.subarray(0, 4).toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1 '));
      const wire = decodeWire(frames, serverKeys);
      expect(wire.problems).toEqual([]);
      const session = wire.messages.filter((m) => m.header.sessionId === sessionId && !['NEGOTIATE', 'SESSION_SETUP'].includes(m.header.command));
      expect(session.length).toBeGreaterThan(6);
      if (mode === 'encrypted') {
        expect(session.filter((m) => !m.encrypted).map((m) => `${m.direction} ${m.header.command}`)).toEqual([]);
      } else {
        expect(session.filter((m) => m.signature !== 'valid').map((m) => `${m.direction} ${m.header.command} ${m.signature}`)).toEqual([]);
      }
      const write = wire.messages.find((m) => m.header.command === 'WRITE' && m.direction === 'send');
      expect(write?.bytes.includes(data.subarray(0, 64))).toBe(true);
    });
  });
}

/** A relay to the DC's SMB port that flips one byte of the AP-REP in the server's SESSION_SETUP answer. */
async function tamperingRelay(): Promise<{ server: Server; port: number; tampered: () => boolean }> {
  // InitialContextToken's krb5 OID followed by TOK_ID 02 00 (RFC 1964 1.1): an AP-REP follows.
  const marker = Buffer.from('06092a864886f712010202' + '0200', 'hex');
  let tampered = false;
  const server = createServer((client) => {
    const upstream = new Socket();
    upstream.connect(445, dc.address);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      const at = d.indexOf(marker);
      if (at >= 0 && !tampered) {
        // [APPLICATION 15] AP-REP: flip the last byte of its enc-part (the integrity tag).
        const start = at + marker.length;
        const lengthByte = d[start + 1]!;
        const headerLength = lengthByte < 0x80 ? 2 : 2 + (lengthByte & 0x7f);
        const length = lengthByte < 0x80 ? lengthByte : d.readUIntBE(start + 2, lengthByte & 0x7f);
        d[start + headerLength + length - 1]! ^= 0x01;
        tampered = true;
      }
      client.write(d);
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, tampered: () => tampered };
}

test('mutual authentication: an AP-REP altered on the way is refused, naming the failed check', async () => {
  const relay = await tamperingRelay();
  try {
    const error = await SmbClient.connect(kerberosOptions({ host: '127.0.0.1', port: relay.port })).then((c) => c.close(), (e: unknown) => e);
    expect(relay.tampered()).toBe(true);
    expect(error).toBeInstanceOf(KerberosError);
    expect((error as KerberosError).step).toBe('AP exchange');
    expect((error as Error).message).toContain('mutual authentication failed');
  } finally {
    relay.server.close();
  }
});

test('a wrong password is an AuthenticationError naming KDC_ERR_PREAUTH_FAILED', async () => {
  const options = kerberosOptions();
  const error = await SmbClient.connect({ ...options, password: `wrong-${options.password}` }).then((c) => c.close(), (e: unknown) => e);
  expect(error).toBeInstanceOf(AuthenticationError);
  expect((error as Error).message).toContain('KDC_ERR_PREAUTH_FAILED');
  expect((error as Error).message).toContain('AS exchange');
});

test('a clock skewed beyond five minutes is KRB_AP_ERR_SKEW', async () => {
  const options = kerberosOptions();
  const error = await SmbClient.connect({ ...options, kerberos: { ...options.kerberos, clockSkewMs: 20 * 60_000 } }).then((c) => c.close(), (e: unknown) => e);
  expect(error).toBeInstanceOf(AuthenticationError);
  expect((error as Error).message).toContain('KRB_AP_ERR_SKEW');
});

test('a ticket cache shared by two connections asks the KDC once', async () => {
  const ticketCache = new KerberosTicketCache();
  const options = kerberosOptions();
  for (let i = 0; i < 2; i++) {
    const client = await SmbClient.connect({ ...options, kerberos: { ...options.kerberos, ticketCache } });
    expect(client.negotiated.authMechanism).toBe('kerberos');
    await client.close();
  }
  expect(ticketCache.stats).toEqual({ asExchanges: 1, tgsExchanges: 1 });
  // Tickets are kept per password: a wrong one is put to the KDC, not answered from the cache.
  const refused = await SmbClient.connect({ ...options, password: `wrong-${options.password}`, kerberos: { ...options.kerberos, ticketCache } }).then((c) => c.close(), (e: unknown) => e);
  expect((refused as Error).message).toContain('KDC_ERR_PREAUTH_FAILED');
});

test('tickets about to end are got anew from the KDC for the next logon', async () => {
  // The DC's tickets last ten hours: with renewal an hour more ahead, every cached ticket is about to end.
  const ticketCache = new KerberosTicketCache({ renewBeforeMs: 11 * 3600_000 });
  const options = kerberosOptions();
  for (let i = 0; i < 2; i++) {
    const client = await SmbClient.connect({ ...options, kerberos: { ...options.kerberos, ticketCache } });
    await client.close();
  }
  expect(ticketCache.stats).toEqual({ asExchanges: 2, tgsExchanges: 2 });
});

test('negotiate uses Kerberos where it can, and NTLM where the server has no name for its service principal', async () => {
  const options = kerberosOptions({ auth: 'negotiate' });
  const kerberos = await SmbClient.connect(options);
  expect(kerberos.negotiated.authMechanism).toBe('kerberos');
  await kerberos.close();
  // By address, without serviceHost: no cifs/<name> to ask a ticket for.
  const ntlm = await SmbClient.connect({ ...options, domain: dc.domain, kerberos: { realm: dc.realm, kdc: dc.address } });
  expect(ntlm.negotiated.authMechanism).toBe('ntlm');
  const tree = await ntlm.connectTree(dc.share);
  await tree.writeFile('negotiated-ntlm.txt', 'ntlm');
  await ntlm.close();
  expect(await readFile(join(dc.sharePath, 'negotiated-ntlm.txt'), 'utf8')).toBe('ntlm');
});
