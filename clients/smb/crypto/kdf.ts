/**
 * The SMB 3.x key derivation function (MS-SMB2 3.1.4.2): [SP800-108] section 5.1, KDF in
 * counter mode with HMAC-SHA256 as the PRF, r = 32 and L = 128 or 256.
 */
import { createHmac } from 'node:crypto';
import { ProtocolError } from '../errors.js';

export type KdfLengthBits = 128 | 256;

function uint32BigEndian(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value, 0);
  return bytes;
}

const SEPARATOR = Buffer.from([0x00]);

function asBytes(value: Buffer | string): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
}

/**
 * K(i) = HMAC-SHA256(Ki, [i]32 || Label || 0x00 || Context || [L]32), output = leftmost L bits
 * of K(1) || K(2) || ...  Labels and contexts are passed with their trailing NUL where MS-SMB2
 * spells one (e.g. "SMBSigningKey\0"); strings are taken byte for byte (latin1).
 */
export function smb3Kdf(
  keyDerivationKey: Buffer,
  label: Buffer | string,
  context: Buffer | string,
  lengthBits: KdfLengthBits,
): Buffer {
  if (lengthBits !== 128 && lengthBits !== 256) {
    throw new ProtocolError(`SP800-108 KDF: unsupported output length ${String(lengthBits)} bits`, {
      field: 'KDF.L',
    });
  }
  if (keyDerivationKey.length === 0) {
    throw new ProtocolError('SP800-108 KDF: the key derivation key is empty', { field: 'KDF.Ki' });
  }
  // One HMAC-SHA256 block (256 bits) covers both allowed lengths, so the counter i is always 1.
  const block = createHmac('sha256', keyDerivationKey)
    .update(uint32BigEndian(1))
    .update(asBytes(label))
    .update(SEPARATOR)
    .update(asBytes(context))
    .update(uint32BigEndian(lengthBits))
    .digest();
  return block.subarray(0, lengthBits / 8);
}
