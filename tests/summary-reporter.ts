import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

/** Ends the project's own test run with one plain line: `tests: N passed, N failed, N skipped`. */
export default class SummaryReporter implements Reporter {
  private passed = 0;
  private failed = 0;
  private skipped = 0;

  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.retry < test.retries && result.status !== 'passed' && result.status !== 'skipped') return;
    if (result.status === 'passed') this.passed++;
    else if (result.status === 'skipped') this.skipped++;
    else this.failed++;
  }

  onEnd(_result: FullResult): void {
    process.stdout.write(`\ntests: ${this.passed} passed, ${this.failed} failed, ${this.skipped} skipped\n`);
  }
}
