import { expect, test } from '@playwright/test';
import type { TestInfo } from '@playwright/test';
import { skipCell } from './skip.js';

/** A TestInfo whose skip throws as Playwright's does: an error made where skip is called. */
function skippingInfo(): { info: TestInfo; reasons: string[] } {
  const reasons: string[] = [];
  const info = {
    skip(condition: boolean, description: string) {
      reasons.push(description);
      if (condition) throw new Error(`Test is skipped: ${description}`);
    },
  } as unknown as TestInfo;
  return { info, reasons };
}

test('skipCell ends the cell with its reason and an error that carries no stack frame, and leaves the stack limit as it was', () => {
  const { info, reasons } = skippingInfo();
  const limit = Error.stackTraceLimit;
  let thrown: Error | undefined;
  try {
    skipCell(info, 'not applicable: smb21-signing-hmac@native does not encrypt');
  } catch (error) {
    thrown = error as Error;
  }
  expect({ reasons, message: thrown?.message, frames: thrown?.stack?.split('\n').filter((line) => /^\s+at /.test(line)).length, limit: Error.stackTraceLimit }).toEqual({
    reasons: ['not applicable: smb21-signing-hmac@native does not encrypt'],
    message: 'Test is skipped: not applicable: smb21-signing-hmac@native does not encrypt',
    frames: 0,
    limit,
  });
});

test('skipCell names the reason when the test info does not end the cell', () => {
  const info = { skip() {} } as unknown as TestInfo;
  expect(() => skipCell(info, 'unsupported: impacket does not offer 3.1.1')).toThrow('Playwright did not end the cell it was told to skip (unsupported: impacket does not offer 3.1.1)');
});
