/**
 * SMB2 message signatures (MS-SMB2 3.1.4.1 signing, 3.1.5.1 verifying): HMAC-SHA256 for
 * 2.0.2 and 2.1, AES-128-CMAC for 3.x, AES-128-GMAC when 3.1.1 negotiated it. The MAC runs
 * over the whole message with the Signature field (header bytes 48..63) taken as zero,
 * without copying or modifying the message.
 */
import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { ProtocolError } from '../errors.js';
import { SigningAlgorithm, signingAlgorithmName } from './algorithms.js';
import { AesCmac } from './cmac.js';

export const SMB2_HEADER_BYTES = 64;
export const SIGNATURE_OFFSET = 48;
export const SIGNATURE_BYTES = 16;

// MS-SMB2 2.2.1: header field offsets and values the GMAC nonce depends on.
const COMMAND_OFFSET = 12;
const FLAGS_OFFSET = 16;
const MESSAGE_ID_OFFSET = 24;
const SMB2_FLAGS_SERVER_TO_REDIR = 0x00000001;
const SMB2_CANCEL = 0x000c;

const GMAC_NONCE_BYTES = 12;
const AES_128_KEY_BYTES = 16;
const ZERO_SIGNATURE = Buffer.alloc(SIGNATURE_BYTES);

export interface SignatureOptions {
  /**
   * Whether the sender of the message is the server. Only AES-GMAC uses it (nonce role bit).
   * Defaults to the SMB2_FLAGS_SERVER_TO_REDIR bit of the message's header.
   */
  isServer?: boolean;
  /**
   * Whether the message is an SMB2 CANCEL request (AES-GMAC nonce). Defaults to what the
   * header says: Command CANCEL sent by the client.
   */
  isCancel?: boolean;
}

function requireHeader(message: Buffer): void {
  if (message.length < SMB2_HEADER_BYTES) {
    throw new ProtocolError(
      `cannot sign or verify ${String(message.length)} bytes: an SMB2 message has a ${String(SMB2_HEADER_BYTES)}-byte header`,
      { field: 'SMB2 header' },
    );
  }
}

function requireKey(algorithm: SigningAlgorithm, key: Buffer): void {
  const needs16 = algorithm !== SigningAlgorithm.HmacSha256;
  if (needs16 ? key.length !== AES_128_KEY_BYTES : key.length === 0) {
    throw new ProtocolError(
      `${signingAlgorithmName(algorithm)} signing key has ${String(key.length)} bytes${needs16 ? ', needs 16' : ''}`,
      { field: 'SigningKey' },
    );
  }
}

/** The message as the MAC sees it: header with a zero Signature field, then the rest. */
function macInput(message: Buffer): [Buffer, Buffer, Buffer] {
  return [
    message.subarray(0, SIGNATURE_OFFSET),
    ZERO_SIGNATURE,
    message.subarray(SIGNATURE_OFFSET + SIGNATURE_BYTES),
  ];
}

// MS-SMB2 3.1.4.1: MessageId (8 bytes), then 4 bytes whose least significant bit is the role
// (1 = server) and whose next bit marks a CANCEL request; the remaining 30 bits are zero.
export function gmacSigningNonce(message: Buffer, options: SignatureOptions = {}): Buffer {
  requireHeader(message);
  const isServer = options.isServer ?? (message.readUInt32LE(FLAGS_OFFSET) & SMB2_FLAGS_SERVER_TO_REDIR) !== 0;
  const isCancel = options.isCancel ?? (!isServer && message.readUInt16LE(COMMAND_OFFSET) === SMB2_CANCEL);
  const nonce = Buffer.alloc(GMAC_NONCE_BYTES);
  message.copy(nonce, 0, MESSAGE_ID_OFFSET, MESSAGE_ID_OFFSET + 8);
  nonce.writeUInt32LE((isServer ? 0b01 : 0) | (isCancel ? 0b10 : 0), 8);
  return nonce;
}

/** A MAC over a message given in pieces. */
interface Mac {
  update(part: Buffer): void;
  /** The 16-byte signature. */
  digest(): Buffer;
}

// RFC 4543: GMAC is GCM with everything as additional authenticated data and no plaintext.
function macOf(algorithm: SigningAlgorithm, key: Buffer, header: Buffer, options: SignatureOptions): Mac {
  switch (algorithm) {
    case SigningAlgorithm.HmacSha256: {
      const hmac = createHmac('sha256', key);
      return { update: (part) => { hmac.update(part); }, digest: () => hmac.digest().subarray(0, SIGNATURE_BYTES) };
    }
    case SigningAlgorithm.AesCmac: {
      const cmac = new AesCmac(key);
      return { update: (part) => { cmac.update(part); }, digest: () => cmac.digest() };
    }
    case SigningAlgorithm.AesGmac: {
      const gcm = createCipheriv('aes-128-gcm', key, gmacSigningNonce(header, options), { authTagLength: SIGNATURE_BYTES });
      return { update: (part) => { gcm.setAAD(part); }, digest: () => { gcm.final(); return gcm.getAuthTag(); } };
    }
    default:
      throw new ProtocolError(`cannot sign with ${signingAlgorithmName(algorithm)}`, {
        field: 'SigningAlgorithmId',
      });
  }
}

/** The 16-byte signature of a whole SMB2 message (one message of a compound, with its padding). */
export function signMessage(
  algorithm: SigningAlgorithm,
  key: Buffer,
  message: Buffer,
  options: SignatureOptions = {},
): Buffer {
  requireHeader(message);
  requireKey(algorithm, key);
  const mac = macOf(algorithm, key, message, options);
  for (const part of macInput(message)) mac.update(part);
  return mac.digest();
}

/** Verification of a received message whose bytes after its start arrive in pieces. */
export interface SignatureCheck {
  /** The next bytes of the message. */
  update(part: Buffer): void;
  /** Whether the Signature field in the start holds the right signature; compared in constant time. */
  verify(): boolean;
}

/**
 * Starts verifying a message from its first bytes (`head`, at least the 64-byte header); the
 * rest follows through update(). Same result as verifyMessageSignature over the whole message.
 */
export function openSignatureCheck(algorithm: SigningAlgorithm, key: Buffer, head: Buffer, options: SignatureOptions = {}): SignatureCheck {
  requireHeader(head);
  requireKey(algorithm, key);
  const mac = macOf(algorithm, key, head, options);
  for (const part of macInput(head)) mac.update(part);
  const received = Buffer.from(head.subarray(SIGNATURE_OFFSET, SIGNATURE_OFFSET + SIGNATURE_BYTES));
  return { update: (part) => mac.update(part), verify: () => timingSafeEqual(mac.digest(), received) };
}

/** Writes the signature into header bytes 48..63 and changes nothing else (not even Flags). */
export function applySignature(
  message: Buffer,
  algorithm: SigningAlgorithm,
  key: Buffer,
  options: SignatureOptions = {},
): Buffer {
  const signature = signMessage(algorithm, key, message, options);
  signature.copy(message, SIGNATURE_OFFSET);
  return signature;
}

/** Whether the Signature field holds the right signature; compared in constant time. */
export function verifyMessageSignature(
  algorithm: SigningAlgorithm,
  key: Buffer,
  message: Buffer,
  options: SignatureOptions = {},
): boolean {
  const expected = signMessage(algorithm, key, message, options);
  const received = message.subarray(SIGNATURE_OFFSET, SIGNATURE_OFFSET + SIGNATURE_BYTES);
  return timingSafeEqual(expected, received);
}
