/**
 * What the cell's capture costs on bulk data: the same file written and read back by the
 * TypeScript client connected directly to a native target, and through the capture as the
 * harness sets it up for a cell on that target (recorded passively on the loopback,
 * harness/capture/passive.ts, where this machine allows it; the transcript is made from the
 * capture afterwards, and only for a trace that is kept), through the relaying CaptureProxy (as
 * a cell that interferes, or on a container's server, has it), and through the proxy with the
 * transcript observer on the client as a cell on a target without a key log (remote) has it.
 * Variants take turns within a round, in a rotating order. Apart from the transfer: what making
 * the transcript of a kept 64 MiB capture costs (reading the pcap, decrypting with the server's
 * keys, rendering).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SmbClient } from '../clients/smb/index.js';
import type { SmbObserver } from '../clients/smb/index.js';
import { findProfile, resolveProfiles } from '../servers/catalog/index.js';
import { startNativeTarget } from '../servers/samba/native.js';
import type { StartedNativeTarget } from '../servers/samba/native.js';
import { CaptureProxy } from '../harness/capture/proxy.js';
import { PassiveCapture, passiveCaptureUnavailable } from '../harness/capture/passive.js';
import { scratchPcapPath } from '../harness/capture/scratch.js';
import { TranscriptRecorder, transcriptOfWire } from '../harness/capture/transcript.js';
import { decodeWithServerKeys } from '../harness/capture/wire-decode.js';
import { readWireFrames } from '../harness/pcap-reader.js';
import { median } from './median.js';

export const CAPTURE_VARIANTS = ['direct', 'capture', 'relay', 'relay + observer'] as const;
export type CaptureVariant = (typeof CAPTURE_VARIANTS)[number];

export interface CaptureSettings {
  target: string;
  sizeMiB: number;
  rounds: number;
  /** Untimed rounds first (caches, compiled code). */
  warmup: number;
}

export interface CaptureFigures {
  settings: CaptureSettings;
  /** Seconds per round for each variant (write, then read back). */
  seconds: Record<CaptureVariant, number[]>;
  /** Seconds per round to make the transcript of the capture variant's pcap (read, decode, render). */
  transcriptSeconds: number[];
  /** How the `capture` variant recorded: passively, or through the proxy (and why). */
  captureKind: string;
}

const MiB = 1 << 20;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** One round trip of `variant`; a captured one leaves its finished pcap at `pcapPath` for the caller. */
async function transfer(target: StartedNativeTarget, variant: CaptureVariant, data: Buffer, pcapPath: string, name: string): Promise<number> {
  const observed = variant === 'relay + observer';
  const passive = variant === 'capture' ? PassiveCapture.start({ host: target.host, port: target.port, pcapPath }) : undefined;
  const proxied = variant !== 'direct' && passive === undefined;
  const proxy = proxied ? await CaptureProxy.start({ upstreamHost: target.host, upstreamPort: target.port, pcapPath }) : undefined;
  const user = target.user();
  const observer: SmbObserver | undefined = observed ? new TranscriptRecorder() : undefined;
  const client = await SmbClient.connect({
    host: proxy?.host ?? target.host,
    port: proxy?.port ?? target.port,
    username: user.username,
    password: user.password,
    domain: user.domain,
    timeoutMs: 60_000,
    ...(observer === undefined ? {} : { observer }),
  });
  try {
    const tree = await client.connectTree('data');
    const started = performance.now();
    await tree.writeFile(`${name}.bin`, data);
    const back = await tree.readFile(`${name}.bin`);
    const seconds = (performance.now() - started) / 1000;
    if (back.length !== data.length || sha256(back) !== sha256(data)) throw new Error(`capture bench: ${variant}: the file read back differs from the one written`);
    await tree.unlink(`${name}.bin`);
    return seconds;
  } finally {
    await client.close();
    await proxy?.close();
    await passive?.close();
  }
}

/** What a kept trace's transcript costs after the cell: the pcap read, decoded with the server's keys, rendered. */
async function timeTranscript(target: StartedNativeTarget, pcapPath: string): Promise<number> {
  const started = performance.now();
  const frames = await readWireFrames(pcapPath);
  const { wire } = await decodeWithServerKeys(frames, target.sessionKeys.bind(target));
  const text = transcriptOfWire(wire, frames, []).toText();
  const seconds = (performance.now() - started) / 1000;
  if (wire.problems.length > 0 || !text.includes(' READ ')) throw new Error(`capture bench: the capture did not decode whole: ${wire.problems[0]?.problem ?? 'no READ in the transcript'}`);
  return seconds;
}

export async function measureCapture(settings: CaptureSettings, log: (line: string) => void): Promise<CaptureFigures> {
  const target = await startNativeTarget(findProfile(resolveProfiles({}), settings.target));
  const pcapDir = await mkdtemp(join(tmpdir(), 'smb-interop-capture-bench-'));
  const seconds = Object.fromEntries(CAPTURE_VARIANTS.map((v) => [v, [] as number[]])) as Record<CaptureVariant, number[]>;
  const transcriptSeconds: number[] = [];
  try {
    const data = Buffer.allocUnsafe(settings.sizeMiB * MiB);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
    for (let round = -settings.warmup; round < settings.rounds; round++) {
      const shift = round + settings.warmup;
      const order = CAPTURE_VARIANTS.map((_, i) => CAPTURE_VARIANTS[(i + shift) % CAPTURE_VARIANTS.length]!);
      const line: string[] = [];
      for (const variant of order) {
        const name = `bench-${shift}-${CAPTURE_VARIANTS.indexOf(variant)}`;
        // Where a cell writes it: in memory where the machine has room.
        const pcapPath = scratchPcapPath(join(pcapDir, `${name}.pcapng`));
        const s = await transfer(target, variant, data, pcapPath, name);
        const t = variant === 'capture' ? await timeTranscript(target, pcapPath) : undefined;
        await rm(pcapPath, { force: true });
        line.push(`${variant} ${s.toFixed(2)} s${t === undefined ? '' : ` (its transcript ${t.toFixed(2)} s)`}`);
        if (round >= 0) seconds[variant].push(s);
        if (round >= 0 && t !== undefined) transcriptSeconds.push(t);
      }
      log(`capture ${round < 0 ? 'warm-up' : `round ${round + 1}/${settings.rounds}`}: ${line.join(', ')}`);
    }
    const unavailable = passiveCaptureUnavailable();
    return { settings, seconds, transcriptSeconds, captureKind: unavailable === undefined ? 'recorded passively on the loopback' : `through the relaying proxy (${unavailable})` };
  } finally {
    await rm(pcapDir, { recursive: true, force: true });
    await target.stop();
  }
}

/** The table: per variant, median seconds, MB/s and throughput against direct (median of the per-round ratios). */
export function captureTable(figures: CaptureFigures): string {
  const { settings, seconds, transcriptSeconds, captureKind } = figures;
  const bytes = settings.sizeMiB * MiB * 2;
  const direct = seconds.direct;
  const rows = CAPTURE_VARIANTS.map((variant) => {
    const s = median(seconds[variant]);
    const paired = median(seconds[variant].map((v, round) => direct[round]! / v));
    return `${variant.padEnd(20)}${s.toFixed(3).padStart(10)}${(bytes / s / 1e6).toFixed(0).padStart(8)}${paired.toFixed(2).padStart(18)}`;
  });
  return [
    `capture: ${settings.sizeMiB} MiB written and read back on ${settings.target}@native by the TypeScript client, ${settings.rounds} rounds after ${settings.warmup} untimed, medians`,
    `${'variant'.padEnd(20)}${'seconds'.padStart(10)}${'MB/s'.padStart(8)}${'ratio to direct'.padStart(18)}`,
    ...rows,
    `capture ratio (capture over direct, throughput; the capture ${captureKind}): ${median(seconds.capture.map((v, round) => direct[round]! / v)).toFixed(2)}`,
    `the transcript of a kept capture, made after the cell (read, decrypt, render): ${median(transcriptSeconds).toFixed(3)} s`,
  ].join('\n');
}
