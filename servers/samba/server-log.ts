/**
 * Collects smbd's debug output. Samba starts each entry with a header line such as
 * `[2026/11/25 06:00:26.123456,  1] ../../source3/smbd/server.c:1741(main)`; the lines up to
 * the next header belong to that entry and share its time.
 */

import { continuesKeyDump, endsKeyDump, parseServerKeys, REDACTED_KEY_DUMP, startsKeyDump, wholeDumpKeys, type ServerSessionKeys } from './server-keys.js';

const HEADER = /^\[(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?,\s*\d+/;

interface Entry {
  time: number;
  text: string;
  /** The time came from a Samba header; the lines after it, up to the next header, are its own. */
  headed: boolean;
}

export function parseSambaTimestamp(line: string): number | undefined {
  const m = HEADER.exec(line);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = frac ? Math.floor(Number(frac.padEnd(6, '0')) / 1000) : 0;
  // smbd prints local time.
  return new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms).getTime();
}

export class ServerLog {
  private readonly entries: Entry[] = [];
  private partial = '';
  /** Lines of the session-key dump being read (`debug encryption`): never part of the text. */
  private keyDump: string[] | undefined;
  private readonly keys: ServerSessionKeys[] = [];
  /** Bound on kept text so a chatty server cannot exhaust memory: oldest entries go first. */
  private size = 0;

  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  push(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.addLine(line);
  }

  private addLine(line: string): void {
    if (this.keyDump !== undefined) {
      if (continuesKeyDump(line)) {
        this.keyDump.push(line);
        if (endsKeyDump(line)) this.endKeyDump();
        return;
      }
      this.endKeyDump();
    }
    if (startsKeyDump(line)) {
      this.keyDump = [line];
      line = REDACTED_KEY_DUMP;
    }
    const time = parseSambaTimestamp(line);
    const last = this.entries[this.entries.length - 1];
    // Without headers (smbd --debug-stdout prints none) each line is an entry timed on arrival.
    if (time === undefined && last?.headed === true) last.text += `\n${line}`;
    else this.entries.push({ time: time ?? Date.now(), text: line, headed: time !== undefined });
    this.size += line.length + 1;
    while (this.size > this.maxBytes && this.entries.length > 1) {
      this.size -= (this.entries.shift()?.text.length ?? 0) + 1;
    }
  }

  private endKeyDump(): void {
    if (this.keyDump === undefined) return;
    this.keys.push(...parseServerKeys(this.keyDump.join('\n')));
    this.keyDump = undefined;
  }

  /** The keys of every session the server logged (`debug encryption`), oldest first. Secret. */
  sessionKeys(): ServerSessionKeys[] {
    // A dump still arriving counts once it is whole (a 32-byte key's second row may be on its way).
    const pending = this.keyDump === undefined ? [] : wholeDumpKeys(this.keyDump);
    return [...this.keys, ...pending];
  }

  text(): string {
    // A line still arriving may be a row of a key dump: it is shown once it is known not to be.
    const partial = this.partial !== '' && this.keyDump === undefined && !startsKeyDump(this.partial) ? `\n${this.partial}` : '';
    return this.entries.map((e) => e.text).join('\n') + partial;
  }

  since(since: Date): string {
    // Second granularity of a clock read in another process: keep a small margin.
    const from = since.getTime() - 5;
    return this.entries.filter((e) => e.time >= from).map((e) => e.text).join('\n');
  }

  /** The last `n` lines, for error messages. */
  tail(n = 20): string {
    return this.text().split('\n').slice(-n).join('\n');
  }
}
