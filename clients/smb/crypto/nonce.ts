/**
 * Per-session nonces for the TRANSFORM_HEADER. MS-SMB2 2.2.41 forbids reusing a nonce within
 * a session, and a repeated nonce breaks CCM and GCM outright, so each nonce is a random
 * per-generator prefix followed by a 64-bit counter that only ever goes up.
 */
import { randomBytes } from 'node:crypto';
import { ProtocolError, SecurityError } from '../errors.js';
import { cipherName, cipherNonceLength, isCipher } from './algorithms.js';
import type { Cipher } from './algorithms.js';

const COUNTER_BYTES = 8;
const LAST_COUNTER = (1n << 64n) - 1n;

export interface NonceGeneratorOptions {
  /** Fixed prefix instead of a random one (3 bytes for CCM, 4 for GCM); for tests. */
  prefix?: Buffer;
  /** Counter value of the first nonce; defaults to 0. */
  firstCounter?: bigint;
}

/** One per session and direction key; share it between all channels of the session. */
export class NonceGenerator {
  readonly cipher: Cipher;
  readonly nonceLength: 11 | 12;
  private readonly prefix: Buffer;
  private counter: bigint;

  constructor(cipher: Cipher, options: NonceGeneratorOptions = {}) {
    if (!isCipher(cipher)) {
      throw new ProtocolError(`no nonce format for ${cipherName(cipher)}`, { field: 'CipherId' });
    }
    this.cipher = cipher;
    this.nonceLength = cipherNonceLength(cipher);
    const prefixLength = this.nonceLength - COUNTER_BYTES;
    const prefix = options.prefix ?? randomBytes(prefixLength);
    if (prefix.length !== prefixLength) {
      throw new ProtocolError(
        `${cipherName(cipher)} nonce prefix must be ${String(prefixLength)} bytes, got ${String(prefix.length)}`,
        { field: 'Nonce' },
      );
    }
    this.prefix = Buffer.from(prefix);
    const first = options.firstCounter ?? 0n;
    if (first < 0n || first > LAST_COUNTER) {
      throw new ProtocolError(`nonce counter ${first.toString()} is outside 0..2^64-1`, { field: 'Nonce' });
    }
    this.counter = first;
  }

  /** How many nonces are left before the generator refuses. */
  get remaining(): bigint {
    return LAST_COUNTER - this.counter + 1n;
  }

  /** A fresh nonce of `nonceLength` bytes (11 for CCM, 12 for GCM). */
  next(): Buffer {
    if (this.counter > LAST_COUNTER) {
      throw new SecurityError(
        `${cipherName(this.cipher)} nonces exhausted for this session; a new session (new keys) is needed`,
      );
    }
    const nonce = Buffer.allocUnsafe(this.nonceLength);
    this.prefix.copy(nonce, 0);
    nonce.writeBigUInt64LE(this.counter, this.prefix.length);
    this.counter += 1n;
    return nonce;
  }
}
