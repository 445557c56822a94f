/**
 * Two builds of this client, side by side against one native smbd: each build's
 * bench/client-process.js in a process of its own, the same transfer taking turns (the order
 * alternating by round), so the server, the machine's load and the file are the same for both.
 * For a change that claims speed, or one that must not cost any: build the other commit
 * (`git worktree add ../before <rev> && cd ../before && npm ci && npm run build`), then
 *
 *   npm run bench:compare -- --before ../before/dist/bench/client-process.js
 *        [--target smb202-legacy] [--api streams|handle] [--direction read|write] [--rounds 20]
 *        [--writes-first 3] [--size-mib 256]
 *
 * `--writes-first N`: each process first makes N untimed write transfers (a read measured after
 * writes in the same process, as `npm run bench` measures it). Prints each round's seconds, the
 * medians and their ratio, and each process's garbage collection over the timed rounds (V8's
 * `--trace-gc-nvp`: scavenges, mark-compacts, bytes promoted to the old generation), since on
 * two cores the collector's concurrent marking takes CPU from smbd while the client looks idle.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClientProcess } from './client-process-host.js';
import { median } from './median.js';
import { memoryBackedDir } from './scratch-dir.js';
import { findProfile, resolveProfiles } from '../servers/catalog/index.js';
import { registerCleanup } from '../servers/cleanup.js';
import { startNativeTarget } from '../servers/samba/native.js';

const MiB = 1 << 20;
const BUILDS = ['this', 'before'] as const;
type Build = (typeof BUILDS)[number];

interface GcFigures {
  scavenges: number;
  markCompacts: number;
  promotedBytes: number;
}

/** Counts one process's collections from its `--trace-gc-nvp` lines while `counting()` says so. */
function gcCounter(counting: () => boolean): { figures: GcFigures; onStdout: (text: string) => void } {
  const figures: GcFigures = { scavenges: 0, markCompacts: 0, promotedBytes: 0 };
  let rest = '';
  return {
    figures,
    onStdout: (text) => {
      const lines = (rest + text).split('\n');
      rest = lines.pop() ?? '';
      if (!counting()) return;
      for (const line of lines) {
        const kind = /\bgc=(\w+)/.exec(line)?.[1];
        if (kind === 's') figures.scavenges++;
        else if (kind === 'mc' || kind === 'ms') figures.markCompacts++;
        const promoted = / promoted=(\d+)/.exec(line);
        if (promoted !== null) figures.promotedBytes += Number(promoted[1]);
      }
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      before: { type: 'string' },
      target: { type: 'string', default: 'smb202-legacy' },
      api: { type: 'string', default: 'streams' },
      direction: { type: 'string', default: 'read' },
      rounds: { type: 'string', default: '20' },
      'writes-first': { type: 'string', default: '3' },
      'size-mib': { type: 'string', default: '256' },
    },
  });
  if (values.before === undefined) throw new Error('--before: the other build\'s dist/bench/client-process.js is required');
  const api = values.api as 'streams' | 'handle';
  const direction = values.direction as 'read' | 'write';
  if (api !== 'streams' && api !== 'handle') throw new Error(`--api: "${values.api}" is not streams or handle`);
  if (direction !== 'read' && direction !== 'write') throw new Error(`--direction: "${values.direction}" is not read or write`);
  const [rounds, writesFirst, sizeMiB] = (['rounds', 'writes-first', 'size-mib'] as const).map((name) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 0 || (name !== 'writes-first' && value < 1)) throw new Error(`--${name}: "${values[name]}" is not a whole number${name === 'writes-first' ? '' : ' of at least 1'}`);
    return value;
  }) as [number, number, number];

  // Memory on both ends where /dev/shm exists, as `npm run bench` does: the disk stays out of it.
  const parentDir = memoryBackedDir();
  const work = mkdtempSync(join(parentDir, 'smb-interop-compare-'));
  const target = await startNativeTarget(findProfile(resolveProfiles({}), values.target), { parentDir });
  let counting = false;
  const gc = Object.fromEntries(BUILDS.map((b) => [b, gcCounter(() => counting)])) as Record<Build, ReturnType<typeof gcCounter>>;
  const processes: Record<Build, ClientProcess> = {
    this: new ClientProcess({ execArgv: ['--expose-gc', '--trace-gc-nvp'], onStdout: gc.this.onStdout }),
    before: new ClientProcess({ script: values.before, execArgv: ['--expose-gc', '--trace-gc-nvp'], onStdout: gc.before.onStdout }),
  };
  const unregister = registerCleanup(() => {
    for (const p of Object.values(processes)) p.stop();
    rmSync(work, { recursive: true, force: true });
  });
  try {
    const source = join(work, 'source.bin');
    writeFileSync(source, Buffer.alloc(sizeMiB * MiB, 0x5a));
    const user = target.user();
    const job = (build: Build, dir: 'read' | 'write', kind: 'streams' | 'handle') => ({
      api: kind, direction: dir, local: dir === 'write' ? source : join(work, `back-${build}.bin`), remote: `compare-${build}.bin`,
      host: target.host, port: target.port, share: target.shares[0]!.name, username: user.username, password: user.password,
    });
    // Each build's remote file exists before anything is timed; then the writes the row follows.
    for (const build of BUILDS) await processes[build].transfer(job(build, 'write', 'handle'));
    for (let i = 0; i < writesFirst; i++) for (const build of BUILDS) await processes[build].transfer(job(build, 'write', api));
    const seconds: Record<Build, number[]> = { this: [], before: [] };
    counting = true;
    for (let round = 0; round < rounds; round++) {
      for (const build of round % 2 === 0 ? BUILDS : [...BUILDS].reverse()) seconds[build].push(await processes[build].transfer(job(build, direction, api)));
    }
    counting = false;
    const row = `${values.target} ${api} ${direction} (${sizeMiB} MiB${writesFirst > 0 ? `, after ${writesFirst} ${api} writes` : ''}), ${rounds} rounds`;
    const lines = BUILDS.map((build) => {
      const g = gc[build].figures;
      return `${build.padEnd(7)} median ${median(seconds[build]).toFixed(3)} s  (${seconds[build].map((s) => s.toFixed(3)).join(' ')})\n`
        + `        GC over the timed rounds: ${g.scavenges} scavenges, ${g.markCompacts} mark-compacts, ${(g.promotedBytes / MiB).toFixed(1)} MiB promoted`;
    });
    process.stdout.write(`${row}\n${lines.join('\n')}\nthroughput this/before (medians): ${(median(seconds.before) / median(seconds.this)).toFixed(3)}\n`);
  } finally {
    for (const p of Object.values(processes)) p.stop();
    unregister();
    await target.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`compare-builds: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
