/**
 * Faults and attacks, played by the capture proxy between the client and the real server: a
 * server that freezes, resets or dies in the middle of a transfer, a bit flipped in a signed or
 * encrypted response, and downgrades of the NEGOTIATE and SESSION_SETUP responses. Portable:
 * every client meets the same interference, and what it did is read from its answers and the
 * wire. Each scenario first checks that its interference happened (a fault that never fired
 * fails the cell, it never passes it).
 */
import { randomUUID } from 'node:crypto';
import { test, expect } from '../../fixtures.js';
import type { TestTrace } from '../../trace.js';
import { Requirement } from '../../annotations.js';
import { forEachClient, scenario } from '../../scenario.js';
import { capabilityDowngrade, dialectDowngrade, flipInDataResponse, guestFlag, midTransfer } from '../../capture/interference.js';
import type { FlipSpot, Interference } from '../../capture/interference.js';
import type { AdapterSession } from '../../../clients/adapters/adapter.js';
import { PluginFault } from '../../../clients/plugins/host.js';
import { ClientUnsupported } from '../../../clients/plugins/needs.js';
import type { ClientNeeds } from '../../../clients/plugins/needs.js';
import { NO_DIFFERENCE, firstDifference, patternBytes } from '../helpers.js';

/**
 * The client's own limit per request in these scenarios: far above what a request takes here
 * even on a loaded machine, and short, since every client waits it out at least once per cell
 * (go-smb2 three times it for each tampered response it drops).
 */
const CLIENT_TIMEOUT_MS = 1_000;
/** Past this, one operation unanswered is a hung client (its own limit for file data is up to three times CLIENT_TIMEOUT_MS). */
const HANG_LIMIT_MS = 15_000;
/** Larger than any logon or metadata response: the first such frame is the file's data. */
const DATA_FRAME = 8 * 1024;
const FILE_SIZE = 256 * 1024;

type Outcome = { kind: 'value'; value: Buffer; ms: number } | { kind: 'error'; error: Error & { statusName?: string }; ms: number } | { kind: 'hung'; ms: number };

/**
 * How an operation ended: a value, an error of the client's, or no answer within the hang limit
 * (for an in-process client the race; for a plug-in the host ends it and says so). A plug-in
 * fault other than that, or a refused operation, is not the client's answer: it passes through.
 */
async function settle(operation: Promise<Buffer>, hangLimitMs = HANG_LIMIT_MS + 2_000): Promise<Outcome> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), hangLimitMs)));
  try {
    const value = await Promise.race([operation, hung]);
    return value === 'hung' ? { kind: 'hung', ms: Date.now() - started } : { kind: 'value', value, ms: Date.now() - started };
  } catch (error) {
    if (error instanceof PluginFault && error.kind === 'timeout') return { kind: 'hung', ms: Date.now() - started };
    if (error instanceof PluginFault || error instanceof ClientUnsupported) throw error;
    return { kind: 'error', error: error as Error, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/** The client's own error class: an in-process client's error behind the adapter's. */
function errorClass(error: Error): string {
  return error.cause instanceof Error ? error.cause.name : error.name;
}

function describeOutcome(outcome: Outcome, expected: Buffer): string {
  switch (outcome.kind) {
    case 'hung':
      return `no answer within ${outcome.ms} ms`;
    case 'error':
      return `${errorClass(outcome.error)}${outcome.error.statusName ? ` ${outcome.error.statusName}` : ''} after ${outcome.ms} ms: ${outcome.error.message.split('\n')[0]}`;
    case 'value':
      return outcome.value.equals(expected)
        ? `the whole file after ${outcome.ms} ms`
        : `${outcome.value.length} bytes after ${outcome.ms} ms that are not the file (${firstDifference(outcome.value, expected)})`;
  }
}

/** A session's close, bounded: a client left on a dead connection may take its whole limit to give up. */
async function closeQuietly(session: AdapterSession | undefined): Promise<void> {
  if (session === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([session.close().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))]);
  clearTimeout(timer);
}

/** A file name of the cell's own in the share's root (cells of several clients and targets run at once). */
function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 12)}.bin`;
}

/** The interference's notes so far, one line each, for failure messages. */
function notes(traces: TestTrace): string[] {
  return traces.interferences.map((i) => `connection ${i.connection}: ${i.note}`);
}

/** After a fault, the run goes on: a new session of the same client reads the file back whole. */
async function readsBackWhole(traces: TestTrace, openAdapter: () => Promise<AdapterSession>, path: string, data: Buffer): Promise<void> {
  traces.interfere(undefined);
  traces.releaseFrozen();
  const reader = await openAdapter();
  expect(firstDifference(await reader.readFile(path), data), 'the file read back by a new session after the fault (the server and the run went on)').toBe(NO_DIFFERENCE);
  await reader.close();
}

forEachClient((client, suffix) => {
  test.describe(`faults${suffix}`, () => {
    const needs: ClientNeeds = { operations: ['writeFile', 'readFile'] };

    for (const kind of ['freeze', 'reset', 'close'] as const) {
      const what = { freeze: 'freezes (the connection stays open, nothing more comes)', reset: 'resets the connection', close: 'dies (its connection closes)' }[kind];
      const id = { freeze: 'faults/server-freezes-mid-read', reset: 'faults/server-resets-mid-read', close: 'faults/server-dies-mid-read' }[kind];
      test(`a server that ${what} halfway through a READ response: the read fails with an error within the client's own time limit, never returns part of the file, and the next session reads it whole${suffix}`, scenario({ id, client, needs, interferes: true }), async ({ openAdapter, traces }) => {
        const data = patternBytes(FILE_SIZE, 0x5eed + FILE_SIZE);
        const path = uniqueName(`fault-${kind}`);
        const writer = await openAdapter();
        await writer.writeFile(path, data);
        await writer.close();

        traces.interfere(midTransfer(kind, DATA_FRAME));
        const victim = await openAdapter({ timeoutMs: CLIENT_TIMEOUT_MS, hangLimitMs: HANG_LIMIT_MS });
        const outcome = await settle(victim.readFile(path));
        await closeQuietly(victim);
        expect(notes(traces), 'what the harness did (exactly one fault, in the READ response)').toHaveLength(1);
        expect(outcome.kind === 'error' ? 'an error' : describeOutcome(outcome, data), `the read of ${FILE_SIZE} bytes from a server that ${what} halfway`).toBe('an error');
        // The client's own limit: three times a request's, as plug-ins allow for file data, and a second for the rest.
        expect(outcome.ms, `milliseconds until the client gave up (${describeOutcome(outcome, data)})`).toBeLessThanOrEqual(3 * CLIENT_TIMEOUT_MS + 1_000);
        if (client === 'smb-ts' && outcome.kind === 'error') {
          expect(errorClass(outcome.error), `the TypeScript client's error class (${outcome.error.message})`).toBe(kind === 'freeze' ? 'TimeoutError' : 'TransportError');
        }
        await readsBackWhole(traces, openAdapter, path, data);
      });
    }

    test(`a bit flipped in a signed or encrypted READ response (data, a field only the signature covers, the header; ciphertext, tag, nonce) is refused every time: no data comes back${suffix}`, scenario({ id: 'faults/tampered-response-refused', client, requires: [Requirement.protectedResponses], needs, interferes: true }), async ({ openAdapter, traces, target }) => {
      const data = patternBytes(64 * 1024, 0xf11b);
      const path = uniqueName('tampered');
      const writer = await openAdapter();
      await writer.writeFile(path, data);
      await writer.close();

      const accepted: string[] = [];
      const refusals: string[] = [];
      const missed: FlipSpot[] = [];
      const spots: FlipSpot[] = ['data', 'field', 'header'];
      for (const spot of spots) {
        const before = traces.interferences.length;
        traces.interfere(flipInDataResponse(spot, DATA_FRAME));
        let victim: AdapterSession | undefined;
        let outcome: Outcome;
        try {
          victim = await openAdapter({ timeoutMs: CLIENT_TIMEOUT_MS, hangLimitMs: HANG_LIMIT_MS });
          outcome = await settle(victim.readFile(path));
        } catch (error) {
          if (error instanceof PluginFault || error instanceof ClientUnsupported) throw error;
          outcome = { kind: 'error', error: error as Error, ms: 0 };
        }
        await closeQuietly(victim);
        traces.interfere(undefined);
        const note = traces.interferences.slice(before).map((i) => i.note).join('; ');
        if (note === '') missed.push(spot);
        if (outcome.kind === 'value') accepted.push(`${note}: the client returned ${describeOutcome(outcome, data)}`);
        else if (outcome.kind === 'hung') accepted.push(`${note}: ${describeOutcome(outcome, data)} (a refusal must end the operation)`);
        else refusals.push(`${spot}: ${describeOutcome(outcome, data)}`);
      }
      expect(missed, `flips that found no response of at least ${DATA_FRAME} bytes to tamper with`).toEqual([]);
      test.info().annotations.push({ type: 'refusals', description: refusals.join('\n') });
      const protection = target.profile.expect.encryption ? 'encrypted (the transform\'s tag must not verify)' : 'signed (the signature must not verify; MS-SMB2 3.2.5.1.3)';
      expect(accepted, `tampered ${protection} responses the client did not refuse`).toEqual([]);
      if (client === 'smb-ts') expect(refusals.filter((r) => !r.includes('SecurityError')), 'refusals that are not a SecurityError').toEqual([]);
      await readsBackWhole(traces, openAdapter, path, data);
    });

    const downgrades: Array<{ id: string; title: string; tampered: string; interference: () => Interference; rule: string }> = [
      {
        id: 'faults/dialect-downgrade',
        title: 'the NEGOTIATE response\'s dialect lowered one step',
        tampered: 'NEGOTIATE response',
        interference: dialectDowngrade,
        rule: '3.1.1: the preauth integrity hash then differs and the final SESSION_SETUP signature cannot verify; 3.0.x: FSCTL_VALIDATE_NEGOTIATE_INFO (MS-SMB2 3.2.5.2, 3.2.5.5, 3.3.5.15.12)',
      },
      {
        id: 'faults/capability-downgrade',
        title: 'the NEGOTIATE response\'s capabilities cleared',
        tampered: 'NEGOTIATE response',
        interference: capabilityDowngrade,
        rule: '3.1.1: the preauth integrity hash; 3.0.x: FSCTL_VALIDATE_NEGOTIATE_INFO compares the capabilities (MS-SMB2 3.2.5.5, 3.3.5.15.12)',
      },
      {
        id: 'faults/guest-flag-downgrade',
        title: 'SMB2_SESSION_FLAG_IS_GUEST set in the final SESSION_SETUP response of a password logon',
        tampered: 'final SESSION_SETUP response',
        interference: guestFlag,
        rule: 'SMB 3.x signs the final SESSION_SETUP response, so the flag breaks its signature; a client that logged on with a password must not fall back to an unsigned guest session (MS-SMB2 3.2.5.3.1)',
      },
    ];
    for (const { id, title, tampered: edited, interference, rule } of downgrades) {
      test(`${title} is detected: the connect fails and no file is opened on that session${suffix}`, scenario({ id, client, requires: [Requirement.smb3], interferes: true }), async ({ openAdapter, traces, cellWire }) => {
        traces.interfere(interference());
        let session: AdapterSession | undefined;
        let refusal: string | undefined;
        try {
          session = await openAdapter({ timeoutMs: CLIENT_TIMEOUT_MS, hangLimitMs: HANG_LIMIT_MS });
          // Accepted so far: a file operation shows whether the session is usable (it must not be).
          await session.writeFile(uniqueName('downgraded'), Buffer.from('written on a downgraded session'));
        } catch (error) {
          if (error instanceof PluginFault && error.kind !== 'timeout') throw error;
          if (error instanceof ClientUnsupported) throw error;
          refusal = `${errorClass(error as Error)}: ${(error as Error).message.split('\n')[0]}`;
        }
        await closeQuietly(session);
        traces.interfere(undefined);
        expect(notes(traces), 'what the harness did (exactly one edit)').toHaveLength(1);
        const wire = await cellWire();
        const tampered = traces.interferences[0]!;
        // The pcap's connections are numbered as the proxy accepted them.
        const opened = wire.messages.filter((m) => m.connection === tampered.connection && m.direction === 'send' && m.header.command === 'CREATE');
        expect(opened.map((m) => `CREATE request #${m.index}`), `files opened on the connection whose ${edited} was tampered with (${rule})`).toEqual([]);
        expect(refusal, `the client's answer to ${title} (${tampered.note})`).toBeDefined();
        test.info().annotations.push({ type: 'refusal', description: refusal! });
      });
    }
  });
});

/** smb-ts without an observer: READ data is received in place, and that path's checks must hold too. */
test.describe('faults: receive in place', () => {
  test('a bit flipped in a large signed or encrypted READ response received in place (FileHandle.read, no observer attached) is a SecurityError, and no data comes back', scenario({ id: 'faults/tampered-read-in-place', requires: [Requirement.protectedResponses], interferes: true }), async ({ connect, traces, target }) => {
    const size = 1024 * 1024;
    const data = patternBytes(size, 0x1f1a);
    const share = target.shares[0]!.name;
    const path = uniqueName('in-place');
    const writer = await connect();
    await (await writer.connectTree(share)).writeFile(path, data);
    await writer.close();

    const failures: string[] = [];
    for (const spot of ['data', 'field', 'header'] as const) {
      const before = traces.interferences.length;
      traces.interfere(flipInDataResponse(spot, 64 * 1024));
      const client = await connect({ transcript: false, timeoutMs: CLIENT_TIMEOUT_MS });
      const tree = await client.connectTree(share);
      // FileHandle.read names the buffer its READs fill: the responses are received into it in place.
      const handle = await tree.open(path, 'r');
      const outcome = await settle((async () => {
        const into = Buffer.alloc(size);
        const read = await handle.read(into, 0);
        return into.subarray(0, read);
      })());
      await client.close().catch(() => undefined);
      traces.interfere(undefined);
      const note = traces.interferences.slice(before).map((i) => i.note).join('; ');
      if (note === '') failures.push(`${spot}: the harness found no READ response of at least 64 KiB to tamper with`);
      else if (outcome.kind !== 'error' || outcome.error.name !== 'SecurityError') failures.push(`${note}: ${describeOutcome(outcome, data)}`);
    }
    expect(failures, 'tampered responses received in place that were not refused with a SecurityError').toEqual([]);
    const reader = await connect();
    expect(firstDifference(await (await reader.connectTree(share)).readFile(path), data), 'the file read back afterwards').toBe(NO_DIFFERENCE);
  });
});
