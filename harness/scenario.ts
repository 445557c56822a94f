/**
 * How a scenario declares itself: an id (`<area>/<slug>`), what it needs from a target and from
 * its client, and which clients run it. `scenario()` returns Playwright test details (annotations
 * and tags) so the matrix reporter can read every cell's identity from the result alone.
 */
import type { TestDetails } from '@playwright/test';
import { Annotation, ClientId, Requirement } from './annotations.js';
import type { ClientIdValue, RequirementId } from './annotations.js';
import type { StartedTarget } from '../servers/target.js';
import { loadCatalog } from '../servers/catalog/index.js';
import { clientRegistry, type ClientRegistry } from '../clients/plugins/registry.js';
import { needsToText, type ClientNeeds } from '../clients/plugins/needs.js';

export interface ScenarioSpec {
  /** `<area>/<slug>`, e.g. `files/round-trip-small`: stable, the matrix's row key. */
  id: string;
  /** Default: smb-ts. Portable scenarios run once per client (see `forEachClient`). */
  client?: ClientIdValue;
  requires?: readonly RequirementId[];
  /**
   * What the scenario needs from its client: the operations it calls and, where they are its
   * subject, a dialect, cipher, signing algorithm or logon. A client whose declared capabilities
   * lack any of it is `unsupported` for the cell (not run, not failed).
   */
  needs?: ClientNeeds;
  /**
   * The logon mechanism that is the scenario's subject. `ntlm`: the client is asked for NTLM (a
   * target refusing it is not applicable); `kerberos`: for Kerberos (a target in a realm, a
   * client that has it). Absent: the target's default (negotiate in a realm, NTLM elsewhere).
   */
  logon?: 'ntlm' | 'kerberos';
  /**
   * The scenario changes or holds the server's frames (`traces.interfere`): its clients connect
   * through the relaying capture proxy. Every other cell on a local server is recorded passively,
   * its clients connected to the server itself, and cannot be interfered with.
   */
  interferes?: boolean;
}

/**
 * This process's clients: the built-in ones and the config's `clients` (SMB_INTEROP_CONFIG, or
 * smb-interop.config.* in the working directory). Loaded once, before any scenario is declared.
 */
export const registry: ClientRegistry = clientRegistry((await loadCatalog()).clients ?? []);

const SCENARIO_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*\/[a-z0-9.]+(?:-[a-z0-9.]+)*$/;

export function areaOf(id: string): string {
  return id.slice(0, id.indexOf('/'));
}

/** Test details for a scenario: `test(title, scenario({ id, requires }), async (...) => ...)`. */
export function scenario(spec: ScenarioSpec): TestDetails {
  if (!SCENARIO_ID.test(spec.id)) throw new Error(`scenario id "${spec.id}" is not of the form <area>/<slug> (lower case, digits, dashes)`);
  const client = spec.client ?? ClientId.typescript;
  const requires = [...(spec.requires ?? [])];
  const needs: ClientNeeds = { ...spec.needs };
  if (spec.logon === 'ntlm' && !requires.includes(Requirement.ntlm)) requires.push(Requirement.ntlm);
  if (spec.logon === 'kerberos') {
    if (!requires.includes(Requirement.domain)) requires.push(Requirement.domain);
    needs.auth = 'kerberos';
  }
  return {
    tag: [`@${areaOf(spec.id)}`, `@${client}`],
    annotation: [
      { type: Annotation.scenario, description: spec.id },
      { type: Annotation.area, description: areaOf(spec.id) },
      { type: Annotation.client, description: client },
      ...requires.map((r) => ({ type: Annotation.requires, description: r })),
      ...needsToText(needs).map((n) => ({ type: Annotation.needs, description: n })),
      ...(spec.logon === undefined ? [] : [{ type: Annotation.logon, description: spec.logon }]),
      ...(spec.interferes === true ? [{ type: Annotation.capture, description: 'relay' }] : []),
    ],
  };
}

/** The clients a run includes: SMB_INTEROP_CLIENTS=smb-ts,go-smb2 (default: every registered client). */
export function selectedClients(env: NodeJS.ProcessEnv = process.env, clients: ClientRegistry = registry): ClientIdValue[] {
  return clients.selected(env);
}

/** Declares a portable scenario once per selected client; the title says which client ran it. */
export function forEachClient(declare: (client: ClientIdValue, suffix: string) => void): void {
  for (const client of selectedClients()) declare(client, client === ClientId.typescript ? '' : ` (${client})`);
}

/**
 * Why a target cannot run a scenario needing `requirement`, or undefined when it can. Decided
 * from what the target declares, so a skip is never a silent pass.
 */
export function unmetRequirement(requirement: RequirementId, target: StartedTarget): string | undefined {
  const { profile } = target;
  const { expect } = profile;
  switch (requirement) {
    case Requirement.encryption:
      return expect.encryption ? undefined : `${target.name} does not encrypt its sessions`;
    case Requirement.encryptionRequired:
      return profile.encryption.mode === 'required' ? undefined : `${target.name} does not require encryption (mode ${profile.encryption.mode})`;
    case Requirement.smb311:
      return expect.dialect === '3.1.1' ? undefined : `${target.name} negotiates ${expect.dialect}, not 3.1.1`;
    case Requirement.smb3:
      return expect.dialect.startsWith('3.') ? undefined : `${target.name} negotiates ${expect.dialect}, not SMB 3`;
    case Requirement.smb30x:
      return expect.dialect === '3.0' || expect.dialect === '3.0.2' ? undefined : `${target.name} negotiates ${expect.dialect}, not 3.0 or 3.0.2`;
    case Requirement.signingRequired:
      return profile.signing.required ? undefined : `${target.name} does not require signing`;
    case Requirement.protectedResponses:
      return expect.encryption || profile.signing.required ? undefined : `${target.name} neither encrypts its sessions nor requires signing`;
    case Requirement.guest:
      return profile.guest.enabled ? undefined : `${target.name} admits no guests`;
    case Requirement.shareEncryption:
      return expect.encryptedShares.length > 0 && !expect.encryption
        ? undefined
        : `${target.name} has no share that alone requires encryption`;
    case Requirement.localPath:
      return target.shares.every((s) => s.localPath !== undefined) ? undefined : `${target.name} gives no access to its disk (${target.provider} provider)`;
    case Requirement.ntlm:
      return target.kerberos?.ntlm === false ? `${target.name} refuses NTLM logons (Kerberos only)` : undefined;
    case Requirement.domain:
      return target.kerberos === undefined ? `${target.name} is in no Kerberos realm the harness knows (not a domain profile)` : undefined;
    case Requirement.kerberosOnly:
      return target.kerberos === undefined ? `${target.name} is in no Kerberos realm the harness knows (not a domain profile)`
        : target.kerberos.ntlm ? `${target.name} accepts NTLM logons too` : undefined;
    case Requirement.serverLog:
      return target.provider === 'remote' ? `${target.name} keeps its log to itself (remote server)` : undefined;
  }
}
