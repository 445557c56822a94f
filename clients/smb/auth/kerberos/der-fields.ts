/**
 * The ASN.1 types Kerberos messages are built from (RFC 4120 5.2), in DER, on top of the
 * generic element codec in ../der.ts. Decoders name the message and field in every error.
 */
import { malformed } from '../bytes.js';
import { Tag, contextTag, encodeTlv, expectTag, explicitInner } from '../der.js';
import type { DerNode } from '../der.js';

export const KerberosTag = {
  INTEGER: 0x02,
  BOOLEAN: 0x01,
  GENERALIZED_TIME: 0x18,
} as const;

/** [APPLICATION n], constructed. */
export function applicationTag(n: number): number {
  return 0x60 | n;
}

/** A SEQUENCE of explicitly tagged fields; absent ones are skipped. */
export function encodeSequence(fields: ReadonlyArray<readonly [number, Buffer | undefined]>): Buffer {
  const parts: Buffer[] = [];
  for (const [n, value] of fields) if (value !== undefined) parts.push(encodeTlv(contextTag(n), value));
  return encodeTlv(Tag.SEQUENCE, ...parts);
}

export function encodeInteger(value: number): Buffer {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value > 2 ** 32 - 1) throw new RangeError(`integer ${value} is outside Int32/UInt32`);
  const bytes: number[] = [];
  let n = BigInt(value);
  // Minimal two's complement: stop once the remaining value is all sign bits.
  for (;;) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
    const top = bytes[0] ?? 0;
    if ((n === 0n && (top & 0x80) === 0) || (n === -1n && (top & 0x80) !== 0)) break;
  }
  return encodeTlv(KerberosTag.INTEGER, Buffer.from(bytes));
}

export function encodeGeneralString(text: string): Buffer {
  return encodeTlv(Tag.GENERAL_STRING, Buffer.from(text, 'utf8'));
}

export function encodeOctets(value: Buffer): Buffer {
  return encodeTlv(Tag.OCTET_STRING, value);
}

/** KerberosTime: GeneralizedTime "YYYYMMDDHHMMSSZ", no fraction (RFC 4120 5.2.3). */
export function encodeTime(date: Date): Buffer {
  const text = `${date.toISOString().slice(0, 19).replace(/[-:T]/g, '')}Z`;
  return encodeTlv(KerberosTag.GENERALIZED_TIME, Buffer.from(text, 'latin1'));
}

/** KerberosFlags: a 32-bit BIT STRING, bit 0 the most significant (RFC 4120 5.2.8). */
export function encodeFlags(bits: readonly number[]): Buffer {
  let value = 0;
  for (const bit of bits) value |= 1 << (31 - bit);
  const out = Buffer.alloc(5);
  out.writeUInt32BE(value >>> 0, 1);
  return encodeTlv(Tag.BIT_STRING, out);
}

export function encodeSequenceOf(items: readonly Buffer[]): Buffer {
  return encodeTlv(Tag.SEQUENCE, ...items);
}

/** The [n] fields of a SEQUENCE, each unwrapped; an unknown tag or a repeated field is an error. */
export function fieldsOf(node: DerNode, structure: string): Map<number, DerNode> {
  expectTag(node, Tag.SEQUENCE, structure, 'SEQUENCE');
  const fields = new Map<number, DerNode>();
  let last = -1;
  for (const child of node.children) {
    if ((child.tag & 0xe0) !== 0xa0) throw malformed(structure, 'field', `unexpected tag 0x${child.tag.toString(16)}`);
    const n = child.tag & 0x1f;
    if (n <= last) throw malformed(structure, `[${n}]`, 'out of order or repeated');
    last = n;
    fields.set(n, explicitInner(child, structure, `[${n}]`));
  }
  return fields;
}

export function required(fields: Map<number, DerNode>, n: number, structure: string, field: string): DerNode {
  const node = fields.get(n);
  if (node === undefined) throw malformed(structure, field, 'missing');
  return node;
}

/** The SEQUENCE inside [APPLICATION n]. */
export function unwrapApplication(node: DerNode, n: number, structure: string): DerNode {
  expectTag(node, applicationTag(n), structure, `[APPLICATION ${n}]`);
  return explicitInner(node, structure, `[APPLICATION ${n}]`);
}

/** Int32 or UInt32 (RFC 4120 5.2.4): at most five content octets, minimal, in range. */
export function decodeInteger(node: DerNode, structure: string, field: string): number {
  expectTag(node, KerberosTag.INTEGER, structure, field);
  const v = node.value;
  if (v.length === 0) throw malformed(structure, field, 'empty INTEGER');
  if (v.length > 5 || (v.length === 5 && v[0] !== 0)) throw malformed(structure, field, `INTEGER of ${v.length} bytes exceeds 32 bits`);
  if (v.length > 1 && ((v[0] === 0 && ((v[1] ?? 0) & 0x80) === 0) || (v[0] === 0xff && ((v[1] ?? 0) & 0x80) !== 0))) {
    throw malformed(structure, field, 'INTEGER is not minimally encoded');
  }
  let n = ((v[0] ?? 0) & 0x80) !== 0 ? -1n : 0n;
  for (const byte of v) n = (n << 8n) | BigInt(byte);
  return Number(n);
}

export function decodeOctets(node: DerNode, structure: string, field: string): Buffer {
  expectTag(node, Tag.OCTET_STRING, structure, field);
  return Buffer.from(node.value);
}

export function decodeString(node: DerNode, structure: string, field: string): string {
  expectTag(node, Tag.GENERAL_STRING, structure, field);
  const text = node.value.toString('utf8');
  if (text.includes('\u0000')) throw malformed(structure, field, 'string contains NUL');
  return text;
}

export function decodeTime(node: DerNode, structure: string, field: string): Date {
  expectTag(node, KerberosTag.GENERALIZED_TIME, structure, field);
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(node.value.toString('latin1'));
  if (match === null) throw malformed(structure, field, `"${node.value.toString('latin1').slice(0, 32)}" is not a KerberosTime`);
  const [, y, mo, d, h, mi, s] = match.map(Number);
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  if (Number.isNaN(date.getTime()) || date.getUTCMonth() !== mo! - 1 || date.getUTCDate() !== d!) {
    throw malformed(structure, field, 'not a calendar date');
  }
  return date;
}

/** KerberosFlags as the numbers of the bits set (bit 0 first). */
export function decodeFlags(node: DerNode, structure: string, field: string): number[] {
  expectTag(node, Tag.BIT_STRING, structure, field);
  const v = node.value;
  if (v.length < 1 || (v[0] ?? 0) > 7) throw malformed(structure, field, 'bad BIT STRING');
  const bits: number[] = [];
  for (let i = 1; i < v.length; i++) {
    for (let b = 0; b < 8; b++) if ((((v[i] ?? 0) >> (7 - b)) & 1) !== 0) bits.push((i - 1) * 8 + b);
  }
  return bits;
}

export function sequenceOf(node: DerNode, structure: string, field: string): readonly DerNode[] {
  expectTag(node, Tag.SEQUENCE, structure, field);
  return node.children;
}
