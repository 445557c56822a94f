/**
 * Wire identifiers shared by the crypto module and its callers: dialect revisions,
 * encryption ciphers, signing algorithms and preauth hash algorithms, with readable names.
 */

// MS-SMB2 2.2.3 (NEGOTIATE Dialects)
export const Dialect = {
  Smb202: 0x0202,
  Smb210: 0x0210,
  Smb300: 0x0300,
  Smb302: 0x0302,
  Smb311: 0x0311,
} as const;
export type Dialect = (typeof Dialect)[keyof typeof Dialect];

// MS-SMB2 2.2.3.1.2 (SMB2_ENCRYPTION_CAPABILITIES Ciphers)
export const Cipher = {
  Aes128Ccm: 0x0001,
  Aes128Gcm: 0x0002,
  Aes256Ccm: 0x0003,
  Aes256Gcm: 0x0004,
} as const;
export type Cipher = (typeof Cipher)[keyof typeof Cipher];

// MS-SMB2 2.2.3.1.7 (SMB2_SIGNING_CAPABILITIES SigningAlgorithms)
export const SigningAlgorithm = {
  HmacSha256: 0x0000,
  AesCmac: 0x0001,
  AesGmac: 0x0002,
} as const;
export type SigningAlgorithm = (typeof SigningAlgorithm)[keyof typeof SigningAlgorithm];

// MS-SMB2 2.2.3.1.1 (SMB2_PREAUTH_INTEGRITY_CAPABILITIES HashAlgorithms)
export const PreauthHashAlgorithm = {
  Sha512: 0x0001,
} as const;
export type PreauthHashAlgorithm = (typeof PreauthHashAlgorithm)[keyof typeof PreauthHashAlgorithm];

const dialectNames: Record<Dialect, string> = {
  [Dialect.Smb202]: '2.0.2',
  [Dialect.Smb210]: '2.1',
  [Dialect.Smb300]: '3.0',
  [Dialect.Smb302]: '3.0.2',
  [Dialect.Smb311]: '3.1.1',
};

const cipherNames: Record<Cipher, string> = {
  [Cipher.Aes128Ccm]: 'AES-128-CCM',
  [Cipher.Aes128Gcm]: 'AES-128-GCM',
  [Cipher.Aes256Ccm]: 'AES-256-CCM',
  [Cipher.Aes256Gcm]: 'AES-256-GCM',
};

const signingAlgorithmNames: Record<SigningAlgorithm, string> = {
  [SigningAlgorithm.HmacSha256]: 'HMAC-SHA256',
  [SigningAlgorithm.AesCmac]: 'AES-CMAC',
  [SigningAlgorithm.AesGmac]: 'AES-GMAC',
};

function hex4(value: number): string {
  return `0x${(value >>> 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

export function isDialect(value: number): value is Dialect {
  return Object.hasOwn(dialectNames, value);
}

export function isCipher(value: number): value is Cipher {
  return Object.hasOwn(cipherNames, value);
}

export function isSigningAlgorithm(value: number): value is SigningAlgorithm {
  return Object.hasOwn(signingAlgorithmNames, value);
}

/** `dialectName(0x0311) === '3.1.1'`; unknown values come back as hex. */
export function dialectName(dialect: number): string {
  return isDialect(dialect) ? dialectNames[dialect] : `unknown dialect ${hex4(dialect)}`;
}

/** `cipherName(2) === 'AES-128-GCM'`; unknown values come back as hex. */
export function cipherName(cipher: number): string {
  return isCipher(cipher) ? cipherNames[cipher] : `unknown cipher ${hex4(cipher)}`;
}

/** `signingAlgorithmName(1) === 'AES-CMAC'`; unknown values come back as hex. */
export function signingAlgorithmName(algorithm: number): string {
  return isSigningAlgorithm(algorithm)
    ? signingAlgorithmNames[algorithm]
    : `unknown signing algorithm ${hex4(algorithm)}`;
}

export function isSmb3(dialect: Dialect): boolean {
  return dialect >= Dialect.Smb300;
}

/** The algorithm a dialect signs with when no SMB2_SIGNING_CAPABILITIES were negotiated. */
export function defaultSigningAlgorithm(dialect: Dialect): SigningAlgorithm {
  return isSmb3(dialect) ? SigningAlgorithm.AesCmac : SigningAlgorithm.HmacSha256;
}

export function isGcm(cipher: Cipher): boolean {
  return cipher === Cipher.Aes128Gcm || cipher === Cipher.Aes256Gcm;
}

/** Key length in bytes: 16 for the AES-128 ciphers, 32 for the AES-256 ones. */
export function cipherKeyLength(cipher: Cipher): 16 | 32 {
  return cipher === Cipher.Aes256Ccm || cipher === Cipher.Aes256Gcm ? 32 : 16;
}

// MS-SMB2 2.2.41: AES_CCM_Nonce is 11 bytes, AES_GCM_Nonce is 12 bytes.
export function cipherNonceLength(cipher: Cipher): 11 | 12 {
  return isGcm(cipher) ? 12 : 11;
}
