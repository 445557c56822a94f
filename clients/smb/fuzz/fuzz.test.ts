import { expect, test } from '@playwright/test';
import { AllocationRefused, LARGE_ALLOCATION_BYTES, deterministicBytes, installRunHooks, runs } from './context.js';
import { checkBaseline, runCampaign } from './campaign.js';
import { DEFAULT_RECORDING, formatReport } from './fuzz.js';
import { layoutOf, onlyValues, wellFormed } from './layout.js';
import { drawMutation, unmutatedPlan } from './mutations.js';
import { FINDINGS, judge, replayOnce } from './oracle.js';
import type { Observed } from './oracle.js';
import { Prng } from './prng.js';
import { describeFrame, loadRecording } from './recording.js';
import { STEPS } from './scenario.js';

const recording = loadRecording(DEFAULT_RECORDING);

function observed(results: Observed['results'], extra: Partial<Observed> = {}): Observed {
  return { results, crashes: [], largeAllocations: [], stepOfExchange: new Map(), unmatched: 0, ...extra };
}

test.describe('hostile-server fuzz', () => {
  test('the unmutated replay reaches the end of the scenario with what smbd returned, run after run', async () => {
    expect(recording.results.map((r) => r.step)).toEqual(STEPS.map((s) => s.name));
    expect(recording.results.every((r) => r.ok)).toBe(true);
    await checkBaseline(recording);
    const uninstall = installRunHooks();
    try {
      const replays = await Promise.all(Array.from({ length: 8 }, () => replayOnce(recording, unmutatedPlan(recording))));
      for (const replay of replays) {
        expect(replay.results).toEqual(recording.results);
        expect(replay.unmatched).toBe(0);
      }
    } finally {
      uninstall();
    }
  });

  test('the recording holds the session the fuzz mutates', () => {
    expect(recording.profile).toBe('smb202-legacy');
    const commands = recording.exchanges.map((e) => describeFrame(e.request).replace(/#\d+/g, ''));
    expect(commands.slice(0, 4)).toEqual(['NEGOTIATE', 'SESSION_SETUP', 'SESSION_SETUP', 'TREE_CONNECT']);
    expect(commands).toEqual(expect.arrayContaining(['CREATE+QUERY_DIRECTORY', 'CREATE+READ+CLOSE', 'CREATE+WRITE+CLOSE', 'QUERY_INFO', 'LOGOFF']));
  });

  test('a seed gives the same mutations, and a READ response has its data as value bytes, its DataLength as structure', () => {
    const first = Array.from({ length: 50 }, (_, i) => drawMutation(recording, Prng.forRun('7', i)).description);
    expect(Array.from({ length: 50 }, (_, i) => drawMutation(recording, Prng.forRun('7', i)).description)).toEqual(first);
    const read = recording.exchanges.find((e) => describeFrame(e.request).startsWith('READ'))!.responses.at(-1)!;
    const layout = layoutOf(read);
    expect(onlyValues(layout, [64 + 16, read.length - 1])).toBe(true);
    expect(onlyValues(layout, [64 + 4])).toBe(false);
    expect(layout.structure.map((s) => s.name)).toEqual(expect.arrayContaining(['DataOffset', 'DataLength', 'header MessageId']));
    expect(recording.exchanges.flatMap((e) => e.responses).filter((frame) => !wellFormed(frame)).map(describeFrame)).toEqual([]);
    const lying = Buffer.from(read);
    lying.writeUInt32LE(read.readUInt32LE(64 + 4) + 1, 64 + 4);
    expect(wellFormed(lying)).toBe(false);
  });

  test('the oracle names each class: untyped, wrongly accepted, a bad name, changed payload, misreported, hang', () => {
    const baseline = recording.results;
    const mutation = drawMutation(recording, Prng.forRun('oracle', 0));
    const structural = { ...mutation, payloadOnly: false, closes: false, timeoutOn: [] };
    const untyped = [{ step: 'connect', ok: false as const, error: { name: 'TypeError', code: null, typed: false, message: 'x', command: null, cause: null } }];
    expect(judge(baseline, observed(untyped), structural).outcome).toBe('untyped');
    const changed = baseline.map((r) => (r.ok && r.step === 'readFile small' ? { ...r, value: '0:e3b0c44298fc1c14' } : r));
    expect(judge(baseline, observed(changed), structural).outcome).toBe('wronglyAccepted');
    expect(judge(baseline, observed(changed), { ...structural, payloadOnly: true }).outcome).toBe('payloadChanged');
    const badName = baseline.map((r) => (r.ok && r.step === 'stat' ? { ...r, value: { name: 'a\\b' } } : r));
    expect(judge(baseline, observed(badName), { ...structural, payloadOnly: true }).outcome).toBe('wronglyAccepted');
    const negotiation = [{ step: 'connect', ok: false as const, error: { name: 'NegotiationError', code: 'SMB_NEGOTIATION', typed: true, message: 'x', command: 'NEGOTIATE', cause: 'TransportError' } }];
    expect(judge(baseline, observed(negotiation), { ...structural, closes: true }).outcome).toBe('misreported');
    expect(judge(baseline, observed([], { hung: 'connect' }), structural).outcome).toBe('hang');
    expect(judge(baseline, observed(baseline), structural).outcome).toBe('absorbed');
  });

  test('inside a run, randomBytes is the run\'s own and an allocation above 64 MiB is refused and counted', async () => {
    const uninstall = installRunHooks();
    try {
      const { randomBytes } = await import('node:crypto');
      const context = { random: deterministicBytes('seed'), largeAllocations: [] };
      const [bytes, refused] = runs.run(context, () => {
        const got = randomBytes(8);
        try {
          Buffer.allocUnsafe(LARGE_ALLOCATION_BYTES + 1);
          return [got, undefined] as const;
        } catch (error) {
          return [got, error] as const;
        }
      });
      expect(bytes).toEqual(deterministicBytes('seed')(8));
      expect(refused).toBeInstanceOf(AllocationRefused);
      expect(context.largeAllocations).toMatchObject([{ size: LARGE_ALLOCATION_BYTES + 1, via: 'allocUnsafe' }]);
      expect(randomBytes(8)).not.toEqual(deterministicBytes('seed')(8));
    } finally {
      uninstall();
    }
  });

  test('2,000 seeded runs: no crash, large allocation, hang, untyped error, wrongly accepted data or misreported error', async () => {
    test.setTimeout(180_000);
    const report = await runCampaign(recording, { seed: 'npm-test', runs: 2000, concurrency: 32 });
    const findings = Object.fromEntries(FINDINGS.map((f) => [f, report.counts[f]]));
    expect(findings, formatReport(report, (run) => `npm run fuzz -- --seed npm-test --run ${run}`)).toEqual(Object.fromEntries(FINDINGS.map((f) => [f, 0])));
    expect(report.runs).toBe(2000);
  });
});
