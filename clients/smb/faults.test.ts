import { test, expect } from '@playwright/test';
import { Connection } from './connection.js';
import { Cipher, Dialect, SigningAlgorithm, deriveSessionKeys, verifyMessageSignature } from './crypto/index.js';
import { SmbError, TimeoutError } from './errors.js';
import { faultsOf, combineFaults, namedFaults, sessionKeys, withFaults } from './faults.js';
import type { FaultHook, FrameContext, OutgoingMessageContext } from './faults.js';
import { FakeServer, SIGNING_KEY, echo, options, security, signed } from './scripted-server.fixture.js';
import { NtStatus } from './wire/index.js';

async function withFake<T>(hook: FaultHook, answer: boolean, run: (connection: Connection, fake: FakeServer) => Promise<T>): Promise<T> {
  const fake = await FakeServer.start((request, server) => {
    if (answer) server.send(signed(FakeServer.response(request)));
  });
  const connection = await Connection.open(withFaults(options(fake.port), hook));
  connection.registerSession(security());
  try {
    return await run(connection, fake);
  } finally {
    connection.close();
    await fake.stop();
  }
}

test('withFaults attaches a hook that survives object spreads and is absent otherwise', () => {
  const hook: FaultHook = {};
  const options = withFaults({ host: 'h' }, hook);
  expect(faultsOf({ ...options, port: 1 })).toBe(hook);
  expect(faultsOf({ host: 'h' })).toBeUndefined();
  expect(withFaults({ host: 'h' }, undefined)).toEqual({ host: 'h' });
  expect(Object.keys(options)).toEqual(['host']);
});

test('outgoingMessage edits the clear message before it is signed, and says what it is', async () => {
  const seen: OutgoingMessageContext[] = [];
  const hook: FaultHook = {
    outgoingMessage(message, context) {
      seen.push(context);
      const edited = Buffer.from(message);
      edited.writeUInt16LE(0xbeef, 66); // the ECHO request's Reserved field
      return edited;
    },
  };
  await withFake(hook, true, async (connection, fake) => {
    await echo(connection, { sessionId: 0x1234n });
    const sent = fake.requests[0]!.message;
    expect(sent.readUInt16LE(66)).toBe(0xbeef);
    expect(verifyMessageSignature(SigningAlgorithm.HmacSha256, SIGNING_KEY, sent)).toBe(true);
  });
  expect(seen).toEqual([{ command: 'ECHO', commandCode: 13, index: 0, count: 1, sessionId: 0x1234n, signed: true, encrypted: false, dialect: undefined }]);
});

test('outgoingFrame sees the protected frame and can drop it: the request then times out', async () => {
  const frames: FrameContext[] = [];
  await withFake({ outgoingFrame: (frame, context) => { frames.push(context); expect(frame.readUInt32LE(0)).toBe(0x424d53fe); return null; } }, true, async (connection, fake) => {
    const error = await echo(connection, { sessionId: 0x1234n, timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(fake.requests).toEqual([]);
  });
  expect(frames).toEqual([{ command: 'ECHO', encrypted: false, signed: true, dialect: undefined }]);
});

test('incomingFrame edits a response before the client reads it', async () => {
  const hook: FaultHook = {
    incomingFrame(frame, context) {
      expect(context).toEqual({ command: 'ECHO', encrypted: false, signed: undefined, dialect: undefined });
      const edited = Buffer.from(frame);
      edited.writeUInt32LE(NtStatus.AccessDenied, 8);
      return signed(edited);
    },
  };
  await withFake(hook, true, async (connection) => {
    const error = await echo(connection, { sessionId: 0x1234n }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmbError);
    expect((error as SmbError).message).toBe('STATUS_ACCESS_DENIED (0xC0000022) on ECHO');
  });
});

test('gmacNonceAsServer signs requests with the server role bit in the AES-GMAC nonce', async () => {
  const fake = await FakeServer.start(() => {});
  const connection = await Connection.open(withFaults(options(fake.port), { switches: { gmacNonceAsServer: true } }));
  connection.registerSession(security({ signingAlgorithm: SigningAlgorithm.AesGmac }));
  try {
    void echo(connection, { sessionId: 0x1234n, timeoutMs: 300 }).catch(() => undefined);
    await expect.poll(() => fake.requests.length).toBe(1);
    const sent = fake.requests[0]!.message;
    expect(verifyMessageSignature(SigningAlgorithm.AesGmac, SIGNING_KEY, sent)).toBe(false);
    expect(verifyMessageSignature(SigningAlgorithm.AesGmac, SIGNING_KEY, sent, { isServer: true })).toBe(true);
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('key switches: a wrong signing-key label, swapped cipher keys, and keys() replacing the result', () => {
  const inputs = { dialect: Dialect.Smb311, sessionKey: Buffer.alloc(16, 5), preauthIntegrityHash: Buffer.alloc(64, 9), cipher: Cipher.Aes128Gcm };
  const context = { sessionId: 1n, dialect: '3.1.1' };
  const right = deriveSessionKeys(inputs);
  expect(sessionKeys(undefined, inputs, context)).toEqual(right);
  const label = sessionKeys({ switches: { signingKeyLabel: 'SMB2AESCMAC\0' } }, inputs, context);
  expect(label.signingKey.equals(right.signingKey)).toBe(false);
  expect(label.encryptionKey).toEqual(right.encryptionKey);
  const swapped = sessionKeys({ switches: { swapCipherKeys: true } }, inputs, context);
  expect([swapped.encryptionKey, swapped.decryptionKey]).toEqual([right.decryptionKey, right.encryptionKey]);
  const replaced = sessionKeys({ keys: (keys, c) => ({ ...keys, signingKey: Buffer.alloc(16, c.dialect === '3.1.1' ? 1 : 2) }) }, inputs, context);
  expect(replaced.signingKey).toEqual(Buffer.alloc(16, 1));
});

test('namedFaults and combineFaults: switches merge and message edits chain in order', () => {
  expect(namedFaults(undefined)).toBeUndefined();
  expect(namedFaults({ omitEncryptionCapability: false })).toBeUndefined();
  const both = namedFaults({ omitEncryptionCapability: true, zeroInnerSessionIdWhenEncrypting: true })!;
  expect(both.switches).toEqual({ omitEncryptionCapability: true });
  const message = Buffer.alloc(68, 0xff);
  const context = { command: 'ECHO', commandCode: 13, index: 0, count: 1, sessionId: 1n, signed: false, encrypted: true, dialect: '3.0.2' };
  expect(both.outgoingMessage!(message, context)!.readBigUInt64LE(40)).toBe(0n);
  const order: number[] = [];
  const chained = combineFaults({ outgoingFrame: () => { order.push(1); return Buffer.from('a'); } }, { outgoingFrame: (f) => { order.push(2); return Buffer.concat([f, Buffer.from('b')]); } });
  expect(chained.outgoingFrame!(Buffer.alloc(0), { command: 'ECHO', encrypted: false, signed: false, dialect: undefined })).toEqual(Buffer.from('ab'));
  expect(order).toEqual([1, 2]);
});
