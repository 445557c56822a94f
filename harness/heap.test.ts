import { expect, test } from '@playwright/test';
import { DEFAULT_HEAP_GROWTH_PERCENT, HEAP_GROWTH_ENV, heapGrowthPercent, tuneWorkerHeap } from './heap.js';

test('the workers\' heap growth is 300% unless SMB_INTEROP_HEAP_GROWTH_PERCENT names another whole percentage, 0 leaving V8 its own', () => {
  expect(DEFAULT_HEAP_GROWTH_PERCENT).toBe(300);
  expect([undefined, '', ' ', '0', '150', ' 500 ', '1000'].map((raw) => heapGrowthPercent(raw === undefined ? {} : { [HEAP_GROWTH_ENV]: raw }))).toEqual([300, 300, 300, 0, 150, 500, 1000]);
  expect(tuneWorkerHeap({ [HEAP_GROWTH_ENV]: '0' })).toBeUndefined();
  expect(tuneWorkerHeap({ [HEAP_GROWTH_ENV]: '300' })).toBe('--heap-growing-percent=300');
});

test('a heap growth that is not a whole percentage from 0 to 1000 is refused with the variable and the value', () => {
  for (const raw of ['abc', '-5', '1.5', '1001', '3e2']) {
    expect(() => heapGrowthPercent({ [HEAP_GROWTH_ENV]: raw }), raw).toThrow(`SMB_INTEROP_HEAP_GROWTH_PERCENT: "${raw}" is not a whole number of percent from 0 to 1000`);
  }
});
