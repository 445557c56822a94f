import { test, expect } from '@playwright/test';
import { encodeTlv } from '../der.js';
import { expectOnlyProtocolErrors, expectProtocolError, hex } from '../test-helpers.fixture.js';
import {
  applicationTag,
  decodeInteger,
  encodeFlags,
  encodeGeneralString,
  encodeInteger,
  encodeOctets,
  encodeSequence,
  encodeSequenceOf,
  encodeTime,
} from './der-fields.js';
import { decodeDer } from '../der.js';
import {
  KdcOption,
  NameType,
  decodeApReply,
  decodeEncApRepPart,
  decodeEncKdcRepPart,
  decodeEtypeInfo2,
  decodeKdcReply,
  decodeKrbError,
  decodeMethodData,
  encodeApRequest,
  encodeAuthenticator,
  encodeEncryptedData,
  encodeKdcRequest,
  encodeKdcRequestBody,
  encodeKeyBlock,
  encodePaEncTimestamp,
  encodePrincipalName,
} from './messages.js';

const TIME = new Date(Date.UTC(2026, 10, 25, 12, 34, 56, 789));
const KRBTGT = { type: NameType.SRV_INST, components: ['krbtgt', 'INTEROP.TEST'] };
const ALICE = { type: NameType.PRINCIPAL, components: ['alice'] };

test('primitive encodings: minimal integers, KerberosTime, KDCOptions', () => {
  const cases: Array<[number, string]> = [[0, '020100'], [127, '02017f'], [128, '02020080'], [-1, '0201ff'], [-128, '020180'], [-129, '0202ff7f'], [4294967295, '020500ffffffff']];
  for (const [value, expected] of cases) {
    expect(encodeInteger(value).toString('hex'), String(value)).toBe(expected);
    expect(decodeInteger(decodeDer(hex(expected), 't'), 't', 'n') >>> 0).toBe(value >>> 0);
  }
  expect(encodeTime(TIME).toString('latin1').slice(2)).toBe('20261125123456Z');
  // The options MIT's kinit sends by default: forwardable, renewable, canonicalize, renewable-ok.
  const options = [KdcOption.FORWARDABLE, KdcOption.RENEWABLE, KdcOption.CANONICALIZE, KdcOption.RENEWABLE_OK];
  expect(encodeFlags(options).toString('hex')).toBe('03050040810010');
});

test('AS-REQ: the bytes RFC 4120 5.4.1 lays out', () => {
  const body = encodeKdcRequestBody({ options: [KdcOption.FORWARDABLE], cname: ALICE, realm: 'INTEROP.TEST', sname: KRBTGT, till: TIME, nonce: 0x01020304, etypes: [18, 17] });
  const request = encodeKdcRequest(10, [{ type: 2, value: hex('aabb') }], body);
  expect(request[0]).toBe(0x6a);
  expect(body.toString('hex')).toBe(
    '3075' +
    'a00703050040000000' + // kdc-options: forwardable
    'a1123010a003020101a10930071b05616c696365' + // cname: NT-PRINCIPAL alice
    'a20e1b0c494e5445524f502e54455354' + // realm
    'a321301fa003020102a11830161b066b72627467741b0c494e5445524f502e54455354' + // sname: NT-SRV-INST krbtgt/INTEROP.TEST
    'a511180f' + Buffer.from('20261125123456Z').toString('hex') + // till
    'a706020401020304' + // nonce
    'a8083006020112020111', // etype: 18, 17
  );
  const decoded = decodeDer(request, 'AS-REQ');
  expect(decoded.children[0]?.children.map((c) => c.tag)).toEqual([0xa1, 0xa2, 0xa3, 0xa4]);
});

test('Authenticator and AP-REQ carry the fields in order', () => {
  const authenticator = encodeAuthenticator({
    crealm: 'INTEROP.TEST', cname: ALICE, checksum: { type: 0x8003, value: Buffer.alloc(24) }, ctime: TIME, cusec: 789000,
    subkey: { keytype: 18, value: Buffer.alloc(32, 1) }, seqNumber: 7,
  });
  const node = decodeDer(authenticator, 'Authenticator');
  expect(node.tag).toBe(0x62);
  expect(node.children[0]?.children.map((c) => c.tag)).toEqual([0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7]);
  const ticket = encodeTlv(applicationTag(1), encodeSequence([[0, encodeInteger(5)]]));
  const apReq = encodeApRequest([2], ticket, { etype: 18, kvno: 2, cipher: hex('0102') });
  expect(apReq.subarray(0, 1).toString('hex')).toBe('6e');
  expect(apReq.includes(Buffer.concat([hex('a207030500'), hex('20000000')]))).toBe(true);
  expect(apReq.includes(ticket)).toBe(true);
  expect(encodePaEncTimestamp(TIME).toString('hex')).toBe(`301aa011180f${Buffer.from('20261125123456Z').toString('hex')}a10502030c0a08`);
});

// A KDC's answers, built field by field as RFC 4120 5 lays them out.
const ticket = encodeTlv(applicationTag(1), encodeSequence([
  [0, encodeInteger(5)], [1, encodeGeneralString('INTEROP.TEST')], [2, encodePrincipalName(KRBTGT)],
  [3, encodeEncryptedData({ etype: 18, kvno: 1, cipher: Buffer.alloc(40, 9) })],
]));
const etypeInfo2 = encodeSequenceOf([encodeSequence([[0, encodeInteger(18)], [1, encodeGeneralString('INTEROP.TESTalice')], [2, encodeOctets(hex('00001000'))]])]);
const methodData = encodeSequenceOf([
  encodeSequence([[1, encodeInteger(19)], [2, encodeOctets(etypeInfo2)]]),
  encodeSequence([[1, encodeInteger(2)], [2, encodeOctets(Buffer.alloc(0))]]),
]);
const krbError = encodeTlv(applicationTag(30), encodeSequence([
  [0, encodeInteger(5)], [1, encodeInteger(30)], [4, encodeTime(TIME)], [5, encodeInteger(12)], [6, encodeInteger(25)],
  [9, encodeGeneralString('INTEROP.TEST')], [10, encodePrincipalName(KRBTGT)], [11, encodeGeneralString('Need to use PA-ENC-TIMESTAMP')], [12, encodeOctets(methodData)],
]));
const asRep = encodeTlv(applicationTag(11), encodeSequence([
  [0, encodeInteger(5)], [1, encodeInteger(11)], [3, encodeGeneralString('INTEROP.TEST')], [4, encodePrincipalName(ALICE)], [5, ticket],
  [6, encodeEncryptedData({ etype: 18, cipher: Buffer.alloc(64, 3) })],
]));
const encAsRepPart = encodeTlv(applicationTag(25), encodeSequence([
  [0, encodeKeyBlock({ keytype: 18, value: Buffer.alloc(32, 5) })], [1, encodeSequenceOf([])], [2, encodeInteger(-5)],
  [4, encodeFlags([1, 8])], [5, encodeTime(TIME)], [7, encodeTime(new Date(TIME.getTime() + 36e6))], [9, encodeGeneralString('INTEROP.TEST')], [10, encodePrincipalName(KRBTGT)],
]));
const apRep = encodeTlv(applicationTag(15), encodeSequence([[0, encodeInteger(5)], [1, encodeInteger(15)], [2, encodeEncryptedData({ etype: 18, cipher: Buffer.alloc(50, 4) })]]));
const encApRepPart = encodeTlv(applicationTag(27), encodeSequence([[0, encodeTime(TIME)], [1, encodeInteger(789000)], [2, encodeKeyBlock({ keytype: 18, value: Buffer.alloc(32, 6) })], [3, encodeInteger(-2)]]));

test('KRB-ERROR with PREAUTH_REQUIRED: error code, text, and the salt and iterations in ETYPE-INFO2', () => {
  const error = decodeKrbError(krbError);
  expect(error.errorCode).toBe(25);
  expect(error.eText).toBe('Need to use PA-ENC-TIMESTAMP');
  expect(error.stime.toISOString()).toBe('2026-11-25T12:34:56.000Z');
  const pa = decodeMethodData(error.eData!);
  expect(pa.map((p) => p.type)).toEqual([19, 2]);
  expect(decodeEtypeInfo2(pa[0]!.value)).toEqual([{ etype: 18, salt: 'INTEROP.TESTalice', s2kparams: hex('00001000') }]);
});

test('AS-REP, EncASRepPart, AP-REP and EncAPRepPart decode to their fields', () => {
  const reply = decodeKdcReply(asRep, 11);
  expect(reply.crealm).toBe('INTEROP.TEST');
  expect(reply.cname.components).toEqual(['alice']);
  expect(reply.ticket.equals(ticket)).toBe(true);
  expect(reply.encPart.etype).toBe(18);
  const part = decodeEncKdcRepPart(encAsRepPart);
  expect(part.key.value.equals(Buffer.alloc(32, 5))).toBe(true);
  expect(part.nonce).toBe(4294967291);
  expect(part.flags).toEqual([1, 8]);
  expect(part.endtime.getTime() - part.authtime.getTime()).toBe(36e6);
  expect(part.sname.components).toEqual(['krbtgt', 'INTEROP.TEST']);
  expect(decodeApReply(apRep).cipher.length).toBe(50);
  const enc = decodeEncApRepPart(encApRepPart);
  expect(enc.subkey?.keytype).toBe(18);
  expect(enc.seqNumber).toBe(4294967294);
  expectProtocolError(() => decodeKdcReply(asRep, 13), { message: /expected tag 0x6d/ });
});

test('hostile DER: each decoder names the field that is wrong', () => {
  const error = (fields: ReadonlyArray<readonly [number, Buffer | undefined]>): Buffer => encodeTlv(applicationTag(30), encodeSequence(fields));
  const base: Array<[number, Buffer]> = [[0, encodeInteger(5)], [1, encodeInteger(30)], [4, encodeTime(TIME)], [6, encodeInteger(6)], [9, encodeGeneralString('R')], [10, encodePrincipalName(KRBTGT)]];
  expect(decodeKrbError(error(base)).errorCode).toBe(6);
  expectProtocolError(() => decodeKrbError(error(base.filter(([n]) => n !== 6))), { field: /KRB-ERROR.error-code/, message: /missing/ });
  expectProtocolError(() => decodeKrbError(error([...base.slice(0, 3), [6, hex('0206 000000000001')], ...base.slice(4)])), { message: /exceeds 32 bits/ });
  expectProtocolError(() => decodeKrbError(error([...base.slice(0, 3), [6, hex('0202 0006')], ...base.slice(4)])), { message: /not minimally encoded/ });
  expectProtocolError(() => decodeKrbError(error([...base.slice(0, 3), [6, hex('0200')], ...base.slice(4)])), { message: /empty INTEGER/ });
  expectProtocolError(() => decodeKrbError(error([base[1]!, base[0]!, ...base.slice(2)])), { message: /out of order/ });
  expectProtocolError(() => decodeKrbError(error([...base.slice(0, 2), [4, encodeTlv(0x18, Buffer.from('20261345123456Z'))], ...base.slice(3)])), { message: /not a calendar date/ });
  expectProtocolError(() => decodeKrbError(error([...base.slice(0, 2), [4, encodeTlv(0x18, Buffer.from('2026-11-25'))], ...base.slice(3)])), { message: /not a KerberosTime/ });
  expectProtocolError(() => decodeKrbError(error([[0, encodeInteger(4)], ...base.slice(1)])), { field: /pvno/, message: /expected 5, got 4/ });
  expectProtocolError(() => decodeKrbError(error([...base.slice(0, 5), [10, encodeSequence([[0, encodeInteger(1)], [1, encodeSequenceOf([])]])]])), { message: /empty principal name/ });
  expectProtocolError(() => decodeKrbError(asRep), { message: /expected tag 0x7e/ });
  expectProtocolError(() => decodeEtypeInfo2(encodeSequenceOf([])), { message: /no entries/ });
  expectProtocolError(() => decodeKrbError(Buffer.concat([krbError, hex('00')])), { message: /after the outer element/ });
  expectProtocolError(() => decodeKrbError(krbError.subarray(0, krbError.length - 1)), { message: /claims/ });
});

test('hostile DER: hundreds of corrupted messages raise only ProtocolErrors', () => {
  const decoders = [
    (t: Buffer) => decodeKrbError(t),
    (t: Buffer) => decodeKdcReply(t, 11),
    (t: Buffer) => decodeEncKdcRepPart(t),
    (t: Buffer) => decodeApReply(t),
    (t: Buffer) => decodeEncApRepPart(t),
    (t: Buffer) => decodeEtypeInfo2(t),
    (t: Buffer) => decodeMethodData(t),
  ];
  expectOnlyProtocolErrors([krbError, asRep, encAsRepPart, apRep, encApRepPart, etypeInfo2, methodData], decoders, { rounds: 300, seed: 25 });
});
