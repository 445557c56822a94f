/**
 * Assembles a Matrix from the runs a Playwright run produced: groups runs into cells, judges each,
 * and says which trace files go where under the run directory. No I/O: the reporter copies.
 */
import { Annotation, ClientId } from '../harness/annotations.js';
import {
  annotationText,
  cellError,
  explanationOf, proofOf,
  firstFailingStep,
  identify,
  judgeRuns,
  negotiatedOf,
  pathSegment,
  scenarioSlug,
  targetFactsOf,
  traceAttachments,
  type CellIdentity,
  type TargetFactsSeen,
  type TestRun,
} from './cells.js';
import { withDivergences } from './divergence.js';
import { applyExpectations, type ExpectationEntry } from './expectations.js';
import { SCHEMA_VERSION, cellKey, type Cell, type CellAttachments, type DeclaredSettings, type Matrix, type RunInfo, type ScenarioInfo, type TargetInfo } from './schema.js';

/** A trace to place in the run directory: from a file or an in-memory body, to a run-relative path. */
export interface TraceCopy {
  from: { path: string } | { body: Buffer };
  to: string;
}

export interface BuildInput {
  runs: readonly TestRun[];
  run: Omit<RunInfo, 'sambaVersions' | 'expiredExpectations'>;
  /** Targets selected for the run (Playwright projects), in order; targets seen only in results are added. */
  targets: readonly string[];
  expectations: readonly ExpectationEntry[];
  /** What each profile declares, for targets none of whose tests reported it. */
  declaredByProfile?: ReadonlyMap<string, DeclaredSettings>;
  /** How a run-relative path is shown in commands printed for the user (e.g. `results/<id>/...`). */
  displayPath?: (runRelative: string) => string;
  now: Date;
}

export interface BuiltMatrix {
  matrix: Matrix;
  copies: TraceCopy[];
}

function splitTargetName(name: string): { profile: string; provider: string } {
  const at = name.lastIndexOf('@');
  return at > 0 ? { profile: name.slice(0, at), provider: name.slice(at + 1) } : { profile: name, provider: 'unknown' };
}

/** Built-in clients first, in their order; others by name. */
const KNOWN_CLIENTS: readonly string[] = Object.values(ClientId);

function clientOrder(a: string, b: string): number {
  const ia = KNOWN_CLIENTS.indexOf(a);
  const ib = KNOWN_CLIENTS.indexOf(b);
  return (ia < 0 ? KNOWN_CLIENTS.length : ia) - (ib < 0 ? KNOWN_CLIENTS.length : ib) || a.localeCompare(b);
}

function defaultRepro(id: CellIdentity): string {
  return `npx smb-interop repro ${id.target} ${id.scenario} --client ${id.client}`;
}

const KEY_OPTION = /-o\s+'?uat:smb2_seskey_list:[0-9A-Fa-f,]*'?/g;

function shellQuote(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The harness's Wireshark command made fit for a report: it points at the copied trace files,
 * and session keys written inline are replaced by reading them from the key file (keys live
 * only in that file, never in a report).
 */
export function wiresharkForReport(
  command: string,
  traces: readonly { kind: string; name: string; path?: string }[],
  placed: CellAttachments,
  display: (runRelative: string) => string,
): string {
  const keys = placed.keys ? shellQuote(display(placed.keys)) : null;
  const fromKeyFile = keys ? `$(grep -E '^[0-9A-Fa-f]' ${keys} | sed 's/^/-o uat:smb2_seskey_list:/')` : '<session keys: see the key file>';
  let result = command
    .split('\n')
    .map((line) => {
      let first = true;
      return line.replace(KEY_OPTION, () => (first ? ((first = false), fromKeyFile) : '')).replace(/\s+$/, '');
    })
    .join('\n');
  for (const t of traces) {
    const to = placed[t.kind as keyof CellAttachments];
    if (!to) continue;
    const shown = shellQuote(display(to));
    if (t.path) result = result.split(t.path).join(shown);
    result = result.replace(new RegExp(`(^|[\\s'"=])${t.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=[\\s'"]|$)`, 'gm'), (_m, lead: string) => `${lead}${shown}`);
  }
  return result;
}

export function buildMatrix(input: BuildInput): BuiltMatrix {
  const groups = new Map<string, { identity: CellIdentity; runs: TestRun[] }>();
  for (const run of input.runs) {
    const identity = identify(run.test, run.result);
    const key = cellKey(identity);
    const group = groups.get(key) ?? { identity, runs: [] };
    group.runs.push(run);
    groups.set(key, group);
  }

  const copies: TraceCopy[] = [];
  const facts = new Map<string, TargetFactsSeen>();
  const scenarios = new Map<string, ScenarioInfo>();
  const display = input.displayPath ?? ((p: string) => p);
  const rawCells: Cell[] = [];

  for (const { identity, runs } of groups.values()) {
    for (const run of runs) {
      const seen = targetFactsOf(run);
      if (seen && !facts.has(identity.target)) facts.set(identity.target, seen);
    }
    if (!scenarios.has(identity.scenario)) {
      scenarios.set(identity.scenario, {
        id: identity.scenario,
        area: identity.area,
        title: identity.title,
        requirements: identity.requirements,
        ...(identity.needs.length > 0 ? { needs: identity.needs } : {}),
      });
    }
    const verdict = judgeRuns(runs);
    const rep = verdict.representative;
    const dir = `cells/${pathSegment(identity.target)}/${pathSegment(identity.client)}/${scenarioSlug(identity.scenario)}`;
    const attachments: CellAttachments = {};
    let wireshark = annotationText(rep, Annotation.wireshark);
    for (const a of traceAttachments(rep.result)) {
      const to = `${dir}/${pathSegment(a.name)}`;
      attachments[a.kind] = to;
      copies.push({ from: a.path ? { path: a.path } : { body: a.body ?? Buffer.alloc(0) }, to });
    }
    if (wireshark) wireshark = wiresharkForReport(wireshark, traceAttachments(rep.result), attachments, display);
    const negotiated = negotiatedOf(rep) ?? runs.map(negotiatedOf).find((n) => n !== null) ?? null;
    const failed = verdict.outcome !== 'passed' && verdict.outcome !== 'not-applicable' && verdict.outcome !== 'unsupported';
    rawCells.push({
      client: identity.client,
      target: identity.target,
      scenario: identity.scenario,
      outcome: verdict.outcome,
      reason: verdict.reason,
      attempts: verdict.attempts,
      passes: verdict.passes,
      passRate: verdict.passRate,
      durationMs: Math.round(verdict.durationMs),
      ...(verdict.timing === undefined ? {} : { timing: verdict.timing }),
      negotiated,
      failingStep: failed ? firstFailingStep(rep.result) : null,
      error: failed ? cellError(rep.result) : null,
      ...explanationOf(rep, failed),
      ...proofOf(rep),
      attachments,
      repro: annotationText(rep, Annotation.repro) ?? defaultRepro(identity),
      wireshark,
      expectation: null,
    });
  }

  const { cells, expired } = applyExpectations(withDivergences(rawCells, groups.values(), facts), input.expectations, input.now);
  const targetNames = [...new Set([...input.targets, ...cells.map((c) => c.target)])];
  const targets: TargetInfo[] = targetNames.map((name) => {
    const seen = facts.get(name);
    const split = splitTargetName(name);
    const profile = seen?.profile || split.profile;
    return {
      name,
      profile,
      provider: seen?.provider || split.provider,
      declared: seen?.declared ?? input.declaredByProfile?.get(profile) ?? null,
      serverVersion: seen?.serverVersion ?? null,
      ...(seen?.impairment ? { impairment: seen.impairment } : {}),
    };
  });
  const sambaVersions = Object.fromEntries(targets.filter((t) => t.serverVersion !== null).map((t) => [t.name, t.serverVersion as string]));
  const order = new Map(targetNames.map((n, i) => [n, i]));
  const clients = [...new Set(cells.map((c) => c.client))].sort(clientOrder);
  const sortedScenarios = [...scenarios.values()].sort((a, b) => a.id.localeCompare(b.id));
  const scenarioOrder = new Map(sortedScenarios.map((s, i) => [s.id, i]));
  cells.sort(
    (a, b) =>
      clientOrder(a.client, b.client) || (order.get(a.target) ?? 0) - (order.get(b.target) ?? 0) || (scenarioOrder.get(a.scenario) ?? 0) - (scenarioOrder.get(b.scenario) ?? 0),
  );
  return {
    matrix: {
      schemaVersion: SCHEMA_VERSION,
      run: { ...input.run, sambaVersions, expiredExpectations: expired },
      clients,
      targets,
      scenarios: sortedScenarios,
      cells,
    },
    copies,
  };
}
