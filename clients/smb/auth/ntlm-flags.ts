/** NTLM NegotiateFlags (MS-NLMP 2.2.2.5). */
export const NegotiateFlags = {
  UNICODE: 0x00000001,
  OEM: 0x00000002,
  REQUEST_TARGET: 0x00000004,
  SIGN: 0x00000010,
  SEAL: 0x00000020,
  DATAGRAM: 0x00000040,
  LM_KEY: 0x00000080,
  NTLM: 0x00000200,
  ANONYMOUS: 0x00000800,
  OEM_DOMAIN_SUPPLIED: 0x00001000,
  OEM_WORKSTATION_SUPPLIED: 0x00002000,
  ALWAYS_SIGN: 0x00008000,
  TARGET_TYPE_DOMAIN: 0x00010000,
  TARGET_TYPE_SERVER: 0x00020000,
  EXTENDED_SESSIONSECURITY: 0x00080000,
  IDENTIFY: 0x00100000,
  NON_NT_SESSION_KEY: 0x00400000,
  TARGET_INFO: 0x00800000,
  VERSION: 0x02000000,
  NEGOTIATE_128: 0x20000000,
  KEY_EXCH: 0x40000000,
  NEGOTIATE_56: 0x80000000,
} as const;

const F = NegotiateFlags;

/** What this client asks for: NTLMv2 with extended session security, 128-bit keys and key exchange. */
export const CLIENT_FLAGS =
  (F.UNICODE |
    F.REQUEST_TARGET |
    F.SIGN |
    F.SEAL |
    F.NTLM |
    F.ALWAYS_SIGN |
    F.EXTENDED_SESSIONSECURITY |
    F.TARGET_INFO |
    F.VERSION |
    F.NEGOTIATE_128 |
    F.KEY_EXCH |
    F.NEGOTIATE_56) >>>
  0;

/**
 * An anonymous logon has no key to protect or exchange (MS-NLMP 3.3.2 gives it no
 * session base key), so it asks for no signing, sealing or key exchange.
 */
export const ANONYMOUS_CLIENT_FLAGS = (CLIENT_FLAGS & ~(F.SIGN | F.SEAL | F.KEY_EXCH)) >>> 0;

/**
 * The flags of the AUTHENTICATE_MESSAGE: what both sides support, plus the client's
 * own requests (REQUEST_TARGET) which the server does not echo (MS-NLMP 4.2.4: client
 * 0xe2888235 against challenge 0xe28a8233).
 */
export function negotiatedFlags(clientFlags: number, serverFlags: number): number {
  return (clientFlags & (serverFlags | F.REQUEST_TARGET)) >>> 0;
}

export function hasFlag(flags: number, flag: number): boolean {
  return (flags & flag) !== 0;
}

export function flagNames(flags: number): string[] {
  return Object.entries(NegotiateFlags)
    .filter(([, bit]) => hasFlag(flags, bit))
    .map(([name]) => name);
}
