/**
 * `npm run fuzz -- [--runs N] [--seed S] [--from I] [--run I] [--concurrency C] [--recording NAME|FILE]`:
 * a seeded campaign against each recorded session (or the one named); counts per outcome and one
 * reproducer per finding. `--run I` replays run I of seed S alone (on smb202-legacy unless
 * --recording names another) and prints its mutation, the steps' results and the verdict.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mutationFor, runAlone, checkBaseline, runCampaign } from './campaign.js';
import type { CampaignReport } from './campaign.js';
import { FINDINGS, OUTCOMES } from './oracle.js';
import { RECORDINGS_DIR, loadRecording } from './recording.js';

const SUFFIX = '.json.gz';
export const DEFAULT_RECORDING = 'smb202-legacy';

/** The recordings a campaign runs by default: every one in recordings/, by name. */
export function recordingNames(): string[] {
  return readdirSync(RECORDINGS_DIR).filter((file) => file.endsWith(SUFFIX)).map((file) => file.slice(0, -SUFFIX.length)).sort();
}

/** A recording's name (recordings/NAME.json.gz) or a file's path. */
export function recordingPath(nameOrFile: string): string {
  const named = join(RECORDINGS_DIR, `${nameOrFile}${SUFFIX}`);
  if (existsSync(named)) return named;
  if (existsSync(nameOrFile)) return nameOrFile;
  throw new Error(`fuzz: no recording "${nameOrFile}" (recordings: ${recordingNames().join(', ')}; or a file's path)`);
}

export function rerunCommand(seed: string, recording: string, run: number): string {
  return `npm run fuzz -- --seed ${seed} --run ${run}${recording === DEFAULT_RECORDING ? '' : ` --recording ${recording}`}`;
}

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

export function formatReport(report: CampaignReport, rerun: (run: number) => string, recording = ''): string {
  const lines = [`fuzz: ${report.runs} runs${recording === '' ? '' : ` of ${recording}`}, seed ${report.seed}, ${(report.ms / 1000).toFixed(1)} s`];
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
  const named = option(argv, '--recording');
  const single = option(argv, '--run');
  if (single !== undefined) {
    const run = count(argv, '--run', 0);
    const recording = loadRecording(recordingPath(named ?? DEFAULT_RECORDING));
    const baseline = await checkBaseline(recording);
    const mutation = mutationFor(recording, seed, run);
    const { verdict, observed } = await runAlone(recording, baseline, mutation);
    console.log(`run ${run} of seed ${seed} on ${named ?? DEFAULT_RECORDING}: ${mutation.description}`);
    console.log(`payload only: ${mutation.payloadOnly}; client frames not matched: ${observed.unmatched}`);
    for (const result of observed.results) console.log(`  ${JSON.stringify(result)}`);
    if (observed.hung !== undefined) console.log(`  hung in step "${observed.hung}"`);
    console.log(`${verdict.outcome}: ${verdict.detail}`);
    return (FINDINGS as readonly string[]).includes(verdict.outcome) ? 1 : 0;
  }
  let findings = 0;
  for (const name of named === undefined ? recordingNames() : [named]) {
    const recording = loadRecording(recordingPath(name));
    const report = await runCampaign(recording, {
      seed,
      runs: count(argv, '--runs', 1000),
      from: count(argv, '--from', 0),
      concurrency: count(argv, '--concurrency', 32),
      onProgress: (done, partial) => {
        if (done % 10_000 === 0) console.error(`fuzz: ${name}: ${done} runs, ${FINDINGS.map((f) => `${f} ${partial.counts[f]}`).join(', ')}`);
      },
    });
    console.log(formatReport(report, (run) => rerunCommand(seed, name, run), name));
    findings += report.findings.length;
  }
  return findings > 0 ? 1 : 0;
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
