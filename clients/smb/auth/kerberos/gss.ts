/**
 * The Kerberos V5 GSS-API mechanism's tokens (RFC 4121, framing of RFC 1964 1.1 and RFC 2743 3.1):
 * the AP-REQ and AP-REP inside an InitialContextToken with a two-byte TOK_ID, the authenticator
 * checksum 0x8003 that carries the GSS flags, and the MIC token SPNEGO's mechListMIC uses.
 */
import { timingSafeEqual } from 'node:crypto';
import { malformed } from '../bytes.js';
import { Tag, decodeDer, decodeOid, encodeOid, encodeTlv } from '../der.js';
import { Oid } from '../spnego.js';
import { checksum, type EncryptionKey } from './crypto.js';

/** RFC 4121 4.1 / RFC 1964 1.1: the token's kind after the mechanism OID. */
export const TokenId = {
  AP_REQ: 0x0100,
  AP_REP: 0x0200,
  KRB_ERROR: 0x0300,
  MIC: 0x0404,
} as const;

/** RFC 2744 / RFC 4121 4.1.1.1: the context flags the initiator asks for. */
export const GssFlag = {
  DELEG: 1,
  MUTUAL: 2,
  REPLAY: 4,
  SEQUENCE: 8,
  CONF: 16,
  INTEG: 32,
} as const;

/** RFC 4121 4.1.1: the authenticator's checksum type for GSS context establishment. */
export const GSS_CHECKSUM_TYPE = 0x8003;

/** RFC 4121 2: key usages of the per-message tokens. */
const KeyUsage = {
  ACCEPTOR_SIGN: 23,
  INITIATOR_SIGN: 25,
} as const;

/** RFC 4121 4.2.2: MIC token flags. */
const MicFlag = {
  SENT_BY_ACCEPTOR: 0x01,
  ACCEPTOR_SUBKEY: 0x04,
} as const;

const KRB5_OIDS: ReadonlySet<string> = new Set([Oid.KERBEROS, Oid.MS_KERBEROS]);

/** The 0x8003 checksum value (RFC 4121 4.1.1): Lgth, Bnd (no channel bindings), Flags. */
export function gssChecksum(flags: number): Buffer {
  const value = Buffer.alloc(24);
  value.writeUInt32LE(16, 0);
  value.writeUInt32LE(flags >>> 0, 20);
  return value;
}

/** InitialContextToken { krb5 OID, TOK_ID, Kerberos message } (RFC 2743 3.1, RFC 1964 1.1). */
export function wrapKerberosToken(tokenId: number, message: Buffer): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(tokenId);
  return encodeTlv(Tag.APPLICATION_0, encodeOid(Oid.KERBEROS), id, message);
}

export interface KerberosToken {
  readonly tokenId: number;
  readonly message: Buffer;
}

/**
 * Reads a framed Kerberos token. The inner token is not itself DER (TOK_ID, then the message),
 * so the frame is read by hand: 0x60, a definite length that the token fills exactly, the OID.
 */
export function unwrapKerberosToken(token: Buffer, structure = 'Kerberos GSS token'): KerberosToken {
  if (token.length < 2) throw malformed(structure, 'InitialContextToken', `${token.length} bytes`);
  if (token[0] !== Tag.APPLICATION_0) throw malformed(structure, 'InitialContextToken', `expected tag 0x60, got 0x${(token[0] ?? 0).toString(16)}`);
  let at = 2;
  let length = token[1] ?? 0;
  if (length === 0x80) throw malformed(structure, 'InitialContextToken.length', 'indefinite length is not DER');
  if (length > 0x80) {
    const count = length & 0x7f;
    if (count > 4 || at + count > token.length) throw malformed(structure, 'InitialContextToken.length', `${count}-byte length in a ${token.length}-byte token`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (token[at + i] ?? 0);
    at += count;
  }
  if (at + length !== token.length) throw malformed(structure, 'InitialContextToken.length', `claims ${length} bytes, ${token.length - at} follow`);
  if (token[at] !== Tag.OID || at + 2 > token.length) throw malformed(structure, 'thisMech', 'expected an OID');
  const oidEnd = at + 2 + (token[at + 1] ?? 0);
  if ((token[at + 1] ?? 0) >= 0x80 || oidEnd + 2 > token.length) throw malformed(structure, 'thisMech', 'OID runs past the token');
  const oid = decodeOid(decodeDer(token.subarray(at, oidEnd), structure), structure, 'thisMech');
  if (!KRB5_OIDS.has(oid)) throw malformed(structure, 'thisMech', `${oid} is not Kerberos V5`);
  return { tokenId: token.readUInt16BE(oidEnd), message: token.subarray(oidEnd + 2) };
}

function micHeader(flags: number, sequence: bigint): Buffer {
  const header = Buffer.alloc(16, 0xff);
  header.writeUInt16BE(TokenId.MIC, 0);
  header[2] = flags;
  header.writeBigUInt64BE(sequence, 8);
  return header;
}

/** The initiator's MIC token over `message` (RFC 4121 4.2.6.1), e.g. SPNEGO's mechListMIC. */
export function initiatorMic(key: EncryptionKey, acceptorSubkey: boolean, sequence: number, message: Buffer): Buffer {
  const header = micHeader(acceptorSubkey ? MicFlag.ACCEPTOR_SUBKEY : 0, BigInt(sequence));
  return Buffer.concat([header, checksum(key, KeyUsage.INITIATOR_SIGN, Buffer.concat([message, header]))]);
}

/** Whether `token` is the acceptor's valid MIC over `message`; a malformed token is an error. */
export function verifyAcceptorMic(key: EncryptionKey, acceptorSubkey: boolean, message: Buffer, token: Buffer): boolean {
  const structure = 'MIC token';
  if (token.length < 16 + 12) throw malformed(structure, 'length', `${token.length} bytes, at least 28 expected`);
  if (token.readUInt16BE(0) !== TokenId.MIC) throw malformed(structure, 'TOK_ID', `0x${token.readUInt16BE(0).toString(16)} is not 0x0404`);
  const flags = token[2] ?? 0;
  if ((flags & MicFlag.SENT_BY_ACCEPTOR) === 0) throw malformed(structure, 'Flags', 'SentByAcceptor is not set on the server\'s token');
  if (((flags & MicFlag.ACCEPTOR_SUBKEY) !== 0) !== acceptorSubkey) {
    throw malformed(structure, 'Flags', `AcceptorSubkey is ${acceptorSubkey ? 'clear' : 'set'}, but the AP-REP ${acceptorSubkey ? 'carried' : 'carried no'} subkey`);
  }
  if (!token.subarray(3, 8).equals(Buffer.alloc(5, 0xff))) throw malformed(structure, 'Filler', 'not five 0xFF bytes');
  const header = token.subarray(0, 16);
  const expected = checksum(key, KeyUsage.ACCEPTOR_SIGN, Buffer.concat([message, header]));
  const actual = token.subarray(16);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
