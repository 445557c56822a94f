/**
 * The little DER (X.690) that SPNEGO needs: single-byte tags, definite lengths up
 * to four bytes, constructed values decoded into children with a depth limit.
 */
import { malformed } from './bytes.js';

export const Tag = {
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  ENUMERATED: 0x0a,
  GENERAL_STRING: 0x1b,
  SEQUENCE: 0x30,
  /** [APPLICATION 0], constructed: the GSS-API InitialContextToken (RFC 2743 3.1). */
  APPLICATION_0: 0x60,
} as const;

/** Context-specific constructed tag [n]. */
export function contextTag(n: number): number {
  return 0xa0 | n;
}

const CONSTRUCTED = 0x20;
/** Deeper than any SPNEGO token; bounds the recursion on hostile input. */
export const MAX_DEPTH = 12;

export interface DerNode {
  readonly tag: number;
  /** The contents octets. */
  readonly value: Buffer;
  /** The whole element: tag, length and contents. */
  readonly raw: Buffer;
  /** Decoded contents of a constructed element; empty for a primitive one. */
  readonly children: readonly DerNode[];
}

/** Decodes one element that must fill `buf` exactly. `structure` names the token in errors. */
export function decodeDer(buf: Buffer, structure: string): DerNode {
  const { node, end } = decodeAt(buf, 0, buf.length, 0, structure);
  if (end !== buf.length) throw malformed(structure, 'DER', `${buf.length - end} bytes after the outer element`);
  return node;
}

function decodeAt(buf: Buffer, offset: number, limit: number, depth: number, structure: string): { node: DerNode; end: number } {
  if (depth > MAX_DEPTH) throw malformed(structure, 'DER', `nested deeper than ${MAX_DEPTH} levels`);
  if (offset + 2 > limit) throw malformed(structure, 'DER length', 'element header runs past its container');
  const tag = buf[offset] ?? 0;
  if ((tag & 0x1f) === 0x1f) throw malformed(structure, 'DER tag', 'multi-byte tags are not used by SPNEGO');
  const first = buf[offset + 1] ?? 0;
  let length = first;
  let start = offset + 2;
  if (first === 0x80) throw malformed(structure, 'DER length', 'indefinite length is not DER');
  if (first > 0x80) {
    const count = first & 0x7f;
    if (count > 4) throw malformed(structure, 'DER length', `${count}-byte length`);
    if (start + count > limit) throw malformed(structure, 'DER length', 'length octets run past the container');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[start + i] ?? 0);
    start += count;
  }
  const end = start + length;
  if (end > limit) {
    throw malformed(structure, 'DER length', `element claims ${length} bytes but only ${limit - start} remain`);
  }
  const children: DerNode[] = [];
  if ((tag & CONSTRUCTED) !== 0) {
    let at = start;
    while (at < end) {
      const child = decodeAt(buf, at, end, depth + 1, structure);
      children.push(child.node);
      at = child.end;
    }
  }
  return { node: { tag, value: buf.subarray(start, end), raw: buf.subarray(offset, end), children }, end };
}

export function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  if (bytes.length > 4) throw new RangeError('DER element too long');
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function encodeTlv(tag: number, ...contents: Buffer[]): Buffer {
  const value = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), encodeLength(value.length), value]);
}

/** Dotted OID to its DER element, e.g. `1.3.6.1.5.5.2` to `06 06 2b 06 01 05 05 02`. */
export function encodeOid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((arc) => {
    if (!/^\d+$/.test(arc)) throw new RangeError(`bad OID ${dotted}`);
    return Number(arc);
  });
  const [first, second, ...rest] = arcs;
  if (first === undefined || second === undefined || first > 2) throw new RangeError(`bad OID ${dotted}`);
  const bytes: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const chunk = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) chunk.unshift(0x80 | (n & 0x7f));
    bytes.push(...chunk);
  }
  return encodeTlv(Tag.OID, Buffer.from(bytes));
}

export function decodeOid(node: DerNode, structure: string, field: string): string {
  expectTag(node, Tag.OID, structure, field);
  const arcs: number[] = [];
  let arc = 0;
  for (let i = 0; i < node.value.length; i++) {
    const byte = node.value[i] ?? 0;
    if (arc > 0x1fffffff) throw malformed(structure, field, 'OID arc too large');
    arc = arc * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(arc);
      arc = 0;
    } else if (i === node.value.length - 1) {
      throw malformed(structure, field, 'OID ends inside an arc');
    }
  }
  const [head, ...rest] = arcs;
  if (head === undefined) throw malformed(structure, field, 'empty OID');
  const first = head < 80 ? Math.floor(head / 40) : 2;
  return [first, head - first * 40, ...rest].join('.');
}

export function expectTag(node: DerNode, tag: number, structure: string, field: string): void {
  if (node.tag !== tag) {
    throw malformed(structure, field, `expected tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)}`);
  }
}

/** The single element inside an explicit tag such as [2]. */
export function explicitInner(node: DerNode, structure: string, field: string): DerNode {
  const [inner, ...extra] = node.children;
  if (inner === undefined || extra.length > 0) throw malformed(structure, field, 'explicit tag must hold exactly one element');
  return inner;
}
