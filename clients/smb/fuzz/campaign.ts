/**
 * A seeded campaign: run i replays mutation Prng.forRun(seed, i), many runs at once. An
 * exception that escapes while several runs are in flight is pinned on one by running each
 * suspect again alone.
 */
import { installRunHooks } from './context.js';
import { drawMutation, unmutatedPlan } from './mutations.js';
import type { Mutation, MutationKind } from './mutations.js';
import { FINDINGS, OUTCOMES, judge, replayOnce } from './oracle.js';
import type { Observed, Outcome, Verdict } from './oracle.js';
import { Prng } from './prng.js';
import type { Recording } from './recording.js';
import type { StepResult } from './scenario.js';

export interface Finding {
  run: number;
  outcome: Outcome;
  kind: MutationKind;
  mutation: string;
  detail: string;
}

export interface CampaignReport {
  seed: string;
  runs: number;
  ms: number;
  counts: Record<Outcome, number>;
  /** Runs by mutation kind and outcome. */
  byKind: Partial<Record<MutationKind, Partial<Record<Outcome, number>>>>;
  findings: Finding[];
  /** Runs judged again alone because they looked like findings (or were in flight when an exception escaped). */
  confirmedAlone: number;
  /** Client frames the replay could not match, over all runs (the client strayed after a mutation). */
  unmatched: number;
}

export interface CampaignOptions {
  seed: string;
  runs: number;
  /** First run index (to resume or to rerun one). */
  from?: number;
  concurrency?: number;
  onProgress?: (done: number, report: CampaignReport) => void;
}

/** The unmutated replay must give what the real server gave; anything else makes every verdict meaningless. */
export async function checkBaseline(recording: Recording): Promise<StepResult[]> {
  const uninstall = installRunHooks();
  try {
    const observed = await replayOnce(recording, unmutatedPlan(recording));
    const got = JSON.stringify(observed.results);
    if (observed.hung !== undefined || got !== JSON.stringify(recording.results)) {
      throw new Error(`fuzz: the unmutated replay of ${recording.profile} does not reach the recorded end (hung: ${observed.hung ?? 'no'}); got ${got}`);
    }
    return observed.results;
  } finally {
    uninstall();
  }
}

export function mutationFor(recording: Recording, seed: string, run: number): Mutation {
  return drawMutation(recording, Prng.forRun(seed, run));
}

/** Collects exceptions that escape to the process while it listens. */
class EscapeWatch {
  readonly escaped: string[] = [];
  private readonly onError = (error: unknown) => this.escaped.push(error instanceof Error ? `${error.name}: ${error.message} ${(error.stack ?? '').split('\n')[1]?.trim() ?? ''}` : String(error));
  constructor() {
    process.on('uncaughtException', this.onError);
    process.on('unhandledRejection', this.onError);
  }
  stop(): void {
    process.off('uncaughtException', this.onError);
    process.off('unhandledRejection', this.onError);
  }
}

/** Few enough runs at once that no client timeout fires for want of CPU. */
const CONFIRM_CONCURRENCY = 6;

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/** One run alone, with escaped exceptions counted as its crashes. */
export async function runAlone(recording: Recording, baseline: readonly StepResult[], mutation: Mutation): Promise<{ verdict: Verdict; observed: Observed }> {
  const uninstall = installRunHooks();
  const watch = new EscapeWatch();
  try {
    const observed = await replayOnce(recording, mutation.plan);
    await settle();
    observed.crashes.push(...watch.escaped);
    return { verdict: judge(baseline, observed, mutation), observed };
  } finally {
    watch.stop();
    uninstall();
  }
}

/** One run among a few others (no escape watch: crash suspects go through runAlone). */
async function runQuietly(recording: Recording, baseline: readonly StepResult[], mutation: Mutation): Promise<{ verdict: Verdict; observed: Observed }> {
  const uninstall = installRunHooks();
  try {
    const observed = await replayOnce(recording, mutation.plan);
    return { verdict: judge(baseline, observed, mutation), observed };
  } finally {
    uninstall();
  }
}

export async function runCampaign(recording: Recording, options: CampaignOptions): Promise<CampaignReport> {
  const started = performance.now();
  const baseline = await checkBaseline(recording);
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  const report: CampaignReport = { seed: options.seed, runs: 0, ms: 0, counts, byKind: {}, findings: [], unmatched: 0, confirmedAlone: 0 };
  const record = (run: number, mutation: Mutation, verdict: Verdict) => {
    report.runs++;
    counts[verdict.outcome]++;
    const kind = (report.byKind[mutation.kind] ??= {});
    kind[verdict.outcome] = (kind[verdict.outcome] ?? 0) + 1;
    if ((FINDINGS as readonly string[]).includes(verdict.outcome)) {
      report.findings.push({ run, outcome: verdict.outcome, kind: mutation.kind, mutation: mutation.description, detail: verdict.detail });
    }
  };
  const first = options.from ?? 0;
  const end = first + options.runs;
  const concurrency = Math.max(1, options.concurrency ?? 32);
  const uninstall = installRunHooks();
  // Findings made among many runs are confirmed alone: under load a client timeout may fire
  // before the mutated frame was even sent. The run alone is what counts (and what --run repeats).
  const confirm = new Set<number>();
  const crashSuspects = new Set<number>();
  const inFlight = new Set<number>();
  const watch = new EscapeWatch();
  let escapedSeen = 0;
  let next = first;
  try {
    const worker = async () => {
      while (next < end) {
        const run = next++;
        const mutation = mutationFor(recording, options.seed, run);
        inFlight.add(run);
        const observed = await replayOnce(recording, mutation.plan);
        inFlight.delete(run);
        if (watch.escaped.length > escapedSeen) {
          escapedSeen = watch.escaped.length;
          for (const other of [run, ...inFlight]) {
            confirm.add(other);
            crashSuspects.add(other);
          }
        }
        if (confirm.has(run)) continue;
        const verdict = judge(baseline, observed, mutation);
        if ((FINDINGS as readonly string[]).includes(verdict.outcome)) {
          confirm.add(run);
          continue;
        }
        record(run, mutation, verdict);
        report.unmatched += observed.unmatched;
        if (report.runs % 500 === 0) options.onProgress?.(report.runs, report);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await settle();
  } finally {
    watch.stop();
    uninstall();
  }
  let pinned = 0;
  const judgeAgain = async (run: number, alone: boolean) => {
    const mutation = mutationFor(recording, options.seed, run);
    const { verdict, observed } = alone ? await runAlone(recording, baseline, mutation) : await runQuietly(recording, baseline, mutation);
    record(run, mutation, verdict);
    if (verdict.outcome === 'crash') pinned++;
    report.unmatched += observed.unmatched;
  };
  // Crash suspects one at a time (an escaped exception names no run); the others a few at once.
  const suspects = [...confirm].filter((run) => crashSuspects.has(run)).sort((a, b) => a - b);
  for (const run of suspects) await judgeAgain(run, true);
  const others = [...confirm].filter((run) => !crashSuspects.has(run)).sort((a, b) => a - b);
  let at = 0;
  await Promise.all(Array.from({ length: CONFIRM_CONCURRENCY }, async () => {
    while (at < others.length) await judgeAgain(others[at++]!, false);
  }));
  if (watch.escaped.length > 0 && pinned === 0) {
    // Escaped from a run that had already ended: no run to blame, still a crash.
    counts.crash++;
    report.findings.push({ run: -1, outcome: 'crash', kind: 'bitflip', mutation: 'unknown: no suspect crashed again when run alone', detail: watch.escaped[0]! });
  }
  report.confirmedAlone = confirm.size;
  report.findings.sort((a, b) => a.run - b.run);
  report.ms = Math.round(performance.now() - started);
  return report;
}
