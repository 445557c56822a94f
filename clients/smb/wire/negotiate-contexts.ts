/** SMB 3.1.1 negotiate contexts (MS-SMB2 2.2.3.1, 2.2.4.1). */
import {
  Reader,
  Writer,
  checkCount,
  decodeUtf16,
  encodeUtf16,
  padding,
  protocolError,
  sliceChecked,
} from './buffer.js';

/** ContextType (MS-SMB2 2.2.3.1). */
export const enum NegotiateContextType {
  PreauthIntegrityCapabilities = 0x0001,
  EncryptionCapabilities = 0x0002,
  CompressionCapabilities = 0x0003,
  NetnameNegotiateContextId = 0x0005,
  TransportCapabilities = 0x0006,
  RdmaTransformCapabilities = 0x0007,
  SigningCapabilities = 0x0008,
}

/** MS-SMB2 2.2.3.1.1 HashAlgorithms. */
export const enum HashAlgorithm {
  Sha512 = 0x0001,
}

/** MS-SMB2 2.2.3.1.2 Ciphers. */
export const enum Cipher {
  Aes128Ccm = 0x0001,
  Aes128Gcm = 0x0002,
  Aes256Ccm = 0x0003,
  Aes256Gcm = 0x0004,
}

/** MS-SMB2 2.2.3.1.7 SigningAlgorithms. */
export const enum SigningAlgorithm {
  HmacSha256 = 0x0000,
  AesCmac = 0x0001,
  AesGmac = 0x0002,
}

/** MS-SMB2 2.2.3.1.3 CompressionAlgorithms. */
export const enum CompressionAlgorithm {
  None = 0x0000,
  Lznt1 = 0x0001,
  Lz77 = 0x0002,
  Lz77Huffman = 0x0003,
  PatternV1 = 0x0004,
  Lz4 = 0x0005,
}

export const COMPRESSION_CAPABILITIES_FLAG_CHAINED = 0x00000001;
export const ACCEPT_TRANSPORT_LEVEL_SECURITY = 0x00000001;

export type NegotiateContext =
  | { kind: 'preauthIntegrity'; hashAlgorithms: number[]; salt: Buffer }
  | { kind: 'encryption'; ciphers: number[] }
  | { kind: 'compression'; flags: number; algorithms: number[] }
  | { kind: 'netname'; netName: string }
  | { kind: 'transport'; flags: number }
  | { kind: 'rdmaTransform'; transformIds: number[] }
  | { kind: 'signing'; algorithms: number[] }
  /** A context type this codec does not interpret, kept verbatim (a view). */
  | { kind: 'unknown'; type: number; data: Buffer };

const STRUCTURE = 'negotiate context';
const CONTEXT_HEADER_SIZE = 8;

function u16List(values: readonly number[], field: string): Buffer {
  const w = new Writer(values.length * 2, STRUCTURE);
  for (const value of values) w.u16(value, field);
  return w.buffer;
}

function contextData(context: NegotiateContext): { type: number; data: Buffer } {
  switch (context.kind) {
    case 'preauthIntegrity': {
      const w = new Writer(4 + context.hashAlgorithms.length * 2 + context.salt.length, STRUCTURE);
      w.u16(context.hashAlgorithms.length, 'HashAlgorithmCount').u16(context.salt.length, 'SaltLength');
      for (const alg of context.hashAlgorithms) w.u16(alg, 'HashAlgorithms');
      w.bytes(context.salt, 'Salt');
      return { type: NegotiateContextType.PreauthIntegrityCapabilities, data: w.buffer };
    }
    case 'encryption': {
      const count = new Writer(2, STRUCTURE).u16(context.ciphers.length, 'CipherCount').buffer;
      const data = Buffer.concat([count, u16List(context.ciphers, 'Ciphers')]);
      return { type: NegotiateContextType.EncryptionCapabilities, data };
    }
    case 'compression': {
      const w = new Writer(8, STRUCTURE);
      w.u16(context.algorithms.length, 'CompressionAlgorithmCount').u16(0, 'Padding').u32(context.flags, 'Flags');
      const data = Buffer.concat([w.buffer, u16List(context.algorithms, 'CompressionAlgorithms')]);
      return { type: NegotiateContextType.CompressionCapabilities, data };
    }
    case 'netname':
      return { type: NegotiateContextType.NetnameNegotiateContextId, data: encodeUtf16(context.netName) };
    case 'transport':
      return {
        type: NegotiateContextType.TransportCapabilities,
        data: new Writer(4, STRUCTURE).u32(context.flags, 'Flags').buffer,
      };
    case 'rdmaTransform': {
      const w = new Writer(8, STRUCTURE);
      w.u16(context.transformIds.length, 'TransformCount').u16(0, 'Reserved1').u32(0, 'Reserved2');
      const data = Buffer.concat([w.buffer, u16List(context.transformIds, 'RDMATransformIds')]);
      return { type: NegotiateContextType.RdmaTransformCapabilities, data };
    }
    case 'signing': {
      const count = new Writer(2, STRUCTURE).u16(context.algorithms.length, 'SigningAlgorithmCount').buffer;
      const data = Buffer.concat([count, u16List(context.algorithms, 'SigningAlgorithms')]);
      return { type: NegotiateContextType.SigningCapabilities, data };
    }
    case 'unknown':
      return { type: context.type, data: context.data };
  }
}

/**
 * The NegotiateContextList: each context is 8-byte aligned, padding only between contexts.
 * The list itself must start at an 8-byte aligned message offset.
 */
export function encodeNegotiateContexts(contexts: readonly NegotiateContext[]): Buffer {
  const parts: Buffer[] = [];
  let length = 0;
  for (const context of contexts) {
    const { type, data } = contextData(context);
    const pad = padding(length);
    if (pad > 0) parts.push(Buffer.alloc(pad));
    const header = new Writer(CONTEXT_HEADER_SIZE, STRUCTURE)
      .u16(type, 'ContextType')
      .u16(data.length, 'DataLength')
      .u32(0, 'Reserved').buffer;
    parts.push(header, data);
    length += pad + CONTEXT_HEADER_SIZE + data.length;
  }
  return Buffer.concat(parts, length);
}

function readU16List(r: Reader, count: number, field: string): number[] {
  checkCount(count, 2, r.remaining, r.structure, field);
  const values: number[] = [];
  for (let i = 0; i < count; i++) values.push(r.u16(field));
  return values;
}

function decodeContextData(type: number, data: Buffer): NegotiateContext {
  switch (type) {
    case NegotiateContextType.PreauthIntegrityCapabilities: {
      const r = new Reader(data, 'PREAUTH_INTEGRITY_CAPABILITIES');
      const hashCount = r.u16('HashAlgorithmCount');
      const saltLength = r.u16('SaltLength');
      const hashAlgorithms = readU16List(r, hashCount, 'HashAlgorithms');
      return { kind: 'preauthIntegrity', hashAlgorithms, salt: r.bytes(saltLength, 'Salt') };
    }
    case NegotiateContextType.EncryptionCapabilities: {
      const r = new Reader(data, 'ENCRYPTION_CAPABILITIES');
      return { kind: 'encryption', ciphers: readU16List(r, r.u16('CipherCount'), 'Ciphers') };
    }
    case NegotiateContextType.CompressionCapabilities: {
      const r = new Reader(data, 'COMPRESSION_CAPABILITIES');
      const count = r.u16('CompressionAlgorithmCount');
      r.skip(2, 'Padding');
      const flags = r.u32('Flags');
      return { kind: 'compression', flags, algorithms: readU16List(r, count, 'CompressionAlgorithms') };
    }
    case NegotiateContextType.NetnameNegotiateContextId:
      return { kind: 'netname', netName: decodeUtf16(data, 'NETNAME_NEGOTIATE_CONTEXT_ID', 'NetName') };
    case NegotiateContextType.TransportCapabilities:
      return { kind: 'transport', flags: new Reader(data, 'TRANSPORT_CAPABILITIES').u32('Flags') };
    case NegotiateContextType.RdmaTransformCapabilities: {
      const r = new Reader(data, 'RDMA_TRANSFORM_CAPABILITIES');
      const count = r.u16('TransformCount');
      r.skip(6, 'Reserved');
      return { kind: 'rdmaTransform', transformIds: readU16List(r, count, 'RDMATransformIds') };
    }
    case NegotiateContextType.SigningCapabilities: {
      const r = new Reader(data, 'SIGNING_CAPABILITIES');
      const count = r.u16('SigningAlgorithmCount');
      return { kind: 'signing', algorithms: readU16List(r, count, 'SigningAlgorithms') };
    }
    default:
      return { kind: 'unknown', type, data };
  }
}

/**
 * Decodes `count` contexts starting at message offset `offset`. Unknown types are kept as
 * `{kind: 'unknown'}`; the count is bounded by the bytes present, never trusted for allocation.
 */
export function decodeNegotiateContexts(
  message: Buffer,
  offset: number,
  count: number,
  structure: string,
  fixedEnd = 0,
): NegotiateContext[] {
  if (offset % 8 !== 0) {
    throw protocolError(structure, 'NegotiateContextOffset', `${offset} is not 8-byte aligned`);
  }
  sliceChecked(message, offset, 0, structure, 'NegotiateContextOffset', fixedEnd);
  checkCount(count, CONTEXT_HEADER_SIZE, message.length - offset, structure, 'NegotiateContextCount');
  const contexts: NegotiateContext[] = [];
  const r = new Reader(message, structure, offset);
  for (let i = 0; i < count; i++) {
    if (i > 0) r.skip(padding(r.offset), `NegotiateContextList[${i}].Padding`);
    const type = r.u16(`NegotiateContextList[${i}].ContextType`);
    const dataLength = r.u16(`NegotiateContextList[${i}].DataLength`);
    r.skip(4, `NegotiateContextList[${i}].Reserved`);
    contexts.push(decodeContextData(type, r.bytes(dataLength, `NegotiateContextList[${i}].Data`)));
  }
  return contexts;
}

/** The first context of a kind, typed, e.g. `findContext(contexts, 'encryption')?.ciphers`. */
export function findContext<K extends NegotiateContext['kind']>(
  contexts: readonly NegotiateContext[],
  kind: K,
): Extract<NegotiateContext, { kind: K }> | undefined {
  return contexts.find((c): c is Extract<NegotiateContext, { kind: K }> => c.kind === kind);
}
