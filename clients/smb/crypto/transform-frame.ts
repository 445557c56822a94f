/**
 * Encrypted SMB2 messages: the 52-byte SMB2 TRANSFORM_HEADER (MS-SMB2 2.2.41) followed by
 * the ciphertext, built and opened as MS-SMB2 3.1.4.3 (encrypting) and 3.2.5.1.1.1 / 3.3.5.2.1.1
 * (decrypting) describe. The header is laid out here rather than borrowed from the wire codec
 * so that crypto does not depend on wire.
 */
import { ProtocolError } from '../errors.js';
import { cipherName, cipherNonceLength } from './algorithms.js';
import type { Cipher } from './algorithms.js';
import { AEAD_TAG_BYTES, aeadDecipherGcm, aeadDecrypt, aeadDecryptInPlace, aeadEncryptInto, aeadEncryptParts, formatSessionId } from './aead.js';
import { nativeAead } from './native.js';
import type { AeadDecipher } from './aead.js';

export const TRANSFORM_HEADER_BYTES = 52;
export const TRANSFORM_PROTOCOL_ID = Buffer.from([0xfd, 0x53, 0x4d, 0x42]);
/** Flags (3.1.1) / EncryptionAlgorithm (3.0.x): both mean "encrypted" with value 0x0001. */
export const TRANSFORM_FLAG_ENCRYPTED = 0x0001;

const SIGNATURE_OFFSET = 4;
const NONCE_OFFSET = 20;
const NONCE_FIELD_BYTES = 16;
const ORIGINAL_MESSAGE_SIZE_OFFSET = 36;
const FLAGS_OFFSET = 42;
const SESSION_ID_OFFSET = 44;
// MS-SMB2 3.1.4.3: the AAD is the header without ProtocolId and Signature.
const AAD_OFFSET = NONCE_OFFSET;
const MAX_ORIGINAL_MESSAGE_SIZE = 0xffffffff;

export interface TransformHeader {
  /** The AEAD tag. */
  signature: Buffer;
  /** The whole 16-byte Nonce field; the cipher uses its first 11 (CCM) or 12 (GCM) bytes. */
  nonceField: Buffer;
  originalMessageSize: number;
  flags: number;
  sessionId: bigint;
}

/** Reads the 52-byte header; the caller can then pick the session's key by `sessionId`. */
export function parseTransformHeader(frame: Buffer): TransformHeader {
  if (frame.length < TRANSFORM_HEADER_BYTES) {
    throw new ProtocolError(
      `encrypted message of ${String(frame.length)} bytes is shorter than the ${String(TRANSFORM_HEADER_BYTES)}-byte TRANSFORM_HEADER`,
      { field: 'TRANSFORM_HEADER' },
    );
  }
  if (!frame.subarray(0, 4).equals(TRANSFORM_PROTOCOL_ID)) {
    throw new ProtocolError(`TRANSFORM_HEADER ProtocolId is 0x${frame.subarray(0, 4).toString('hex')}, expected 0xfd534d42`, {
      field: 'TRANSFORM_HEADER.ProtocolId',
    });
  }
  return {
    signature: frame.subarray(SIGNATURE_OFFSET, SIGNATURE_OFFSET + AEAD_TAG_BYTES),
    nonceField: frame.subarray(NONCE_OFFSET, NONCE_OFFSET + NONCE_FIELD_BYTES),
    originalMessageSize: frame.readUInt32LE(ORIGINAL_MESSAGE_SIZE_OFFSET),
    flags: frame.readUInt16LE(FLAGS_OFFSET),
    sessionId: frame.readBigUInt64LE(SESSION_ID_OFFSET),
  };
}

export interface EncryptMessageInput {
  cipher: Cipher;
  /** Session.EncryptionKey of the sender (the client's encryptionKey, the server's decryptionKey). */
  key: Buffer;
  sessionId: bigint;
  /** The cipher nonce (11 bytes for CCM, 12 for GCM), or the whole 16-byte Nonce field. */
  nonce: Buffer;
  /** The SMB2 message (or compound chain, or compressed message) to encrypt. */
  message: Buffer;
}

function nonceField(cipher: Cipher, nonce: Buffer): Buffer {
  if (nonce.length === NONCE_FIELD_BYTES) return nonce;
  if (nonce.length !== cipherNonceLength(cipher)) {
    throw new ProtocolError(
      `${cipherName(cipher)} nonce must be ${String(cipherNonceLength(cipher))} or 16 bytes, got ${String(nonce.length)}`,
      { field: 'TRANSFORM_HEADER.Nonce' },
    );
  }
  const field = Buffer.alloc(NONCE_FIELD_BYTES);
  nonce.copy(field);
  return field;
}

/** Header and ciphertext as two buffers, for a vectored socket write without a join. */
export function encryptMessageParts(input: EncryptMessageInput): { header: Buffer; ciphertext: Buffer } {
  const { header, ciphertext } = encryptMessageVector({ ...input, message: [input.message] });
  return { header, ciphertext: ciphertext.length === 1 ? ciphertext[0]! : Buffer.concat(ciphertext) };
}

type VectorInput = Omit<EncryptMessageInput, 'message'> & { message: readonly Buffer[] };

/** The message's length, which OriginalMessageSize must hold (ProtocolError when it cannot). */
function originalMessageSize(message: readonly Buffer[]): number {
  let length = 0;
  for (const part of message) length += part.length;
  if (length > MAX_ORIGINAL_MESSAGE_SIZE) {
    throw new ProtocolError(`cannot encrypt ${String(length)} bytes: OriginalMessageSize is 32 bits`, {
      field: 'TRANSFORM_HEADER.OriginalMessageSize',
    });
  }
  return length;
}

/** Lays out a TRANSFORM_HEADER in `header` (52 bytes, Signature zero) for a message of `length` bytes; returns the cipher nonce. */
function writeTransformHeader(header: Buffer, input: VectorInput, length: number): Buffer {
  const { cipher, sessionId } = input;
  const field = nonceField(cipher, input.nonce);
  header.fill(0);
  TRANSFORM_PROTOCOL_ID.copy(header, 0);
  field.copy(header, NONCE_OFFSET);
  header.writeUInt32LE(length, ORIGINAL_MESSAGE_SIZE_OFFSET);
  header.writeUInt16LE(TRANSFORM_FLAG_ENCRYPTED, FLAGS_OFFSET);
  header.writeBigUInt64LE(BigInt.asUintN(64, sessionId), SESSION_ID_OFFSET);
  return field.subarray(0, cipherNonceLength(cipher));
}

/**
 * The message given in parts (SMB2 header, WRITE fields, the caller's data): with GCM each part
 * is encrypted as it is, so a large WRITE is never joined into one plaintext buffer.
 */
export function encryptMessageVector(input: VectorInput): { header: Buffer; ciphertext: Buffer[] } {
  const header = Buffer.alloc(TRANSFORM_HEADER_BYTES);
  const cipherNonce = writeTransformHeader(header, input, originalMessageSize(input.message));
  const { ciphertext, tag } = aeadEncryptParts(input.cipher, input.key, cipherNonce, header.subarray(AAD_OFFSET), input.message);
  tag.copy(header, SIGNATURE_OFFSET);
  return { header, ciphertext };
}

/**
 * Like encryptMessageVector, but sealed into one frame (TRANSFORM_HEADER, then the ciphertext)
 * of the memory `allocate` gives for its length, with the native AEAD: a sender can then reuse
 * its frames once sent, and encrypting allocates nothing per byte. Undefined without the native
 * AEAD, before anything is allocated.
 */
export function encryptMessageInto(input: VectorInput, allocate: (frameLength: number) => Buffer): Buffer | undefined {
  if (nativeAead() === undefined) return undefined;
  const length = originalMessageSize(input.message);
  const frame = allocate(TRANSFORM_HEADER_BYTES + length);
  if (frame.length !== TRANSFORM_HEADER_BYTES + length) throw new RangeError(`encryptMessageInto: a frame of ${String(TRANSFORM_HEADER_BYTES + length)} bytes was asked for, ${String(frame.length)} given`);
  const header = frame.subarray(0, TRANSFORM_HEADER_BYTES);
  const cipherNonce = writeTransformHeader(header, input, length);
  const tag = aeadEncryptInto(input.cipher, input.key, cipherNonce, header.subarray(AAD_OFFSET), input.message, frame.subarray(TRANSFORM_HEADER_BYTES));
  if (tag === undefined) throw new Error('encryptMessageInto: the native AEAD was set aside while encrypting');
  tag.copy(header, SIGNATURE_OFFSET);
  return frame;
}

/** TRANSFORM_HEADER followed by the encrypted message, ready to frame for the transport. */
export function encryptMessage(input: EncryptMessageInput): Buffer {
  const { header, ciphertext } = encryptMessageParts(input);
  return Buffer.concat([header, ciphertext], header.length + ciphertext.length);
}

export interface DecryptMessageInput {
  cipher: Cipher;
  /** Session.DecryptionKey of the receiver (the client's decryptionKey, the server's encryptionKey). */
  key: Buffer;
  /** One whole encrypted message as received: TRANSFORM_HEADER and ciphertext. */
  frame: Buffer;
  /**
   * Decrypt where the ciphertext is, when the native AEAD is there (DecryptedMessage.inPlace
   * tells): the frame then holds the plaintext, and is no longer the ciphertext received.
   */
  inPlace?: boolean;
}

export interface DecryptedMessage {
  message: Buffer;
  sessionId: bigint;
  /** The cipher nonce (11 or 12 bytes) the sender used. */
  nonce: Buffer;
  /** `message` is a view of the frame, decrypted where it was (DecryptMessageInput.inPlace). */
  inPlace: boolean;
}

/**
 * Checks the header (ProtocolId, Flags, OriginalMessageSize: ProtocolError) and the tag
 * (SecurityError naming cipher and session), then returns the plaintext message.
 */
export function decryptMessage(input: DecryptMessageInput): DecryptedMessage {
  const { cipher, key, frame } = input;
  const header = checkedTransformHeader(frame, frame.length - TRANSFORM_HEADER_BYTES);
  const nonce = Buffer.from(header.nonceField.subarray(0, cipherNonceLength(cipher)));
  const aad = frame.subarray(AAD_OFFSET, TRANSFORM_HEADER_BYTES);
  const ciphertext = frame.subarray(TRANSFORM_HEADER_BYTES);
  if (input.inPlace === true) {
    const opened = aeadDecryptInPlace(cipher, key, nonce, aad, ciphertext, header.signature, { sessionId: header.sessionId });
    return { message: opened.plaintext, sessionId: header.sessionId, nonce, inPlace: opened.inPlace };
  }
  const message = aeadDecrypt(cipher, key, nonce, aad, ciphertext, header.signature, { sessionId: header.sessionId });
  return { message, sessionId: header.sessionId, nonce, inPlace: false };
}

/** The header of an encrypted message with `encryptedBytes` after it: ProtocolError unless Flags and OriginalMessageSize agree. */
function checkedTransformHeader(frame: Buffer, encryptedBytes: number): TransformHeader {
  const header = parseTransformHeader(frame);
  const session = formatSessionId(header.sessionId);
  if (header.flags !== TRANSFORM_FLAG_ENCRYPTED) {
    throw new ProtocolError(`TRANSFORM_HEADER Flags is 0x${header.flags.toString(16)} for session ${session}, expected 0x1`, {
      field: 'TRANSFORM_HEADER.Flags',
    });
  }
  if (header.originalMessageSize !== encryptedBytes) {
    throw new ProtocolError(
      `TRANSFORM_HEADER OriginalMessageSize is ${String(header.originalMessageSize)} but ${String(encryptedBytes)} encrypted bytes follow (session ${session})`,
      { field: 'TRANSFORM_HEADER.OriginalMessageSize' },
    );
  }
  return header;
}

export interface MessageDecipherInput {
  /** A GCM cipher: CCM needs the whole message at once. */
  cipher: Cipher;
  key: Buffer;
  /** The start of the frame: at least its 52-byte TRANSFORM_HEADER. */
  head: Buffer;
  /** The whole frame's length: header and ciphertext. */
  frameLength: number;
}

/**
 * Decrypts an encrypted message piece by piece as it is received (the bytes after the
 * TRANSFORM_HEADER, in order), so a large one needs no buffer of its own. The header is checked
 * as decryptMessage checks it; the tag only by final(), so nothing decrypted may be trusted
 * before that.
 */
export function openMessageDecipher(input: MessageDecipherInput): AeadDecipher {
  const { cipher, key, head, frameLength } = input;
  const header = checkedTransformHeader(head, frameLength - TRANSFORM_HEADER_BYTES);
  const nonce = Buffer.from(header.nonceField.subarray(0, cipherNonceLength(cipher)));
  const aad = Buffer.from(head.subarray(AAD_OFFSET, TRANSFORM_HEADER_BYTES));
  return aeadDecipherGcm(cipher, key, nonce, aad, Buffer.from(header.signature), { sessionId: header.sessionId });
}
