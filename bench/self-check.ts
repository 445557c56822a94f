/**
 * `npm run self-check [-- --faults a,b] [--workers N] [--keep]`: runs the harness's self-check
 * (harness/self-check.ts) and prints per fault the cells it reddened and whether their
 * explanation names the cause, then the kill rate and the named-cause rate. Exits 1 when a fault
 * is not killed, its cause not named, or a cell it must not touch went red.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SELF_CHECK_FAULTS } from '../harness/faults.js';
import { formatSelfCheck, runSelfCheck } from '../harness/self-check.js';

function option(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`);
  return value;
}

async function main(args: readonly string[]): Promise<number> {
  const names = option(args, '--faults')?.split(',').map((s) => s.trim()).filter(Boolean);
  const faults = names === undefined ? SELF_CHECK_FAULTS : names.map((name) => {
    const fault = SELF_CHECK_FAULTS.find((f) => f.name === name);
    if (fault === undefined) throw new Error(`--faults: unknown fault "${name}" (known: ${SELF_CHECK_FAULTS.map((f) => f.name).join(', ')})`);
    return fault;
  });
  const workers = option(args, '--workers');
  if (workers !== undefined && !/^[1-9]\d*$/.test(workers)) throw new Error(`--workers: "${workers}" is not a positive number`);
  const resultsDir = await mkdtemp(join(tmpdir(), 'smb-interop-self-check-'));
  try {
    process.stdout.write(`self-check: ${faults.length} faults; results in ${resultsDir}\n`);
    const report = await runSelfCheck({ faults, resultsDir, ...(workers === undefined ? {} : { workers: Number(workers) }) });
    process.stdout.write(formatSelfCheck(report));
    if (args.includes('--keep')) process.stdout.write(`report: ${join(report.runDir, 'index.html')}\n`);
    const ok = report.verdicts.every((v) => v.killed && v.named && v.harmed.length === 0) && report.referencesBroken.length === 0;
    return ok ? 0 : 1;
  } finally {
    if (!args.includes('--keep')) await rm(resultsDir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`self-check: ${(error as Error).message}\n`);
    process.exitCode = 2;
  },
);
