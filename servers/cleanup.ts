/**
 * Last-resort cleanup of what this process started (server processes, containers, temp dirs),
 * for when the normal stop() path does not run: SIGINT, SIGTERM, SIGHUP or process.exit().
 * Handlers must be synchronous: nothing asynchronous runs once the process is exiting.
 */

type SyncCleanup = () => void;

const pending = new Map<number, SyncCleanup>();
let nextId = 1;
let installed = false;

function runAll(): void {
  for (const [id, fn] of [...pending].reverse()) {
    pending.delete(id);
    try {
      fn();
    } catch {
      // Best effort: one failed cleanup must not stop the others.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runAll();
  // Another handler (e.g. a test runner's graceful shutdown) decides what happens next;
  // without one, end the way the signal would have.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, onSignal);
  }
}

/** Registers a synchronous cleanup; returns a function that unregisters it once stop() has done the work. */
export function registerCleanup(fn: SyncCleanup): () => void {
  install();
  const id = nextId++;
  pending.set(id, fn);
  return () => {
    pending.delete(id);
  };
}
