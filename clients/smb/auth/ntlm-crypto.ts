/** NTLMv2 response and key computations (MS-NLMP 3.3.2, 3.4.5). */
import { createHash, createHmac } from 'node:crypto';
import { md4 } from './md4.js';
import { rc4 } from './rc4.js';
import { upperCaseUnits, utf16 } from './bytes.js';
import { NegotiateFlags, hasFlag } from './ntlm-flags.js';

export function hmacMd5(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const mac = createHmac('md5', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

function md5(...parts: Uint8Array[]): Buffer {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** NTOWFv1: MD4 of the UTF-16LE password (MS-NLMP 3.3.1). */
export function ntHash(password: string): Buffer {
  return md4(utf16(password));
}

/** NTOWFv2 = HMAC_MD5(NTOWFv1(password), UNICODE(Uppercase(user) + domain)) (MS-NLMP 3.3.2). */
export function ntowfv2(password: string, user: string, domain: string): Buffer {
  return hmacMd5(ntHash(password), utf16(upperCaseUnits(user) + domain));
}

/**
 * The NTLMv2_CLIENT_CHALLENGE ("temp" in MS-NLMP 3.3.2): Responserversion,
 * HiResponserversion, Z(6), Time, ClientChallenge, Z(4), ServerName (the encoded
 * AV pairs ending in MsvAvEOL), Z(4).
 */
export function ntlmv2ClientBlob(time: Buffer, clientChallenge: Buffer, avPairs: Buffer): Buffer {
  checkLength(time, 8, 'time');
  checkLength(clientChallenge, 8, 'client challenge');
  return Buffer.concat([Buffer.from([1, 1]), Buffer.alloc(6), time, clientChallenge, Buffer.alloc(4), avPairs, Buffer.alloc(4)]);
}

export interface NtlmV2Response {
  /** NTProofStr followed by the client blob: the AUTHENTICATE NtChallengeResponse. */
  readonly ntChallengeResponse: Buffer;
  readonly ntProofStr: Buffer;
  readonly sessionBaseKey: Buffer;
}

/** MS-NLMP 3.3.2 ComputeResponse, NT half. */
export function ntlmv2Response(responseKeyNT: Buffer, serverChallenge: Buffer, clientBlob: Buffer): NtlmV2Response {
  checkLength(serverChallenge, 8, 'server challenge');
  const ntProofStr = hmacMd5(responseKeyNT, serverChallenge, clientBlob);
  return {
    ntChallengeResponse: Buffer.concat([ntProofStr, clientBlob]),
    ntProofStr,
    sessionBaseKey: hmacMd5(responseKeyNT, ntProofStr),
  };
}

/** MS-NLMP 3.3.2 ComputeResponse, LM half: HMAC_MD5(ResponseKeyLM, ServerChallenge || ClientChallenge) || ClientChallenge. */
export function lmv2Response(responseKeyLM: Buffer, serverChallenge: Buffer, clientChallenge: Buffer): Buffer {
  return Buffer.concat([hmacMd5(responseKeyLM, serverChallenge, clientChallenge), clientChallenge]);
}

/** RC4K(KeyExchangeKey, ExportedSessionKey) (MS-NLMP 3.1.5.1.2); NTLMv2's KeyExchangeKey is the SessionBaseKey. */
export function encryptSessionKey(keyExchangeKey: Buffer, exportedSessionKey: Buffer): Buffer {
  checkLength(exportedSessionKey, 16, 'exported session key');
  return rc4(keyExchangeKey, exportedSessionKey);
}

/** HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE with a zero MIC) (MS-NLMP 3.1.5.1.2). */
export function computeMic(exportedSessionKey: Buffer, negotiate: Buffer, challenge: Buffer, authenticate: Buffer): Buffer {
  return hmacMd5(exportedSessionKey, negotiate, challenge, authenticate);
}

export type Direction = 'client-to-server' | 'server-to-client';

/** SIGNKEY (MS-NLMP 3.4.5.2), extended session security. */
export function signingKey(exportedSessionKey: Buffer, direction: Direction): Buffer {
  return md5(exportedSessionKey, Buffer.from(`session key to ${direction} signing key magic constant\0`, 'latin1'));
}

/** SEALKEY (MS-NLMP 3.4.5.3), extended session security: the key is weakened to 56 or 40 bits unless 128 was negotiated. */
export function sealingKey(exportedSessionKey: Buffer, flags: number, direction: Direction): Buffer {
  let key = exportedSessionKey;
  if (!hasFlag(flags, NegotiateFlags.NEGOTIATE_128)) {
    key = exportedSessionKey.subarray(0, hasFlag(flags, NegotiateFlags.NEGOTIATE_56) ? 7 : 5);
  }
  return md5(key, Buffer.from(`session key to ${direction} sealing key magic constant\0`, 'latin1'));
}

function checkLength(value: Buffer, length: number, what: string): void {
  if (value.length !== length) throw new RangeError(`${what} must be ${length} bytes, got ${value.length}`);
}
