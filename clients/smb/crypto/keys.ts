/**
 * Session key derivation for every dialect (MS-SMB2 3.2.5.3.1 client, 3.3.5.5.3 server,
 * KDF parameters in 3.1.4.2).
 */
import { ProtocolError } from '../errors.js';
import { Cipher, Dialect, cipherKeyLength, cipherName, dialectName, isCipher, isDialect, isSmb3 } from './algorithms.js';
import { smb3Kdf } from './kdf.js';
import type { KdfLengthBits } from './kdf.js';
import { PREAUTH_INTEGRITY_HASH_BYTES } from './preauth.js';

const SESSION_KEY_BYTES = 16;

export interface SessionKeyInputs {
  dialect: Dialect;
  /**
   * The cryptographic key of the authenticated GSS context, whole. Session.SessionKey is its
   * first 16 bytes (right-padded with zeros when shorter); the AES-256 cipher keys of 3.1.1 are
   * derived from the whole key (Session.FullSessionKey).
   */
  sessionKey: Buffer;
  /** Session.PreauthIntegrityHashValue (64 bytes); required for 3.1.1, ignored otherwise. */
  preauthIntegrityHash?: Buffer;
  /** Connection.CipherId; decides the cipher key length for 3.1.1. Defaults to AES-128-CCM. */
  cipher?: Cipher;
}

export interface SessionKeys {
  signingKey: Buffer;
  /** Client-to-server cipher key (ServerIn / SMBC2SCipherKey); absent before SMB 3.0. */
  encryptionKey: Buffer | undefined;
  /** Server-to-client cipher key (ServerOut / SMBS2CCipherKey); absent before SMB 3.0. */
  decryptionKey: Buffer | undefined;
  applicationKey: Buffer;
}

interface KdfParameters {
  label: string;
  context: string | Buffer;
}

// MS-SMB2 3.2.5.3.1: the 3.0 and 3.0.2 constants. "ServerIn " really has a trailing space.
const SMB30_SIGNING: KdfParameters = { label: 'SMB2AESCMAC\0', context: 'SmbSign\0' };
const SMB30_CLIENT_TO_SERVER: KdfParameters = { label: 'SMB2AESCCM\0', context: 'ServerIn \0' };
const SMB30_SERVER_TO_CLIENT: KdfParameters = { label: 'SMB2AESCCM\0', context: 'ServerOut\0' };
const SMB30_APPLICATION: KdfParameters = { label: 'SMB2APP\0', context: 'SmbRpc\0' };

// MS-SMB2 3.2.5.3.1: the 3.1.1 labels; the context is the session's preauth integrity hash.
const SMB311_SIGNING_LABEL = 'SMBSigningKey\0';
const SMB311_CLIENT_TO_SERVER_LABEL = 'SMBC2SCipherKey\0';
const SMB311_SERVER_TO_CLIENT_LABEL = 'SMBS2CCipherKey\0';
const SMB311_APPLICATION_LABEL = 'SMBAppKey\0';

/** Session.SessionKey: the first 16 bytes of the GSS key, right-padded with zero bytes. */
export function truncatedSessionKey(gssKey: Buffer): Buffer {
  if (gssKey.length >= SESSION_KEY_BYTES) return gssKey.subarray(0, SESSION_KEY_BYTES);
  const padded = Buffer.alloc(SESSION_KEY_BYTES);
  gssKey.copy(padded);
  return padded;
}

function requireSessionKey(gssKey: Buffer): void {
  if (gssKey.length === 0) {
    throw new ProtocolError('cannot derive session keys from an empty session key', {
      field: 'Session.SessionKey',
    });
  }
}

function requirePreauthHash(inputs: SessionKeyInputs): Buffer {
  const hash = inputs.preauthIntegrityHash;
  if (hash === undefined || hash.length !== PREAUTH_INTEGRITY_HASH_BYTES) {
    const got = hash === undefined ? 'none' : `${String(hash.length)} bytes`;
    throw new ProtocolError(
      `dialect 3.1.1 key derivation needs the ${String(PREAUTH_INTEGRITY_HASH_BYTES)}-byte preauth integrity hash (got ${got})`,
      { field: 'Session.PreauthIntegrityHashValue' },
    );
  }
  return hash;
}

function requireKnownAlgorithms(dialect: Dialect, cipher: Cipher | undefined): void {
  if (!isDialect(dialect)) {
    throw new ProtocolError(`cannot derive session keys for ${dialectName(dialect)}`, {
      field: 'Connection.Dialect',
    });
  }
  if (cipher !== undefined && !isCipher(cipher)) {
    throw new ProtocolError(`cannot derive cipher keys for ${cipherName(cipher)}`, { field: 'Connection.CipherId' });
  }
}

function smb30Keys(sessionKey: Buffer, cipher: Cipher | undefined, dialect: Dialect): SessionKeys {
  if (cipher !== undefined && cipher !== Cipher.Aes128Ccm) {
    throw new ProtocolError(`dialect ${dialectName(dialect)} encrypts only with AES-128-CCM, not ${cipherName(cipher)}`, {
      field: 'Connection.CipherId',
    });
  }
  const derive = (p: KdfParameters): Buffer => smb3Kdf(sessionKey, p.label, p.context, 128);
  return {
    signingKey: derive(SMB30_SIGNING),
    encryptionKey: derive(SMB30_CLIENT_TO_SERVER),
    decryptionKey: derive(SMB30_SERVER_TO_CLIENT),
    applicationKey: derive(SMB30_APPLICATION),
  };
}

function smb311Keys(gssKey: Buffer, preauthHash: Buffer, cipher: Cipher): SessionKeys {
  const sessionKey = truncatedSessionKey(gssKey);
  const cipherBits: KdfLengthBits = cipherKeyLength(cipher) === 32 ? 256 : 128;
  // MS-SMB2 3.2.5.3.1: AES-256 cipher keys come from Session.FullSessionKey; the rest from SessionKey.
  const cipherKdfKey = cipherBits === 256 ? gssKey : sessionKey;
  return {
    signingKey: smb3Kdf(sessionKey, SMB311_SIGNING_LABEL, preauthHash, 128),
    encryptionKey: smb3Kdf(cipherKdfKey, SMB311_CLIENT_TO_SERVER_LABEL, preauthHash, cipherBits),
    decryptionKey: smb3Kdf(cipherKdfKey, SMB311_SERVER_TO_CLIENT_LABEL, preauthHash, cipherBits),
    applicationKey: smb3Kdf(sessionKey, SMB311_APPLICATION_LABEL, preauthHash, 128),
  };
}

/**
 * Signing, cipher and application keys of a session. Encryption and decryption are named from
 * the client's side: the client encrypts with `encryptionKey`, the server decrypts with it.
 */
export function deriveSessionKeys(inputs: SessionKeyInputs): SessionKeys {
  const { dialect, sessionKey: gssKey, cipher } = inputs;
  requireKnownAlgorithms(dialect, cipher);
  requireSessionKey(gssKey);
  if (!isSmb3(dialect)) {
    // Dialects 2.0.2 and 2.1 sign with the session key itself and cannot encrypt.
    const sessionKey = truncatedSessionKey(gssKey);
    return { signingKey: sessionKey, encryptionKey: undefined, decryptionKey: undefined, applicationKey: sessionKey };
  }
  if (dialect !== Dialect.Smb311) return smb30Keys(truncatedSessionKey(gssKey), cipher, dialect);
  return smb311Keys(gssKey, requirePreauthHash(inputs), cipher ?? Cipher.Aes128Ccm);
}

/**
 * Signing key alone, e.g. Channel.SigningKey when a session binds another connection
 * (MS-SMB2 3.2.5.3.1, 3.3.5.5.3): same derivation as the session's, with the binding
 * authentication's key and preauth hash.
 */
export function deriveSigningKey(inputs: Omit<SessionKeyInputs, 'cipher'>): Buffer {
  return deriveSessionKeys(inputs).signingKey;
}
