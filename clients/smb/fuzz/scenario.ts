/**
 * The operations a recorded session performs, step by step, and what each returned, in a
 * form two runs can be compared by (hashes for data, plain numbers for stats). The recorder runs
 * them against smbd; every fuzz run runs them against the replay.
 */
import { createHash } from 'node:crypto';
import { SmbClient } from '../client.js';
import type { SmbClientOptions } from '../client.js';
import { SmbError } from '../errors.js';
import type { FileStat } from '../handles.js';
import type { Tree } from '../tree.js';

/** Files the recorder puts in the share before the session (the scenario reads them). */
export const SHARE_FILES: Record<string, Buffer> = {
  'fuzz/small.txt': Buffer.from(Array.from({ length: 150 }, (_, i) => `small line ${String(i).padStart(4, '0')} of the fuzz recording\n`).join('')),
  'fuzz/big.bin': Buffer.from(Array.from({ length: 1500 }, (_, i) => `big ${String(i).padStart(5, '0')}:${'abcdefghijklmnopqrstuvwxyz'.slice(i % 26)}${'0123456789'.repeat(2).slice(0, 20 - (i % 7))}\n`).join('').padEnd(70_000, '.')),
};
export const SHARE_DIRECTORIES = ['fuzz', 'fuzz/sub'];
export const SHARE = 'data';
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
  client?: SmbClient;
  tree?: Tree;
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
      state.tree = await state.client!.connectTree(SHARE);
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
    name: 'handle',
    async run(state) {
      const handle = await tree(state).open('fuzz/small.txt', 'r+');
      let value: StepValue;
      try {
        const buffer = Buffer.alloc(8192);
        const read = await handle.read(buffer, 0);
        const written = await handle.write(Buffer.from('patched'), 10);
        const stat = await handle.stat();
        value = { read, data: digest(buffer.subarray(0, read)), written, stat: statValue(stat) };
      } catch (error) {
        // The first error is the one to report, not the CLOSE's that follows it (a `finally` would replace it).
        await handle.close().catch(() => {});
        throw error;
      }
      await handle.close();
      return value;
    },
  },
  { name: 'exists', run: async (state) => [await tree(state).exists('fuzz/missing.txt'), await tree(state).exists('fuzz/new.txt')] },
  {
    name: 'rename and unlink',
    async run(state) {
      await tree(state).rename('fuzz/new.txt', 'fuzz/renamed.txt');
      await tree(state).unlink('fuzz/renamed.txt');
      return null;
    },
  },
  {
    name: 'mkdir and rmdir',
    async run(state) {
      await tree(state).mkdir('fuzz/made');
      await tree(state).rmdir('fuzz/made');
      return null;
    },
  },
  {
    name: 'disconnect',
    async run(state) {
      await tree(state).disconnect();
      await state.client!.logoff();
      return null;
    },
  },
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
 * client is closed at the end whatever happened.
 */
export async function runScenario(options: SmbClientOptions, stepBoundMs: number, onStep?: (step: string) => void): Promise<ScenarioOutcome> {
  const state: State = {};
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
