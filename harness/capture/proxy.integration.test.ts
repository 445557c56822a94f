import { expect, test } from '@playwright/test';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findProfile, resolveProfiles } from '../../servers/catalog/index.js';
import { startNativeTarget } from '../../servers/samba/native.js';
import type { StartedNativeTarget } from '../../servers/samba/native.js';
import { SmbClient } from '../../clients/smb/client.js';
import type { SmbSessionKeys } from '../../clients/smb/observer.js';
import type { CipherName } from '../../clients/smb/negotiation.js';
import {
  AccessMask, Command, commandName, CreateDisposition, CreateOption, ShareAccess, decodeCreateResponse, encodeCloseRequest, encodeCreateRequest,
} from '../../clients/smb/wire/index.js';
import { CaptureProxy } from './proxy.js';
import { seskeyRecord, wiresharkCommand, wiresharkKeyFile } from './keys.js';
import { TranscriptRecorder } from './transcript.js';

const execFileAsync = promisify(execFile);
const profiles = resolveProfiles({});
const FILE_NAME = 'capture-proof.txt';

let dir: string;
test.beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smb-interop-capture-test-'));
});
test.afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tshark(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const { stdout } = await execFileAsync('tshark', args, { timeout: 30_000, maxBuffer: 16 * 1024 * 1024, env });
  return stdout.split('\n').filter((line) => line.trim() !== '');
}

interface CapturedSession {
  pcapPath: string;
  keys: SmbSessionKeys[];
  recorder: TranscriptRecorder;
  proxy: CaptureProxy;
  target: StartedNativeTarget;
}

/** Through the proxy: connect, tree-connect `data`, CREATE capture-proof.txt, CLOSE, disconnect. */
async function captureCreate(
  profileName: string,
  use: (captured: CapturedSession) => Promise<void>,
  ciphers?: readonly CipherName[],
): Promise<void> {
  const target = await startNativeTarget(findProfile(profiles, profileName));
  const pcapPath = join(dir, 'trace.pcapng');
  const proxy = await CaptureProxy.start({ upstreamHost: target.host, upstreamPort: target.port, pcapPath });
  try {
    const recorder = new TranscriptRecorder();
    const user = target.user();
    const client = await SmbClient.connect({
      host: proxy.host, port: proxy.port, username: user.username, password: user.password, timeoutMs: 15_000, observer: recorder,
      ...(ciphers === undefined ? {} : { ciphers }),
    });
    try {
      const tree = await client.connectTree('data');
      const created = await tree.request({
        command: Command.Create,
        body: encodeCreateRequest({
          name: FILE_NAME,
          desiredAccess: (AccessMask.GenericRead | AccessMask.GenericWrite) >>> 0,
          shareAccess: ShareAccess.Read | ShareAccess.Write,
          createDisposition: CreateDisposition.OverwriteIf,
          createOptions: CreateOption.NonDirectoryFile,
        }),
      });
      const { fileId } = decodeCreateResponse(created.message);
      await tree.request({ command: Command.Close, body: encodeCloseRequest({ fileId }) });
      await tree.disconnect();
    } finally {
      await client.close();
    }
    await proxy.close();
    await use({ pcapPath, keys: recorder.keys, recorder, proxy, target });
  } finally {
    await proxy.close();
    await target.stop();
  }
}

const FIELDS = ['-T', 'fields', '-e', 'frame.number', '-e', 'smb2.cmd', '-e', 'smb2.tree', '-e', 'smb2.filename'];

const CASES: { profile: string; cipher: CipherName; offer?: CipherName[] }[] = [
  { profile: 'smb302-ccm', cipher: 'AES-128-CCM' },
  { profile: 'smb311-gcm', cipher: 'AES-128-GCM' },
  { profile: 'smb311-aes256', cipher: 'AES-256-GCM' },
  { profile: 'smb311-aes256', cipher: 'AES-256-CCM', offer: ['AES-256-CCM'] },
];

for (const { profile: profileName, cipher, offer } of CASES) {
  test(`${profileName}, ${cipher}: tshark decrypts the trace with the key file's rows and shows the tree and file names`, async () => {
    await captureCreate(profileName, async ({ pcapPath, keys, proxy, recorder }) => {
      expect(keys.map((k) => k.cipher)).toEqual([cipher]);
      const keyOptions = keys.flatMap((k) => ['-o', `uat:smb2_seskey_list:${seskeyRecord(k)}`]);
      const decrypted = (await tshark(['-r', pcapPath, ...keyOptions, '-Y', 'smb2', ...FIELDS])).join('\n');
      expect(decrypted).toContain('\\\\127.0.0.1\\data');
      expect(decrypted).toContain(FILE_NAME);

      // Without keys the same frames are opaque SMB3 transform headers; with them, each is a command.
      const transformFields = ['-Y', 'smb2.header.transform.nonce', '-T', 'fields', '-e', 'frame.number', '-e', 'smb2.cmd'];
      const opaque = await tshark(['-r', pcapPath, ...transformFields]);
      const opened = await tshark(['-r', pcapPath, ...keyOptions, ...transformFields]);
      expect(opaque.length).toBeGreaterThanOrEqual(8);
      expect(opaque.map((line) => line.split('\t')[1] ?? '')).toEqual(opaque.map(() => ''));
      expect(opened.map((line) => line.split('\t')[0])).toEqual(opaque.map((line) => line.split('\t')[0]));
      expect(opened.every((line) => /^\d+\t\d+$/.test(line))).toBe(true);
      const withoutKeys = await tshark(['-r', pcapPath, '-Y', 'smb2', ...FIELDS]);
      expect(withoutKeys.join('\n')).not.toContain(FILE_NAME);

      // The transcript lists the messages tshark decrypted, in the same order.
      const commands = (await tshark(['-r', pcapPath, ...keyOptions, '-Y', 'smb2', '-T', 'fields', '-e', 'smb2.cmd'])).map(Number);
      expect(recorder.messages.map((m) => m.command)).toEqual(commands.map((c) => commandName(c)));
      expect(recorder.toText()).toContain(`ENC  credits 1/+1  ${JSON.stringify(FILE_NAME)}`);

      // Wireshark finds nothing wrong with the synthetic TCP: no gaps, good checksums.
      const problems = await tshark(['-r', pcapPath, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE',
        '-Y', 'tcp.analysis.flags || ip.checksum.status != 1 || tcp.checksum.status != 1 || (_ws.expert.severity >= warning && !smb2)',
        '-T', 'fields', '-e', 'frame.number', '-e', '_ws.expert.message']);
      expect(problems).toEqual([]);
      expect(proxy.counters.connections).toBe(1);
      expect(proxy.closeEvents.map((e) => [e.side, e.kind])).toEqual([['client', 'FIN'], ['server', 'FIN']]);
    }, offer);
  });
}

test('smb302-ccm: the key file is a Wireshark smb2_seskey_list file and the printed command decrypts', async () => {
  await captureCreate('smb302-ccm', async ({ pcapPath, keys }) => {
    const configDir = join(dir, 'wireshark-profile');
    await execFileAsync('mkdir', ['-p', configDir]);
    await writeFile(join(configDir, 'smb2_seskey_list'), wiresharkKeyFile(keys));
    const viaFile = await tshark(['-r', pcapPath, '-Y', 'smb2', ...FIELDS], { ...process.env, WIRESHARK_CONFIG_DIR: configDir });
    expect(viaFile.join('\n')).toContain(FILE_NAME);

    const tsharkLine = wiresharkCommand(pcapPath, keys).split('\n').find((l) => l.startsWith('tshark '))!;
    const { stdout } = await execFileAsync('bash', ['-c', `${tsharkLine} ${FIELDS.join(' ')}`], { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 });
    expect(stdout).toContain(FILE_NAME);
    expect(stdout).toContain('\\\\127.0.0.1\\data');
  });
});

async function listen(onConnection: (socket: Socket) => void): Promise<Server> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

test('a server that resets the connection after the first request is recorded as RST, after that frame', async () => {
  const server = await listen((socket) => socket.once('data', () => setTimeout(() => socket.resetAndDestroy(), 5)));
  const pcapPath = join(dir, 'reset.pcapng');
  const proxy = await CaptureProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: (server.address() as { port: number }).port, pcapPath });
  try {
    const client = connect(proxy.port, proxy.host);
    const outcome = await new Promise<string>((resolve) => {
      client.on('connect', () => client.write(Buffer.from('hello')));
      client.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      client.on('close', () => resolve('closed'));
      setTimeout(() => resolve('timeout'), 10_000);
    });
    expect(outcome).toBe('ECONNRESET');
    await proxy.close();
    expect(proxy.closeEvents).toHaveLength(1);
    const [event] = proxy.closeEvents;
    expect(event).toMatchObject({ connection: 1, side: 'server', kind: 'RST', errorCode: 'ECONNRESET', afterFrame: 4 });
    expect(event!.description).toMatch(/^server reset the connection \(RST\) \d+ ms after frame 4 \(client data, 5 bytes\)$/);
    const frames = await tshark(['-r', pcapPath, '-T', 'fields', '-e', 'frame.number', '-e', 'tcp.srcport', '-e', 'tcp.flags.str', '-e', 'tcp.len']);
    expect(frames.map((f) => f.split('\t').slice(2).join(' ').replace(/\u00b7/g, '.'))).toEqual([
      '..........S. 0', '.......A..S. 0', '.......A.... 0', '.......AP... 5', '.......A.... 0', '.......A.R.. 0',
    ]);
    expect(frames[5]!.split('\t')[1]).toBe('445');
  } finally {
    await proxy.close();
    server.close();
  }
});

test('a server that refuses the connection: the client is reset and the event names the refusal', async () => {
  const server = await listen(() => undefined);
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const proxy = await CaptureProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: port });
  try {
    const client = connect(proxy.port, proxy.host);
    const outcome = await new Promise<string>((resolve) => {
      client.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      client.on('close', () => resolve('closed'));
    });
    expect(outcome).toBe('ECONNRESET');
    expect(proxy.closeEvents).toMatchObject([{ side: 'server', kind: 'CONNECT_FAILED', errorCode: 'ECONNREFUSED' }]);
    expect(proxy.closeEvents[0]!.description).toBe(`cannot connect to 127.0.0.1:${port}: ECONNREFUSED before any data`);
  } finally {
    await proxy.close();
  }
});

test('a client that resets is recorded as a client RST and the server sees the reset too', async () => {
  let serverSaw = '';
  let markClosed!: () => void;
  const serverClosed = new Promise<void>((resolve) => (markClosed = resolve));
  const server = await listen((socket) => {
    socket.on('error', (error: NodeJS.ErrnoException) => (serverSaw = error.code ?? error.message));
    socket.on('close', () => markClosed());
  });
  const proxy = await CaptureProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: (server.address() as { port: number }).port });
  try {
    const client = connect(proxy.port, proxy.host);
    await new Promise<void>((resolve) => client.once('connect', resolve));
    client.write(Buffer.from('partial request'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.resetAndDestroy();
    await serverClosed;
    expect(serverSaw).toBe('ECONNRESET');
    expect(proxy.closeEvents).toMatchObject([{ side: 'client', kind: 'RST', errorCode: 'ECONNRESET', afterFrame: 4 }]);
  } finally {
    await proxy.close();
    server.close();
  }
});

test('close() ends a connection still open: both peers are closed and the event says the capture ended', async () => {
  const server = await listen(() => undefined);
  const pcapPath = join(dir, 'open.pcapng');
  const proxy = await CaptureProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: (server.address() as { port: number }).port, pcapPath, closeGraceMs: 50 });
  const client = connect(proxy.port, proxy.host);
  const clientClosed = new Promise<void>((resolve) => client.on('close', () => resolve()));
  client.on('error', () => undefined);
  await new Promise<void>((resolve) => client.once('connect', resolve));
  await new Promise((resolve) => setTimeout(resolve, 50));
  await proxy.close();
  await clientClosed;
  server.close();
  expect(proxy.closeEvents).toMatchObject([{ side: 'proxy', kind: 'PROXY_CLOSED', afterFrame: 0 }]);
  expect(proxy.closeEvents[0]!.description).toBe('the capture ended with the connection still open before any data');
  const frames = await tshark(['-r', pcapPath, '-T', 'fields', '-e', 'tcp.flags.str', '-e', 'frame.comment']);
  expect(frames.map((f) => f.replace(/\u00b7/g, '.').replace(/\t$/, ''))).toEqual([
    '..........S.', '.......A..S.', '.......A....',
    '.......A...F\tthe capture ended with the connection still open before any data', '.......A....',
    '.......A...F', '.......A....',
  ]);
  await expect(new Promise((resolve, reject) => connect(proxy.port, proxy.host).on('connect', resolve).on('error', reject))).rejects.toThrow('ECONNREFUSED');
});

/** A listener whose process stops accepting: once its small backlog is full, SYNs go unanswered. */
async function unansweringServer(): Promise<{ port: number; stop: () => void }> {
  const script = `
    const server = require('node:net').createServer();
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      process.stdout.write(server.address().port + '\\n');
      setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30000), 10);
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`the listener exited (${code})`)));
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  return { port, stop: () => child.kill('SIGKILL') };
}

test('a server that never answers: after connectTimeoutMs the client is reset and the event says so', async () => {
  const server = await unansweringServer();
  const fillers: Socket[] = [];
  try {
    // Fill the accept queue the stalled process never drains.
    for (let i = 0; i < 4; i++) fillers.push(connect(server.port, '127.0.0.1').on('error', () => undefined));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const proxy = await CaptureProxy.start({ upstreamHost: '127.0.0.1', upstreamPort: server.port, connectTimeoutMs: 500 });
    try {
      const started = Date.now();
      const client = connect(proxy.port, proxy.host);
      const outcome = await new Promise<string>((resolve) => {
        client.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        client.on('close', () => resolve('closed'));
        setTimeout(() => resolve('still open after 10 s'), 10_000);
      });
      expect(outcome).toBe('ECONNRESET');
      expect(Date.now() - started).toBeGreaterThanOrEqual(450);
      expect(proxy.closeEvents).toMatchObject([{ side: 'server', kind: 'CONNECT_TIMEOUT' }]);
      expect(proxy.closeEvents[0]!.description).toBe(`no answer from 127.0.0.1:${server.port} within 500 ms before any data`);
    } finally {
      await proxy.close();
    }
  } finally {
    for (const socket of fillers) socket.destroy();
    server.stop();
  }
});
