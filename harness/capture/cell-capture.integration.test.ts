import { expect, test } from '@playwright/test';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findProfile, resolveProfiles } from '../../servers/catalog/index.js';
import { startNativeTarget } from '../../servers/samba/native.js';
import type { StartedNativeTarget } from '../../servers/samba/native.js';
import { SmbClient } from '../../clients/smb/client.js';
import type { SmbClientOptions } from '../../clients/smb/client.js';
import { Attachment } from '../annotations.js';
import { CellCapture } from './cell-capture.js';

const execFileAsync = promisify(execFile);
const profiles = resolveProfiles({});

let dir: string;
let target: StartedNativeTarget;
test.beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smb-interop-cell-capture-test-'));
  target = await startNativeTarget(findProfile(profiles, 'smb302-ccm'));
});
test.afterEach(async () => {
  await target.stop();
  await rm(dir, { recursive: true, force: true });
});

async function connectThrough(capture: CellCapture, extra: Partial<SmbClientOptions> = {}): Promise<SmbClient> {
  const user = target.user();
  return SmbClient.connect({
    host: capture.host, port: capture.port, username: user.username, password: user.password, timeoutMs: 15_000,
    observer: capture.observer, ...extra,
  });
}

test('a cell leaves the four trace files; its wireshark command opens the pcap decrypted', async () => {
  const capture = await CellCapture.start({ dir: join(dir, 'cell'), upstreamHost: target.host, upstreamPort: target.port });
  try {
    const client = await connectThrough(capture);
    await client.connectTree('data');
    await client.close();
  } finally {
    await capture.finish();
  }
  const traces = await capture.finish();
  expect(traces.attachments.map((a) => a.name)).toEqual([Attachment.pcap, Attachment.keys, Attachment.transcriptJson, Attachment.transcriptText]);
  for (const { path } of traces.attachments) expect((await stat(path)).size).toBeGreaterThan(0);
  expect((await stat(join(dir, 'cell', Attachment.keys))).mode & 0o777).toBe(0o600);

  const json = JSON.parse(await readFile(join(dir, 'cell', Attachment.transcriptJson), 'utf8')) as { messages: { command: string; summary: string }[] };
  expect(json.messages.find((m) => m.command === 'TREE_CONNECT')?.summary).toBe(JSON.stringify(`\\\\${capture.host}\\data`));
  const text = await readFile(join(dir, 'cell', Attachment.transcriptText), 'utf8');
  // The IOCTL (validate negotiate) response was the last data; then the client's FIN, then the server's.
  expect(text).toMatch(/\n# connection 1: client closed the connection \(FIN\) \d+ ms after frame (\d+) \(server data, \d+ bytes\)\n# connection 1: server closed the connection \(FIN\) \d+ ms after frame \1 \(server data, \d+ bytes\)\n$/);

  const tsharkLine = traces.wiresharkCommand.split('\n').find((line) => line.startsWith('tshark '))!;
  const { stdout } = await execFileAsync('bash', ['-c', `${tsharkLine} -T fields -e smb2.tree`], { timeout: 30_000 });
  expect(stdout).toContain(`\\\\${capture.host}\\data`);
});

test('the field bug, reproduced: the trace shows the encrypted TREE_CONNECT with inner SessionId 0 and the refusal', async () => {
  const capture = await CellCapture.start({ dir: join(dir, 'cell'), upstreamHost: target.host, upstreamPort: target.port });
  let sessionId = 0n;
  try {
    const client = await connectThrough(capture, { testFaults: { zeroInnerSessionIdWhenEncrypting: true } });
    const error = await client.connectTree('data').then(() => undefined, (e: unknown) => e as Error);
    expect(error?.message).toContain('STATUS_USER_SESSION_DELETED');
    sessionId = capture.recorder.keys[0]!.sessionId;
    await client.close();
  } finally {
    await capture.finish();
  }
  const traces = await capture.finish();
  const text = await readFile(join(dir, 'cell', Attachment.transcriptText), 'utf8');
  expect(text).toMatch(/send {5}TREE_CONNECT {2}mid=\d+ {2}sid=0x0000000000000000 tid=0 {2}ENC /);
  expect(text).toMatch(/receive {2}TREE_CONNECT {2}mid=\d+ {2}sid=0x0000000000000000 tid=0 {2}- {4}credits \d+\/\+\d+ {2}STATUS_USER_SESSION_DELETED/);

  // Decrypted, tshark shows both SessionIds of that frame: the transform header's and the inner header's 0.
  const tsharkLine = traces.wiresharkCommand.split('\n').find((line) => line.startsWith('tshark '))!;
  const { stdout } = await execFileAsync('bash', ['-c', `${tsharkLine} -T fields -e smb2.cmd -e smb2.sesid -e smb2.nt_status`], { timeout: 30_000 });
  const treeConnects = stdout.split('\n').filter((line) => line.startsWith('3\t'));
  const sid = `0x${sessionId.toString(16).padStart(16, '0')}`;
  expect(treeConnects).toEqual([`3\t${sid},0x0000000000000000\t`, '3\t0x0000000000000000\t0xc0000203']);
});
