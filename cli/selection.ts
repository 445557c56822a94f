/** Turns the user's --targets/--scenarios/--clients into names the listing knows, or says which one is wrong. */
import { globToRegExp, isGlob } from '../matrix/glob.js';
import { unknownNameMessage } from './suggest.js';

/** A mistake in what the user typed; the CLI prints it and exits 2. */
export class UsageError extends Error {
  readonly code = 'SMB_INTEROP_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function splitList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

export const PROVIDERS = ['native', 'container', 'remote', 'all'] as const;
export type ProviderChoice = (typeof PROVIDERS)[number];

/**
 * Targets matching the patterns: a pattern with `@` matches the whole name, one without matches
 * the profile part (`smb311-*` selects `smb311-gcm@native`, `smb311-gcm@samba-4.22`, ...). No
 * pattern: every target. `known` is what the config generates for the chosen providers.
 */
export function selectTargets(patterns: readonly string[], known: readonly string[]): string[] {
  if (known.length === 0) throw new UsageError('the configuration defines no target for the chosen providers');
  if (patterns.length === 0) return [...known];
  const selected = new Set<string>();
  for (const pattern of patterns) {
    const re = globToRegExp(pattern);
    const matches = known.filter((t) => re.test(t) || (!pattern.includes('@') && re.test(t.slice(0, t.lastIndexOf('@')))));
    if (matches.length === 0) {
      throw new UsageError(isGlob(pattern) ? `target pattern "${pattern}" matches no target; known: ${known.join(', ')}` : unknownNameMessage('target', pattern, known));
    }
    for (const m of matches) selected.add(m);
  }
  return known.filter((t) => selected.has(t));
}

/** Scenario ids matching the globs; a pattern matching none is an error with near matches. */
export function selectScenarios(patterns: readonly string[], known: readonly string[]): string[] {
  const unique = [...new Set(known)];
  if (patterns.length === 0) return unique;
  const selected = new Set<string>();
  for (const pattern of patterns) {
    const re = globToRegExp(pattern);
    const matches = unique.filter((id) => re.test(id));
    if (matches.length === 0) {
      throw new UsageError(isGlob(pattern) ? `scenario pattern "${pattern}" matches no scenario; known: ${unique.join(', ')}` : unknownNameMessage('scenario', pattern, unique));
    }
    for (const m of matches) selected.add(m);
  }
  return unique.filter((id) => selected.has(id));
}

export function selectClients(wanted: readonly string[], known: readonly string[]): string[] {
  for (const client of wanted) if (!known.includes(client)) throw new UsageError(unknownNameMessage('client', client, known));
  return [...wanted];
}

export function positiveInteger(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(value)) throw new UsageError(`${option} expects a positive whole number, got "${value}"`);
  return Number(value);
}

export function parseShard(value: string | undefined): { current: number; total: number } | undefined {
  if (value === undefined) return undefined;
  const match = /^([1-9][0-9]*)\/([1-9][0-9]*)$/.exec(value);
  const current = Number(match?.[1]);
  const total = Number(match?.[2]);
  if (!match || current > total) throw new UsageError(`--shard expects i/n with 1 <= i <= n (e.g. 2/4), got "${value}"`);
  return { current, total };
}

export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], option: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${option} expects one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}
