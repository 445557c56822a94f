/** Ending a cell before its scenario runs (not applicable, unsupported, infra error), cheaply. */
import type { TestInfo } from '@playwright/test';

/**
 * `testInfo.skip(true, reason)` with no stack on the error it throws. Playwright's runner gives
 * every step that ends in an error with a source location a syntax-highlighted code frame of
 * that file; a skipped cell ends two steps so, and at about 7 ms each that was 15 s of the
 * runner's CPU in a four-client matrix of 1,150 skipped cells. A skip's reason is its
 * annotation, and where in the harness it was called says nothing to a reader of the matrix.
 */
export function skipCell(testInfo: TestInfo, reason: string): never {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    testInfo.skip(true, reason);
  } finally {
    Error.stackTraceLimit = limit;
  }
  throw new Error(`Playwright did not end the cell it was told to skip (${reason})`);
}
