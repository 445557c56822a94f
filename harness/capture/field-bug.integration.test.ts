/**
 * The bug this harness was built for, reproduced with the client's test faults against smb302-ccm
 * (SMB 3.0.2, AES-128-CCM required): the traces must name the cause without a debugger.
 */
import { expect, test } from '@playwright/test';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findProfile, resolveProfiles } from '../../servers/catalog/index.js';
import { startNativeTarget } from '../../servers/samba/native.js';
import type { StartedNativeTarget } from '../../servers/samba/native.js';
import { SmbClient } from '../../clients/smb/client.js';
import type { SmbClientOptions } from '../../clients/smb/client.js';
import { namedFaults, withFaults } from '../../clients/smb/faults.js';
import { wiresharkCommand } from './keys.js';
import { CaptureProxy } from './proxy.js';
import { TranscriptRecorder } from './transcript.js';

const execFileAsync = promisify(execFile);
const profiles = resolveProfiles({});

let dir: string;
let target: StartedNativeTarget;
let proxy: CaptureProxy;
test.beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smb-interop-field-bug-test-'));
  target = await startNativeTarget(findProfile(profiles, 'smb302-ccm'));
  proxy = await CaptureProxy.start({ upstreamHost: target.host, upstreamPort: target.port, pcapPath: join(dir, 'trace.pcapng') });
});
test.afterEach(async () => {
  await proxy.close();
  await target.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Connects through the proxy, tree-connects `data` (expected to fail), closes; returns the error message. */
async function treeConnectThroughProxy(recorder: TranscriptRecorder, extra: Partial<SmbClientOptions>): Promise<string | undefined> {
  const user = target.user();
  const outcome = await SmbClient.connect({
    host: proxy.host, port: proxy.port, username: user.username, password: user.password, timeoutMs: 15_000, observer: recorder, ...extra,
  }).then(async (client) => {
    try {
      await client.connectTree('data');
      return undefined;
    } finally {
      await client.close();
    }
  }).then(() => undefined, (error: unknown) => (error as Error).message);
  await proxy.close();
  return outcome;
}

test('inner SessionId zeroed: the transcript and the decrypted pcap both show SessionId 0 inside the encrypted TREE_CONNECT', async () => {
  const recorder = new TranscriptRecorder();
  const error = await treeConnectThroughProxy(recorder, withFaults({}, namedFaults({ zeroInnerSessionIdWhenEncrypting: true })));
  expect(error).toContain('STATUS_USER_SESSION_DELETED');
  const text = recorder.toText(proxy.closeEvents);
  expect(text).toMatch(/send {5}TREE_CONNECT {2}mid=\d+ {2}sid=0x0000000000000000 tid=0 {2}ENC /);
  expect(text).toMatch(/receive {2}TREE_CONNECT {2}mid=\d+ {2}sid=0x0000000000000000 tid=0 {2}- {4}credits \d+\/\+\d+ {2}STATUS_USER_SESSION_DELETED/);

  // Decrypted, tshark shows both SessionIds of that frame: the transform header's and the inner header's 0.
  const tsharkLine = wiresharkCommand(proxy.pcapPath!, recorder.keys).split('\n').find((line) => line.startsWith('tshark '))!;
  const { stdout } = await execFileAsync('bash', ['-c', `${tsharkLine} -T fields -e smb2.cmd -e smb2.sesid -e smb2.nt_status`], { timeout: 30_000 });
  const treeConnects = stdout.split('\n').filter((line) => line.startsWith('3\t'));
  const sid = `0x${recorder.keys[0]!.sessionId.toString(16).padStart(16, '0')}`;
  expect(treeConnects).toEqual([`3\t${sid},0x0000000000000000\t`, '3\t0x0000000000000000\t0xc0000203']);
});

test('SMB2_GLOBAL_CAP_ENCRYPTION left out: the transcript shows the capabilities of the field bug and the refusal', async () => {
  const recorder = new TranscriptRecorder();
  const error = await treeConnectThroughProxy(recorder, withFaults({}, namedFaults({ omitEncryptionCapability: true })));
  expect(error).toBe('STATUS_ACCESS_DENIED (0xC0000022) on SESSION_SETUP');
  const lines = recorder.toText(proxy.closeEvents).split('\n');
  expect(lines.find((l) => l.includes('send     NEGOTIATE'))).toContain('capabilities DFS|LEASING|LARGE_MTU ciphers');
  // 0x00000007: the server negotiated no encryption.
  expect(lines.find((l) => l.includes('receive  NEGOTIATE'))).toMatch(/STATUS_SUCCESS {2}dialect 3\.0\.2 capabilities DFS\|LEASING\|LARGE_MTU$/);
  expect(lines.filter((l) => l.includes('receive  SESSION_SETUP')).at(-1)).toContain('STATUS_ACCESS_DENIED');
  expect(recorder.keys).toEqual([]);
  // How the connection ended closes the transcript: both FINs, after the server's last answer.
  const ends = lines.filter((l) => l.startsWith('# connection ')).map((l) => l.replace(/\d+ ms after frame \d+/, 'N ms after frame F'));
  expect(ends.sort()).toEqual([
    '# connection 1: client closed the connection (FIN) N ms after frame F (server data, 77 bytes)',
    '# connection 1: server closed the connection (FIN) N ms after frame F (server data, 77 bytes)',
  ]);
});
