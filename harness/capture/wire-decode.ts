/**
 * Any client's capture, decoded and decrypted by the harness itself with the keys the server
 * logged: every SMB2 message of every connection in the clear, with its header, whether it
 * travelled encrypted, and whether its signature verifies. Nothing here asks the client what it
 * did, so the same checks judge every client. All four ciphers, AES-256 included.
 */
import { Cipher, SigningAlgorithm, cipherName, decryptMessage, isCipher, isSigningAlgorithm, parseTransformHeader, verifyMessageSignature } from '../../clients/smb/crypto/index.js';
import type { SmbMessageEvent } from '../../clients/smb/observer.js';
import { messageEvent } from '../../clients/smb/observer.js';
import { Capability, Dialect, SMB2_HEADER_SIZE, decodeNegotiateResponse, findContext } from '../../clients/smb/wire/index.js';
import type { NegotiateResponse } from '../../clients/smb/wire/index.js';
import type { WireFrame } from '../pcap-reader.js';
import { formatSessionId } from './keys.js';
import type { ServerSessionKeys } from '../../servers/samba/server-keys.js';

/** How a message's signature fared against the session's signing key. */
export type SignatureCheck =
  /** SMB2_FLAGS_SIGNED set and the signature verifies. */
  | 'valid'
  /** SMB2_FLAGS_SIGNED set and the signature does not verify with the session's key. */
  | 'invalid'
  /** The flag is not set (encrypted messages are never signed as well). */
  | 'unsigned'
  /** The flag is set but the server logged no keys for the session (SMB 2.x, a remote target). */
  | 'no-key';

export interface WireMessage {
  /** 1-based, in capture order over all connections. */
  index: number;
  /** 1-based connection number, in order of first appearance. */
  connection: number;
  /** 0-based index of the frame (NetBIOS message) among the capture's frames. */
  frame: number;
  direction: 'send' | 'receive';
  /** Inside a TRANSFORM_HEADER, decrypted with the server's keys. */
  encrypted: boolean;
  /**
   * For encrypted messages: the transform header's SessionId and nonce (the bytes the cipher
   * used), and the cipher whose authentication tag verified (the one the server logged for the
   * session, or where it logs none the one the connection's NEGOTIATE settled).
   */
  transform?: { sessionId: bigint; nonce: Buffer; cipher: string };
  /** Header fields of the clear message (time is the order of capture, not a clock). */
  header: SmbMessageEvent;
  signature: SignatureCheck;
  /** The clear message: header and body, one piece of a compound. */
  bytes: Buffer;
}

/** A frame the harness could not read: undecryptable, truncated, or not SMB2. */
export interface WireProblem {
  connection: number;
  frame: number;
  direction: 'send' | 'receive';
  problem: string;
}

export interface DecodedWire {
  messages: WireMessage[];
  problems: WireProblem[];
}

const SMB2_PROTOCOL_ID = 0x424d53fe;
const TRANSFORM_PROTOCOL_ID = 0x424d53fd;
const COMPRESSION_PROTOCOL_ID = 0x424d53fc;
const NEXT_COMMAND_OFFSET = 20;
const RELATED_FLAG = 0x00000004;
const ALL_ONES = 0xffffffffffffffffn;

/** Splits a clear frame into its compound's messages (MS-SMB2 3.2.4.1.4: NextCommand offsets, 8-byte aligned). */
function compoundPieces(frame: Buffer): { pieces: Buffer[]; problem?: string } {
  const pieces: Buffer[] = [];
  let offset = 0;
  for (;;) {
    if (frame.length - offset < SMB2_HEADER_SIZE) return { pieces, problem: `a ${frame.length - offset}-byte message at offset ${offset} is shorter than the SMB2 header` };
    if (frame.readUInt32LE(offset) !== SMB2_PROTOCOL_ID) return { pieces, problem: `ProtocolId 0x${frame.readUInt32LE(offset).toString(16)} at offset ${offset} is not SMB2` };
    const next = frame.readUInt32LE(offset + NEXT_COMMAND_OFFSET);
    if (next === 0) {
      pieces.push(frame.subarray(offset));
      return { pieces };
    }
    if (next < SMB2_HEADER_SIZE || offset + next > frame.length) return { pieces, problem: `NextCommand ${next} at offset ${offset} leaves the ${frame.length}-byte frame` };
    pieces.push(frame.subarray(offset, offset + next));
    offset += next;
  }
}

/**
 * The cipher id a NEGOTIATE response settles (MS-SMB2 3.2.5.2): 3.1.1 the ENCRYPTION context's
 * choice, 3.0 and 3.0.2 AES-128-CCM when the server offers encryption; undefined for none.
 */
export function settledCipher(response: NegotiateResponse): number | undefined {
  // 2.x, and the wildcard 0x02FF answering a multi-protocol SMB1 NEGOTIATE: no cipher.
  if (response.dialectRevision < Dialect.Smb300) return undefined;
  if (response.dialectRevision !== Dialect.Smb311) return (response.capabilities & Capability.Encryption) !== 0 ? Cipher.Aes128Ccm : undefined;
  const chosen = findContext(response.negotiateContexts, 'encryption')?.ciphers[0];
  return chosen === undefined || chosen === 0 ? undefined : chosen;
}

/** The cipher of a NEGOTIATE response's bytes that this decoder can open, if any. */
function negotiatedCipher(bytes: Buffer): Cipher | undefined {
  try {
    const cipher = settledCipher(decodeNegotiateResponse(bytes));
    return cipher !== undefined && isCipher(cipher) ? (cipher as Cipher) : undefined;
  } catch {
    return undefined;
  }
}

function checkSignature(bytes: Buffer, header: SmbMessageEvent, keys: ServerSessionKeys | undefined): SignatureCheck {
  if (!header.signed) return 'unsigned';
  if (keys === undefined || keys.signingAlgorithm === undefined || !isSigningAlgorithm(keys.signingAlgorithm)) return 'no-key';
  return verifyMessageSignature(keys.signingAlgorithm as SigningAlgorithm, keys.signingKey, bytes) ? 'valid' : 'invalid';
}

/**
 * Decodes the frames of a capture (`readWireFrames`) with the sessions' keys from the server's
 * log (`parseServerKeys`). A frame that cannot be read becomes a problem naming why; the rest
 * of the capture is still decoded.
 */
export function decodeWire(frames: readonly WireFrame[], keys: readonly ServerSessionKeys[]): DecodedWire {
  const keysById = new Map(keys.map((k) => [k.sessionId, k]));
  const connections = new Map<number, number>();
  /** Per connection, the cipher its NEGOTIATE settled: for sessions whose server logged none. */
  const settled = new Map<number, Cipher>();
  const messages: WireMessage[] = [];
  const problems: WireProblem[] = [];
  frames.forEach((frame, frameIndex) => {
    let connection = connections.get(frame.clientPort);
    if (connection === undefined) {
      connection = connections.size + 1;
      connections.set(frame.clientPort, connection);
    }
    const where = { connection, frame: frameIndex, direction: frame.direction };
    const problem = (text: string) => problems.push({ ...where, problem: text });
    if (frame.bytes.length < 4) return problem(`a ${frame.bytes.length}-byte frame`);
    const protocol = frame.bytes.readUInt32LE(0);
    let clear = frame.bytes;
    let transform: WireMessage['transform'];
    if (protocol === COMPRESSION_PROTOCOL_ID) return problem('a compressed message (SMB2 COMPRESSION_TRANSFORM_HEADER): not decoded');
    if (protocol === TRANSFORM_PROTOCOL_ID) {
      let sessionId: bigint;
      try {
        sessionId = parseTransformHeader(frame.bytes).sessionId;
      } catch (error) {
        return problem((error as Error).message);
      }
      const session = keysById.get(sessionId);
      const key = frame.direction === 'send' ? session?.serverInKey : session?.serverOutKey;
      const keyName = frame.direction === 'send' ? 'ServerIn' : 'ServerOut';
      if (session === undefined) return problem(`encrypted for session ${formatSessionId(sessionId)}, for which the server logged no keys`);
      if (key === undefined) return problem(`encrypted for session ${formatSessionId(sessionId)}, which the server logged without a cipher key`);
      // smbd 4.23+ logs no cipher: the connection's NEGOTIATE says it, and the tag proves it.
      const cipher = session.cipher !== undefined && session.cipher !== 0 ? session.cipher : settled.get(connection);
      if (cipher === undefined || !isCipher(cipher)) return problem(`encrypted for session ${formatSessionId(sessionId)}, but neither the server's log nor the connection's NEGOTIATE names a cipher`);
      try {
        const opened = decryptMessage({ cipher: cipher as Cipher, key, frame: Buffer.from(frame.bytes) });
        clear = opened.message;
        transform = { sessionId, nonce: opened.nonce, cipher: cipherName(cipher) };
      } catch (error) {
        return problem(`does not decrypt with session ${formatSessionId(sessionId)}'s ${keyName} key (${cipherName(cipher)}${session.cipher === undefined ? ', the NEGOTIATE\'s cipher: the server logged none' : ''}): ${(error as Error).message}`);
      }
    } else if (protocol !== SMB2_PROTOCOL_ID) {
      return problem(`ProtocolId 0x${protocol.toString(16)} is not SMB2 (an SMB1 negotiate or another protocol)`);
    }
    const { pieces, problem: split } = compoundPieces(clear);
    let compoundSession: bigint | undefined;
    for (const bytes of pieces) {
      const header = messageEvent(frame.direction, bytes, transform !== undefined);
      if (header.command === 'NEGOTIATE' && frame.direction === 'receive' && header.status === 0) {
        const cipher = negotiatedCipher(bytes);
        if (cipher === undefined) settled.delete(connection);
        else settled.set(connection, cipher);
      }
      header.time = messages.length;
      // MS-SMB2 3.2.4.1.4: a related request may carry SessionId 0xFFFFFFFFFFFFFFFF, meaning the previous one's.
      const related = (header.flags & RELATED_FLAG) !== 0 && header.sessionId === ALL_ONES;
      compoundSession = related ? compoundSession : header.sessionId;
      messages.push({
        index: messages.length + 1,
        ...where,
        encrypted: transform !== undefined,
        ...(transform === undefined ? {} : { transform }),
        header,
        signature: checkSignature(bytes, header, compoundSession === undefined ? undefined : keysById.get(compoundSession)),
        bytes,
      });
    }
    if (split !== undefined) problem(split);
  });
  return { messages, problems };
}

const NEGOTIATE = 0x0000;
const SESSION_SETUP = 0x0001;
const SESSION_FLAG_IS_GUEST_OR_NULL = 0x0003;
const FIRST_SMB3_DIALECT = 0x0300;

/**
 * The sessions of a capture the server must have logged keys for: each a final SESSION_SETUP
 * answered STATUS_SUCCESS, neither guest nor anonymous, on a connection that negotiated SMB 3
 * (smbd logs no keys for 2.x sessions). Read from the clear frames; nothing here needs a key.
 */
export function sessionsExpectingKeys(frames: readonly WireFrame[]): bigint[] {
  const dialects = new Map<number, number>();
  const sessions = new Set<bigint>();
  for (const frame of frames) {
    const bytes = frame.bytes;
    if (frame.direction !== 'receive' || bytes.length < SMB2_HEADER_SIZE + 4 || bytes.readUInt32LE(0) !== SMB2_PROTOCOL_ID) continue;
    const status = bytes.readUInt32LE(8);
    const command = bytes.readUInt16LE(12);
    if (status !== 0) continue;
    if (command === NEGOTIATE && bytes.length >= SMB2_HEADER_SIZE + 6) dialects.set(frame.clientPort, bytes.readUInt16LE(SMB2_HEADER_SIZE + 4));
    if (command !== SESSION_SETUP || (dialects.get(frame.clientPort) ?? 0) < FIRST_SMB3_DIALECT) continue;
    if ((bytes.readUInt16LE(SMB2_HEADER_SIZE + 2) & SESSION_FLAG_IS_GUEST_OR_NULL) !== 0) continue;
    sessions.add(bytes.readBigUInt64LE(40));
  }
  return [...sessions];
}

/** smbd's log travels apart from the wire: on a loaded machine its key dump may trail the session by seconds. */
const SERVER_KEYS_WAIT_MS = 5_000;

/**
 * The server's keys for the capture's sessions. smbd's log travels apart from the wire and may
 * trail it by a moment, so this waits (up to `timeoutMs`) until every session that must have
 * keys (`sessionsExpectingKeys`) has them; past the wait it returns what there is and the
 * decode names the sessions still without keys.
 */
export async function serverKeysFor(frames: readonly WireFrame[], keys: () => ServerSessionKeys[], timeoutMs = SERVER_KEYS_WAIT_MS): Promise<ServerSessionKeys[]> {
  const wanted = sessionsExpectingKeys(frames);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const have = keys();
    const known = new Set(have.map((k) => k.sessionId));
    if (wanted.every((id) => known.has(id)) || Date.now() >= deadline) return have;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A capture decoded with the server's keys for its sessions (`serverKeysFor`: waiting for keys
 * that trail the wire), and those keys; `sessionKeys` undefined: the target logs none.
 */
export async function decodeWithServerKeys(frames: readonly WireFrame[], sessionKeys: (() => ServerSessionKeys[]) | undefined): Promise<{ keys: ServerSessionKeys[] | undefined; wire: DecodedWire }> {
  const keys = sessionKeys === undefined ? undefined : await serverKeysFor(frames, sessionKeys);
  return { keys, wire: decodeWire(frames, keys ?? []) };
}
