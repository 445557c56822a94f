/** Escaping for every output format; reports carry server messages and file names verbatim. */

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text and attribute values in HTML. */
export function escapeHtml(text: string): string {
  return stripControlCharacters(text).replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}

/** Text and attribute values in XML 1.0: also drops characters XML 1.0 cannot carry at all. */
export function escapeXml(text: string): string {
  return escapeHtml(text);
}

/** ANSI colour sequences (Playwright's expect messages carry them). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
}

/** Removes ANSI sequences, then every C0 control character except tab, newline and carriage return (invalid in XML 1.0). */
export function stripControlCharacters(text: string): string {
  // eslint-disable-next-line no-control-regex
  return stripAnsi(text).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');
}

/**
 * Inline Markdown text: characters with a meaning in GitHub Markdown are backslash-escaped, lines
 * joined. `#`, `+`, `-` and `!` mean something only where a line starts (a heading, a list item;
 * `!` only before `[`, which is escaped), so they are escaped there only: `4.22.3+dfsg` stays
 * readable. Parentheses make a link only after `]`, which is escaped, so they stay too.
 */
export function escapeMarkdown(text: string): string {
  return stripControlCharacters(text)
    .replace(/\r?\n/g, ' ')
    .replace(/[\\`*_{}[\]<>|~]/g, (c) => `\\${c}`)
    .replace(/^[#+\-!]/, (c) => `\\${c}`);
}

/** A URL for a run-relative path: each segment percent-encoded. */
export function hrefForPath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** Only http(s) links from user data become links; anything else stays text. */
export function isWebLink(link: string): boolean {
  return /^https?:\/\/[^\s]+$/i.test(link);
}

/** The first line of a message, at most `max` characters. */
export function firstLine(text: string, max = 200): string {
  const line = stripControlCharacters(text).split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
