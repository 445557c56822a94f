/**
 * What a cell needs from its client, and whether the client's declared capabilities cover it. A
 * scenario declares operations (and, where it is its subject, a dialect, cipher, signing
 * algorithm or logon); the target adds what its column proves (the dialect it declares, and the
 * cipher or signing algorithm that protects its sessions). A client that lacks any of it is `unsupported` for that cell.
 */
import type { Cipher, Dialect, Expectation, SigningAlgorithm } from '../../servers/catalog/schema.js';
import type { AuthMethod, Capabilities, Operation } from './protocol.js';

export interface ClientNeeds {
  operations?: readonly Operation[];
  dialect?: Dialect;
  cipher?: Cipher;
  signing?: SigningAlgorithm;
  auth?: AuthMethod;
}

const KINDS = ['operation', 'dialect', 'cipher', 'signing', 'auth'] as const;
type NeedKind = (typeof KINDS)[number];

/** One annotation per need: `operation:rename`, `cipher:AES-256-GCM`, `auth:guest`. */
export function needsToText(needs: ClientNeeds): string[] {
  const out = (needs.operations ?? []).map((op) => `operation:${op}`);
  if (needs.dialect) out.push(`dialect:${needs.dialect}`);
  if (needs.cipher) out.push(`cipher:${needs.cipher}`);
  if (needs.signing) out.push(`signing:${needs.signing}`);
  if (needs.auth) out.push(`auth:${needs.auth}`);
  return out;
}

/** The inverse of needsToText; an unknown kind is an error naming it. */
export function needsFromText(lines: readonly string[]): ClientNeeds {
  const needs: { operations: Operation[]; dialect?: string; cipher?: string; signing?: string; auth?: string } = { operations: [] };
  for (const line of lines) {
    const colon = line.indexOf(':');
    const kind = line.slice(0, colon) as NeedKind;
    const value = line.slice(colon + 1);
    if (colon < 0 || !KINDS.includes(kind)) throw new Error(`client need "${line}" is not <${KINDS.join('|')}>:<value>`);
    if (kind === 'operation') needs.operations.push(value as Operation);
    else needs[kind] = value;
  }
  return needs as ClientNeeds;
}

/** What a target's column proves: the client must be able to negotiate what the target declares. */
export function targetNeeds(
  expect: Pick<Expectation, 'dialect' | 'cipher' | 'signingAlgorithm' | 'signing' | 'encryption'>,
  domain?: { ntlm: boolean },
): ClientNeeds {
  const needs: { dialect: Dialect; cipher?: Cipher; signing?: SigningAlgorithm; auth?: AuthMethod } = { dialect: expect.dialect };
  // A server that refuses NTLM admits only clients that can log on with Kerberos.
  if (domain !== undefined && !domain.ntlm) needs.auth = 'kerberos';
  if (expect.cipher !== null && expect.encryption) needs.cipher = expect.cipher;
  // The signing algorithm is what protects a signed session; an encrypted one is protected by its
  // cipher (MS-SMB2 3.1.4.3), and an unsigned one by nothing the column could prove.
  if (expect.signingAlgorithm !== null && expect.signing && !expect.encryption) needs.signing = expect.signingAlgorithm;
  return needs;
}

function listed(values: readonly string[]): string {
  return values.length > 0 ? values.join(', ') : 'none';
}

/**
 * Why `client` cannot run a cell needing `needs`, or undefined when its capabilities cover them.
 * `where` names who needs it (`the scenario`, `smb311-aes256@native`).
 */
export function unmetNeed(client: string, capabilities: Capabilities, needs: ClientNeeds, where: string): string | undefined {
  const missingOps = (needs.operations ?? []).filter((op) => !capabilities.operations.includes(op));
  if (missingOps.length > 0) return `${client} does not implement ${missingOps.join(', ')}, which ${where} uses (it implements ${listed(capabilities.operations)})`;
  if (needs.dialect && !capabilities.dialects.includes(needs.dialect)) return `${where} needs dialect ${needs.dialect}; ${client} declares ${listed(capabilities.dialects)}`;
  if (needs.cipher && !capabilities.ciphers.includes(needs.cipher)) return `${where} needs cipher ${needs.cipher}; ${client} declares ${listed(capabilities.ciphers)}`;
  if (needs.signing && !capabilities.signing.includes(needs.signing)) return `${where} needs signing algorithm ${needs.signing}; ${client} declares ${listed(capabilities.signing)}`;
  if (needs.auth && !capabilities.auth.includes(needs.auth)) return `${where} needs ${needs.auth} logon; ${client} declares ${listed(capabilities.auth)}`;
  return undefined;
}

/** A call to an operation the client did not declare: the cell is unsupported, not failed. */
export class ClientUnsupported extends Error {
  readonly code = 'SMB_INTEROP_CLIENT_UNSUPPORTED';
  constructor(
    readonly client: string,
    readonly reason: string,
  ) {
    super(`unsupported: ${reason}`);
    this.name = 'ClientUnsupported';
  }
}
