import { OUTCOMES, type Cell, type Matrix, type Outcome, type TargetInfo } from '../schema.js';

/** Labels and colours of outcomes, shared by every renderer. */
export const OUTCOME_LABEL: Readonly<Record<Outcome, string>> = {
  passed: 'passed',
  failed: 'failed',
  'expected-failure': 'expected failure',
  'unexpected-pass': 'unexpected pass',
  'not-applicable': 'not applicable',
  'infra-error': 'infra error',
  flaky: 'flaky',
  unsupported: 'unsupported',
};

export const OUTCOME_COLOR: Readonly<Record<Outcome, string>> = {
  passed: '#2e7d32',
  failed: '#c62828',
  'expected-failure': '#8d6e63',
  'unexpected-pass': '#d81b60',
  'not-applicable': '#9e9e9e',
  'infra-error': '#5e35b1',
  flaky: '#f9a825',
  unsupported: '#607d8b',
};

export type OutcomeCounts = Record<Outcome, number>;

export function countOutcomes(cells: readonly Cell[]): OutcomeCounts {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as OutcomeCounts;
  for (const cell of cells) counts[cell.outcome]++;
  return counts;
}

/** `6 passed, 1 failed, ...`, naming only outcomes that occur. */
export function describeCounts(counts: OutcomeCounts): string {
  const parts = OUTCOMES.filter((o) => counts[o] > 0).map((o) => `${counts[o]} ${OUTCOME_LABEL[o]}`);
  return parts.length > 0 ? parts.join(', ') : 'no cells';
}

export interface TargetSummary {
  target: TargetInfo;
  counts: OutcomeCounts;
  total: number;
  /** What the target declares; what its first cell negotiated when it declares nothing. */
  dialect: string;
  cipher: string;
  signing: string;
}

/** The signing algorithm, marked when the session neither signs nor encrypts (signing optional and unused). */
function signingOf(settings: { signingAlgorithm: string | null; signing: boolean; encryption: boolean }): string {
  if (settings.signingAlgorithm === null) return settings.signing ? 'yes' : 'none';
  return settings.signing || settings.encryption ? settings.signingAlgorithm : `${settings.signingAlgorithm} (not in use)`;
}

/** A target's name as the reports show it: an impaired variant says what link it is reached over. */
export function targetLabel(target: { name: string; impairment?: string | null }): string {
  return target.impairment ? `${target.name} (impaired link: ${target.impairment})` : target.name;
}

export function summarizeTargets(matrix: Matrix): TargetSummary[] {
  return matrix.targets.map((target) => {
    const cells = matrix.cells.filter((c) => c.target === target.name);
    const negotiated = cells.map((c) => c.negotiated).find((n) => n !== null) ?? null;
    const settings = target.declared ?? negotiated;
    return {
      target,
      counts: countOutcomes(cells),
      total: cells.length,
      dialect: settings?.dialect ?? 'unknown',
      cipher: settings ? (settings.cipher ?? 'none') : 'unknown',
      signing: settings ? signingOf(settings) : 'unknown',
    };
  });
}

/** One client on one target: how its cells came out. */
export interface ClientTargetSummary {
  client: string;
  target: string;
  counts: OutcomeCounts;
  total: number;
  /** Cells that went wrong for the client (failed and unexpected pass). */
  failed: number;
}

/** Per client, per target (in the matrix's order): the counts the report leads with. */
export function summarizeClientsByTarget(matrix: Matrix): ClientTargetSummary[][] {
  return matrix.clients.map((client) =>
    matrix.targets.map((target) => {
      const counts = countOutcomes(matrix.cells.filter((c) => c.client === client && c.target === target.name));
      const total = OUTCOMES.reduce((sum, o) => sum + counts[o], 0);
      return { client, target: target.name, counts, total, failed: counts.failed + counts['unexpected-pass'] };
    }),
  );
}

/**
 * `12 passed · 1 failed · 3 unsupported`: passed, failed (with unexpected passes) and unsupported
 * always, then any other outcome that occurs; `–` when the client ran nothing there.
 */
export function describeClientTarget(s: ClientTargetSummary): string {
  if (s.total === 0) return '–';
  const parts = [`${s.counts.passed} passed`, `${s.failed} failed`, `${s.counts.unsupported} unsupported`];
  for (const o of ['infra-error', 'flaky', 'expected-failure', 'not-applicable'] as const) if (s.counts[o] > 0) parts.push(`${s.counts[o]} ${OUTCOME_LABEL[o]}`);
  return parts.join(' · ');
}

/** The outcome that colours a client x target summary: the worst one present. */
export function worstOutcome(s: ClientTargetSummary): Outcome | null {
  for (const o of ['failed', 'unexpected-pass', 'infra-error', 'flaky', 'unsupported', 'expected-failure', 'passed', 'not-applicable'] as const) if (s.counts[o] > 0) return o;
  return null;
}

/** A short error line: `STATUS_X on COMMAND` when known, else the message's first line. */
export function errorHeadline(cell: Cell): string | null {
  if (!cell.error) return null;
  if (cell.error.statusName) return `${cell.error.statusName}${cell.error.command ? ` on ${cell.error.command}` : ''}`;
  return (cell.error.message.split('\n')[0] ?? '').replace(/^Error: /, '');
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

export function runDurationMs(matrix: Matrix): number {
  return Date.parse(matrix.run.end) - Date.parse(matrix.run.start);
}
