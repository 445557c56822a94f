/** READ responses received in place (RequestOptions.readInto), against a scripted server. */
import { test, expect } from '@playwright/test';
import { Connection } from './connection.js';
import { Cipher, NonceGenerator, encryptMessage, openMessageDecipher } from './crypto/index.js';
import { DECRYPT_PIECE } from './crypto/index.js';
import { PlacedRead } from './receive-in-place.js';
import { SecurityError, TimeoutError } from './errors.js';
import { FakeServer, S2C_KEY, echo, options, security, signed } from './scripted-server.fixture.js';
import type { Received } from './scripted-server.fixture.js';
import type { RequestOptions, SessionSecurity } from './connection.js';
import { Command, decodeReadResponse, encodeReadRequest, encodeReadResponse } from './wire/index.js';

const SESSION = 0x1234n;

function pattern(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + seed) & 0xff;
  return out;
}

function readOptions(into: Buffer | ((length: number) => Buffer), length: number, extra: Partial<RequestOptions> = {}): RequestOptions {
  return {
    command: Command.Read, body: encodeReadRequest({ fileId: { persistent: 1n, volatile: 2n }, offset: 0n, length }),
    payloadSize: length, readInto: into, ...extra,
  };
}

/** A READ response carrying `data` (the data right after the 16-byte body, at 0x50). */
function readResponse(request: Received, data: Buffer): Buffer {
  return FakeServer.response(request, { body: encodeReadResponse(data) });
}

test('a large clear READ response lands in the reader\'s buffer; a small one stays in its message', async () => {
  const big = pattern(150_000, 1);
  const small = pattern(1000, 2);
  const fake = await FakeServer.start((request, server) => server.send(readResponse(request, fake.requests.length === 1 ? big : small)));
  const connection = await Connection.open(options(fake.port));
  try {
    const into = Buffer.alloc(200_000, 0xee);
    const placed = await connection.request(readOptions(into, into.length));
    expect(placed.placed?.buffer).toBe(into.buffer);
    expect(placed.placed?.byteOffset).toBe(into.byteOffset);
    expect(placed.placed?.equals(big)).toBe(true);
    expect(into.subarray(big.length).every((byte) => byte === 0xee)).toBe(true);
    // The message ends where the data would start.
    expect(placed.message.length).toBe(0x50);

    const whole = await connection.request(readOptions(Buffer.alloc(5000, 0xee), 5000));
    expect(whole.placed).toBeUndefined();
    expect(decodeReadResponse(whole.message).data.equals(small)).toBe(true);
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('memory is asked for only when a response is received in place, and of its DataLength', async () => {
  const fake = await FakeServer.start((request, server) => server.send(readResponse(request, pattern(70_000, 3))));
  const connection = await Connection.open(options(fake.port));
  try {
    const asked: number[] = [];
    const response = await connection.request(readOptions((length) => {
      asked.push(length);
      return Buffer.alloc(length);
    }, 100_000));
    expect(asked).toEqual([70_000]);
    expect(response.placed?.equals(pattern(70_000, 3))).toBe(true);
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('a GCM-encrypted READ response is received into the reader\'s buffer and decrypted there; a wrong tag fails it and closes', async () => {
  const data = pattern(300_000, 4);
  let tamper = false;
  const serverNonces = new NonceGenerator(Cipher.Aes128Gcm);
  const fake = await FakeServer.start((request, server) => {
    const frame = encryptMessage({ cipher: Cipher.Aes128Gcm, key: S2C_KEY, sessionId: SESSION, nonce: serverNonces.next(), message: readResponse(request, data) });
    if (tamper) frame[frame.length - 1]! ^= 1;
    void server.sendInPieces(frame, 50_000);
  });
  const connection = await Connection.open(options(fake.port));
  connection.registerSession(security({ encryptData: true }));
  try {
    const into = Buffer.alloc(data.length);
    const response = await connection.request(readOptions(into, into.length, { sessionId: SESSION }));
    expect(response.encrypted).toBe(true);
    expect(response.placed?.buffer).toBe(into.buffer);
    expect(into.equals(data)).toBe(true);

    // Memory on demand is not asked for: the decrypted message is memory of its own already.
    const asked: number[] = [];
    const onDemand = await connection.request(readOptions((length) => {
      asked.push(length);
      return Buffer.alloc(length);
    }, data.length, { sessionId: SESSION }));
    expect(asked).toEqual([]);
    expect(onDemand.placed).toBeUndefined();
    expect(decodeReadResponse(onDemand.message).data.equals(data)).toBe(true);

    tamper = true;
    const error = await connection.request(readOptions(Buffer.alloc(data.length), data.length, { sessionId: SESSION })).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(SecurityError);
    expect(error.message).toContain('authentication tag mismatch');
    expect(connection.closed).toBe(true);
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('CCM and an observer: received whole; a signed response placed and verified; the data right in each', async () => {
  const data = pattern(90_000, 5);
  const ccmNonces = new NonceGenerator(Cipher.Aes128Ccm);
  const gcmNonces = new NonceGenerator(Cipher.Aes128Gcm);
  let mode: 'ccm' | 'gcm' | 'signed' | 'clear' = 'ccm';
  const fake = await FakeServer.start((request, server) => {
    const message = readResponse(request, data);
    if (mode === 'ccm' || mode === 'gcm') {
      const cipher = mode === 'ccm' ? Cipher.Aes128Ccm : Cipher.Aes128Gcm;
      server.send(encryptMessage({ cipher, key: S2C_KEY, sessionId: SESSION, nonce: (mode === 'ccm' ? ccmNonces : gcmNonces).next(), message }));
    } else {
      server.send(mode === 'signed' ? signed(message) : message);
    }
  });
  const seen: number[] = [];
  // One connection at a time: the scripted server answers on the newest.
  const readOn = async (sessionSecurity: SessionSecurity, observe = false) => {
    const connection = await Connection.open(options(fake.port, observe ? { observer: { onMessage: (event) => seen.push(event.bytes.length) } } : {}));
    connection.registerSession(sessionSecurity);
    try {
      return await connection.request(readOptions(Buffer.alloc(data.length), data.length, { sessionId: SESSION }));
    } finally {
      connection.close();
    }
  };
  try {
    // CCM decrypts a message in one piece only. (The scripted server reads GCM only: this
    // session's requests go clear, its responses come in CCM.)
    const fromCcm = await readOn(security({ signingRequired: false, cipher: Cipher.Aes128Ccm, nonces: new NonceGenerator(Cipher.Aes128Ccm) }));
    expect(fromCcm).toMatchObject({ encrypted: true, placed: undefined });
    expect(decodeReadResponse(fromCcm.message).data.equals(data)).toBe(true);

    // An observer sees every clear message whole, so nothing is placed while one watches.
    mode = 'gcm';
    const fromWatched = await readOn(security({ encryptData: true }), true);
    expect(fromWatched).toMatchObject({ encrypted: true, placed: undefined });
    expect(decodeReadResponse(fromWatched.message).data.equals(data)).toBe(true);
    expect(seen).toContain(0x50 + data.length);

    mode = 'signed';
    const fromSigned = await readOn(security({ signingRequired: true }));
    expect(fromSigned.signatureVerified).toBe(true);
    expect(fromSigned.placed?.equals(data)).toBe(true);

    // Unsigned in a session that signs: refused, placed or not.
    mode = 'clear';
    const error = await readOn(security({ signingRequired: true })).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(SecurityError);
    expect(error.message).toContain('unsigned response in a session that signs');
  } finally {
    await fake.stop();
  }
});

test('a server that stops in the middle of a placed READ response: TimeoutError, the connection closes, the buffer stays as it was', async () => {
  const data = pattern(200_000, 6);
  let rest: (() => void) | undefined;
  const fake = await FakeServer.start((request, server) => {
    const message = readResponse(request, data);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(message.length);
    const wire = Buffer.concat([header, message]);
    server.socket?.write(wire.subarray(0, 20_000));
    rest = () => server.socket?.write(wire.subarray(20_000));
  });
  const connection = await Connection.open(options(fake.port));
  try {
    const into = Buffer.alloc(data.length, 0xee);
    const error = await connection.request(readOptions(into, into.length, { timeoutMs: 300, path: '\\\\h\\s\\big.bin' })).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toContain('no response to READ \\\\h\\s\\big.bin');
    expect(error.message).toContain('stopped in the middle of sending it, so the connection is closed');
    expect(connection.closed).toBe(true);
    const before = Buffer.from(into);
    // What came in time may be there; nothing after it.
    expect(before.subarray(20_000).every((byte) => byte === 0xee)).toBe(true);
    rest!();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(into.equals(before)).toBe(true);
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('a placed READ response with a bad signature fails with SecurityError and closes the connection', async () => {
  const data = pattern(120_000, 7);
  const fake = await FakeServer.start((request, server) => {
    const message = signed(readResponse(request, data));
    message[message.length - 1]! ^= 1;
    void server.sendInPieces(message, 30_000);
  });
  const connection = await Connection.open(options(fake.port));
  connection.registerSession(security({ signingRequired: true }));
  try {
    const error = await connection.request(readOptions(Buffer.alloc(data.length), data.length, { sessionId: SESSION })).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(SecurityError);
    expect(error.message).toBe(`bad signature on READ response (message id 0, session 0x${SESSION.toString(16).padStart(16, '0')})`);
    expect(connection.closed).toBe(true);
  } finally {
    connection.close();
    await fake.stop();
  }
});

test('PlacedRead: ciphertext received in place and pushed, over several decrypt pieces, reads back as the plaintext; a flipped byte fails the tag', () => {
  const data = pattern(2 * DECRYPT_PIECE + 12_345, 6);
  const frame = encryptMessage({ cipher: Cipher.Aes128Gcm, key: S2C_KEY, sessionId: SESSION, nonce: new NonceGenerator(Cipher.Aes128Gcm).next(), message: data });
  const receive = (wire: Buffer): { into: Buffer; read: PlacedRead; done: number } => {
    const into = Buffer.alloc(data.length);
    const state = { into, read: undefined as unknown as PlacedRead, done: 0 };
    state.read = new PlacedRead(into, openMessageDecipher({ cipher: Cipher.Aes128Gcm, key: S2C_KEY, head: wire.subarray(0, 52), frameLength: wire.length }), undefined, () => true, () => { state.done++; });
    // As the transport does: some reads land in place (target/filled), some arrive in its own buffer (push).
    let at = 52;
    for (let turn = 0; at < wire.length; turn++) {
      const length = Math.min(wire.length - at, 100_000 + turn * 7_919);
      const target = turn % 3 === 2 ? undefined : state.read.target(1);
      if (target === undefined) {
        state.read.push(Buffer.from(wire.subarray(at, at + length)));
      } else {
        wire.copy(target, 0, at, at + length);
        state.read.filled(length);
      }
      at += length;
    }
    state.read.finish();
    return state;
  };
  const good = receive(frame);
  expect(good.done).toBe(1);
  good.read.verify();
  expect(good.read.data.equals(data)).toBe(true);

  const tampered = Buffer.from(frame);
  tampered[52 + DECRYPT_PIECE + 5]! ^= 1;
  const bad = receive(tampered);
  expect(() => bad.read.verify()).toThrow(SecurityError);
});
