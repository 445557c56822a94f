import { test, expect } from '@playwright/test';
import { Connection } from './connection.js';
import { Cipher, NonceGenerator, SigningAlgorithm, encryptMessage, signMessage } from './crypto/index.js';
import { SmbError } from './errors.js';
import { FakeServer, S2C_KEY, SIGNING_KEY, echo, options, security, signed } from './scripted-server.fixture.js';
import type { Received } from './scripted-server.fixture.js';
import {
  Command,
  HeaderFlag,
  NtStatus,
  RELATED_FILE_ID,
  buildCompound,
  decodeHeader,
  encodeChangeNotifyRequest,
  encodeCloseRequest,
  encodeCloseResponse,
  encodeCreateRequest,
  encodeCreateResponse,
  encodeErrorResponse,
  encodeReadRequest,
  splitCompound,
} from './wire/index.js';

const FILE_ID = { persistent: 5n, volatile: 6n };

/** CREATE + READ + CLOSE on the created handle: the chain readFile sends for a small file. */
const chain = (connection: Connection, sessionId = 0x1234n) => connection.compound([
  { command: Command.Create, body: encodeCreateRequest({ desiredAccess: 1, shareAccess: 7, createDisposition: 1, createOptions: 0x40, name: 'a.txt' }), sessionId, treeId: 9 },
  { command: Command.Read, body: encodeReadRequest({ fileId: RELATED_FILE_ID, offset: 0n, length: 4096 }), sessionId, treeId: 9, path: '\\\\h\\s\\a.txt' },
  { command: Command.Close, body: encodeCloseRequest({ fileId: RELATED_FILE_ID }), sessionId, treeId: 9 },
], { related: true });

function parts(received: Received): Received[] {
  return splitCompound(received.message).map((message) => ({ header: decodeHeader(message), message, transformSessionId: received.transformSessionId }));
}

const createResponse = () => encodeCreateResponse({
  oplockLevel: 0, flags: 0, createAction: 1, creationTime: 1n, lastAccessTime: 2n, lastWriteTime: 3n, changeTime: 4n,
  allocationSize: 0n, endOfFile: 0n, fileAttributes: 0x80, fileId: FILE_ID, contexts: [],
});

/** Answers the chain with CREATE ok, READ STATUS_ACCESS_DENIED, CLOSE ok, as one compound. */
function answerChain(request: Received): Buffer {
  const [create, read, close] = parts(request);
  const response = buildCompound([
    { header: { command: Command.Create, messageId: create!.header.messageId, credits: 1, flags: HeaderFlag.ServerToRedir, sessionId: 0x1234n, treeId: 9 }, body: createResponse() },
    { header: { command: Command.Read, messageId: read!.header.messageId, credits: 1, flags: HeaderFlag.ServerToRedir, status: NtStatus.AccessDenied, sessionId: 0x1234n, treeId: 9 }, body: encodeErrorResponse() },
    { header: { command: Command.Close, messageId: close!.header.messageId, credits: 1, flags: HeaderFlag.ServerToRedir, sessionId: 0x1234n, treeId: 9 }, body: encodeCloseResponse({ flags: 0, creationTime: 0n, lastAccessTime: 0n, lastWriteTime: 0n, changeTime: 0n, allocationSize: 0n, endOfFile: 0n, fileAttributes: 0 }) },
  ], { related: true });
  return response.message;
}

test('a related compound: one frame, 8-byte aligned NextCommand, own MessageIds, each element signed on its own, errors per element', async () => {
  const fake = await FakeServer.start((request, server) => {
    if (request.header.command === Command.Echo) {
      server.send(signed(FakeServer.response(request, { credits: 10 })));
      return;
    }
    const response = answerChain(request);
    for (const part of splitCompound(response)) signed(part);
    server.send(response);
  }, { wholeChains: true });
  const connection = await Connection.open(options(fake.port));
  connection.registerSession(security());
  try {
    await echo(connection, { sessionId: 0x1234n });
    const results = await Promise.allSettled(chain(connection));
    expect(fake.requests).toHaveLength(2);
    const sent = parts(fake.requests[1]!);
    expect(sent.map((p) => [p.header.command, p.header.messageId, p.header.flags, p.header.nextCommand, p.message.length])).toEqual([
      [Command.Create, 1n, HeaderFlag.Signed, 136, 136], // 64 + 56 + 10-byte name = 130, padded to 136
      [Command.Read, 2n, HeaderFlag.Signed | HeaderFlag.RelatedOperations, 120, 120], // 64 + 49 = 113, padded
      [Command.Close, 3n, HeaderFlag.Signed | HeaderFlag.RelatedOperations, 0, 88],
    ]);
    for (const part of sent) expect(signMessage(SigningAlgorithm.HmacSha256, SIGNING_KEY, part.message)).toEqual(part.header.signature);
    expect(sent[1]!.message.subarray(64 + 16, 64 + 32)).toEqual(Buffer.alloc(16, 0xff)); // FileId all ones
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const error = (results[1] as PromiseRejectedResult).reason as SmbError;
    expect(error.message).toBe('STATUS_ACCESS_DENIED (0xC0000022) on READ \\\\h\\s\\a.txt');
    // The next request continues after the chain's MessageIds.
    await echo(connection, { sessionId: 0x1234n });
    expect(fake.requests[2]!.header.messageId).toBe(4n);
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('an encrypted compound travels in one TRANSFORM message and its elements are not signed', async () => {
  const serverNonces = new NonceGenerator(Cipher.Aes128Gcm);
  const fake = await FakeServer.start((request, server) => {
    const clear = request.header.command === Command.Echo ? FakeServer.response(request, { credits: 10 }) : answerChain(request);
    server.send(encryptMessage({ cipher: Cipher.Aes128Gcm, key: S2C_KEY, sessionId: 0x1234n, nonce: serverNonces.next(), message: clear }));
  }, { wholeChains: true });
  const connection = await Connection.open(options(fake.port));
  connection.registerSession(security({ encryptData: true }));
  try {
    await echo(connection, { sessionId: 0x1234n });
    const results = await Promise.allSettled(chain(connection));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]!.transformSessionId).toBe(0x1234n);
    const sent = parts(fake.requests[1]!);
    expect(sent.map((p) => p.header.flags)).toEqual([0, HeaderFlag.RelatedOperations, HeaderFlag.RelatedOperations]);
    expect(results[0]).toMatchObject({ value: { encrypted: true } });
  } finally {
    connection.close();
    await fake.stop();
  }
});

const notify = (connection: Connection, signal: AbortSignal) => connection.request({
  command: Command.ChangeNotify,
  body: encodeChangeNotifyRequest({ outputBufferLength: 1024, fileId: FILE_ID, completionFilter: 1 }),
  sessionId: 0x1234n,
  treeId: 9,
  pendingTimeoutMs: null,
  signal,
});

test('CANCEL after STATUS_PENDING: same MessageId, the AsyncId, no credits, signed; the request ends with STATUS_CANCELLED', async () => {
  let pending: Received | undefined;
  const fake = await FakeServer.start((request, server) => {
    if (request.header.command === Command.ChangeNotify) {
      pending = request;
      server.send(FakeServer.response(request, { status: NtStatus.Pending, asyncId: 0x99n, credits: 3 }));
    } else if (request.header.command === Command.Cancel && pending !== undefined) {
      server.send(signed(FakeServer.response(pending, { status: NtStatus.Cancelled, asyncId: 0x99n, credits: 0, body: encodeErrorResponse() })));
    } else {
      server.send(signed(FakeServer.response(request)));
    }
  });
  const received: string[] = [];
  const connection = await Connection.open(options(fake.port, { observer: { onMessage: (m) => { if (m.direction === 'receive') received.push(m.statusName); } } }));
  connection.registerSession(security());
  try {
    const controller = new AbortController();
    const watching = notify(connection, controller.signal);
    await expect.poll(() => received).toEqual(['STATUS_PENDING']);
    controller.abort();
    const error = await watching.catch((e: unknown) => e as SmbError);
    expect(error).toBeInstanceOf(SmbError);
    expect(error).toMatchObject({ statusName: 'STATUS_CANCELLED', command: 'CHANGE_NOTIFY' });
    const cancel = fake.requests[1]!;
    expect(cancel.header).toMatchObject({ command: Command.Cancel, messageId: 0n, isAsync: true, asyncId: 0x99n, creditCharge: 0, credits: 0 });
    expect(cancel.header.flags).toBe(HeaderFlag.AsyncCommand | HeaderFlag.Signed);
    expect(cancel.message.subarray(64)).toEqual(Buffer.from([4, 0, 0, 0]));
    expect(signMessage(SigningAlgorithm.HmacSha256, SIGNING_KEY, cancel.message)).toEqual(cancel.header.signature);
    await echo(connection, { sessionId: 0x1234n });
    expect(fake.requests[2]!.header.messageId).toBe(1n);
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('CANCEL before any interim answer uses the sync form with the TreeId', async () => {
  let pending: Received | undefined;
  const fake = await FakeServer.start((request, server) => {
    if (request.header.command === Command.ChangeNotify) pending = request;
    else if (request.header.command === Command.Cancel && pending !== undefined) {
      server.send(signed(FakeServer.response(pending, { status: NtStatus.Cancelled, body: encodeErrorResponse() })));
    }
  });
  const connection = await Connection.open(options(fake.port));
  connection.registerSession(security());
  try {
    const controller = new AbortController();
    const watching = notify(connection, controller.signal);
    await expect.poll(() => pending !== undefined).toBe(true);
    controller.abort();
    await expect(watching).rejects.toThrow('STATUS_CANCELLED (0xC0000120) on CHANGE_NOTIFY');
    expect(fake.requests[1]!.header).toMatchObject({ command: Command.Cancel, messageId: 0n, isAsync: false, treeId: 9, credits: 0 });
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('aborting a request still waiting for credits drops it without sending anything', async () => {
  const fake = await FakeServer.start(() => {});
  const connection = await Connection.open(options(fake.port));
  try {
    const first = echo(connection, { timeoutMs: 1000 }).catch((e: unknown) => e);
    const controller = new AbortController();
    const queued = notify(connection, controller.signal);
    controller.abort();
    await expect(queued).rejects.toThrow('STATUS_CANCELLED (0xC0000120) on CHANGE_NOTIFY: cancelled before it was sent');
    const already = await notify(connection, AbortSignal.abort()).catch((e: unknown) => e as SmbError);
    expect(already).toMatchObject({ statusName: 'STATUS_CANCELLED' });
    await first;
    expect(fake.requests.map((r) => r.header.command)).toEqual([Command.Echo]);
  } finally {
    connection.close();
    await fake.stop();
  }
});
