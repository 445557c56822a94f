/**
 * Throughput of the TypeScript client against Samba's smbclient, on native Samba targets:
 * the same server, the same 256 MiB file, alternating, several rounds. Each transfer is
 * file-to-file and starts from a fresh connection (smbclient connects for every command too).
 *
 *   npm run bench -- [--rounds 7] [--warmup 1] [--size-mib 256] [--targets smb302-ccm,smb311-gcm,smb202-legacy]
 *                    [--local-dir DIR] [--server-dir DIR]
 *
 * The local files (the source and what is read back) live in --local-dir, the target's
 * directory with its share in --server-dir, both by default /dev/shm where it exists: both
 * clients then read and write memory on both ends, and the disk's write-back, which varies
 * from second to second on a shared machine and lands on whichever transfer runs then, stays
 * out of a comparison of the clients. Each client first makes `--warmup` untimed round trips
 * (caches, and this process's compiled code, as a long-running program has them).
 *
 * Our client is timed through two of its APIs: streams (fs stream piped into
 * tree.createWriteStream, tree.createReadStream piped into an fs stream) and FileHandle
 * (8 MiB blocks, two reused buffers, the local read or write of one block overlapping the
 * remote transfer of the other), each API in a process of its own (bench/client-process.ts), as
 * smbclient runs in its own: the streams' peak RSS is then theirs alone, not also what the
 * allocator kept of the FileHandle transfers' buffers. Prints MB/s (10^6 bytes per second) per
 * direction, the ratio of each to smbclient (medians), and the streams process's peak RSS; then,
 * round by round, the median of the per-round ratios and the rounds this client was ahead in.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { runSmbclient } from '../clients/adapters/smbclient-cli.js';
import { ClientProcess } from './client-process-host.js';
import { median } from './median.js';
import { memoryBackedDir } from './scratch-dir.js';
import { findProfile, resolveProfiles } from '../servers/catalog/index.js';
import { registerCleanup } from '../servers/cleanup.js';
import { startNativeTarget } from '../servers/samba/native.js';
import type { StartedNativeTarget } from '../servers/samba/native.js';

const MiB = 1 << 20;

type Who = 'streams' | 'handle' | 'smbclient';
const WHO: readonly Who[] = ['streams', 'handle', 'smbclient'];

interface Row {
  target: string;
  direction: 'write' | 'read';
  figures: Record<Who, number[]>;
}

async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), new Writable({ write(chunk: Buffer, _e, done) { hash.update(chunk); done(); } }));
  return hash.digest('hex');
}

/** Writes `size` random bytes to `path` without holding them in memory. */
async function makeSource(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  for (let written = 0; written < size; written += MiB) {
    if (!out.write(randomBytes(Math.min(MiB, size - written)))) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

/**
 * The ratios of one API to smbclient round by round (a round's transfers run seconds apart, so
 * the machine's drift over a run cancels out), their median, and in how many rounds this client
 * was the faster.
 */
function pairedRatios(row: Row, who: 'streams' | 'handle'): { median: number; ahead: string } {
  const ratios = row.figures[who].map((mbps, round) => mbps / row.figures.smbclient[round]!);
  return { median: median(ratios), ahead: `${ratios.filter((ratio) => ratio > 1).length}/${ratios.length}` };
}

/** smbclient's time, this process's heap collected first (with --expose-gc), so nothing here competes with it for the CPU. */
async function timed(work: () => Promise<void>): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.();
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function smbclient(target: StartedNativeTarget, direction: 'write' | 'read', local: string, remote: string, cwd: string): Promise<void> {
  const user = target.user();
  const encrypted = target.profile.encryption.mode === 'required';
  const result = await runSmbclient({
    host: target.host, port: target.port, share: 'data', username: user.username, password: user.password,
    maxProtocol: '3.1.1', ...(encrypted ? { protection: 'encrypt' as const } : {}),
    commands: direction === 'write' ? `put ${local} ${remote}` : `get ${remote} ${local}`,
    cwd, timeoutMs: 600_000,
  });
  if (result.code !== 0) throw new Error(`smbclient ${direction} on ${target.name} failed (${result.status ?? `exit ${result.code}`}): ${result.stderr.trim() || result.stdout.trim()}`);
}

interface BenchSettings {
  rounds: number;
  warmup: number;
  size: number;
  source: string;
  work: string;
  serverDir: string;
}

async function benchTarget(name: string, settings: BenchSettings): Promise<{ rows: Row[]; peakRss: number }> {
  const { rounds, warmup, size, source, work } = settings;
  const target = await startNativeTarget(findProfile(resolveProfiles({}), name), { parentDir: settings.serverDir });
  // Fresh processes per target, one per API: the peak RSS reported is that target's streams'.
  const clients = { streams: new ClientProcess(), handle: new ClientProcess() };
  const unregister = registerCleanup(() => {
    clients.streams.stop();
    clients.handle.stop();
  });
  try {
    const rows: Row[] = (['write', 'read'] as const).map((direction) => ({ target: name, direction, figures: { streams: [], handle: [], smbclient: [] } }));
    const user = target.user();
    const expected = await fileDigest(source);
    const mbps = (seconds: number) => size / seconds / 1e6;
    for (let round = -warmup; round < rounds; round++) {
      // Rotate who goes first, so no one always meets a cold or a warm server cache.
      const order = WHO.map((_, i) => WHO[(i + round + warmup) % WHO.length]!);
      for (const who of order) {
        const remote = `${who}-${round}.bin`;
        const back = join(work, `${who}-${round}.back`);
        const run = (direction: 'write' | 'read', local: string) => who === 'smbclient'
          ? timed(() => smbclient(target, direction, local, remote, work))
          : clients[who].transfer({ api: who, direction, local, remote, host: target.host, port: target.port, share: 'data', username: user.username, password: user.password });
        const write = await run('write', source);
        const read = await run('read', back);
        if (await fileDigest(back) !== expected) throw new Error(`${name}: ${who} round ${round}: the file read back differs from the one written`);
        rmSync(back);
        rmSync(join(target.share('data').localPath ?? work, remote), { force: true });
        const label = round < 0 ? 'warm-up' : `round ${round + 1}/${rounds}`;
        process.stderr.write(`${name} ${label} ${who}: write ${mbps(write).toFixed(0)} MB/s, read ${mbps(read).toFixed(0)} MB/s\n`);
        if (round < 0) continue;
        rows[0]!.figures[who].push(mbps(write));
        rows[1]!.figures[who].push(mbps(read));
      }
    }
    return { rows, peakRss: clients.streams.peakRss };
  } finally {
    clients.streams.stop();
    clients.handle.stop();
    unregister();
    await target.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '7' },
      warmup: { type: 'string', default: '1' },
      'size-mib': { type: 'string', default: '256' },
      targets: { type: 'string', default: 'smb302-ccm,smb311-gcm,smb202-legacy' },
      'local-dir': { type: 'string' },
      'server-dir': { type: 'string' },
    },
  });
  const rounds = Number(values.rounds);
  const warmup = Number(values.warmup);
  const size = Number(values['size-mib']) * MiB;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: expected a positive integer, got ${values.rounds}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`--warmup: expected a non-negative integer, got ${values.warmup}`);
  if (!Number.isInteger(size) || size < 1) throw new Error(`--size-mib: expected a positive integer, got ${values['size-mib']}`);
  const inMemory = memoryBackedDir();
  const serverDir = values['server-dir'] ?? inMemory;
  const work = mkdtempSync(join(values['local-dir'] ?? inMemory, 'smb-bench-'));
  const unregister = registerCleanup(() => rmSync(work, { recursive: true, force: true }));
  try {
    const source = join(work, 'source.bin');
    await makeSource(source, size);
    const lines = ['target          direction  streams MB/s  FileHandle MB/s  smbclient MB/s  streams/smbclient  FileHandle/smbclient  peak RSS (streams)'];
    const paired = ['target          direction  streams/smbclient  ahead  FileHandle/smbclient  ahead'];
    for (const name of values.targets.split(',')) {
      const { rows, peakRss } = await benchTarget(name, { rounds, warmup, size, source, work, serverDir });
      for (const row of rows) {
        const [streamsPaired, handlePaired] = (['streams', 'handle'] as const).map((who) => pairedRatios(row, who));
        paired.push([
          row.target.padEnd(16), row.direction.padEnd(9), streamsPaired!.median.toFixed(2).padStart(19), streamsPaired!.ahead.padStart(7),
          handlePaired!.median.toFixed(2).padStart(22), handlePaired!.ahead.padStart(7),
        ].join(''));
        const [streams, handle, reference] = WHO.map((who) => median(row.figures[who]));
        lines.push([
          row.target.padEnd(16), row.direction.padEnd(9), streams!.toFixed(0).padStart(13), handle!.toFixed(0).padStart(17),
          reference!.toFixed(0).padStart(16), (streams! / reference!).toFixed(2).padStart(19), (handle! / reference!).toFixed(2).padStart(22),
          (peakRss > 0 ? `${(peakRss / MiB).toFixed(0)} MiB` : 'n/a').padStart(20),
        ].join(''));
      }
    }
    process.stdout.write(`${values['size-mib']} MiB file, ${rounds} rounds after ${warmup} untimed, medians; MB = 10^6 bytes; local files in ${dirname(work)}, the server's share in ${serverDir}\n${lines.join('\n')}\n`);
    process.stdout.write(`\nround by round: the median of each round's ratio (the clients take turns within a round), and the rounds this client was ahead in\n${paired.join('\n')}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    unregister();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
