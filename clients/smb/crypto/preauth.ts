/**
 * SMB 3.1.1 preauth integrity hash (MS-SMB2 3.2.5.2 / 3.3.5.4 for NEGOTIATE, 3.2.5.3 /
 * 3.3.5.5 for SESSION_SETUP): H0 = 64 zero bytes, H(n+1) = SHA-512(H(n) || message), over the
 * NEGOTIATE request and response (connection hash), then, starting from the connection hash,
 * over each SESSION_SETUP request and each non-final SESSION_SETUP response (session hash).
 * The final, successful SESSION_SETUP response is not hashed; the hash before it is the
 * context of the 3.1.1 key derivation.
 *
 * Values are immutable: `update` returns a new hash, so a session "forks" the connection hash
 * simply by starting from it, and the connection's value cannot be changed behind its back.
 */
import { createHash } from 'node:crypto';
import { ProtocolError } from '../errors.js';

export const PREAUTH_INTEGRITY_HASH_BYTES = 64;

export class PreauthIntegrityHash {
  private readonly bytes: Buffer;

  private constructor(bytes: Buffer) {
    this.bytes = bytes;
  }

  /** The value before any message: 64 zero bytes. */
  static initial(): PreauthIntegrityHash {
    return new PreauthIntegrityHash(Buffer.alloc(PREAUTH_INTEGRITY_HASH_BYTES));
  }

  /** Resumes from a stored value (e.g. one kept per PreauthSession on a server). */
  static fromValue(value: Buffer): PreauthIntegrityHash {
    if (value.length !== PREAUTH_INTEGRITY_HASH_BYTES) {
      throw new ProtocolError(
        `a preauth integrity hash has ${String(PREAUTH_INTEGRITY_HASH_BYTES)} bytes, got ${String(value.length)}`,
        { field: 'PreauthIntegrityHashValue' },
      );
    }
    return new PreauthIntegrityHash(Buffer.from(value));
  }

  /**
   * The hash after one more message: the whole SMB2 message as sent or received (header
   * included, no transport framing). A message held in several buffers may be passed as a list.
   */
  update(message: Buffer | readonly Buffer[]): PreauthIntegrityHash {
    const sha512 = createHash('sha512').update(this.bytes);
    if (Buffer.isBuffer(message)) sha512.update(message);
    else for (const part of message) sha512.update(part);
    return new PreauthIntegrityHash(sha512.digest());
  }

  /** A copy of the 64-byte value (the KDF context for the 3.1.1 keys). */
  get value(): Buffer {
    return Buffer.from(this.bytes);
  }

  equals(other: PreauthIntegrityHash): boolean {
    return this.bytes.equals(other.bytes);
  }

  toString(): string {
    return this.bytes.toString('hex').toUpperCase();
  }
}
