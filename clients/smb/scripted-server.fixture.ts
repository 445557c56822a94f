/** A scripted SMB2 peer for the connection's unit tests: the test decides every answer. */
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { once } from 'node:events';
import type { Connection, ConnectionOptions, SessionSecurity } from './connection.js';
import { Cipher, NonceGenerator, SigningAlgorithm, decryptMessage, signMessage } from './crypto/index.js';
import { FrameReader } from './frame-reader.js';
import {
  Command,
  HeaderFlag,
  NtStatus,
  classifyMessage,
  decodeHeader,
  encodeEchoRequest,
  encodeEchoResponse,
  encodeHeader,
  splitCompound,
} from './wire/index.js';
import type { Header } from './wire/index.js';

export interface Received {
  header: Header;
  /** The clear message (decrypted when it came encrypted). */
  message: Buffer;
  transformSessionId: bigint | undefined;
}

export type Handler = (request: Received, fake: FakeServer) => void;

export const SIGNING_KEY = Buffer.alloc(16, 0x11);
export const C2S_KEY = Buffer.alloc(16, 0x22);
export const S2C_KEY = Buffer.alloc(16, 0x33);

/** A scripted SMB2 peer: decodes each request and lets the test decide what to answer. */
export class FakeServer {
  readonly requests: Received[] = [];
  /** The length of every compound chain received. */
  readonly chains: number[] = [];
  socket: Socket | undefined;
  private constructor(readonly server: Server, readonly port: number) {}

  /** `wholeChains`: hand a compound chain on as one request (its first header decoded) instead of message by message. */
  static async start(handler: Handler, { wholeChains = false } = {}): Promise<FakeServer> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    const fake = new FakeServer(server, typeof address === 'object' && address !== null ? address.port : 0);
    server.on('connection', (socket: Socket) => {
      fake.socket = socket;
      const reader = new FrameReader((frame) => {
        let message: Buffer = Buffer.from(frame);
        let transformSessionId: bigint | undefined;
        if (classifyMessage(message) === 'transform') {
          const opened = decryptMessage({ cipher: Cipher.Aes128Gcm, key: C2S_KEY, frame: message });
          message = opened.message;
          transformSessionId = opened.sessionId;
        }
        // A chain's messages are handed on one by one (the test answers each on its own).
        const messages = wholeChains ? [message] : splitCompound(message);
        if (messages.length > 1) fake.chains.push(messages.length);
        for (const element of messages) {
          const received = { header: decodeHeader(element), message: element, transformSessionId };
          fake.requests.push(received);
          handler(received, fake);
        }
      });
      socket.on('data', (chunk: Buffer) => reader.push(chunk));
      socket.on('error', () => {});
    });
    return fake;
  }

  send(message: Buffer): void {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(message.length);
    this.socket?.write(Buffer.concat([header, message]));
  }

  /** Sends a frame in pieces of `piece` bytes, a macrotask apart, so the client sees them as separate reads. */
  async sendInPieces(message: Buffer, piece: number): Promise<void> {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(message.length);
    const wire = Buffer.concat([header, message]);
    for (let at = 0; at < wire.length; at += piece) {
      this.socket?.write(wire.subarray(at, at + piece));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** A response to `request`: same command, MessageId and SessionId. */
  static response(request: Received, fields: { status?: number; credits?: number; flags?: number; asyncId?: bigint; body?: Buffer } = {}): Buffer {
    const header = encodeHeader({
      command: request.header.command,
      messageId: request.header.messageId,
      status: fields.status ?? NtStatus.Success,
      credits: fields.credits ?? 1,
      flags: HeaderFlag.ServerToRedir | (fields.flags ?? 0),
      sessionId: request.header.sessionId,
      treeId: request.header.treeId ?? 0,
      ...(fields.asyncId === undefined ? {} : { asyncId: fields.asyncId }),
    });
    return Buffer.concat([header, fields.body ?? encodeEchoResponse()]);
  }

  async stop(): Promise<void> {
    this.socket?.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

export function options(port: number, extra: Partial<ConnectionOptions> = {}): ConnectionOptions {
  return {
    host: '127.0.0.1', port, timeoutMs: 2000, dialects: ['2.1', '3.1.1'], ciphers: ['AES-128-GCM'],
    signingAlgorithms: ['AES-128-GMAC'], encryption: 'auto', signing: 'auto', ...extra,
  };
}

export function security(extra: Partial<SessionSecurity> = {}): SessionSecurity {
  return {
    sessionId: 0x1234n, signingAlgorithm: SigningAlgorithm.HmacSha256, signingKey: SIGNING_KEY, signingRequired: true,
    encryptData: false, cipher: Cipher.Aes128Gcm, encryptionKey: C2S_KEY, decryptionKey: S2C_KEY,
    nonces: new NonceGenerator(Cipher.Aes128Gcm), ...extra,
  };
}

export const echo = (connection: Connection, extra: { sessionId?: bigint; timeoutMs?: number; pendingTimeoutMs?: number | null } = {}) =>
  connection.request({ command: Command.Echo, body: encodeEchoRequest(), ...extra });

export function signed(message: Buffer): Buffer {
  message.writeUInt32LE(message.readUInt32LE(16) | HeaderFlag.Signed, 16);
  signMessage(SigningAlgorithm.HmacSha256, SIGNING_KEY, message).copy(message, 48);
  return message;
}
