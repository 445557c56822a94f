/** Authentication for the SMB client: NTLMv2 and Kerberos inside SPNEGO. */
export { createNtlmAuthenticator, NtlmAuthenticator } from './authenticator.js';
export type { Authenticator, NtlmAuthenticatorOptions } from './authenticator.js';
export { NtlmClient } from './ntlm.js';
export type { NtlmClientOptions } from './ntlm.js';
export { NtlmSessionSecurity } from './ntlm-session-security.js';
export { NegotiateFlags, flagNames } from './ntlm-flags.js';
export { AvId, describeTargetInfo } from './ntlm-av-pairs.js';
export type { AvPair, TargetInfo } from './ntlm-av-pairs.js';
export { parseChallengeMessage } from './ntlm-messages.js';
export type { ChallengeMessage, NtlmVersion } from './ntlm-messages.js';
export { ntowfv2, ntHash } from './ntlm-crypto.js';
export {
  NegState,
  Oid,
  decodeNegTokenInit,
  decodeNegTokenResp,
  encodeNegTokenInit,
  encodeNegTokenResp,
} from './spnego.js';
export type { NegStateValue, NegTokenInit, NegTokenResp } from './spnego.js';
export { md4 } from './md4.js';
export { Rc4, rc4 } from './rc4.js';
export { chooseAuthenticator } from './choose.js';
export type { AuthChoiceOptions, AuthMechanismChoice, KerberosClientOptions } from './choose.js';
export { KerberosAuthenticator } from './kerberos/authenticator.js';
export type { KerberosAuthenticatorOptions } from './kerberos/authenticator.js';
export { KerberosTicketCache } from './kerberos/ticket-cache.js';
export type { TicketCacheOptions, TicketCacheStats } from './kerberos/ticket-cache.js';
export { KerberosError, kerberosErrorName } from './kerberos/errors.js';
export type { KerberosStep } from './kerberos/errors.js';
