import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { expect, test } from '@playwright/test';
import { spawnBackend, spawnProcess, useChildProcessSpawn, type SpawnedProcess, type SpawnOptions } from './spawn.js';

interface Ended {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The events in the order they came. */
  events: string[];
}

/** Runs `sh -c script` to its 'close' (10 s at most) and gathers what it printed. */
function run(script: string, options: SpawnOptions = {}, input?: string): Promise<Ended> {
  const child = spawnProcess('sh', ['-c', script], options);
  return ended(child, input);
}

function ended(child: SpawnedProcess, input?: string): Promise<Ended> {
  const result: Ended = { stdout: '', stderr: '', code: null, signal: null, events: [] };
  child.stdout?.on('data', (d: Buffer) => (result.stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (result.stderr += d.toString()));
  // A program may end before it reads its input: the write then fails, as it would for any caller.
  child.stdin?.on('error', () => undefined);
  if (input !== undefined) child.stdin?.end(input);
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no 'close' within 10 s: ${JSON.stringify(result)}`)), 10_000);
    child.on('error', (e: Error) => result.events.push(`error ${e.message}`));
    child.on('exit', () => result.events.push('exit'));
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      result.events.push('close');
      Object.assign(result, { code, signal });
      done(result);
    });
  });
}

function statusMask(status: string, field: 'SigIgn' | 'SigBlk'): bigint {
  const hex = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1];
  if (hex === undefined) throw new Error(`no ${field} in ${status}`);
  return BigInt(`0x${hex}`);
}

test('client processes start with posix_spawn (npm run build:native), unless SMB_INTEROP_NATIVE_SPAWN=0', () => {
  if (process.env.SMB_INTEROP_NATIVE_SPAWN === '0') expect(spawnBackend).toEqual({ name: 'child_process', reason: 'SMB_INTEROP_NATIVE_SPAWN=0' });
  else expect(spawnBackend).toEqual({ name: 'posix_spawn' });
});

for (const backend of ['posix_spawn', 'child_process'] as const) {
  test.describe(backend, () => {
    test.beforeEach(() => {
      test.skip(backend === 'posix_spawn' && spawnBackend.name !== 'posix_spawn', `posix_spawn not loaded: ${spawnBackend.reason ?? ''}`);
      useChildProcessSpawn(backend === 'child_process');
    });
    test.afterAll(() => useChildProcessSpawn(false));

    test('stdin reaches the program, stdout and stderr come apart, the exit code comes with exit and then close', async () => {
      const r = await run('read line; echo "got $line"; echo oops >&2; exit 3', {}, 'hello\n');
      expect(r).toEqual({ stdout: 'got hello\n', stderr: 'oops\n', code: 3, signal: null, events: ['exit', 'close'] });
    });

    test('a killed program ends with the signal and no code', async () => {
      const child = spawnProcess('sleep', ['30'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const done = ended(child);
      expect(child.kill('SIGKILL')).toBe(true);
      expect(await done).toMatchObject({ code: null, signal: 'SIGKILL' });
      expect(child.signalCode).toBe('SIGKILL');
      expect(child.kill('SIGKILL')).toBe(false);
    });

    test('a program that is not there is an ENOENT error naming it, then close', async () => {
      const child = spawnProcess('smb-interop-no-such-program', ['x']);
      const errors: NodeJS.ErrnoException[] = [];
      child.on('error', (e: NodeJS.ErrnoException) => errors.push(e));
      const r = await ended(child);
      expect(errors.map((e) => [e.code, e.message])).toEqual([['ENOENT', 'spawn smb-interop-no-such-program ENOENT']]);
      expect(r.code).toBe(-2);
    });

    test('the working directory and exactly the given environment', async () => {
      const r = await run('pwd; echo "FOO=$FOO HOME=${HOME-unset}"', { cwd: tmpdir(), env: { FOO: 'bar baz', PATH: process.env.PATH } });
      expect(r.stdout).toBe(`${tmpdir()}\nFOO=bar baz HOME=unset\n`);
    });

    test("no signal ignored or blocked that the harness ignores (SIGPIPE), and no descriptor of the harness's open but its own pipes", async () => {
      const sigpipe = 1n << 12n;
      // Node ignores SIGPIPE, and an ignored signal stays ignored across exec unless the start resets it.
      expect(statusMask(readFileSync('/proc/self/status', 'utf8'), 'SigIgn') & sigpipe).toBe(sigpipe);
      const status = (await run('exec cat /proc/self/status')).stdout;
      expect(statusMask(status, 'SigIgn') & sigpipe).toBe(0n);
      expect(statusMask(status, 'SigBlk')).toBe(0n);
      // 3 is ls's own, the directory it lists; beyond that only what this process leaves open across exec.
      const keptAcrossExec = (fd: string): boolean => {
        let info: string;
        try {
          info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
        } catch {
          return false; // the listing's own descriptor, closed since
        }
        return (parseInt(/^flags:\s*([0-7]+)/m.exec(info)?.[1] ?? '0', 8) & 0o2000000) === 0;
      };
      const inherited = readdirSync('/proc/self/fd').filter((fd) => Number(fd) > 2 && keptAcrossExec(fd));
      const fds = (await run('exec ls /proc/self/fd')).stdout.split('\n').filter(Boolean);
      expect(fds.sort()).toEqual(['0', '1', '2', '3', ...inherited].sort());
    });

    test('detached: a process group of its own; otherwise the harness\'s', async () => {
      const group = (pid: string) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[2];
      const own = await run('cut -d" " -f5 /proc/$$/stat; echo $$', { detached: true });
      const [detachedGroup, detachedPid] = own.stdout.trim().split('\n');
      expect(detachedGroup).toBe(detachedPid);
      const shared = await run('cut -d" " -f5 /proc/$$/stat');
      expect(shared.stdout.trim()).toBe(group(String(process.pid)));
    });

    test('ignore gives /dev/null', async () => {
      const child = spawnProcess('sh', ['-c', 'exec readlink /proc/self/fd/0 /proc/self/fd/2'], { stdio: ['ignore', 'pipe', 'ignore'] });
      expect(child.stdin).toBeNull();
      expect(child.stderr).toBeNull();
      expect((await ended(child)).stdout).toBe('/dev/null\n/dev/null\n');
    });

    test('exit comes when the program ends, close only once whatever it started has closed its output', async () => {
      const started = Date.now();
      const child = spawnProcess('sh', ['-c', '(sleep 0.4; echo late) & echo early']);
      let exitAfterMs = -1;
      child.on('exit', () => (exitAfterMs = Date.now() - started));
      const r = await ended(child);
      expect(r.stdout).toBe('early\nlate\n');
      expect(r.code).toBe(0);
      expect(exitAfterMs).toBeGreaterThanOrEqual(0);
      expect(exitAfterMs).toBeLessThan(Date.now() - started);
    });

    test('nothing stays open once programs have ended, its stdin included, also when it was killed or never read its input', async () => {
      const openNow = () => readdirSync('/proc/self/fd').length;
      await run('exit 0');
      const before = openNow();
      for (let i = 0; i < 20; i++) {
        const child = spawnProcess('sleep', ['30']);
        const done = ended(child);
        child.kill('SIGKILL');
        await done;
        expect(child.stdin?.destroyed, 'the stdin of a killed program').toBe(true);
        await run('exit 3');
      }
      await new Promise((settle) => setImmediate(settle));
      expect(openNow()).toBe(before);
    });

    test('many programs ending at once are each reaped with their own code', async () => {
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) => run(`exit ${i}`)));
      expect(results.map((r) => r.code)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    });
  });
}
