/**
 * One SMB2 connection: NEGOTIATE, message ids and credits (MS-SMB2 3.2.4.1.5, 3.2.5.1.4),
 * outstanding requests with timeouts and STATUS_PENDING (3.2.5.1.5), signing (3.2.4.1.1,
 * 3.2.5.1.3) and encryption (3.2.4.1.8, 3.2.5.1.1.1) for the sessions registered with it.
 */
import {
  PreauthIntegrityHash,
  TRANSFORM_HEADER_BYTES,
  decryptMessage,
  encryptMessageInto,
  encryptMessageVector,
  isGcm,
  openMessageDecipher,
  openSignatureCheck,
  parseTransformHeader,
  verifyMessageSignature,
} from './crypto/index.js';
import type { AeadDecipher, SignatureCheck } from './crypto/index.js';
import { NegotiationError, ProtocolError, SecurityError, SmbError, TimeoutError, TransportError, formatStatus } from './errors.js';
import { faultsOf, negotiatePreauthHash, requestSignatureOptions } from './faults.js';
import type { FaultHook } from './faults.js';
import { buildNegotiateRequest, encodeNegotiate, interpretNegotiateResponse, offeredList } from './negotiation.js';
import type { Negotiated, NegotiatePolicy } from './negotiation.js';
import { messageEvent, notify } from './observer.js';
import type { SmbObserver } from './observer.js';
import { cancelledBeforeSending, composeCancel, composeRequests } from './outgoing.js';
import type { MessageEdit, Signer } from './outgoing.js';
import { PlacedChain, PlacedRead, ROUTE_MINIMUM, ROUTE_PREFIX_BYTES } from './placement.js';
import { SendBuffers } from './send-buffers.js';
import { Transport } from './transport.js';
import type { RoutedFrame } from './frame-reader.js';
import {
  Command,
  HeaderFlag,
  NtStatus,
  READ_RESPONSE_DATA_OFFSET,
  classifyMessage,
  commandName,
  decodeHeader,
  decodeReadResponseHead,
  isError,
  isResponse,
  ntStatusName,
  splitCompound,
} from './wire/index.js';
import type { Header, NegotiateRequest } from './wire/index.js';
import { signerOf } from './requests.js';
import type { Batch, Outstanding, RequestOptions, SessionSecurity, SmbResponse } from './requests.js';

export type { RequestOptions, SessionSecurity, SmbResponse } from './requests.js';

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


export function formatSessionId(sessionId: bigint | undefined): string {
  return `0x${(sessionId ?? 0n).toString(16).padStart(16, '0')}`;
}

const UNSOLICITED_MESSAGE_ID = 0xffffffffffffffffn;
/** The credit balance the client asks the server to keep it at. */
const TARGET_CREDITS = 512;
const MAX_CREDIT_REQUEST = 0xffff;
/**
 * READs and WRITEs of at most CHAINED_IO_BYTES queued one after another go out as compound
 * chains of up to IO_CHAIN (chainFrom). Samba serves every message of a chain but the last
 * without handing it to its I/O threads, and reads and answers the chain as one frame: with
 * 64 KiB requests (no LARGE_MTU), smbd then spends about half the CPU per byte (README
 * "Performance").
 */
export const IO_CHAIN = 8;
const CHAINED_IO_BYTES = 65536;

export class Connection {
  readonly peer: string;
  private transport!: Transport;
  private negotiatedState: Negotiated | undefined;
  private negotiateRequest: NegotiateRequest | undefined;
  private preauth: PreauthIntegrityHash | undefined;
  private validated = false;
  private readonly sessions = new Map<bigint, SessionSecurity>();
  private readonly outstanding = new Map<bigint, Outstanding>();
  private readonly queue: Batch[] = [];
  private credits = 1;
  private creditsInFlight = 0;
  private nextMessageId = 0n;
  private failure: Error | undefined;
  private pumpScheduled = false;
  /** The READ whose response is being received in place, while it is. */
  private placing: Outstanding | undefined;
  /**
   * A chain of responses is arriving: requests made meanwhile (the transfer's next READs,
   * one per response received) wait for its end and go out together, as a chain again.
   */
  private receivingChain = false;
  /** The one timer for every request's deadline (startTimer), and when it fires. */
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepAt = 0;
  /** Frames for large encrypted messages, back here once the socket has taken them. */
  private readonly sendBuffers = new SendBuffers();
  /** Deliberate faults (faults.ts), attached to the options by tests only. */
  private readonly faults: FaultHook | undefined;

  private constructor(readonly options: ConnectionOptions) {
    this.peer = `${options.host}:${options.port}`;
    this.faults = faultsOf(options);
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
    connection.transport = await Transport.connect(
      { host: options.host, port: options.port, connectTimeoutMs: options.timeoutMs },
      {
        onFrame: (frame) => connection.onFrame(frame),
        onClose: (error) => connection.fail(error),
        onDrain: () => connection.pump(),
        largeFrame: { prefixBytes: ROUTE_PREFIX_BYTES, minimumFrame: ROUTE_MINIMUM, arriving: (prefix, frameLength) => connection.route(prefix, frameLength) },
      },
    );
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
    return this.enqueue([options], false)[0]!;
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
    return this.enqueue(requests, options.related);
  }

  private enqueue(requests: readonly RequestOptions[], related: boolean): Promise<SmbResponse>[] {
    if (this.failure !== undefined) {
      const error = new TransportError(`connection to ${this.peer} is closed: ${this.failure.message}`, { cause: this.failure });
      return requests.map(() => Promise.reject(error));
    }
    const multiCredit = this.negotiatedState?.supportsMultiCredit === true;
    const batch: Batch = { items: [], related, credits: 0 };
    const promises = requests.map((options) => {
      // MS-SMB2 3.1.5.2: one credit per 64 KiB; without LARGE_MTU, CreditCharge is 0 and costs 1.
      const charge = multiCredit ? Math.max(1, Math.ceil((options.payloadSize ?? 0) / 65536)) : 0;
      return new Promise<SmbResponse>((resolve, reject) => {
        const item: Outstanding = {
          options, batch, command: commandName(options.command), credits: Math.max(1, charge), charge,
          resolve, reject, deadline: undefined, waitMs: 0, messageId: undefined, holdsCredits: false, encrypted: false,
          signed: false, asyncId: undefined, request: undefined, cancelled: false,
        };
        batch.items.push(item);
        batch.credits += item.credits;
        this.watchSignal(item);
      });
    });
    for (const item of batch.items) this.startTimer(item, item.options.timeoutMs ?? this.options.timeoutMs);
    const aborted = batch.items.find((item) => item.options.signal?.aborted === true);
    if (aborted !== undefined) {
      this.cancel(aborted);
    } else {
      this.queue.push(batch);
      this.schedulePump();
    }
    return promises;
  }

  /** Wires `options.signal`: abort before sending drops the request, after sending sends CANCEL. */
  private watchSignal(item: Outstanding): void {
    const signal = item.options.signal;
    if (signal === undefined) return;
    if (signal.aborted) return;
    const onAbort = () => this.cancel(item);
    signal.addEventListener('abort', onAbort, { once: true });
    const { resolve, reject } = item;
    item.resolve = (response) => { signal.removeEventListener('abort', onAbort); resolve(response); };
    item.reject = (error) => { signal.removeEventListener('abort', onAbort); reject(error); };
  }

  private cancel(item: Outstanding): void {
    if (item.cancelled) return;
    item.cancelled = true;
    const queued = this.queue.indexOf(item.batch);
    if (queued >= 0 || item.messageId === undefined) {
      if (queued >= 0) this.queue.splice(queued, 1);
      for (const other of item.batch.items) {
        other.deadline = undefined;
        other.reject(cancelledBeforeSending(other.command, other.options.path));
      }
      return;
    }
    if (this.outstanding.get(item.messageId) !== item || this.failure !== undefined) return;
    // The server answers the cancelled request (usually STATUS_CANCELLED); wait for that, but not forever.
    this.startTimer(item, this.options.timeoutMs);
    const sessionId = item.options.sessionId ?? 0n;
    const security = this.sessions.get(sessionId);
    try {
      const message = composeCancel(
        { messageId: item.messageId, asyncId: item.asyncId, treeId: item.options.treeId ?? 0, sessionId },
        item.signed ? this.signer(security) : undefined,
        this.faults === undefined ? undefined : this.messageEdit([item], 'CANCEL', item.signed, item.encrypted),
      );
      if (this.options.observer !== undefined) notify(this.options.observer, messageEvent('send', message, item.encrypted));
      this.sendMessage(message, item.encrypted ? security : undefined, 'CANCEL', item.signed);
    } catch (error) {
      this.fail(error instanceof Error ? error : new ProtocolError(String(error)));
    }
  }

  /**
   * Gives `item` `ms` more to be answered. One timer per connection serves every request: it is
   * set for the earliest deadline when that moves earlier, and otherwise left alone (a request
   * answered in time costs no timer of its own), so when it fires it may find nothing expired
   * and only sets itself for the next deadline.
   */
  private startTimer(item: Outstanding, ms: number): void {
    const deadline = performance.now() + ms;
    item.deadline = deadline;
    item.waitMs = ms;
    if (this.sweepTimer === undefined || deadline < this.sweepAt) this.armSweep(deadline);
  }

  private armSweep(at: number): void {
    clearTimeout(this.sweepTimer);
    this.sweepAt = at;
    this.sweepTimer = setTimeout(() => this.sweep(), Math.max(0, Math.ceil(at - performance.now())));
  }

  /** Fails the requests whose deadline passed and sets the timer for the next one. */
  private sweep(): void {
    this.sweepTimer = undefined;
    if (this.failure !== undefined) return;
    const now = performance.now();
    let next = Infinity;
    const expired: Outstanding[] = [];
    for (const item of this.outstanding.values()) {
      if (item.deadline === undefined) continue;
      if (item.deadline <= now) expired.push(item);
      else next = Math.min(next, item.deadline);
    }
    for (const batch of this.queue) {
      // A queued batch expires together (expire() takes all of it): its elements are one frame.
      const late = batch.items.find((item) => item.deadline !== undefined && item.deadline <= now);
      if (late !== undefined) expired.push(late);
      else for (const item of batch.items) if (item.deadline !== undefined) next = Math.min(next, item.deadline);
    }
    for (const item of expired) {
      if (this.failure !== undefined) return;
      this.expire(item);
    }
    if (this.failure === undefined && next !== Infinity) this.armSweep(next);
    if (expired.length > 0) this.pump();
  }

  private expire(item: Outstanding): void {
    const ms = item.waitMs;
    if (this.placing === item) {
      // The socket's next read may already be aimed at the reader's buffer, so the request
      // cannot end while the connection lives on; nothing else can arrive before this frame anyway.
      const where = item.options.path === undefined ? '' : ` ${item.options.path}`;
      this.fail(new TimeoutError(`no response to ${item.command}${where} from ${this.peer} within ${ms} ms: the server stopped in the middle of sending it, so the connection is closed`, { command: item.command }));
      return;
    }
    const queued = this.queue.indexOf(item.batch);
    if (queued < 0 && item.messageId !== undefined && item.asyncId === undefined) {
      // MS-SMB2 3.2.6.1: the client may disconnect. A request sent and not even answered
      // STATUS_PENDING means a server that stopped answering: every request after it (the
      // cleanup CLOSE first) would wait out its own timeout in vain, so all fail now with this error.
      const where = item.options.path === undefined ? '' : ` ${item.options.path}`;
      this.fail(new TimeoutError(`no response to ${item.command}${where} from ${this.peer} within ${ms} ms`, { command: item.command }));
      return;
    }
    if (queued >= 0) this.queue.splice(queued, 1);
    const affected = queued >= 0 ? item.batch.items : [item];
    for (const expired of affected) {
      expired.deadline = undefined;
      if (expired.messageId !== undefined) this.outstanding.delete(expired.messageId);
      this.releaseCredits(expired);
      const where = expired.options.path === undefined ? '' : ` ${expired.options.path}`;
      const state = expired.asyncId === undefined ? '' : ' (the server answered STATUS_PENDING)';
      expired.reject(new TimeoutError(`no response to ${expired.command}${where} from ${this.peer} within ${ms} ms${state}`, { command: expired.command }));
    }
  }

  private releaseCredits(item: Outstanding): void {
    if (!item.holdsCredits) return;
    item.holdsCredits = false;
    this.creditsInFlight -= item.credits;
  }

  /**
   * Requests made in the same tick go out together: one pump, one socket write for all of
   * them (a READ window is then one syscall, not one per READ).
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Sends queued requests while credits allow and the socket is not congested. */
  private pump(): void {
    if (this.failure !== undefined || this.queue.length === 0 || this.receivingChain) return;
    this.transport.batch(() => this.sendQueued());
  }

  private sendQueued(): void {
    while (this.failure === undefined && this.queue.length > 0 && !this.transport.congested) {
      const head = this.queue[0]!;
      if (head.credits > this.credits) {
        if (this.creditsInFlight === 0) {
          this.queue.shift();
          const commands = head.items.map((item) => item.command).join('+');
          const error = new ProtocolError(`${commands} needs ${head.credits} credits but the server granted only ${this.credits} and none are outstanding`);
          for (const item of head.items) {
            item.deadline = undefined;
            item.reject(error);
          }
          continue;
        }
        return;
      }
      this.queue.shift();
      this.dispatch(this.chainFrom(head));
    }
  }

  /**
   * `head` and the READs and WRITEs queued right after it as one unrelated chain (IO_CHAIN),
   * while credits allow; `head` alone when it is not such a request. The elements keep their
   * own MessageIds, credits, deadlines and answers (MS-SMB2 3.2.4.1.4: unrelated elements
   * succeed or fail on their own).
   */
  private chainFrom(head: Batch): Batch {
    const limit = this.options.ioChain ?? IO_CHAIN;
    const first = head.items[0]!;
    if (limit < 2 || !this.chainable(head, first)) return head;
    const items = [first];
    let credits = head.credits;
    while (items.length < limit && this.queue.length > 0) {
      const next = this.queue[0]!;
      if (!this.chainable(next, first) || credits + next.credits > this.credits) break;
      this.queue.shift();
      items.push(next.items[0]!);
      credits += next.credits;
    }
    return items.length === 1 ? head : { items, related: false, credits };
  }

  /**
   * A lone READ or WRITE of up to CHAINED_IO_BYTES in `first`'s session, protected as `first` is,
   * and not in a session that signs: a signed chain is signed message by message over a joined
   * copy, which bulk data is better without.
   */
  private chainable(batch: Batch, first: Outstanding): boolean {
    if (batch.items.length !== 1 || batch.related) return false;
    const { options } = batch.items[0]!;
    if ((options.command !== Command.Read && options.command !== Command.Write) || (options.payloadSize ?? 0) > CHAINED_IO_BYTES) return false;
    if (options.keepRequest === true || options.sign === true || options.encrypt !== first.options.encrypt) return false;
    const sessionId = options.sessionId ?? 0n;
    if (sessionId !== (first.options.sessionId ?? 0n)) return false;
    const security = this.sessions.get(sessionId);
    return !(security?.signingKey !== undefined && security.signingRequired);
  }

  private dispatch(batch: Batch): void {
    const { items } = batch;
    const first = items[0]!;
    const sessionId = first.options.sessionId ?? 0n;
    const security = sessionId === 0n ? undefined : this.sessions.get(sessionId);
    const spare = Math.max(0, TARGET_CREDITS - this.credits - this.creditsInFlight);
    const headers = items.map((item, i) => {
      const messageId = this.nextMessageId;
      this.nextMessageId += BigInt(item.credits);
      this.credits -= item.credits;
      this.creditsInFlight += item.credits;
      item.holdsCredits = true;
      item.messageId = messageId;
      const credits = Math.min(MAX_CREDIT_REQUEST, item.credits + (i === items.length - 1 ? spare : 0));
      return { command: item.options.command, messageId, creditCharge: item.charge, credits, treeId: item.options.treeId ?? 0, sessionId };
    });
    try {
      const encrypt = security !== undefined && (security.encryptData || items.some((item) => item.options.encrypt === true));
      if (security === undefined && items.some((item) => item.options.encrypt === true)) throw new SecurityError(`cannot encrypt ${first.command}: no session keys`);
      const sign = !encrypt && security?.signingKey !== undefined && (security.signingRequired || items.some((item) => item.options.sign === true));
      const observer = this.options.observer;
      const { message, parts, views } = composeRequests(
        items.map((item, i) => ({ header: headers[i]!, body: item.options.body })),
        {
          related: batch.related,
          whole: observer !== undefined || first.options.keepRequest === true || this.faults !== undefined,
          signer: sign ? this.signer(security) : undefined,
          edit: this.faults === undefined ? undefined : this.messageEdit(items, undefined, sign, encrypt),
        },
      );
      for (const [i, view] of views.entries()) {
        const item = items[i]!;
        if (item.options.keepRequest === true) item.request = view;
        if (observer !== undefined) notify(observer, messageEvent('send', view, encrypt));
      }
      for (const item of items) {
        item.encrypted = encrypt;
        item.signed = sign;
        this.outstanding.set(item.messageId!, item);
      }
      this.sendMessage(message ?? parts, encrypt ? security : undefined, first.command, sign);
    } catch (error) {
      for (const item of items) {
        this.outstanding.delete(item.messageId!);
        this.releaseCredits(item);
        item.deadline = undefined;
        item.reject(error as Error);
      }
    }
  }

  private signer(security: SessionSecurity | undefined): Signer | undefined {
    const signer = signerOf(security);
    return this.faults === undefined || signer === undefined ? signer : { ...signer, options: requestSignatureOptions(this.faults) };
  }

  /** The faults' outgoingMessage for the messages of `items` (CANCEL for `command`), or undefined without one. */
  private messageEdit(items: readonly Outstanding[], command: string | undefined, signed: boolean, encrypted: boolean): MessageEdit | undefined {
    const hook = this.faults?.outgoingMessage;
    if (hook === undefined) return undefined;
    const dialect = this.negotiatedState?.dialectName;
    return (message, index) => {
      const item = items[index]!;
      const commandCode = command === undefined ? item.options.command : Command.Cancel;
      const context = { command: command ?? item.command, commandCode, index, count: items.length, sessionId: item.options.sessionId ?? 0n, signed, encrypted, dialect };
      return hook(message, context) ?? message;
    };
  }

  /** Sends a clear message (whole or in parts), sealed in a TRANSFORM message when `encryptFor` is given. */
  private sendMessage(message: Buffer | readonly Buffer[], encryptFor: SessionSecurity | undefined, command: string, signed = false): void {
    const parts = Buffer.isBuffer(message) ? [message] : message;
    if (this.faults?.outgoingFrame !== undefined) {
      this.sendFaulty(parts, encryptFor, command, signed);
      return;
    }
    if (encryptFor === undefined) {
      this.transport.send(parts);
      return;
    }
    const { cipher, encryptionKey, nonces, sessionId } = encryptFor;
    if (cipher === undefined || encryptionKey === undefined || nonces === undefined) {
      throw new SecurityError(`cannot encrypt ${command}: the session ${formatSessionId(sessionId)} has no encryption key`);
    }
    const input = { cipher, key: encryptionKey, sessionId, nonce: nonces.next(), message: parts };
    // With the native AEAD: sealed into a frame that is reused once sent.
    const buffers = this.sendBuffers;
    const frame = encryptMessageInto(input, (length) => buffers.take(length));
    if (frame !== undefined) {
      this.transport.send([frame], () => buffers.give(frame));
      return;
    }
    const sealed = encryptMessageVector(input);
    this.transport.send([sealed.header, ...sealed.ciphertext]);
  }

  /** sendMessage through the faults' outgoingFrame. */
  private sendFaulty(parts: readonly Buffer[], encryptFor: SessionSecurity | undefined, command: string, signed: boolean): void {
    let frame = Buffer.concat(parts);
    if (encryptFor !== undefined) {
      const { cipher, encryptionKey, nonces, sessionId } = encryptFor;
      if (cipher === undefined || encryptionKey === undefined || nonces === undefined) {
        throw new SecurityError(`cannot encrypt ${command}: the session ${formatSessionId(sessionId)} has no encryption key`);
      }
      const sealed = encryptMessageVector({ cipher, key: encryptionKey, sessionId, nonce: nonces.next(), message: parts });
      frame = Buffer.concat([sealed.header, ...sealed.ciphertext]);
    }
    const context = { command, encrypted: encryptFor !== undefined, signed: encryptFor === undefined && signed, dialect: this.negotiatedState?.dialectName };
    const sent = this.faults!.outgoingFrame!(frame, context);
    if (sent === null) return;
    this.transport.send([sent ?? frame]);
  }

  /** Returns true when nothing keeps a view of `frame` (it was decrypted into a new buffer). */
  private onFrame(received: Buffer): boolean {
    if (this.failure !== undefined) return false;
    try {
      let frame = received;
      const incoming = this.faults?.incomingFrame;
      if (incoming !== undefined) {
        const transform = classifyMessage(received) === 'transform';
        const command = transform || received.length < 64 ? undefined : commandName(received.readUInt16LE(12));
        const replaced = incoming(received, { command, encrypted: transform, signed: undefined, dialect: this.negotiatedState?.dialectName });
        if (replaced === null) return false;
        frame = replaced ?? received;
      }
      let message = frame;
      let released = false;
      let transformSessionId: bigint | undefined;
      if (classifyMessage(frame) === 'transform') {
        transformSessionId = parseTransformHeader(frame).sessionId;
        const security = this.sessions.get(transformSessionId);
        if (security?.cipher === undefined || security.decryptionKey === undefined) {
          throw new SecurityError(`encrypted message for session ${formatSessionId(transformSessionId)}, which has no decryption key`);
        }
        const opened = decryptMessage({ cipher: security.cipher, key: security.decryptionKey, frame, inPlace: true });
        message = opened.message;
        // Decrypted into new memory, nothing keeps a view of the frame; in place, the message is the frame.
        released = !opened.inPlace;
      }
      // Compound responses (MS-SMB2 3.2.5.1.9): each element is its own signed message.
      for (const part of splitCompound(message)) this.onResponse(part, transformSessionId);
      this.pump();
      // With an incomingFrame fault the frame's memory stays out of reuse: the hook may keep it.
      return released && incoming === undefined;
    } catch (error) {
      this.fail(error instanceof Error ? error : new ProtocolError(String(error)));
      return false;
    }
  }

  /**
   * Whether large READ responses on a tree that is (or is not) encrypted can be received in
   * place (see route): not while an observer watches, and not with CCM.
   */
  receivesInPlace(encrypted: boolean): boolean {
    if (this.options.observer !== undefined || this.faults?.incomingFrame !== undefined) return false;
    const cipher = this.negotiated.cipher;
    return !encrypted || (cipher !== undefined && isGcm(cipher));
  }

  /**
   * FrameRouter: a large READ response to a request that gave `readInto` goes straight into that
   * buffer (PlacedRead). Only a successful response with its data right after the fixed fields
   * qualifies: clear, signed (verified over the bytes as they arrive) or GCM-encrypted, alone in
   * its frame or (clear) in a chain of responses, whose other messages are received whole
   * (PlacedChain); anything else (CCM, an encrypted chain, an observer watching, whatever looks
   * odd) is received whole and judged the usual way. receivesInPlace predicts this for the
   * read stream's READ size and must change with it.
   */
  private route(prefix: Buffer, frameLength: number): RoutedFrame | undefined {
    if (this.failure !== undefined || this.options.observer !== undefined || this.faults?.incomingFrame !== undefined) return undefined;
    let chain: PlacedChain;
    try {
      if (classifyMessage(prefix) === 'transform') {
        const transformSessionId = parseTransformHeader(prefix).sessionId;
        const security = this.sessions.get(transformSessionId);
        if (security?.cipher === undefined || security.decryptionKey === undefined || !isGcm(security.cipher)) return undefined;
        const decipher = openMessageDecipher({ cipher: security.cipher, key: security.decryptionKey, head: prefix, frameLength });
        const head = decipher.update(prefix.subarray(TRANSFORM_HEADER_BYTES));
        const header = decodeHeader(head);
        if (header.nextCommand !== 0 || header.sessionId !== transformSessionId) return undefined;
        return this.placeRead(head, header, frameLength - TRANSFORM_HEADER_BYTES, 0, decipher, transformSessionId)?.read;
      }
      const header = decodeHeader(prefix);
      if (header.nextCommand === 0) {
        const read = this.placeRead(prefix, header, frameLength, 0)?.read;
        // The first data bytes came with the prefix.
        read?.push(prefix.subarray(READ_RESPONSE_DATA_OFFSET));
        return read;
      }
      if (this.placeable(header) === undefined) return undefined;
      chain = new PlacedChain(frameLength, {
        place: (head, header, length, last) => this.placeRead(head, header, length, last ? 0 : 7),
        whole: (message) => this.onChained(message),
        end: () => {
          this.receivingChain = false;
          this.pump();
        },
      });
    } catch {
      return undefined;
    }
    // From here the prefix is the chain's: a malformed chain fails the connection (through the transport).
    this.receivingChain = true;
    chain.push(prefix);
    return chain;
  }

  /** The outstanding READ a response may be received in place for, if it may. */
  private placeable(header: Header): Outstanding | undefined {
    if (header.command !== Command.Read || !isResponse(header) || header.status !== NtStatus.Success) return undefined;
    const item = this.outstanding.get(header.messageId);
    if (item === undefined || item.options.readInto === undefined || item.command !== 'READ') return undefined;
    return item;
  }

  /**
   * Where a READ response's data goes when it can be received in place (route). `head`: the
   * clear message's first 80 bytes (header and fixed fields), kept as the response's message;
   * `length`: the message's bytes, of which up to `padding` may follow the data (a chain's
   * alignment); `decipher`: set when the bytes that follow arrive encrypted.
   */
  private placeRead(head: Buffer, header: Header, length: number, padding: number, decipher?: AeadDecipher, transformSessionId?: bigint): { read: PlacedRead; dataLength: number } | undefined {
    const item = this.placeable(header);
    const wanted = item?.options.readInto;
    if (item === undefined || wanted === undefined) return undefined;
    // Memory asked for on demand: for an encrypted response, the decrypted message received
    // whole can be that memory (its data a view of it), one allocation instead of two, since
    // node:crypto returns what it decrypts in memory of its own.
    if (decipher !== undefined && typeof wanted === 'function') return undefined;
    const { dataOffset, dataLength } = decodeReadResponseHead(head);
    const end = dataOffset + dataLength;
    if (dataOffset !== READ_RESPONSE_DATA_OFFSET || end > length || length - end > padding) return undefined;
    if (dataLength > (typeof wanted === 'function' ? item.options.payloadSize ?? 0 : wanted.length)) return undefined;
    const message = head.subarray(0, dataOffset);
    let check: SignatureCheck | undefined;
    const sessionId = item.options.sessionId ?? 0n;
    if ((header.flags & HeaderFlag.Signed) !== 0) {
      // As checkSignature: the request's session signs a READ response.
      const security = this.sessions.get(sessionId);
      if (decipher !== undefined || security?.signingKey === undefined) return undefined;
      check = openSignatureCheck(security.signingAlgorithm, security.signingKey, message);
    }
    const into = typeof wanted === 'function' ? wanted(dataLength) : wanted;
    const read = new PlacedRead(into.subarray(0, dataLength), decipher, check, () => this.failure === undefined && this.outstanding.get(header.messageId) === item, (placed) => {
      this.placing = undefined;
      try {
        placed.verify();
        if (check !== undefined && !placed.signatureMatches()) {
          throw new SecurityError(`bad signature on READ response (message id ${header.messageId}, session ${formatSessionId(sessionId)})`, { command: 'READ' });
        }
        this.onResponse(message, transformSessionId, placed.data, check !== undefined);
        this.pump();
      } catch (error) {
        this.fail(error instanceof Error ? error : new ProtocolError(String(error)));
      }
    });
    this.placing = item;
    return { read, dataLength };
  }

  /** A message of a chain received whole around READs received in place (PlacedChain). */
  private onChained(message: Buffer): void {
    if (this.failure !== undefined) return;
    try {
      this.onResponse(message, undefined);
      this.pump();
    } catch (error) {
      this.fail(error instanceof Error ? error : new ProtocolError(String(error)));
    }
  }

  /** `placed`: the data of a READ received in place; `verified`: its signature already checked (route). */
  private onResponse(message: Buffer, transformSessionId: bigint | undefined, placed?: Buffer, verified = false): void {
    const header = decodeHeader(message);
    const encrypted = transformSessionId !== undefined;
    if (!isResponse(header)) throw new ProtocolError(`received a ${commandName(header.command)} request from the server`);
    if (this.options.observer !== undefined) notify(this.options.observer, messageEvent('receive', message, encrypted));
    this.credits += header.credits;
    if (header.messageId === UNSOLICITED_MESSAGE_ID) return;
    const item = this.outstanding.get(header.messageId);
    if (item === undefined) return;
    const command = commandName(header.command);
    if (command !== item.command) {
      throw new ProtocolError(`response to message ${header.messageId} is ${command}, but the request was ${item.command}`);
    }
    if (encrypted && header.sessionId !== transformSessionId) {
      throw new SecurityError(`${command} response: SessionId ${formatSessionId(header.sessionId)} differs from its TRANSFORM_HEADER's ${formatSessionId(transformSessionId)}`);
    }
    const isInterim = header.status === NtStatus.Pending && header.isAsync;
    const signatureVerified = !encrypted && !isInterim && (verified || this.checkSignature(item, header, message));
    if (isInterim) {
      // MS-SMB2 3.2.5.1.5: keep waiting for the final response under the same MessageId.
      item.asyncId = header.asyncId;
      this.releaseCredits(item);
      const extend = item.options.pendingTimeoutMs;
      if (extend === null) item.deadline = undefined;
      else if (extend !== undefined) this.startTimer(item, extend);
      return;
    }
    this.outstanding.delete(header.messageId);
    this.releaseCredits(item);
    item.deadline = undefined;
    const status = header.status;
    const unprotected = item.encrypted && !encrypted ? 'an unencrypted response to an encrypted request'
      : !encrypted && !signatureVerified && (item.signed || this.sessions.get(item.options.sessionId ?? 0n)?.signingRequired === true)
        ? 'an unsigned response in a session that signs' : undefined;
    if (unprotected !== undefined) {
      const where = item.options.path === undefined ? '' : ` ${item.options.path}`;
      const details = { status, statusName: ntStatusName(status), command, ...(item.options.path === undefined ? {} : { path: item.options.path }) };
      item.reject(new SecurityError(`${formatStatus(status, ntStatusName(status))} on ${command}${where}, in ${unprotected}`, details));
      return;
    }
    if (isError(status) && !(item.options.okStatuses ?? []).includes(status)) {
      item.reject(SmbError.fromStatus(status, ntStatusName(status), command, item.options.path));
      return;
    }
    item.resolve({ header, message, status, encrypted, signatureVerified, request: item.request, placed });
  }

  /** Verifies a signed response when the session's key is known; a bad signature ends the connection. */
  private checkSignature(item: Outstanding, header: Header, message: Buffer): boolean {
    if ((header.flags & HeaderFlag.Signed) === 0) return false;
    // MS-SMB2 3.2.5.1.3: SESSION_SETUP takes the SessionId from the response, others from the request.
    const sessionId = header.command === Command.SessionSetup ? header.sessionId : item.options.sessionId ?? 0n;
    const security = this.sessions.get(sessionId);
    if (security?.signingKey === undefined) return false;
    if (!verifyMessageSignature(security.signingAlgorithm, security.signingKey, message)) {
      throw new SecurityError(
        `bad signature on ${item.command} response (message id ${header.messageId}, session ${formatSessionId(sessionId)})`,
        { command: item.command },
      );
    }
    return true;
  }

  /** Ends the connection: every outstanding and queued request fails with `error`. */
  fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.transport.close();
    this.sendBuffers.clear();
    const waiting = [...this.outstanding.values(), ...this.queue.flatMap((batch) => batch.items)];
    this.outstanding.clear();
    this.queue.length = 0;
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const item of waiting) {
      item.deadline = undefined;
      item.reject(error);
    }
  }

  close(): void {
    this.fail(new TransportError(`connection to ${this.peer} closed by the client`));
  }
}
