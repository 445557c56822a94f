/** READs and WRITEs sent as compound chains, and chains of READ responses received in place, against a scripted server. */
import { test, expect } from '@playwright/test';
import { Connection } from './connection.js';
import { SmbClient } from './client.js';
import { ArgumentError, ProtocolError, SecurityError, SmbError } from './errors.js';
import { FakeServer, echo, options, security, signed } from './scripted-server.fixture.js';
import type { Received } from './scripted-server.fixture.js';
import type { RequestOptions, SmbResponse } from './connection.js';
import {
  Command,
  HeaderFlag,
  NtStatus,
  buildCompound,
  decodeReadRequest,
  decodeWriteRequest,
  encodeErrorResponse,
  encodeReadRequest,
  encodeReadResponse,
  encodeWriteRequestHeader,
  encodeWriteResponse,
} from './wire/index.js';

const SESSION = 0x1234n;
const FILE_ID = { persistent: 1n, volatile: 2n };
const KiB = 1024;

/** The bytes of the scripted file at `offset`. */
function content(offset: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = ((offset + i) * 13 + 7) & 0xff;
  return out;
}

function read(into: Buffer | ((length: number) => Buffer), offset: number, length: number, extra: Partial<RequestOptions> = {}): RequestOptions {
  return { command: Command.Read, body: encodeReadRequest({ fileId: FILE_ID, offset: BigInt(offset), length }), payloadSize: length, readInto: into, ...extra };
}

function write(data: Buffer, offset: number): RequestOptions {
  return { command: Command.Write, body: [encodeWriteRequestHeader({ fileId: FILE_ID, offset: BigInt(offset) }, data.length), data], payloadSize: data.length };
}

/** The answer to one READ or WRITE (or ECHO, granting `credits`). */
function answer(request: Received, credits = 1): Buffer {
  if (request.header.command === Command.Read) {
    const { offset, length } = decodeReadRequest(request.message);
    return FakeServer.response(request, { body: encodeReadResponse(content(Number(offset), length)), credits });
  }
  if (request.header.command === Command.Write) {
    return FakeServer.response(request, { body: encodeWriteResponse({ count: decodeWriteRequest(request.message).data.length, remaining: 0 }), credits });
  }
  return FakeServer.response(request, { credits });
}

interface Element {
  request: Received;
  status?: number;
  data?: Buffer;
}

/** One compound response answering `elements` in order: READ data, or an error response. */
function chainedResponse(elements: readonly Element[], sign = false): Buffer {
  const { message, parts } = buildCompound(elements.map(({ request, status, data }) => ({
    header: {
      command: request.header.command, messageId: request.header.messageId, credits: 1, status: status ?? NtStatus.Success,
      flags: HeaderFlag.ServerToRedir, sessionId: request.header.sessionId, treeId: request.header.treeId ?? 0,
    },
    body: status === undefined ? encodeReadResponse(data!) : encodeErrorResponse(),
  })), { related: false });
  if (sign) for (const part of parts) signed(part);
  return message;
}

test('READs and WRITEs of 64 KiB made together go out as chains of up to 8; other commands, ioChain 1 and a signing session send them alone', async () => {
  const fake = await FakeServer.start((request, server) => server.send(answer(request, request.header.command === Command.Echo ? 64 : 1)));
  const written: Array<{ offset: bigint; data: Buffer }> = [];
  const connection = await Connection.open(options(fake.port));
  try {
    await echo(connection);
    const intos = Array.from({ length: 20 }, () => Buffer.alloc(64 * KiB));
    const responses = await Promise.all(intos.map((into, i) => connection.request(read(into, i * 64 * KiB, into.length))));
    expect(fake.chains).toEqual([8, 8, 4]);
    for (const [i, into] of intos.entries()) {
      expect(responses[i]!.status).toBe(NtStatus.Success);
      expect(into.equals(content(i * 64 * KiB, 64 * KiB))).toBe(true);
    }

    // An ECHO between WRITEs ends one chain; the WRITEs after it start another.
    const data = Array.from({ length: 5 }, (_, i) => content(1000 * i, 64 * KiB - i));
    const requests = [write(data[0]!, 0), write(data[1]!, 1), write(data[2]!, 2), { command: Command.Echo, body: Buffer.from([4, 0, 0, 0]) }, write(data[3]!, 3), write(data[4]!, 4)];
    await Promise.all(requests.map((request) => connection.request(request)));
    expect(fake.chains).toEqual([8, 8, 4, 3, 2]);
    for (const request of fake.requests.filter((r) => r.header.command === Command.Write)) {
      const decoded = decodeWriteRequest(request.message);
      written.push({ offset: decoded.offset, data: decoded.data });
    }
    expect(written.map((w) => [w.offset, w.data.equals(data[Number(w.offset)]!)])).toEqual([[0n, true], [1n, true], [2n, true], [3n, true], [4n, true]]);

    // Larger than 64 KiB: alone.
    await Promise.all([0, 1].map((i) => connection.request(read(Buffer.alloc(64 * KiB + 1), i, 64 * KiB + 1))));
    expect(fake.chains).toHaveLength(5);
  } finally {
    connection.close();
  }

  const alone = await Connection.open(options(fake.port, { ioChain: 1 }));
  try {
    await echo(alone);
    await Promise.all([0, 1, 2, 3].map((i) => alone.request(read(Buffer.alloc(4 * KiB), i * 4 * KiB, 4 * KiB))));
    expect(fake.chains).toHaveLength(5);
  } finally {
    alone.close();
  }
  await fake.stop();

  const signing = await FakeServer.start((request, server) => server.send(signed(answer(request, request.header.command === Command.Echo ? 64 : 1))));
  const inSignedSession = await Connection.open(options(signing.port));
  inSignedSession.registerSession(security());
  try {
    await echo(inSignedSession, { sessionId: SESSION });
    const replies = await Promise.all([0, 1, 2].map((i) => inSignedSession.request(read(Buffer.alloc(4 * KiB), i, 4 * KiB, { sessionId: SESSION }))));
    expect(signing.chains).toEqual([]);
    expect(replies.map((reply) => reply.signatureVerified)).toEqual([true, true, true]);
  } finally {
    inSignedSession.close();
    await signing.stop();
  }
});

test('a chain of READ responses: each READ lands in its reader\'s buffer, an error answers its own request, and READs made meanwhile go out after it, together', async () => {
  const lengths = [64 * KiB, 1001, 0, 64 * KiB, 60_000, 5000];
  const held: Received[] = [];
  const fake = await FakeServer.start((request, server) => {
    if (request.header.command === Command.Echo || held.length === lengths.length) {
      server.send(answer(request, request.header.command === Command.Echo ? 64 : 1));
      return;
    }
    held.push(request);
    if (held.length < lengths.length) return;
    const frame = chainedResponse(held.map((r, i) => i === 2
      ? { request: r, status: NtStatus.EndOfFile }
      : { request: r, data: content(Number(decodeReadRequest(r.message).offset), lengths[i]!) }));
    void server.sendInPieces(frame, 30_011);
  });
  const connection = await Connection.open(options(fake.port, { ioChain: lengths.length }));
  try {
    await echo(connection);
    const intos = lengths.map((length) => Buffer.alloc(Math.max(length, 1), 0xee));
    const asked: number[] = [];
    const followUps: Array<Promise<SmbResponse>> = [];
    const pending = lengths.map((length, i) => connection.request(read(i === 4 ? (n) => {
      asked.push(n);
      return intos[4]!.subarray(0, n);
    } : intos[i]!, i * 100_000, Math.max(length, 1))));
    // Made while the chain is still arriving: these wait for its end, then go as one chain.
    void pending[0]!.then(() => {
      for (let i = 0; i < 3; i++) followUps.push(connection.request(read(Buffer.alloc(100), 5_000_000 + i * 100, 100)));
    });
    const results = await Promise.allSettled(pending);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    const error = (results[2] as PromiseRejectedResult).reason as SmbError;
    expect(error.statusName).toBe('STATUS_END_OF_FILE');
    for (const i of [0, 1, 3, 4, 5]) {
      const response = (results[i] as PromiseFulfilledResult<SmbResponse>).value;
      expect(intos[i]!.subarray(0, lengths[i]).equals(content(i * 100_000, lengths[i]!))).toBe(true);
      // Every READ with data is placed: the small ones as the chain's bytes were copied in, the large ones read into place.
      expect(response.placed?.buffer).toBe(intos[i]!.buffer);
      expect(response.placed?.byteOffset).toBe(intos[i]!.byteOffset);
      expect(response.placed?.length).toBe(lengths[i]);
    }
    expect(intos[1]!.subarray(1001).every((byte) => byte === 0xee)).toBe(true);
    expect(asked).toEqual([60_000]);
    const more = await Promise.all(followUps);
    expect(more).toHaveLength(3);
    expect(fake.chains).toEqual([lengths.length, 3]);
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('a signed chain of READ responses is verified message by message, padding included; a flipped data byte fails it and closes the connection', async () => {
  let tamper = false;
  const fake = await FakeServer.start((request, server) => {
    if (request.header.command === Command.Echo) {
      server.send(signed(answer(request, 64)));
      return;
    }
    if (decodeReadRequest(request.message).offset !== 0n) return;
    // Answered when the first of the three arrives: the others are in the same frame.
    const ids = [0, 1, 2].map((i) => ({ ...request, header: { ...request.header, messageId: request.header.messageId + BigInt(i) } }));
    const frame = chainedResponse(ids.map((r, i) => ({ request: r, data: content(i * 50_000, [40_000, 1003, 30_000][i]!) })), true);
    // The second message's data: 40,080 bytes of the first, then its own 80-byte head.
    if (tamper) frame[40_080 + 80 + 500]! ^= 1;
    void server.sendInPieces(frame, 9_973);
  });
  const connection = await Connection.open(options(fake.port));
  connection.registerSession(security());
  try {
    await echo(connection, { sessionId: SESSION });
    const chainOf = () => {
      const intos = [40_000, 1003, 30_000].map((length) => Buffer.alloc(length));
      return { intos, replies: connection.compound(intos.map((into, i) => read(into, i * 50_000, into.length, { sessionId: SESSION })), { related: false }) };
    };
    const good = chainOf();
    const replies = await Promise.all(good.replies);
    expect(replies.map((reply) => [reply.signatureVerified, reply.placed?.buffer === good.intos[replies.indexOf(reply)]!.buffer])).toEqual([[true, true], [true, true], [true, true]]);
    for (const [i, into] of good.intos.entries()) expect(into.equals(content(i * 50_000, into.length))).toBe(true);

    tamper = true;
    const bad = chainOf();
    const results = await Promise.allSettled(bad.replies);
    expect(results[0]!.status).toBe('fulfilled');
    const error = (results[1] as PromiseRejectedResult).reason as Error;
    expect(error).toBeInstanceOf(SecurityError);
    expect(error.message).toMatch(/^bad signature on READ response \(message id \d+, session 0x0000000000001234\)$/);
    expect(results[2]!.status).toBe('rejected');
    expect(connection.closed).toBe(true);
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('a chain whose NextCommand points past its frame closes the connection with a ProtocolError naming the field', async () => {
  const fake = await FakeServer.start((request, server) => {
    if (request.header.command === Command.Echo) {
      server.send(answer(request, 64));
      return;
    }
    if (decodeReadRequest(request.message).offset !== 0n) return;
    const second = { ...request, header: { ...request.header, messageId: request.header.messageId + 1n } };
    const frame = chainedResponse([{ request, data: content(0, 20_000) }, { request: second, data: content(0, 20_000) }]);
    frame.writeUInt32LE(frame.length + 64, 20);
    server.send(frame);
  });
  const connection = await Connection.open(options(fake.port));
  try {
    await echo(connection);
    const results = await Promise.allSettled([0, 1].map((i) => connection.request(read(Buffer.alloc(20_000), i * 20_000, 20_000))));
    const error = (results[0] as PromiseRejectedResult).reason as Error;
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toContain('compound: [0].NextCommand');
    expect(error.message).toContain('points past the');
    expect(results[1]!.status).toBe('rejected');
    expect(connection.closed).toBe(true);
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('a chain with a message shorter than a READ\'s head between two READs, arriving in small pieces: each answered, the READs placed', async () => {
  const chained = new Set<bigint>();
  const fake = await FakeServer.start((request, server) => {
    if (chained.has(request.header.messageId)) return;
    if (request.header.command === Command.Echo) {
      server.send(answer(request, 64));
      return;
    }
    // The chain's READ, ECHO (64 + 4 bytes, padded to 72) and READ, answered in one frame when its first arrives.
    const ids = [0n, 1n, 2n].map((i) => ({ ...request, header: { ...request.header, messageId: request.header.messageId + i } }));
    for (const id of ids) chained.add(id.header.messageId);
    const { message } = buildCompound([
      { header: { command: Command.Read, messageId: ids[0]!.header.messageId, credits: 1, flags: HeaderFlag.ServerToRedir }, body: encodeReadResponse(content(0, 5000)) },
      { header: { command: Command.Echo, messageId: ids[1]!.header.messageId, credits: 1, flags: HeaderFlag.ServerToRedir }, body: Buffer.from([4, 0, 0, 0]) },
      { header: { command: Command.Read, messageId: ids[2]!.header.messageId, credits: 1, flags: HeaderFlag.ServerToRedir }, body: encodeReadResponse(content(9000, 20_000)) },
    ], { related: false });
    void server.sendInPieces(message, 61);
  });
  const connection = await Connection.open(options(fake.port));
  try {
    await echo(connection);
    const first = Buffer.alloc(5000);
    const last = Buffer.alloc(20_000);
    const replies = await Promise.all(connection.compound([
      read(first, 0, first.length),
      { command: Command.Echo, body: Buffer.from([4, 0, 0, 0]) },
      read(last, 9000, last.length),
    ], { related: false }));
    expect(replies.map((reply) => reply.header.command)).toEqual([Command.Read, Command.Echo, Command.Read]);
    expect(replies[1]!.message.length).toBe(72);
    expect(replies[0]!.placed?.buffer).toBe(first.buffer);
    expect(replies[2]!.placed?.buffer).toBe(last.buffer);
    expect(first.equals(content(0, 5000))).toBe(true);
    expect(last.equals(content(9000, 20_000))).toBe(true);
    // The connection goes on: the next request is sent and answered.
    await echo(connection);
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('SmbClient.connect refuses an ioChain that is not a whole number of at least 1, naming the option, before connecting', async () => {
  for (const ioChain of [0, -1, 2.5, Number.NaN]) {
    const error = await SmbClient.connect({ host: '127.0.0.1', port: 9, ioChain }).then(() => new Error('connected'), (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error.message).toBe(`SmbClient.connect: ioChain must be a whole number of requests, 1 or more (1 sends every request alone), got ${String(ioChain)}`);
  }
});
