import { test, expect } from '@playwright/test';
import { expectOnlyProtocolErrors, expectProtocolError, hex } from '../test-helpers.fixture.js';
import { checksum, makeKey } from './crypto.js';
import { GssFlag, TokenId, gssChecksum, initiatorMic, unwrapKerberosToken, verifyAcceptorMic, wrapKerberosToken } from './gss.js';

const KRB5_OID = '06092a864886f712010202';

test('an AP-REQ is framed as InitialContextToken { krb5 OID, TOK_ID 01 00, AP-REQ } (RFC 1964 1.1)', () => {
  const token = wrapKerberosToken(TokenId.AP_REQ, hex('6e03020105'));
  expect(token.toString('hex')).toBe(`6012${KRB5_OID}0100` + '6e03020105');
  expect(unwrapKerberosToken(token)).toEqual({ tokenId: TokenId.AP_REQ, message: hex('6e03020105') });
});

test('a long token uses a long-form length and reads back whole', () => {
  const message = Buffer.alloc(300, 7);
  const token = wrapKerberosToken(TokenId.AP_REP, message);
  expect(token.subarray(0, 4).toString('hex')).toBe('60820139');
  const read = unwrapKerberosToken(token);
  expect(read.tokenId).toBe(TokenId.AP_REP);
  expect(read.message.equals(message)).toBe(true);
});

test('the MS Kerberos OID (1.2.840.48018.1.2.2) is read as Kerberos too', () => {
  const ms = hex('600f' + '06092a864882f712010202' + '0200' + '3000');
  expect(unwrapKerberosToken(ms)).toEqual({ tokenId: TokenId.AP_REP, message: hex('3000') });
});

test('hostile frames are ProtocolErrors naming the field', () => {
  expectProtocolError(() => unwrapKerberosToken(hex('30')), { field: /InitialContextToken/ });
  expectProtocolError(() => unwrapKerberosToken(hex(`6080${KRB5_OID}0200`)), { message: /indefinite/ });
  expectProtocolError(() => unwrapKerberosToken(hex(`6013${KRB5_OID}0200`)), { field: /length/ });
  expectProtocolError(() => unwrapKerberosToken(hex(`6011${KRB5_OID}0200ff`)), { field: /length/ });
  expectProtocolError(() => unwrapKerberosToken(hex(`6085ffffffffff${KRB5_OID}0200`)), { field: /length/ });
  expectProtocolError(() => unwrapKerberosToken(hex('600e060a2b06010401823702020a0200')), { message: /1.3.6.1.4.1.311.2.2.10 is not Kerberos/ });
  expectProtocolError(() => unwrapKerberosToken(hex('6004067f0102')), { field: /thisMech/ });
  expectProtocolError(() => unwrapKerberosToken(hex(`600b${KRB5_OID}`)), { field: /thisMech/ });
  expectOnlyProtocolErrors([wrapKerberosToken(TokenId.AP_REP, hex('6f0730053003020105'))], [(t) => unwrapKerberosToken(t)], { rounds: 1000, seed: 25 });
});

test('the 0x8003 checksum: Lgth 16, no channel bindings, the flags little-endian (RFC 4121 4.1.1)', () => {
  const value = gssChecksum(GssFlag.MUTUAL | GssFlag.REPLAY | GssFlag.SEQUENCE | GssFlag.CONF | GssFlag.INTEG);
  expect(value.toString('hex')).toBe('10000000' + '00'.repeat(16) + '3e000000');
});

const key = makeKey(18, hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'), 'test key');
const message = hex('300b06092a864886f712010202');

test("the initiator's MIC token: TOK_ID 04 04, AcceptorSubkey, filler, the sequence number, HMAC-SHA1-96 under usage 25 (RFC 4121 4.2.6.1)", () => {
  const mic = initiatorMic(key, true, 0x01020304, message);
  const header = hex('040404ffffffffff0000000001020304');
  expect(mic.subarray(0, 16).equals(header)).toBe(true);
  expect(mic.subarray(16).equals(checksum(key, 25, Buffer.concat([message, header])))).toBe(true);
  expect(initiatorMic(key, false, 1, message)[2]).toBe(0);
});

test("the acceptor's MIC verifies under usage 23; another message, a flipped bit or the initiator's token does not", () => {
  const header = hex('040405ffffffffff00000000000000ff');
  const acceptorMic = Buffer.concat([header, checksum(key, 23, Buffer.concat([message, header]))]);
  expect(verifyAcceptorMic(key, true, message, acceptorMic)).toBe(true);
  expect(verifyAcceptorMic(key, true, hex('3000'), acceptorMic)).toBe(false);
  const flipped = Buffer.from(acceptorMic);
  flipped[20]! ^= 1;
  expect(verifyAcceptorMic(key, true, message, flipped)).toBe(false);
  expectProtocolError(() => verifyAcceptorMic(key, true, message, initiatorMic(key, true, 255, message)), { message: /SentByAcceptor/ });
  expectProtocolError(() => verifyAcceptorMic(key, false, message, acceptorMic), { message: /AcceptorSubkey/ });
  expectProtocolError(() => verifyAcceptorMic(key, true, message, acceptorMic.subarray(0, 20)), { field: /length/ });
});
