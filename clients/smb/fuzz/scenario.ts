/**
 * The operations a recorded session performs, step by step, and what each returned, in a
 * form two runs can be compared by (hashes for data, plain numbers for stats). The recorder runs
 * them against smbd; every fuzz run runs them against the replay.
 */
import { createHash } from 'node:crypto';
import { SmbClient } from '../client.js';
import type { SmbClientOptions } from '../client.js';
import { SmbError } from '../errors.js';
import type { FileHandle } from '../file.js';
import type { FileStat } from '../handles.js';
import type { Tree } from '../tree.js';

/** Files the recorder puts in the share before the session (the scenario reads them). */
export const SHARE_FILES: Record<string, Buffer> = {
  'fuzz/small.txt': Buffer.from(Array.from({ length: 150 }, (_, i) => `small line ${String(i).padStart(4, '0')} of the fuzz recording\n`).join('')),
  'fuzz/big.bin': Buffer.from(Array.from({ length: 1500 }, (_, i) => `big ${String(i).padStart(5, '0')}:${'abcdefghijklmnopqrstuvwxyz'.slice(i % 26)}${'0123456789'.repeat(2).slice(0, 20 - (i % 7))}\n`).join('').padEnd(70_000, '.')),
};
export const SHARE_DIRECTORIES = ['fuzz', 'fuzz/sub'];
export const WRITTEN = Buffer.from('written by the fuzz recording\n'.repeat(40));

export type StepValue = string | number | boolean | null | StepValue[] | { [key: string]: StepValue };

export type StepResult =
  | { step: string; ok: true; value: StepValue }
  | { step: string; ok: false; error: StepError };

export interface StepError {
  name: string;
  code: string | null;
  typed: boolean;
  message: string;
  /** SmbError.command */
  command: string | null;
  /** The name of the error's `cause`, when it has one. */
  cause: string | null;
}

interface State {
  /** The share the scenario works in. */
  share: string;
  client?: SmbClient;
  tree?: Tree;
  handle?: FileHandle;
}

export interface Step {
  name: string;
  run(state: State, connect: () => Promise<SmbClient>): Promise<StepValue>;
}

function digest(data: Buffer): string {
  return `${data.length}:${createHash('sha256').update(data).digest('hex').slice(0, 16)}`;
}

function statValue(stat: FileStat): StepValue {
  return {
    name: stat.name, size: stat.size, allocationSize: stat.allocationSize, isDirectory: stat.isDirectory, attributes: stat.attributes,
    times: [stat.birthtime, stat.atime, stat.mtime, stat.ctime].map((t) => t.getTime()), fileId: stat.fileId?.toString() ?? null,
  };
}

function tree(state: State): Tree {
  if (state.tree === undefined) throw new Error('fuzz scenario: no tree (an earlier step failed)');
  return state.tree;
}

function handle(state: State): FileHandle {
  if (state.handle === undefined) throw new Error('fuzz scenario: no open file (an earlier step failed)');
  return state.handle;
}

/**
 * One client call per step: the oracle attributes an error to the call that received the
 * mutated frame (a second call in one step could fail for a frame the first had accepted).
 */
export const STEPS: Step[] = [
  {
    name: 'connect',
    async run(state, connect) {
      const client = await connect();
      state.client = client;
      const n = client.negotiated;
      return { dialect: n.dialect, isGuest: n.isGuest, isAnonymous: n.isAnonymous, signingOn: n.signingOn, encryptionOn: n.encryptionOn };
    },
  },
  {
    name: 'connectTree',
    async run(state) {
      state.tree = await state.client!.connectTree(state.share);
      return { encrypted: state.tree.shareEncrypted };
    },
  },
  { name: 'readdir', run: async (state) => (await tree(state).readdir('fuzz', { withFileTypes: true })).map(statValue).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) },
  { name: 'stat', run: async (state) => statValue(await tree(state).stat('fuzz/small.txt')) },
  { name: 'readFile small', run: async (state) => digest(await tree(state).readFile('fuzz/small.txt')) },
  { name: 'readFile big', run: async (state) => digest(await tree(state).readFile('fuzz/big.bin')) },
  {
    name: 'read stream',
    async run(state) {
      const chunks: Buffer[] = [];
      for await (const chunk of tree(state).createReadStream('fuzz/big.bin', { start: 1000, end: 9999 })) chunks.push(chunk as Buffer);
      return digest(Buffer.concat(chunks));
    },
  },
  { name: 'writeFile', run: async (state) => (await tree(state).writeFile('fuzz/new.txt', WRITTEN), null) },
  {
    name: 'open',
    async run(state) {
      state.handle = await tree(state).open('fuzz/small.txt', 'r+');
      return { size: state.handle.sizeAtOpen };
    },
  },
  {
    name: 'handle read',
    async run(state) {
      const buffer = Buffer.alloc(8192);
      const read = await handle(state).read(buffer, 0);
      return { read, data: digest(buffer.subarray(0, read)) };
    },
  },
  { name: 'handle write', run: async (state) => handle(state).write(Buffer.from('patched'), 10) },
  { name: 'handle stat', run: async (state) => statValue(await handle(state).stat()) },
  { name: 'handle close', run: async (state) => (await handle(state).close(), null) },
  { name: 'exists missing', run: async (state) => tree(state).exists('fuzz/missing.txt') },
  { name: 'exists new', run: async (state) => tree(state).exists('fuzz/new.txt') },
  { name: 'rename', run: async (state) => (await tree(state).rename('fuzz/new.txt', 'fuzz/renamed.txt'), null) },
  { name: 'unlink', run: async (state) => (await tree(state).unlink('fuzz/renamed.txt'), null) },
  { name: 'mkdir', run: async (state) => (await tree(state).mkdir('fuzz/made'), null) },
  { name: 'rmdir', run: async (state) => (await tree(state).rmdir('fuzz/made'), null) },
  { name: 'tree disconnect', run: async (state) => (await tree(state).disconnect(), null) },
  { name: 'logoff', run: async (state) => (await state.client!.logoff(), null) },
];

export function errorResult(step: string, error: unknown): StepResult {
  const typed = error instanceof SmbError;
  const name = error instanceof Error ? error.name : typeof error;
  const code = typed ? error.code : null;
  const message = error instanceof Error ? error.message : String(error);
  const command = typed ? error.command ?? null : null;
  const cause = error instanceof Error && error.cause !== undefined ? (error.cause instanceof Error ? error.cause.name : typeof error.cause) : null;
  return { step, ok: false, error: { name, code, typed, message, command, cause } };
}

export interface ScenarioOutcome {
  results: StepResult[];
  /** The step that did not settle within the bound, if one did not. */
  hung?: string;
}

/**
 * Runs the steps in order until one fails or does not settle within `stepBoundMs`; the
 * client is closed at the end whatever happened (with it any file left open).
 */
export async function runScenario(options: SmbClientOptions, share: string, stepBoundMs: number, onStep?: (step: string) => void): Promise<ScenarioOutcome> {
  const state: State = { share };
  const results: StepResult[] = [];
  const connect = () => SmbClient.connect(options);
  try {
    for (const step of STEPS) {
      onStep?.(step.name);
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), stepBoundMs)));
      const running = step.run(state, connect).then(
        (value): StepResult => ({ step: step.name, ok: true, value }),
        (error: unknown) => errorResult(step.name, error),
      );
      const settled = await Promise.race([running, bound]);
      clearTimeout(timer);
      if (settled === 'hung') return { results, hung: step.name };
      results.push(settled);
      if (!settled.ok) break;
    }
    return { results };
  } finally {
    await state.client?.close();
  }
}
