/**
 * One SMB2 connection: the transport, NEGOTIATE (MS-SMB2 3.2.4.2, 3.2.5.2), the sessions
 * registered with it (their keys protect its messages), and the requests made on it, which the
 * Dispatcher takes from queue to response. Its state changes through methods only.
 */
import { PreauthIntegrityHash, isGcm } from './crypto/index.js';
import { Dispatcher } from './dispatch.js';
import { NegotiationError, SmbError, TransportError } from './errors.js';
import { faultsOf, negotiatePreauthHash } from './faults.js';
import type { FaultHook } from './faults.js';
import { buildNegotiateRequest, encodeNegotiate, interpretNegotiateResponse, offeredList } from './negotiation.js';
import type { Negotiated, NegotiatePolicy } from './negotiation.js';
import type { SmbObserver } from './observer.js';
import type { RequestOptions, SessionSecurity, SmbResponse } from './requests.js';
import { Transport } from './transport.js';
import { Command, NtStatus } from './wire/index.js';
import type { NegotiateRequest } from './wire/index.js';

export type { RequestOptions, SessionSecurity, SmbResponse } from './requests.js';
export { formatSessionId } from './requests.js';
export { IO_CHAIN } from './request-queue.js';

export interface ConnectionOptions extends NegotiatePolicy {
  port: number;
  /** Connect timeout and default per-request timeout. */
  timeoutMs: number;
  observer?: SmbObserver | undefined;
  /**
   * At most this many READs and WRITEs of up to 64 KiB queued together go out as one compound
   * chain (IO_CHAIN by default); 1 sends each alone.
   */
  ioChain?: number | undefined;
}

export class Connection {
  readonly peer: string;
  private transport!: Transport;
  private negotiatedState: Negotiated | undefined;
  private negotiateRequest: NegotiateRequest | undefined;
  private preauth: PreauthIntegrityHash | undefined;
  private validated = false;
  private readonly sessions = new Map<bigint, SessionSecurity>();
  private failure: Error | undefined;
  /** Deliberate faults (faults.ts), attached to the options by tests only. */
  private readonly faults: FaultHook | undefined;
  private readonly dispatcher: Dispatcher;

  private constructor(readonly options: ConnectionOptions) {
    this.peer = `${options.host}:${options.port}`;
    this.faults = faultsOf(options);
    const connection = this;
    this.dispatcher = new Dispatcher({
      peer: this.peer,
      timeoutMs: options.timeoutMs,
      observer: options.observer,
      faults: this.faults,
      sessions: this.sessions,
      get failure() {
        return connection.failure;
      },
      get multiCredit() {
        return connection.negotiatedState?.supportsMultiCredit === true;
      },
      get dialect() {
        return connection.negotiatedState?.dialectName;
      },
      fail: (error) => this.fail(error),
    }, options.ioChain);
  }

  /** Opens the transport and negotiates. */
  static async connect(options: ConnectionOptions): Promise<Connection> {
    const connection = await Connection.open(options);
    try {
      await connection.negotiate();
    } catch (error) {
      connection.close();
      throw error;
    }
    return connection;
  }

  /** Opens the transport only; request() then works with the initial single credit. */
  static async open(options: ConnectionOptions): Promise<Connection> {
    const connection = new Connection(options);
    const { dispatcher } = connection;
    connection.transport = await Transport.connect(
      { host: options.host, port: options.port, connectTimeoutMs: options.timeoutMs },
      {
        onFrame: (frame) => dispatcher.onFrame(frame),
        onClose: (error) => connection.fail(error),
        onDrain: () => dispatcher.pump(),
        largeFrame: dispatcher.inPlace,
      },
    );
    dispatcher.attach(connection.transport);
    return connection;
  }

  get negotiated(): Negotiated {
    if (this.negotiatedState === undefined) throw new SmbError('the connection has not negotiated yet');
    return this.negotiatedState;
  }

  /** The NEGOTIATE request as sent (FSCTL_VALIDATE_NEGOTIATE_INFO repeats it). */
  get clientNegotiate(): NegotiateRequest {
    if (this.negotiateRequest === undefined) throw new SmbError('the connection has not negotiated yet');
    return this.negotiateRequest;
  }

  /** The 3.1.1 connection preauth hash after NEGOTIATE; sessions start from it. */
  get preauthHash(): PreauthIntegrityHash | undefined {
    return this.preauth;
  }

  /** Whether FSCTL_VALIDATE_NEGOTIATE_INFO succeeded on this connection. */
  get negotiateValidated(): boolean {
    return this.validated;
  }

  markNegotiateValidated(): void {
    this.validated = true;
  }

  get closed(): boolean {
    return this.failure !== undefined;
  }

  registerSession(security: SessionSecurity): void {
    this.sessions.set(security.sessionId, security);
  }

  unregisterSession(sessionId: bigint): void {
    this.sessions.delete(sessionId);
  }

  private async negotiate(): Promise<void> {
    const request = buildNegotiateRequest(this.options, this.faults);
    this.negotiateRequest = request;
    let response: SmbResponse;
    try {
      response = await this.request({ command: Command.Negotiate, body: encodeNegotiate(request), keepRequest: true });
    } catch (error) {
      const offered = `client offered ${offeredList(request)}`;
      if (error instanceof SmbError && error.status !== undefined && error.statusName !== undefined) {
        const hint = error.status === NtStatus.NotSupported ? ' (no dialect in common)' : '';
        throw new NegotiationError(`${offered}; server answered ${error.message}${hint}`, { status: error.status, statusName: error.statusName, command: 'NEGOTIATE', cause: error });
      }
      if (error instanceof TransportError) {
        // A connection that ends before the answer says nothing about dialects: it stays a transport failure.
        throw new TransportError(`${error.message}, before it answered NEGOTIATE (${offered})`, { command: 'NEGOTIATE', cause: error });
      }
      throw error;
    }
    const negotiated = interpretNegotiateResponse(response.message, request, this.options, this.faults);
    this.negotiatedState = negotiated;
    if (negotiated.preauthIntegrity && response.request !== undefined) {
      this.preauth = this.faults === undefined
        ? PreauthIntegrityHash.initial().update(response.request).update(response.message)
        : negotiatePreauthHash(this.faults, response.request, response.message);
    }
  }

  /** Sends one request and resolves with its final response; rejects on error statuses. */
  request(options: RequestOptions): Promise<SmbResponse> {
    return this.dispatcher.enqueue([options], false)[0]!;
  }

  /**
   * Sends the requests as one compound chain in one frame (MS-SMB2 3.2.4.1.4). Each element
   * takes its own MessageId and credits and is signed on its own; an encrypted chain goes in one
   * TRANSFORM message. With `related`, elements after the first inherit the session, tree and
   * (with RELATED_FILE_ID) the file of the one before. One promise per element, settled by
   * that element's response: in a related chain, a failing CREATE fails the rest with their own
   * statuses. All elements must belong to the same session.
   */
  compound(requests: readonly RequestOptions[], options: { related: boolean }): Promise<SmbResponse>[] {
    if (requests.length === 0) return [];
    const sessionId = requests[0]!.sessionId ?? 0n;
    if (requests.some((r) => (r.sessionId ?? 0n) !== sessionId)) {
      const error = new SmbError('the elements of a compound request must belong to one session');
      return requests.map(() => Promise.reject(error));
    }
    return this.dispatcher.enqueue(requests, options.related);
  }

  /**
   * Whether large READ responses on a tree that is (or is not) encrypted can be received in
   * place (ReceiveInPlace): not while an observer watches or a fault edits incoming frames, and not with CCM.
   */
  receivesInPlace(encrypted: boolean): boolean {
    if (this.options.observer !== undefined || this.faults?.incomingFrame !== undefined) return false;
    const cipher = this.negotiated.cipher;
    return !encrypted || (cipher !== undefined && isGcm(cipher));
  }

  /** Ends the connection: every outstanding and queued request fails with `error`. */
  fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.transport.close();
    this.dispatcher.failAll(error);
  }

  close(): void {
    this.fail(new TransportError(`connection to ${this.peer} closed by the client`));
  }
}
