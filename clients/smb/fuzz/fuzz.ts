/**
 * `npm run fuzz -- [--runs N] [--seed S] [--from I] [--run I] [--concurrency C] [--recording FILE]`:
 * a seeded campaign against a recorded session; counts per outcome and one reproducer per finding.
 * `--run I` replays run I of seed S alone and prints its mutation, the steps' results and the verdict.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mutationFor, runAlone, checkBaseline, runCampaign } from './campaign.js';
import type { CampaignReport } from './campaign.js';
import { FINDINGS, OUTCOMES } from './oracle.js';
import { RECORDINGS_DIR, loadRecording } from './recording.js';

export const DEFAULT_RECORDING = join(RECORDINGS_DIR, 'smb202-legacy.json.gz');

function option(argv: string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  if (at < 0) return undefined;
  const value = argv[at + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`fuzz: ${name} needs a value`);
  return value;
}

function count(argv: string[], name: string, fallback: number): number {
  const text = option(argv, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`fuzz: ${name} must be a whole number, got "${text}"`);
  return value;
}

export function formatReport(report: CampaignReport, rerun: (run: number) => string): string {
  const lines = [`fuzz: ${report.runs} runs, seed ${report.seed}, ${(report.ms / 1000).toFixed(1)} s`];
  for (const outcome of OUTCOMES) lines.push(`  ${outcome.padEnd(16)} ${report.counts[outcome]}${(FINDINGS as readonly string[]).includes(outcome) ? '  (finding)' : ''}`);
  lines.push(`  client frames the replay could not match: ${report.unmatched}; runs judged again alone: ${report.confirmedAlone}`);
  const findingKinds = Object.entries(report.byKind)
    .map(([kind, outcomes]) => [kind, FINDINGS.filter((f) => (outcomes[f] ?? 0) > 0).map((f) => `${f} ${outcomes[f]}`)] as const)
    .filter(([, found]) => found.length > 0);
  if (findingKinds.length > 0) {
    lines.push('findings by mutation kind:');
    for (const [kind, found] of findingKinds) lines.push(`  ${kind.padEnd(14)} ${found.join(', ')}`);
  }
  for (const finding of report.findings) {
    lines.push(`finding: run ${finding.run} ${finding.outcome}: ${finding.mutation}`);
    lines.push(`  ${finding.detail}`);
    if (finding.run >= 0) lines.push(`  rerun: ${rerun(finding.run)}`);
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const seed = option(argv, '--seed') ?? '1';
  const recordingPath = option(argv, '--recording') ?? DEFAULT_RECORDING;
  const recording = loadRecording(recordingPath);
  const rerun = (run: number) => `npm run fuzz -- --seed ${seed} --run ${run}${recordingPath === DEFAULT_RECORDING ? '' : ` --recording ${recordingPath}`}`;
  const single = option(argv, '--run');
  if (single !== undefined) {
    const run = count(argv, '--run', 0);
    const baseline = await checkBaseline(recording);
    const mutation = mutationFor(recording, seed, run);
    const { verdict, observed } = await runAlone(recording, baseline, mutation);
    console.log(`run ${run} of seed ${seed}: ${mutation.description}`);
    console.log(`payload only: ${mutation.payloadOnly}; client frames not matched: ${observed.unmatched}`);
    for (const result of observed.results) console.log(`  ${JSON.stringify(result)}`);
    if (observed.hung !== undefined) console.log(`  hung in step "${observed.hung}"`);
    console.log(`${verdict.outcome}: ${verdict.detail}`);
    return (FINDINGS as readonly string[]).includes(verdict.outcome) ? 1 : 0;
  }
  const report = await runCampaign(recording, {
    seed,
    runs: count(argv, '--runs', 1000),
    from: count(argv, '--from', 0),
    concurrency: count(argv, '--concurrency', 32),
    onProgress: (done, partial) => {
      if (done % 10_000 === 0) console.error(`fuzz: ${done} runs, ${FINDINGS.map((f) => `${f} ${partial.counts[f]}`).join(', ')}`);
    },
  });
  console.log(formatReport(report, rerun));
  return report.findings.length > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    // Replays of hung runs may keep timers; the report is out.
    setTimeout(() => process.exit(code), 100).unref();
  }, (error: unknown) => {
    console.error(error instanceof Error ? error.stack ?? error.message : error);
    process.exit(2);
  });
}
