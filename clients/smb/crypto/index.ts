/**
 * SMB2/3 cryptography: key derivation, message signing, message encryption and the 3.1.1
 * preauth integrity hash. Pure functions over Buffers; no I/O.
 */
export {
  Cipher,
  Dialect,
  PreauthHashAlgorithm,
  SigningAlgorithm,
  cipherKeyLength,
  cipherName,
  cipherNonceLength,
  defaultSigningAlgorithm,
  dialectName,
  isCipher,
  isDialect,
  isGcm,
  isSigningAlgorithm,
  isSmb3,
  signingAlgorithmName,
} from './algorithms.js';
export { smb3Kdf } from './kdf.js';
export type { KdfLengthBits } from './kdf.js';
export { deriveSessionKeys, deriveSigningKey, truncatedSessionKey } from './keys.js';
export type { SessionKeyInputs, SessionKeys } from './keys.js';
export { AesCmac, aesCmac } from './cmac.js';
export {
  SIGNATURE_BYTES,
  SIGNATURE_OFFSET,
  SMB2_HEADER_BYTES,
  applySignature,
  gmacSigningNonce,
  openSignatureCheck,
  signMessage,
  verifyMessageSignature,
} from './signing.js';
export type { SignatureCheck, SignatureOptions } from './signing.js';
export { AEAD_TAG_BYTES, DECRYPT_PIECE, aeadDecipherGcm, aeadDecrypt, aeadDecryptInPlace, aeadEncrypt, aeadEncryptInto, aeadEncryptParts } from './aead.js';
export { aeadBackend } from './native.js';
export type { AeadBackend } from './native.js';
export type { AeadDecipher, AeadFailureContext, AeadSealed } from './aead.js';
export { NonceGenerator } from './nonce.js';
export type { NonceGeneratorOptions } from './nonce.js';
export {
  TRANSFORM_FLAG_ENCRYPTED,
  TRANSFORM_HEADER_BYTES,
  TRANSFORM_PROTOCOL_ID,
  decryptMessage,
  encryptMessage,
  encryptMessageInto,
  encryptMessageParts,
  encryptMessageVector,
  openMessageDecipher,
  parseTransformHeader,
} from './transform-frame.js';
export type { DecryptMessageInput, DecryptedMessage, EncryptMessageInput, MessageDecipherInput, TransformHeader } from './transform-frame.js';
export { PREAUTH_INTEGRITY_HASH_BYTES, PreauthIntegrityHash } from './preauth.js';
