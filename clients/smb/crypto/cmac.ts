/**
 * AES-128-CMAC ([RFC4493]) as an incremental MAC. The CBC-MAC chain runs inside one
 * node:crypto aes-128-cbc cipher, so a message costs one pass over its bytes and a bounded
 * number of allocations per call, whatever its length; only the final block is handled here.
 */
import { createCipheriv } from 'node:crypto';
import type { Cipher as NodeCipher } from 'node:crypto';
import { ProtocolError } from '../errors.js';

const BLOCK = 16;
const KEY_BYTES = 16;
// RFC 4493 2.3: R_b for a 128-bit block cipher.
const RB = 0x87;
// Bounds the scratch output node allocates for the discarded CBC ciphertext.
const CHUNK = 64 * 1024;
const ZERO_IV = Buffer.alloc(BLOCK);

function shiftLeftOneBit(block: Buffer): Buffer {
  const shifted = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK; i++) {
    const next = i + 1 < BLOCK ? (block[i + 1] ?? 0) : 0;
    shifted[i] = (((block[i] ?? 0) << 1) | (next >>> 7)) & 0xff;
  }
  return shifted;
}

// RFC 4493 2.3: Generate_Subkey.
function nextSubkey(previous: Buffer): Buffer {
  const subkey = shiftLeftOneBit(previous);
  if (((previous[0] ?? 0) & 0x80) !== 0) subkey[BLOCK - 1] = (subkey[BLOCK - 1] ?? 0) ^ RB;
  return subkey;
}

function encryptBlock(key: Buffer, block: Buffer): Buffer {
  const ecb = createCipheriv('aes-128-ecb', key, null);
  ecb.setAutoPadding(false);
  return ecb.update(block);
}

export class AesCmac {
  private readonly k1: Buffer;
  private readonly k2: Buffer;
  private readonly chain: NodeCipher;
  // Holds the last 1..16 bytes seen, because the final block is treated differently.
  private readonly pending = Buffer.alloc(BLOCK);
  private pendingLength = 0;
  private finished = false;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) {
      throw new ProtocolError(`AES-128-CMAC needs a 16-byte key, got ${String(key.length)} bytes`, {
        field: 'SigningKey',
      });
    }
    const l = encryptBlock(key, Buffer.alloc(BLOCK));
    this.k1 = nextSubkey(l);
    this.k2 = nextSubkey(this.k1);
    this.chain = createCipheriv('aes-128-cbc', key, ZERO_IV);
    this.chain.setAutoPadding(false);
  }

  update(data: Uint8Array): this {
    if (this.finished) throw new Error('AesCmac.update() after digest()');
    if (data.length === 0) return this;
    let offset = 0;
    if (this.pendingLength > 0) {
      const taken = Math.min(BLOCK - this.pendingLength, data.length);
      this.pending.set(data.subarray(0, taken), this.pendingLength);
      this.pendingLength += taken;
      offset = taken;
      if (offset === data.length) return this;
      this.chain.update(this.pending);
      this.pendingLength = 0;
    }
    // Feed whole blocks, always keeping 1..16 bytes back as a possible final block.
    const remaining = data.length - offset;
    const bulk = Math.floor((remaining - 1) / BLOCK) * BLOCK;
    for (let start = offset; start < offset + bulk; start += CHUNK) {
      this.chain.update(data.subarray(start, Math.min(start + CHUNK, offset + bulk)));
    }
    offset += bulk;
    this.pending.set(data.subarray(offset), 0);
    this.pendingLength = data.length - offset;
    return this;
  }

  /** The 16-byte tag; the instance cannot be used afterwards. */
  digest(): Buffer {
    if (this.finished) throw new Error('AesCmac.digest() called twice');
    this.finished = true;
    const last = Buffer.alloc(BLOCK);
    let subkey = this.k1;
    if (this.pendingLength === BLOCK) {
      this.pending.copy(last);
    } else {
      // RFC 4493 2.4 step 4: pad with 10^i and use K2.
      this.pending.copy(last, 0, 0, this.pendingLength);
      last[this.pendingLength] = 0x80;
      subkey = this.k2;
    }
    for (let i = 0; i < BLOCK; i++) last[i] = (last[i] ?? 0) ^ (subkey[i] ?? 0);
    const tag = this.chain.update(last);
    this.chain.final();
    return tag;
  }
}

export function aesCmac(key: Buffer, ...parts: Uint8Array[]): Buffer {
  const mac = new AesCmac(key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}
