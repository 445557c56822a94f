/**
 * One fuzz run (the client against the replay of one mutation) and the judgement of what the
 * client did. Findings: crash, large allocation, hang, untyped error, wrongly accepted data,
 * misreported error; the rest (rejected with a typed error, changed values only, no effect) is
 * the client doing its job.
 */
import { deterministicBytes, runs } from './context.js';
import type { LargeAllocation, RunContext } from './context.js';
import type { Action, Mutation } from './mutations.js';
import type { Recording } from './recording.js';
import { ReplayServer } from './replay.js';
import { runScenario } from './scenario.js';
import type { StepResult, StepValue } from './scenario.js';

/** The client's timeout in fuzz runs; a step that takes ten times as long has hung. */
export const FUZZ_TIMEOUT_MS = 500;
export const STEP_BOUND_MS = 5000;

export const FINDINGS = ['crash', 'largeAllocation', 'hang', 'untyped', 'wronglyAccepted', 'misreported'] as const;
export const OUTCOMES = [...FINDINGS, 'rejected', 'payloadChanged', 'absorbed'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface Observed {
  results: StepResult[];
  hung?: string | undefined;
  /** Exceptions that escaped (uncaughtException, unhandledRejection) while this run ran alone. */
  crashes: string[];
  largeAllocations: LargeAllocation[];
  /** Which step the client was in when each exchange was answered. */
  stepOfExchange: Map<number, string>;
  unmatched: number;
}

export interface Verdict {
  outcome: Outcome;
  detail: string;
}

/** Plays `plan` to the client running the recorded scenario. */
export async function replayOnce(recording: Recording, plan: Action[][]): Promise<Observed> {
  const replay = await ReplayServer.start(recording, plan);
  const context: RunContext = { random: deterministicBytes(recording.randomSeed), largeAllocations: [] };
  let step = '';
  const stepOfExchange = new Map<number, string>();
  replay.stats.onExchange = (exchange) => stepOfExchange.set(exchange, step);
  try {
    const outcome = await runs.run(context, () => runScenario({
      host: '127.0.0.1', port: replay.port, username: recording.username, password: recording.password, guest: recording.guest, timeoutMs: FUZZ_TIMEOUT_MS,
    }, recording.share, STEP_BOUND_MS, (name) => (step = name)));
    return { ...outcome, crashes: [], largeAllocations: context.largeAllocations, stepOfExchange, unmatched: replay.stats.unmatched };
  } finally {
    await replay.stop();
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Names no server may make the client return (MS-FSCC 2.1.5.2: a name has no separators, NUL or lone surrogates). */
function badName(value: StepValue): string | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const bad = badName(item);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const name = value['name'];
  if (typeof name === 'string' && (name === '' || name === '.' || name === '..' || /[\\/\0]/.test(name) || LONE_SURROGATE.test(name))) {
    return JSON.stringify(name);
  }
  return Object.values(value).map(badName).find((bad) => bad !== undefined);
}

/** The lengths of the data digests (`length:sha256`) in a step's value. */
function dataLengths(value: StepValue): number[] {
  if (typeof value === 'string') {
    const digest = /^(\d+):[0-9a-f]{16}$/.exec(value);
    return digest === null ? [] : [Number(digest[1])];
  }
  if (value === null || typeof value !== 'object') return [];
  return (Array.isArray(value) ? value : Object.values(value)).flatMap(dataLengths);
}

const IN_PLACE: ReadonlySet<string> = new Set(['bitflip', 'byte', 'field', 'credits', 'messageId', 'command', 'status', 'flags', 'truncate']);

/** Judges one run against the unmutated replay's results. */
export function judge(baseline: readonly StepResult[], observed: Observed, mutation: Mutation | undefined): Verdict {
  if (observed.crashes.length > 0) return { outcome: 'crash', detail: observed.crashes[0]! };
  const allocation = observed.largeAllocations[0];
  if (allocation !== undefined) return { outcome: 'largeAllocation', detail: `Buffer.${allocation.via}(${allocation.size}) at ${allocation.at}` };
  if (observed.hung !== undefined) return { outcome: 'hang', detail: `step "${observed.hung}" did not settle within ${STEP_BOUND_MS} ms (client timeout ${FUZZ_TIMEOUT_MS} ms)` };
  const failing = observed.results.find((r) => !r.ok);
  if (failing !== undefined && !failing.ok && !failing.error.typed) {
    return { outcome: 'untyped', detail: `step "${failing.step}" threw ${failing.error.name}: ${failing.error.message}` };
  }
  for (const result of observed.results) {
    if (!result.ok) continue;
    const bad = badName(result.value);
    if (bad !== undefined) return { outcome: 'wronglyAccepted', detail: `step "${result.step}" returned the name ${bad}` };
  }
  const changed = observed.results.find((result, i) => {
    const expected = baseline[i];
    return result.ok && expected?.ok === true && JSON.stringify(result.value) !== JSON.stringify(expected.value);
  });
  if (changed !== undefined && changed.ok) {
    const expected = baseline.find((r) => r.step === changed.step);
    const detail = `step "${changed.step}" returned ${JSON.stringify(changed.value)}, the unmutated replay ${JSON.stringify(expected?.ok === true ? expected.value : null)}`;
    if (mutation?.payloadOnly === true) return { outcome: 'payloadChanged', detail };
    const lengthChanged = JSON.stringify(dataLengths(changed.value)) !== JSON.stringify(dataLengths(expected?.ok === true ? expected.value : null));
    if (mutation?.consistent === true && !lengthChanged) return { outcome: 'payloadChanged', detail: `${detail} (a well-formed frame)` };
    return { outcome: 'wronglyAccepted', detail };
  }
  if (failing === undefined || failing.ok) return { outcome: 'absorbed', detail: 'every step returned what the unmutated replay did' };
  const error = failing.error;
  const reported = `step "${failing.step}": ${error.name}${error.cause === null ? '' : ` (cause ${error.cause})`}: ${error.message}`;
  if (mutation !== undefined) {
    if (mutation.closes && error.name !== 'TransportError' && error.name !== 'ProtocolError') {
      return { outcome: 'misreported', detail: `the server ended the connection, but ${reported}` };
    }
    if (mutation.timeoutOn.length > 0 && (error.name !== 'TimeoutError' || !mutation.timeoutOn.includes(error.command ?? ''))) {
      return { outcome: 'misreported', detail: `no response to ${mutation.timeoutOn.join('+')} came in time, but ${reported}` };
    }
    // A step is one client call (scenario.ts): the call that got the mutated frame must report
    // the error it raised; a later call finds the connection closed, and says so.
    const sameStep = observed.stepOfExchange.get(mutation.exchange) === failing.step;
    if (IN_PLACE.has(mutation.kind) && sameStep && error.name === 'TransportError' && error.cause !== null && error.cause !== 'TransportError') {
      return { outcome: 'misreported', detail: `the first error was a ${error.cause}, but ${reported}` };
    }
  }
  return { outcome: 'rejected', detail: reported };
}
