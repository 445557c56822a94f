/**
 * A man in the middle for the client's tests: a real server behind it, and the test rewriting,
 * dropping or cutting what the server answers, as a hostile network or a broken server would.
 */
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { once } from 'node:events';
import { FrameReader } from './frame-reader.js';
import { classifyMessage, decodeHeader, splitCompound } from './wire/index.js';
import type { Header } from './wire/index.js';

/** What to do with one frame from the server: pass it on (as returned, maybe edited), drop it, or cut both connections. */
export type Verdict = Buffer | 'drop' | 'close';

export interface ServerMessage {
  header: Header;
  /** A view into the frame: edits change what the client receives. */
  message: Buffer;
  /** The clear request this answers (same MessageId), when the client sent it in clear. */
  request: Buffer | undefined;
}

export type Tamper = (frame: Buffer, messages: ServerMessage[]) => Verdict;

function frameOf(message: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(message.length);
  return Buffer.concat([prefix, message]);
}

/** The clear SMB2 messages of a frame (none for an encrypted one). */
function clearMessages(frame: Buffer): Buffer[] {
  return classifyMessage(frame) === 'smb2' ? splitCompound(frame) : [];
}

export class TamperingProxy {
  private readonly sockets = new Set<Socket>();
  /** Clear requests by MessageId, for the tamper to see what a response answers. */
  private readonly requests = new Map<bigint, Buffer>();
  /** Server frames seen (before tampering), by the command of their first message. */
  readonly seen: string[] = [];

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(target: { host: string; port: number }, tamper: Tamper): Promise<TamperingProxy> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    const proxy = new TamperingProxy(server, typeof address === 'object' && address !== null ? address.port : 0);
    server.on('connection', (client: Socket) => proxy.relay(client, target, tamper));
    return proxy;
  }

  private relay(client: Socket, target: { host: string; port: number }, tamper: Tamper): void {
    const upstream = createConnection({ host: target.host, port: target.port });
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    const fromClient = new FrameReader((frame) => {
      for (const message of clearMessages(frame)) this.requests.set(decodeHeader(message).messageId, Buffer.from(message));
      upstream.write(frameOf(frame));
    });
    const fromServer = new FrameReader((frame) => {
      const messages = clearMessages(frame).map((message) => {
        const header = decodeHeader(message);
        return { header, message, request: this.requests.get(header.messageId) };
      });
      this.seen.push(classifyMessage(frame) === 'smb2' ? String(messages[0]?.header.command) : 'transform');
      const verdict = tamper(frame, messages);
      if (verdict === 'close') {
        client.destroy();
        upstream.destroy();
      } else if (verdict !== 'drop') {
        client.write(frameOf(verdict));
      }
    });
    client.on('data', (chunk: Buffer) => fromClient.push(chunk));
    upstream.on('data', (chunk: Buffer) => fromServer.push(chunk));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Starts a proxy in front of `target`, runs `use`, always stops it. */
export async function withProxy<T>(target: { host: string; port: number }, tamper: Tamper, use: (proxy: TamperingProxy) => Promise<T>): Promise<T> {
  const proxy = await TamperingProxy.start(target, tamper);
  try {
    return await use(proxy);
  } finally {
    await proxy.stop();
  }
}
