/**
 * Where a cell's pcap is written while the cell runs: a directory of this process's in
 * /dev/shm (memory) where the machine has one with room to spare, else the cell's output
 * directory. Most cells' pcaps are deleted when they pass; a disk file system charges every
 * one of them its block reservations and metadata, a memory one only the copy. A kept pcap is
 * copied into the results by its attachment, so it may live anywhere until then.
 */
import { mkdirSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { registerCleanup } from '../../servers/cleanup.js';
import { processAlive } from '../../servers/processes.js';

const SHM = '/dev/shm';
const PREFIX = 'smb-interop-capture-';
/** Below this much free space in /dev/shm the output directory is used (a bulk cell's pcap is about 140 MB). */
const MIN_FREE_BYTES = 2 * 1024 * 1024 * 1024;

let directory: string | null | undefined;
let sequence = 0;

/** This process's directory in /dev/shm, made once (and removed at exit); null where there is none to use. */
function scratchDirectory(): string | null {
  if (directory !== undefined) return directory;
  directory = null;
  if (process.env.SMB_INTEROP_CAPTURE_SCRATCH === 'output') return directory;
  try {
    const fs = statfsSync(SHM);
    if (fs.bavail * fs.bsize < MIN_FREE_BYTES) return directory;
    // What processes killed outright left behind.
    for (const name of readdirSync(SHM)) {
      const pid = Number(name.slice(PREFIX.length));
      if (name.startsWith(PREFIX) && Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) rmSync(join(SHM, name), { recursive: true, force: true });
    }
    const mine = join(SHM, `${PREFIX}${process.pid}`);
    mkdirSync(mine, { recursive: true, mode: 0o700 });
    registerCleanup(() => rmSync(mine, { recursive: true, force: true }));
    directory = mine;
  } catch {
    directory = null;
  }
  return directory;
}

/** A fresh path for a cell's pcap: in memory where there is room, else `outputPath`. */
export function scratchPcapPath(outputPath: string): string {
  const dir = scratchDirectory();
  return dir === null ? outputPath : join(dir, `${++sequence}.pcapng`);
}
