#!/usr/bin/env node
/**
 * A well-behaved plug-in driver (clients/PLUGIN-PROTOCOL.md, version 1) around this project's own
 * TypeScript client, built into dist/ (npm run build). It shows the protocol end to end with a
 * real SMB client; the matrix's own smb-ts client is in-process and does not use it.
 */
import { createInterface } from 'node:readline';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const dist = new URL('../../../dist/clients/smb/index.js', import.meta.url);
const { SmbClient, SmbError } = await import(fileURLToPath(dist));

const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

send({
  type: 'hello',
  protocol: 1,
  client: { name: 'smb-ts (driver)', version: '1' },
  capabilities: {
    dialects: ['2.0.2', '2.1', '3.0', '3.0.2', '3.1.1'],
    // DRIVER_CIPHERS and DRIVER_OPERATIONS narrow what it declares, to see the harness honour a declaration.
    ciphers: (process.env.DRIVER_CIPHERS ?? 'AES-128-CCM,AES-128-GCM,AES-256-CCM,AES-256-GCM').split(',').filter(Boolean),
    signing: ['HMAC-SHA256', 'AES-128-CMAC', 'AES-128-GMAC'],
    auth: ['ntlm'],
    operations: (process.env.DRIVER_OPERATIONS ?? 'writeFile,readFile,stat,readdir,mkdir,rmdir,unlink,rename,exists').split(',').filter(Boolean),
  },
});

let smb;
let tree;

const operations = {
  async connect(a) {
    smb = await SmbClient.connect({ host: a.host, port: a.port, username: a.username, password: a.password, domain: a.domain, timeoutMs: a.timeoutMs });
    tree = await smb.connectTree(a.share);
    return {};
  },
  async writeFile(a) {
    await tree.writeFile(a.path, await readFile(a.source));
    return {};
  },
  async readFile(a) {
    const data = await tree.readFile(a.path);
    await writeFile(a.destination, data);
    return { size: data.length };
  },
  async stat(a) {
    const s = await tree.stat(a.path);
    return { size: s.isDirectory ? 0 : s.size, isDirectory: s.isDirectory };
  },
  async readdir(a) {
    const entries = await tree.readdir(a.path, { withFileTypes: true });
    return { entries: entries.map((e) => ({ name: e.name, isDirectory: e.isDirectory, size: e.isDirectory ? 0 : e.size })) };
  },
  async mkdir(a) {
    await tree.mkdir(a.path);
    return {};
  },
  async rmdir(a) {
    await tree.rmdir(a.path);
    return {};
  },
  async unlink(a) {
    await tree.unlink(a.path);
    return {};
  },
  async rename(a) {
    await tree.rename(a.from, a.to, { replace: a.replace });
    return {};
  },
  async exists(a) {
    return { exists: await tree.exists(a.path) };
  },
  async close() {
    await smb?.close();
    return {};
  },
};

// One request at a time: the harness waits for each answer before it sends the next.
for await (const line of createInterface({ input: process.stdin })) {
  const request = JSON.parse(line);
  try {
    const value = await operations[request.op](request.args);
    send({ type: 'result', id: request.id, ok: true, value });
  } catch (error) {
    process.stderr.write(`${request.op}: ${error.stack ?? error}\n`);
    const status = error instanceof SmbError && error.statusName ? { status: error.statusName } : {};
    send({ type: 'result', id: request.id, ok: false, error: { message: error.message, ...status } });
  }
  if (request.op === 'close') process.exit(0);
}
