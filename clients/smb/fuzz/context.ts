/**
 * What one fuzz run (or the recording session) sees of the process: its own deterministic
 * randomness and a watch on large Buffer allocations, both found through AsyncLocalStorage so
 * that many runs can share one process at once.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import crypto, { createHash } from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';

/** Allocations above this, asked for by the client because of a server's number, are findings. */
export const LARGE_ALLOCATION_BYTES = 64 * 1024 * 1024;

export interface LargeAllocation {
  size: number;
  via: string;
  /** The first frames of the caller's stack, for the report. */
  at: string;
}

export interface RunContext {
  /** The run's own random bytes: the client's NTLM challenge, ClientGuid and nonce prefixes. */
  random: (size: number) => Buffer;
  largeAllocations: LargeAllocation[];
}

export const runs = new AsyncLocalStorage<RunContext>();

/** A byte stream from SHA-256 over (seed, counter): the same seed gives the same bytes in every process. */
export function deterministicBytes(seed: string): (size: number) => Buffer {
  let counter = 0;
  return (size: number) => {
    const out = Buffer.allocUnsafe(size);
    for (let filled = 0; filled < size; counter++) {
      const block = createHash('sha256').update(`${seed}:${counter}`).digest();
      filled += block.copy(out, filled);
    }
    return out;
  };
}

export class AllocationRefused extends RangeError {
  constructor(size: number, via: string) {
    super(`fuzz: refused Buffer.${via}(${size}): above ${LARGE_ALLOCATION_BYTES} bytes`);
    this.name = 'AllocationRefused';
  }
}

type Allocator = (size: number, ...rest: never[]) => Buffer;
let installed: (() => void) | undefined;
let users = 0;

/**
 * Patches crypto.randomBytes (and the named export the client imports, through
 * syncBuiltinESMExports) and Buffer.alloc/allocUnsafe/allocUnsafeSlow. Outside a run nothing
 * changes. Returns the function that undoes it once every installer has called its own.
 */
export function installRunHooks(): () => void {
  users++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    if (--users === 0) installed?.();
  };
  if (installed !== undefined) return release;
  const originalRandom = crypto.randomBytes;
  const patchedRandom = function randomBytes(this: unknown, size: number, callback?: unknown): unknown {
    const context = runs.getStore();
    if (context === undefined || typeof callback === 'function') return (originalRandom as (...a: unknown[]) => unknown).call(crypto, size, callback);
    return context.random(size);
  };
  (crypto as { randomBytes: unknown }).randomBytes = patchedRandom;
  const names = ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const;
  const originals = names.map((name) => Buffer[name] as unknown as Allocator);
  names.forEach((name, i) => {
    const original = originals[i]!;
    (Buffer as unknown as Record<string, Allocator>)[name] = function watched(size: number, ...rest: never[]): Buffer {
      if (size > LARGE_ALLOCATION_BYTES) {
        const context = runs.getStore();
        if (context !== undefined) {
          const at = (new Error().stack ?? '').split('\n').slice(2, 7).map((line) => line.trim()).join(' < ');
          context.largeAllocations.push({ size, via: name, at });
          throw new AllocationRefused(size, name);
        }
      }
      return original.call(Buffer, size, ...rest);
    };
  });
  syncBuiltinESMExports();
  installed = () => {
    (crypto as { randomBytes: unknown }).randomBytes = originalRandom;
    names.forEach((name, i) => ((Buffer as unknown as Record<string, Allocator>)[name] = originals[i]!));
    syncBuiltinESMExports();
    installed = undefined;
  };
  return release;
}
