/**
 * Deliberate faults, for tests that prove a harness (or the client's own checks) notices a
 * broken client. Not part of the public API (index.ts does not export it): a test imports this
 * module by path and attaches a FaultHook to the options of SmbClient.connect with
 * withFaults(). Without a hook nothing here runs: the connection tests one field per message.
 *
 * A hook sees, and may replace:
 * - outgoingMessage: each message the client composes, in the clear, header and body (with
 *   its padding when it is an element of a compound chain), before it is signed or encrypted;
 *   signing and encryption then apply to the returned bytes.
 * - outgoingFrame: each SMB message after protection (signed, or sealed in a TRANSFORM
 *   message), as it goes to the transport, without the 4-byte Direct TCP header (the transport
 *   frames what is returned); null drops it.
 * - incomingFrame: each received SMB message before the client reads it (still encrypted when
 *   it came encrypted), without the 4-byte header; null drops it. With this set, every frame is
 *   received whole (no READ data received in place).
 * Faults that are not message edits are named switches (FaultSwitches) and `keys`, which sees
 * a session's keys once derived and may replace them.
 */
import { PreauthIntegrityHash, deriveSessionKeys, smb3Kdf, truncatedSessionKey } from './crypto/index.js';
import type { SessionKeyInputs, SessionKeys, SignatureOptions } from './crypto/index.js';
import { Capability } from './wire/index.js';

/** What an outgoing message is and how the client protects it. */
export interface OutgoingMessageContext {
  /** e.g. 'TREE_CONNECT' */
  readonly command: string;
  readonly commandCode: number;
  /** The message's place in its compound chain (0 of 1 when alone). */
  readonly index: number;
  readonly count: number;
  readonly sessionId: bigint;
  /** The message is signed after the hook (the SIGNED flag is already set in its header). */
  readonly signed: boolean;
  /** The message is sealed in a TRANSFORM message after the hook. */
  readonly encrypted: boolean;
  /** The connection's dialect ('3.1.1'); undefined before NEGOTIATE completed. */
  readonly dialect: string | undefined;
}

/** What a frame going to or coming from the socket is. */
export interface FrameContext {
  /** Outgoing: the first message's command; incoming: undefined when the frame is encrypted. */
  readonly command: string | undefined;
  /** A TRANSFORM message (encrypted). */
  readonly encrypted: boolean;
  /** Outgoing: its messages are signed. Incoming: undefined (the client has not looked yet). */
  readonly signed: boolean | undefined;
  readonly dialect: string | undefined;
}

/** Faults in the client's own logic (key schedule, negotiation), by name. */
export interface FaultSwitches {
  /**
   * Leave SMB2_GLOBAL_CAP_ENCRYPTION out of NEGOTIATE (3.0/3.0.2) yet encrypt with AES-128-CCM
   * as if the server had negotiated it (a client from the field did).
   */
  omitEncryptionCapability?: boolean;
  /** Derive the signing key (SMB 3.x) with this KDF label instead of the dialect's, e.g. 3.0's 'SMB2AESCMAC\0' on 3.1.1. */
  signingKeyLabel?: string;
  /** AES-GMAC signing: set the role bit of the server in the nonce of the client's requests. */
  gmacNonceAsServer?: boolean;
  /** 3.1.1: start the sessions' preauth integrity hash without the NEGOTIATE exchange. */
  preauthHashSkipsNegotiate?: boolean;
  /** SMB 3.x: encrypt with the server-to-client key and decrypt with the client-to-server one. */
  swapCipherKeys?: boolean;
}

export interface KeysContext {
  readonly sessionId: bigint;
  readonly dialect: string;
  /** What the keys were derived from; derive() again with changed inputs for a key of another schedule. */
  readonly inputs: SessionKeyInputs;
}

export interface FaultHook {
  /** Return bytes to send instead of `message` (the same buffer, edited, is fine). */
  outgoingMessage?(message: Buffer, context: OutgoingMessageContext): Buffer | undefined | void;
  /** Return bytes to send instead of `frame`, or null to send nothing. */
  outgoingFrame?(frame: Buffer, context: FrameContext): Buffer | null | undefined | void;
  /** Return bytes to receive instead of `frame`, or null to act as if it never arrived. */
  incomingFrame?(frame: Buffer, context: FrameContext): Buffer | null | undefined | void;
  /** A session's keys once derived (after the switches); return keys to use instead. */
  keys?(keys: SessionKeys, context: KeysContext): SessionKeys | undefined | void;
  switches?: FaultSwitches;
}

const FAULTS = Symbol('smb-interop.faults');

/** `options` with `hook` attached (a copy; the hook travels through object spreads). */
export function withFaults<T extends object>(options: T, hook: FaultHook | undefined): T {
  return hook === undefined ? options : { ...options, [FAULTS]: hook };
}

/** The hook withFaults() attached to `options`, if any. */
export function faultsOf(options: object): FaultHook | undefined {
  return (options as { [FAULTS]?: FaultHook })[FAULTS];
}

/** One hook doing what each of `hooks` does, in order (message edits chain; switches merge). */
export function combineFaults(...hooks: readonly FaultHook[]): FaultHook {
  const all = <K extends 'outgoingMessage' | 'outgoingFrame' | 'incomingFrame' | 'keys'>(name: K) => hooks.filter((h) => h[name] !== undefined);
  const combined: FaultHook = { switches: Object.assign({}, ...hooks.map((h) => h.switches ?? {})) as FaultSwitches };
  const messages = all('outgoingMessage');
  if (messages.length > 0) combined.outgoingMessage = (message, context) => messages.reduce((m, h) => h.outgoingMessage!(m, context) ?? m, message);
  for (const name of ['outgoingFrame', 'incomingFrame'] as const) {
    const frames = all(name);
    if (frames.length === 0) continue;
    combined[name] = (frame, context) => {
      let current: Buffer | null = frame;
      for (const h of frames) {
        if (current === null) return null;
        const next: Buffer | null | undefined | void = h[name]!(current, context);
        if (next !== undefined) current = next;
      }
      return current;
    };
  }
  const keys = all('keys');
  if (keys.length > 0) combined.keys = (derived, context) => keys.reduce((k, h) => h.keys!(k, context) ?? k, derived);
  return combined;
}

/** The faults the harness's self-check names (SMB_INTEROP_TEST_FAULTS). */
export const NAMED_FAULTS = {
  omitEncryptionCapability: { switches: { omitEncryptionCapability: true } },
  /** Zero the SessionId of the SMB2 header inside encrypted messages (the TRANSFORM header keeps it). */
  zeroInnerSessionIdWhenEncrypting: {
    outgoingMessage(message: Buffer, context: OutgoingMessageContext) {
      if (context.encrypted) message.writeBigUInt64LE(0n, 40);
    },
  },
} as const satisfies Record<string, FaultHook>;

export type FaultName = keyof typeof NAMED_FAULTS;
export const FAULT_NAMES = Object.keys(NAMED_FAULTS) as FaultName[];
/** Named faults, each on when true. */
export type NamedFaults = Partial<Record<FaultName, boolean>>;

/** The hook for `named` (undefined when none is on). */
export function namedFaults(named: NamedFaults | undefined): FaultHook | undefined {
  const on = FAULT_NAMES.filter((name) => named?.[name] === true);
  return on.length === 0 ? undefined : combineFaults(...on.map((name) => NAMED_FAULTS[name] as FaultHook));
}

// What the client's modules call. Each is reached only when a hook is attached.

/** The outgoingMessage edit of a chain's messages (what each is), or undefined when the hook has none. */
export function messageEdit(
  faults: FaultHook,
  messages: ReadonlyArray<{ command: string; commandCode: number; sessionId: bigint }>,
  protection: { signed: boolean; encrypted: boolean; dialect: string | undefined },
): ((message: Buffer, index: number) => Buffer) | undefined {
  const hook = faults.outgoingMessage;
  if (hook === undefined) return undefined;
  return (message, index) => hook(message, { ...messages[index]!, index, count: messages.length, ...protection }) ?? message;
}

/** NEGOTIATE capabilities as the switches make them. */
export function offeredCapabilities(faults: FaultHook | undefined, capabilities: number): number {
  return faults?.switches?.omitEncryptionCapability === true ? capabilities & ~Capability.Encryption : capabilities;
}

/** The connection's preauth hash after NEGOTIATE, as the switches make it. */
export function negotiatePreauthHash(faults: FaultHook | undefined, request: Buffer, response: Buffer): PreauthIntegrityHash {
  const initial = PreauthIntegrityHash.initial();
  return faults?.switches?.preauthHashSkipsNegotiate === true ? initial : initial.update(request).update(response);
}

/** A session's keys: derived, then changed by the switches and `keys`. */
export function sessionKeys(faults: FaultHook | undefined, inputs: SessionKeyInputs, context: { sessionId: bigint; dialect: string }): SessionKeys {
  const derived = deriveSessionKeys(inputs);
  if (faults === undefined) return derived;
  let keys = derived;
  const switches = faults.switches ?? {};
  if (switches.signingKeyLabel !== undefined && derived.encryptionKey !== undefined) {
    const context311 = inputs.preauthIntegrityHash ?? 'SmbSign\0';
    keys = { ...keys, signingKey: smb3Kdf(truncatedSessionKey(inputs.sessionKey), switches.signingKeyLabel, context311, 128) };
  }
  if (switches.swapCipherKeys === true) keys = { ...keys, encryptionKey: keys.decryptionKey, decryptionKey: keys.encryptionKey };
  return faults.keys?.(keys, { ...context, inputs }) ?? keys;
}

/** Signature options for the client's requests, as the switches make them. */
export function requestSignatureOptions(faults: FaultHook | undefined): SignatureOptions | undefined {
  return faults?.switches?.gmacNonceAsServer === true ? { isServer: true } : undefined;
}
