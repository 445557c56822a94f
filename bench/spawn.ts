/**
 * What starting a client process costs the process that starts it, by its size: posix_spawn
 * (native/smb_spawn.c, servers/spawn.ts) against child_process, which forks the caller. The
 * process grows to each size in turn (buffers and small objects, as a harness worker holds);
 * at each, the two start `true` one after another, taking turns. Prints per start the time the
 * caller's thread is blocked in the start and the time until the program's 'close'.
 *
 *   npm run build && node dist/bench/spawn.js [--sizes 50,250,500] [--starts 100]
 */
import { parseArgs } from 'node:util';
import { spawnBackend, spawnProcess, useChildProcessSpawn } from '../servers/spawn.js';
import { median } from './median.js';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '50,250,500' }, starts: { type: 'string', default: '100' } } });
const sizes = values.sizes.split(',').map(Number);
const starts = Number(values.starts);
if (sizes.some((size) => !Number.isFinite(size) || size <= 0) || !Number.isInteger(starts) || starts <= 0) {
  throw new Error('usage: node dist/bench/spawn.js [--sizes 50,250,500] [--starts 100] (MB, a positive count)');
}
if (spawnBackend.name !== 'posix_spawn') throw new Error(`posix_spawn is not available: ${spawnBackend.reason ?? ''} (npm run build:native)`);

const held: unknown[] = [];
function rssMb(): number {
  return process.memoryUsage().rss / 1e6;
}
/** Grows this process to about `mb` of resident memory: half in buffers, half in objects on the heap. */
function growTo(mb: number): void {
  while (rssMb() < mb) {
    held.push(Buffer.alloc(4 << 20, 1));
    held.push(Array.from({ length: 20_000 }, (_, i) => ({ i, name: `object ${i}` })));
  }
}

async function oneStart(childProcess: boolean): Promise<{ blockedMs: number; closeMs: number }> {
  useChildProcessSpawn(childProcess);
  const started = process.hrtime.bigint();
  const child = spawnProcess('true', [], { stdio: ['ignore', 'pipe', 'pipe'] });
  const blockedMs = Number(process.hrtime.bigint() - started) / 1e6;
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error('true did not end within 10 s')), 10_000);
    child.on('close', () => {
      clearTimeout(timer);
      done();
    });
  });
  return { blockedMs, closeMs: Number(process.hrtime.bigint() - started) / 1e6 };
}

console.log(`${starts} starts of \`true\` per size and way, taking turns; medians in ms`);
console.log('| process RSS | posix_spawn: blocked | until close | child_process: blocked | until close |');
console.log('|---|---|---|---|---|');
for (const size of sizes) {
  growTo(size);
  const results = { posix: [] as { blockedMs: number; closeMs: number }[], fork: [] as { blockedMs: number; closeMs: number }[] };
  for (let i = 0; i < starts; i++) {
    results.posix.push(await oneStart(false));
    results.fork.push(await oneStart(true));
  }
  const cell = (list: { blockedMs: number; closeMs: number }[], key: 'blockedMs' | 'closeMs') => median(list.map((r) => r[key])).toFixed(2);
  console.log(`| ${rssMb().toFixed(0)} MB | ${cell(results.posix, 'blockedMs')} | ${cell(results.posix, 'closeMs')} | ${cell(results.fork, 'blockedMs')} | ${cell(results.fork, 'closeMs')} |`);
}
useChildProcessSpawn(false);
console.log(`(held ${held.length} allocations)`);
