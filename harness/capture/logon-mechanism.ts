/**
 * Which logon mechanism a session used, read from the security tokens its SESSION_SETUP
 * exchange carried (MS-SMB2 2.2.5, MS-SPNG): an NTLMSSP message, or a Kerberos AP-REQ framed
 * as RFC 4121 4.1 says, bare or inside SPNEGO's NegTokenInit (mechToken) or NegTokenResp
 * (responseToken). The server's side shows whether Kerberos authenticated mutually: an AP-REP
 * in the final response. Pure: no I/O, and a token it cannot read is `unknown`, never a throw.
 */
import { decodeNegTokenInit, decodeNegTokenResp } from '../../clients/smb/auth/spnego.js';
import { TokenId, unwrapKerberosToken } from '../../clients/smb/auth/kerberos/gss.js';

export type LogonMechanism = 'ntlm' | 'kerberos';

/** What one security token is: an NTLMSSP message or a Kerberos message by its GSS token id. */
export type TokenKind = 'ntlm' | 'kerberos-ap-req' | 'kerberos-ap-rep' | 'kerberos-error' | 'empty' | 'unknown';

const NTLMSSP = Buffer.from('NTLMSSP\0', 'latin1');
const NEG_TOKEN_RESP = 0xa1;
const GSS_INITIAL_CONTEXT = 0x60;

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** The mechanism's own token inside a SPNEGO wrapper, or the buffer itself when it is not SPNEGO. */
function innerToken(buffer: Buffer): Buffer | undefined {
  if (buffer.length === 0) return undefined;
  if (buffer[0] === NEG_TOKEN_RESP) return attempt(() => decodeNegTokenResp(buffer))?.responseToken;
  if (buffer[0] === GSS_INITIAL_CONTEXT) {
    const init = attempt(() => decodeNegTokenInit(buffer));
    if (init !== undefined) return init.mechToken;
  }
  return buffer;
}

/** Classifies one SESSION_SETUP security buffer (request or response). */
export function tokenKind(buffer: Buffer): TokenKind {
  const token = innerToken(buffer);
  if (token === undefined || token.length === 0) return 'empty';
  if (token.length >= NTLMSSP.length && token.subarray(0, NTLMSSP.length).equals(NTLMSSP)) return 'ntlm';
  const kerberos = attempt(() => unwrapKerberosToken(token));
  if (kerberos === undefined) return 'unknown';
  if (kerberos.tokenId === TokenId.AP_REQ) return 'kerberos-ap-req';
  if (kerberos.tokenId === TokenId.AP_REP) return 'kerberos-ap-rep';
  if (kerberos.tokenId === TokenId.KRB_ERROR) return 'kerberos-error';
  return 'unknown';
}

/** The mechanism of a session from its requests' security buffers, in order: the first one that names one. */
export function logonMechanism(requestBuffers: readonly Buffer[]): LogonMechanism | undefined {
  for (const buffer of requestBuffers) {
    const kind = tokenKind(buffer);
    if (kind === 'ntlm') return 'ntlm';
    if (kind === 'kerberos-ap-req') return 'kerberos';
  }
  return undefined;
}
