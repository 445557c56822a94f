import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireAdDcLock } from './ad-dc-lock.js';

// The killed holder runs the built module (npm run build).
const BUILT_LOCK = fileURLToPath(new URL('../../dist/servers/samba/ad-dc-lock.js', import.meta.url));

let dir: string;
test.beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'addc-lock-test-'));
});
test.afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('a second DC waits for the first; past its timeout the error names the holder', async () => {
  const path = join(dir, 'lock');
  const first = await acquireAdDcLock('FIRST.TEST', 5000, path);
  const refused = await acquireAdDcLock('SECOND.TEST', 1000, path).then(() => undefined, (e: Error) => e);
  expect(refused?.message).toContain('waited 1000 ms for the DC of realm FIRST.TEST');
  expect(refused?.message).toContain(`by process ${process.pid}`);
  expect(refused?.message).toContain('one AD DC runs per machine at a time');

  const waiting = acquireAdDcLock('SECOND.TEST', 10_000, path);
  setTimeout(() => first.release(), 300);
  const second = await waiting;
  second.release();
  second.release();
});

test('the lock of a killed process is free again', async () => {
  const path = join(dir, 'lock');
  const script = `import(${JSON.stringify(BUILT_LOCK)}).then(async (m) => { await m.acquireAdDcLock('KILLED.TEST', 5000, ${JSON.stringify(path)}); console.log('held'); setInterval(() => {}, 1000); })`;
  const holder = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the child did not take the lock within 20 s')), 20_000);
      holder.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('held')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const refused = await acquireAdDcLock('MINE.TEST', 1000, path).then(() => undefined, (e: Error) => e);
    expect(refused?.message).toContain('KILLED.TEST');
    holder.kill('SIGKILL');
    const lock = await acquireAdDcLock('MINE.TEST', 5000, path);
    lock.release();
  } finally {
    holder.kill('SIGKILL');
  }
});
