/**
 * MD4 message digest (RFC 1320). NTLM's NT hash is MD4 of the UTF-16LE password;
 * OpenSSL 3 only offers MD4 through its legacy provider, so it is computed here.
 */

const S1 = [3, 7, 11, 19] as const;
const S2 = [3, 5, 9, 13] as const;
const S3 = [3, 9, 11, 15] as const;
// RFC 1320 3.4: the order in which round 3 visits the sixteen words.
const ROUND3_ORDER = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15] as const;

function rotl(x: number, s: number): number {
  return ((x << s) | (x >>> (32 - s))) >>> 0;
}

/** Pads the message per RFC 1320 3.1-3.2: a 1 bit, zeros to 56 mod 64, then the bit length (64-bit LE). */
function pad(message: Uint8Array): Buffer {
  const blocks = Math.floor((message.length + 8) / 64) + 1;
  const out = Buffer.alloc(blocks * 64);
  out.set(message, 0);
  out[message.length] = 0x80;
  const bits = BigInt(message.length) * 8n;
  out.writeBigUInt64LE(bits & 0xffffffffffffffffn, out.length - 8);
  return out;
}

export function md4(message: Uint8Array): Buffer {
  const data = pad(message);
  let a = 0x67452301;
  let b = 0xefcdab89;
  let c = 0x98badcfe;
  let d = 0x10325476;
  const x = new Uint32Array(16);

  for (let block = 0; block < data.length; block += 64) {
    for (let i = 0; i < 16; i++) x[i] = data.readUInt32LE(block + i * 4);
    const word = (i: number): number => x[i] ?? 0;
    const aa = a;
    const bb = b;
    const cc = c;
    const dd = d;

    // Each round updates a, d, c, b in turn; the shift depends on the position in that cycle.
    for (let i = 0; i < 16; i++) {
      const f = (b & c) | (~b & d);
      const t = rotl((a + f + word(i)) >>> 0, S1[i % 4] ?? 0);
      a = d;
      d = c;
      c = b;
      b = t;
    }
    for (let i = 0; i < 16; i++) {
      const g = (b & c) | (b & d) | (c & d);
      const k = (i % 4) * 4 + Math.floor(i / 4);
      const t = rotl((a + g + word(k) + 0x5a827999) >>> 0, S2[i % 4] ?? 0);
      a = d;
      d = c;
      c = b;
      b = t;
    }
    for (let i = 0; i < 16; i++) {
      const h = b ^ c ^ d;
      const t = rotl((a + h + word(ROUND3_ORDER[i] ?? 0) + 0x6ed9eba1) >>> 0, S3[i % 4] ?? 0);
      a = d;
      d = c;
      c = b;
      b = t;
    }

    a = (a + aa) >>> 0;
    b = (b + bb) >>> 0;
    c = (c + cc) >>> 0;
    d = (d + dd) >>> 0;
  }

  const out = Buffer.alloc(16);
  out.writeUInt32LE(a, 0);
  out.writeUInt32LE(b, 4);
  out.writeUInt32LE(c, 8);
  out.writeUInt32LE(d, 12);
  return out;
}
