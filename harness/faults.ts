/**
 * The harness's self-check faults: realistic one-spot protocol bugs of an SMB client, each made
 * with the client's generic fault hook (clients/smb/faults.ts) and switched on, for the cells of
 * one scenario only, by SMB_INTEROP_SELF_CHECK_FAULTS=name,name. Test-only: never on by default.
 * Each names the cells it must turn red, cells it must leave green, and what a red cell's
 * explanation must name (the field or the rule), so that self-check.ts can measure whether the
 * harness kills the bug and names its cause.
 */
import { combineFaults, namedFaults } from '../clients/smb/faults.js';
import type { FaultHook } from '../clients/smb/faults.js';
import { HeaderFlag, SMB2_HEADER_SIZE, decodeCreateRequest, decodeNegotiateRequest, encodeCreateRequest, encodeNegotiateRequest } from '../clients/smb/wire/index.js';
import type { NegotiateContext } from '../clients/smb/wire/index.js';
import { testFaultsFromEnv } from './options.js';

export const SELF_CHECK_AREAS = ['negotiate', 'auth', 'signing', 'encryption', 'credits', 'compound', 'directory listing', 'names'] as const;
export type SelfCheckArea = (typeof SELF_CHECK_AREAS)[number];

export interface SelfCheckFault {
  name: string;
  area: SelfCheckArea;
  /** The bug, as the client's author would describe it. */
  bug: string;
  /** The one scenario whose cells run with it (one scenario per fault, so faults run side by side). */
  scenario: string;
  /**
   * Targets on which the scenario's smb-ts cell must go red. A bug that breaks every target lists
   * two unlike ones: each red cell restarts its worker and target, which the self-check pays for.
   */
  red: readonly string[];
  /** Targets on which it must stay green: the bug does not touch what they negotiate. */
  green: readonly string[];
  /** What a red cell's explanation must name: the field or the rule. */
  cause: RegExp;
  /** The cause shows as a difference from another client that passed the scenario (the run includes one). */
  needsReference?: boolean;
  /** A fresh hook for one cell (some faults keep state across the cell's messages). */
  hook(): FaultHook;
}

const GCM = 'smb311-gcm@native';
const CCM = 'smb302-ccm@native';
const GMAC = 'smb311-signing-gmac@native';
const LEGACY = 'smb202-legacy@native';
/** The native targets the self-check runs on. */
export const SELF_CHECK_TARGETS = [GCM, CCM, GMAC, LEGACY] as const;

const CREDIT_CHARGE = 6;
const FLAGS = 16;
const NEXT_COMMAND = 20;
const MESSAGE_ID = 24;
const SESSION_ID = 40;
const SIGNATURE = 48;
const SIGNATURE_SIZE = 16;
const SESSION_SETUP_CODE = 0x0001;
/** QUERY_DIRECTORY request: StructureSize, FileInformationClass, Flags, FileIndex, FileId, FileNameOffset, FileNameLength, then OutputBufferLength. */
const QUERY_DIRECTORY_OUTPUT_LENGTH = SMB2_HEADER_SIZE + 28;
/** Beyond what any Samba offers as MaxTransactSize (8 MiB). */
const OVERSIZED_OUTPUT = 16 * 1024 * 1024;

/** `message` with another body; in a compound chain padded to 8 bytes with NextCommand set again (MS-SMB2 3.2.4.1.4). */
function withBody(message: Buffer, body: Buffer): Buffer {
  const out = Buffer.concat([message.subarray(0, SMB2_HEADER_SIZE), body]);
  if (message.readUInt32LE(NEXT_COMMAND) === 0) return out;
  const padded = Buffer.concat([out, Buffer.alloc((8 - (out.length % 8)) % 8)]);
  padded.writeUInt32LE(padded.length, NEXT_COMMAND);
  return padded;
}

/** A NEGOTIATE request without the negotiate contexts of `kind`. */
function negotiateWithout(kind: NegotiateContext['kind']): FaultHook {
  return {
    outgoingMessage(message, context) {
      if (context.command !== 'NEGOTIATE') return undefined;
      const request = decodeNegotiateRequest(message);
      if (request.negotiateContexts === undefined) return undefined;
      return withBody(message, encodeNegotiateRequest({ ...request, negotiateContexts: request.negotiateContexts.filter((c) => c.kind !== kind) }));
    },
  };
}

/** Every message of a frame (a compound chain): its offset. */
function messageOffsets(frame: Buffer): number[] {
  const offsets: number[] = [];
  for (let at = 0; at + SMB2_HEADER_SIZE <= frame.length;) {
    offsets.push(at);
    const next = frame.readUInt32LE(at + NEXT_COMMAND);
    if (next === 0) break;
    at += next;
  }
  return offsets;
}

export const SELF_CHECK_FAULTS: readonly SelfCheckFault[] = [
  {
    name: 'omitEncryptionCapability', area: 'negotiate', scenario: 'files/round-trip-empty',
    bug: 'NEGOTIATE on 3.0.x without SMB2_GLOBAL_CAP_ENCRYPTION, yet encrypting as if negotiated (the bug this project was born from)',
    // Samba refuses the session on 3.1.1 as well when the capability is missing and encryption is required.
    red: [CCM, GCM], green: [GMAC, LEGACY], cause: /Capabilities: [^;]*; reference: [^(]*ENCRYPTION|encryption-capability/, needsReference: true,
    hook: () => ({ switches: { omitEncryptionCapability: true } }),
  },
  {
    name: 'negotiateWithoutPreauthContext', area: 'negotiate', scenario: 'files/round-trip-small',
    bug: 'a 3.1.1 NEGOTIATE without the PREAUTH_INTEGRITY_CAPABILITIES context',
    red: [GCM, GMAC], green: [CCM, LEGACY], cause: /HashAlgorithms: absent/, needsReference: true,
    hook: () => negotiateWithout('preauthIntegrity'),
  },
  {
    name: 'negotiateWithoutSigningContext', area: 'negotiate', scenario: 'files/overwrite',
    bug: 'a 3.1.1 NEGOTIATE without the SIGNING_CAPABILITIES context, so the server falls back to AES-CMAC',
    red: [GCM, GMAC], green: [CCM, LEGACY], cause: /SigningAlgorithms: absent/, needsReference: true,
    hook: () => negotiateWithout('signing'),
  },
  {
    name: 'sessionSetupForgetsSessionId', area: 'auth', scenario: 'files/unlink',
    bug: 'the second SESSION_SETUP leg (NTLM AUTHENTICATE) sent with SessionId 0 instead of the one the server gave',
    red: [GCM, LEGACY], green: [], cause: /session-setup-continues/,
    hook: () => ({
      outgoingMessage(message, context) {
        if (context.command === 'SESSION_SETUP' && context.sessionId !== 0n) message.writeBigUInt64LE(0n, SESSION_ID);
      },
    }),
  },
  {
    name: 'gmacNonceAsServer', area: 'signing', scenario: 'files/not-found',
    bug: 'AES-GMAC request signatures computed with the server\'s role bit in the nonce',
    red: [GMAC], green: [GCM, CCM, LEGACY], cause: /signature-valid|signature does not verify/,
    hook: () => ({ switches: { gmacNonceAsServer: true } }),
  },
  {
    name: 'signingKeyLabel30', area: 'signing', scenario: 'files/invalid-name',
    bug: 'the 3.1.1 signing key derived with 3.0\'s KDF label SMB2AESCMAC instead of SMBSigningKey',
    red: [GCM, GMAC], green: [CCM, LEGACY], cause: /signing key/,
    hook: () => ({ switches: { signingKeyLabel: 'SMB2AESCMAC\0' } }),
  },
  {
    name: 'unsignedAfterSessionSetup', area: 'signing', scenario: 'dirs/mkdir-rmdir',
    bug: 'requests after SESSION_SETUP sent unsigned where the server requires signing',
    red: [GMAC], green: [GCM, CCM, LEGACY], cause: /signing-required/,
    hook: () => ({
      outgoingFrame(frame, context) {
        if (context.encrypted || context.signed !== true) return undefined;
        for (const at of messageOffsets(frame)) {
          if (frame.readUInt16LE(at + 12) === SESSION_SETUP_CODE) continue;
          frame.writeUInt32LE(frame.readUInt32LE(at + FLAGS) & ~HeaderFlag.Signed, at + FLAGS);
          frame.fill(0, at + SIGNATURE, at + SIGNATURE + SIGNATURE_SIZE);
        }
        return frame;
      },
    }),
  },
  {
    name: 'zeroInnerSessionIdWhenEncrypting', area: 'encryption', scenario: 'dirs/rename',
    bug: 'the SessionId of the SMB2 header inside encrypted messages zeroed (the transform header keeps it)',
    red: [CCM], green: [GMAC, LEGACY], cause: /encrypted-session-id|inner SessionId/,
    hook: () => ({
      outgoingMessage(message, context) {
        if (context.encrypted) message.writeBigUInt64LE(0n, SESSION_ID);
      },
    }),
  },
  {
    name: 'swapCipherKeys', area: 'encryption', scenario: 'dirs/rename-replace',
    bug: 'encrypting with the server-to-client key and decrypting with the client-to-server key',
    red: [GCM], green: [GMAC, LEGACY], cause: /does not decrypt|DECRYPTION_FAILED|could not decrypt/,
    hook: () => ({ switches: { swapCipherKeys: true } }),
  },
  {
    name: 'creditChargeOne', area: 'credits', scenario: 'files/round-trip-unaligned',
    bug: 'multi-credit READs and WRITEs charged one credit whatever their size',
    red: [GCM, GMAC], green: [LEGACY], cause: /credit-charge/,
    hook: () => ({
      outgoingMessage(message) {
        if (message.readUInt16LE(CREDIT_CHARGE) > 1) message.writeUInt16LE(1, CREDIT_CHARGE);
      },
    }),
  },
  {
    name: 'messageIdReused', area: 'credits', scenario: 'dirs/rmdir-not-empty',
    bug: 'the first CREATE sent with the MessageId of the request before it',
    red: [GMAC, LEGACY], green: [], cause: /message-id-unique/,
    hook: () => {
      let done = false;
      return {
        outgoingMessage(message, context) {
          if (done || context.command !== 'CREATE' || context.index !== 0) return;
          done = true;
          message.writeBigUInt64LE(message.readBigUInt64LE(MESSAGE_ID) - 1n, MESSAGE_ID);
        },
      };
    },
  },
  {
    name: 'compoundWithoutRelatedFlag', area: 'compound', scenario: 'dirs/mkdir-exists',
    bug: 'compounded requests after the first sent without SMB2_FLAGS_RELATED_OPERATIONS, though they use the previous FileId',
    red: [CCM, LEGACY], green: [], cause: /compound-related/,
    hook: () => ({
      outgoingMessage(message, context) {
        if (context.count > 1 && context.index > 0) message.writeUInt32LE(message.readUInt32LE(FLAGS) & ~HeaderFlag.RelatedOperations, FLAGS);
      },
    }),
  },
  {
    name: 'listingBeyondMaxTransact', area: 'directory listing', scenario: 'dirs/list-2000',
    bug: 'QUERY_DIRECTORY asks for a 16 MiB output buffer, ignoring the negotiated MaxTransactSize',
    red: [GCM, LEGACY], green: [], cause: /negotiated-sizes/,
    hook: () => ({
      outgoingMessage(message, context) {
        if (context.command === 'QUERY_DIRECTORY') message.writeUInt32LE(OVERSIZED_OUTPUT, QUERY_DIRECTORY_OUTPUT_LENGTH);
      },
    }),
  },
  {
    name: 'createNameLeadingBackslash', area: 'names', scenario: 'files/server-written',
    bug: 'CREATE names sent with a leading backslash (\\t-1\\file instead of t-1\\file)',
    red: [GMAC, CCM], green: [], cause: /create-name/,
    hook: () => ({
      outgoingMessage(message, context) {
        if (context.command !== 'CREATE') return undefined;
        const request = decodeCreateRequest(message);
        return request.name === '' ? undefined : withBody(message, encodeCreateRequest({ ...request, name: `\\${request.name}` }));
      },
    }),
  },
];

const VARIABLE = 'SMB_INTEROP_SELF_CHECK_FAULTS';

/** The catalog's faults that SMB_INTEROP_SELF_CHECK_FAULTS (a comma list of names) switches on. */
export function selfCheckFaultsFromEnv(env: NodeJS.ProcessEnv = process.env): SelfCheckFault[] {
  const raw = env[VARIABLE]?.trim();
  if (!raw) return [];
  return raw.split(',').map((s) => s.trim()).filter(Boolean).map((name) => {
    const fault = SELF_CHECK_FAULTS.find((f) => f.name === name);
    if (fault === undefined) throw new Error(`${VARIABLE}: unknown fault "${name}" (known: ${SELF_CHECK_FAULTS.map((f) => f.name).join(', ')})`);
    return fault;
  });
}

/**
 * The fault hook for a cell of `scenario`: the named faults of SMB_INTEROP_TEST_FAULTS (every
 * cell) and the self-check faults switched on for this scenario; undefined when none applies.
 */
export function faultHookFor(scenario: string | undefined, env: NodeJS.ProcessEnv = process.env): FaultHook | undefined {
  const hooks = [namedFaults(testFaultsFromEnv(env)), ...selfCheckFaultsFromEnv(env).filter((f) => f.scenario === scenario).map((f) => f.hook())]
    .filter((h): h is FaultHook => h !== undefined);
  if (hooks.length === 0) return undefined;
  return hooks.length === 1 ? hooks[0] : combineFaults(...hooks);
}
