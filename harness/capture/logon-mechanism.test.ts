import { test, expect } from '@playwright/test';
import { logonMechanism, tokenKind } from './logon-mechanism.js';
import { Oid, encodeNegTokenInit, encodeNegTokenResp, NegState } from '../../clients/smb/auth/spnego.js';
import { TokenId, wrapKerberosToken } from '../../clients/smb/auth/kerberos/gss.js';

/** An NTLM NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1): signature, type 1, flags, empty domain and workstation. */
const NTLM_NEGOTIATE = Buffer.from('4e544c4d5353500001000000978208620000000000000000000000000000000000', 'hex').subarray(0, 32);

/**
 * A NegTokenInit as RFC 4178 4.2.1 lays it out, written byte by byte: [APPLICATION 0] { SPNEGO OID,
 * [0] NegTokenInit { [0] mechTypes { NTLMSSP OID }, [2] mechToken OCTET STRING { the NEGOTIATE } } }.
 */
const NEG_TOKEN_INIT_NTLM = Buffer.from(
  '604006062b0601050502a0363034a00e300c060a2b06010401823702020aa22204204e544c4d53535000010000009782086200000000000000000000000000000000',
  'hex',
);

/** A Kerberos message's bytes do not matter here: only the RFC 4121 4.1 framing and its TOK_ID are read. */
const KRB_BODY = Buffer.from('6e0b3009a003020105a10302010e', 'hex');

test('the hand-written NegTokenInit carries the NTLM NEGOTIATE and reads as NTLM', () => {
  expect(NEG_TOKEN_INIT_NTLM.subarray(-32)).toEqual(NTLM_NEGOTIATE);
  expect(tokenKind(NEG_TOKEN_INIT_NTLM)).toBe('ntlm');
  expect(encodeNegTokenInit({ mechTypes: [Oid.NTLMSSP], mechToken: NTLM_NEGOTIATE })).toEqual(NEG_TOKEN_INIT_NTLM);
});

test('each token kind: raw NTLMSSP, Kerberos AP-REQ in a NegTokenInit, AP-REP and KRB-ERROR in a NegTokenResp, a bare Kerberos token', () => {
  expect(tokenKind(NTLM_NEGOTIATE)).toBe('ntlm');
  const apReq = wrapKerberosToken(TokenId.AP_REQ, KRB_BODY);
  expect(apReq.subarray(0, 15).toString('hex')).toBe('601b06092a864886f7120102020100');
  expect(tokenKind(encodeNegTokenInit({ mechTypes: [Oid.MS_KERBEROS, Oid.KERBEROS, Oid.NTLMSSP], mechToken: apReq }))).toBe('kerberos-ap-req');
  expect(tokenKind(apReq)).toBe('kerberos-ap-req');
  const apRep = encodeNegTokenResp({ negState: NegState.ACCEPT_COMPLETED, supportedMech: Oid.KERBEROS, responseToken: wrapKerberosToken(TokenId.AP_REP, KRB_BODY) });
  expect(tokenKind(apRep)).toBe('kerberos-ap-rep');
  expect(tokenKind(encodeNegTokenResp({ negState: NegState.REJECT, responseToken: wrapKerberosToken(TokenId.KRB_ERROR, KRB_BODY) }))).toBe('kerberos-error');
  expect(tokenKind(encodeNegTokenResp({ negState: NegState.ACCEPT_INCOMPLETE, responseToken: NTLM_NEGOTIATE }))).toBe('ntlm');
});

test('a token without a mechanism token is empty; garbage, truncation and other mechanisms are unknown, never a throw', () => {
  expect(tokenKind(Buffer.alloc(0))).toBe('empty');
  expect(tokenKind(encodeNegTokenInit({ mechTypes: [Oid.NTLMSSP] }))).toBe('empty');
  expect(tokenKind(encodeNegTokenResp({ negState: NegState.ACCEPT_COMPLETED }))).toBe('empty');
  expect(tokenKind(Buffer.from('not a token'))).toBe('unknown');
  for (let cut = 1; cut < NEG_TOKEN_INIT_NTLM.length - 8; cut += 7) expect(['unknown', 'empty']).toContain(tokenKind(NEG_TOKEN_INIT_NTLM.subarray(0, cut)));
  const mic = wrapKerberosToken(TokenId.MIC, KRB_BODY);
  expect(tokenKind(mic)).toBe('unknown');
});

test('a session\'s mechanism is the first request token that names one', () => {
  const emptyInit = encodeNegTokenInit({ mechTypes: [Oid.KERBEROS, Oid.NTLMSSP] });
  const ntlmResp = encodeNegTokenResp({ negState: NegState.ACCEPT_INCOMPLETE, responseToken: NTLM_NEGOTIATE });
  expect(logonMechanism([emptyInit, ntlmResp])).toBe('ntlm');
  expect(logonMechanism([encodeNegTokenInit({ mechTypes: [Oid.KERBEROS], mechToken: wrapKerberosToken(TokenId.AP_REQ, KRB_BODY) })])).toBe('kerberos');
  expect(logonMechanism([emptyInit])).toBeUndefined();
  expect(logonMechanism([])).toBeUndefined();
});
