/**
 * Playwright fixtures of the scenario suite. Worker scope: the project's target, started once
 * per worker and stopped when the worker ends. Test scope: the cell's identity and applicability,
 * a capture of everything on the wire, clients connected through it, a fresh directory.
 */
import { dirname } from 'node:path';
// The runner's root test type (declared in Playwright's typings), without @playwright/test's
// browser fixtures: those wrap every test in two automatic fixtures (trace recording, context
// options), steps whose stacks the runner captures and maps through source maps, about 7 ms a
// test for a suite that opens no browser.
import { _baseTest as base, expect } from '@playwright/test';
import type { TestInfo } from '@playwright/test';
import { Annotation, Attachment, ClientId, Requirement } from './annotations.js';
import type { RequirementId } from './annotations.js';
import { ConfigurationMismatchError, targetFacts } from './configuration.js';
import { registry, unmetRequirement } from './scenario.js';
import { TestTrace, cellFailed } from './trace.js';
import { traceModeFromEnv } from './options.js';
import { faultHookFor } from './faults.js';
import type { TraceMode } from './options.js';
import { PROOF_ANNOTATION, ProofControl, proveCellConfiguration } from './wire-proof.js';
import type { DecodedWire } from './capture/wire-decode.js';
import { tee } from './message-log.js';
import { skipCell } from './skip.js';
import { tuneWorkerHeap } from './heap.js';
import { loadCatalog } from '../servers/catalog/index.js';
import { intermittentFailure, knownFailure, loadRunExpectations } from '../matrix/expectations.js';
import type { ExpectationEntry } from '../matrix/expectations.js';
import { startTarget, targetSpecs } from '../servers/providers.js';
import type { StartedTarget, TargetUser } from '../servers/target.js';
import { SmbClient } from '../clients/smb/index.js';
import { withFaults } from '../clients/smb/faults.js';
import type { SmbClientOptions, Tree } from '../clients/smb/index.js';
import type { AdapterAuth, AdapterConnectOptions, AdapterSession } from '../clients/adapters/adapter.js';
import { PluginFault } from '../clients/plugins/host.js';
import { ClientUnsupported, needsFromText, targetNeeds, unmetNeed } from '../clients/plugins/needs.js';
import type { Capabilities } from '../clients/plugins/protocol.js';
import { watchSession } from '../clients/plugins/watch.js';

// Every worker process that runs cells loads this module first: its heap may grow before V8 marks it all again.
tuneWorkerHeap();

export interface WorkerFixtures {
  /** The project's target name, `<profile>@<provider>` (set per project in playwright.config.ts). */
  targetName: string;
  /** The started target, or why it could not start (infra-error cells). */
  targetState: { target: StartedTarget; error?: undefined } | { target?: undefined; error: string; notConfigured: boolean };
}

export interface ShareDirectory {
  tree: Tree;
  /** The share's name. */
  share: string;
  /** A directory for this test alone, share-relative (`t-<id>`). */
  dir: string;
  /** The same directory on the server's disk, when the provider gives access to it. */
  local: string | undefined;
}

export interface AdapterDirectory {
  session: AdapterSession;
  dir: string;
  local: string | undefined;
}

export type ConnectOptions = Partial<SmbClientOptions> & {
  user?: string;
  /**
   * false: never the transcript observer on this client, even where the server logs no keys (the
   * only targets it is attached on), so it receives READ data in place as a client without an
   * observer does; the capture still has every frame. Default true.
   */
  transcript?: boolean;
};

/** Another session of the cell's client: another share, another user, other credentials, or a guest logon. */
export interface OpenOptions {
  /** Default: the target's first share. */
  share?: string;
  /** A user of the target by its logical name (default: the first). */
  user?: string;
  /** Credentials of the scenario's own (a wrong password, an unknown user). */
  username?: string;
  password?: string;
  /** A guest logon: no user name, no password. */
  guest?: boolean;
  /** On a target in a realm: the mechanism to ask for (default negotiate for a client that has Kerberos, else NTLM). */
  auth?: AdapterAuth;
  /** On a target in a realm: another host name for the server's service principal (one the KDC does not know). */
  serviceHost?: string;
  /** The client's own time limit per request (default 20 s). */
  timeoutMs?: number;
  /**
   * The longest one operation may go unanswered before the client counts as hung: an
   * out-of-process client is then ended, and the operation fails as the client's failure (not
   * an infra error). For scenarios that make the server stop answering.
   */
  hangLimitMs?: number;
}

/**
 * The logon a client makes on `target`. On a server in a realm, a client that has Kerberos
 * negotiates (Kerberos where it can be had) with the realm's KDC and the server's host name; one
 * without it logs on with NTLM. Elsewhere NTLM, as always.
 */
export function logonOptions(
  target: StartedTarget,
  capabilities: Pick<Capabilities, 'auth'>,
  requested: Pick<OpenOptions, 'auth' | 'serviceHost'> = {},
): Pick<AdapterConnectOptions, 'auth' | 'kerberos'> {
  const realm = target.kerberos;
  if (realm === undefined || !capabilities.auth.includes('kerberos')) return requested.auth === undefined ? {} : { auth: requested.auth };
  return { auth: requested.auth ?? 'negotiate', kerberos: { realm: realm.realm, kdc: realm.kdc, serviceHost: requested.serviceHost ?? realm.serviceHost } };
}

export interface TestFixtures {
  /**
   * The cell's bookkeeping: infra errors and unmet requirements end the test as skipped with the
   * reason; so does a client that declares it lacks what the scenario or the target needs
   * (unsupported). Gives the client's declared capabilities.
   */
  cell: { client: string; capabilities: Capabilities };
  target: StartedTarget;
  /** The cell's capture: where clients connect, the transcript, the frames on the wire. */
  traces: TestTrace;
  /** Opens another TypeScript client through the capture (closed after the test). */
  connect: (options?: ConnectOptions) => Promise<SmbClient>;
  /** The default client: the target's first user, checked against the declared configuration. */
  client: SmbClient;
  /** The target's first share connected by `client`, with a fresh directory. */
  share: ShareDirectory;
  /** The test's client (any registered one) behind the ClientAdapter interface, with a fresh directory. */
  adapter: AdapterDirectory;
  /**
   * Opens another session of the cell's client through the capture (closed after the test). A
   * failed logon or tree connect rejects as the client reports it; the wire has the server's answer.
   */
  openAdapter: (options?: OpenOptions) => Promise<AdapterSession>;
  /**
   * The proof of configuration: after the test (every client closed), the cell's sessions on the
   * decoded wire are checked against what the target declares, and the `negotiated` annotation
   * is what the wire showed. Armed by `client`, `adapter` and `connect()` (see ProofControl).
   */
  proof: ProofControl;
  /**
   * Every SMB2 message of the cell so far, decoded and decrypted with the keys the server logged
   * (waiting for keys that trail the wire). Ends the capture: close the clients first.
   */
  cellWire: () => Promise<DecodedWire>;
}

/**
 * A start has bounded waits of its own; this covers the longest: a domain target waiting for
 * another domain target's DC to stop (one DC runs per machine at a time).
 */
const TARGET_START_TIMEOUT_MS = 15 * 60_000;
const DOMAIN_LOCK_TIMEOUT_MS = 14 * 60_000;
const CLIENT_TIMEOUT_MS = 20_000;
/** smbd level 3 logs every failed request with its NTSTATUS and source line: what a red cell needs. */
const SERVER_LOG_LEVEL = 3;

function annotation(testInfo: TestInfo, type: string): string | undefined {
  return testInfo.annotations.find((a) => a.type === type)?.description;
}

/** The run's known failures, read once per worker (the reporter reads and checks the same file). */
let expectations: Promise<ExpectationEntry[]> | undefined;

function runExpectations(testInfo: TestInfo): Promise<ExpectationEntry[]> {
  expectations ??= loadRunExpectations(dirname(testInfo.config.configFile ?? testInfo.config.rootDir)).catch(() => []);
  return expectations;
}

/** The logon mechanism the scenario asks for (`scenario({ logon })`), if any. */
function scenarioLogon(testInfo: TestInfo): 'ntlm' | 'kerberos' | undefined {
  const logon = annotation(testInfo, Annotation.logon);
  return logon === 'ntlm' || logon === 'kerberos' ? logon : undefined;
}

function freshDirName(testInfo: TestInfo): string {
  return `t-${testInfo.testId.replace(/[^A-Za-z0-9]/g, '')}-${testInfo.repeatEachIndex}-${testInfo.retry}`;
}

export const test = base.extend<TestFixtures & { traceMode: TraceMode }, WorkerFixtures>({
  targetName: ['', { option: true, scope: 'worker' }],
  traceMode: [traceModeFromEnv(), { option: true }],

  targetState: [
    async ({ targetName }, use) => {
      if (!targetName) throw new Error('no target: run a project generated from the catalog (see playwright.config.ts)');
      let state: WorkerFixtures['targetState'];
      try {
        const spec = targetSpecs(await loadCatalog(), { providers: ['native', 'container', 'remote'] }).find((s) => s.name === targetName);
        if (spec === undefined) throw new Error(`${targetName} is not in the catalog`);
        state = spec.status.state === 'not-configured'
          ? { error: spec.status.reason, notConfigured: true }
          : { target: await startTarget(spec, { logLevel: SERVER_LOG_LEVEL, domainLockTimeoutMs: DOMAIN_LOCK_TIMEOUT_MS }) };
      } catch (error) {
        state = { error: (error as Error).message, notConfigured: false };
      }
      try {
        await use(state);
      } finally {
        await state.target?.stop();
      }
    },
    { scope: 'worker', timeout: TARGET_START_TIMEOUT_MS },
  ],

  cell: [
    async ({ targetState, targetName }, use, testInfo) => {
      const scenarioId = annotation(testInfo, Annotation.scenario);
      const client = annotation(testInfo, Annotation.client) ?? ClientId.typescript;
      if (scenarioId !== undefined) {
        const clientFlag = client === ClientId.typescript ? '' : ` --client ${client}`;
        testInfo.annotations.push({ type: Annotation.repro, description: `npx smb-interop repro ${targetName} ${scenarioId}${clientFlag}` });
      }
      if (targetState.target === undefined) {
        const kind = targetState.notConfigured ? Annotation.notConfigured : Annotation.infraError;
        testInfo.annotations.push({ type: kind, description: targetState.error });
        skipCell(testInfo, `${kind}: ${targetState.error}`);
      }
      const target = targetState.target;
      testInfo.annotations.push({ type: Annotation.target, description: JSON.stringify(targetFacts(target)) });
      const requirements = testInfo.annotations.filter((a) => a.type === Annotation.requires).map((a) => a.description as RequirementId);
      for (const requirement of requirements) {
        const reason = unmetRequirement(requirement, target);
        if (reason !== undefined) {
          testInfo.annotations.push({ type: Annotation.notApplicable, description: reason });
          skipCell(testInfo, `not applicable: ${reason}`);
        }
      }
      let capabilities: Capabilities;
      try {
        // A command plug-in is asked once per worker (its hello); a fault there is every cell's infra error.
        capabilities = await registry.get(client).capabilities();
      } catch (error) {
        const reason = error instanceof PluginFault ? error.message : `${client}: ${(error as Error).message}`;
        testInfo.annotations.push({ type: Annotation.infraError, description: reason });
        skipCell(testInfo, `infra error: ${reason}`);
      }
      const scenarioNeeds = needsFromText(testInfo.annotations.filter((a) => a.type === Annotation.needs).map((a) => a.description ?? ''));
      const unsupported = unmetNeed(client, capabilities, scenarioNeeds, 'the scenario') ?? unmetNeed(client, capabilities, targetNeeds(target.profile.expect, target.profile.domain), target.name);
      if (unsupported !== undefined) {
        testInfo.annotations.push({ type: Annotation.unsupported, description: unsupported });
        skipCell(testInfo, `unsupported: ${unsupported}`);
      }
      // A cell listed as always failing is expected to fail: the runner then neither retries it
      // nor restarts the worker and its target after it. The reporter still judges it by the list.
      if (scenarioId !== undefined) {
        const known = knownFailure(await runExpectations(testInfo), { client, target: targetName, scenario: scenarioId }, new Date());
        if (known !== undefined) testInfo.fail(true, `listed as failing: ${known.reason}`);
      }
      await use({ client, capabilities });
      // A failure an intermittent entry names (its `error` text) counts as expected once seen:
      // no retry, and the worker keeps its target rather than restarting both.
      if (scenarioId !== undefined && cellFailed(testInfo) && testInfo.expectedStatus === 'passed') {
        const message = testInfo.errors.map((e) => e.message ?? e.value ?? '').join('\n');
        const listed = intermittentFailure(await runExpectations(testInfo), { client, target: targetName, scenario: scenarioId }, message, new Date());
        if (listed !== undefined) testInfo.fail(true, `listed as failing on some runs: ${listed.reason}`);
      }
    },
    { auto: true },
  ],

  target: async ({ cell, targetState }, use) => {
    void cell;
    await use(targetState.target as StartedTarget);
  },

  proof: async ({ cell, target, traces: trace }, use, testInfo) => {
    const control = new ProofControl();
    await use(control);
    // Torn down after every fixture that opens clients (they depend on this one), before the
    // capture's own teardown, which then sees a failed proof as a failed cell.
    const state = control.state;
    if (state.kind === 'none' || testInfo.status === 'skipped') return;
    if (state.kind === 'waived') {
      testInfo.annotations.push({ type: PROOF_ANNOTATION, description: JSON.stringify({ checked: [], unchecked: [`configuration not proven: ${state.reason}`] }) });
      return;
    }
    const proof = await proveCellConfiguration(trace, target, state.scope, cell.capabilities, scenarioLogon(testInfo));
    const first = proof.sessions[0];
    if (first !== undefined) testInfo.annotations.push({ type: Annotation.negotiated, description: JSON.stringify(first.settings) });
    testInfo.annotations.push({ type: PROOF_ANNOTATION, description: JSON.stringify({ checked: proof.checked, unchecked: proof.unchecked, differences: proof.differences }) });
    // A cell that already failed keeps its first error; the differences are in the annotation.
    if (cellFailed(testInfo)) return;
    if (proof.differences.length > 0) throw new ConfigurationMismatchError(target.name, proof.differences);
  },

  cellWire: async ({ traces: trace }, use) => {
    await use(() => trace.decodedWire());
  },

  traces: async ({ target, traceMode }, use, testInfo) => {
    const trace = await TestTrace.start(traceMode, target, testInfo);
    try {
      await use(trace);
    } finally {
      await trace.finish(testInfo);
    }
  },

  connect: async ({ target, traces: trace, proof }, use, testInfo) => {
    const opened: SmbClient[] = [];
    const faults = faultHookFor(annotation(testInfo, Annotation.scenario));
    await use(async (options: ConnectOptions = {}) => {
      proof.connecting(options);
      const { user: userName, observer, transcript = true, ...rest } = options;
      const user: TargetUser = target.user(userName);
      const client = await SmbClient.connect(withFaults({
        ...trace.endpoint,
        username: user.username,
        password: user.password,
        domain: user.domain,
        ...logonOptions(target, { auth: ['kerberos'] }, { auth: scenarioLogon(testInfo) }),
        timeoutMs: CLIENT_TIMEOUT_MS,
        observer: !transcript || trace.clientObserver === undefined ? observer : observer === undefined ? trace.clientObserver : tee(trace.clientObserver, observer),
        ...rest,
      }, faults));
      opened.push(client);
      return client;
    });
    for (const client of opened) await client.close();
  },

  client: async ({ connect }, use) => {
    await use(await connect());
  },

  share: async ({ client, target }, use, testInfo) => {
    const share = target.shares[0];
    if (share === undefined) throw new Error(`${target.name} has no share`);
    const tree = await client.connectTree(share.name);
    const dir = freshDirName(testInfo);
    await tree.mkdir(dir);
    await use({ tree, share: share.name, dir, local: share.localPath === undefined ? undefined : `${share.localPath}/${dir}` });
  },

  openAdapter: async ({ cell, target, traces: trace, proof }, use, testInfo) => {
    const definition = registry.get(cell.client);
    const opened: AdapterSession[] = [];
    const readers: Array<() => string> = [];
    await use(async (options: OpenOptions = {}) => {
      // Another share or user keeps the declared configuration; credentials or a logon of the scenario's own do not.
      proof.connecting(options);
      const user = target.user(options.user);
      const credentials = options.guest
        ? {}
        : { username: options.username ?? user.username, password: options.password ?? user.password, domain: options.username === undefined ? user.domain : '' };
      let read: (() => string) | undefined;
      const adapter = await definition.adapter({ smbOptions: withFaults({ observer: trace.clientObserver }, faultHookFor(annotation(testInfo, Annotation.scenario))) });
      try {
        const session = await adapter.connect({
          ...trace.endpoint,
          share: options.share ?? target.shares[0]!.name,
          ...credentials,
          ...(options.guest ? {} : logonOptions(target, cell.capabilities, { auth: options.auth ?? scenarioLogon(testInfo), serviceHost: options.serviceHost })),
          dialects: { ...target.profile.dialects },
          timeoutMs: options.timeoutMs ?? CLIENT_TIMEOUT_MS,
          ...(options.hangLimitMs === undefined ? {} : { operationLimitMs: options.hangLimitMs }),
          onDiagnostics: (reader: () => string) => (read = reader),
        });
        const watched = watchSession(cell.client, session, cell.capabilities, (error) => {
          // A client that never answered, where the scenario made the server stop, is the client's failure.
          const hung = options.hangLimitMs !== undefined && error instanceof PluginFault && error.kind === 'timeout';
          if (error instanceof PluginFault && !hung) testInfo.annotations.push({ type: Annotation.infraError, description: error.message });
        });
        opened.push(watched);
        return watched;
      } finally {
        if (read !== undefined) readers.push(read);
      }
    });
    for (const session of opened) await session.close().catch(() => undefined);
    const text = readers.map((read) => read()).join('');
    if (text !== '' && cellFailed(testInfo)) await testInfo.attach(`more-${Attachment.clientStderr}`, { body: text, contentType: 'text/plain' });
  },

  adapter: async ({ cell, target, traces: trace, traceMode, proof }, use, testInfo) => {
    const clientId = cell.client;
    const definition = registry.get(clientId);
    const share = target.shares[0];
    if (share === undefined) throw new Error(`${target.name} has no share`);
    const user = target.user();
    let diagnostics: (() => string) | undefined;
    // A plug-in's fault is the cell's infra error and a refused operation makes it unsupported,
    // whatever the scenario does with the error it sees.
    const note = (type: string, description: string): void => {
      if (!testInfo.annotations.some((a) => a.type === type && a.description === description)) testInfo.annotations.push({ type, description });
    };
    const record = (error: unknown): void => {
      if (error instanceof PluginFault) note(Annotation.infraError, error.message);
      else if (error instanceof ClientUnsupported) note(Annotation.unsupported, error.reason);
    };
    // Before the scenario runs, such an error skips the cell (recorded by its annotation): a
    // failed test would cost a fresh worker and target.
    const skipIfClientFault = (error: unknown): void => {
      if (error instanceof PluginFault) skipCell(testInfo, `infra error: ${error.message}`);
      if (error instanceof ClientUnsupported) skipCell(testInfo, `unsupported: ${error.reason}`);
    };
    const attachDiagnostics = async (): Promise<void> => {
      const text = diagnostics?.() ?? '';
      if (text !== '' && (traceMode === 'on' || cellFailed(testInfo) || testInfo.annotations.some((a) => a.type === Annotation.infraError))) {
        await testInfo.attach(Attachment.clientStderr, { body: text, contentType: 'text/plain' });
      }
    };
    const connectOptions = {
      ...trace.endpoint,
      share: share.name,
      username: user.username,
      password: user.password,
      domain: user.domain,
      ...logonOptions(target, cell.capabilities, { auth: scenarioLogon(testInfo) }),
      dialects: { ...target.profile.dialects },
      timeoutMs: CLIENT_TIMEOUT_MS,
      onDiagnostics: (read: () => string) => (diagnostics = read),
    };
    proof.connecting({});
    let session: AdapterSession;
    try {
      const adapter = await definition.adapter({ smbOptions: withFaults({ observer: trace.clientObserver }, faultHookFor(annotation(testInfo, Annotation.scenario))) });
      session = await adapter.connect(connectOptions);
    } catch (error) {
      record(error);
      await attachDiagnostics();
      skipIfClientFault(error);
      throw error;
    }
    const watched = watchSession(clientId, session, cell.capabilities, record);
    const dir = freshDirName(testInfo);
    try {
      await watched.mkdir(dir);
    } catch (error) {
      await watched.close().catch(() => undefined);
      await attachDiagnostics();
      skipIfClientFault(error);
      throw error;
    }
    try {
      await use({ session: watched, dir, local: share.localPath === undefined ? undefined : `${share.localPath}/${dir}` });
    } finally {
      try {
        await watched.close();
      } finally {
        await attachDiagnostics();
      }
    }
  },
});

export { expect, Requirement };
