/**
 * V8's heap growth in the matrix's worker processes. A worker holds about 60 MB that outlives
 * every cell (Playwright, the harness, the client, their compiled code) and allocates far more
 * that dies young: messages, frames, the cells' data. By default V8 lets the old generation grow
 * by a factor it computes from the collector's speed, 1.3-1.5 here, before it marks the whole
 * heap again; with a young generation of up to 16 MB that is soon reached, and the full
 * collections that follow (about 800 in a four-client matrix, each marking those 60 MB on
 * another core) took about a fifth of the run's CPU. Letting the heap grow to four times what
 * survived the last full collection leaves about a quarter of them (224 in a run), and a worker's
 * heap in use stayed under about 135 MB (README "Performance").
 */
import { setFlagsFromString } from 'node:v8';

export const HEAP_GROWTH_ENV = 'SMB_INTEROP_HEAP_GROWTH_PERCENT';
/** The default: the heap may reach four times what the last full collection kept. */
export const DEFAULT_HEAP_GROWTH_PERCENT = 300;

/**
 * SMB_INTEROP_HEAP_GROWTH_PERCENT: how far the old generation may grow past what the last full
 * collection kept, in percent (V8's --heap-growing-percent); 0 leaves V8's own choice.
 */
export function heapGrowthPercent(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[HEAP_GROWTH_ENV]?.trim();
  if (raw === undefined || raw === '') return DEFAULT_HEAP_GROWTH_PERCENT;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > 1000) throw new Error(`${HEAP_GROWTH_ENV}: "${raw}" is not a whole number of percent from 0 to 1000`);
  return value;
}

/** Applies heapGrowthPercent() to this process (a matrix worker); returns the V8 flag set, if any. */
export function tuneWorkerHeap(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const percent = heapGrowthPercent(env);
  if (percent === 0) return undefined;
  const flag = `--heap-growing-percent=${percent}`;
  setFlagsFromString(flag);
  return flag;
}
