/**
 * Just enough of an NTLM server (MS-NLMP 3.2.5) to check what the client produces:
 * it builds a CHALLENGE_MESSAGE and verifies the AUTHENTICATE_MESSAGE, MIC included.
 * Test code only.
 */
import { encodeAvPairs, AvId, parseAvPairs, findAvPair, AvFlags } from './ntlm-av-pairs.js';
import type { AvPair } from './ntlm-av-pairs.js';
import { NTLMSSP_SIGNATURE, parseAuthenticateMessage, AUTHENTICATE_MIC_OFFSET } from './ntlm-messages.js';
import type { AuthenticateMessage } from './ntlm-messages.js';
import { computeMic, hmacMd5, ntowfv2 } from './ntlm-crypto.js';
import { rc4 } from './rc4.js';
import { utf16 } from './bytes.js';
import { NegotiateFlags, hasFlag } from './ntlm-flags.js';

export const SERVER_FLAGS = 0xe28a8235;

export interface ChallengeSpec {
  flags?: number;
  serverChallenge?: Buffer;
  targetName?: string;
  targetInfo?: AvPair[];
  /** TargetInfo bytes used as they are instead of encoding `targetInfo` (for hostile input). */
  rawTargetInfo?: Buffer;
}

export function text(id: number, value: string): AvPair {
  return { id, value: utf16(value) };
}

export function timestampPair(ticks: bigint): AvPair {
  const value = Buffer.alloc(8);
  value.writeBigUInt64LE(ticks);
  return { id: AvId.Timestamp, value };
}

/** A CHALLENGE_MESSAGE with Version, laid out as Windows does: target name, then target info. */
export function buildChallenge(spec: ChallengeSpec = {}): Buffer {
  const flags = spec.flags ?? SERVER_FLAGS;
  const name = utf16(spec.targetName ?? 'DOMAIN');
  const info =
    spec.rawTargetInfo ??
    encodeAvPairs(spec.targetInfo ?? [text(AvId.NbDomainName, 'DOMAIN'), text(AvId.NbComputerName, 'SERVER')]);
  const head = Buffer.alloc(56);
  NTLMSSP_SIGNATURE.copy(head, 0);
  head.writeUInt32LE(2, 8);
  head.writeUInt16LE(name.length, 12);
  head.writeUInt16LE(name.length, 14);
  head.writeUInt32LE(56, 16);
  head.writeUInt32LE(flags >>> 0, 20);
  (spec.serverChallenge ?? Buffer.from('0123456789abcdef', 'hex')).copy(head, 24);
  head.writeUInt16LE(info.length, 40);
  head.writeUInt16LE(info.length, 42);
  head.writeUInt32LE(56 + name.length, 44);
  Buffer.from([10, 0, 0x7c, 0x4f, 0, 0, 0, 15]).copy(head, 48);
  return Buffer.concat([head, name, info]);
}

export interface VerifiedLogon {
  readonly message: AuthenticateMessage;
  readonly clientPairs: AvPair[];
  readonly exportedSessionKey: Buffer;
  readonly micPresent: boolean;
}

/**
 * MS-NLMP 3.2.5.1.2: recomputes the NTProofStr from the password, recovers the
 * exported session key and checks the MIC. Throws when anything does not match.
 */
export function verifyAuthenticate(
  credentials: { user: string; password: string; domain: string },
  negotiate: Buffer,
  challenge: Buffer,
  authenticate: Buffer,
): VerifiedLogon {
  const message = parseAuthenticateMessage(authenticate);
  const serverChallenge = challenge.subarray(24, 32);
  const responseKey = ntowfv2(credentials.password, message.user, message.domain);
  const ntProofStr = message.ntChallengeResponse.subarray(0, 16);
  const blob = message.ntChallengeResponse.subarray(16);
  if (!hmacMd5(responseKey, serverChallenge, blob).equals(ntProofStr)) throw new Error('NTProofStr mismatch');
  const sessionBaseKey = hmacMd5(responseKey, ntProofStr);
  const exportedSessionKey =
    hasFlag(message.flags, NegotiateFlags.KEY_EXCH) && message.encryptedRandomSessionKey.length === 16
      ? rc4(sessionBaseKey, message.encryptedRandomSessionKey)
      : sessionBaseKey;

  const clientPairs = parseAvPairs(blob.subarray(28));
  const avFlags = findAvPair(clientPairs, AvId.Flags)?.readUInt32LE(0) ?? 0;
  const micPresent = (avFlags & AvFlags.MIC_PRESENT) !== 0;
  if (micPresent) {
    const sent = authenticate.subarray(AUTHENTICATE_MIC_OFFSET, AUTHENTICATE_MIC_OFFSET + 16);
    const zeroed = Buffer.from(authenticate);
    zeroed.fill(0, AUTHENTICATE_MIC_OFFSET, AUTHENTICATE_MIC_OFFSET + 16);
    if (!computeMic(exportedSessionKey, negotiate, challenge, zeroed).equals(sent)) throw new Error('MIC mismatch');
  }
  return { message, clientPairs, exportedSessionKey, micPresent };
}
