/**
 * One authenticated session: the SESSION_SETUP exchange (MS-SMB2 3.2.4.2.3, 3.2.5.3), key
 * derivation (3.2.5.3.1), the signing and encryption decisions, and LOGOFF (3.2.4.22).
 */
import { createNtlmAuthenticator } from './auth/index.js';
import type { Authenticator } from './auth/index.js';
import { Dialect, NonceGenerator, verifyMessageSignature } from './crypto/index.js';
import type { PreauthIntegrityHash, SessionKeys } from './crypto/index.js';
import { formatSessionId } from './connection.js';
import type { Connection, RequestOptions, SessionSecurity, SmbResponse } from './connection.js';
import { AuthenticationError, SecurityError, SmbError, formatStatus } from './errors.js';
import { faultsOf, sessionKeys } from './faults.js';
import { cipherNameOf } from './negotiation.js';
import type { EncryptionPolicy, SigningPolicy } from './negotiation.js';
import { notifySessionKeys } from './observer.js';
import {
  Capability,
  Command,
  HeaderFlag,
  NtStatus,
  SecurityMode,
  SessionFlag,
  commandName,
  decodeSessionSetupResponse,
  encodeLogoffRequest,
  encodeSessionSetupRequest,
  ntStatusName,
} from './wire/index.js';

export interface SessionOptions {
  /** Empty or absent: an anonymous (null) session. `DOMAIN\user` is accepted. */
  username?: string | undefined;
  password?: string | undefined;
  domain?: string | undefined;
  /** Accept a guest session (SessionFlags IS_GUEST), which is neither signed nor encrypted. */
  guest?: boolean | undefined;
  /** Chooses the mechanism once the server's SPNEGO hint is known (auth/choose.ts); default NTLM. */
  authenticator?: ((serverHint: Buffer) => Promise<Authenticator>) | undefined;
  encryption: EncryptionPolicy;
  signing: SigningPolicy;
}

/** Statuses that mean "these credentials were refused" (MS-ERREF 2.3.1). */
const AUTHENTICATION_FAILURES: ReadonlySet<number> = new Set([
  NtStatus.LogonFailure,
  NtStatus.WrongPassword,
  NtStatus.NoSuchUser,
  NtStatus.AccountRestriction,
  NtStatus.InvalidLogonHours,
  NtStatus.InvalidWorkstation,
  NtStatus.PasswordExpired,
  NtStatus.AccountDisabled,
  NtStatus.PasswordMustChange,
  NtStatus.AccountLockedOut,
]);
const MAX_ROUNDS = 8;

export class Session {
  private loggedOff = false;

  private constructor(
    readonly connection: Connection,
    readonly id: bigint,
    readonly isGuest: boolean,
    readonly isAnonymous: boolean,
    private readonly security: SessionSecurity | undefined,
  ) {}

  /** Session.SigningRequired: every request is signed (unless encrypted). */
  get signingRequired(): boolean {
    return this.security?.signingRequired ?? false;
  }

  /** Session.EncryptData: every request is encrypted. */
  get encryptData(): boolean {
    return this.security?.encryptData ?? false;
  }

  /** Whether requests of a tree that asks for encryption can be encrypted. */
  get canEncrypt(): boolean {
    return this.security?.encryptionKey !== undefined;
  }

  get active(): boolean {
    return !this.loggedOff && !this.connection.closed;
  }

  /** Runs SESSION_SETUP until the server accepts or refuses the credentials. */
  static async establish(connection: Connection, options: SessionOptions): Promise<Session> {
    const anonymous = (options.username ?? '') === '';
    const auth = options.authenticator !== undefined ? await options.authenticator(connection.negotiated.securityBuffer) : createNtlmAuthenticator({
      username: options.username ?? '',
      password: options.password ?? '',
      targetHost: connection.options.host,
      ...(options.domain === undefined ? {} : { domain: options.domain }),
      ...(anonymous ? { anonymous: true } : {}),
    });
    const negotiated = connection.negotiated;
    let securityMode: number = SecurityMode.SigningEnabled;
    if (options.signing === 'required') securityMode |= SecurityMode.SigningRequired;
    let preauth: PreauthIntegrityHash | undefined = connection.preauthHash;
    let token = auth.initialToken(negotiated.securityBuffer);
    let sessionId = 0n;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const body = encodeSessionSetupRequest({
        flags: 0,
        securityMode,
        capabilities: Capability.Dfs,
        channel: 0,
        previousSessionId: 0n,
        securityBuffer: token,
      });
      const response = await setupRound(connection, body, sessionId, options);
      if (preauth !== undefined && response.request !== undefined) preauth = preauth.update(response.request);
      sessionId = response.header.sessionId;
      const reply = decodeSessionSetupResponse(response.message);
      if (response.status === NtStatus.MoreProcessingRequired) {
        if (preauth !== undefined) preauth = preauth.update(response.message);
        token = auth.continue(reply.securityBuffer);
        continue;
      }
      return Session.complete(connection, options, auth, response, reply.sessionFlags, reply.securityBuffer, preauth);
    }
    throw new AuthenticationError(`SESSION_SETUP did not complete after ${MAX_ROUNDS} rounds`, { command: 'SESSION_SETUP' });
  }

  private static complete(
    connection: Connection,
    options: SessionOptions,
    auth: Authenticator,
    response: SmbResponse,
    sessionFlags: number,
    finalToken: Buffer,
    preauth: PreauthIntegrityHash | undefined,
  ): Session {
    const negotiated = connection.negotiated;
    const sessionId = response.header.sessionId;
    const isGuest = (sessionFlags & SessionFlag.IsGuest) !== 0;
    const isAnonymous = (sessionFlags & SessionFlag.IsNull) !== 0 || auth.isAnonymous;
    // Kerberos: the key comes with the final token (the AP-REP), which is read first.
    const keyInFinalToken = !auth.isAnonymous && auth.sessionKey === undefined;
    if (keyInFinalToken) auth.complete(finalToken);
    const sessionKey = auth.isAnonymous ? undefined : auth.sessionKey;
    const keys = sessionKey === undefined ? undefined : sessionKeys(faultsOf(connection.options), {
      dialect: negotiated.dialect,
      sessionKey,
      ...(preauth === undefined ? {} : { preauthIntegrityHash: preauth.value }),
      ...(negotiated.cipher === undefined ? {} : { cipher: negotiated.cipher }),
    }, { sessionId, dialect: negotiated.dialectName });
    if (isGuest || isAnonymous) {
      refuseKeylessSession(connection, options, auth, response, keys, isGuest);
      return new Session(connection, sessionId, isGuest, isAnonymous, undefined);
    }
    if (sessionKey === undefined || keys === undefined) throw new SecurityError('SESSION_SETUP succeeded but authentication produced no session key', { command: 'SESSION_SETUP' });
    verifyFinalResponse(connection, response, keys);
    if (!keyInFinalToken) auth.complete(finalToken);
    const encryptData = decideEncryption(connection, options, sessionFlags);
    const security: SessionSecurity = {
      sessionId,
      signingAlgorithm: negotiated.signingAlgorithm,
      signingKey: keys.signingKey,
      signingRequired: negotiated.serverRequiresSigning || options.signing === 'required',
      encryptData,
      cipher: negotiated.cipher,
      encryptionKey: negotiated.cipher === undefined ? undefined : keys.encryptionKey,
      decryptionKey: negotiated.cipher === undefined ? undefined : keys.decryptionKey,
      nonces: negotiated.cipher === undefined ? undefined : new NonceGenerator(negotiated.cipher),
    };
    connection.registerSession(security);
    const observer = connection.options.observer;
    if (observer?.onSessionKeys !== undefined) {
      notifySessionKeys(observer, {
        sessionId,
        sessionKey: Buffer.from(sessionKey),
        signingKey: keys.signingKey,
        encryptionKey: security.encryptionKey ?? null,
        decryptionKey: security.decryptionKey ?? null,
        cipher: negotiated.cipher === undefined ? null : cipherNameOf(negotiated.cipher) ?? null,
        dialect: negotiated.dialectName,
      });
    }
    return new Session(connection, sessionId, false, false, security);
  }

  /** A request in this session; refused once the session is logged off. */
  request(options: Omit<RequestOptions, 'sessionId'>): Promise<SmbResponse> {
    if (this.loggedOff) return Promise.reject(this.loggedOffError(options.command));
    return this.connection.request({ ...options, sessionId: this.id });
  }

  /**
   * A request on one of this session's trees (Tree.request). The options are copied once, here,
   * field by field: every request then has one shape, which keeps the connection's property
   * reads on its hot path monomorphic (a spread's result takes the shape of its source).
   */
  requestOnTree(options: Omit<RequestOptions, 'sessionId' | 'treeId'>, treeId: number, encrypt: boolean, path: string): Promise<SmbResponse> {
    if (this.loggedOff) return Promise.reject(this.loggedOffError(options.command));
    return this.connection.request({
      command: options.command, body: options.body, sessionId: this.id, treeId, payloadSize: options.payloadSize, encrypt,
      sign: options.sign, timeoutMs: options.timeoutMs, pendingTimeoutMs: options.pendingTimeoutMs, okStatuses: options.okStatuses,
      path, keepRequest: options.keepRequest, signal: options.signal, readInto: options.readInto,
    });
  }

  /** A compound chain in this session (Connection.compound); one promise per element. */
  compound(requests: ReadonlyArray<Omit<RequestOptions, 'sessionId'>>, options: { related: boolean }): Promise<SmbResponse>[] {
    if (this.loggedOff) return requests.map((request) => Promise.reject(this.loggedOffError(request.command)));
    const withSession = requests.map((request) => ({ ...request, sessionId: this.id }));
    return requests.length === 1 ? [this.connection.request(withSession[0]!)] : this.connection.compound(withSession, options);
  }

  private loggedOffError(commandCode: number): SmbError {
    const command = commandName(commandCode);
    const status = NtStatus.UserSessionDeleted;
    return new SmbError(`${formatStatus(status, ntStatusName(status))} on ${command}: session ${formatSessionId(this.id)} was logged off`, {
      status,
      statusName: ntStatusName(status),
      command,
    });
  }

  /** LOGOFF; afterwards every use of the session is an error. Idempotent. */
  async logoff(): Promise<void> {
    if (this.loggedOff) return;
    try {
      await this.request({ command: Command.Logoff, body: encodeLogoffRequest() });
    } finally {
      this.loggedOff = true;
      this.connection.unregisterSession(this.id);
    }
  }
}

async function setupRound(connection: Connection, body: Buffer, sessionId: bigint, options: SessionOptions): Promise<SmbResponse> {
  try {
    return await connection.request({
      command: Command.SessionSetup,
      body,
      sessionId,
      okStatuses: [NtStatus.MoreProcessingRequired],
      keepRequest: true,
    });
  } catch (error) {
    if (!(error instanceof SmbError) || error.status === undefined || error.statusName === undefined) throw error;
    const details = { status: error.status, statusName: error.statusName, command: 'SESSION_SETUP', cause: error };
    if (AUTHENTICATION_FAILURES.has(error.status)) throw new AuthenticationError(error.message, details);
    if (error.status === NtStatus.AccessDenied && options.encryption === 'off') {
      throw new SmbError(`${error.message} (the server may require encryption, which this client has turned off)`, details);
    }
    throw error;
  }
}

/**
 * A guest or null session has no key the server shares: it can neither sign nor encrypt. Someone
 * in the middle can set IS_GUEST (or IS_NULL) in the final response of a password logon to turn
 * signing, encryption and secure negotiate off, so such a session is taken only when the caller
 * logged on anonymously or asked for guest (Windows refuses insecure guest logons by default);
 * a signed response is verified first with the keys the logon produced (MS-SMB2 3.2.5.3.1).
 */
function refuseKeylessSession(
  connection: Connection,
  options: SessionOptions,
  auth: Authenticator,
  response: SmbResponse,
  keys: SessionKeys | undefined,
  isGuest: boolean,
): void {
  const kind = isGuest ? 'a guest session (SessionFlags IS_GUEST)' : 'an anonymous session (SessionFlags IS_NULL)';
  if (keys !== undefined && (response.header.flags & HeaderFlag.Signed) !== 0) verifyFinalResponse(connection, response, keys);
  if (!auth.isAnonymous && options.guest !== true) {
    throw new SecurityError(
      `the server made this ${kind}, but the client authenticated as ${options.username ?? ''}: a guest session is neither signed nor encrypted (pass guest: true to accept one)`,
      { command: 'SESSION_SETUP' },
    );
  }
  if (options.encryption === 'required' || options.signing === 'required') {
    const needs = options.encryption === 'required' ? 'encryption' : 'signing';
    throw new SecurityError(`the server made this ${kind}, which cannot use ${needs}, but the client requires ${needs}`, { command: 'SESSION_SETUP' });
  }
}

/** MS-SMB2 3.2.5.3.1: the final response is signed with the new keys (always, for 3.1.1). */
function verifyFinalResponse(connection: Connection, response: SmbResponse, keys: SessionKeys): void {
  const { negotiated } = connection;
  const signed = (response.header.flags & HeaderFlag.Signed) !== 0;
  let problem: string | undefined;
  if (signed && !verifyMessageSignature(negotiated.signingAlgorithm, keys.signingKey, response.message)) {
    problem = 'bad signature on the final SESSION_SETUP response';
  } else if (!signed && negotiated.dialect === Dialect.Smb311) {
    problem = 'the final SESSION_SETUP response of a 3.1.1 session is not signed';
  }
  if (problem !== undefined) {
    const error = new SecurityError(`${problem} (session ${formatSessionId(response.header.sessionId)})`, { command: 'SESSION_SETUP' });
    connection.fail(error);
    throw error;
  }
}

function decideEncryption(connection: Connection, options: SessionOptions, sessionFlags: number): boolean {
  const { negotiated } = connection;
  const serverWants = (sessionFlags & SessionFlag.EncryptData) !== 0;
  if (serverWants && options.encryption === 'off') {
    throw new SecurityError("the server requires encryption for this session (SessionFlags ENCRYPT_DATA) but the client's encryption is 'off'", { command: 'SESSION_SETUP' });
  }
  if (serverWants && negotiated.cipher === undefined) {
    throw new SecurityError('the server requires encryption for this session but no cipher was negotiated', { command: 'SESSION_SETUP' });
  }
  return serverWants || options.encryption === 'required';
}
