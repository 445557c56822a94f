/** NTLM message encoding and parsing (MS-NLMP 2.2.1). */
import { malformed, slice, u16, u32, utf16 } from './bytes.js';
import { NegotiateFlags, hasFlag } from './ntlm-flags.js';
import { parseAvPairs } from './ntlm-av-pairs.js';
import type { AvPair } from './ntlm-av-pairs.js';

export const NTLMSSP_SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

export const MessageType = { NEGOTIATE: 1, CHALLENGE: 2, AUTHENTICATE: 3 } as const;

/** MS-NLMP 2.2.2.10 VERSION: informational only; NTLMRevisionCurrent is 15. */
export interface NtlmVersion {
  major: number;
  minor: number;
  build: number;
  revision: number;
}

export const DEFAULT_VERSION: NtlmVersion = { major: 10, minor: 0, build: 0, revision: 15 };

export function encodeVersion(version: NtlmVersion): Buffer {
  const out = Buffer.alloc(8);
  out.writeUInt8(version.major & 0xff, 0);
  out.writeUInt8(version.minor & 0xff, 1);
  out.writeUInt16LE(version.build & 0xffff, 2);
  out.writeUInt8(version.revision & 0xff, 7);
  return out;
}

function decodeVersion(buf: Buffer): NtlmVersion {
  return { major: buf[0] ?? 0, minor: buf[1] ?? 0, build: buf.readUInt16LE(2), revision: buf[7] ?? 0 };
}

function header(type: number): Buffer {
  const out = Buffer.alloc(12);
  NTLMSSP_SIGNATURE.copy(out, 0);
  out.writeUInt32LE(type, 8);
  return out;
}

/** The 8-byte Len/MaxLen/BufferOffset triple that points into the payload. */
function fieldRef(length: number, offset: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeUInt16LE(length, 0);
  out.writeUInt16LE(length, 2);
  out.writeUInt32LE(offset, 4);
  return out;
}

function readFieldRef(buf: Buffer, at: number, structure: string, field: string): Buffer {
  const length = u16(buf, at, structure, `${field}Len`);
  const offset = u32(buf, at + 4, structure, `${field}BufferOffset`);
  return slice(buf, offset, length, structure, field);
}

function checkHeader(buf: Buffer, type: number, structure: string): void {
  const signature = slice(buf, 0, 8, structure, 'Signature');
  if (!signature.equals(NTLMSSP_SIGNATURE)) throw malformed(structure, 'Signature', 'not NTLMSSP');
  const actual = u32(buf, 8, structure, 'MessageType');
  if (actual !== type) throw malformed(structure, 'MessageType', `expected ${type}, got ${actual}`);
}

/** MS-NLMP 2.2.1.1: no domain or workstation is supplied (the OEM_*_SUPPLIED flags stay clear). */
export function encodeNegotiateMessage(flags: number, version: NtlmVersion = DEFAULT_VERSION): Buffer {
  const flagBytes = Buffer.alloc(4);
  flagBytes.writeUInt32LE(flags >>> 0);
  const payloadOffset = 40;
  return Buffer.concat([
    header(MessageType.NEGOTIATE),
    flagBytes,
    fieldRef(0, payloadOffset),
    fieldRef(0, payloadOffset),
    encodeVersion(version),
  ]);
}

export interface ChallengeMessage {
  readonly flags: number;
  readonly serverChallenge: Buffer;
  readonly targetName: string;
  /** The TargetInfo AV pairs, without MsvAvEOL; empty when the server sent none. */
  readonly targetInfo: readonly AvPair[];
  readonly version: NtlmVersion | undefined;
  /** The message as received; the MIC covers these exact bytes. */
  readonly raw: Buffer;
}

const CHALLENGE = 'CHALLENGE_MESSAGE';

/** MS-NLMP 2.2.1.2. Messages from servers that predate TargetInfo (32 bytes of header) are accepted. */
export function parseChallengeMessage(buf: Buffer): ChallengeMessage {
  checkHeader(buf, MessageType.CHALLENGE, CHALLENGE);
  const flags = u32(buf, 20, CHALLENGE, 'NegotiateFlags');
  const serverChallenge = Buffer.from(slice(buf, 24, 8, CHALLENGE, 'ServerChallenge'));
  const nameBytes = readFieldRef(buf, 12, CHALLENGE, 'TargetName');
  const targetName = hasFlag(flags, NegotiateFlags.UNICODE)
    ? nameBytes.toString('utf16le')
    : nameBytes.toString('latin1');

  let targetInfo: AvPair[] = [];
  if (hasFlag(flags, NegotiateFlags.TARGET_INFO)) {
    const infoBytes = readFieldRef(buf, 40, CHALLENGE, 'TargetInfo');
    targetInfo = parseAvPairs(Buffer.from(infoBytes));
  }
  let version: NtlmVersion | undefined;
  if (hasFlag(flags, NegotiateFlags.VERSION) && buf.length >= 56) {
    version = decodeVersion(slice(buf, 48, 8, CHALLENGE, 'Version'));
  }
  return { flags, serverChallenge, targetName, targetInfo, version, raw: Buffer.from(buf) };
}

export interface AuthenticateFields {
  flags: number;
  lmChallengeResponse: Buffer;
  ntChallengeResponse: Buffer;
  domain: string;
  user: string;
  workstation: string;
  /** Empty when no key is exchanged. */
  encryptedRandomSessionKey: Buffer;
  /** Sent when present; always sent (zeros if omitted) when the message carries a MIC. */
  version?: NtlmVersion;
  /** Reserve the 16-byte MIC field, zero-filled for the caller to compute and fill in. */
  withMic: boolean;
}

/** Where the MIC sits in an AUTHENTICATE_MESSAGE that has Version and MIC (MS-NLMP 2.2.1.3). */
export const AUTHENTICATE_MIC_OFFSET = 72;

/**
 * MS-NLMP 2.2.1.3. The payload order (domain, user, workstation, LM, NT, session key)
 * follows the example in MS-NLMP 4.2.4.3.
 */
export function encodeAuthenticateMessage(fields: AuthenticateFields): Buffer {
  const payloads = [
    utf16(fields.domain),
    utf16(fields.user),
    utf16(fields.workstation),
    fields.lmChallengeResponse,
    fields.ntChallengeResponse,
    fields.encryptedRandomSessionKey,
  ];
  for (const part of payloads) {
    if (part.length > 0xffff) throw malformed('AUTHENTICATE_MESSAGE', 'Payload', 'a field exceeds 65535 bytes');
  }
  const [domain, user, workstation, lm, nt, key] = payloads as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
  const withVersion = fields.version !== undefined || fields.withMic;
  let offset = 64 + (withVersion ? 8 : 0) + (fields.withMic ? 16 : 0);
  const ref = (part: Buffer): Buffer => {
    const out = fieldRef(part.length, offset);
    offset += part.length;
    return out;
  };
  // The header lists the fields in a different order from the payload.
  const domainRef = ref(domain);
  const userRef = ref(user);
  const workstationRef = ref(workstation);
  const lmRef = ref(lm);
  const ntRef = ref(nt);
  const keyRef = ref(key);
  const flagBytes = Buffer.alloc(4);
  flagBytes.writeUInt32LE(fields.flags >>> 0);

  return Buffer.concat([
    header(MessageType.AUTHENTICATE),
    lmRef,
    ntRef,
    domainRef,
    userRef,
    workstationRef,
    keyRef,
    flagBytes,
    withVersion ? encodeVersion(fields.version ?? { major: 0, minor: 0, build: 0, revision: 0 }) : Buffer.alloc(0),
    fields.withMic ? Buffer.alloc(16) : Buffer.alloc(0),
    ...payloads,
  ]);
}

export interface AuthenticateMessage {
  readonly flags: number;
  readonly lmChallengeResponse: Buffer;
  readonly ntChallengeResponse: Buffer;
  readonly domain: string;
  readonly user: string;
  readonly workstation: string;
  readonly encryptedRandomSessionKey: Buffer;
}

const AUTHENTICATE = 'AUTHENTICATE_MESSAGE';

/** MS-NLMP 2.2.1.3, as a server reads it; used to check what the client produced. */
export function parseAuthenticateMessage(buf: Buffer): AuthenticateMessage {
  checkHeader(buf, MessageType.AUTHENTICATE, AUTHENTICATE);
  const text = (at: number, field: string): string => readFieldRef(buf, at, AUTHENTICATE, field).toString('utf16le');
  return {
    lmChallengeResponse: readFieldRef(buf, 12, AUTHENTICATE, 'LmChallengeResponse'),
    ntChallengeResponse: readFieldRef(buf, 20, AUTHENTICATE, 'NtChallengeResponse'),
    domain: text(28, 'DomainName'),
    user: text(36, 'UserName'),
    workstation: text(44, 'Workstation'),
    encryptedRandomSessionKey: readFieldRef(buf, 52, AUTHENTICATE, 'EncryptedRandomSessionKey'),
    flags: u32(buf, 60, AUTHENTICATE, 'NegotiateFlags'),
  };
}
