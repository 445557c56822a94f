/**
 * Targets = profile x provider. The one place that turns the catalog into the list of targets a
 * run can use, and a target spec into a started server; every provider returns the same
 * StartedTarget.
 */
import type { Catalog, Profile } from './catalog/index.js';
import { startNativeTarget } from './samba/native.js';
import type { ProviderKind, StartedTarget } from './target.js';

export interface TargetSpec {
  /** `<profile>@<provider or variant>`, e.g. `smb311-gcm@native`; the Playwright project name. */
  name: string;
  profile: Profile;
  provider: ProviderKind;
}

export interface TargetSelection {
  /** Providers to include; default native only. */
  providers?: readonly ProviderKind[];
}

/** Every target the catalog defines for the selected providers, in catalog order. */
export function targetSpecs(catalog: Catalog, selection: TargetSelection = {}): TargetSpec[] {
  const providers = selection.providers ?? ['native'];
  const specs: TargetSpec[] = [];
  if (providers.includes('native')) {
    for (const profile of catalog.profiles) specs.push({ name: `${profile.name}@native`, profile, provider: 'native' });
  }
  return specs;
}

/** Starts the server a spec names. Throws with the target's name and the reason when it cannot. */
export function startTarget(spec: TargetSpec): Promise<StartedTarget> {
  switch (spec.provider) {
    case 'native':
      return startNativeTarget(spec.profile);
    default:
      return Promise.reject(new Error(`cannot start ${spec.name}: the ${spec.provider} provider is not available`));
  }
}
