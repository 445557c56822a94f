import { test, expect } from '@playwright/test';
import { expectOnlyProtocolErrors, expectProtocolError, hex } from './test-helpers.fixture.js';
import {
  NegState,
  Oid,
  decodeNegTokenInit,
  decodeNegTokenResp,
  encodeMechTypeList,
  encodeNegTokenInit,
  encodeNegTokenResp,
} from './spnego.js';

test('encodes the client NegTokenInit inside an InitialContextToken and decodes it back', () => {
  const token = encodeNegTokenInit({ mechTypes: [Oid.NTLMSSP], mechToken: hex('01020304') });
  expect(token.toString('hex')).toBe(
    hex(`60 24 06 06 2b 06 01 05 05 02 a0 1a 30 18 a0 0e 30 0c 06 0a 2b 06 01 04 01 82 37 02 02 0a
         a2 06 04 04 01 02 03 04`).toString('hex'),
  );
  const decoded = decodeNegTokenInit(token);
  expect(decoded.mechTypes).toEqual([Oid.NTLMSSP]);
  expect(decoded.mechToken?.toString('hex')).toBe('01020304');
  expect(decoded.mechTypesDer.equals(encodeMechTypeList([Oid.NTLMSSP]))).toBe(true);
});

test('decodes a server NegTokenInit2 hint with negHints (as in a NEGOTIATE response)', () => {
  const hint = Buffer.concat([
    hex(`60 53 06 06 2b 06 01 05 05 02 a0 49 30 47 a0 19 30 17
         06 09 2a 86 48 86 f7 12 01 02 02 06 0a 2b 06 01 04 01 82 37 02 02 0a
         a3 2a 30 28 a0 26 1b 24`),
    Buffer.from('not_defined_in_RFC4178@please_ignore', 'latin1'),
  ]);
  const decoded = decodeNegTokenInit(hint);
  expect(decoded.mechTypes).toEqual([Oid.KERBEROS, Oid.NTLMSSP]);
  expect(decoded.hintName).toBe('not_defined_in_RFC4178@please_ignore');
  expect(decoded.mechToken).toBeUndefined();
  expect(decoded.mechListMIC).toBeUndefined();
});

test('decodes a hand-built accept-incomplete NegTokenResp', () => {
  const token = hex(`a1 1d 30 1b a0 03 0a 01 01 a1 0c 06 0a 2b 06 01 04 01 82 37 02 02 0a
                     a2 06 04 04 4e 54 4c 4d`);
  expect(decodeNegTokenResp(token)).toEqual({
    negState: NegState.ACCEPT_INCOMPLETE,
    supportedMech: Oid.NTLMSSP,
    responseToken: Buffer.from('NTLM', 'latin1'),
  });
});

test('decodes a hand-built accept-completed NegTokenResp with a mechListMIC', () => {
  const mic = hex('01000000 1122334455667788 00000000');
  const token = Buffer.concat([hex('a1 1b 30 19 a0 03 0a 01 00 a3 12 04 10'), mic]);
  expect(decodeNegTokenResp(token)).toEqual({ negState: NegState.ACCEPT_COMPLETED, mechListMIC: mic });
});

test('NegTokenResp round trip, including long responseTokens', () => {
  const resp = {
    negState: NegState.REQUEST_MIC,
    supportedMech: Oid.NTLMSSP,
    responseToken: Buffer.alloc(700, 0x5a),
    mechListMIC: Buffer.alloc(16, 1),
  };
  expect(decodeNegTokenResp(encodeNegTokenResp(resp))).toEqual(resp);
  // The client's own final token carries only responseToken and mechListMIC.
  const minimal = encodeNegTokenResp({ responseToken: Buffer.from('x'), mechListMIC: Buffer.alloc(16) });
  expect(minimal.subarray(0, 6).toString('hex')).toBe('a11b3019a203');
});

test('hostile SPNEGO tokens are ProtocolErrors', () => {
  const good = encodeNegTokenResp({ negState: NegState.ACCEPT_INCOMPLETE, responseToken: Buffer.alloc(40, 1) });
  for (let length = 0; length < good.length; length++) {
    expectProtocolError(() => decodeNegTokenResp(good.subarray(0, length)), { field: /^NegTokenResp/ });
  }
  const init = encodeNegTokenInit({ mechTypes: [Oid.NTLMSSP], mechToken: Buffer.alloc(40, 1) });
  for (let length = 0; length < init.length; length++) {
    expectProtocolError(() => decodeNegTokenInit(init.subarray(0, length)));
  }
  expectProtocolError(() => decodeNegTokenResp(hex('a1 07 30 05 a0 03 0a 01 07')), { field: /negState/ });
  expectProtocolError(() => decodeNegTokenResp(hex('a1 0c 30 0a a0 03 0a 01 00 a0 03 0a 01 00')), { field: /\[0\]/ });
  expectProtocolError(() => decodeNegTokenResp(hex('a1 07 30 05 a2 03 02 01 00')), { field: /responseToken/ });
  expectProtocolError(() => decodeNegTokenResp(hex('a1 05 30 03 04 01 00')), { field: /field/ });
  expectProtocolError(() => decodeNegTokenResp(hex('a1 08 30 06 a2 04 04 00 04 00')), { field: /\[2\]/ });
  expectProtocolError(() => decodeNegTokenResp(init), { field: /NegotiationToken/ });
  expectProtocolError(() => decodeNegTokenInit(good), { field: /NegotiationToken/ });
  // An InitialContextToken for a mechanism other than SPNEGO.
  expectProtocolError(() => decodeNegTokenInit(hex('60 0a 06 06 2b 06 01 05 05 03 a0 00')), { field: /thisMech/ });
  expectProtocolError(() => decodeNegTokenInit(hex('60 06 a0 04 30 02 a1 00')), { field: /thisMech|innerContextToken/ });
  expectProtocolError(() => decodeNegTokenInit(hex('a0 02 30 00')), { field: /mechTypes/ });
});

test('random corruption of SPNEGO tokens never escapes as anything but a ProtocolError', () => {
  const tokens = [
    encodeNegTokenInit({ mechTypes: [Oid.KERBEROS, Oid.NTLMSSP], mechToken: Buffer.alloc(20, 3) }),
    encodeNegTokenResp({ negState: 1, supportedMech: Oid.NTLMSSP, responseToken: Buffer.alloc(20), mechListMIC: Buffer.alloc(16) }),
  ];
  expectOnlyProtocolErrors(tokens, [decodeNegTokenInit, decodeNegTokenResp], { rounds: 3000, seed: 99 });
});
