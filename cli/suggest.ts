/** "Did you mean" for mistyped target, scenario and client names. */

export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Up to `limit` known names closest to `wanted` (smallest edit distance, or containing it); ties all shown. */
export function nearMatches(wanted: string, known: readonly string[], limit = 3): string[] {
  const w = wanted.toLowerCase().replace(/[*?]/g, '');
  const threshold = Math.max(2, Math.floor(w.length / 3));
  return known
    .map((name) => {
      const n = name.toLowerCase();
      const distance = Math.min(editDistance(w, n), editDistance(w, n.split('@')[0] ?? n));
      return { name, score: w.length >= 3 && n.includes(w) ? 0 : distance };
    })
    .filter((c) => c.score <= threshold)
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
    .filter((c, _, all) => c.score === all[0]?.score)
    .slice(0, limit)
    .map((c) => c.name);
}

/** `unknown target "smb311-gmc"; did you mean smb311-gcm@native?` */
export function unknownNameMessage(kind: string, wanted: string, known: readonly string[]): string {
  const near = nearMatches(wanted, known);
  if (near.length > 0) return `unknown ${kind} "${wanted}"; did you mean ${near.join(', ')}?`;
  const shown = known.length > 12 ? `${known.slice(0, 12).join(', ')}, ...` : known.join(', ');
  return `unknown ${kind} "${wanted}"; known: ${shown || '(none)'}`;
}
