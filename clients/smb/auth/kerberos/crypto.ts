/**
 * The Kerberos encryption types the client speaks: aes128- and aes256-cts-hmac-sha1-96
 * (RFC 3962), built on the simplified profile of RFC 3961 (n-fold, DR/DK, encrypt with a
 * confounder and an HMAC-SHA1-96 integrity tag, the checksum).
 */
import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ProtocolError, SecurityError } from '../../errors.js';

/** RFC 3961 8 / RFC 3962 7: etype numbers. */
export const EncryptionType = {
  AES128_CTS_HMAC_SHA1_96: 17,
  AES256_CTS_HMAC_SHA1_96: 18,
} as const;
export type EncryptionTypeValue = (typeof EncryptionType)[keyof typeof EncryptionType];

/** RFC 3962 7: checksum types keyed by the etype. */
export const ChecksumType = {
  HMAC_SHA1_96_AES128: 15,
  HMAC_SHA1_96_AES256: 16,
} as const;

export interface EncryptionKey {
  readonly etype: EncryptionTypeValue;
  readonly value: Buffer;
}

const BLOCK = 16;
const CONFOUNDER = 16;
const MAC = 12;
/** RFC 3962 4: the default string-to-key iteration count. */
export const DEFAULT_ITERATIONS = 4096;
/** A KDC asking for more PBKDF2 rounds than this is refused rather than obeyed for minutes. */
export const MAX_ITERATIONS = 1_000_000;

export function isSupportedEtype(etype: number): etype is EncryptionTypeValue {
  return etype === EncryptionType.AES128_CTS_HMAC_SHA1_96 || etype === EncryptionType.AES256_CTS_HMAC_SHA1_96;
}

export function etypeName(etype: number): string {
  if (etype === EncryptionType.AES128_CTS_HMAC_SHA1_96) return 'aes128-cts-hmac-sha1-96';
  if (etype === EncryptionType.AES256_CTS_HMAC_SHA1_96) return 'aes256-cts-hmac-sha1-96';
  if (etype === 23) return 'rc4-hmac';
  return `etype ${etype}`;
}

export function keyLength(etype: EncryptionTypeValue): number {
  return etype === EncryptionType.AES128_CTS_HMAC_SHA1_96 ? 16 : 32;
}

export function checksumTypeOf(etype: EncryptionTypeValue): number {
  return etype === EncryptionType.AES128_CTS_HMAC_SHA1_96 ? ChecksumType.HMAC_SHA1_96_AES128 : ChecksumType.HMAC_SHA1_96_AES256;
}

export function makeKey(etype: number, value: Buffer, where: string): EncryptionKey {
  if (!isSupportedEtype(etype)) throw new ProtocolError(`${where}: unsupported encryption type ${etypeName(etype)}`, { field: where });
  if (value.length !== keyLength(etype)) {
    throw new ProtocolError(`${where}: a ${etypeName(etype)} key has ${keyLength(etype)} bytes, got ${value.length}`, { field: where });
  }
  return { etype, value: Buffer.from(value) };
}

/**
 * RFC 3961 5.1: n-fold. The input is repeated, each copy rotated right by 13 more bits, up
 * to the least common multiple of both lengths, and the n-bit pieces are added with
 * end-around carry (one's complement).
 */
export function nfold(input: Buffer, outBytes: number): Buffer {
  if (input.length === 0 || outBytes <= 0) throw new RangeError('n-fold needs a non-empty input and output');
  const inBits = BigInt(input.length * 8);
  const outBits = BigInt(outBytes * 8);
  const inMask = (1n << inBits) - 1n;
  const outMask = (1n << outBits) - 1n;
  const value = BigInt(`0x${input.toString('hex')}`);
  const total = lcm(input.length, outBytes) * 8;
  let stream = 0n;
  for (let copy = 0; copy * Number(inBits) < total; copy++) {
    const shift = BigInt((13 * copy) % Number(inBits));
    const rotated = shift === 0n ? value : ((value >> shift) | (value << (inBits - shift))) & inMask;
    stream = (stream << inBits) | rotated;
  }
  let sum = 0n;
  for (let offset = BigInt(total) - outBits; offset >= 0n; offset -= outBits) sum += (stream >> offset) & outMask;
  while (sum > outMask) sum = (sum & outMask) + (sum >> outBits);
  return Buffer.from(sum.toString(16).padStart(outBytes * 2, '0'), 'hex');
}

function lcm(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return (a / x) * b;
}

function aesName(key: Buffer, mode: 'cbc' | 'ecb'): string {
  return `aes-${key.length * 8}-${mode}`;
}

function cbc(key: Buffer, iv: Buffer, data: Buffer, decrypt: boolean): Buffer {
  const cipher = decrypt ? createDecipheriv(aesName(key, 'cbc'), key, iv) : createCipheriv(aesName(key, 'cbc'), key, iv);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

function ecbDecryptBlock(key: Buffer, block: Buffer): Buffer {
  const decipher = createDecipheriv(aesName(key, 'ecb'), key, null);
  decipher.setAutoPadding(false);
  return Buffer.concat([decipher.update(block), decipher.final()]);
}

/** RFC 3962 5: CBC with ciphertext stealing, the last two blocks swapped (also for whole blocks). */
export function ctsEncrypt(key: Buffer, iv: Buffer, plaintext: Buffer): Buffer {
  if (plaintext.length < BLOCK) throw new RangeError(`CBC-CTS needs at least one block, got ${plaintext.length} bytes`);
  if (plaintext.length === BLOCK) return cbc(key, iv, plaintext, false);
  const blocks = Math.ceil(plaintext.length / BLOCK);
  const lastLength = plaintext.length - (blocks - 1) * BLOCK;
  const padded = Buffer.alloc(blocks * BLOCK);
  plaintext.copy(padded);
  const c = cbc(key, iv, padded, false);
  const penultimate = (blocks - 2) * BLOCK;
  return Buffer.concat([
    c.subarray(0, penultimate),
    c.subarray(penultimate + BLOCK),
    c.subarray(penultimate, penultimate + lastLength),
  ]);
}

export function ctsDecrypt(key: Buffer, iv: Buffer, ciphertext: Buffer): Buffer {
  if (ciphertext.length < BLOCK) throw new RangeError(`CBC-CTS needs at least one block, got ${ciphertext.length} bytes`);
  if (ciphertext.length === BLOCK) return cbc(key, iv, ciphertext, true);
  const blocks = Math.ceil(ciphertext.length / BLOCK);
  const lastLength = ciphertext.length - (blocks - 1) * BLOCK;
  const penultimate = (blocks - 2) * BLOCK;
  const lastFull = ciphertext.subarray(penultimate, penultimate + BLOCK);
  const stolen = ciphertext.subarray(penultimate + BLOCK);
  // The padded tail of the last plaintext block was zero, so the decrypted last block carries
  // the bytes of the previous cipher block that were stolen from the wire.
  const d = ecbDecryptBlock(key, lastFull);
  const previous = Buffer.concat([stolen, d.subarray(lastLength)]);
  const chain = Buffer.concat([ciphertext.subarray(0, penultimate), previous, lastFull]);
  return cbc(key, iv, chain, true).subarray(0, ciphertext.length);
}

/** RFC 3961 5.1: DR(Key, Constant), iterating E over n-fold(Constant) until the key is long enough. */
export function deriveRandom(key: Buffer, constant: Buffer): Buffer {
  const zero = Buffer.alloc(BLOCK);
  const out: Buffer[] = [];
  let block = constant.length === BLOCK ? constant : nfold(constant, BLOCK);
  let length = 0;
  while (length < key.length) {
    block = ctsEncrypt(key, zero, block);
    out.push(block);
    length += block.length;
  }
  return Buffer.concat(out).subarray(0, key.length);
}

/** RFC 3961 5.1: DK(Key, Constant); random-to-key is the identity for AES (RFC 3962 6). */
export function deriveKey(key: EncryptionKey, constant: Buffer): EncryptionKey {
  return { etype: key.etype, value: deriveRandom(key.value, constant) };
}

function usageConstant(usage: number, kind: 0x99 | 0xaa | 0x55): Buffer {
  const constant = Buffer.alloc(5);
  constant.writeUInt32BE(usage >>> 0, 0);
  constant[4] = kind;
  return constant;
}

/** RFC 3962 4: PBKDF2-HMAC-SHA1 over the UTF-8 password and salt, then DK(tkey, "kerberos"). */
export function stringToKey(etype: EncryptionTypeValue, password: string, salt: string | Buffer, iterations = DEFAULT_ITERATIONS): EncryptionKey {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new ProtocolError(`string-to-key: ${iterations} PBKDF2 iterations is outside 1..${MAX_ITERATIONS}`, { field: 's2kparams' });
  }
  const tkey = pbkdf2Sync(Buffer.from(password, 'utf8'), typeof salt === 'string' ? Buffer.from(salt, 'utf8') : salt, iterations, keyLength(etype), 'sha1');
  return deriveKey({ etype, value: tkey }, Buffer.from('kerberos', 'latin1'));
}

/** RFC 3962 4: s2kparams is the iteration count as four big-endian bytes; absent means 4096. */
export function iterationsFromParams(params: Buffer | undefined): number {
  if (params === undefined) return DEFAULT_ITERATIONS;
  if (params.length !== 4) throw new ProtocolError(`ETYPE-INFO2 s2kparams has ${params.length} bytes, AES needs 4`, { field: 'ETYPE-INFO2.s2kparams' });
  const count = params.readUInt32BE(0);
  // RFC 3962 4: the value 0 stands for 2^32, which no client can afford.
  return count === 0 ? 2 ** 32 : count;
}

function hmacSha196(key: Buffer, data: Buffer): Buffer {
  return createHmac('sha1', key).update(data).digest().subarray(0, MAC);
}

/** RFC 3961 5.3: confounder | plaintext, CTS-encrypted under Ke, then HMAC-SHA1-96 under Ki. */
export function encrypt(key: EncryptionKey, usage: number, plaintext: Buffer, confounder: Buffer = randomBytes(CONFOUNDER)): Buffer {
  if (confounder.length !== CONFOUNDER) throw new RangeError(`confounder must be ${CONFOUNDER} bytes`);
  const ke = deriveRandom(key.value, usageConstant(usage, 0xaa));
  const ki = deriveRandom(key.value, usageConstant(usage, 0x55));
  const data = Buffer.concat([confounder, plaintext]);
  return Buffer.concat([ctsEncrypt(ke, Buffer.alloc(BLOCK), data), hmacSha196(ki, data)]);
}

/** The inverse of encrypt(); a wrong key or altered bytes fail the integrity check (SecurityError). */
export function decrypt(key: EncryptionKey, usage: number, ciphertext: Buffer, what: string): Buffer {
  if (ciphertext.length < CONFOUNDER + MAC) {
    throw new ProtocolError(`${what}: ${ciphertext.length} bytes of cipher text cannot hold a confounder and a checksum`, { field: what });
  }
  const ke = deriveRandom(key.value, usageConstant(usage, 0xaa));
  const ki = deriveRandom(key.value, usageConstant(usage, 0x55));
  const body = ciphertext.subarray(0, ciphertext.length - MAC);
  const mac = ciphertext.subarray(ciphertext.length - MAC);
  const data = ctsDecrypt(ke, Buffer.alloc(BLOCK), body);
  if (!timingSafeEqual(hmacSha196(ki, data), mac)) {
    throw new SecurityError(`${what}: integrity check failed (wrong key, or the bytes were altered)`);
  }
  return data.subarray(CONFOUNDER);
}

/** RFC 3961 5.4: the keyed checksum, HMAC-SHA1-96 under Kc = DK(key, usage | 0x99). */
export function checksum(key: EncryptionKey, usage: number, data: Buffer): Buffer {
  return hmacSha196(deriveRandom(key.value, usageConstant(usage, 0x99)), data);
}

export function verifyChecksum(key: EncryptionKey, usage: number, data: Buffer, expected: Buffer): boolean {
  const actual = checksum(key, usage, data);
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}

export function randomKey(etype: EncryptionTypeValue): EncryptionKey {
  return { etype, value: randomBytes(keyLength(etype)) };
}
