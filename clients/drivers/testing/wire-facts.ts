/**
 * What a decoded capture shows about a client's session, read from the wire and the server's
 * logged keys only (never from the client): the dialect, the cipher and signing algorithm in
 * force, whether everything after the session setup travelled encrypted or signed, and the
 * TREE_CONNECT paths. Also which dialects a client's declared capabilities can use on a profile.
 */
import type { Capabilities } from './driver-client.js';
import type { Cipher, Dialect, Profile, SigningAlgorithm } from '../../../servers/catalog/schema.js';
import { DIALECTS } from '../../../servers/catalog/schema.js';
import { decodeTreeConnectRequest } from '../../smb/wire/index.js';
import type { DecodedWire, WireMessage } from '../../../harness/capture/wire-decode.js';
import { negotiatedBy } from '../../../harness/explain/message-fields.js';
import type { ServerSessionKeys } from '../../../servers/samba/server-keys.js';

const DIALECT_BY_CODE = new Map<number, Dialect>([[0x0202, '2.0.2'], [0x0210, '2.1'], [0x0300, '3.0'], [0x0302, '3.0.2'], [0x0311, '3.1.1']]);
const CIPHER_BY_CODE = new Map<number, Cipher>([[1, 'AES-128-CCM'], [2, 'AES-128-GCM'], [3, 'AES-256-CCM'], [4, 'AES-256-GCM']]);
const SIGNING_BY_CODE = new Map<number, SigningAlgorithm>([[0, 'HMAC-SHA256'], [1, 'AES-128-CMAC'], [2, 'AES-128-GMAC']]);

export interface WireFacts {
  /** The connection whose session was set up (a client may have tried others before). */
  connection: number;
  dialect: Dialect | undefined;
  /** The cipher of the session's keys as the server logged them, when the session encrypted. */
  cipher: Cipher | undefined;
  /** The signing algorithm in force (MS-SMB2 3.2.5.2: negotiated in 3.1.1, fixed by the dialect before). */
  signing: SigningAlgorithm | undefined;
  /** The session's messages after its SESSION_SETUP (requests and responses). */
  afterSetup: WireMessage[];
  treeConnectPaths: string[];
}

const isAtLeast = (dialect: Dialect, floor: Dialect): boolean => DIALECTS.indexOf(dialect) >= DIALECTS.indexOf(floor);

export function wireFacts(wire: DecodedWire, keys: readonly ServerSessionKeys[]): WireFacts {
  const setup = wire.messages.filter((m) => m.header.command === 'SESSION_SETUP' && m.direction === 'receive' && m.header.status === 0).at(-1);
  if (setup === undefined) throw new Error(`no SESSION_SETUP succeeded on the wire (${wire.messages.length} messages)`);
  const connection = setup.connection;
  const onConnection = wire.messages.filter((m) => m.connection === connection);
  // The last NEGOTIATE answer counts: a multi-protocol SMB1 negotiate may be answered with the wildcard 0x02FF first.
  const negotiated = negotiatedBy(onConnection.filter((m) => m.header.command === 'NEGOTIATE' && m.direction === 'receive' && m.index < setup.index).at(-1));
  const dialect = negotiated.dialect === undefined ? undefined : DIALECT_BY_CODE.get(negotiated.dialect);
  const sessionKeys = keys.find((k) => k.sessionId === setup.header.sessionId);
  const afterSetup = onConnection.filter((m) => m.index > setup.index && m.header.sessionId === setup.header.sessionId);
  const encrypts = afterSetup.some((m) => m.encrypted);
  let signing: SigningAlgorithm | undefined;
  if (dialect !== undefined) {
    if (!isAtLeast(dialect, '3.0')) signing = 'HMAC-SHA256';
    else if (dialect !== '3.1.1') signing = 'AES-128-CMAC';
    else signing = negotiated.signing === undefined ? 'AES-128-CMAC' : SIGNING_BY_CODE.get(negotiated.signing);
  }
  return {
    connection,
    dialect,
    cipher: encrypts && sessionKeys?.cipher !== undefined ? CIPHER_BY_CODE.get(sessionKeys.cipher) : undefined,
    signing,
    afterSetup,
    treeConnectPaths: onConnection
      .filter((m) => m.header.command === 'TREE_CONNECT' && m.direction === 'send')
      .map((m) => decodeTreeConnectRequest(m.bytes).path),
  };
}

/** The server's logged signing algorithm for the session (smbd logs keys for SMB 3 sessions only). */
export function loggedSigning(keys: readonly ServerSessionKeys[], wire: WireFacts): SigningAlgorithm | undefined {
  const sessionId = wire.afterSetup[0]?.header.sessionId;
  const algorithm = keys.find((k) => k.sessionId === sessionId)?.signingAlgorithm;
  return algorithm === undefined ? undefined : SIGNING_BY_CODE.get(algorithm);
}

/** The cipher a session at `dialect` uses with this client on this profile, if any (3.0.x: AES-128-CCM only). */
function usableCiphers(dialect: Dialect, profile: Profile, capabilities: Capabilities): Cipher[] {
  if (!isAtLeast(dialect, '3.0')) return [];
  const offered: readonly Cipher[] = dialect === '3.1.1' ? capabilities.ciphers : capabilities.ciphers.filter((c) => c === 'AES-128-CCM');
  return offered.filter((c) => profile.encryption.ciphers.includes(c));
}

/** The signing algorithms a session at `dialect` can use with this client on this profile. */
function usableSigning(dialect: Dialect, profile: Profile, capabilities: Capabilities): SigningAlgorithm[] {
  const byDialect: SigningAlgorithm[] = !isAtLeast(dialect, '3.0') ? ['HMAC-SHA256'] : dialect === '3.1.1' ? ['AES-128-CMAC', 'AES-128-GMAC'] : ['AES-128-CMAC'];
  return byDialect.filter((a) => capabilities.signing.includes(a) && profile.signing.algorithms.includes(a));
}

/**
 * The dialects at which the declared capabilities meet what the profile requires on `share`:
 * in the profile's range, with a common cipher where encryption is required, with a common
 * signing algorithm where signing is required. Empty: the client declares it cannot.
 */
export function supportedDialects(profile: Profile, share: string, capabilities: Capabilities): Dialect[] {
  const shareSpec = profile.shares.find((s) => s.name === share);
  const encryption = shareSpec?.encryption ?? profile.encryption.mode;
  return capabilities.dialects.filter((d) => {
    if (!isAtLeast(d, profile.dialects.min) || !isAtLeast(profile.dialects.max, d)) return false;
    if (encryption === 'required' && usableCiphers(d, profile, capabilities).length === 0) return false;
    if (profile.signing.required && usableSigning(d, profile, capabilities).length === 0) return false;
    return true;
  });
}

export { usableCiphers, usableSigning };
