import { existsSync, readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { Profile, type ProfileInput } from './schema.js';
import { BUILTIN_PROFILES } from './profiles.js';
import { ProviderChoice, TargetsConfig, type RemoteTargetConfig } from './targets.js';

export const CONFIG_FILE_NAMES = [
  'smb-interop.config.ts',
  'smb-interop.config.mts',
  'smb-interop.config.js',
  'smb-interop.config.mjs',
  'smb-interop.config.json',
];

/** A profile entry in a user config: a whole profile, or changes to one (`extends`, or the same name as a built-in). */
export type ProfileOverride = { extends?: string } & DeepPartial<ProfileInput> & z.input<typeof ProviderChoice>;
type DeepPartial<T> = T extends readonly (infer _U)[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/**
 * A client plug-in (clients/PLUGIN-PROTOCOL.md): a driver command in any language, or a module
 * exporting a ClientAdapter and its capabilities. Relative paths are taken from the config's directory.
 */
export const CommandClientConfig = z
  .object({
    /** Program and arguments, e.g. `['python3', 'drivers/mine.py']`. */
    command: z.array(z.string().min(1, 'expected a non-empty string')).min(1, 'expected the program and its arguments'),
    /** Added to the driver's environment. */
    env: z.record(z.string(), z.string()).optional(),
    /** Time limit of each request (default 60000). */
    timeoutMs: z.number().int().positive().optional(),
  })
  .strict();
export const ModuleClientConfig = z
  .object({
    /** A module exporting `adapter` (a ClientAdapter) and `capabilities`, e.g. `./my-client-adapter.js`. */
    module: z.string().min(1),
  })
  .strict();
export type ClientConfig = z.infer<typeof CommandClientConfig> | z.infer<typeof ModuleClientConfig>;

/** A configured client: its entry, its name and the directory its relative paths start from. */
export type ConfiguredClient = ClientConfig & { name: string; baseDir: string; origin: string };

const clientName = /^[a-z0-9][a-z0-9._-]{0,39}$/;

export interface UserConfig extends z.input<typeof TargetsConfig> {
  /** Keyed by profile name. */
  profiles?: Record<string, ProfileOverride>;
  /** Keyed by client id (the matrix's client name); an entry named like a built-in client replaces it. */
  clients?: Record<string, ClientConfig>;
}

/** Identity function that gives a config file type checking and completion. */
export function defineConfig(config: UserConfig): UserConfig {
  return config;
}

const ConfigShape = z
  .object({
    profiles: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    providers: z.unknown().optional(),
    sambaImages: z.unknown().optional(),
    remoteTargets: z.unknown().optional(),
    clients: z.unknown().optional(),
  })
  .strict();

/** A configuration problem, always naming the file and the field. */
export class ConfigError extends Error {
  readonly code = 'SMB_INTEROP_CONFIG';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: invalid configuration\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface Catalog {
  profiles: Profile[];
  /** Providers and Samba images for every profile without its own choice; absent: the defaults. */
  providerChoice: ProviderChoice;
  /** Per-profile provider choice (a profile entry's `providers` / `sambaImages`). */
  profileProviders: Record<string, ProviderChoice>;
  /** Windows Server and Azure Files targets, in config order. */
  remoteTargets: Array<RemoteTargetConfig & { name: string }>;
  /** Client plug-ins the config names, in config order (the built-in ones are not listed here). */
  clients?: ConfiguredClient[];
  /** The config file that contributed, if any. */
  configFile: string | undefined;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

function describeIssues(error: z.ZodError, prefix: string): string[] {
  return error.issues.map((issue) => {
    const field = formatPath([...(prefix ? prefix.split('.') : []), ...issue.path]);
    return `${field}: ${issue.message}`;
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; arrays and scalars replace. */
export function mergeDeep(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch === undefined ? base : patch;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = mergeDeep(base[k], v);
  return out;
}

/** Resolves built-in profiles plus the config's entries into validated profiles; throws ConfigError. */
export function resolveProfiles(config: unknown, file = '(inline config)'): Profile[] {
  const shape = ConfigShape.safeParse(config ?? {});
  if (!shape.success) throw new ConfigError(file, describeIssues(shape.error, ''));
  const raw = new Map<string, unknown>(BUILTIN_PROFILES.map((p) => [p.name, p]));
  const problems: string[] = [];
  const entries = Object.entries(shape.data.profiles ?? {});
  for (const [key, entry] of entries) {
    const { extends: parent, providers: _p, sambaImages: _s, ...rest } = entry as { extends?: unknown; providers?: unknown; sambaImages?: unknown };
    let base: unknown = raw.get(key);
    if (parent !== undefined) {
      if (typeof parent !== 'string' || !raw.has(parent)) {
        const known = [...raw.keys()].join(', ');
        problems.push(`profiles.${key}.extends: unknown profile ${JSON.stringify(parent)} (known: ${known})`);
        continue;
      }
      base = raw.get(parent);
    }
    raw.set(key, mergeDeep(base ?? {}, { ...rest, name: key }));
  }
  const profiles: Profile[] = [];
  const userKeys = new Set(entries.map(([k]) => k));
  for (const [key, value] of raw) {
    const parsed = Profile.safeParse(value);
    if (parsed.success) profiles.push(parsed.data);
    else if (userKeys.has(key)) problems.push(...describeIssues(parsed.error, `profiles.${key}`));
    else throw new Error(`built-in profile ${key} is invalid: ${z.prettifyError(parsed.error)}`);
  }
  if (problems.length > 0) throw new ConfigError(file, problems);
  return profiles;
}

export type TargetsPart = Omit<Catalog, 'profiles' | 'configFile' | 'clients'>;

/** Provider choice (global and per profile) and remote targets of a config; throws ConfigError. */
export function resolveTargets(config: unknown, file = '(inline config)'): TargetsPart {
  const record = isPlainObject(config) ? config : {};
  const { profiles, clients: _clients, ...targetsPart } = record;
  const problems: string[] = [];
  const parsed = TargetsConfig.safeParse(targetsPart);
  if (!parsed.success) problems.push(...describeIssues(parsed.error, ''));
  const profileProviders: Record<string, ProviderChoice> = {};
  for (const [key, entry] of Object.entries(isPlainObject(profiles) ? profiles : {})) {
    if (!isPlainObject(entry) || (entry.providers === undefined && entry.sambaImages === undefined)) continue;
    const choice = ProviderChoice.safeParse({ providers: entry.providers, sambaImages: entry.sambaImages });
    if (choice.success) profileProviders[key] = choice.data;
    else problems.push(...describeIssues(choice.error, `profiles.${key}`));
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(file, problems);
  const { providers, sambaImages, remoteTargets = {} } = parsed.data;
  const providerChoice: ProviderChoice = {};
  if (providers) providerChoice.providers = providers;
  if (sambaImages) providerChoice.sambaImages = sambaImages;
  return {
    providerChoice,
    profileProviders,
    remoteTargets: Object.entries(remoteTargets).map(([name, target]) => ({ ...target, name })),
  };
}

/** The config's `clients` entries, checked; `baseDir` is where their relative paths start. Throws ConfigError. */
export function resolveClients(config: unknown, file = '(inline config)', baseDir = process.cwd()): ConfiguredClient[] {
  const clients = isPlainObject(config) ? config.clients : undefined;
  if (clients === undefined) return [];
  if (!isPlainObject(clients)) throw new ConfigError(file, ['clients: expected an object keyed by client name']);
  const problems: string[] = [];
  const out: ConfiguredClient[] = [];
  for (const [name, entry] of Object.entries(clients)) {
    if (!clientName.test(name)) {
      problems.push(`clients.${name}: the name must be lower-case letters, digits, ".", "_" and "-" (at most 40)`);
      continue;
    }
    if (!isPlainObject(entry) || ('command' in entry) === ('module' in entry)) {
      problems.push(`clients.${name}: expected either { command: [program, ...args], env?, timeoutMs? } or { module: "path" }`);
      continue;
    }
    const parsed = 'module' in entry ? ModuleClientConfig.safeParse(entry) : CommandClientConfig.safeParse(entry);
    if (!parsed.success) problems.push(...describeIssues(parsed.error, `clients.${name}`));
    else out.push({ ...parsed.data, name, baseDir, origin: `clients.${name} in ${file}` });
  }
  if (problems.length > 0) throw new ConfigError(file, problems);
  return out;
}

/** The profile of that name, or an error listing the known ones. */
export function findProfile(profiles: readonly Profile[], name: string): Profile {
  const found = profiles.find((p) => p.name === name);
  if (!found) throw new Error(`unknown profile "${name}"; known: ${profiles.map((p) => p.name).join(', ')}`);
  return found;
}

export function findConfigFile(cwd: string): string | undefined {
  for (const name of CONFIG_FILE_NAMES) {
    const candidate = join(cwd, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

async function importTypeScript(file: string): Promise<unknown> {
  let ts: typeof import('typescript');
  try {
    ts = (await import('typescript')).default;
  } catch {
    throw new ConfigError(file, ['(file): loading a .ts config needs the "typescript" package (npm install typescript)']);
  }
  const source = await readFile(file, 'utf8');
  const out = ts.transpileModule(source, {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
  });
  // Written beside the original so that its relative imports still resolve.
  const temp = join(dirname(file), `.${basename(file, extname(file))}.${randomBytes(4).toString('hex')}.mjs`);
  await writeFile(temp, out.outputText);
  try {
    return await import(pathToFileURL(temp).href);
  } finally {
    await rm(temp, { force: true });
  }
}

async function readConfigModule(file: string): Promise<unknown> {
  const ext = extname(file);
  if (ext === '.json') {
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError(file, [`(file): not valid JSON: ${(e as Error).message}`]);
    }
  }
  let mod: unknown;
  try {
    mod = ext === '.ts' || ext === '.mts' ? await importTypeScript(file) : await import(pathToFileURL(file).href);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(file, [`(file): could not be loaded: ${(e as Error).message}`]);
  }
  const value = (mod as { default?: unknown }).default;
  if (value === undefined) throw new ConfigError(file, ['(file): has no default export (export default defineConfig({...}))']);
  return value;
}

/** Loads the built-in catalog merged with the user's config file (explicit path, SMB_INTEROP_CONFIG, or found in cwd). */
export async function loadCatalog(options: { configFile?: string; cwd?: string } = {}): Promise<Catalog> {
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.configFile ?? process.env.SMB_INTEROP_CONFIG;
  const file = explicit ? resolve(cwd, explicit) : findConfigFile(cwd);
  if (explicit && file && !existsSync(file)) throw new ConfigError(file, ['(file): does not exist']);
  const config = file ? await readConfigModule(file) : {};
  return {
    profiles: resolveProfiles(config, file),
    ...resolveTargets(config, file),
    clients: resolveClients(config, file, file ? dirname(file) : cwd),
    configFile: file,
  };
}
