/**
 * Per-test traces: a capture of every connection to the target (pcapng: recorded passively on
 * the loopback for a local server, through a relaying capture proxy otherwise), the decrypted
 * transcript and the Wireshark key file made from it with the keys the server logged (any
 * client), kept according to the trace mode (like Playwright's own `trace` option). Only where
 * the server logs no keys (a remote target) does the TypeScript client's observer supply them.
 */
import { rm, stat, writeFile } from 'node:fs/promises';
import type { TestInfo } from '@playwright/test';
import { Annotation, Attachment } from './annotations.js';
import { CaptureProxy } from './capture/proxy.js';
import { PassiveCapture } from './capture/passive.js';
import { scratchPcapPath } from './capture/scratch.js';
import type { Interference } from './capture/interference.js';
import { wiresharkCommand, wiresharkKeyFile } from './capture/keys.js';
import { TranscriptRecorder, transcriptOfWire } from './capture/transcript.js';
import { decodeWithServerKeys } from './capture/wire-decode.js';
import type { DecodedWire } from './capture/wire-decode.js';
import { explainCell, specViolations } from './explain/cell-explanation.js';
import { serverEnvironmentFault } from './explain/server-reason.js';
import { summarizeWire } from './explain/summarize-wire.js';
import { WIRE_SUMMARY_ATTACHMENT } from './explain/wire-summary.js';
import { readWireFrames } from './pcap-reader.js';
import type { WireFrame } from './pcap-reader.js';
import type { StartedTarget } from '../servers/target.js';
import type { ServerSessionKeys } from '../servers/samba/server-keys.js';
import type { SmbObserver, SmbSessionKeys } from '../clients/smb/observer.js';
import { cipherNameOf, dialectNameOf } from '../clients/smb/negotiation.js';
import { decodeNegotiateResponse } from '../clients/smb/wire/index.js';
import type { TraceMode } from './options.js';

/** The server port the pcap shows, so that Wireshark dissects SMB2 without "decode as". */
const DISPLAY_SERVER_PORT = 445;
/**
 * Captures up to this size are decoded for the spec checks of every cell; a larger one (a bulk
 * transfer) only when its cell failed, so a passing bulk cell does not pay for a second decryption.
 */
const SPEC_CHECK_CAPTURE_BYTES = 8 * 1024 * 1024;

/** The server's keys of the sessions that appear on the wire, in the shape the key file takes. */
function serverKeysOnWire(keys: readonly ServerSessionKeys[], wire: DecodedWire | undefined): SmbSessionKeys[] {
  const onWire = new Set(wire?.messages.map((m) => m.header.sessionId) ?? []);
  const negotiate = wire?.messages.find((m) => m.header.command === 'NEGOTIATE' && m.direction === 'receive' && m.header.statusName === 'STATUS_SUCCESS');
  let dialect: number | undefined;
  try {
    dialect = negotiate === undefined ? undefined : decodeNegotiateResponse(negotiate.bytes).dialectRevision;
  } catch {
    dialect = undefined;
  }
  return keys.filter((k) => onWire.has(k.sessionId)).map((k) => ({
    sessionId: k.sessionId,
    sessionKey: k.sessionKey,
    signingKey: k.signingKey,
    encryptionKey: k.serverInKey ?? null,
    decryptionKey: k.serverOutKey ?? null,
    // smbd 4.23+ logs no cipher: the one the session's transforms opened with says it.
    cipher: (k.cipher === undefined ? undefined : cipherNameOf(k.cipher)) ?? wire?.messages.find((m) => m.transform?.sessionId === k.sessionId)?.transform?.cipher ?? null,
    dialect: dialect === undefined ? 'unknown' : (dialectNameOf(dialect) ?? 'unknown'),
  }));
}

export interface Endpoint {
  host: string;
  port: number;
}

/** A cell's capture decoded: its frames, the server's keys for them (undefined: the target logs none) and the messages. */
export interface DecodedCapture {
  frames: WireFrame[];
  keys: ServerSessionKeys[] | undefined;
  wire: DecodedWire;
}

/**
 * Whether the cell has failed so far. Not Playwright's "unexpected": a cell listed as failing is
 * expected to fail (harness/fixtures.ts), and its failure still gets its explanation and traces.
 */
export function cellFailed(testInfo: TestInfo): boolean {
  return testInfo.status !== 'passed' && testInfo.status !== 'skipped';
}

export class TestTrace {
  /** What the TypeScript client's observer saw, where it is attached (clientObserver). */
  readonly transcript = new TranscriptRecorder();
  /** When the cell's capture began: the server's log of the cell is `target.logSince(started)`. */
  readonly started = new Date();

  private constructor(
    readonly mode: TraceMode,
    readonly target: StartedTarget,
    private readonly capture: CaptureProxy | PassiveCapture,
    private readonly pcapPath: string,
    private readonly scenarioId: string,
  ) {}

  /**
   * The capture always runs (scenarios read the wire from it); the mode decides what is kept. A
   * native server is recorded passively where this machine allows it (harness/capture/passive.ts):
   * its clients connect to it directly. A scenario that interferes with the traffic, an impaired
   * link, a container's or a remote server get the relaying proxy.
   */
  static async start(mode: TraceMode, target: StartedTarget, testInfo: TestInfo): Promise<TestTrace> {
    // Written in memory while the cell runs where the machine has room (most are deleted when the cell passes).
    const pcapPath = scratchPcapPath(testInfo.outputPath(Attachment.pcap));
    const scenarioId = testInfo.annotations.find((a) => a.type === Annotation.scenario)?.description ?? testInfo.title;
    const relay = testInfo.annotations.some((a) => a.type === Annotation.capture && a.description === 'relay');
    const passive = relay || target.provider !== 'native' || target.profile.impairment !== undefined
      ? undefined
      : PassiveCapture.start({ host: target.host, port: target.port, pcapPath, displayServerPort: DISPLAY_SERVER_PORT });
    const capture = passive ?? await CaptureProxy.start({
      upstreamHost: target.host, upstreamPort: target.port, pcapPath, displayServerPort: DISPLAY_SERVER_PORT,
      // An impaired variant's link is played here, between every client and the server.
      ...(target.profile.impairment === undefined ? {} : { impairment: target.profile.impairment }),
    });
    return new TestTrace(mode, target, capture, pcapPath, scenarioId);
  }

  /** The proxy the scenario's interference needs; an error naming the scenario where it has none. */
  private get proxy(): CaptureProxy {
    if (this.capture instanceof CaptureProxy) return this.capture;
    throw new Error(`${this.scenarioId}: the scenario interferes with the server's traffic but its cell records it passively; declare \`interferes: true\` in its scenario({ ... }) so that its clients connect through the capture proxy`);
  }


  /**
   * The observer for this project's client in the cell: none where the server logs its keys
   * (the capture, decoded with them, gives the transcript; the client then runs as users run it,
   * receiving READ data in place), the transcript recorder where it logs none (its keys open the capture).
   */
  get clientObserver(): SmbObserver | undefined {
    return this.target.sessionKeys === undefined ? this.transcript : undefined;
  }

  /** Where clients connect: the capture proxy, or the target itself when it is recorded passively. */
  get endpoint(): Endpoint {
    return { host: this.capture.host, port: this.capture.port };
  }

  /**
   * From the next frame boundary on, the server's frames go through `interference` before any
   * client sees them (undefined: relayed unchanged again). The pcap shows what the client got,
   * with the harness's note on every frame it touched.
   */
  interfere(interference: Interference | undefined): void {
    this.proxy.interfere(interference);
  }

  /** What interferences did so far, in order, with the proxy's connection number. */
  get interferences(): ReadonlyArray<{ connection: number; note: string }> {
    return this.capture instanceof CaptureProxy ? this.capture.interferences : [];
  }

  /** Resets the connections an interference froze (their clients have given up, or are hung). */
  releaseFrozen(): void {
    if (this.capture instanceof CaptureProxy) this.capture.releaseFrozen();
  }

  /** Once the capture has ended its pcap is final: read and decoded once for the scenario, the proof and the judgement. */
  private frames: Promise<WireFrame[]> | undefined;
  private decoded: Promise<DecodedCapture> | undefined;

  /**
   * Every frame that crossed the wire, read back from the pcap. Ends the capture: close the
   * clients first (what they send afterwards is not relayed).
   */
  wireFrames(): Promise<WireFrame[]> {
    this.frames ??= this.capture.close().then(() => readWireFrames(this.pcapPath, DISPLAY_SERVER_PORT));
    return this.frames;
  }

  /**
   * The capture's first frames, up to about `maxFrameBytes` (the last one crosses it): what the
   * proof of configuration reads of a bulk transfer, without reading the rest of the file. Ends
   * the capture, like wireFrames().
   */
  async leadingFrames(maxFrameBytes: number): Promise<WireFrame[]> {
    if (this.frames !== undefined) return this.frames;
    await this.capture.close();
    const frames = await readWireFrames(this.pcapPath, DISPLAY_SERVER_PORT, { maxFrameBytes });
    // Within the limit, that was the whole capture: the scenario's and the judgement's read too.
    if (frames.reduce((sum, f) => sum + f.bytes.length, 0) <= maxFrameBytes) this.frames ??= Promise.resolve(frames);
    return frames;
  }

  /**
   * The capture decoded with the keys the server logged for its sessions (waiting for keys that
   * trail the wire), and those keys. Ends the capture, like wireFrames().
   */
  decodedCapture(): Promise<DecodedCapture> {
    this.decoded ??= this.wireFrames().then(async (frames) => ({ frames, ...(await decodeWithServerKeys(frames, this.target.sessionKeys?.bind(this.target))) }));
    return this.decoded;
  }

  /**
   * Every SMB2 message of every connection, decrypted with the keys the server logged: the same
   * view for every client. Ends the capture, like wireFrames().
   */
  async decodedWire(): Promise<DecodedWire> {
    return (await this.decodedCapture()).wire;
  }

  /** Spec checks on the cell's wire (every cell) and, for a failed cell, its explanation, as annotations. */
  private async judge(testInfo: TestInfo, failed: boolean, serverLog: string): Promise<DecodedWire | undefined> {
    const size = (await stat(this.pcapPath).catch(() => undefined))?.size ?? 0;
    let wire: DecodedWire | undefined;
    // Decoded already (by the scenario or the proof): the checks cost nothing more, whatever its size.
    if (size > 0 && (failed || size <= SPEC_CHECK_CAPTURE_BYTES || this.decoded !== undefined)) wire = await this.decodedWire().catch(() => undefined);
    if (wire !== undefined) {
      // Kept whatever the trace mode: after the run, a red cell is compared with cells that passed.
      // A connection's first close event says who ended it; the other side's FIN follows.
      const firstClose = new Map<number, string>();
      for (const e of this.capture.closeEvents) if (!firstClose.has(e.connection)) firstClose.set(e.connection, e.side);
      const closedByServer = [...firstClose].filter(([, side]) => side === 'server').map(([connection]) => connection);
      await testInfo.attach(WIRE_SUMMARY_ATTACHMENT, { body: JSON.stringify(summarizeWire(wire, closedByServer)), contentType: 'application/json' });
    }
    const violations = specViolations({ wire });
    if (violations.length > 0) {
      const entries = violations.map((v) => ({ rule: v.rule.id, section: v.rule.section, detail: v.detail, count: v.count }));
      testInfo.annotations.push({ type: Annotation.specViolations, description: JSON.stringify(entries) });
    }
    if (!failed) return wire;
    // A server whose machine failed it (accounts, memory, disk) says nothing about the client.
    const fault = serverEnvironmentFault(serverLog);
    if (fault !== undefined) testInfo.annotations.push({ type: Annotation.infraError, description: `the server's environment failed, not the client: ${fault}` });
    const lines = explainCell({ wire, serverLog, error: testInfo.errors[0]?.message }, violations);
    if (lines.length > 0) testInfo.annotations.push({ type: Annotation.explanation, description: JSON.stringify(lines) });
    return wire;
  }

  /** Ends the capture and attaches what the mode keeps; the pcap is deleted otherwise. */
  async finish(testInfo: TestInfo): Promise<void> {
    // A capture with holes (the kernel's ring overflowed) or a failed write says nothing about the
    // client: the cell is an infra-error, its pcap kept as far as it goes.
    const lost = await this.capture.close().then(() => undefined, (error: Error) => error.message);
    if (lost !== undefined && !testInfo.annotations.some((a) => a.type === Annotation.infraError)) {
      testInfo.annotations.push({ type: Annotation.infraError, description: lost });
    }
    const failed = cellFailed(testInfo);
    const serverLog = this.target.logSince(this.started);
    let wire = await this.judge(testInfo, failed, serverLog);
    const keep = this.mode === 'on' || (this.mode === 'retain-on-failure' && failed);
    if (!keep) {
      await rm(this.pcapPath, { force: true });
      return;
    }
    // A kept bulk capture the cell did not decode: its transcript and key file need it now.
    wire ??= await this.decodedWire().catch(() => undefined);
    // The attachment is a copy in the cell's output: the capture's own file goes.
    await testInfo.attach(Attachment.pcap, { path: this.pcapPath, contentType: 'application/vnd.tcpdump.pcap' });
    // The client's own keys (this project's client reports them), else the server's for the
    // sessions on this cell's wire: every client's capture opens decrypted.
    const keys = this.transcript.keys.length > 0 ? this.transcript.keys : serverKeysOnWire(this.target.sessionKeys?.() ?? [], wire);
    if (keys.length > 0) {
      const keyPath = testInfo.outputPath(Attachment.keys);
      await writeFile(keyPath, wiresharkKeyFile(keys), { mode: 0o600 });
      await testInfo.attach(Attachment.keys, { path: keyPath, contentType: 'text/plain' });
      testInfo.annotations.push({ type: Annotation.wireshark, description: wiresharkCommand(Attachment.pcap, keys) });
    }
    // How each connection ended (a server reset right after a transform header is the classic clue).
    const closeEvents = this.capture.closeEvents;
    const transcript = this.transcript.messages.length > 0 || wire === undefined ? this.transcript : transcriptOfWire(wire, (await this.decodedCapture()).frames, keys);
    if (transcript.messages.length > 0 || closeEvents.length > 0) {
      await testInfo.attach(Attachment.transcriptJson, { body: transcript.toJson(closeEvents), contentType: 'application/json' });
      await testInfo.attach(Attachment.transcriptText, { body: transcript.toText(closeEvents), contentType: 'text/plain' });
    }
    await testInfo.attach(Attachment.serverLog, { body: serverLog || '(the server logged nothing in this window)\n', contentType: 'text/plain' });
    // A capture written in memory has its copy in the cell's output now.
    if (this.pcapPath !== testInfo.outputPath(Attachment.pcap)) await rm(this.pcapPath, { force: true });
  }
}
