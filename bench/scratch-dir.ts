import { accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';

/**
 * Where the benchmarks keep their files: /dev/shm where it is writable, so the disk's write-back
 * stays out of a transfer's time; the system's temporary directory elsewhere.
 */
export function memoryBackedDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}
