/**
 * Proof of configuration: what a session negotiated against what its target declares. A green
 * cell must have run the configuration its column names.
 */
import { describeImpairment } from '../servers/catalog/schema.js';
import { CONFIGURATION_MISMATCH } from './annotations.js';
import type { NegotiatedSettings, TargetFacts } from './annotations.js';
import type { NegotiatedInfo } from '../clients/smb/index.js';
import type { StartedTarget } from '../servers/target.js';

export function settingsOfClient(negotiated: NegotiatedInfo): NegotiatedSettings {
  return {
    dialect: negotiated.dialect,
    cipher: negotiated.cipher,
    signingAlgorithm: negotiated.signingAlgorithm,
    preauthIntegrity: negotiated.preauthIntegrity,
    encryption: negotiated.encryptionOn,
    signing: negotiated.signingOn,
  };
}

export function declaredSettings(target: StartedTarget): NegotiatedSettings {
  const { dialect, cipher, signingAlgorithm, preauthIntegrity, encryption, signing } = target.profile.expect;
  return { dialect, cipher, signingAlgorithm, preauthIntegrity, encryption, signing };
}

export function targetFacts(target: StartedTarget): TargetFacts {
  return {
    name: target.name,
    profile: target.profile.name,
    provider: target.provider,
    serverVersion: target.serverVersion,
    declared: { ...declaredSettings(target), encryptedShares: [...target.profile.expect.encryptedShares] },
    ...(target.profile.impairment === undefined ? {} : { impairment: describeImpairment(target.profile.impairment) }),
  };
}

const FIELDS: ReadonlyArray<keyof NegotiatedSettings> = ['dialect', 'cipher', 'signingAlgorithm', 'preauthIntegrity', 'encryption', 'signing'];

function show(value: unknown): string {
  if (value === null) return 'none';
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return String(value);
}

/** Each field that differs, as `cipher AES-128-CCM, declared AES-128-GCM`; only fields present in `seen` are compared. */
export function configurationDifferences(seen: Partial<NegotiatedSettings>, declared: NegotiatedSettings): string[] {
  const out: string[] = [];
  for (const field of FIELDS) {
    if (!(field in seen)) continue;
    if (seen[field] !== declared[field]) out.push(`${field} ${show(seen[field])}, declared ${show(declared[field])}`);
  }
  return out;
}

export class ConfigurationMismatchError extends Error {
  readonly code = 'SMB_INTEROP_CONFIGURATION_MISMATCH';
  constructor(
    readonly target: string,
    readonly differences: string[],
  ) {
    super(`${CONFIGURATION_MISMATCH} on ${target}: ${differences.join('; ')}`);
    this.name = 'ConfigurationMismatchError';
  }
}

/** Throws ConfigurationMismatchError naming every field that differs. */
export function assertDeclaredConfiguration(target: StartedTarget, seen: Partial<NegotiatedSettings>): void {
  const differences = configurationDifferences(seen, declaredSettings(target));
  if (differences.length > 0) throw new ConfigurationMismatchError(target.name, differences);
}

/** A share is encrypted exactly when the session encrypts or the profile lists the share. */
export function assertShareEncryption(target: StartedTarget, share: string, encrypted: boolean): void {
  const { expect } = target.profile;
  const declared = expect.encryption || expect.encryptedShares.includes(share);
  if (encrypted !== declared) {
    throw new ConfigurationMismatchError(target.name, [`share ${share} ${encrypted ? 'encrypted' : 'not encrypted'}, declared ${declared ? 'encrypted' : 'not encrypted'}`]);
  }
}
