/**
 * SMB2 TRANSFORM_HEADER (MS-SMB2 2.2.41) for encrypted messages, and recognition of the
 * protocol id that starts every transport message (0xFE sync/async, 0xFD encrypted,
 * 0xFC compressed).
 */
import { Reader, Writer, protocolError } from './buffer.js';

export const TRANSFORM_PROTOCOL_ID = Buffer.from([0xfd, 0x53, 0x4d, 0x42]);
export const COMPRESSION_PROTOCOL_ID = Buffer.from([0xfc, 0x53, 0x4d, 0x42]);
export const TRANSFORM_HEADER_SIZE = 52;
/** The AEAD associated data is the header from Nonce to the end (MS-SMB2 3.1.4.3). */
export const TRANSFORM_AAD_OFFSET = 20;
/** Flags (3.1.1) / EncryptionAlgorithm (3.0, 3.0.2): both define only the value 0x0001. */
export const TRANSFORM_FLAG_ENCRYPTED = 0x0001;

export interface TransformHeader {
  /** AEAD tag (16 bytes). */
  signature: Buffer;
  /** 16 bytes; CCM uses the first 11, GCM the first 12, the rest are zero. */
  nonce: Buffer;
  originalMessageSize: number;
  flags: number;
  sessionId: bigint;
}

export interface DecodedTransform extends TransformHeader {
  /** View of the 32 bytes authenticated but not encrypted. */
  aad: Buffer;
  /** View of the encrypted SMB2 message that follows the header. */
  ciphertext: Buffer;
}

const STRUCTURE = 'TRANSFORM_HEADER';

export function encodeTransformHeader(header: TransformHeader): Buffer {
  const w = new Writer(TRANSFORM_HEADER_SIZE, STRUCTURE);
  w.bytes(TRANSFORM_PROTOCOL_ID, 'ProtocolId');
  w.bytes(header.signature, 'Signature', 16);
  w.bytes(header.nonce, 'Nonce', 16);
  w.u32(header.originalMessageSize, 'OriginalMessageSize');
  w.u16(0, 'Reserved');
  w.u16(header.flags, 'Flags');
  w.u64(header.sessionId, 'SessionId');
  return w.buffer;
}

/** The associated data (bytes 20..51) of an encoded transform header or whole message. */
export function transformAad(transformMessage: Buffer): Buffer {
  if (transformMessage.length < TRANSFORM_HEADER_SIZE) {
    throw protocolError(STRUCTURE, 'Nonce', `needs ${TRANSFORM_HEADER_SIZE} bytes, got ${transformMessage.length}`);
  }
  return transformMessage.subarray(TRANSFORM_AAD_OFFSET, TRANSFORM_HEADER_SIZE);
}

/** Decodes a whole encrypted transport message: header, AAD and ciphertext views. */
export function decodeTransformMessage(message: Buffer): DecodedTransform {
  const r = new Reader(message, STRUCTURE);
  const protocolId = r.bytes(4, 'ProtocolId');
  if (!protocolId.equals(TRANSFORM_PROTOCOL_ID)) {
    throw protocolError(STRUCTURE, 'ProtocolId', `is 0x${protocolId.toString('hex')}, expected 0xfd534d42`);
  }
  const signature = r.bytes(16, 'Signature');
  const nonce = r.bytes(16, 'Nonce');
  const originalMessageSize = r.u32('OriginalMessageSize');
  r.skip(2, 'Reserved');
  const flags = r.u16('Flags');
  const sessionId = r.u64('SessionId');
  if (flags !== TRANSFORM_FLAG_ENCRYPTED) {
    throw protocolError(STRUCTURE, 'Flags', `is 0x${flags.toString(16)}, expected 0x0001 (encrypted)`);
  }
  const ciphertext = message.subarray(TRANSFORM_HEADER_SIZE);
  if (originalMessageSize !== ciphertext.length) {
    throw protocolError(
      STRUCTURE,
      'OriginalMessageSize',
      `${originalMessageSize} does not match the ${ciphertext.length} encrypted bytes that follow`,
    );
  }
  if (originalMessageSize === 0) {
    throw protocolError(STRUCTURE, 'OriginalMessageSize', 'is 0; nothing was encrypted');
  }
  return {
    signature,
    nonce,
    originalMessageSize,
    flags,
    sessionId,
    aad: message.subarray(TRANSFORM_AAD_OFFSET, TRANSFORM_HEADER_SIZE),
    ciphertext,
  };
}

export type MessageKind = 'smb2' | 'transform';

/**
 * What a transport message is, from its first four bytes. Compressed messages are refused
 * (this client never negotiates compression), as is anything else, including SMB1 (0xFF).
 */
export function classifyMessage(message: Buffer): MessageKind {
  if (message.length < 4) {
    throw protocolError('SMB2 message', 'ProtocolId', `needs 4 bytes, got ${message.length}`);
  }
  const id = message.subarray(0, 4);
  if (id.equals(TRANSFORM_PROTOCOL_ID)) return 'transform';
  if (id.equals(COMPRESSION_PROTOCOL_ID)) {
    throw protocolError('SMB2 message', 'ProtocolId', '0xfc534d42: compressed messages not supported');
  }
  if (id[0] === 0xfe && id.subarray(1).toString('latin1') === 'SMB') return 'smb2';
  throw protocolError('SMB2 message', 'ProtocolId', `0x${id.toString('hex')} is not an SMB2 protocol id`);
}
