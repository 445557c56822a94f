/**
 * Targets = profile x provider. The one place that turns the catalog into the list of targets a
 * run can use, and a target spec into a started server; every provider returns the same
 * StartedTarget.
 */
import type { Catalog, Profile } from './catalog/index.js';
import { PROVIDER_KINDS, SAMBA_IMAGE_NAMES, type ProviderKind, type SambaImageName } from './catalog/targets.js';
import { TargetNotConfiguredError, TargetStartError } from './errors.js';
import { remoteProfile, remoteStatus, remoteTargetName, startRemoteTarget, type NamedRemoteTarget } from './remote/remote-target.js';
import { containerEngineAvailable } from './samba/container-engine.js';
import { startNativeTarget } from './samba/native.js';
import { startDomainTarget } from './samba/domain-target.js';
import type { StartedTarget } from './target.js';

export { containerEngineAvailable, TargetNotConfiguredError, TargetStartError };

/** Whether a target can be started; a not-configured one is listed so that a run can say why it is absent. */
export type TargetStatus = { state: 'ready' } | { state: 'not-configured'; reason: string };

export interface TargetSpec {
  /** `<profile>@native`, `<profile>@samba-4.22`, `<remote name>@windows`; the Playwright project name. */
  name: string;
  profile: Profile;
  provider: ProviderKind;
  status: TargetStatus;
  /** The Samba image of a container target. */
  image?: SambaImageName;
  /** The config entry of a remote target. */
  remote?: NamedRemoteTarget;
}

export interface TargetSelection {
  /** Providers to include; overrides the config's global choice (a profile's own list still narrows it). */
  providers?: readonly ProviderKind[];
  /** Samba images for container targets; overrides the config. */
  sambaImages?: readonly SambaImageName[];
  /** Where remote targets' credentials are looked up; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Without a choice anywhere: native targets, and remote ones when the config names any. */
export const DEFAULT_PROVIDERS: readonly ProviderKind[] = ['native', 'remote'];

const PROVIDER_ENV = 'SMB_INTEROP_PROVIDER';

/**
 * Parses SMB_INTEROP_PROVIDER: `native`, `container`, `remote`, `all`, or a comma list of the
 * first three. Unset or empty: undefined (the config decides).
 */
export function providersFromEnv(value: string | undefined = process.env[PROVIDER_ENV]): ProviderKind[] | undefined {
  const words = (value ?? '').split(',').map((w) => w.trim().toLowerCase()).filter(Boolean);
  if (words.length === 0) return undefined;
  if (words.length === 1 && words[0] === 'all') return [...PROVIDER_KINDS];
  const bad = words.filter((w) => !(PROVIDER_KINDS as readonly string[]).includes(w));
  if (bad.length > 0) {
    throw new Error(`${PROVIDER_ENV}=${value}: unknown provider ${bad.map((b) => JSON.stringify(b)).join(', ')}; expected native, container, remote, all or a comma list`);
  }
  return [...new Set(words as ProviderKind[])];
}

const READY: TargetStatus = { state: 'ready' };

/** Every target the catalog defines for the selected providers: per profile native, then one per Samba image; remote targets last. */
export function targetSpecs(catalog: Catalog, selection: TargetSelection = {}): TargetSpec[] {
  const global = selection.providers ?? catalog.providerChoice?.providers ?? DEFAULT_PROVIDERS;
  const specs: TargetSpec[] = [];
  for (const profile of catalog.profiles) {
    const own = catalog.profileProviders?.[profile.name];
    // An impaired variant is the harness's link in front of a server: the native one shows it;
    // containers add nothing to it unless the variant's own entry asks for them.
    const providers = own?.providers
      ? own.providers.filter((p) => !selection.providers || selection.providers.includes(p))
      : profile.impairment !== undefined ? global.filter((p) => p === 'native') : global;
    if (providers.includes('native')) {
      specs.push({ name: `${profile.name}@native`, profile, provider: 'native', status: READY });
    }
    if (providers.includes('container')) {
      const images = selection.sambaImages ?? own?.sambaImages ?? catalog.providerChoice?.sambaImages ?? SAMBA_IMAGE_NAMES;
      for (const image of images) {
        specs.push({ name: `${profile.name}@${image}`, profile, provider: 'container', image, status: READY });
      }
    }
  }
  if (global.includes('remote')) {
    for (const remote of catalog.remoteTargets ?? []) {
      specs.push({
        name: remoteTargetName(remote),
        profile: remoteProfile(remote),
        provider: 'remote',
        remote,
        status: remoteStatus(remote, selection.env),
      });
    }
  }
  return specs;
}

/**
 * Starts the server a spec names. Never throws anything but an error naming the target and the
 * reason: TargetStartError (could not start, unreachable: an infrastructure error) or
 * TargetNotConfiguredError (a remote target whose variables are not set).
 */
export interface StartOptions {
  /** Where remote targets' credentials are looked up; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Samba's debug level (native and container); 3 shows each failed request with its NTSTATUS. */
  logLevel?: number;
  /** How long a domain target waits for another one's DC to stop (one DC runs per machine at a time); default 240 s. */
  domainLockTimeoutMs?: number;
}

export async function startTarget(spec: TargetSpec, options: StartOptions = {}): Promise<StartedTarget> {
  const logLevel = options.logLevel === undefined ? {} : { logLevel: options.logLevel };
  try {
    switch (spec.provider) {
      case 'native':
        if (spec.profile.domain !== undefined) {
          const lock = options.domainLockTimeoutMs === undefined ? {} : { lockTimeoutMs: options.domainLockTimeoutMs };
          return await startDomainTarget(spec.profile, { ...logLevel, ...lock });
        }
        return await startNativeTarget(spec.profile, logLevel);
      case 'container': {
        // Loaded on first use: testcontainers takes a quarter of a second to import, and runs
        // without container targets (every Playwright worker loads this module) should not pay it.
        if (spec.profile.domain !== undefined) {
          const { startContainerDomainTarget } = await import('./samba/container-dc.js');
          return await startContainerDomainTarget(spec.profile, { image: spec.image ?? 'samba-4.22', ...logLevel });
        }
        const { startContainerTarget } = await import('./samba/container.js');
        return await startContainerTarget(spec.profile, { image: spec.image ?? 'samba-4.17', ...logLevel });
      }
      case 'remote':
        if (!spec.remote) throw new Error('the spec has no remote target configuration');
        return await startRemoteTarget(spec.remote, options.env);
    }
  } catch (e) {
    if (e instanceof TargetStartError || e instanceof TargetNotConfiguredError) throw e;
    throw new TargetStartError(spec.name, (e as Error).message);
  }
}
