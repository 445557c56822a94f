/**
 * Kerberos V5 messages (RFC 4120 5.3-5.9) the client sends and reads: AS-REQ/TGS-REQ,
 * AS-REP/TGS-REP with EncKDCRepPart, AP-REQ with its Authenticator, AP-REP with EncAPRepPart,
 * KRB-ERROR, PA-ENC-TIMESTAMP and ETYPE-INFO2. Pure encode/decode; no keys are used here.
 */
import { malformed } from '../bytes.js';
import { decodeDer, encodeTlv } from '../der.js';
import type { DerNode } from '../der.js';
import {
  applicationTag,
  decodeFlags,
  decodeInteger,
  decodeOctets,
  decodeString,
  decodeTime,
  encodeFlags,
  encodeGeneralString,
  encodeInteger,
  encodeOctets,
  encodeSequence,
  encodeSequenceOf,
  encodeTime,
  fieldsOf,
  required,
  sequenceOf,
  unwrapApplication,
} from './der-fields.js';

export const MessageType = {
  AS_REQ: 10,
  AS_REP: 11,
  TGS_REQ: 12,
  TGS_REP: 13,
  AP_REQ: 14,
  AP_REP: 15,
  KRB_ERROR: 30,
} as const;

/** RFC 4120 7.5.2 and 7.5.8: PA-DATA types. */
export const PaDataType = {
  TGS_REQ: 1,
  ENC_TIMESTAMP: 2,
  ETYPE_INFO2: 19,
} as const;

/** RFC 4120 6.2 */
export const NameType = {
  PRINCIPAL: 1,
  SRV_INST: 2,
} as const;

/** RFC 4120 5.4.1 KDCOptions bit numbers. */
export const KdcOption = {
  FORWARDABLE: 1,
  RENEWABLE: 8,
  CANONICALIZE: 15,
  RENEWABLE_OK: 27,
} as const;

/** RFC 4120 5.5.1 APOptions bit numbers. */
export const ApOption = {
  MUTUAL_REQUIRED: 2,
} as const;

const PVNO = 5;

export interface PrincipalName {
  readonly type: number;
  readonly components: readonly string[];
}

export interface EncryptedData {
  readonly etype: number;
  readonly kvno?: number;
  readonly cipher: Buffer;
}

export interface PaData {
  readonly type: number;
  readonly value: Buffer;
}

export interface KeyBlock {
  readonly keytype: number;
  readonly value: Buffer;
}

export interface Checksum {
  readonly type: number;
  readonly value: Buffer;
}

export function principalToString(name: PrincipalName, realm?: string): string {
  const text = name.components.join('/');
  return realm === undefined ? text : `${text}@${realm}`;
}

// ---------------------------------------------------------------- encoders

export function encodePrincipalName(name: PrincipalName): Buffer {
  return encodeSequence([
    [0, encodeInteger(name.type)],
    [1, encodeSequenceOf(name.components.map(encodeGeneralString))],
  ]);
}

export function encodeEncryptedData(data: EncryptedData): Buffer {
  return encodeSequence([
    [0, encodeInteger(data.etype)],
    [1, data.kvno === undefined ? undefined : encodeInteger(data.kvno)],
    [2, encodeOctets(data.cipher)],
  ]);
}

function encodePaData(pa: PaData): Buffer {
  return encodeSequence([
    [1, encodeInteger(pa.type)],
    [2, encodeOctets(pa.value)],
  ]);
}

export function encodeKeyBlock(key: KeyBlock): Buffer {
  return encodeSequence([
    [0, encodeInteger(key.keytype)],
    [1, encodeOctets(key.value)],
  ]);
}

export interface KdcRequestBody {
  readonly options: readonly number[];
  readonly cname?: PrincipalName;
  readonly realm: string;
  readonly sname: PrincipalName;
  readonly till: Date;
  readonly rtime?: Date;
  readonly nonce: number;
  readonly etypes: readonly number[];
}

/** KDC-REQ-BODY in DER: a TGS-REQ's authenticator checksums exactly these bytes. */
export function encodeKdcRequestBody(body: KdcRequestBody): Buffer {
  return encodeSequence([
    [0, encodeFlags(body.options)],
    [1, body.cname === undefined ? undefined : encodePrincipalName(body.cname)],
    [2, encodeGeneralString(body.realm)],
    [3, encodePrincipalName(body.sname)],
    [5, encodeTime(body.till)],
    [6, body.rtime === undefined ? undefined : encodeTime(body.rtime)],
    [7, encodeInteger(body.nonce)],
    [8, encodeSequenceOf(body.etypes.map(encodeInteger))],
  ]);
}

/** AS-REQ or TGS-REQ (RFC 4120 5.4.1). */
export function encodeKdcRequest(msgType: 10 | 12, padata: readonly PaData[], bodyDer: Buffer): Buffer {
  const fields = encodeSequence([
    [1, encodeInteger(PVNO)],
    [2, encodeInteger(msgType)],
    [3, padata.length === 0 ? undefined : encodeSequenceOf(padata.map(encodePaData))],
    [4, bodyDer],
  ]);
  return encodeTlv(applicationTag(msgType), fields);
}

/** PA-ENC-TS-ENC (RFC 4120 5.2.7.2), the plaintext of PA-ENC-TIMESTAMP. */
export function encodePaEncTimestamp(now: Date): Buffer {
  return encodeSequence([
    [0, encodeTime(now)],
    [1, encodeInteger((now.getTime() % 1000) * 1000)],
  ]);
}

export interface AuthenticatorFields {
  readonly crealm: string;
  readonly cname: PrincipalName;
  readonly checksum?: Checksum;
  readonly ctime: Date;
  readonly cusec: number;
  readonly subkey?: KeyBlock;
  readonly seqNumber?: number;
}

/** Authenticator ::= [APPLICATION 2] (RFC 4120 5.5.1). */
export function encodeAuthenticator(a: AuthenticatorFields): Buffer {
  return encodeTlv(applicationTag(2), encodeSequence([
    [0, encodeInteger(PVNO)],
    [1, encodeGeneralString(a.crealm)],
    [2, encodePrincipalName(a.cname)],
    [3, a.checksum === undefined ? undefined : encodeSequence([[0, encodeInteger(a.checksum.type)], [1, encodeOctets(a.checksum.value)]])],
    [4, encodeInteger(a.cusec)],
    [5, encodeTime(a.ctime)],
    [6, a.subkey === undefined ? undefined : encodeKeyBlock(a.subkey)],
    [7, a.seqNumber === undefined ? undefined : encodeInteger(a.seqNumber)],
  ]));
}

/** AP-REQ ::= [APPLICATION 14] (RFC 4120 5.5.1); `ticket` is the Ticket's DER as the KDC sent it. */
export function encodeApRequest(options: readonly number[], ticket: Buffer, authenticator: EncryptedData): Buffer {
  return encodeTlv(applicationTag(MessageType.AP_REQ), encodeSequence([
    [0, encodeInteger(PVNO)],
    [1, encodeInteger(MessageType.AP_REQ)],
    [2, encodeFlags(options)],
    [3, ticket],
    [4, encodeEncryptedData(authenticator)],
  ]));
}

// ---------------------------------------------------------------- decoders

export function decodePrincipalName(node: DerNode, structure: string): PrincipalName {
  const f = fieldsOf(node, structure);
  const type = decodeInteger(required(f, 0, structure, 'name-type'), structure, 'name-type');
  const components = sequenceOf(required(f, 1, structure, 'name-string'), structure, 'name-string').map((c) => decodeString(c, structure, 'name-string'));
  if (components.length === 0) throw malformed(structure, 'name-string', 'empty principal name');
  return { type, components };
}

export function decodeEncryptedData(node: DerNode, structure: string): EncryptedData {
  const f = fieldsOf(node, structure);
  const kvno = f.get(1);
  return {
    etype: decodeInteger(required(f, 0, structure, 'etype'), structure, 'etype'),
    ...(kvno === undefined ? {} : { kvno: decodeInteger(kvno, structure, 'kvno') }),
    cipher: decodeOctets(required(f, 2, structure, 'cipher'), structure, 'cipher'),
  };
}

function decodeKeyBlock(node: DerNode, structure: string): KeyBlock {
  const f = fieldsOf(node, structure);
  return {
    keytype: decodeInteger(required(f, 0, structure, 'keytype'), structure, 'keytype'),
    value: decodeOctets(required(f, 1, structure, 'keyvalue'), structure, 'keyvalue'),
  };
}

function decodePaDataList(node: DerNode, structure: string): PaData[] {
  return sequenceOf(node, structure, 'padata').map((entry) => {
    const f = fieldsOf(entry, `${structure}.PA-DATA`);
    return {
      type: decodeInteger(required(f, 1, structure, 'padata-type'), structure, 'padata-type'),
      value: decodeOctets(required(f, 2, structure, 'padata-value'), structure, 'padata-value'),
    };
  });
}

function expectInteger(f: Map<number, DerNode>, n: number, expected: number, structure: string, field: string): void {
  const value = decodeInteger(required(f, n, structure, field), structure, field);
  if (value !== expected) throw malformed(structure, field, `expected ${expected}, got ${value}`);
}

/** The first byte of a Kerberos message names it: [APPLICATION n]. */
export function messageTypeOf(der: Buffer): number | undefined {
  const first = der[0];
  return first === undefined || (first & 0xe0) !== 0x60 ? undefined : first & 0x1f;
}

export interface KdcReply {
  readonly msgType: 11 | 13;
  readonly padata: readonly PaData[];
  readonly crealm: string;
  readonly cname: PrincipalName;
  /** The Ticket's DER, sent back unchanged in AP-REQs. */
  readonly ticket: Buffer;
  readonly encPart: EncryptedData;
}

/** AS-REP ::= [APPLICATION 11], TGS-REP ::= [APPLICATION 13] (RFC 4120 5.4.2). */
export function decodeKdcReply(der: Buffer, msgType: 11 | 13): KdcReply {
  const structure = msgType === MessageType.AS_REP ? 'AS-REP' : 'TGS-REP';
  const f = fieldsOf(unwrapApplication(decodeDer(der, structure), msgType, structure), structure);
  expectInteger(f, 0, PVNO, structure, 'pvno');
  expectInteger(f, 1, msgType, structure, 'msg-type');
  const padata = f.get(2);
  const ticket = required(f, 5, structure, 'ticket');
  // Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno, realm, sname, enc-part }: checked, kept whole.
  const tf = fieldsOf(unwrapApplication(ticket, 1, `${structure}.ticket`), `${structure}.ticket`);
  expectInteger(tf, 0, PVNO, `${structure}.ticket`, 'tkt-vno');
  decodeEncryptedData(required(tf, 3, `${structure}.ticket`, 'enc-part'), `${structure}.ticket.enc-part`);
  return {
    msgType,
    padata: padata === undefined ? [] : decodePaDataList(padata, structure),
    crealm: decodeString(required(f, 3, structure, 'crealm'), structure, 'crealm'),
    cname: decodePrincipalName(required(f, 4, structure, 'cname'), `${structure}.cname`),
    ticket: Buffer.from(ticket.raw),
    encPart: decodeEncryptedData(required(f, 6, structure, 'enc-part'), `${structure}.enc-part`),
  };
}

export interface EncKdcRepPart {
  readonly key: KeyBlock;
  readonly nonce: number;
  readonly flags: readonly number[];
  readonly authtime: Date;
  readonly starttime?: Date;
  readonly endtime: Date;
  readonly renewTill?: Date;
  readonly srealm: string;
  readonly sname: PrincipalName;
}

/**
 * EncASRepPart [APPLICATION 25] or EncTGSRepPart [APPLICATION 26] (RFC 4120 5.4.2); either
 * tag is accepted for either reply, as RFC 4120 5.4.2 asks of clients.
 */
export function decodeEncKdcRepPart(der: Buffer): EncKdcRepPart {
  const structure = 'EncKDCRepPart';
  const outer = decodeDer(der, structure);
  const f = fieldsOf(unwrapApplication(outer, outer.tag === applicationTag(26) ? 26 : 25, structure), structure);
  const optionalTime = (n: number, name: string): Date | undefined => {
    const node = f.get(n);
    return node === undefined ? undefined : decodeTime(node, structure, name);
  };
  const starttime = optionalTime(6, 'starttime');
  const renewTill = optionalTime(8, 'renew-till');
  return {
    key: decodeKeyBlock(required(f, 0, structure, 'key'), `${structure}.key`),
    nonce: decodeInteger(required(f, 2, structure, 'nonce'), structure, 'nonce') >>> 0,
    flags: decodeFlags(required(f, 4, structure, 'flags'), structure, 'flags'),
    authtime: decodeTime(required(f, 5, structure, 'authtime'), structure, 'authtime'),
    ...(starttime === undefined ? {} : { starttime }),
    endtime: decodeTime(required(f, 7, structure, 'endtime'), structure, 'endtime'),
    ...(renewTill === undefined ? {} : { renewTill }),
    srealm: decodeString(required(f, 9, structure, 'srealm'), structure, 'srealm'),
    sname: decodePrincipalName(required(f, 10, structure, 'sname'), `${structure}.sname`),
  };
}

export interface KrbError {
  readonly errorCode: number;
  readonly stime: Date;
  readonly realm: string;
  readonly sname: PrincipalName;
  readonly eText?: string;
  readonly eData?: Buffer;
}

/** KRB-ERROR ::= [APPLICATION 30] (RFC 4120 5.9.1). */
export function decodeKrbError(der: Buffer): KrbError {
  const structure = 'KRB-ERROR';
  const f = fieldsOf(unwrapApplication(decodeDer(der, structure), MessageType.KRB_ERROR, structure), structure);
  expectInteger(f, 0, PVNO, structure, 'pvno');
  expectInteger(f, 1, MessageType.KRB_ERROR, structure, 'msg-type');
  const eText = f.get(11);
  const eData = f.get(12);
  return {
    stime: decodeTime(required(f, 4, structure, 'stime'), structure, 'stime'),
    errorCode: decodeInteger(required(f, 6, structure, 'error-code'), structure, 'error-code'),
    realm: decodeString(required(f, 9, structure, 'realm'), structure, 'realm'),
    sname: decodePrincipalName(required(f, 10, structure, 'sname'), `${structure}.sname`),
    ...(eText === undefined ? {} : { eText: decodeString(eText, structure, 'e-text') }),
    ...(eData === undefined ? {} : { eData: decodeOctets(eData, structure, 'e-data') }),
  };
}

/** METHOD-DATA ::= SEQUENCE OF PA-DATA, the e-data of KDC_ERR_PREAUTH_REQUIRED (RFC 4120 5.9.1). */
export function decodeMethodData(der: Buffer): PaData[] {
  return decodePaDataList(decodeDer(der, 'METHOD-DATA'), 'METHOD-DATA');
}

export interface EtypeInfo2Entry {
  readonly etype: number;
  readonly salt?: string;
  readonly s2kparams?: Buffer;
}

/** ETYPE-INFO2 ::= SEQUENCE SIZE (1..MAX) OF ETYPE-INFO2-ENTRY (RFC 4120 5.2.7.5). */
export function decodeEtypeInfo2(der: Buffer): EtypeInfo2Entry[] {
  const structure = 'ETYPE-INFO2';
  const entries = sequenceOf(decodeDer(der, structure), structure, 'SEQUENCE OF');
  if (entries.length === 0) throw malformed(structure, 'SEQUENCE OF', 'no entries');
  return entries.map((entry) => {
    const f = fieldsOf(entry, structure);
    const salt = f.get(1);
    const params = f.get(2);
    return {
      etype: decodeInteger(required(f, 0, structure, 'etype'), structure, 'etype'),
      ...(salt === undefined ? {} : { salt: decodeString(salt, structure, 'salt') }),
      ...(params === undefined ? {} : { s2kparams: decodeOctets(params, structure, 's2kparams') }),
    };
  });
}

/** AP-REP ::= [APPLICATION 15] (RFC 4120 5.5.2). */
export function decodeApReply(der: Buffer): EncryptedData {
  const structure = 'AP-REP';
  const f = fieldsOf(unwrapApplication(decodeDer(der, structure), MessageType.AP_REP, structure), structure);
  expectInteger(f, 0, PVNO, structure, 'pvno');
  expectInteger(f, 1, MessageType.AP_REP, structure, 'msg-type');
  return decodeEncryptedData(required(f, 2, structure, 'enc-part'), `${structure}.enc-part`);
}

export interface EncApRepPart {
  readonly ctime: Date;
  readonly cusec: number;
  readonly subkey?: KeyBlock;
  readonly seqNumber?: number;
}

/** EncAPRepPart ::= [APPLICATION 27] (RFC 4120 5.5.2). */
export function decodeEncApRepPart(der: Buffer): EncApRepPart {
  const structure = 'EncAPRepPart';
  const f = fieldsOf(unwrapApplication(decodeDer(der, structure), 27, structure), structure);
  const subkey = f.get(2);
  const seq = f.get(3);
  return {
    ctime: decodeTime(required(f, 0, structure, 'ctime'), structure, 'ctime'),
    cusec: decodeInteger(required(f, 1, structure, 'cusec'), structure, 'cusec'),
    ...(subkey === undefined ? {} : { subkey: decodeKeyBlock(subkey, `${structure}.subkey`) }),
    ...(seq === undefined ? {} : { seqNumber: decodeInteger(seq, structure, 'seq-number') >>> 0 }),
  };
}
