/**
 * NTLM message integrity and confidentiality with extended session security
 * (MS-NLMP 3.4.2-3.4.4.2). SMB itself signs with its own keys; this serves the
 * SPNEGO mechListMIC, which is a GSS_GetMIC over the mechanism list.
 */
import { timingSafeEqual } from 'node:crypto';
import { Rc4 } from './rc4.js';
import { hmacMd5, sealingKey, signingKey } from './ntlm-crypto.js';
import type { Direction } from './ntlm-crypto.js';
import { NegotiateFlags, hasFlag } from './ntlm-flags.js';

export const SIGNATURE_LENGTH = 16;

/** One direction's keys, RC4 handle and sequence number. */
class DirectionState {
  readonly #signingKey: Buffer;
  readonly #handle: Rc4;
  readonly #sealChecksum: boolean;
  #sequence = 0;

  constructor(exportedSessionKey: Buffer, flags: number, direction: Direction) {
    this.#signingKey = signingKey(exportedSessionKey, direction);
    this.#handle = new Rc4(sealingKey(exportedSessionKey, flags, direction));
    this.#sealChecksum = hasFlag(flags, NegotiateFlags.KEY_EXCH);
  }

  /** MS-NLMP 3.4.4.2: Version 1, HMAC_MD5(SigningKey, SeqNum || Message)[0..7], RC4-sealed with KEY_EXCH, SeqNum. */
  mac(message: Uint8Array): Buffer {
    const seq = Buffer.alloc(4);
    seq.writeUInt32LE(this.#sequence);
    let checksum = hmacMd5(this.#signingKey, seq, message).subarray(0, 8);
    if (this.#sealChecksum) checksum = this.#handle.update(checksum);
    this.#sequence = (this.#sequence + 1) >>> 0;
    const version = Buffer.alloc(4);
    version.writeUInt32LE(1);
    return Buffer.concat([version, checksum, seq]);
  }

  crypt(data: Uint8Array): Buffer {
    return this.#handle.update(data);
  }
}

export interface SealedMessage {
  readonly message: Buffer;
  readonly signature: Buffer;
}

/**
 * A context's two directions. The client sends with the client-to-server keys and
 * checks with the server-to-client keys; a server (or a test playing one) the reverse.
 */
export class NtlmSessionSecurity {
  readonly #outbound: DirectionState;
  readonly #inbound: DirectionState;

  constructor(exportedSessionKey: Buffer, flags: number, role: 'client' | 'server') {
    if (!hasFlag(flags, NegotiateFlags.EXTENDED_SESSIONSECURITY)) {
      throw new RangeError('NTLM session security is implemented only with extended session security');
    }
    const [send, receive]: [Direction, Direction] =
      role === 'client' ? ['client-to-server', 'server-to-client'] : ['server-to-client', 'client-to-server'];
    this.#outbound = new DirectionState(exportedSessionKey, flags, send);
    this.#inbound = new DirectionState(exportedSessionKey, flags, receive);
  }

  /** GSS_GetMIC: the 16-byte NTLMSSP_MESSAGE_SIGNATURE of `message`. */
  sign(message: Uint8Array): Buffer {
    return this.#outbound.mac(message);
  }

  /** GSS_VerifyMIC: consumes one inbound sequence number whatever the outcome. */
  verify(message: Uint8Array, signature: Uint8Array): boolean {
    const expected = this.#inbound.mac(message);
    return signature.length === expected.length && timingSafeEqual(expected, signature);
  }

  /** GSS_WrapEx (MS-NLMP 3.4.3): RC4 the message, then sign the plaintext with the same handle. */
  seal(message: Uint8Array): SealedMessage {
    const sealed = this.#outbound.crypt(message);
    return { message: sealed, signature: this.#outbound.mac(message) };
  }

  /** GSS_UnwrapEx; returns undefined when the signature does not match. */
  unseal(sealed: Uint8Array, signature: Uint8Array): Buffer | undefined {
    const message = this.#inbound.crypt(sealed);
    const expected = this.#inbound.mac(message);
    return signature.length === expected.length && timingSafeEqual(expected, signature) ? message : undefined;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'NtlmSessionSecurity {}';
  }
}
