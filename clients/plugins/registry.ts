/**
 * The open registry of clients: the built-in ones and those a config names, registered the same
 * way. Each entry says how to get a ClientAdapter and what the client can do (declared in code for
 * in-process clients, read from the driver's hello for command plug-ins).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ClientAdapter } from '../adapters/adapter.js';
import { smbclientAdapter } from '../adapters/smbclient.js';
import { typescriptAdapter } from '../adapters/typescript.js';
import type { SmbClientOptions } from '../smb/index.js';
import { CIPHERS, DIALECTS, SIGNING_ALGORITHMS } from '../../servers/catalog/schema.js';
import type { ConfiguredClient } from '../../servers/catalog/config.js';
import { commandAdapter, probeDriver, type CommandClient } from './command-adapter.js';
import { PluginFault } from './host.js';
import { Capabilities, OPERATIONS, firstIssue } from './protocol.js';

/** What the harness hands an in-process client when it makes one for a cell. */
export interface AdapterContext {
  /** Options for this project's TypeScript client (the capture's observer, test faults). */
  smbOptions?: Partial<SmbClientOptions>;
}

export interface ClientDefinition {
  id: string;
  kind: 'in-process' | 'command';
  builtIn: boolean;
  /** Where it is defined: `built in`, or `clients.<id> in <config file>`. */
  origin: string;
  /** What the client declares; a driver that cannot start or speaks another version rejects with a PluginFault. */
  capabilities(): Promise<Capabilities>;
  adapter(context?: AdapterContext): Promise<ClientAdapter>;
  /** The driver command of a command plug-in. */
  command?: CommandClient;
}

/** The directory holding smb-interop's package.json (source checkout or installed package). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === 'smb-interop') return dir;
      } catch {
        // not ours: keep looking upwards
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

const EVERYTHING: Capabilities = {
  dialects: [...DIALECTS],
  ciphers: [...CIPHERS],
  signing: [...SIGNING_ALGORITHMS],
  auth: ['ntlm', 'guest', 'kerberos'],
  operations: [...OPERATIONS],
};

const SETUP_REMEDY = 'run bash scripts/setup.sh, which builds and installs the shipped drivers';

/** Memoizes a promise, failures included: a driver that failed its probe fails every cell the same way, without respawning. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= make());
}

function inProcess(id: string, capabilities: Capabilities, make: (context: AdapterContext) => ClientAdapter): ClientDefinition {
  return { id, kind: 'in-process', builtIn: true, origin: 'built in', capabilities: () => Promise.resolve(capabilities), adapter: (context = {}) => Promise.resolve(make(context)) };
}

function commandClient(command: CommandClient, builtIn: boolean, origin: string): ClientDefinition {
  const capabilities = once(async () => (await probeDriver(command)).capabilities);
  return { id: command.client, kind: 'command', builtIn, origin, command, capabilities, adapter: () => Promise.resolve(commandAdapter(command)) };
}

/** The built-in clients, in the matrix's order. */
export function builtinClients(root = packageRoot()): ClientDefinition[] {
  return [
    // This project's TypeScript client: it implements every dialect, cipher and signing algorithm of the catalog.
    inProcess('smb-ts', EVERYTHING, (context) => typescriptAdapter(context.smbOptions ?? {})),
    // Samba 4.17's libsmb: SMB 2.0.2 to 3.1.1, AES-128/256 CCM/GCM and GMAC signing since 4.15.
    inProcess('smbclient', EVERYTHING, () => smbclientAdapter),
    commandClient(
      { client: 'go-smb2', command: ['clients/drivers/go-smb2/build/smb-interop-go-smb2'], cwd: root, remedy: SETUP_REMEDY },
      true,
      'built in',
    ),
    commandClient(
      // Debian's python3-impacket lives beside /usr/bin/python3, which another python3 on PATH may shadow.
      { client: 'impacket', command: ['/usr/bin/python3', 'clients/drivers/impacket/driver.py'], cwd: root, requiredFiles: ['/usr/bin/python3', 'clients/drivers/impacket/driver.py'], remedy: SETUP_REMEDY },
      true,
      'built in',
    ),
  ];
}

async function loadModuleClient(entry: ConfiguredClient & { module: string }): Promise<{ adapter: ClientAdapter; capabilities: Capabilities }> {
  const file = resolve(entry.baseDir, entry.module);
  const fault = (why: string) => new PluginFault(`${entry.name}: module ${file} (${entry.origin}): ${why}`, entry.name, 'start', 'load');
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw fault(`could not be loaded: ${(error as Error).message}`);
  }
  const adapter = (mod.adapter ?? mod.default) as Partial<ClientAdapter> | undefined;
  if (typeof adapter?.connect !== 'function') throw fault('exports no ClientAdapter (export const adapter = { id, connect(options) { ... } })');
  const capabilities = Capabilities.safeParse(mod.capabilities);
  if (!capabilities.success) throw fault(`its capabilities export is invalid: ${firstIssue(capabilities.error)}`);
  return { adapter: adapter as ClientAdapter, capabilities: capabilities.data };
}

function configuredClient(entry: ConfiguredClient): ClientDefinition {
  if ('module' in entry) {
    const load = once(() => loadModuleClient(entry));
    return {
      id: entry.name,
      kind: 'in-process',
      builtIn: false,
      origin: entry.origin,
      capabilities: async () => (await load()).capabilities,
      adapter: async () => (await load()).adapter,
    };
  }
  const command: CommandClient = { client: entry.name, command: entry.command, cwd: entry.baseDir, remedy: `check ${entry.origin}` };
  if (entry.env) command.env = entry.env;
  if (entry.timeoutMs) command.timeoutMs = entry.timeoutMs;
  return commandClient(command, false, entry.origin);
}

export class ClientRegistry {
  private readonly byId = new Map<string, ClientDefinition>();

  /** Later definitions of an id replace earlier ones in place (a config entry named like a built-in replaces it). */
  constructor(definitions: readonly ClientDefinition[]) {
    for (const d of definitions) this.byId.set(d.id, d);
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  get(id: string): ClientDefinition {
    const found = this.byId.get(id);
    if (found === undefined) throw new Error(`unknown client "${id}" (registered: ${this.ids().join(', ')})`);
    return found;
  }

  /** The clients a run includes: SMB_INTEROP_CLIENTS=a,b (registered ids), default every registered one. */
  selected(env: NodeJS.ProcessEnv = process.env): string[] {
    const known = this.ids();
    const raw = env.SMB_INTEROP_CLIENTS?.trim();
    if (!raw) return known;
    const wanted = raw.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = wanted.filter((w) => !known.includes(w));
    if (unknown.length > 0) throw new Error(`SMB_INTEROP_CLIENTS: unknown client ${unknown.join(', ')} (registered: ${known.join(', ')})`);
    return known.filter((k) => wanted.includes(k));
  }
}

/** Built-in clients plus the config's `clients` entries. */
export function clientRegistry(configured: readonly ConfiguredClient[], root = packageRoot()): ClientRegistry {
  return new ClientRegistry([...builtinClients(root), ...configured.map(configuredClient)]);
}
