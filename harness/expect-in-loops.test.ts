import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, expect } from '@playwright/test';
import { findExpectInLoops, formatExpectInLoop } from './expect-in-loops.js';
import { LoopChecks, NO_DIFFERENCE, firstDifference, firstDifferenceOnDisk, patternBytes, sharedPatternBytes } from './scenarios/helpers.js';

const SCENARIOS = fileURLToPath(new URL('./scenarios', import.meta.url));

function lines(text: string): string[] {
  return findExpectInLoops('x.spec.ts', text).map(formatExpectInLoop);
}

test('an expect in a loop inside a test is named with its file, line and loop', () => {
  const source = [
    "test('t', async () => {",
    '  let done = 0;',
    '  while (done < 10) {',
    '    done++;',
    '    expect(done).toBeGreaterThan(0);',
    '  }',
    '  for (let i = 0; i < 3; i++) expect.soft(i).toBe(i);',
    '  for (const x of [1, 2]) {',
    '    await Promise.all([x].map(async (y) => expect(y).toBe(x)));',
    '  }',
    '  do { expect(done).toBe(10); } while (false);',
    '});',
  ].join('\n');
  expect(lines(source)).toEqual([
    'x.spec.ts:5:5: expect inside a loop (while statement at line 3); check each iteration with LoopChecks and assert once after the loop',
    'x.spec.ts:7:31: expect inside a loop (for statement at line 7); check each iteration with LoopChecks and assert once after the loop',
    'x.spec.ts:9:44: expect inside a loop (map callback at line 9); check each iteration with LoopChecks and assert once after the loop',
    'x.spec.ts:11:8: expect inside a loop (do statement at line 11); check each iteration with LoopChecks and assert once after the loop',
  ]);
});

test('callbacks of iteration methods and Array.from count as loops, wherever the test is', () => {
  const source = [
    "test('t', async () => {",
    '  items.forEach((item) => { expect(item).toBeTruthy(); });',
    '  await Promise.all(Array.from({ length: 64 }, async () => { expect(1).toBe(1); }));',
    '  const ok = items.every(function (item) { return expect(item).toBeTruthy(); });',
    '});',
  ].join('\n');
  expect(findExpectInLoops('x.spec.ts', source).map((f) => `${f.line} ${f.loop}`)).toEqual([
    '2 forEach callback at line 2',
    '3 from callback at line 3',
    '4 every callback at line 4',
  ]);
});

test('tests declared in a loop, expects once after a loop, and a loop only in the setup are not flagged', () => {
  const source = [
    "for (const [slug, size] of sizes) {",
    "  test(`round trip ${slug}`, async ({ adapter }) => {",
    '    expect(await adapter.read(slug)).toHaveLength(size);',
    '  });',
    '}',
    "forEachClient((client) => test.describe('d', () => {",
    "  test('t', async () => {",
    '    const seen = [];',
    '    for (let i = 0; i < 3; i++) seen.push(i);',
    '    expect(seen.map((s) => s * 2)).toEqual([0, 2, 4]);',
    '    for (const x of expect.anything ? [1] : []) seen.push(x);',
    '    for (let i = expect(0).toBe(0) ?? 0; i < 1; i++) seen.push(i);',
    '  });',
    '}));',
  ].join('\n');
  expect(lines(source)).toEqual([]);
});

test('no scenario calls expect inside a loop', async () => {
  const files = (await readdir(SCENARIOS, { recursive: true })).filter((f) => f.endsWith('.ts')).sort();
  expect(files.length, `scenario files under ${SCENARIOS}`).toBeGreaterThan(5);
  const found: string[] = [];
  for (const file of files) {
    const path = join(SCENARIOS, file);
    found.push(...findExpectInLoops(relative(process.cwd(), path), await readFile(path, 'utf8')).map(formatExpectInLoop));
  }
  expect(found).toEqual([]);
});

test('LoopChecks keeps the first failures with their iteration and what they saw, then counts the rest', () => {
  const checks = new LoopChecks(2);
  for (let i = 0; i < 6; i++) checks.equal(`operation ${i}: size`, i % 2 === 0 ? 7 : 8, 7);
  checks.that('step 9: bytes', false, () => firstDifference(Buffer.from([1, 2, 3]), Buffer.from([1, 2, 0x5a])));
  expect(checks.checked).toBe(7);
  expect(checks.failed).toBe(true);
  expect(checks.failures).toEqual(['operation 1: size: saw 8, expected 7', 'operation 3: size: saw 8, expected 7', '... and 2 more']);
  expect(firstDifference(Buffer.from([1]), Buffer.from([1, 2]))).toBe('1 bytes, expected 2');
  const clean = new LoopChecks();
  expect(clean.equal('x', 'a', 'a')).toBe(true);
  expect([clean.failed, clean.failures]).toEqual([false, []]);
});

test('scenario data: patternBytes depends on its seed alone, and firstDifference finds a single changed byte in 64 MiB', () => {
  const MiB = 1024 * 1024;
  const data = patternBytes(64 * MiB, 64);
  expect(firstDifference(patternBytes(64 * MiB, 64), data)).toBe(NO_DIFFERENCE);
  expect(patternBytes(1000, 64).equals(data.subarray(0, 1000)), 'a shorter pattern is the longer one\'s start').toBe(true);
  expect(patternBytes(1000, 65).equals(data.subarray(0, 1000)), 'another seed, other bytes').toBe(false);
  // Random-looking: no byte value takes more than a small share of a 1 MiB sample.
  const counts = new Array<number>(256).fill(0);
  for (const byte of data.subarray(0, MiB)) counts[byte]!++;
  expect(Math.max(...counts)).toBeLessThan(MiB / 200);
  const changed = Buffer.from(data);
  changed[changed.length - 1]! ^= 0x01;
  expect(firstDifference(changed, data)).toBe(`byte ${64 * MiB - 1} is 0x${changed.at(-1)!.toString(16).padStart(2, '0')}, expected 0x${data.at(-1)!.toString(16).padStart(2, '0')}`);
  expect(firstDifference(data.subarray(1), data)).toMatch(/^byte 0 is /);
});

test('the disk check reads a file in pieces and says what firstDifference says of it whole: the changed byte, or the lengths', async () => {
  const MiB = 1024 * 1024;
  const data = sharedPatternBytes(9 * MiB + 3, 9);
  expect(sharedPatternBytes(9 * MiB + 3, 9), 'made once, then the same memory').toBe(data);
  expect(data.equals(patternBytes(9 * MiB + 3, 9))).toBe(true);
  expect(sharedPatternBytes(1000, 10).equals(patternBytes(1000, 10))).toBe(true);
  const dir = await mkdtemp(join(tmpdir(), 'smb-interop-disk-check-'));
  try {
    await writeFile(join(dir, 'same.bin'), data);
    expect(await firstDifferenceOnDisk(dir, 'same.bin', data)).toBe(NO_DIFFERENCE);
    const changed = Buffer.from(data);
    changed[5 * MiB + 7]! ^= 0x80;
    await writeFile(join(dir, 'changed.bin'), changed);
    expect(await firstDifferenceOnDisk(dir, 'changed.bin', data)).toBe(firstDifference(changed, data));
    expect(await firstDifferenceOnDisk(dir, 'changed.bin', data)).toMatch(/^byte 5242887 is 0x/);
    await writeFile(join(dir, 'short.bin'), data.subarray(0, 4 * MiB));
    expect(await firstDifferenceOnDisk(dir, 'short.bin', data)).toBe(`${4 * MiB} bytes, expected ${9 * MiB + 3}`);
    await writeFile(join(dir, 'long.bin'), Buffer.concat([data, Buffer.from([1])]));
    expect(await firstDifferenceOnDisk(dir, 'long.bin', data)).toBe(`${9 * MiB + 4} bytes, expected ${9 * MiB + 3}`);
    await writeFile(join(dir, 'empty.bin'), Buffer.alloc(0));
    expect(await firstDifferenceOnDisk(dir, 'empty.bin', data)).toBe(`0 bytes, expected ${9 * MiB + 3}`);
    expect(await firstDifferenceOnDisk(undefined, 'same.bin', data), 'no disk to look at').toBeUndefined();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
