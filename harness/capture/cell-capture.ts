/**
 * Everything one matrix cell records, in one place: a capture proxy in front of the target, a
 * transcript recorder for the client's observer, and at the end the four trace files under the
 * cell's directory, named as harness/annotations.ts says, ready for testInfo.attach.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Attachment } from '../annotations.js';
import type { AttachmentName } from '../annotations.js';
import { wiresharkCommand, wiresharkKeyFile } from './keys.js';
import { CaptureProxy } from './proxy.js';
import type { CaptureCounters, CloseEvent } from './proxy.js';
import { TranscriptRecorder } from './transcript.js';

export interface CellCaptureOptions {
  /** The cell's trace directory (created); must be under results/, since the key file is secret. */
  dir: string;
  upstreamHost: string;
  upstreamPort: number;
  connectTimeoutMs?: number;
  /** Store at most this many bytes per frame (for bulk-transfer scenarios). */
  snapLength?: number;
}

export interface TraceAttachment {
  name: AttachmentName;
  path: string;
  contentType: string;
}

export interface CellTraces {
  attachments: TraceAttachment[];
  /** tshark and wireshark command lines that open the pcap decrypted (for the `wireshark` annotation). */
  wiresharkCommand: string;
  closeEvents: CloseEvent[];
  counters: CaptureCounters;
}

export class CellCapture {
  private finished: Promise<CellTraces> | undefined;

  private constructor(
    readonly dir: string,
    readonly proxy: CaptureProxy,
    readonly recorder: TranscriptRecorder,
  ) {}

  static async start(options: CellCaptureOptions): Promise<CellCapture> {
    await mkdir(options.dir, { recursive: true });
    const proxyOptions: Parameters<typeof CaptureProxy.start>[0] = {
      upstreamHost: options.upstreamHost,
      upstreamPort: options.upstreamPort,
      pcapPath: join(options.dir, Attachment.pcap),
    };
    if (options.connectTimeoutMs !== undefined) proxyOptions.connectTimeoutMs = options.connectTimeoutMs;
    if (options.snapLength !== undefined) proxyOptions.snapLength = options.snapLength;
    const proxy = await CaptureProxy.start(proxyOptions);
    return new CellCapture(options.dir, proxy, new TranscriptRecorder(Date.now()));
  }

  /** Where the client connects instead of the target. */
  get host(): string {
    return this.proxy.host;
  }

  get port(): number {
    return this.proxy.port;
  }

  /** The observer to pass to SmbClient.connect. */
  get observer(): TranscriptRecorder {
    return this.recorder;
  }

  /** Closes the proxy and writes the key file and transcripts beside the pcap. Idempotent. */
  finish(): Promise<CellTraces> {
    this.finished ??= this.writeTraces();
    return this.finished;
  }

  private async writeTraces(): Promise<CellTraces> {
    await this.proxy.close();
    const path = (name: AttachmentName): string => join(this.dir, name);
    const keys = this.recorder.keys;
    await writeFile(path(Attachment.keys), wiresharkKeyFile(keys), { mode: 0o600 });
    await writeFile(path(Attachment.transcriptJson), this.recorder.toJson());
    await writeFile(path(Attachment.transcriptText), this.transcriptText());
    return {
      attachments: [
        { name: Attachment.pcap, path: path(Attachment.pcap), contentType: 'application/vnd.tcpdump.pcap' },
        { name: Attachment.keys, path: path(Attachment.keys), contentType: 'text/plain' },
        { name: Attachment.transcriptJson, path: path(Attachment.transcriptJson), contentType: 'application/json' },
        { name: Attachment.transcriptText, path: path(Attachment.transcriptText), contentType: 'text/plain' },
      ],
      wiresharkCommand: wiresharkCommand(path(Attachment.pcap), keys),
      closeEvents: [...this.proxy.closeEvents],
      counters: { ...this.proxy.counters },
    };
  }

  /** The transcript, then how each TCP connection ended (a reset is often the whole story). */
  private transcriptText(): string {
    const ends = this.proxy.closeEvents.map((e) => `# connection ${e.connection}: ${e.description}`);
    return this.recorder.toText() + (ends.length === 0 ? '' : `${ends.join('\n')}\n`);
  }
}
