/**
 * The client's public entry point: connect, negotiate and authenticate in one call, then
 * attach to shares. Everything below (connection, session, tree) is reachable for the file layer.
 */
import { chooseAuthenticator } from './auth/choose.js';
import type { AuthMechanismChoice, KerberosClientOptions } from './auth/choose.js';
import { Connection } from './connection.js';
import { ArgumentError } from './errors.js';
import { faultsOf, withFaults } from './faults.js';
import {
  ALL_DIALECTS,
  DEFAULT_CIPHERS,
  DEFAULT_SIGNING_ALGORITHMS,
  cipherNameOf,
  signingAlgorithmNameOf,
} from './negotiation.js';
import type {
  CipherName,
  DialectName,
  EncryptionPolicy,
  SigningAlgorithmName,
  SigningPolicy,
} from './negotiation.js';
import type { SmbObserver } from './observer.js';
import { Session } from './session.js';
import { Tree } from './tree.js';
import { Command, encodeEchoRequest } from './wire/index.js';

export interface SmbClientOptions {
  host: string;
  port?: number;
  /** Empty or absent: an anonymous session. */
  username?: string;
  password?: string;
  domain?: string;
  /** Default 'ntlm'; 'negotiate' uses Kerberos where it can be had (realm, KDC, a server offering it) and NTLM otherwise. */
  auth?: AuthMechanismChoice;
  /** Realm, KDC and the server's host name for Kerberos (auth: 'kerberos' or 'negotiate'). */
  kerberos?: KerberosClientOptions;
  /**
   * Accept a guest session: the server may log these credentials (or unknown ones) on as a
   * guest, which neither signs nor encrypts. Default false: a guest (or anonymous) answer to a
   * logon with a username is refused with a SecurityError, since someone in the middle can set
   * that flag to turn signing and encryption off. An empty username logs on anonymously.
   */
  guest?: boolean;
  /** Dialects to offer; default all of 2.0.2 .. 3.1.1. */
  dialects?: readonly DialectName[];
  /** 3.1.1 ciphers in order of preference; default AES-128-GCM, AES-128-CCM, AES-256-GCM, AES-256-CCM. */
  ciphers?: readonly CipherName[];
  /** 3.1.1 signing algorithms in order of preference; default AES-128-GMAC, AES-128-CMAC, HMAC-SHA256. */
  signingAlgorithms?: readonly SigningAlgorithmName[];
  /** Default 'auto': encrypt when the server asks for it (session or share). */
  encryption?: EncryptionPolicy;
  /** Default 'auto': sign when the server requires it. */
  signing?: SigningPolicy;
  /** Connect timeout and per-request timeout; default 30 s. */
  timeoutMs?: number;
  observer?: SmbObserver;
  /**
   * At most this many READs and WRITEs of up to 64 KiB (the size without LARGE_MTU) in flight
   * together go out as one compound chain, which servers answer with less work per request;
   * default 8, 1 sends every request alone.
   */
  ioChain?: number;
}

/** What this connection and session actually use. */
export interface NegotiatedInfo {
  dialect: DialectName;
  cipher: CipherName | null;
  signingAlgorithm: SigningAlgorithmName | null;
  preauthIntegrity: boolean;
  /** Every request of the session is encrypted. */
  encryptionOn: boolean;
  /** Every request of the session is signed (when not encrypted). */
  signingOn: boolean;
  isGuest: boolean;
  isAnonymous: boolean;
  /** The mechanism the logon used. */
  authMechanism: 'ntlm' | 'kerberos';
  /** `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` */
  serverGuid: string;
  /** The server's SMB2_GLOBAL_CAP_* bits. */
  capabilities: number;
  maxReadSize: number;
  maxWriteSize: number;
  maxTransactSize: number;
  /** The server's SecurityMode (SMB2_NEGOTIATE_SIGNING_ENABLED / _REQUIRED). */
  securityMode: number;
}

const DEFAULT_PORT = 445;
const DEFAULT_TIMEOUT_MS = 30_000;

/** MS-DTYP 2.3.4.2: the first three fields are little-endian. */
export function formatGuid(bytes: Buffer): string {
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = Buffer.from(bytes.subarray(from, to));
    return (reverse ? part.reverse() : part).toString('hex');
  };
  return [hex(0, 4, true), hex(4, 6, true), hex(6, 8, true), hex(8, 10, false), hex(10, 16, false)].join('-');
}

export class SmbClient {
  readonly negotiated: NegotiatedInfo;

  private constructor(
    readonly connection: Connection,
    readonly session: Session,
    authMechanism: 'ntlm' | 'kerberos',
  ) {
    const n = connection.negotiated;
    this.negotiated = {
      dialect: n.dialectName,
      cipher: n.cipher === undefined ? null : cipherNameOf(n.cipher) ?? null,
      signingAlgorithm: signingAlgorithmNameOf(n.signingAlgorithm) ?? null,
      preauthIntegrity: n.preauthIntegrity,
      encryptionOn: session.encryptData,
      signingOn: session.signingRequired && !session.encryptData,
      isGuest: session.isGuest,
      isAnonymous: session.isAnonymous,
      authMechanism,
      serverGuid: formatGuid(n.serverGuid),
      capabilities: n.capabilities,
      maxReadSize: n.maxReadSize,
      maxWriteSize: n.maxWriteSize,
      maxTransactSize: n.maxTransactSize,
      securityMode: n.securityMode,
    };
  }

  /** TCP connect, NEGOTIATE and SESSION_SETUP. On failure nothing is left open. */
  static async connect(options: SmbClientOptions): Promise<SmbClient> {
    if (options.ioChain !== undefined && (!Number.isInteger(options.ioChain) || options.ioChain < 1)) {
      throw new ArgumentError(`SmbClient.connect: ioChain must be a whole number of requests, 1 or more (1 sends every request alone), got ${String(options.ioChain)}`);
    }
    const encryption = options.encryption ?? 'auto';
    const signing = options.signing ?? 'auto';
    // Deliberate faults (faults.ts) travel on the options outside their type; tests only.
    const connection = await Connection.connect(withFaults({
      host: options.host,
      port: options.port ?? DEFAULT_PORT,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      dialects: options.dialects ?? ALL_DIALECTS,
      ciphers: options.ciphers ?? DEFAULT_CIPHERS,
      signingAlgorithms: options.signingAlgorithms ?? DEFAULT_SIGNING_ALGORITHMS,
      encryption,
      signing,
      observer: options.observer,
      ioChain: options.ioChain,
    }, faultsOf(options)));
    try {
      let mechanism: 'ntlm' | 'kerberos' = 'ntlm';
      const auth = options.auth ?? 'ntlm';
      const session = await Session.establish(connection, {
        username: options.username,
        password: options.password,
        domain: options.domain,
        guest: options.guest,
        ...(auth === 'ntlm' ? {} : {
          authenticator: async (serverHint: Buffer) => {
            const chosen = await chooseAuthenticator({
              auth, username: options.username ?? '', password: options.password ?? '', domain: options.domain, host: options.host, kerberos: options.kerberos,
            }, serverHint);
            mechanism = chosen.mechanism;
            return chosen;
          },
        }),
        encryption,
        signing,
      });
      return new SmbClient(connection, session, mechanism);
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  /** TREE_CONNECT to `\\host\share`. */
  connectTree(share: string): Promise<Tree> {
    return Tree.connect(this.session, share);
  }

  /** ECHO in the session (signed or encrypted like any other request). */
  async echo(): Promise<void> {
    await this.session.request({ command: Command.Echo, body: encodeEchoRequest() });
  }

  /** LOGOFF; the connection stays open but the session is gone. */
  logoff(): Promise<void> {
    return this.session.logoff();
  }

  /** Closes the TCP connection; outstanding requests fail with a TransportError. */
  async close(): Promise<void> {
    this.connection.close();
  }

  /** Whether the session can still be used. */
  get active(): boolean {
    return this.session.active;
  }

  toString(): string {
    return `SmbClient(${this.connection.peer}, ${this.negotiated.dialect})`;
  }
}
