import { test, expect } from '@playwright/test';
import { Connection } from './connection.js';
import { Cipher, NonceGenerator, SigningAlgorithm, encryptMessage, signMessage } from './crypto/index.js';
import { SecurityError, TimeoutError, TransportError } from './errors.js';
import { SmbClient } from './client.js';
import { namedFaults, withFaults } from './faults.js';
import { FakeServer, S2C_KEY, SIGNING_KEY, echo, options, security, signed } from './scripted-server.fixture.js';
import type { Received } from './scripted-server.fixture.js';
import {
  Capability,
  Command,
  Dialect,
  HeaderFlag,
  NtStatus,
  buildCompound,
  encodeEchoRequest,
  encodeEchoResponse,
  encodeNegotiateResponse,
} from './wire/index.js';


test('never spends credits it was not granted: requests queue until responses grant more', async () => {
  let balance = 1;
  let overdrawn = 0;
  const fake = await FakeServer.start((request, server) => {
    balance -= 1;
    if (balance < 0) overdrawn++;
    const grant = request.header.messageId < 5n ? 1 : 3;
    setTimeout(() => {
      balance += grant;
      server.send(FakeServer.response(request, { credits: grant }));
    }, 5);
  });
  const connection = await Connection.open(options(fake.port));
  try {
    await Promise.all(Array.from({ length: 40 }, () => echo(connection)));
    expect(overdrawn).toBe(0);
    expect(fake.requests.map((r) => r.header.messageId)).toEqual(Array.from({ length: 40 }, (_, i) => BigInt(i)));
    expect(fake.requests.every((r) => r.header.credits >= 1)).toBe(true);
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('with LARGE_MTU a 300 000-byte request is charged 5 credits and consumes 5 MessageIds', async () => {
  const fake = await FakeServer.start((request, server) => {
    if (request.header.command !== Command.Negotiate) {
      server.send(FakeServer.response(request, { credits: 10 }));
      return;
    }
    server.send(FakeServer.response(request, {
      credits: 10,
      body: encodeNegotiateResponse({
        securityMode: 1, dialectRevision: Dialect.Smb210, serverGuid: Buffer.alloc(16, 7), capabilities: Capability.LargeMtu,
        maxTransactSize: 8 << 20, maxReadSize: 8 << 20, maxWriteSize: 8 << 20, systemTime: 0n, serverStartTime: 0n,
        securityBuffer: Buffer.alloc(0), negotiateContexts: [],
      }),
    }));
  });
  const connection = await Connection.connect(options(fake.port));
  try {
    expect(connection.negotiated).toMatchObject({ dialectName: '2.1', supportsMultiCredit: true });
    await connection.request({ command: Command.Read, body: encodeEchoRequest(), payloadSize: 300_000 });
    await echo(connection);
    expect(fake.requests.map((r) => [r.header.messageId, r.header.creditCharge])).toEqual([[0n, 0], [1n, 5], [6n, 1]]);
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('STATUS_PENDING: the request keeps waiting, and pendingTimeoutMs decides how long', async () => {
  const fake = await FakeServer.start((request, server) => {
    server.send(FakeServer.response(request, { status: NtStatus.Pending, asyncId: 77n }));
    setTimeout(() => server.send(FakeServer.response(request, { asyncId: 77n, credits: 0 })), 400);
  });
  const connection = await Connection.open(options(fake.port));
  try {
    const extended = await echo(connection, { timeoutMs: 200, pendingTimeoutMs: 2000 });
    expect(extended.header).toMatchObject({ isAsync: true, asyncId: 77n, status: 0 });
    const forever = await echo(connection, { timeoutMs: 200, pendingTimeoutMs: null });
    expect(forever.status).toBe(0);
    const error = await echo(connection, { timeoutMs: 200 }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toBe(`no response to ECHO from 127.0.0.1:${fake.port} within 200 ms (the server answered STATUS_PENDING)`);
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('deadlines: a short timeout behind a long one expires on time, answered requests are unaffected, close stops the timer', async () => {
  // Echo ids 0-2 are answered; the ones after never are.
  const fake = await FakeServer.start((request, server) => {
    if (request.header.messageId < 3n) server.send(FakeServer.response(request, { credits: 1 }));
  });
  const connection = await Connection.open(options(fake.port));
  try {
    for (let i = 0; i < 3; i++) expect((await echo(connection, { timeoutMs: 100 })).status).toBe(0);
    const long = echo(connection, { timeoutMs: 5_000 }).catch((e: unknown) => e as Error);
    const started = performance.now();
    const short = await echo(connection, { timeoutMs: 150 }).catch((e: unknown) => e as Error);
    const waited = performance.now() - started;
    expect(short).toBeInstanceOf(TimeoutError);
    expect(short.message).toBe(`no response to ECHO from 127.0.0.1:${fake.port} within 150 ms`);
    expect(waited).toBeGreaterThanOrEqual(145);
    expect(waited).toBeLessThan(2_000);
    connection.close();
    const ended = await long;
    expect(ended.message).toContain('closed by the client');
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('signing: requests are signed, good signatures verify, a bad one fails everything pending and closes', async () => {
  let answer: 'good' | 'unsigned' | 'bad' = 'good';
  const fake = await FakeServer.start((request, server) => {
    if (answer === 'bad' && request.header.messageId === 3n) return; // left pending
    const response = FakeServer.response(request, { credits: 2 });
    if (answer === 'good') server.send(signed(response));
    else if (answer === 'unsigned') server.send(response);
    else server.send(Buffer.concat([signed(response).subarray(0, 48), Buffer.alloc(16, 0xee), response.subarray(64)]));
  });
  const connection = await Connection.open(options(fake.port));
  connection.registerSession(security());
  try {
    const ok = await echo(connection, { sessionId: 0x1234n });
    expect(ok.signatureVerified).toBe(true);
    expect(fake.requests[0]!.header.flags & HeaderFlag.Signed).toBe(HeaderFlag.Signed);
    expect(signMessage(SigningAlgorithm.HmacSha256, SIGNING_KEY, fake.requests[0]!.message)).toEqual(fake.requests[0]!.header.signature);

    answer = 'unsigned';
    const unsigned = await echo(connection, { sessionId: 0x1234n }).catch((e: unknown) => e as Error);
    expect(unsigned).toBeInstanceOf(SecurityError);
    expect(unsigned.message).toBe('STATUS_SUCCESS (0x00000000) on ECHO, in an unsigned response in a session that signs');

    answer = 'bad';
    const [tampered, left] = await Promise.all([echo(connection, { sessionId: 0x1234n }), echo(connection, { sessionId: 0x1234n })].map((p) => p.catch((e: unknown) => e as Error)));
    expect(tampered).toBeInstanceOf(SecurityError);
    expect((tampered as Error).message).toBe('bad signature on ECHO response (message id 2, session 0x0000000000001234)');
    expect(left).toBe(tampered);
    expect(connection.closed).toBe(true);
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('encryption: the inner SessionId equals the transform header; a failing tag is a SecurityError that closes', async () => {
  let tamper = false;
  const serverNonces = new NonceGenerator(Cipher.Aes128Gcm);
  const fake = await FakeServer.start((request, server) => {
    const frame = encryptMessage({ cipher: Cipher.Aes128Gcm, key: S2C_KEY, sessionId: 0x1234n, nonce: serverNonces.next(), message: FakeServer.response(request) });
    if (tamper) frame[frame.length - 1]! ^= 1;
    server.send(frame);
  });
  const connection = await Connection.open(options(fake.port));
  connection.registerSession(security({ encryptData: true }));
  try {
    const ok = await echo(connection, { sessionId: 0x1234n });
    expect(ok).toMatchObject({ encrypted: true, status: 0 });
    expect(fake.requests[0]).toMatchObject({ transformSessionId: 0x1234n, header: { sessionId: 0x1234n } });
    expect(fake.requests[0]!.header.flags & HeaderFlag.Signed).toBe(0); // encrypted, so not signed
    tamper = true;
    const error = await echo(connection, { sessionId: 0x1234n }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(SecurityError);
    expect(connection.closed).toBe(true);
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('fault zeroInnerSessionIdWhenEncrypting zeroes only the inner header SessionId', async () => {
  const fake = await FakeServer.start(() => {});
  const connection = await Connection.open(withFaults(options(fake.port), namedFaults({ zeroInnerSessionIdWhenEncrypting: true })));
  connection.registerSession(security({ encryptData: true }));
  try {
    void echo(connection, { sessionId: 0x1234n, timeoutMs: 300 }).catch(() => undefined);
    await expect.poll(() => fake.requests.length).toBe(1);
    expect(fake.requests[0]).toMatchObject({ transformSessionId: 0x1234n, header: { sessionId: 0n } });
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('a compound response answers each of its requests', async () => {
  const waiting: Received[] = [];
  const fake = await FakeServer.start((request, server) => {
    if (request.header.messageId === 0n) {
      server.send(FakeServer.response(request, { credits: 4 }));
      return;
    }
    waiting.push(request);
    if (waiting.length < 2) return;
    const parts = waiting.map((r) => ({
      header: { command: r.header.command, messageId: r.header.messageId, credits: 1, flags: HeaderFlag.ServerToRedir },
      body: encodeEchoResponse(),
    }));
    server.send(buildCompound(parts, { related: false }).message);
  });
  const connection = await Connection.open(options(fake.port));
  try {
    await echo(connection);
    const [a, b] = await Promise.all([echo(connection), echo(connection)]);
    expect([a.header.messageId, b.header.messageId]).toEqual([1n, 2n]);
    expect([a.message.length, b.message.length]).toEqual([72, 68]); // the first is padded to 8 bytes
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('SmbClient.connect to a server that never answers NEGOTIATE: TimeoutError naming NEGOTIATE and host:port', async () => {
  const fake = await FakeServer.start(() => {});
  try {
    const error = await SmbClient.connect({ host: '127.0.0.1', port: fake.port, timeoutMs: 200 }).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error?.message).toBe(`no response to NEGOTIATE from 127.0.0.1:${fake.port} within 200 ms`);
  } finally {
    await fake.stop();
  }
});

test('a server that closes right after accept, or in the middle of its NEGOTIATE response: TransportError, not a NegotiationError', async () => {
  const fake = await FakeServer.start((_request, server) => {
    // A frame that announces 200 bytes, of which 50 arrive before the connection ends.
    const head = Buffer.alloc(54);
    head.writeUInt32BE(200);
    head.set([0xfe, 0x53, 0x4d, 0x42], 4);
    server.socket?.end(head);
  });
  const closing = await FakeServer.start(() => {});
  closing.server.removeAllListeners('connection');
  closing.server.on('connection', (socket) => socket.destroy());
  try {
    for (const [server, detail] of [[closing, ''], [fake, ' in the middle of a message (50 of 200 bytes received)']] as const) {
      const error = await SmbClient.connect({ host: '127.0.0.1', port: server.port, timeoutMs: 2000 }).then(() => undefined, (e: unknown) => e as Error);
      expect(error).toBeInstanceOf(TransportError);
      expect(error?.message).toBe(`connection to 127.0.0.1:${server.port} closed by the server${detail}, before it answered NEGOTIATE (client offered 2.0.2, 2.1, 3.0, 3.0.2, 3.1.1)`);
      expect(error).toMatchObject({ code: 'SMB_TRANSPORT', command: 'NEGOTIATE' });
    }
  } finally {
    await fake.stop();
    await closing.stop();
  }
});

test('a request sent and never answered (not even STATUS_PENDING) closes the connection with its TimeoutError: what comes after fails at once', async () => {
  const fake = await FakeServer.start((request, server) => {
    if (request.header.messageId === 0n) server.send(FakeServer.response(request, { credits: 8 }));
  });
  const connection = await Connection.open(options(fake.port));
  try {
    await echo(connection);
    const other = echo(connection, { timeoutMs: 5_000 }).catch((e: unknown) => e as Error);
    const timedOut = await echo(connection, { timeoutMs: 200 }).catch((e: unknown) => e as Error);
    expect(timedOut).toBeInstanceOf(TimeoutError);
    expect(timedOut.message).toBe(`no response to ECHO from 127.0.0.1:${fake.port} within 200 ms`);
    expect(connection.closed).toBe(true);
    expect(await other).toBe(timedOut);
    const started = performance.now();
    const cleanup = await echo(connection, { timeoutMs: 5_000 }).catch((e: unknown) => e as Error);
    expect(cleanup).toBeInstanceOf(TransportError);
    expect(cleanup.message).toBe(`connection to 127.0.0.1:${fake.port} is closed: ${timedOut.message}`);
    expect(performance.now() - started).toBeLessThan(100);
  } finally {
    connection.close();
    await fake.stop();
  }
});
