/**
 * Protection of the messages of registered sessions: signing requests and verifying response
 * signatures (MS-SMB2 3.2.4.1.1, 3.2.5.1.3), sealing requests in TRANSFORM messages and opening
 * the ones that arrive (3.2.4.1.8, 3.2.5.1.1.1). Pure over the session's keys; the connection
 * decides what is protected how.
 */
import { decryptMessage, encryptMessageInto, encryptMessageVector, parseTransformHeader, verifyMessageSignature } from './crypto/index.js';
import { SecurityError } from './errors.js';
import { requestSignatureOptions } from './faults.js';
import type { FaultHook } from './faults.js';
import type { Signer } from './outgoing.js';
import { formatSessionId, signerOf } from './requests.js';
import type { Outstanding, SessionSecurity } from './requests.js';
import type { SendBuffers } from './send-buffers.js';
import { Command, HeaderFlag, classifyMessage } from './wire/index.js';
import type { Header } from './wire/index.js';

export type Sessions = ReadonlyMap<bigint, SessionSecurity>;

/** How requests of `security` are signed (faults may change the GMAC nonce's role bit). */
export function requestSigner(security: SessionSecurity | undefined, faults: FaultHook | undefined): Signer | undefined {
  const signer = signerOf(security);
  return faults === undefined || signer === undefined ? signer : { ...signer, options: requestSignatureOptions(faults) };
}

/** A frame to send, and what to call once the socket has taken it. */
export interface SealedFrame {
  parts: Buffer[];
  written: (() => void) | undefined;
}

/**
 * A clear message (whole or in parts) sealed in a TRANSFORM message for `security`. With the
 * native AEAD and `buffers`, sealed into a frame of `buffers` that goes back to them once sent.
 */
export function seal(parts: readonly Buffer[], security: SessionSecurity, command: string, buffers?: SendBuffers): SealedFrame {
  const { cipher, encryptionKey, nonces, sessionId } = security;
  if (cipher === undefined || encryptionKey === undefined || nonces === undefined) {
    throw new SecurityError(`cannot encrypt ${command}: the session ${formatSessionId(sessionId)} has no encryption key`);
  }
  const input = { cipher, key: encryptionKey, sessionId, nonce: nonces.next(), message: parts };
  if (buffers !== undefined) {
    const frame = encryptMessageInto(input, (length) => buffers.take(length));
    if (frame !== undefined) return { parts: [frame], written: () => buffers.give(frame) };
  }
  const sealed = encryptMessageVector(input);
  return { parts: [sealed.header, ...sealed.ciphertext], written: undefined };
}

export interface OpenedFrame {
  /** The clear message (or compound chain). */
  message: Buffer;
  /** Nothing keeps a view of the frame: it was decrypted into new memory. */
  released: boolean;
  /** The TRANSFORM header's SessionId; undefined for a frame that came in the clear. */
  transformSessionId: bigint | undefined;
}

/** A received frame, decrypted (in place where it can be) when it is a TRANSFORM message. */
export function openFrame(frame: Buffer, sessions: Sessions): OpenedFrame {
  if (classifyMessage(frame) !== 'transform') return { message: frame, released: false, transformSessionId: undefined };
  const transformSessionId = parseTransformHeader(frame).sessionId;
  const security = sessions.get(transformSessionId);
  if (security?.cipher === undefined || security.decryptionKey === undefined) {
    throw new SecurityError(`encrypted message for session ${formatSessionId(transformSessionId)}, which has no decryption key`);
  }
  const opened = decryptMessage({ cipher: security.cipher, key: security.decryptionKey, frame, inPlace: true });
  // Decrypted into new memory, nothing keeps a view of the frame; in place, the message is the frame.
  return { message: opened.message, released: !opened.inPlace, transformSessionId };
}

/**
 * Whether a response is signed and verified with its session's key (false: unsigned, or no key
 * to verify with); a bad signature is a SecurityError.
 */
export function verifyResponse(sessions: Sessions, item: Outstanding, header: Header, message: Buffer): boolean {
  if ((header.flags & HeaderFlag.Signed) === 0) return false;
  // MS-SMB2 3.2.5.1.3: SESSION_SETUP takes the SessionId from the response, others from the request.
  const sessionId = header.command === Command.SessionSetup ? header.sessionId : item.options.sessionId ?? 0n;
  const security = sessions.get(sessionId);
  if (security?.signingKey === undefined) return false;
  if (!verifyMessageSignature(security.signingAlgorithm, security.signingKey, message)) {
    throw new SecurityError(
      `bad signature on ${item.command} response (message id ${header.messageId}, session ${formatSessionId(sessionId)})`,
      { command: item.command },
    );
  }
  return true;
}

/**
 * Why a final response cannot be accepted for `item` although its status may be fine: an
 * encrypted request answered in the clear, or an unsigned answer in a session that signs.
 */
export function unprotected(sessions: Sessions, item: Outstanding, encrypted: boolean, signatureVerified: boolean): string | undefined {
  if (item.encrypted && !encrypted) return 'an unencrypted response to an encrypted request';
  if (!encrypted && !signatureVerified && (item.signed || sessions.get(item.options.sessionId ?? 0n)?.signingRequired === true)) {
    return 'an unsigned response in a session that signs';
  }
  return undefined;
}
