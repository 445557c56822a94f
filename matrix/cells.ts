/**
 * From Playwright results to matrix cells: which cell a test is (annotations), what its runs add
 * up to (outcome, pass rate), why it failed (first failing step, NTSTATUS and command). Pure: no
 * I/O, so it is tested on synthetic TestCase/TestResult objects.
 */
import type { TestCase, TestResult, TestStep } from '@playwright/test/reporter';
import { Annotation, Attachment, type TargetFacts } from '../harness/annotations.js';
import { stripAnsi } from './render/escape.js';
import { z } from 'zod';
import { DeclaredSettings, NegotiatedSettings, SpecViolationEntry, type AttachmentKind, type CellError, type CellTiming, type Outcome } from './schema.js';

export interface TestRun {
  test: TestCase;
  result: TestResult;
}

export interface CellIdentity {
  client: string;
  /** The Playwright project name, `<profile>@<provider>`. */
  target: string;
  scenario: string;
  area: string;
  title: string;
  requirements: string[];
  /** What the scenario needs from its client (`operation:rename`). */
  needs: string[];
}

export type AnnotationEntry = { type: string; description?: string };

/** Declared annotations plus those added while the test ran. */
export function annotationsOf(test: TestCase, result?: TestResult): AnnotationEntry[] {
  const all = [...test.annotations, ...(result?.annotations ?? [])];
  const seen = new Set<string>();
  return all.filter((a) => {
    const key = `${a.type}\u0000${a.description ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function lastAnnotation(annotations: AnnotationEntry[], type: string): string | undefined {
  return annotations.filter((a) => a.type === type && a.description !== undefined).at(-1)?.description;
}

function slugify(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'untitled';
}

/** The project (target) name of a test: its title path is ['', project, file, ...describes, title]. */
export function targetOf(test: TestCase): string {
  return test.titlePath()[1] || 'unknown-target';
}

/** A cell key for progress counting, stable before any annotation is known. */
export function progressKey(test: TestCase): string {
  return test.titlePath().slice(1).join('\u0000');
}

/** What names a test: its project (target), file, describe titles, title and annotations. */
export interface TestParts {
  target: string;
  /** Path relative to the test directory. */
  file: string;
  describes: readonly string[];
  title: string;
  annotations: readonly AnnotationEntry[];
}

/**
 * The cell a test is: from the harness's annotations, else derived from where it is (the first
 * describe or the file name as area, the title as scenario slug).
 */
export function identifyParts(parts: TestParts): CellIdentity {
  const { annotations } = parts;
  const fileArea = parts.file.split('/').at(-1)?.replace(/\.(spec|test)\.[cm]?[jt]s$/, '') ?? '';
  const area = lastAnnotation([...annotations], Annotation.area) ?? parts.describes[0] ?? fileArea;
  return {
    client: lastAnnotation([...annotations], Annotation.client) ?? 'unspecified',
    target: parts.target,
    scenario: lastAnnotation([...annotations], Annotation.scenario) ?? `${slugify(area)}/${slugify(parts.title)}`,
    area: slugify(area),
    title: parts.title,
    requirements: annotations.filter((a) => a.type === Annotation.requires && a.description).map((a) => a.description as string),
    needs: annotations.filter((a) => a.type === Annotation.needs && a.description).map((a) => a.description as string),
  };
}

export function identify(test: TestCase, result?: TestResult): CellIdentity {
  const path = test.titlePath();
  return identifyParts({
    target: targetOf(test),
    file: path[2] ?? '',
    describes: path.slice(3, -1),
    title: test.title,
    annotations: annotationsOf(test, result),
  });
}

export interface StatusInMessage {
  statusName: string | null;
  command: string | null;
}

/**
 * `STATUS_ACCESS_DENIED (0xC0000022) on TREE_CONNECT \\h\s` -> STATUS_ACCESS_DENIED, TREE_CONNECT.
 * Only the first line counts: an assertion's diff below it names the status that was expected,
 * not the one that happened.
 */
export function parseStatus(message: string): StatusInMessage {
  const firstLine = stripAnsi(message).trimStart().split('\n')[0] ?? '';
  const match = /\b(STATUS_[A-Z0-9_]+)(?:\s*\((?:0x)?[0-9A-Fa-f]{8}\))?(?:\s+on\s+([A-Z][A-Z0-9_]*))?/.exec(firstLine);
  return { statusName: match?.[1] ?? null, command: match?.[2] ?? null };
}

export function cellError(result: TestResult): CellError | null {
  const error = result.error ?? result.errors[0];
  if (!error) return null;
  const message = stripAnsi(error.message ?? error.value ?? 'unknown error').trim();
  return { message, ...parseStatus(message) };
}

const NAMED_STEP_CATEGORIES = new Set(['test.step', 'hook', 'fixture']);

/**
 * The first failing step, descending into its first failing child while there is one; the path
 * names user steps, hooks and fixtures (not the expect calls inside them, which the error shows).
 */
export function firstFailingStep(result: TestResult): string | null {
  const names: string[] = [];
  let steps: readonly TestStep[] = result.steps;
  let deepest: TestStep | undefined;
  for (;;) {
    const failing = steps.find((s) => s.error !== undefined);
    if (!failing) break;
    deepest = failing;
    if (NAMED_STEP_CATEGORIES.has(failing.category)) names.push(failing.title);
    steps = failing.steps;
  }
  if (names.length > 0) return names.join(' › ');
  // A lone failing expect is not a step worth naming: the error already says what it checked.
  return deepest && deepest.category !== 'expect' ? deepest.title : null;
}

/** A failure that came from starting the target (a worker fixture), not from the client. */
export function infraReason(test: TestCase, result: TestResult): string | null {
  const annotated = lastAnnotation(annotationsOf(test, result), Annotation.infraError);
  if (annotated) return annotated;
  if (result.status === 'interrupted') return 'the run was interrupted before this cell finished';
  if (result.status !== 'failed' && result.status !== 'timedOut') return null;
  const message = stripAnsi(result.error?.message ?? '');
  const firstLine = message.split('\n')[0]?.trim() ?? '';
  if (/^(TargetStartError: )?cannot start \S+:/.test(firstLine)) return firstLine.replace(/^TargetStartError: /, '');
  const inTargetFixture = (steps: readonly TestStep[]): boolean =>
    steps.some((s) => s.error !== undefined && ((s.category === 'fixture' && /\btarget\b/.test(s.title)) || inTargetFixture(s.steps)));
  if (inTargetFixture(result.steps)) return `the target did not start: ${firstLine || 'no message'}`;
  return null;
}

export function skipReason(test: TestCase, result: TestResult): { outcome: Outcome; reason: string } {
  const annotations = annotationsOf(test, result);
  const infra = lastAnnotation(annotations, Annotation.infraError);
  if (infra) return { outcome: 'infra-error', reason: infra };
  const unsupported = lastAnnotation(annotations, Annotation.unsupported);
  if (unsupported) return { outcome: 'unsupported', reason: unsupported };
  const reason =
    lastAnnotation(annotations, Annotation.notApplicable) ??
    lastAnnotation(annotations, Annotation.notConfigured) ??
    lastAnnotation(annotations, 'skip') ??
    lastAnnotation(annotations, 'fixme') ??
    'skipped without a reason';
  return { outcome: 'not-applicable', reason };
}

/** The worker fixture that starts the target (harness/fixtures.ts): its time is the target's, not the cell's. */
const TARGET_START_FIXTURE = 'Fixture "targetState"';

function fixtureTime(steps: readonly TestStep[], title: string): number {
  return steps.reduce((sum, s) => sum + (s.category === 'fixture' && s.title === title ? s.duration : fixtureTime(s.steps, title)), 0);
}

/**
 * Where one run's time went, from Playwright's "Before Hooks" and "After Hooks" steps (the
 * fixtures run inside them); undefined for a run without them (skipped before any hook ran).
 */
export function timingOf(result: TestResult): CellTiming | undefined {
  const before = result.steps.find((s) => s.category === 'hook' && s.title === 'Before Hooks');
  const after = result.steps.find((s) => s.category === 'hook' && s.title === 'After Hooks');
  if (before === undefined) return undefined;
  const targetStartMs = Math.min(before.duration, fixtureTime(before.steps, TARGET_START_FIXTURE));
  const bodyStart = before.startTime.getTime() + before.duration;
  const bodyEnd = after?.startTime.getTime() ?? result.startTime.getTime() + targetStartMs + result.duration;
  return {
    targetStartMs: Math.round(targetStartMs),
    setupMs: Math.round(before.duration - targetStartMs),
    scenarioMs: Math.round(Math.max(0, bodyEnd - bodyStart)),
    teardownMs: Math.round(after?.duration ?? 0),
  };
}

/** Timings added up; undefined when none of them is known. */
export function addTimings(timings: readonly (CellTiming | undefined)[]): CellTiming | undefined {
  const known = timings.filter((t): t is CellTiming => t !== undefined);
  if (known.length === 0) return undefined;
  return known.reduce((sum, t) => ({
    targetStartMs: sum.targetStartMs + t.targetStartMs,
    setupMs: sum.setupMs + t.setupMs,
    scenarioMs: sum.scenarioMs + t.scenarioMs,
    teardownMs: sum.teardownMs + t.teardownMs,
  }));
}

export interface RunsVerdict {
  outcome: Outcome;
  reason: string | null;
  attempts: number;
  passes: number;
  passRate: number | null;
  durationMs: number;
  timing: CellTiming | undefined;
  /** The run whose error, step and traces the cell shows. */
  representative: TestRun;
}

/** Adds up every run of one cell (retries and repetitions) into one outcome. */
export function judgeRuns(runs: readonly TestRun[]): RunsVerdict {
  if (runs.length === 0) throw new Error('a cell needs at least one run');
  const durationMs = runs.reduce((sum, r) => sum + Math.max(0, r.result.duration), 0);
  const timing = addTimings(runs.map((r) => timingOf(r.result)));
  const executed = runs.filter((r) => r.result.status !== 'skipped');
  if (executed.length === 0) {
    const last = runs[runs.length - 1] as TestRun;
    const { outcome, reason } = skipReason(last.test, last.result);
    return { outcome, reason, attempts: runs.length, passes: 0, passRate: outcome === 'infra-error' ? 0 : null, durationMs, timing, representative: last };
  }
  const passes = executed.filter((r) => r.result.status === 'passed').length;
  const attempts = executed.length;
  const failures = executed.filter((r) => r.result.status !== 'passed');
  const base = { attempts, passes, passRate: passes / attempts, durationMs, timing };
  if (failures.length === 0) return { ...base, outcome: 'passed', reason: null, representative: executed[executed.length - 1] as TestRun };
  const firstFailure = failures[0] as TestRun;
  if (passes > 0) return { ...base, outcome: 'flaky', reason: `passed ${passes} of ${attempts} runs`, representative: firstFailure };
  // A run ended by a call the client declared it cannot make: unsupported, not a failure.
  const unsupported = failures.map((r) => ({ run: r, reason: lastAnnotation(annotationsOf(r.test, r.result), Annotation.unsupported) })).find((f) => f.reason !== undefined);
  if (unsupported && unsupported.reason !== undefined) return { ...base, passRate: null, outcome: 'unsupported', reason: unsupported.reason, representative: unsupported.run };
  const infra = failures.map((r) => ({ run: r, reason: infraReason(r.test, r.result) })).find((f) => f.reason !== null);
  if (infra) return { ...base, outcome: 'infra-error', reason: infra.reason, representative: infra.run };
  return { ...base, outcome: 'failed', reason: null, representative: firstFailure };
}

function parseJsonAnnotation(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function negotiatedOf(run: TestRun): NegotiatedSettings | null {
  const parsed = NegotiatedSettings.safeParse(parseJsonAnnotation(lastAnnotation(annotationsOf(run.test, run.result), Annotation.negotiated)));
  return parsed.success ? parsed.data : null;
}

/** A cell's explanation (failed cells) and spec violations (any cell), from the harness's annotations. */
export function explanationOf(run: TestRun, failed: boolean): { explanation?: string[]; specViolations?: SpecViolationEntry[] } {
  const annotations = annotationsOf(run.test, run.result);
  const out: { explanation?: string[]; specViolations?: SpecViolationEntry[] } = {};
  const lines = z.array(z.string()).safeParse(parseJsonAnnotation(lastAnnotation(annotations, Annotation.explanation)));
  if (failed && lines.success && lines.data.length > 0) out.explanation = lines.data;
  const violations = z.array(SpecViolationEntry).safeParse(parseJsonAnnotation(lastAnnotation(annotations, Annotation.specViolations)));
  if (violations.success && violations.data.length > 0) out.specViolations = violations.data;
  return out;
}

const ProofAnnotation = z.object({ checked: z.array(z.string()), unchecked: z.array(z.string()) });

/** What the cell's proof of configuration checked and could not check (the differences are in its error). */
export function proofOf(run: TestRun): { proof?: { checked: string[]; unchecked: string[] } } {
  const parsed = ProofAnnotation.safeParse(parseJsonAnnotation(lastAnnotation(annotationsOf(run.test, run.result), Annotation.proof)));
  return parsed.success ? { proof: { checked: parsed.data.checked, unchecked: parsed.data.unchecked } } : {};
}

export interface TargetFactsSeen {
  profile: string;
  provider: string;
  serverVersion: string | null;
  declared: DeclaredSettings | null;
  impairment: string | null;
}

export function targetFactsOf(run: TestRun): TargetFactsSeen | null {
  const facts = parseJsonAnnotation(lastAnnotation(annotationsOf(run.test, run.result), Annotation.target)) as Partial<TargetFacts> | undefined;
  if (!facts || typeof facts !== 'object') return null;
  const declared = DeclaredSettings.safeParse(facts.declared);
  return {
    profile: typeof facts.profile === 'string' ? facts.profile : '',
    provider: typeof facts.provider === 'string' ? facts.provider : '',
    serverVersion: typeof facts.serverVersion === 'string' ? facts.serverVersion : null,
    declared: declared.success ? declared.data : null,
    impairment: typeof facts.impairment === 'string' ? facts.impairment : null,
  };
}

export function annotationText(run: TestRun, type: string): string | null {
  return lastAnnotation(annotationsOf(run.test, run.result), type) ?? null;
}

const KIND_BY_NAME: ReadonlyMap<string, AttachmentKind> = new Map(
  (Object.entries(Attachment) as [AttachmentKind, string][]).map(([kind, name]) => [name, kind]),
);

/** The harness's trace attachments on a result (first of each name), by matrix attachment kind. */
export function traceAttachments(result: TestResult): { kind: AttachmentKind; name: string; path?: string; body?: Buffer }[] {
  const found = new Map<AttachmentKind, { kind: AttachmentKind; name: string; path?: string; body?: Buffer }>();
  for (const a of result.attachments) {
    const kind = KIND_BY_NAME.get(a.name);
    if (!kind || found.has(kind) || (!a.path && !a.body)) continue;
    found.set(kind, { kind, name: a.name, ...(a.path ? { path: a.path } : {}), ...(a.body ? { body: a.body } : {}) });
  }
  return [...found.values()];
}

/** Directory name of a scenario inside a cell path: `files/round-trip` -> `files--round-trip`. */
export function scenarioSlug(scenario: string): string {
  return scenario.split('/').map(pathSegment).join('--');
}

/** A path segment safe on every filesystem and in URLs, keeping the readable `@`. */
export function pathSegment(name: string): string {
  return name.replace(/[^A-Za-z0-9._@-]+/g, '-').replace(/^\.+/, '_') || '_';
}
