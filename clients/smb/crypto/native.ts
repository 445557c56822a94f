/**
 * The optional native AEAD (native/smb_aead.c, built by `npm run build:native`): AES-GCM and
 * AES-CCM decryption in place and encryption into given memory, over the OpenSSL Node links.
 * node:crypto returns every update in new memory (zero-filled, then copied once more inside),
 * which for a large READ or WRITE costs page faults and two copies per byte, and leaves the
 * memory for V8 to collect; into given memory there is none of that. Without it (not built, or
 * SMB_INTEROP_NATIVE_CRYPTO=0) the client uses node:crypto, with the same results.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

declare const nativeContext: unique symbol;
export type NativeGcmContext = { readonly [nativeContext]: true };

export interface NativeAead {
  gcmDecipher(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array): NativeGcmContext;
  /** Decrypts `bytes` where they are: the message's next ciphertext. */
  gcmUpdate(context: NativeGcmContext, bytes: Uint8Array): void;
  /** Whether the tag matches. */
  gcmFinal(context: NativeGcmContext, tag: Uint8Array): boolean;
  /** Decrypts `bytes` where they are; whether the tag matches (if not, `bytes` are garbage). */
  ccmDecrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, bytes: Uint8Array, tag: Uint8Array): boolean;
  /**
   * Encrypts the concatenation of `parts` into `out` (exactly as long; a part may lie at its own
   * place in `out`, not elsewhere in it) and writes the 16-byte tag into `tag`.
   */
  gcmEncrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, parts: readonly Uint8Array[], out: Uint8Array, tag: Uint8Array): void;
  /** Encrypts `bytes` where they are and writes the 16-byte tag into `tag`. */
  ccmEncrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, bytes: Uint8Array, tag: Uint8Array): void;
}

export interface AeadBackend {
  name: 'native' | 'node:crypto';
  /** Why node:crypto is used, when it is. */
  reason?: string;
}

/** From the sources (clients/smb/crypto) and from the build (dist/clients/smb/crypto). */
const CANDIDATES = ['../../../native/build/Release/smb_aead.node', '../../../../native/build/Release/smb_aead.node'];

const FUNCTIONS = ['gcmDecipher', 'gcmUpdate', 'gcmFinal', 'ccmDecrypt', 'gcmEncrypt', 'ccmEncrypt'] as const;

function load(): { aead?: NativeAead; backend: AeadBackend } {
  if (process.env.SMB_INTEROP_NATIVE_CRYPTO === '0') return { backend: { name: 'node:crypto', reason: 'SMB_INTEROP_NATIVE_CRYPTO=0' } };
  const path = CANDIDATES.map((candidate) => fileURLToPath(new URL(candidate, import.meta.url))).find((file) => existsSync(file));
  if (path === undefined) return { backend: { name: 'node:crypto', reason: 'native/smb_aead.node is not built (npm run build:native)' } };
  try {
    const aead = createRequire(import.meta.url)(path) as Partial<NativeAead>;
    const missing = FUNCTIONS.filter((name) => typeof aead[name] !== 'function');
    if (missing.length > 0) return { backend: { name: 'node:crypto', reason: `${path} lacks ${missing.join(', ')} (rebuild it: npm run build:native)` } };
    return { aead: aead as NativeAead, backend: { name: 'native' } };
  } catch (error) {
    return { backend: { name: 'node:crypto', reason: `${path} did not load: ${error instanceof Error ? error.message : String(error)}` } };
  }
}

const loaded = load();
let active = loaded.aead;

/** The native AEAD, when it is built and allowed (and not set aside by useNodeCrypto). */
export function nativeAead(): NativeAead | undefined {
  return active;
}

/** Which implementation encrypts and decrypts messages when the native one is not set aside, and why when it is node:crypto. */
export const aeadBackend: AeadBackend = loaded.backend;

/** Tests: encrypt and decrypt through node:crypto (true) or the native AEAD when built (false). */
export function useNodeCrypto(nodeCrypto: boolean): void {
  active = nodeCrypto ? undefined : loaded.aead;
}
