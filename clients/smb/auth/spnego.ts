/**
 * SPNEGO tokens (RFC 4178, with the NegTokenInit2 of MS-SPNG 2.2.1), wrapped for
 * the first token in the GSS-API InitialContextToken (RFC 2743 3.1).
 */
import { malformed } from './bytes.js';
import { Tag, contextTag, decodeDer, decodeOid, encodeOid, encodeTlv, expectTag, explicitInner } from './der.js';
import type { DerNode } from './der.js';

export const Oid = {
  SPNEGO: '1.3.6.1.5.5.2',
  NTLMSSP: '1.3.6.1.4.1.311.2.2.10',
  KERBEROS: '1.2.840.113554.1.2.2',
  MS_KERBEROS: '1.2.840.48018.1.2.2',
  NEGOEX: '1.3.6.1.4.1.311.2.2.30',
} as const;

export const NegState = {
  ACCEPT_COMPLETED: 0,
  ACCEPT_INCOMPLETE: 1,
  REJECT: 2,
  REQUEST_MIC: 3,
} as const;

export type NegStateValue = (typeof NegState)[keyof typeof NegState];

export interface NegTokenInit {
  readonly mechTypes: readonly string[];
  /** The DER MechTypeList exactly as received: what a mechListMIC covers. */
  readonly mechTypesDer: Buffer;
  readonly mechToken?: Buffer;
  readonly mechListMIC?: Buffer;
  /** NegTokenInit2 negHints.hintName; servers send "not_defined_in_RFC4178@please_ignore". */
  readonly hintName?: string;
}

export interface NegTokenResp {
  readonly negState?: NegStateValue;
  readonly supportedMech?: string;
  readonly responseToken?: Buffer;
  readonly mechListMIC?: Buffer;
}

/** The MechTypeList (SEQUENCE OF OID) in DER. */
export function encodeMechTypeList(mechTypes: readonly string[]): Buffer {
  return encodeTlv(Tag.SEQUENCE, ...mechTypes.map(encodeOid));
}

function octetField(n: number, value: Buffer | undefined): Buffer[] {
  return value === undefined ? [] : [encodeTlv(contextTag(n), encodeTlv(Tag.OCTET_STRING, value))];
}

/** The client's first token: InitialContextToken { SPNEGO, NegTokenInit { mechTypes, mechToken } }. */
export function encodeNegTokenInit(init: { mechTypes: readonly string[]; mechToken?: Buffer }): Buffer {
  const body = encodeTlv(
    Tag.SEQUENCE,
    encodeTlv(contextTag(0), encodeMechTypeList(init.mechTypes)),
    ...octetField(2, init.mechToken),
  );
  return encodeTlv(Tag.APPLICATION_0, encodeOid(Oid.SPNEGO), encodeTlv(contextTag(0), body));
}

export function encodeNegTokenResp(resp: NegTokenResp): Buffer {
  const fields: Buffer[] = [];
  if (resp.negState !== undefined) {
    fields.push(encodeTlv(contextTag(0), encodeTlv(Tag.ENUMERATED, Buffer.from([resp.negState]))));
  }
  if (resp.supportedMech !== undefined) fields.push(encodeTlv(contextTag(1), encodeOid(resp.supportedMech)));
  fields.push(...octetField(2, resp.responseToken), ...octetField(3, resp.mechListMIC));
  return encodeTlv(contextTag(1), encodeTlv(Tag.SEQUENCE, ...fields));
}

/** The [n] fields of a SEQUENCE, each unwrapped to its single element. */
function taggedFields(sequence: DerNode, structure: string): Map<number, DerNode> {
  expectTag(sequence, Tag.SEQUENCE, structure, 'SEQUENCE');
  const fields = new Map<number, DerNode>();
  for (const child of sequence.children) {
    if ((child.tag & 0xe0) !== 0xa0) throw malformed(structure, 'field', `unexpected tag 0x${child.tag.toString(16)}`);
    const n = child.tag & 0x1f;
    if (fields.has(n)) throw malformed(structure, `[${n}]`, 'appears twice');
    fields.set(n, explicitInner(child, structure, `[${n}]`));
  }
  return fields;
}

function octets(node: DerNode | undefined, structure: string, field: string): Buffer | undefined {
  if (node === undefined) return undefined;
  expectTag(node, Tag.OCTET_STRING, structure, field);
  return Buffer.from(node.value);
}

const INIT = 'NegTokenInit';

/**
 * Decodes a NegTokenInit or NegTokenInit2, inside an InitialContextToken (as in the
 * SMB2 NEGOTIATE response) or bare.
 */
export function decodeNegTokenInit(token: Buffer): NegTokenInit {
  let node = decodeDer(token, INIT);
  if (node.tag === Tag.APPLICATION_0) {
    const [mech, inner, ...extra] = node.children;
    if (mech === undefined || inner === undefined || extra.length > 0) {
      throw malformed('InitialContextToken', 'innerContextToken', 'expected a mechanism OID and one token');
    }
    const oid = decodeOid(mech, 'InitialContextToken', 'thisMech');
    if (oid !== Oid.SPNEGO) throw malformed('InitialContextToken', 'thisMech', `${oid} is not SPNEGO`);
    node = inner;
  }
  expectTag(node, contextTag(0), INIT, 'NegotiationToken');
  const fields = taggedFields(explicitInner(node, INIT, 'NegotiationToken'), INIT);

  const list = fields.get(0);
  if (list === undefined) throw malformed(INIT, 'mechTypes', 'missing');
  expectTag(list, Tag.SEQUENCE, INIT, 'mechTypes');
  const mechTypes = list.children.map((oid) => decodeOid(oid, INIT, 'mechTypes'));

  const result: { -readonly [K in keyof NegTokenInit]: NegTokenInit[K] } = {
    mechTypes,
    mechTypesDer: Buffer.from(list.raw),
  };
  const mechToken = octets(fields.get(2), INIT, 'mechToken');
  if (mechToken !== undefined) result.mechToken = mechToken;
  // [3] is mechListMIC in RFC 4178 but negHints in NegTokenInit2; [4] is NegTokenInit2's mechListMIC.
  const third = fields.get(3);
  if (third?.tag === Tag.OCTET_STRING) result.mechListMIC = Buffer.from(third.value);
  else if (third !== undefined) {
    const hints = taggedFields(third, 'NegHints');
    const name = hints.get(0);
    if (name !== undefined) {
      expectTag(name, Tag.GENERAL_STRING, 'NegHints', 'hintName');
      result.hintName = name.value.toString('latin1');
    }
  }
  const mic = octets(fields.get(4), INIT, 'mechListMIC');
  if (mic !== undefined) result.mechListMIC = mic;
  return result;
}

const RESP = 'NegTokenResp';

export function decodeNegTokenResp(token: Buffer): NegTokenResp {
  const node = decodeDer(token, RESP);
  expectTag(node, contextTag(1), RESP, 'NegotiationToken');
  const fields = taggedFields(explicitInner(node, RESP, 'NegotiationToken'), RESP);
  const result: { -readonly [K in keyof NegTokenResp]: NegTokenResp[K] } = {};

  const state = fields.get(0);
  if (state !== undefined) {
    expectTag(state, Tag.ENUMERATED, RESP, 'negState');
    const value = state.value.length === 1 ? (state.value[0] ?? -1) : -1;
    if (value < 0 || value > 3) throw malformed(RESP, 'negState', `unknown value ${state.value.toString('hex')}`);
    result.negState = value as NegStateValue;
  }
  const mech = fields.get(1);
  if (mech !== undefined) result.supportedMech = decodeOid(mech, RESP, 'supportedMech');
  const responseToken = octets(fields.get(2), RESP, 'responseToken');
  if (responseToken !== undefined) result.responseToken = responseToken;
  const mic = octets(fields.get(3), RESP, 'mechListMIC');
  if (mic !== undefined) result.mechListMIC = mic;
  return result;
}
