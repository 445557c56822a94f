/** Run options the harness reads from the environment (set by `smb-interop run` or by hand). */
import { cpus } from 'node:os';
import { FAULT_NAMES } from '../clients/smb/faults.js';
import type { NamedFaults } from '../clients/smb/faults.js';

export const TRACE_MODES = ['on', 'off', 'retain-on-failure'] as const;
export type TraceMode = (typeof TRACE_MODES)[number];

/** SMB_INTEROP_TRACE=on|off|retain-on-failure (default retain-on-failure). */
export function traceModeFromEnv(env: NodeJS.ProcessEnv = process.env): TraceMode {
  const raw = env.SMB_INTEROP_TRACE?.trim() || 'retain-on-failure';
  if (!(TRACE_MODES as readonly string[]).includes(raw)) {
    throw new Error(`SMB_INTEROP_TRACE: "${raw}" is not one of ${TRACE_MODES.join(', ')}`);
  }
  return raw as TraceMode;
}

/** Test-only faults from SMB_INTEROP_TEST_FAULTS (comma list): the harness's self-check. */
export function testFaultsFromEnv(env: NodeJS.ProcessEnv = process.env): NamedFaults | undefined {
  const raw = env.SMB_INTEROP_TEST_FAULTS?.trim();
  if (!raw) return undefined;
  const known = FAULT_NAMES;
  const faults: Record<string, boolean> = {};
  for (const name of raw.split(',').map((s) => s.trim())) {
    if (!(known as readonly string[]).includes(name)) throw new Error(`SMB_INTEROP_TEST_FAULTS: unknown fault "${name}" (known: ${known.join(', ')})`);
    faults[name] = true;
  }
  return faults as NamedFaults;
}


/**
 * Workers of a matrix run: SMB_INTEROP_WORKERS, else three per core. Cells wait on smbd, client
 * processes, their own time limits and the wire as much as they compute: with two per core a
 * two-core machine left a quarter of its CPU idle through the four-client matrix; three per core
 * took it from 5 min 46 s to 4 min 51 s (README "Performance").
 */
export function matrixWorkers(env: NodeJS.ProcessEnv = process.env): number {
  return Number(env.SMB_INTEROP_WORKERS) || Math.max(2, 3 * cpus().length);
}

/**
 * Workers one target may have: each worker that takes a target's files starts a server of its
 * own, so with at least as many targets as workers one each starts every target once (and the
 * workers still all run, on different targets); fewer targets share the workers out, rounding
 * up so that none stays idle. SMB_INTEROP_TARGET_WORKERS overrides it.
 */
export function workersPerTarget(workers: number, targets: number, env: NodeJS.ProcessEnv = process.env): number {
  const explicit = Number(env.SMB_INTEROP_TARGET_WORKERS);
  if (Number.isInteger(explicit) && explicit > 0) return explicit;
  return Math.max(1, Math.ceil(workers / Math.max(1, targets)));
}
