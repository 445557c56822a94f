/**
 * The four SMB 3.x ciphers (MS-SMB2 3.1.4.3, [RFC5084]) as authenticated encryption over
 * caller-supplied AAD: AES-128/256-CCM with an 11-byte nonce, AES-128/256-GCM with a 12-byte
 * nonce, always a 16-byte tag. The message is passed to node:crypto in one piece, so the only
 * copy made is the output itself.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { CipherCCMTypes, CipherGCMTypes } from 'node:crypto';
import { ProtocolError, SecurityError } from '../errors.js';
import { Cipher, cipherKeyLength, cipherName, cipherNonceLength, isCipher, isGcm } from './algorithms.js';
import { nativeAead } from './native.js';

export const AEAD_TAG_BYTES = 16;

export interface AeadSealed {
  ciphertext: Buffer;
  /** The 16-byte authentication tag (the TRANSFORM_HEADER Signature). */
  tag: Buffer;
}

export interface AeadFailureContext {
  /** Named in the SecurityError when the tag does not verify. */
  sessionId?: bigint;
}

function ccmName(cipher: Cipher): CipherCCMTypes {
  return cipher === Cipher.Aes256Ccm ? 'aes-256-ccm' : 'aes-128-ccm';
}

function gcmName(cipher: Cipher): CipherGCMTypes {
  return cipher === Cipher.Aes256Gcm ? 'aes-256-gcm' : 'aes-128-gcm';
}

function requireParameters(cipher: Cipher, key: Buffer, nonce: Buffer): void {
  if (!isCipher(cipher)) {
    throw new ProtocolError(`cannot encrypt or decrypt with ${cipherName(cipher)}`, { field: 'CipherId' });
  }
  if (key.length !== cipherKeyLength(cipher)) {
    throw new ProtocolError(
      `${cipherName(cipher)} needs a ${String(cipherKeyLength(cipher))}-byte key, got ${String(key.length)} bytes`,
      { field: 'EncryptionKey' },
    );
  }
  if (nonce.length !== cipherNonceLength(cipher)) {
    throw new ProtocolError(
      `${cipherName(cipher)} needs a ${String(cipherNonceLength(cipher))}-byte nonce, got ${String(nonce.length)} bytes`,
      { field: 'Nonce' },
    );
  }
}

// An SMB2 message is never empty, and node:crypto's CCM does not reliably authenticate an
// empty message (observed on Node 20 / OpenSSL 3.0), so empty input is refused outright.
function requireContent(cipher: Cipher, data: Buffer): void {
  if (data.length === 0) {
    throw new ProtocolError(`${cipherName(cipher)}: refusing to encrypt or decrypt an empty message`, {
      field: 'OriginalMessageSize',
    });
  }
}

export function formatSessionId(sessionId: bigint): string {
  return `0x${sessionId.toString(16).toUpperCase().padStart(16, '0')}`;
}

/**
 * Like aeadEncrypt over the concatenation of `parts`. GCM takes them one by one (no join, one
 * output per part); CCM needs the message in one update, so its parts are joined first.
 */
export function aeadEncryptParts(cipher: Cipher, key: Buffer, nonce: Buffer, aad: Buffer, parts: readonly Buffer[]): { ciphertext: Buffer[]; tag: Buffer } {
  if (!isGcm(cipher)) {
    const sealed = aeadEncrypt(cipher, key, nonce, aad, Buffer.concat(parts));
    return { ciphertext: [sealed.ciphertext], tag: sealed.tag };
  }
  requireParameters(cipher, key, nonce);
  requireContent(cipher, parts.some((part) => part.length > 0) ? Buffer.alloc(1) : Buffer.alloc(0));
  const gcm = createCipheriv(gcmName(cipher), key, nonce, { authTagLength: AEAD_TAG_BYTES });
  gcm.setAAD(aad);
  const ciphertext = parts.filter((part) => part.length > 0).map((part) => gcm.update(part));
  gcm.final();
  return { ciphertext, tag: gcm.getAuthTag() };
}

/**
 * With the native AEAD: encrypts the concatenation of `parts` into `out`, which must be exactly
 * as long (and must not overlap a part, except where that part lies at its own place in it), and
 * returns the tag. Undefined without the native AEAD (nothing written): node:crypto cannot write
 * into given memory, so the caller uses aeadEncryptParts.
 */
export function aeadEncryptInto(cipher: Cipher, key: Buffer, nonce: Buffer, aad: Buffer, parts: readonly Buffer[], out: Buffer): Buffer | undefined {
  const native = nativeAead();
  if (native === undefined) return undefined;
  requireParameters(cipher, key, nonce);
  let length = 0;
  for (const part of parts) length += part.length;
  if (length !== out.length) {
    throw new ProtocolError(`${cipherName(cipher)}: ${String(length)} bytes of plaintext cannot be encrypted into ${String(out.length)} bytes`, { field: 'OriginalMessageSize' });
  }
  requireContent(cipher, out);
  const tag = Buffer.allocUnsafe(AEAD_TAG_BYTES);
  if (isGcm(cipher)) {
    native.gcmEncrypt(key, nonce, aad, parts, out, tag);
    return tag;
  }
  // CCM takes the message in one piece: the parts are gathered into `out` and encrypted there.
  let at = 0;
  for (const part of parts) {
    if (part.buffer !== out.buffer || part.byteOffset !== out.byteOffset + at) part.copy(out, at);
    at += part.length;
  }
  native.ccmEncrypt(key, nonce, aad, out, tag);
  return tag;
}

export function aeadEncrypt(cipher: Cipher, key: Buffer, nonce: Buffer, aad: Buffer, plaintext: Buffer): AeadSealed {
  requireParameters(cipher, key, nonce);
  requireContent(cipher, plaintext);
  if (isGcm(cipher)) {
    const gcm = createCipheriv(gcmName(cipher), key, nonce, { authTagLength: AEAD_TAG_BYTES });
    gcm.setAAD(aad);
    const ciphertext = gcm.update(plaintext);
    gcm.final();
    return { ciphertext, tag: gcm.getAuthTag() };
  }
  const ccm = createCipheriv(ccmName(cipher), key, nonce, { authTagLength: AEAD_TAG_BYTES });
  ccm.setAAD(aad, { plaintextLength: plaintext.length });
  // CCM needs the whole message in a single update() call.
  const ciphertext = ccm.update(plaintext);
  ccm.final();
  return { ciphertext, tag: ccm.getAuthTag() };
}

/**
 * The most ciphertext one node:crypto update is given when decrypting in place (its output is a
 * buffer that size, copied back): pieces that small come back from the allocator already mapped
 * and still in cache (measured on 256 MiB: 1 MiB pieces took 2.5 times as long, in page faults
 * and zero-filling).
 */
export const DECRYPT_PIECE = 64 * 1024;

/** Decryption of a message given in pieces as it arrives; the tag is checked at the end. */
export interface AeadDecipher {
  /** The plaintext of the next ciphertext bytes (as many bytes as given), in new memory. */
  update(ciphertext: Buffer): Buffer;
  /** Decrypts the next ciphertext bytes where they are. */
  decryptInPlace(bytes: Buffer): void;
  /** Checks the tag: SecurityError naming the cipher (and session) when it does not match. */
  final(): void;
}

function requireTag(cipher: Cipher, tag: Buffer): void {
  if (tag.length !== AEAD_TAG_BYTES) {
    throw new ProtocolError(`${cipherName(cipher)} tag has ${String(tag.length)} bytes, needs 16`, { field: 'Signature' });
  }
}

function tagMismatch(cipher: Cipher, context: AeadFailureContext, cause: unknown): SecurityError {
  const session = context.sessionId === undefined ? '' : ` for session ${formatSessionId(context.sessionId)}`;
  return new SecurityError(
    `${cipherName(cipher)} decryption failed${session}: authentication tag mismatch (altered message or wrong key)`,
    { cause },
  );
}

/**
 * Incremental decryption, GCM only (CCM needs the whole message in one call). Plaintext comes
 * out before the tag is checked: a caller must not act on it until final() returned.
 */
export function aeadDecipherGcm(cipher: Cipher, key: Buffer, nonce: Buffer, aad: Buffer, tag: Buffer, context: AeadFailureContext = {}): AeadDecipher {
  requireParameters(cipher, key, nonce);
  if (!isGcm(cipher)) throw new ProtocolError(`${cipherName(cipher)} cannot decrypt a message in pieces`, { field: 'CipherId' });
  requireTag(cipher, tag);
  const native = nativeAead();
  if (native !== undefined) {
    const gcm = native.gcmDecipher(key, nonce, aad);
    return {
      update: (ciphertext) => {
        const plaintext = Buffer.from(ciphertext);
        native.gcmUpdate(gcm, plaintext);
        return plaintext;
      },
      decryptInPlace: (bytes) => native.gcmUpdate(gcm, bytes),
      final: () => {
        if (!native.gcmFinal(gcm, tag)) throw tagMismatch(cipher, context, undefined);
      },
    };
  }
  const decipher = createDecipheriv(gcmName(cipher), key, nonce, { authTagLength: AEAD_TAG_BYTES });
  decipher.setAuthTag(tag);
  decipher.setAAD(aad);
  return {
    update: (ciphertext) => decipher.update(ciphertext),
    decryptInPlace: (bytes) => {
      for (let at = 0; at < bytes.length; at += DECRYPT_PIECE) {
        decipher.update(bytes.subarray(at, Math.min(bytes.length, at + DECRYPT_PIECE))).copy(bytes, at);
      }
    },
    final: () => {
      try {
        decipher.final();
      } catch (cause) {
        throw tagMismatch(cipher, context, cause);
      }
    },
  };
}

/** The plaintext, or a SecurityError naming the cipher (and session) when the tag is wrong. */
export function aeadDecrypt(
  cipher: Cipher,
  key: Buffer,
  nonce: Buffer,
  aad: Buffer,
  ciphertext: Buffer,
  tag: Buffer,
  context: AeadFailureContext = {},
): Buffer {
  requireParameters(cipher, key, nonce);
  requireTag(cipher, tag);
  requireContent(cipher, ciphertext);
  const decipher = isGcm(cipher)
    ? createDecipheriv(gcmName(cipher), key, nonce, { authTagLength: AEAD_TAG_BYTES })
    : createDecipheriv(ccmName(cipher), key, nonce, { authTagLength: AEAD_TAG_BYTES });
  decipher.setAuthTag(tag);
  if (isGcm(cipher)) decipher.setAAD(aad);
  else decipher.setAAD(aad, { plaintextLength: ciphertext.length });
  try {
    const plaintext = decipher.update(ciphertext);
    decipher.final();
    return plaintext;
  } catch (cause) {
    throw tagMismatch(cipher, context, cause);
  }
}

/**
 * Like aeadDecrypt, but with the native AEAD the plaintext replaces the ciphertext in `bytes`
 * (`inPlace`: the result is `bytes`); without it the plaintext is new memory and `bytes` is
 * left as it was. On a tag mismatch (SecurityError) `bytes` may hold neither.
 */
export function aeadDecryptInPlace(
  cipher: Cipher,
  key: Buffer,
  nonce: Buffer,
  aad: Buffer,
  bytes: Buffer,
  tag: Buffer,
  context: AeadFailureContext = {},
): { plaintext: Buffer; inPlace: boolean } {
  const native = nativeAead();
  if (native === undefined) return { plaintext: aeadDecrypt(cipher, key, nonce, aad, bytes, tag, context), inPlace: false };
  requireParameters(cipher, key, nonce);
  requireTag(cipher, tag);
  requireContent(cipher, bytes);
  let matches: boolean;
  if (isGcm(cipher)) {
    const gcm = native.gcmDecipher(key, nonce, aad);
    native.gcmUpdate(gcm, bytes);
    matches = native.gcmFinal(gcm, tag);
  } else {
    matches = native.ccmDecrypt(key, nonce, aad, bytes, tag);
  }
  if (!matches) throw tagMismatch(cipher, context, undefined);
  return { plaintext: bytes, inPlace: true };
}
