/**
 * Loopback ports for targets: a free one to start a server on (never the same twice from this
 * process), the retry of a start on another port when another server took it first, and the TCP
 * probe the providers use to see whether a port answers.
 */
import { createServer, Socket } from 'node:net';
import { PortTakenError, TargetStartError } from './errors.js';

const recentlyGiven = new Set<number>();
/** Ports remembered so this process never hands one out twice in a row of starts. */
const REMEMBERED_PORTS = 4096;

/** Remembers a port handed out; false if it was handed out before (pick another). */
export function claimPort(port: number): boolean {
  if (recentlyGiven.has(port)) return false;
  recentlyGiven.add(port);
  if (recentlyGiven.size > REMEMBERED_PORTS) recentlyGiven.delete(recentlyGiven.values().next().value as number);
  return true;
}

/** A port nothing listens on right now, not handed out before by this process: targets starting together get different ones. */
export async function freeLoopbackPort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = await anyFreePort(host);
    if (claimPort(port) || attempt >= 20) return port;
  }
}

function anyFreePort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** How many ports a start tries when each is taken by another server before its own binds it. */
export const PORT_ATTEMPTS = 3;

/**
 * Runs `attempt` on a fresh free port until it gives a server, or an error other than
 * PortTakenError (a port is handed out and bound by different processes: another may bind it in
 * between). Throws the last attempt's error.
 */
export async function startOnFreePort<T>(
  host: string,
  attempt: (port: number, index: number) => Promise<T | TargetStartError>,
  attempts = PORT_ATTEMPTS,
): Promise<T> {
  let last: TargetStartError | undefined;
  for (let index = 0; index < attempts; index++) {
    const result = await attempt(await freeLoopbackPort(host), index);
    if (!(result instanceof TargetStartError)) return result;
    last = result;
    if (!(result instanceof PortTakenError)) break;
  }
  throw last ?? new RangeError(`startOnFreePort: attempts must be at least 1 (got ${attempts})`);
}

export type ProbeResult = { ok: true; ms: number } | { ok: false; reason: string };

/** One TCP connect with a time limit; the reason reads like "connect ECONNREFUSED" or "no answer within 3000 ms". */
export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolveProbe) => {
    const started = Date.now();
    const socket = new Socket();
    let settled = false;
    const done = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolveProbe(result);
    };
    const timer = setTimeout(() => done({ ok: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.once('connect', () => done({ ok: true, ms: Date.now() - started }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, reason: `connect ${err.code ?? err.message}` }));
    socket.connect(port, host);
  });
}
