/**
 * The plug-in host against driver processes that break the protocol on purpose
 * (testing/faulty-driver.mjs): each fault is a PluginFault naming the client and what went wrong,
 * within its time limit, and nothing is left running or on disk.
 */
import { test, expect } from '@playwright/test';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandAdapter } from './command-adapter.js';
import { DriverProcess, PluginFault } from './host.js';
import { builtinClients } from './registry.js';
import { AdapterError } from '../adapters/adapter.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const FAULTY = join(HERE, 'testing', 'faulty-driver.mjs');
const TARGET = { host: '127.0.0.1', port: 4450, share: 'data', username: 'u', password: 'p' };

function faulty(mode: string, extra: { timeoutMs?: number; helloTimeoutMs?: number } = {}) {
  return { client: `faulty-${mode}`, command: [process.execPath, FAULTY, mode], cwd: HERE, ...extra };
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function faultOf(promise: Promise<unknown>): Promise<PluginFault> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error, 'the operation fails with a PluginFault').toBeInstanceOf(PluginFault);
  return error as PluginFault;
}

function scratchDirs(client: string): string[] {
  return readdirSync(tmpdir()).filter((n) => n.startsWith(`smb-interop-${client}-`));
}

test('a driver that exits in the middle of writeFile: "<client> exited (code 3) during writeFile", its stderr kept, its scratch removed', async () => {
  const before = scratchDirs('faulty-crash');
  const session = await commandAdapter(faulty('crash')).connect(TARGET);
  const fault = await faultOf(session.writeFile('dir/a.bin', Buffer.from('abc')));
  expect(fault.message).toBe('faulty-crash exited (code 3) during writeFile; its stderr ends: faulty driver: crashing in writeFile');
  expect(fault).toMatchObject({ client: 'faulty-crash', kind: 'exit', operation: 'writeFile' });
  expect(session.diagnostics?.()).toContain('faulty driver (crash) got writeFile');
  // Every later call names the same fault; close ends cleanly and removes the scratch directory.
  expect((await faultOf(session.stat('dir/a.bin'))).message).toBe(fault.message);
  await session.close().catch(() => undefined);
  expect(scratchDirs('faulty-crash')).toEqual(before);
});

test('a driver that panics: the fault quotes its runtime\'s "panic:" line, not the stack frame it ends with', async () => {
  const session = await commandAdapter(faulty('panic')).connect(TARGET);
  const fault = await faultOf(session.readFile('a.bin'));
  expect(fault.message).toBe('faulty-panic exited (code 2) during readFile; its stderr says: panic: runtime error: invalid memory address or nil pointer dereference');
  expect(fault).toMatchObject({ kind: 'exit', operation: 'readFile' });
  await session.close().catch(() => undefined);
});

test('a driver that never answers: "<client> did not answer readFile within 400 ms", and it is killed', async () => {
  const driver = await DriverProcess.start(faulty('hang'));
  expect(await driver.request('connect', { ...TARGET, timeoutMs: 1000 }, 2000)).toEqual({ ok: true, value: {} });
  const started = Date.now();
  const fault = await faultOf(driver.request('readFile', { path: 'x', destination: '/tmp/never' }, 400));
  expect(Date.now() - started).toBeLessThan(3000);
  expect(fault.message).toBe('faulty-hang did not answer readFile within 400 ms');
  await driver.close();
  expect(alive(driver.pid), 'the driver process is gone').toBe(false);
});

test('a driver that prints non-JSON: "<client> wrote an invalid message: not JSON: <the line>"', async () => {
  const fault = await faultOf(commandAdapter(faulty('garbage')).connect(TARGET));
  expect(fault.message).toBe('faulty-garbage wrote an invalid message: not JSON: this is not JSON at all {');
  expect(fault.kind).toBe('invalid');
});

test('a driver speaking protocol 99: "<client> speaks plug-in protocol 99; the harness speaks 1", before any request', async () => {
  const fault = await faultOf(commandAdapter(faulty('protocol99')).connect(TARGET));
  expect(fault.message).toBe('faulty-protocol99 speaks plug-in protocol 99; the harness speaks 1');
  expect(fault).toMatchObject({ kind: 'version', operation: 'its hello' });
});

test('a driver that never says hello is a fault after the hello time limit', async () => {
  const started = Date.now();
  const fault = await faultOf(DriverProcess.start(faulty('silent'), { helloTimeoutMs: 300 }));
  expect(fault.message).toBe('faulty-silent did not say hello within 300 ms');
  expect(Date.now() - started).toBeLessThan(5000);
});

test('a driver that answers with an invalid value, or an id it was not asked, is an invalid message', async () => {
  const script = (answer: string) => [
    process.execPath,
    '-e',
    `process.stdout.write(JSON.stringify({type:'hello',protocol:1,client:{name:'x',version:'1'},capabilities:{dialects:[],ciphers:[],signing:[],auth:[],operations:['readdir']}})+'\\n');
     process.stdin.once('data', (d) => { const r = JSON.parse(d); process.stdout.write(JSON.stringify(${answer})+'\\n'); });`,
  ];
  const badValue = await DriverProcess.start({ client: 'bad-value', command: script(`{type:'result',id:r.id,ok:true,value:{entries:[{name:'..',isDirectory:true,size:0}]}}`), cwd: HERE });
  expect((await faultOf(badValue.request('readdir', { path: '' }))).message).toMatch(/^bad-value wrote an invalid message: the value of readdir: entries\.0\.name: no "\." or "\.\." entries: /);
  await badValue.close();
  const wrongId = await DriverProcess.start({ client: 'wrong-id', command: script(`{type:'result',id:r.id+7,ok:true,value:{}}`), cwd: HERE });
  expect((await faultOf(wrongId.request('readdir', { path: '' }))).message).toBe(
    'wrong-id wrote an invalid message: an answer to id 8, which was not asked (waiting for readdir, id 1): {"type":"result","id":8,"ok":true,"value":{}}',
  );
  await wrongId.close();
});

test('ok:false is the client failing the operation: an AdapterError with the NTSTATUS name', async () => {
  const command = [
    process.execPath,
    '-e',
    `process.stdout.write(JSON.stringify({type:'hello',protocol:1,client:{name:'x',version:'1'},capabilities:{dialects:[],ciphers:[],signing:[],auth:[],operations:['stat']}})+'\\n');
     require('node:readline').createInterface({input:process.stdin}).on('line', (l) => { const r = JSON.parse(l);
       process.stdout.write(JSON.stringify(r.op === 'stat' ? {type:'result',id:r.id,ok:false,error:{message:'no such file',status:'STATUS_OBJECT_NAME_NOT_FOUND'}} : {type:'result',id:r.id,ok:true,value:{}})+'\\n');
       if (r.op === 'close') process.exit(0); });`,
  ];
  const session = await commandAdapter({ client: 'refuser', command, cwd: HERE }).connect(TARGET);
  const error = await session.stat('missing.txt').then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AdapterError);
  expect(error).toMatchObject({ statusName: 'STATUS_OBJECT_NAME_NOT_FOUND', client: 'refuser', operation: 'stat' });
  expect((error as Error).message).toBe('STATUS_OBJECT_NAME_NOT_FOUND from refuser stat missing.txt: no such file');
  // An operation the driver did not declare is refused before it reaches the driver.
  await expect(session.mkdir('d')).rejects.toThrow('unsupported: refuser does not implement mkdir (it implements stat)');
  await session.close();
});

test('a built-in driver that is not built names the client and the remedy', async () => {
  const root = mkdtempSync(join(tmpdir(), 'smb-interop-empty-root-'));
  try {
    const goSmb2 = builtinClients(root).find((c) => c.id === 'go-smb2');
    const fault = await faultOf(goSmb2!.capabilities());
    expect(fault.message).toBe(
      `go-smb2: its driver is not installed: ${join(root, 'clients/drivers/go-smb2/build/smb-interop-go-smb2')} does not exist (run bash scripts/setup.sh, which builds and installs the shipped drivers)`,
    );
    const impacket = builtinClients(root).find((c) => c.id === 'impacket');
    expect((await faultOf(impacket!.capabilities())).message).toMatch(/^impacket: its driver is not installed: .*clients\/drivers\/impacket\/driver\.py does not exist \(run bash scripts\/setup\.sh/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  expect(existsSync(root)).toBe(false);
});

test('a command that does not exist is a start fault naming the client and the program', async () => {
  const fault = await faultOf(DriverProcess.start({ client: 'nowhere', command: ['smb-interop-no-such-program'], cwd: HERE, remedy: 'check clients.nowhere in smb-interop.config.json' }));
  expect(fault.message).toMatch(/^nowhere: cannot start its driver smb-interop-no-such-program: spawn smb-interop-no-such-program ENOENT \(check clients\.nowhere in smb-interop\.config\.json\)/);
});

test('optional connect fields reach only a driver that asks for them: Kerberos to one declaring it, the target\'s dialects to one listing the hint', async () => {
  const options = {
    ...TARGET, auth: 'negotiate' as const, kerberos: { realm: 'INTEROP.TEST', kdc: '127.0.0.101:88', serviceHost: 'dc1.interop.test' },
    dialects: { min: '3.0' as const, max: '3.1.1' as const },
  };
  const argsOf = async (mode: string): Promise<Record<string, unknown>> => {
    const session = await commandAdapter(faulty(mode)).connect(options);
    try {
      const line = (): string | undefined => (session.diagnostics?.() ?? '').split('\n').find((l) => l.startsWith('connect args '));
      await expect.poll(line, { message: `${mode}: the driver printed its connect args`, timeout: 5000 }).toBeDefined();
      return JSON.parse(line()!.slice('connect args '.length)) as Record<string, unknown>;
    } finally {
      await session.close();
    }
  };
  const plain = await argsOf('args');
  expect(Object.keys(plain).sort()).toEqual(['domain', 'host', 'password', 'port', 'share', 'timeoutMs', 'username']);
  const hinted = await argsOf('args-hints');
  expect({ auth: hinted.auth, kerberos: hinted.kerberos, dialects: hinted.dialects }).toEqual({ auth: 'negotiate', kerberos: options.kerberos, dialects: options.dialects });
});
