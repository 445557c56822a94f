import { expect, test } from '@playwright/test';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findProfile, resolveProfiles } from '../../servers/catalog/index.js';
import type { Profile } from '../../servers/catalog/index.js';
import { startNativeTarget } from '../../servers/samba/native.js';
import type { StartedTarget } from '../../servers/target.js';
import { CaptureProxy } from '../../harness/capture/proxy.js';
import { decodeWire, serverKeysFor } from '../../harness/capture/wire-decode.js';
import type { DecodedWire } from '../../harness/capture/wire-decode.js';
import { readWireFrames } from '../../harness/pcap-reader.js';
import { decodeCreateRequest, decodeNegotiateResponse, decodeSessionSetupResponse } from '../smb/wire/index.js';
import type { ServerSessionKeys } from '../../servers/samba/server-keys.js';
import { DriverClient, type Entry, type Hello } from './testing/driver-client.js';
import { loggedSigning, supportedDialects, usableCiphers, usableSigning, wireFacts } from './testing/wire-facts.js';

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Domain profiles are judged for every client in the matrix's ad-* columns.
const profiles = resolveProfiles({}).filter((p) => p.domain === undefined);

interface DriverUnderTest {
  name: string;
  command: string[];
  /** The status a missing file's failure carries (go-smb2 folds NAME and PATH NOT_FOUND into os.ErrNotExist). */
  missingFileStatus: string | undefined;
  /** Whether the library's rename replaces an existing target (true) or never does (false), whatever `replace` says. */
  renameReplaces: boolean;
  /** Whether it encrypts a whole session on a share that does not require it, when the server offers encryption. */
  encryptsUnasked: boolean;
}

const DRIVERS: DriverUnderTest[] = [
  { name: 'go-smb2', command: [join(ROOT, 'clients/drivers/go-smb2/build/smb-interop-go-smb2')], missingFileStatus: undefined, renameReplaces: false, encryptsUnasked: false },
  { name: 'impacket', command: ['/usr/bin/python3', join(ROOT, 'clients/drivers/impacket/driver.py')], missingFileStatus: 'STATUS_OBJECT_NAME_NOT_FOUND', renameReplaces: true, encryptsUnasked: true },
];

/** Targets a driver declares it can use and still fails on, with why (clients/drivers/README.md). */
const KNOWN_LIMITATIONS: Array<{ driver: string; profile: string; failure: RegExp }> = [
  // SMBConnection's default negotiate starts with SMB1 ("SMB 2.???"), which a server without SMB 2.x does not answer in SMB2.
  { driver: 'impacket', profile: 'smb302-ccm', failure: /^ connect \(NEGOTIATE\): .*ServerGuid/ },
  { driver: 'impacket', profile: 'smb300-signing-cmac', failure: /^ connect \(NEGOTIATE\): .*ServerGuid/ },
  { driver: 'impacket', profile: 'windows-hardened', failure: /^ connect \(NEGOTIATE\): .*ServerGuid/ },
];

test.beforeAll(async () => {
  test.setTimeout(600_000);
  // The binary under test is built from the sources under test (a no-op when current).
  await execFileAsync(join(ROOT, 'clients/drivers/go-smb2/build.sh'), [], { timeout: 540_000 });
});

let scratch: string;
test.beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'smb-interop-drivers-'));
});
test.afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

interface Session {
  driver: DriverClient;
  hello: Hello;
  target: StartedTarget;
  share: string;
  /** The share's directory on the server's machine: the oracle for every file operation. */
  disk: string;
}

interface Captured<T> {
  result: T;
  wire: DecodedWire;
  keys: ServerSessionKeys[];
  stderr: string;
}

/**
 * Starts the profile's target, a capture proxy in front of it and the driver; `body` gets the
 * driver before connect. Afterwards everything is stopped and the capture decoded with the
 * server's keys. The driver's stderr is attached to the test.
 */
async function captured<T>(
  driverUnderTest: DriverUnderTest,
  profileName: string,
  shareName: string | undefined,
  body: (session: Session, connectArgs: { host: string; port: number; share: string; username: string; password: string; domain: string; timeoutMs: number }) => Promise<T>,
  env?: NodeJS.ProcessEnv,
): Promise<Captured<T>> {
  const target = await startNativeTarget(findProfile(profiles, profileName));
  const pcapPath = join(scratch, 'trace.pcapng');
  let proxy: CaptureProxy | undefined;
  let driver: DriverClient | undefined;
  try {
    proxy = await CaptureProxy.start({ upstreamHost: target.host, upstreamPort: target.port, pcapPath });
    const started = await DriverClient.start(driverUnderTest.name, driverUnderTest.command, env);
    driver = started.driver;
    const share = target.share(shareName ?? target.shares[0]!.name);
    const user = target.user();
    const result = await body(
      { driver, hello: started.hello, target, share: share.name, disk: share.localPath! },
      { host: '127.0.0.1', port: proxy.port, share: share.name, username: user.username, password: user.password, domain: user.domain, timeoutMs: 20_000 },
    );
    await driver.stop();
    await proxy.close();
    const frames = await readWireFrames(pcapPath, 445);
    const keys = await serverKeysFor(frames, () => target.sessionKeys?.() ?? []);
    return { result, wire: decodeWire(frames, keys), keys, stderr: driver.diagnostics() };
  } finally {
    if (driver !== undefined) {
      await test.info().attach(`${driverUnderTest.name}-stderr.txt`, { body: driver.diagnostics(), contentType: 'text/plain' });
      await driver.stop();
    }
    await proxy?.close();
    await target.stop();
    if (existsSync(pcapPath)) await test.info().attach('trace.pcapng', { path: pcapPath, contentType: 'application/vnd.tcpdump.pcap' });
  }
}

/** The server's directory listing as the protocol's readdir shows it (sizes of files only). */
function diskListing(dir: string): Array<{ name: string; isDirectory: boolean; size?: number }> {
  return readdirSync(dir, { withFileTypes: true })
    .map((e) => (e.isDirectory() ? { name: e.name, isDirectory: true } : { name: e.name, isDirectory: false, size: statSync(join(dir, e.name)).size }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function asListed(entries: Entry[]): Array<{ name: string; isDirectory: boolean; size?: number }> {
  return entries
    .map((e) => (e.isDirectory ? { name: e.name, isDirectory: true } : { name: e.name, isDirectory: false, size: e.size }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Status names of the server's CREATE responses to requests for `name`. */
function createStatuses(wire: DecodedWire, name: string): string[] {
  const requests = new Map<string, string>();
  for (const m of wire.messages.filter((m) => m.header.command === 'CREATE' && m.direction === 'send')) {
    requests.set(`${m.connection}:${m.header.messageId}`, decodeCreateRequest(m.bytes).name);
  }
  return wire.messages
    .filter((m) => m.header.command === 'CREATE' && m.direction === 'receive' && requests.get(`${m.connection}:${m.header.messageId}`) === name)
    .map((m) => m.header.statusName);
}

for (const d of DRIVERS) {
  test.describe(d.name, () => {
    test(`${d.name}: says hello with protocol 1 and its library's name; file operations match the server's disk`, async () => {
      const { result: missing, wire } = await captured(d, 'share-encryption', 'plain', async ({ driver, hello, disk }, connect) => {
        expect(hello.protocol).toBe(1);
        expect(hello.client.name).toBe(d.name);
        expect(hello.client.version).toMatch(/^\d+\.\d+\.\d+( \(.+\))?$/);
        await driver.must('connect', connect);

        const payload = randomBytes(1024 * 1024);
        const source = join(scratch, 'source.bin');
        await writeFile(source, payload);
        await driver.must('writeFile', { path: 'big.bin', source });
        expect(readFileSync(join(disk, 'big.bin')).equals(payload)).toBe(true);
        const destination = join(scratch, 'read-back.bin');
        expect(await driver.must('readFile', { path: 'big.bin', destination })).toEqual({ size: payload.length });
        expect((await readFile(destination)).equals(payload)).toBe(true);

        await driver.must('mkdir', { path: 'dir' });
        expect(statSync(join(disk, 'dir')).isDirectory()).toBe(true);
        await writeFile(source, 'small');
        await driver.must('writeFile', { path: 'dir/small.txt', source });
        expect(readFileSync(join(disk, 'dir', 'small.txt'), 'utf8')).toBe('small');

        expect(asListed((await driver.must('readdir', { path: '' })).entries)).toEqual(diskListing(disk));
        expect(asListed((await driver.must('readdir', { path: 'dir' })).entries)).toEqual(diskListing(join(disk, 'dir')));
        expect(await driver.must('stat', { path: 'big.bin' })).toEqual({ size: payload.length, isDirectory: false });
        expect(await driver.must('stat', { path: 'dir/small.txt' })).toEqual({ size: 5, isDirectory: false });
        expect((await driver.must('stat', { path: 'dir' })).isDirectory).toBe(true);
        expect(await driver.must('exists', { path: 'dir/small.txt' })).toEqual({ exists: true });
        expect(await driver.must('exists', { path: 'nothing-here.txt' })).toEqual({ exists: false });

        await driver.must('rename', { from: 'dir/small.txt', to: 'dir/renamed.txt', replace: false });
        expect(readdirSync(join(disk, 'dir'))).toEqual(['renamed.txt']);
        await driver.must('unlink', { path: 'dir/renamed.txt' });
        expect(readdirSync(join(disk, 'dir'))).toEqual([]);
        await driver.must('rmdir', { path: 'dir' });
        expect(existsSync(join(disk, 'dir'))).toBe(false);

        const missingFile = await driver.request('stat', { path: 'missing.txt' });
        const closed = await driver.close();
        expect(closed).toEqual({ outcome: { ok: true, value: {} }, exit: 'code 0' });
        return missingFile;
      });
      // What the server answered is on the wire; what the driver reports must not contradict it.
      expect(createStatuses(wire, 'missing.txt')).toContain('STATUS_OBJECT_NAME_NOT_FOUND');
      expect(missing.ok).toBe(false);
      if (!missing.ok) {
        expect(missing.error.status).toBe(d.missingFileStatus);
        expect(missing.error.message).toContain('missing.txt');
      }
    });

    test(`${d.name}: a wrong password fails connect with STATUS_LOGON_FAILURE`, async () => {
      const { result } = await captured(d, 'share-encryption', 'plain', async ({ driver }, connect) => {
        const outcome = await driver.connect({ ...connect, password: `${connect.password}-wrong` });
        await driver.close();
        return outcome;
      });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.status).toBe('STATUS_LOGON_FAILURE');
    });

    test(`${d.name}: rename onto an existing file ${d.renameReplaces ? 'always replaces it' : 'never replaces it'}; a plain share's session ${d.encryptsUnasked ? 'is encrypted anyway' : 'is not encrypted'}`, async () => {
      const { result, wire, keys } = await captured(d, 'share-encryption', 'plain', async ({ driver, disk }, connect) => {
        await driver.must('connect', connect);
        const source = join(scratch, 'name.txt');
        for (const name of ['a.txt', 'b.txt', 'c.txt']) {
          await writeFile(source, name);
          await driver.must('writeFile', { path: name, source });
        }
        const keep = await driver.request('rename', { from: 'a.txt', to: 'b.txt', replace: false });
        const replace = await driver.request('rename', { from: 'c.txt', to: 'b.txt', replace: true });
        const onDisk = Object.fromEntries(readdirSync(disk).sort().map((n) => [n, readFileSync(join(disk, n), 'utf8')]));
        await driver.close();
        return { keep, replace, onDisk };
      });
      if (d.renameReplaces) {
        expect([result.keep.ok, result.replace.ok]).toEqual([true, true]);
        expect(result.onDisk).toEqual({ 'b.txt': 'c.txt' });
      } else {
        expect([result.keep, result.replace].map((o) => (o.ok ? 'ok' : o.error.status))).toEqual(['STATUS_OBJECT_NAME_COLLISION', 'STATUS_OBJECT_NAME_COLLISION']);
        expect(result.onDisk).toEqual({ 'a.txt': 'a.txt', 'b.txt': 'b.txt', 'c.txt': 'c.txt' });
      }
      const facts = wireFacts(wire, keys);
      expect(facts.afterSetup.length).toBeGreaterThan(10);
      expect([...new Set(facts.afterSetup.map((m) => m.encrypted))]).toEqual([d.encryptsUnasked]);
    });

    for (const profile of profiles) {
      const share = profile.shares[0]!.name;
      test(`${d.name} on ${profile.name}: what the hello declares holds on the wire`, async () => {
        const { result, wire, keys } = await captured(d, profile.name, share, async ({ driver, hello, disk }, connect) => {
          const supported = supportedDialects(profile, share, hello.capabilities);
          const connected = await driver.connect(connect);
          let written: Awaited<ReturnType<DriverClient['request']>> | undefined;
          if (connected.ok) {
            const source = join(scratch, 'wire.txt');
            await writeFile(source, 'judged on the wire');
            written = await driver.request('writeFile', { path: 'wire.txt', source });
            if (written.ok) expect(readFileSync(join(disk, 'wire.txt'), 'utf8')).toBe('judged on the wire');
          }
          await driver.close();
          return { supported, capabilities: hello.capabilities, connected, written };
        });
        const outcome = !result.connected.ok ? result.connected : result.written !== undefined && !result.written.ok ? result.written : undefined;
        test.info().annotations.push({
          type: 'peer',
          description: `${d.name} x ${profile.name}: declares ${result.supported.length > 0 ? result.supported.join('/') : 'nothing usable'}; ${outcome === undefined ? 'works' : `fails: ${outcome.ok ? '' : `${outcome.error.status ?? '(no status)'}: ${outcome.error.message}`}`}`,
        });
        if (result.supported.length === 0) {
          // Declared unable: the harness will not run it; whatever it does here is not judged.
          return;
        }
        const known = KNOWN_LIMITATIONS.find((k) => k.driver === d.name && k.profile === profile.name);
        if (known !== undefined) {
          // A limitation the README records: it must still fail exactly so, or the README is wrong.
          expect(outcome?.ok).toBe(false);
          if (outcome !== undefined && !outcome.ok) expect(`${outcome.error.status ?? ''} ${outcome.error.message}`).toMatch(known.failure);
          return;
        }
        expect(outcome, 'a target the client declares it can use').toBeUndefined();
        checkWire(profile, share, result.capabilities, result.supported, wire, keys);
      });
    }
  });
}

for (const d of DRIVERS) {
  test(`${d.name}: a guest logon (no user name) lists a guest share as the server's disk has it, or is not declared`, async () => {
    const { result, wire } = await captured(d, 'guest', 'public', async ({ driver, hello, disk }, connect) => {
      if (!hello.capabilities.auth.includes('guest')) return undefined;
      writeFileSync(join(disk, 'for-guests.txt'), 'hello guest');
      await driver.must('connect', { host: connect.host, port: connect.port, share: connect.share, timeoutMs: connect.timeoutMs });
      const listed = asListed((await driver.must('readdir', { path: '' })).entries);
      expect(listed).toEqual(diskListing(disk));
      await driver.close();
      return listed;
    });
    if (result === undefined) return;
    expect(result.map((e) => e.name)).toContain('for-guests.txt');
    // The server marked the session a guest session (SMB2_SESSION_FLAG_IS_GUEST).
    const setup = wire.messages.filter((m) => m.header.command === 'SESSION_SETUP' && m.direction === 'receive' && m.header.status === 0);
    expect(setup.map((m) => decodeSessionSetupResponse(m.bytes).sessionFlags & 0x1)).toEqual([1]);
  });
}

test('impacket 0.10 asked for 3.1.1: the server refuses its TREE_CONNECT (STATUS_ACCESS_DENIED), whose signature does not verify with the session\'s signing key while the server\'s does', async () => {
  const pinned: DriverUnderTest = { ...DRIVERS[1]!, command: [...DRIVERS[1]!.command, '--dialect', '3.1.1'] };
  const { result, wire, keys } = await captured(pinned, 'share-encryption', 'plain', async ({ driver, hello }, connect) => {
    expect(hello.capabilities.dialects).toEqual(['3.1.1']);
    const outcome = await driver.connect(connect);
    await driver.close();
    return outcome;
  });
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error.status).toBe('STATUS_ACCESS_DENIED');
  expect(keys.length).toBe(1);
  const tree = wire.messages.filter((m) => m.header.command === 'TREE_CONNECT');
  expect(tree.map((m) => `${m.direction} ${m.signature} ${m.header.statusName}`)).toEqual(['send invalid STATUS_SUCCESS', 'receive valid STATUS_ACCESS_DENIED']);
});

function checkWire(profile: Profile, share: string, capabilities: Hello['capabilities'], supported: string[], wire: DecodedWire, keys: ServerSessionKeys[]): void {
  // impacket opens with an SMB1 negotiate offering SMB2 (its default); nothing else may be unreadable.
  expect(wire.problems.filter((p) => !(p.frame === 0 && p.direction === 'send' && /an SMB1 negotiate/.test(p.problem)))).toEqual([]);
  const facts = wireFacts(wire, keys);
  // A server picks the highest dialect both sides offer.
  expect(facts.dialect).toBe(supported.at(-1));
  expect(facts.treeConnectPaths).toEqual([`\\\\127.0.0.1\\${share}`]);
  const shareSpec = profile.shares.find((s) => s.name === share);
  const encrypted = (shareSpec?.encryption ?? profile.encryption.mode) === 'required';
  const afterSetup = facts.afterSetup.map((m) => `${m.direction} ${m.header.command}${m.encrypted ? ' encrypted' : ''}${m.header.signed ? ' signed' : ''}`);
  if (encrypted) {
    // A session's encryption covers everything after its setup; a share's, every message of its tree (MS-SMB2 3.2.4.1.8).
    const treeId = facts.afterSetup.find((m) => m.header.command === 'TREE_CONNECT' && m.direction === 'receive')?.header.treeId;
    const covered = shareSpec?.encryption === 'required' ? facts.afterSetup.filter((m) => m.header.treeId === treeId && m.header.command !== 'TREE_CONNECT') : facts.afterSetup;
    expect(covered.length).toBeGreaterThan(4);
    const clear = covered.filter((m) => !m.encrypted);
    expect(clear.map((m) => `${m.direction} ${m.header.command}`), afterSetup.join('\n')).toEqual([]);
    expect(usableCiphers(facts.dialect!, profile, capabilities)).toContain(facts.cipher);
  }
  if (profile.signing.required && !encrypted) {
    const unsigned = facts.afterSetup.filter((m) => !m.encrypted && !m.header.signed);
    expect(unsigned.map((m) => `${m.direction} ${m.header.command}`), afterSetup.join('\n')).toEqual([]);
    expect(usableSigning(facts.dialect!, profile, capabilities)).toContain(facts.signing);
    const logged = loggedSigning(keys, facts);
    if (logged !== undefined) expect(logged).toBe(facts.signing);
    // SMB 2.x sessions have no logged keys ('no-key'); every other signature verifies with the server's key.
    expect(facts.afterSetup.filter((m) => m.signature === 'invalid').length).toBe(0);
  }
}

test('impacket told the target\'s dialects (the hello\'s dialects hint) asks a 3.0-only server for 3.0 and works there: no SMB1 negotiate on the wire', async () => {
  const { result, wire } = await captured(DRIVERS[1]!, 'smb300-signing-cmac', undefined, async ({ driver, hello, disk }, connect) => {
    expect(hello.capabilities.hints).toEqual(['dialects']);
    const connected = await driver.connect({ ...connect, dialects: { min: '3.0', max: '3.0' } });
    const source = join(scratch, 'hinted.txt');
    await writeFile(source, 'asked for 3.0');
    const written = connected.ok ? await driver.request('writeFile', { path: 'hinted.txt', source }) : connected;
    const onDisk = readFileSync(join(disk, 'hinted.txt'), 'utf8');
    await driver.close();
    return { connected, written, onDisk };
  });
  expect([result.connected.ok, result.written.ok, result.onDisk]).toEqual([true, true, 'asked for 3.0']);
  const negotiated = wire.messages.filter((m) => m.header.command === 'NEGOTIATE' && m.direction === 'receive' && m.header.status === 0);
  expect(negotiated.map((m) => decodeNegotiateResponse(m.bytes).dialectRevision)).toEqual([0x0300]);
});

for (const own of [false, true]) {
  test(`impacket signing with ${own ? 'its own AES-CMAC (SMB_INTEROP_IMPACKET_OWN_CMAC=1)' : "pycryptodome's AES-CMAC"}: every 1 MiB WRITE and the partial last one verifies on the wire, the hello says which, the disk has the bytes`, async () => {
    const data = randomBytes((2 << 20) + 5);
    const { result, wire } = await captured(DRIVERS[1]!, 'smb300-signing-cmac', undefined, async ({ driver, hello, disk }, connect) => {
      const connected = await driver.connect({ ...connect, dialects: { min: '3.0', max: '3.0' } });
      const source = join(scratch, 'signed.bin');
      await writeFile(source, data);
      const written = connected.ok ? await driver.request('writeFile', { path: 'signed.bin', source }) : connected;
      const onDisk = readFileSync(join(disk, 'signed.bin'));
      await driver.close();
      return { version: hello.client.version, written: written.ok, same: onDisk.equals(data) };
    }, own ? { SMB_INTEROP_IMPACKET_OWN_CMAC: '1' } : undefined);
    expect(result).toEqual({ version: own ? expect.not.stringContaining('pycryptodome') : expect.stringContaining('AES-CMAC signing by pycryptodome'), written: true, same: true });
    const writes = wire.messages.filter((m) => m.header.command === 'WRITE' && m.direction === 'send');
    expect(writes.length).toBeGreaterThanOrEqual(3);
    expect({ signatures: [...new Set(writes.map((m) => m.signature))], problems: wire.problems.filter((p) => !/an SMB1 negotiate/.test(p.problem)) }).toEqual({ signatures: ['valid'], problems: [] });
  });
}
