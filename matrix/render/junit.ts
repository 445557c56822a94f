/**
 * junit.xml: one testsuite per client x target. failed and unexpected-pass are failures,
 * infra-error is an error, not-applicable, unsupported and expected-failure are skipped (with the reason).
 */
import type { Cell, Matrix } from '../schema.js';
import { escapeXml as x, firstLine } from './escape.js';
import { errorHeadline } from './summary.js';

function isSkipped(cell: Cell): boolean {
  return cell.outcome === 'not-applicable' || cell.outcome === 'unsupported' || cell.outcome === 'expected-failure';
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function testcase(cell: Cell, classname: string): string {
  const open = `    <testcase classname="${x(classname)}" name="${x(cell.scenario)}" time="${seconds(cell.durationMs)}"`;
  const details = [cell.error?.message, cell.failingStep ? `failing step: ${cell.failingStep}` : null, cell.repro ? `repro: ${cell.repro}` : null]
    .filter((t): t is string => !!t)
    .join('\n');
  switch (cell.outcome) {
    case 'passed':
      return `${open}/>`;
    case 'flaky':
      return `${open}>\n      <system-out>${x(`flaky: passed ${cell.passes} of ${cell.attempts} runs\n${details}`)}</system-out>\n    </testcase>`;
    case 'failed':
      return `${open}>\n      <failure message="${x(firstLine(errorHeadline(cell) ?? 'failed'))}" type="${x(cell.error?.statusName ?? 'failure')}">${x(details)}</failure>\n    </testcase>`;
    case 'unexpected-pass':
    {
      const listed = cell.expectation?.reason ?? cell.reason ?? 'no reason given';
      return `${open}>\n      <failure message="${x(`unexpected pass: listed as failing (${firstLine(listed)})`)}" type="unexpected-pass">${x(
        `listed in expectations as failing (${listed}) but passed; remove the entry`,
      )}</failure>\n    </testcase>`;
    }
    case 'infra-error':
      return `${open}>\n      <error message="${x(firstLine(cell.reason ?? 'infrastructure error'))}" type="infra-error">${x(details || (cell.reason ?? ''))}</error>\n    </testcase>`;
    case 'not-applicable':
      return `${open}>\n      <skipped message="${x(`not applicable: ${firstLine(cell.reason ?? '')}`)}"/>\n    </testcase>`;
    case 'unsupported':
      return `${open}>\n      <skipped message="${x(`unsupported: ${firstLine(cell.reason ?? '')}`)}"/>\n    </testcase>`;
    case 'expected-failure':
      return `${open}>\n      <skipped message="${x(`expected failure: ${firstLine(cell.expectation?.reason ?? cell.reason ?? '')}`)}"/>\n    </testcase>`;
  }
}

export function renderJunit(m: Matrix): string {
  const suites: string[] = [];
  for (const client of m.clients) {
    for (const target of m.targets) {
      const cells = m.cells.filter((c) => c.client === client && c.target === target.name);
      if (cells.length === 0) continue;
      const failures = cells.filter((c) => c.outcome === 'failed' || c.outcome === 'unexpected-pass').length;
      const errors = cells.filter((c) => c.outcome === 'infra-error').length;
      const skipped = cells.filter(isSkipped).length;
      const time = cells.reduce((sum, c) => sum + c.durationMs, 0);
      const name = `${client} × ${target.name}`;
      suites.push(
        `  <testsuite name="${x(name)}" tests="${cells.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds(time)}" timestamp="${x(m.run.start.replace(/Z$/, ''))}" hostname="${x(m.run.host)}">\n` +
          `${cells.map((c) => testcase(c, `${client}.${target.name}`)).join('\n')}\n  </testsuite>`,
      );
    }
  }
  const all = m.cells;
  const failures = all.filter((c) => c.outcome === 'failed' || c.outcome === 'unexpected-pass').length;
  const errors = all.filter((c) => c.outcome === 'infra-error').length;
  const skipped = all.filter(isSkipped).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${x(`smb-interop ${m.run.id}`)}" tests="${all.length}" failures="${failures}" errors="${errors}" skipped="${skipped}">\n${suites.join('\n')}\n</testsuites>\n`;
}
