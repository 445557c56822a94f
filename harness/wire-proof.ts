/**
 * The proof of configuration, read from the decoded wire and the server's key log, never from a
 * client's report: so the same check judges every client. For each session a cell's client set
 * up, the NEGOTIATE response gives the dialect, the cipher, the signing algorithm and preauth
 * integrity; the SESSION_SETUP response its flags; each TREE_CONNECT response the share's
 * ENCRYPT_DATA flag; and the messages after SESSION_SETUP whether the session really travels
 * encrypted (every message inside a transform that decrypts with the server's keys) or signed
 * (every clear message signed, each signature verifying with the server's signing key). The
 * server's key log adds the cipher and signing algorithm the server itself used.
 *
 * What the wire cannot show on a target (no key log: a remote server, or SMB 2.x sessions, for
 * which smbd logs no keys) is said in `unchecked`, never passed over in silence.
 */
import {
  Capability, Dialect, HeaderFlag, NtStatus, SecurityMode, SessionFlag, ShareFlag,
  decodeNegotiateRequest, decodeNegotiateResponse, decodeSessionSetupRequest, decodeSessionSetupResponse, decodeTreeConnectRequest, decodeTreeConnectResponse, findContext,
} from '../clients/smb/wire/index.js';
import type { NegotiateRequest, NegotiateResponse } from '../clients/smb/wire/index.js';
import { cipherNameOf, dialectNameOf, signingAlgorithmNameOf } from '../clients/smb/negotiation.js';
import { decodeWithServerKeys, settledCipher } from './capture/wire-decode.js';
import type { DecodedWire, WireMessage } from './capture/wire-decode.js';
import { declaredSettings } from './configuration.js';
import type { WireFrame } from './pcap-reader.js';
import type { StartedTarget } from '../servers/target.js';
import { formatSessionId } from './capture/keys.js';
import { Annotation, type NegotiatedSettings } from './annotations.js';
import type { ServerSessionKeys } from '../servers/samba/server-keys.js';
import { logonMechanism, tokenKind, type LogonMechanism } from './capture/logon-mechanism.js';

const SHA512 = 0x0001;
const ALL_ONES = 0xffffffffffffffffn;

/** One TREE_CONNECT of a session, with what its response and the messages on the tree showed. */
export interface WireTree {
  /** The share as the request named it (the last component of `\\server\share`). */
  share: string;
  path: string;
  request: WireMessage;
  response: WireMessage | undefined;
  treeId: number | undefined;
  /** The response's ShareType and ShareFlags; undefined when it failed or could not be read. */
  shareType: number | undefined;
  shareFlags: number | undefined;
  /** The messages carrying this tree's id after the response (both directions). */
  messages: WireMessage[];
}

/** A session whose final SESSION_SETUP the server answered STATUS_SUCCESS, as the wire shows it. */
export interface WireSession {
  connection: number;
  sessionId: bigint;
  /** The last NEGOTIATE request and its successful response before the session's setup. */
  negotiateRequest: NegotiateRequest | undefined;
  negotiateResponse: NegotiateResponse | undefined;
  /** The final SESSION_SETUP response. */
  setup: WireMessage;
  /** The logon mechanism its SESSION_SETUP requests carried; undefined when no token names one. */
  authMechanism: LogonMechanism | undefined;
  /** Whether the final response carries a Kerberos AP-REP: the server proved itself (mutual authentication). */
  mutualAuth: boolean;
  sessionFlags: number;
  guest: boolean;
  anonymous: boolean;
  /** `3.1.1`, or the code in hex when it names no dialect. */
  dialect: string;
  /** The cipher the NEGOTIATE settled (3.1.1: the ENCRYPTION context; 3.0.x: AES-128-CCM with SMB2_GLOBAL_CAP_ENCRYPTION). */
  cipher: string | null;
  /** The signing algorithm in force by the NEGOTIATE (MS-SMB2 3.2.5.2: 2.x HMAC-SHA256, 3.0.x AES-128-CMAC, 3.1.1 its SIGNING context or AES-128-CMAC). */
  signingAlgorithm: string;
  preauthIntegrity: boolean;
  /** The session's messages after its SESSION_SETUP, up to its LOGOFF request. */
  after: WireMessage[];
  /** Frames after the SESSION_SETUP on the connection that the harness could not decrypt, with why. */
  opaque: string[];
  trees: WireTree[];
}

function attempt<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch {
    return undefined;
  }
}

const hex = (value: number, digits: number): string => `0x${value.toString(16).padStart(digits, '0')}`;

function isAtLeast30(dialect: number): boolean {
  return dialect >= Dialect.Smb300 && dialect !== 0x02ff;
}

/** MS-SMB2 3.2.5.2: the algorithm that signs the session, fixed by the dialect before 3.1.1. */
function signingAlgorithmOf(response: NegotiateResponse | undefined): string {
  if (response === undefined || !isAtLeast30(response.dialectRevision)) return 'HMAC-SHA256';
  if (response.dialectRevision !== Dialect.Smb311) return 'AES-128-CMAC';
  const chosen = findContext(response.negotiateContexts, 'signing')?.algorithms[0];
  if (chosen === undefined) return 'AES-128-CMAC';
  return signingAlgorithmNameOf(chosen) ?? hex(chosen, 4);
}

function cipherOf(response: NegotiateResponse | undefined): string | null {
  const chosen = response === undefined ? undefined : settledCipher(response);
  return chosen === undefined ? null : (cipherNameOf(chosen) ?? hex(chosen, 4));
}

/** An interim response (STATUS_PENDING, async): MS-SMB2 3.3.4.2 says the server SHOULD NOT sign it. */
export function isInterim(m: WireMessage): boolean {
  return m.direction === 'receive' && m.header.status === NtStatus.Pending && (m.header.flags & HeaderFlag.AsyncCommand) !== 0;
}

function shareOf(path: string): string {
  return path.slice(path.lastIndexOf('\\') + 1);
}

/** Every session set up on the wire, in the order of their SESSION_SETUP responses. */
export function wireSessions(wire: DecodedWire): WireSession[] {
  const sessions: WireSession[] = [];
  const setups = wire.messages.filter((m) => m.header.command === 'SESSION_SETUP' && m.direction === 'receive' && m.header.status === NtStatus.Success);
  for (const setup of setups) {
    const connection = setup.connection;
    const sessionId = setup.header.sessionId;
    const onConnection = wire.messages.filter((m) => m.connection === connection);
    // The last answered NEGOTIATE counts: a multi-protocol SMB1 negotiate may be answered with the wildcard 0x02FF first.
    const negotiated = onConnection.filter((m) => m.header.command === 'NEGOTIATE' && m.direction === 'receive' && m.header.status === NtStatus.Success && m.index < setup.index).at(-1);
    const negotiateResponse = negotiated === undefined ? undefined : attempt(() => decodeNegotiateResponse(negotiated.bytes));
    const asked = onConnection.filter((m) => m.header.command === 'NEGOTIATE' && m.direction === 'send' && m.index < (negotiated?.index ?? setup.index)).at(-1);
    const negotiateRequest = asked === undefined ? undefined : attempt(() => decodeNegotiateRequest(asked.bytes));
    const sessionFlags = attempt(() => decodeSessionSetupResponse(setup.bytes).sessionFlags) ?? 0;
    const ours = onConnection.filter((m) => m.index > setup.index && (m.header.sessionId === sessionId || m.header.sessionId === ALL_ONES));
    const logoff = ours.findIndex((m) => m.header.command === 'LOGOFF' && m.direction === 'send');
    const after = logoff < 0 ? ours : ours.slice(0, logoff + 1);
    const laterSetup = setups.find((s) => s.connection === connection && s.index > setup.index && s.header.sessionId === sessionId);
    const opaque = wire.problems
      .filter((p) => p.connection === connection && p.frame > setup.frame && (laterSetup === undefined || p.frame < laterSetup.frame))
      .map((p) => p.problem);
    const dialectCode = negotiateResponse?.dialectRevision;
    // This session's exchange: the SESSION_SETUP requests since the connection's previous successful one.
    const since = setups.filter((s) => s.connection === connection && s.index < setup.index).at(-1)?.index ?? -1;
    const requests = onConnection.filter((m) => m.header.command === 'SESSION_SETUP' && m.direction === 'send' && m.index > since && m.index < setup.index
      && (m.header.sessionId === 0n || m.header.sessionId === sessionId));
    const tokens = requests.map((m) => attempt(() => decodeSessionSetupRequest(m.bytes).securityBuffer)).filter((b): b is Buffer => b !== undefined);
    const finalToken = attempt(() => decodeSessionSetupResponse(setup.bytes).securityBuffer);
    sessions.push({
      connection,
      sessionId,
      negotiateRequest,
      negotiateResponse,
      setup,
      authMechanism: logonMechanism(tokens),
      mutualAuth: finalToken !== undefined && tokenKind(finalToken) === 'kerberos-ap-rep',
      sessionFlags,
      guest: (sessionFlags & SessionFlag.IsGuest) !== 0,
      anonymous: (sessionFlags & SessionFlag.IsNull) !== 0,
      dialect: dialectCode === undefined ? 'unknown' : (dialectNameOf(dialectCode) ?? hex(dialectCode, 4)),
      cipher: cipherOf(negotiateResponse),
      signingAlgorithm: signingAlgorithmOf(negotiateResponse),
      preauthIntegrity: dialectCode === Dialect.Smb311 && (findContext(negotiateResponse?.negotiateContexts ?? [], 'preauthIntegrity')?.hashAlgorithms.includes(SHA512) ?? false),
      after,
      opaque,
      trees: treesOf(after),
    });
  }
  return sessions;
}

function treesOf(after: readonly WireMessage[]): WireTree[] {
  const trees: WireTree[] = [];
  for (const request of after.filter((m) => m.header.command === 'TREE_CONNECT' && m.direction === 'send')) {
    const path = attempt(() => decodeTreeConnectRequest(request.bytes).path) ?? '';
    const response = after.find((m) => m.direction === 'receive' && m.header.command === 'TREE_CONNECT' && m.header.messageId === request.header.messageId);
    const ok = response !== undefined && response.header.status === NtStatus.Success;
    const decoded = ok ? attempt(() => decodeTreeConnectResponse(response.bytes)) : undefined;
    const treeId = ok ? response.header.treeId : undefined;
    trees.push({
      share: shareOf(path),
      path,
      request,
      response,
      treeId,
      shareType: decoded?.shareType,
      shareFlags: decoded?.shareFlags,
      messages: treeId === undefined ? [] : after.filter((m) => m.index > response!.index && m.header.treeId === treeId),
    });
  }
  return trees;
}

/** What a session proved, in the `negotiated` annotation's terms, with the facts behind each value. */
export interface SessionProof {
  session: WireSession;
  settings: NegotiatedSettings;
  /** Shares connected, and whether the wire shows each encrypted. */
  shares: Array<{ share: string; encrypted: boolean }>;
}

export interface ConfigurationProof {
  /** The sessions proven (the cell's client's, non-guest and non-anonymous). */
  sessions: SessionProof[];
  /** What was checked, one line each. */
  checked: string[];
  /** What could not be checked on this wire and target, and why. */
  unchecked: string[];
  /** Each way the wire differs from the declaration: `cipher AES-128-CCM, declared AES-128-GCM`. */
  differences: string[];
}

export interface Declaration {
  settings: NegotiatedSettings;
  encryptedShares: readonly string[];
}

export interface ProofOptions {
  /** `first`: the first authenticated session only; `every`: each one on the wire. */
  scope: 'first' | 'every';
  /** The server's logged keys (those that decoded the wire); undefined when the target logs none (a remote server). */
  keys: readonly ServerSessionKeys[] | undefined;
  /**
   * The client's declared ciphers and signing algorithms: a column's cipher or signing algorithm
   * is compared only for a client that declares it (one that does not is unsupported where the
   * column needs it, and elsewhere a session protected otherwise says nothing about it).
   */
  declares?: { ciphers: readonly string[]; signing: readonly string[]; auth?: readonly string[] };
  /**
   * The logon mechanism the target's declaration gives a client offering everything (Kerberos in
   * a realm); a client that does not declare Kerberos is expected to use NTLM. Undefined: not compared.
   */
  authMechanism?: LogonMechanism;
  /** The wire was cut (a bulk transfer): only its first frames were decoded. */
  truncated?: string;
}

const show = (value: unknown): string => (value === null ? 'none' : typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value));

function encryptedTree(tree: WireTree): boolean | undefined {
  if (tree.shareFlags === undefined) return undefined;
  return (tree.shareFlags & ShareFlag.EncryptData) !== 0;
}

/** Whether the server logged keys for a session, and what they say. */
function keysFor(session: WireSession, keys: readonly ServerSessionKeys[] | undefined): ServerSessionKeys | undefined {
  return keys?.find((k) => k.sessionId === session.sessionId);
}

/**
 * The proof of one cell's configuration: every authenticated session of the cell's client
 * against what the target declares. A proof with differences fails the cell.
 */
export function proveConfiguration(wire: DecodedWire, declared: Declaration, options: ProofOptions): ConfigurationProof {
  const checked: string[] = [];
  const unchecked: string[] = [];
  const differences: string[] = [];
  if (options.truncated !== undefined) unchecked.push(options.truncated);
  const all = wireSessions(wire).filter((s) => !s.guest && !s.anonymous);
  const chosen = options.scope === 'first' ? all.slice(0, 1) : all;
  if (chosen.length === 0) {
    differences.push(`no authenticated session on the wire (${wire.messages.length} messages decoded${wire.problems.length > 0 ? `, ${wire.problems.length} frames unreadable: ${wire.problems[0]!.problem}` : ''})`);
    return { sessions: [], checked, unchecked, differences };
  }
  const sessions = chosen.map((session) => proveSession(session, declared, options, { checked, unchecked, differences }, chosen.length > 1));
  return { sessions, checked: [...new Set(checked)], unchecked: [...new Set(unchecked)], differences };
}

function proveSession(
  session: WireSession,
  declared: Declaration,
  options: ProofOptions,
  out: { checked: string[]; unchecked: string[]; differences: string[] },
  several: boolean,
): SessionProof {
  const where = several ? `session ${formatSessionId(session.sessionId)} (connection ${session.connection}): ` : '';
  const differ = (text: string) => out.differences.push(`${where}${text}`);
  const d = declared.settings;
  const keys = keysFor(session, options.keys);
  const smb3 = session.dialect.startsWith('3.');

  // What travelled after SESSION_SETUP: encrypted (decrypted with the server's keys), or clear and signed.
  const counted = session.after.filter((m) => !isInterim(m));
  const clear = counted.filter((m) => !m.encrypted);
  const undecryptable = session.opaque.filter((p) => p.startsWith('does not decrypt'));
  const keyless = session.opaque.filter((p) => !p.startsWith('does not decrypt'));
  const seen = counted.length + session.opaque.length;
  const encryptFlag = (session.sessionFlags & SessionFlag.EncryptData) !== 0;
  const encryption = seen > 0 ? clear.length === 0 : encryptFlag;
  // Nothing after SESSION_SETUP: whether the session signs is not seen; the server's requirement stands in (not compared).
  const signingRequired = ((session.negotiateResponse?.securityMode ?? 0) & SecurityMode.SigningRequired) !== 0;
  const signing = seen === 0 ? !encryption && signingRequired : !encryption && clear.length > 0 && clear.every((m) => m.header.signed);
  const invalid = counted.filter((m) => m.signature === 'invalid');
  const noKey = counted.filter((m) => m.signature === 'no-key');

  const settings: NegotiatedSettings = {
    dialect: session.dialect,
    cipher: session.cipher,
    signingAlgorithm: session.signingAlgorithm,
    preauthIntegrity: session.preauthIntegrity,
    encryption,
    signing,
    ...(session.authMechanism === undefined ? {} : { authMechanism: session.authMechanism }),
  };

  // The logon: the mechanism the SESSION_SETUP requests carried, against the one the target and the client's declaration give.
  if (options.authMechanism !== undefined) {
    const expected = options.authMechanism === 'kerberos' && options.declares?.auth !== undefined && !options.declares.auth.includes('kerberos') ? 'ntlm' : options.authMechanism;
    const seenMechanism = session.authMechanism ?? 'no mechanism token the harness can read';
    if (seenMechanism !== expected) differ(`logon ${seenMechanism}, declared ${expected}${expected !== options.authMechanism ? ' (the client does not declare Kerberos)' : ''}`);
    else out.checked.push(`SESSION_SETUP: logon with ${expected === 'kerberos' ? `Kerberos (AP-REQ${session.mutualAuth ? ', the server\'s AP-REP: mutual authentication' : ''})` : 'NTLM'}`);
  }

  if (session.negotiateResponse === undefined) differ('no successful NEGOTIATE response before the SESSION_SETUP on its connection');
  if (settings.dialect !== d.dialect) differ(`dialect ${settings.dialect}, declared ${d.dialect}`);
  if (settings.preauthIntegrity !== d.preauthIntegrity) differ(`preauthIntegrity ${show(settings.preauthIntegrity)}, declared ${show(d.preauthIntegrity)}`);
  if (settings.encryption !== d.encryption) {
    const detail = seen === 0
      ? 'nothing travelled after SESSION_SETUP; the SESSION_SETUP response ' + (encryptFlag ? 'sets' : 'does not set') + ' ENCRYPT_DATA'
      : `${clear.length} of ${seen} messages after SESSION_SETUP travelled in the clear${clear[0] === undefined ? '' : ` (first: ${clear[0].header.command} ${clear[0].direction === 'send' ? 'request' : 'response'})`}; the SESSION_SETUP response ${encryptFlag ? 'sets' : 'does not set'} ENCRYPT_DATA`;
    differ(`encryption ${show(settings.encryption)}, declared ${show(d.encryption)} (${detail})`);
  }
  if (encryptFlag && !encryption && seen > 0) differ(`the server set SESSION_FLAG_ENCRYPT_DATA but ${clear.length} messages after SESSION_SETUP travelled in the clear`);
  // A declared `signing` is the server's requirement: a session that must sign and does not differs;
  // one that signs where the server does not require it is the client's choice (MS-SMB2 3.2.4.1.1).
  if (d.signing && !settings.signing && seen > 0) {
    const unsigned = clear.filter((m) => !m.header.signed);
    const detail = encryption ? 'the session encrypts' : unsigned[0] === undefined ? 'nothing travelled in the clear after SESSION_SETUP' : `${unsigned.length} of ${clear.length} clear messages after SESSION_SETUP unsigned (first: ${unsigned[0].header.command} ${unsigned[0].direction === 'send' ? 'request' : 'response'})`;
    differ(`signing ${show(settings.signing)}, declared ${show(d.signing)} (${detail})`);
  }
  if (!d.signing && settings.signing) out.checked.push('the session signs every clear message, which the target does not require (the client\'s choice)');
  if (invalid.length > 0) differ(`${invalid.length} signatures do not verify with the server's signing key (first: ${invalid[0]!.header.command} ${invalid[0]!.direction === 'send' ? 'request' : 'response'}, message ${invalid[0]!.index})`);
  if (undecryptable.length > 0) differ(`${undecryptable.length} frames after SESSION_SETUP do not decrypt with the server's keys (${undecryptable[0]})`);

  // Cipher and signing algorithm: compared for a client that declares the declared one.
  const encryptedSomewhere = encryption || session.after.some((m) => m.encrypted) || session.opaque.length > 0;
  const declaresCipher = d.cipher === null || options.declares === undefined || options.declares.ciphers.includes(d.cipher);
  if (declaresCipher) {
    if (settings.cipher !== d.cipher) differ(`cipher ${show(settings.cipher)}, declared ${show(d.cipher)}`);
  } else {
    out.unchecked.push(`cipher ${show(settings.cipher)} not compared with the declared ${d.cipher}: the client does not declare ${d.cipher}`);
  }
  const declaresSigning = d.signingAlgorithm === null || options.declares === undefined || options.declares.signing.includes(d.signingAlgorithm);
  if (declaresSigning) {
    if (settings.signingAlgorithm !== d.signingAlgorithm) differ(`signingAlgorithm ${show(settings.signingAlgorithm)}, declared ${show(d.signingAlgorithm)}`);
  } else {
    out.unchecked.push(`signing algorithm ${settings.signingAlgorithm} not compared with the declared ${d.signingAlgorithm}: the client does not declare ${d.signingAlgorithm}${signing ? '' : ' and the session is not signed'}`);
  }

  // The server's own view: the cipher and signing algorithm it logged for the session.
  if (keys !== undefined) {
    // smbd up to 4.22 logs the session's cipher; 4.23 and later do not, and then the transforms
    // opening under the NEGOTIATE's cipher with the server's keys is what shows the server used it.
    const loggedCipher = keys.cipher === undefined ? undefined : (cipherNameOf(keys.cipher) ?? hex(keys.cipher, 4));
    const loggedSigning = keys.signingAlgorithm === undefined ? undefined : (signingAlgorithmNameOf(keys.signingAlgorithm) ?? hex(keys.signingAlgorithm, 4));
    if (encryptedSomewhere && loggedCipher !== undefined && loggedCipher !== settings.cipher) differ(`the server logged cipher ${loggedCipher} for the session, the NEGOTIATE settled ${show(settings.cipher)}`);
    if (loggedSigning !== undefined && loggedSigning !== settings.signingAlgorithm) differ(`the server logged signing algorithm ${loggedSigning} for the session, the NEGOTIATE settled ${settings.signingAlgorithm}`);
    const openedWith = [...new Set(counted.filter((m) => m.transform !== undefined).map((m) => m.transform!.cipher))];
    const cipherLine = loggedCipher !== undefined ? `cipher ${loggedCipher}`
      : openedWith.length > 0 ? `no cipher logged (smbd 4.23+), its keys open the transforms under ${openedWith.join(', ')}`
      : 'no cipher logged';
    out.checked.push(`the server's key log: ${cipherLine}, signing ${loggedSigning ?? 'not logged'}`);
  } else if (smb3) {
    out.unchecked.push(options.keys === undefined
      ? 'the target logs no session keys (remote server): encrypted messages are seen as transforms but not opened, signatures are not verified, the server\'s cipher and signing algorithm are not cross-checked'
      : `the server logged no keys for session ${formatSessionId(session.sessionId)}: encrypted messages not opened, signatures not verified`);
  }
  if (noKey.length > 0 && !smb3) out.unchecked.push(`${noKey.length} signatures present but not verified: smbd logs no keys for SMB ${session.dialect} sessions`);
  if (keyless.length > 0) out.unchecked.push(`${keyless.length} encrypted frames not opened (${keyless[0]}): their TREE_CONNECT share flags and signatures are not read`);

  out.checked.push(`NEGOTIATE response: dialect ${settings.dialect}, cipher ${show(settings.cipher)}, signing ${settings.signingAlgorithm}, preauth ${settings.preauthIntegrity ? 'SHA-512' : 'none'}`);
  out.checked.push(`SESSION_SETUP response flags ${hex(session.sessionFlags, 4)}`);
  if (seen > 0) {
    const verified = counted.filter((m) => m.signature === 'valid').length;
    out.checked.push(encryption
      ? `after SESSION_SETUP: ${seen} messages, all encrypted${counted.length > 0 ? ', opened with the server\'s keys' : ''}`
      : `after SESSION_SETUP: ${seen} messages, ${clear.length} in the clear, ${clear.filter((m) => m.header.signed).length} of them signed, ${verified} signatures verified with the server's key`);
  } else {
    out.unchecked.push('nothing travelled after SESSION_SETUP: encryption taken from the SESSION_SETUP flags, signing from the NEGOTIATE SecurityMode (not compared)');
  }

  // Per share: ENCRYPT_DATA in the TREE_CONNECT response, and the tree's messages encrypted.
  const shares: SessionProof['shares'] = [];
  for (const tree of session.trees) {
    if (tree.treeId === undefined) continue;
    const flag = encryptedTree(tree);
    const declaredEncrypted = d.encryption || declared.encryptedShares.some((s) => s.toLowerCase() === tree.share.toLowerCase());
    const clearOnTree = tree.messages.filter((m) => !m.encrypted && !isInterim(m));
    // Nothing on the tree after its TREE_CONNECT: the response's ShareFlags alone say whether it encrypts.
    const travelled = tree.messages.length > 0 ? clearOnTree.length === 0 : (flag ?? tree.response?.encrypted === true);
    const encrypted = flag === undefined ? travelled : flag && travelled;
    if (tree.messages.length === 0) out.unchecked.push(`nothing travelled on ${tree.share} after its TREE_CONNECT: its encryption is the response's ShareFlags`);
    shares.push({ share: tree.share, encrypted });
    if (flag === undefined) {
      out.unchecked.push(`TREE_CONNECT ${tree.share}: the response was not read (its frame could not be opened), so its share flags are not seen`);
    } else if (flag && !travelled) {
      differ(`share ${tree.share}: the server set SHAREFLAG_ENCRYPT_DATA but ${clearOnTree.length} messages on the tree travelled in the clear (first: ${clearOnTree[0]?.header.command ?? 'none'})`);
    }
    if (encrypted !== declaredEncrypted) differ(`share ${tree.share} ${encrypted ? 'encrypted' : 'not encrypted'}, declared ${declaredEncrypted ? 'encrypted' : 'not encrypted'}`);
    else out.checked.push(`share ${tree.share}: ${encrypted ? 'encrypted' : 'not encrypted'} (TREE_CONNECT ShareFlags ${flag === undefined ? 'unread' : hex(tree.shareFlags!, 8)})`);
  }
  return { session, settings, shares };
}

/** Annotation type of a cell's proof: JSON `{ checked: string[], unchecked: string[] }`. */
export const PROOF_ANNOTATION = Annotation.proof;

/** A bulk transfer's capture is decoded for the proof up to this many bytes (its first frames). */
const PROOF_CAPTURE_BYTES = 16 * 1024 * 1024;

/** The frames the proof decodes: all of them, or the first ones of a large capture, saying so. */
export function framesForProof<F extends { bytes: Buffer }>(frames: readonly F[], budget = PROOF_CAPTURE_BYTES): { frames: F[]; truncated?: string } {
  let total = 0;
  for (let i = 0; i < frames.length; i++) {
    total += frames[i]!.bytes.length;
    if (total > budget && i > 0) {
      return { frames: frames.slice(0, i), truncated: `only the first ${i} frames were decoded for the proof (the capture exceeds ${budget / (1024 * 1024)} MiB)` };
    }
  }
  return { frames: [...frames] };
}

/** Options of `connect()` that leave the negotiation as the target's declaration has it. */
const NEUTRAL_OPTIONS: ReadonlySet<string> = new Set(['user', 'share', 'observer', 'timeoutMs']);

export type ProofState = { kind: 'none' } | { kind: 'armed'; scope: ProofOptions['scope'] } | { kind: 'waived'; reason: string };

/**
 * Which of a cell's sessions the proof covers, from how the cell's clients connected: a client
 * connected as the target's user with default settings arms it for every authenticated session;
 * one connected with options of the scenario's own (dialects, ciphers, encryption off, other
 * credentials, faults) narrows it to the sessions set up before (`first`), or, when it was the
 * first, waives it with the reason (the annotation says so: never a silent pass).
 */
export class ProofControl {
  private current: ProofState = { kind: 'none' };

  get state(): ProofState {
    return this.current;
  }

  /** Called before each client connects, with the options it connects with. */
  connecting(options: object): void {
    const own = Object.entries(options).filter(([key, value]) => value !== undefined && !NEUTRAL_OPTIONS.has(key)).map(([key]) => key);
    if (own.length === 0) {
      if (this.current.kind === 'none') this.current = { kind: 'armed', scope: 'every' };
      return;
    }
    if (this.current.kind === 'armed') this.current = { kind: 'armed', scope: 'first' };
    else if (this.current.kind === 'none') this.current = { kind: 'waived', reason: `the scenario's first client connects with options of its own (${own.join(', ')})` };
  }
}

/**
 * Reads the cell's capture (ending it: call after every client closed), decodes it with the
 * server's logged keys and proves the sessions in `scope` against the target's declaration.
 */
export async function proveCellConfiguration(
  trace: {
    wireFrames(): Promise<WireFrame[]>;
    leadingFrames?(maxFrameBytes: number): Promise<WireFrame[]>;
    decodedCapture?(): Promise<{ keys: ServerSessionKeys[] | undefined; wire: DecodedWire }>;
  },
  target: StartedTarget,
  scope: ProofOptions['scope'],
  declares: { ciphers: readonly string[]; signing: readonly string[]; auth?: readonly string[] },
  /** The mechanism the scenario asked the client for, when it is the scenario's subject. */
  logon?: LogonMechanism,
): Promise<ConfigurationProof> {
  // A bulk transfer's capture is read only as far as the proof decodes it.
  const all = trace.leadingFrames === undefined ? await trace.wireFrames() : await trace.leadingFrames(PROOF_CAPTURE_BYTES);
  const { frames, truncated } = framesForProof(all);
  // The whole capture fits: the decode the scenario and the cell's judgement share.
  const { keys, wire } = truncated === undefined && trace.decodedCapture !== undefined
    ? await trace.decodedCapture()
    : await decodeWithServerKeys(frames, target.sessionKeys?.bind(target));
  const { expect } = target.profile;
  const declaration: Declaration = { settings: declaredSettings(target), encryptedShares: expect.encryptedShares };
  // A remote server outside a realm the config names may still be in a domain: its logon mechanism is then not declared.
  const authMechanism = target.provider === 'remote' && target.kerberos === undefined ? undefined : (logon ?? expect.authMechanism);
  return proveConfiguration(wire, declaration, { scope, keys, declares, ...(authMechanism === undefined ? {} : { authMechanism }), ...(truncated === undefined ? {} : { truncated }) });
}
