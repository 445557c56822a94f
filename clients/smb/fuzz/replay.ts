/**
 * A server that plays a recording back: each client frame is matched to the recorded one by
 * its fingerprint (recording.ts) and answered with that exchange's planned actions, once. A
 * frame that matches nothing (the client strayed) gets no answer.
 */
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { once } from 'node:events';
import type { Action } from './mutations.js';
import { netbios } from './mutations.js';
import { FLAG_ASYNC, FLAG_SERVER_TO_REDIR, Field, HEADER_BYTES, frameSplitter, requestFingerprint, splitMessages } from './recording.js';
import type { Recording } from './recording.js';

/** The first bytes of a frame sent in pieces go out piece by piece; the rest at once. */
const PIECEWISE_BYTES = 2048;

const STATUS_INVALID_PARAMETER = 0xc000000d;

/**
 * What the replay answers a request it has no recording of (the client strayed after a
 * mutation): STATUS_INVALID_PARAMETER for each message, as a server does for a request it
 * cannot make sense of, so the run ends without waiting for the client's timeout.
 */
function refusals(frame: Buffer): Action[] {
  return splitMessages(frame).map((request) => {
    const response = Buffer.alloc(HEADER_BYTES + 9);
    request.copy(response, 0, 0, HEADER_BYTES);
    response.writeUInt32LE(STATUS_INVALID_PARAMETER, Field.status);
    response.writeUInt16LE(1, Field.credits);
    response.writeUInt32LE((response.readUInt32LE(Field.flags) | FLAG_SERVER_TO_REDIR) & ~(FLAG_ASYNC | 0x4 | 0x8), Field.flags);
    response.writeUInt32LE(0, Field.nextCommand);
    response.fill(0, Field.signature, HEADER_BYTES);
    response.writeUInt16LE(9, HEADER_BYTES);
    return { type: 'send', bytes: netbios(response) };
  });
}

export interface ReplayStats {
  /** Exchanges answered, in the order the client asked for them. */
  answered: number[];
  /** Client frames that matched no exchange left (answered STATUS_INVALID_PARAMETER). */
  unmatched: number;
  /** Called when the actions of `exchange` start: the runner notes which step it is in. */
  onExchange?: (exchange: number) => void;
}

export class ReplayServer {
  readonly stats: ReplayStats = { answered: [], unmatched: 0 };
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(recording: Recording, plan: Action[][]): Promise<ReplayServer> {
    const fingerprints = new Map<string, number>();
    recording.exchanges.forEach((e, i) => fingerprints.set(requestFingerprint(e.request), i));
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('replay: the server has no port');
    const replay = new ReplayServer(server, address.port);
    server.on('connection', (socket) => replay.serve(socket, fingerprints, plan));
    return replay;
  }

  private serve(socket: Socket, fingerprints: Map<string, number>, plan: Action[][]): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('close', () => this.sockets.delete(socket));
    const used = new Set<number>();
    let queue: Promise<void> = Promise.resolve();
    let ended = false;
    const perform = async (actions: Action[]) => {
      for (const action of actions) {
        if (ended || socket.destroyed) return;
        if (action.type === 'end') {
          ended = true;
          socket.end();
          return;
        }
        if (action.type === 'reset') {
          ended = true;
          socket.resetAndDestroy();
          return;
        }
        if (action.delayMs !== undefined) await this.sleep(action.delayMs);
        if (action.pieces === undefined) {
          if (!socket.destroyed) socket.write(action.bytes);
          continue;
        }
        const head = Math.min(action.bytes.length, PIECEWISE_BYTES);
        for (let at = 0; at < head && !socket.destroyed; at += action.pieces) {
          socket.write(action.bytes.subarray(at, Math.min(head, at + action.pieces)));
          await new Promise((resolve) => setImmediate(resolve));
        }
        if (!socket.destroyed && head < action.bytes.length) socket.write(action.bytes.subarray(head));
      }
    };
    socket.on('data', frameSplitter((frame) => {
      const exchange = fingerprints.get(requestFingerprint(frame));
      if (exchange === undefined || used.has(exchange)) {
        this.stats.unmatched++;
        queue = queue.then(() => perform(refusals(frame)));
        return;
      }
      used.add(exchange);
      this.stats.answered.push(exchange);
      this.stats.onExchange?.(exchange);
      // Answers go out in the order the client asked, a late one holding back the rest.
      queue = queue.then(() => perform(plan[exchange] ?? []));
    }));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
