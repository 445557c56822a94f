import { test, expect } from '@playwright/test';
import type { TestResult, TestStep } from '@playwright/test/reporter';
import { addTimings, timingOf } from './cells.js';

const T0 = Date.parse('2026-12-06T20:00:00.000Z');

function step(title: string, category: string, startMs: number, duration: number, steps: TestStep[] = []): TestStep {
  return { title, category, startTime: new Date(T0 + startMs), duration, steps } as unknown as TestStep;
}

function result(steps: TestStep[], duration = 1000): TestResult {
  return { status: 'passed', startTime: new Date(T0), duration, steps } as unknown as TestResult;
}

test('a run splits into target start, harness set-up, the scenario and the harness teardown', () => {
  const run = result([
    step('Before Hooks', 'hook', 0, 900, [step('Fixture "targetState"', 'fixture', 5, 700), step('Fixture "traces"', 'fixture', 710, 30), step('Fixture "client"', 'fixture', 740, 150)]),
    step('Expect "toBe"', 'expect', 950, 1),
    step('After Hooks', 'hook', 3900, 120, [step('Fixture "traces"', 'fixture', 3950, 60)]),
  ]);
  expect(timingOf(run)).toEqual({ targetStartMs: 700, setupMs: 200, scenarioMs: 3000, teardownMs: 120 });
});

test('a worker fixture found deeper counts as the target start; a run without hooks has no split; splits add up', () => {
  const nested = result([step('Before Hooks', 'hook', 0, 50, [step('Fixture "target"', 'fixture', 0, 40, [step('Fixture "targetState"', 'fixture', 0, 30)])]), step('After Hooks', 'hook', 80, 10)]);
  expect(timingOf(nested)).toEqual({ targetStartMs: 30, setupMs: 20, scenarioMs: 30, teardownMs: 10 });
  expect(timingOf(result([]))).toBeUndefined();
  expect(addTimings([undefined, { targetStartMs: 1, setupMs: 2, scenarioMs: 3, teardownMs: 4 }, { targetStartMs: 10, setupMs: 20, scenarioMs: 30, teardownMs: 40 }])).toEqual({ targetStartMs: 11, setupMs: 22, scenarioMs: 33, teardownMs: 44 });
  expect(addTimings([undefined])).toBeUndefined();
});
