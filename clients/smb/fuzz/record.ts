/**
 * Records the fuzz scenario against a real smbd: `node dist/clients/smb/fuzz/record.js
 * [--profile smb202-legacy] [--out FILE]`. A proxy between the client and the server keeps every
 * frame; each server frame is filed under the client frame holding the MessageId it answers.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findProfile, resolveProfiles } from '../../../servers/catalog/index.js';
import { startNativeTarget } from '../../../servers/samba/native.js';
import { deterministicBytes, installRunHooks, runs } from './context.js';
import { RECORDINGS_DIR, RECORDING_FORMAT, UNSOLICITED_MESSAGE_ID, describeFrame, frameSplitter, messageIdOf, saveRecording, splitMessages } from './recording.js';
import type { Exchange, Recording } from './recording.js';
import { SHARE_DIRECTORIES, SHARE_FILES, runScenario } from './scenario.js';

/** A proxy to host:port that files the frames of its one connection into `exchanges`. */
async function recordingProxy(host: string, port: number, exchanges: Exchange[]): Promise<{ port: number; close(): Promise<void> }> {
  const byMessageId = new Map<bigint, Exchange>();
  const sockets: Socket[] = [];
  const server = createServer((client) => {
    const upstream = createConnection({ host, port });
    sockets.push(client, upstream);
    client.on('data', frameSplitter((frame) => {
      const exchange: Exchange = { request: frame, responses: [] };
      exchanges.push(exchange);
      for (const message of splitMessages(frame)) byMessageId.set(messageIdOf(message), exchange);
    }));
    upstream.on('data', frameSplitter((frame) => {
      const messageId = messageIdOf(frame);
      const exchange = messageId === UNSOLICITED_MESSAGE_ID ? exchanges.at(-1) : byMessageId.get(messageId);
      if (exchange === undefined) throw new Error(`record: server frame ${describeFrame(frame)} answers no client frame`);
      exchange.responses.push(frame);
    }));
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('record: the proxy has no port');
  return {
    port: address.port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * The sessions recorded, by profile: a user's on smb202-legacy (unsigned, so replays verify),
 * and a guest's on the guest profile's public share (an unknown user mapped to guest).
 */
export const SESSIONS: Record<string, { share: string; guest: boolean }> = {
  'smb202-legacy': { share: 'data', guest: false },
  guest: { share: 'public', guest: true },
};

export async function record(profileName: string): Promise<Recording> {
  const session = SESSIONS[profileName];
  if (session === undefined) throw new Error(`record: no fuzz session for profile ${profileName} (known: ${Object.keys(SESSIONS).join(', ')})`);
  const target = await startNativeTarget(findProfile(resolveProfiles({}), profileName));
  const uninstall = installRunHooks();
  try {
    const root = target.share(session.share).localPath;
    if (root === undefined) throw new Error(`record: ${target.name} share ${session.share} has no local path`);
    // The share's account (not root) writes in them: modes set after the umask.
    for (const directory of SHARE_DIRECTORIES) {
      await mkdir(join(root, directory), { recursive: true });
      await chmod(join(root, directory), 0o777);
    }
    for (const [path, data] of Object.entries(SHARE_FILES)) {
      await writeFile(join(root, path), data);
      await chmod(join(root, path), 0o666);
    }
    const exchanges: Exchange[] = [];
    const proxy = await recordingProxy(target.host, target.port, exchanges);
    const user = session.guest ? { username: 'fuzz-guest', password: 'unknown-to-the-server' } : target.user();
    const randomSeed = `${profileName}-recording`;
    try {
      const context = { random: deterministicBytes(randomSeed), largeAllocations: [] };
      const outcome = await runs.run(context, () => runScenario({
        host: '127.0.0.1', port: proxy.port, username: user.username, password: user.password, guest: session.guest, timeoutMs: 10_000,
      }, session.share, 30_000));
      const failed = outcome.results.find((r) => !r.ok);
      if (outcome.hung !== undefined || failed !== undefined) {
        throw new Error(`record: the scenario did not complete against ${target.name}: ${JSON.stringify(failed ?? outcome.hung)}`);
      }
      // The client's close reaches the proxy a moment later; nothing answers it.
      await new Promise((resolve) => setTimeout(resolve, 200));
      return {
        format: RECORDING_FORMAT, profile: profileName, serverVersion: target.serverVersion, randomSeed,
        username: user.username, password: user.password, guest: session.guest, share: session.share, results: outcome.results, exchanges,
      };
    } finally {
      await proxy.close();
    }
  } finally {
    uninstall();
    await target.stop();
  }
}

async function main(argv: string[]): Promise<void> {
  const option = (name: string) => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const profile = option('--profile') ?? 'smb202-legacy';
  const out = option('--out') ?? join(RECORDINGS_DIR, `${profile}.json.gz`);
  const recording = await record(profile);
  saveRecording(out, recording);
  const frames = recording.exchanges.reduce((n, e) => n + e.responses.length, 0);
  console.log(`record: ${recording.exchanges.length} client frames, ${frames} server frames from ${profile} (Samba ${recording.serverVersion}) -> ${out}`);
  for (const exchange of recording.exchanges) {
    console.log(`  ${describeFrame(exchange.request)} -> ${exchange.responses.map(describeFrame).join(', ')}`);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.stack ?? error.message : error);
    process.exitCode = 1;
  });
}
