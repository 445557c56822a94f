import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { teeServerOutput } from './processes.js';

test('a server\'s output reaches its log file whole, also what a helper it forked prints after the server exited; no write-after-end error escapes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'smb-interop-tee-'));
  const uncaught: Error[] = [];
  const onUncaught = (error: Error): void => {
    uncaught.push(error);
  };
  process.on('uncaughtException', onUncaught);
  try {
    // The shell exits at once; the helper it started keeps the output pipes and prints later,
    // as smbd's children do after smbd itself is gone.
    const child = spawn('sh', ['-c', 'echo server; (sleep 0.3; echo helper; echo helper-err >&2) & exit 0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const seen: string[] = [];
    const path = join(dir, 'server.log');
    teeServerOutput(child, path, (text) => seen.push(text));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const closed = new Promise((resolve) => child.once('close', resolve));
    await exited;
    await closed;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen.join('').split('\n').filter(Boolean).sort()).toEqual(['helper', 'helper-err', 'server']);
    expect((await readFile(path, 'utf8')).split('\n').filter(Boolean).sort()).toEqual(['helper', 'helper-err', 'server']);
    expect(uncaught).toEqual([]);
  } finally {
    process.off('uncaughtException', onUncaught);
    await rm(dir, { recursive: true, force: true });
  }
});

test('a log file that cannot be written is given up without an error; the text still arrives', async () => {
  const child = spawn('sh', ['-c', 'echo one; echo two'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const seen: string[] = [];
  teeServerOutput(child, '/nonexistent-dir/server.log', (text) => seen.push(text));
  await new Promise((resolve) => child.once('close', resolve));
  expect(seen.join('')).toBe('one\ntwo\n');
});
