/**
 * What the client offers in NEGOTIATE (MS-SMB2 3.2.4.2.2.2) and what it concludes from the
 * response (MS-SMB2 3.2.5.2). Pure: the connection sends and receives, this decides.
 */
import { randomBytes } from 'node:crypto';
import { Cipher, Dialect, PreauthHashAlgorithm, SigningAlgorithm, isCipher, isSigningAlgorithm } from './crypto/index.js';
import type { Cipher as CipherId, Dialect as DialectId, SigningAlgorithm as SigningAlgorithmId } from './crypto/index.js';
import { NegotiationError, SecurityError } from './errors.js';
import { offeredCapabilities } from './faults.js';
import type { FaultHook } from './faults.js';
import {
  Capability,
  SecurityMode,
  decodeNegotiateResponse,
  encodeNegotiateRequest,
  findContext,
} from './wire/index.js';
import type { NegotiateContext, NegotiateRequest, NegotiateResponse } from './wire/index.js';

export type DialectName = '2.0.2' | '2.1' | '3.0' | '3.0.2' | '3.1.1';
export type CipherName = 'AES-128-CCM' | 'AES-128-GCM' | 'AES-256-CCM' | 'AES-256-GCM';
export type SigningAlgorithmName = 'AES-128-GMAC' | 'AES-128-CMAC' | 'HMAC-SHA256';
/** 'auto': encrypt when the server asks; 'required': encrypt everything or fail; 'off': never. */
export type EncryptionPolicy = 'auto' | 'required' | 'off';
export type SigningPolicy = 'auto' | 'required';

export interface NegotiatePolicy {
  host: string;
  dialects: readonly DialectName[];
  ciphers: readonly CipherName[];
  signingAlgorithms: readonly SigningAlgorithmName[];
  encryption: EncryptionPolicy;
  signing: SigningPolicy;
}

export const ALL_DIALECTS: readonly DialectName[] = ['2.0.2', '2.1', '3.0', '3.0.2', '3.1.1'];
export const DEFAULT_CIPHERS: readonly CipherName[] = ['AES-128-GCM', 'AES-128-CCM', 'AES-256-GCM', 'AES-256-CCM'];
export const DEFAULT_SIGNING_ALGORITHMS: readonly SigningAlgorithmName[] = ['AES-128-GMAC', 'AES-128-CMAC', 'HMAC-SHA256'];

const DIALECT_IDS: Record<DialectName, DialectId> = {
  '2.0.2': Dialect.Smb202,
  '2.1': Dialect.Smb210,
  '3.0': Dialect.Smb300,
  '3.0.2': Dialect.Smb302,
  '3.1.1': Dialect.Smb311,
};
const CIPHER_IDS: Record<CipherName, CipherId> = {
  'AES-128-CCM': Cipher.Aes128Ccm,
  'AES-128-GCM': Cipher.Aes128Gcm,
  'AES-256-CCM': Cipher.Aes256Ccm,
  'AES-256-GCM': Cipher.Aes256Gcm,
};
const SIGNING_IDS: Record<SigningAlgorithmName, SigningAlgorithmId> = {
  'HMAC-SHA256': SigningAlgorithm.HmacSha256,
  'AES-128-CMAC': SigningAlgorithm.AesCmac,
  'AES-128-GMAC': SigningAlgorithm.AesGmac,
};

function nameOf<N extends string>(table: Record<N, number>, id: number): N | undefined {
  return (Object.keys(table) as N[]).find((name) => table[name] === id);
}

export function dialectNameOf(id: number): DialectName | undefined {
  return nameOf(DIALECT_IDS, id);
}

export function cipherNameOf(id: number): CipherName | undefined {
  return nameOf(CIPHER_IDS, id);
}

export function signingAlgorithmNameOf(id: number): SigningAlgorithmName | undefined {
  return nameOf(SIGNING_IDS, id);
}

function hex(value: number, digits: number): string {
  return `0x${value.toString(16).toUpperCase().padStart(digits, '0')}`;
}

function requireKnown<N extends string>(kind: string, table: Record<N, number>, names: readonly string[]): number[] {
  if (names.length === 0) throw new NegotiationError(`no ${kind} to offer: the list is empty`);
  return names.map((name) => {
    const id = table[name as N];
    if (id === undefined) throw new NegotiationError(`unknown ${kind} "${name}" (known: ${Object.keys(table).join(', ')})`);
    return id;
  });
}

/** The NEGOTIATE request fields; kept by the connection for FSCTL_VALIDATE_NEGOTIATE_INFO. */
export function buildNegotiateRequest(policy: NegotiatePolicy, faults?: FaultHook): NegotiateRequest {
  const dialects = requireKnown('dialect', DIALECT_IDS, policy.dialects);
  const encrypting = policy.encryption !== 'off';
  let securityMode: number = SecurityMode.SigningEnabled;
  if (policy.signing === 'required') securityMode |= SecurityMode.SigningRequired;
  let capabilities: number = Capability.Dfs | Capability.Leasing | Capability.LargeMtu;
  // MS-SMB2 3.2.4.2.2.2 asks for it with 3.0/3.0.2; servers also read it for 3.1.1 (3.3.4.1.4 encrypts
  // only when Connection.ClientCapabilities has it), so it goes with every 3.x offer.
  const offers3x = dialects.some((d) => d >= Dialect.Smb300);
  if (offers3x && encrypting) capabilities |= Capability.Encryption;
  if (faults !== undefined) capabilities = offeredCapabilities(faults, capabilities);
  const request: NegotiateRequest = { dialects, securityMode, capabilities, clientGuid: randomBytes(16) };
  if (dialects.includes(Dialect.Smb311)) {
    const contexts: NegotiateContext[] = [
      { kind: 'preauthIntegrity', hashAlgorithms: [PreauthHashAlgorithm.Sha512], salt: randomBytes(32) },
    ];
    if (encrypting) contexts.push({ kind: 'encryption', ciphers: requireKnown('cipher', CIPHER_IDS, policy.ciphers) });
    contexts.push({ kind: 'signing', algorithms: requireKnown('signing algorithm', SIGNING_IDS, policy.signingAlgorithms) });
    contexts.push({ kind: 'netname', netName: policy.host });
    request.negotiateContexts = contexts;
  }
  return request;
}

export function encodeNegotiate(request: NegotiateRequest): Buffer {
  return encodeNegotiateRequest(request);
}

/** Connection state fixed by NEGOTIATE (MS-SMB2 3.2.5.2). */
export interface Negotiated {
  dialect: DialectId;
  dialectName: DialectName;
  /** Connection.CipherId; undefined when this connection cannot encrypt. */
  cipher: CipherId | undefined;
  signingAlgorithm: SigningAlgorithmId;
  preauthIntegrity: boolean;
  serverGuid: Buffer;
  capabilities: number;
  securityMode: number;
  /** Connection.RequireSigning */
  serverRequiresSigning: boolean;
  supportsMultiCredit: boolean;
  maxReadSize: number;
  maxWriteSize: number;
  maxTransactSize: number;
  /** The server's GSS token hint (SPNEGO NegTokenInit). */
  securityBuffer: Buffer;
}

export function offeredList(request: NegotiateRequest): string {
  return request.dialects.map((d) => dialectNameOf(d) ?? hex(d, 4)).join(', ');
}

function cipherOf(response: NegotiateResponse, request: NegotiateRequest, dialect: DialectId, policy: NegotiatePolicy, faults: FaultHook | undefined): CipherId | undefined {
  if (policy.encryption === 'off') return undefined;
  if (dialect === Dialect.Smb311) {
    const chosen = findContext(response.negotiateContexts, 'encryption')?.ciphers[0];
    if (chosen === undefined || chosen === 0) return undefined;
    const offered = findContext(request.negotiateContexts ?? [], 'encryption')?.ciphers ?? [];
    if (!isCipher(chosen) || !offered.includes(chosen)) {
      throw new NegotiationError(`server chose cipher ${hex(chosen, 4)}, which the client did not offer (${policy.ciphers.join(', ')})`);
    }
    return chosen;
  }
  if (dialect !== Dialect.Smb300 && dialect !== Dialect.Smb302) return undefined;
  if (!policy.ciphers.includes('AES-128-CCM')) return undefined;
  // The omitted-capability fault encrypts anyway, as the client from the field did.
  const serverEncrypts = (response.capabilities & Capability.Encryption) !== 0 || faults?.switches?.omitEncryptionCapability === true;
  return serverEncrypts ? Cipher.Aes128Ccm : undefined;
}

function signingAlgorithmOf(response: NegotiateResponse, request: NegotiateRequest, dialect: DialectId): SigningAlgorithmId {
  if (dialect === Dialect.Smb311) {
    const chosen = findContext(response.negotiateContexts, 'signing')?.algorithms[0];
    if (chosen !== undefined) {
      const offered = findContext(request.negotiateContexts ?? [], 'signing')?.algorithms ?? [];
      if (!isSigningAlgorithm(chosen) || !offered.includes(chosen)) {
        throw new NegotiationError(`server chose signing algorithm ${hex(chosen, 4)}, which the client did not offer`);
      }
      return chosen;
    }
  }
  return dialect >= Dialect.Smb300 ? SigningAlgorithm.AesCmac : SigningAlgorithm.HmacSha256;
}

/** Checks the NEGOTIATE response against the request and the policy. */
export function interpretNegotiateResponse(message: Buffer, request: NegotiateRequest, policy: NegotiatePolicy, faults?: FaultHook): Negotiated {
  const response = decodeNegotiateResponse(message);
  const dialectId = response.dialectRevision;
  const dialectName = dialectNameOf(dialectId);
  if (dialectName === undefined || !request.dialects.includes(dialectId)) {
    throw new NegotiationError(
      `server chose dialect ${dialectName ?? hex(dialectId, 4)}, which the client did not offer (client offered ${offeredList(request)})`,
    );
  }
  const dialect = DIALECT_IDS[dialectName];
  if (dialect === Dialect.Smb311) {
    const preauth = findContext(response.negotiateContexts, 'preauthIntegrity');
    if (preauth?.hashAlgorithms[0] !== PreauthHashAlgorithm.Sha512) {
      throw new NegotiationError('server answered 3.1.1 without selecting SHA-512 for preauth integrity (MS-SMB2 3.2.5.2)');
    }
  }
  const cipher = cipherOf(response, request, dialect, policy, faults);
  if (policy.encryption === 'required' && cipher === undefined) {
    const why = dialect < Dialect.Smb300 ? `dialect ${dialectName} cannot encrypt` : `the server accepted none of ${policy.ciphers.join(', ')}`;
    throw new SecurityError(`encryption is required by the client but ${why}`);
  }
  return {
    dialect,
    dialectName,
    cipher,
    signingAlgorithm: signingAlgorithmOf(response, request, dialect),
    preauthIntegrity: dialect === Dialect.Smb311,
    serverGuid: Buffer.from(response.serverGuid),
    capabilities: response.capabilities,
    securityMode: response.securityMode,
    serverRequiresSigning: (response.securityMode & SecurityMode.SigningRequired) !== 0,
    supportsMultiCredit: dialect >= Dialect.Smb210 && (response.capabilities & Capability.LargeMtu) !== 0,
    maxReadSize: response.maxReadSize,
    maxWriteSize: response.maxWriteSize,
    maxTransactSize: response.maxTransactSize,
    securityBuffer: Buffer.from(response.securityBuffer),
  };
}
