/**
 * Requests from the caller's promise to their final response (MS-SMB2 3.2.4.1, 3.2.5.1): queued
 * (RequestQueue) until credits allow, composed and protected, sent, tracked by MessageId with a
 * deadline (Deadlines), cancelled on an abort signal (3.2.4.24), answered by the responses that
 * arrive (STATUS_PENDING interims included, 3.2.5.1.5), whole or received in place
 * (ReceiveInPlace).
 */
import { ProtocolError, SecurityError, SmbError, TimeoutError, TransportError, formatStatus } from './errors.js';
import { Deadlines } from './deadlines.js';
import { messageEdit } from './faults.js';
import type { FaultHook } from './faults.js';
import { messageEvent, notify } from './observer.js';
import type { SmbObserver } from './observer.js';
import { cancelledBeforeSending, composeCancel, composeRequests } from './outgoing.js';
import { openFrame, requestSigner, seal, unprotected, verifyResponse } from './protection.js';
import type { Sessions } from './protection.js';
import { ReceiveInPlace } from './receive-in-place.js';
import { IO_CHAIN, RequestQueue } from './request-queue.js';
import { formatSessionId } from './requests.js';
import type { Batch, Outstanding, RequestOptions, SessionSecurity, SmbResponse } from './requests.js';
import { SendBuffers } from './send-buffers.js';
import { Command, NtStatus, classifyMessage, commandName, decodeHeader, isError, isResponse, ntStatusName, splitCompound } from './wire/index.js';

const UNSOLICITED_MESSAGE_ID = 0xffffffffffffffffn;

/** What the dispatcher needs of its connection. */
export interface DispatchHost {
  readonly peer: string;
  readonly timeoutMs: number;
  readonly observer: SmbObserver | undefined;
  readonly faults: FaultHook | undefined;
  readonly sessions: Sessions;
  /** Why the connection ended, once it has. */
  readonly failure: Error | undefined;
  /** LARGE_MTU was negotiated: requests are charged credits by size. */
  readonly multiCredit: boolean;
  readonly dialect: string | undefined;
  /** Ends the connection (Connection.fail), which calls Dispatcher.failAll. */
  fail(error: Error): void;
}

/** The socket side (Transport). */
export interface FrameSink {
  readonly congested: boolean;
  send(parts: readonly Buffer[], written?: () => void): boolean;
  batch(work: () => void): void;
}

export class Dispatcher {
  private readonly outstanding = new Map<bigint, Outstanding>();
  private readonly queue: RequestQueue;
  private readonly deadlines = new Deadlines((now) => this.sweep(now));
  /** Frames for large encrypted messages, back here once the socket has taken them. */
  private readonly sendBuffers = new SendBuffers();
  readonly inPlace: ReceiveInPlace;
  private pumpScheduled = false;
  /**
   * A chain of responses is arriving: requests made meanwhile (the transfer's next READs,
   * one per response received) wait for its end and go out together, as a chain again.
   */
  private receivingChain = false;
  private sink!: FrameSink;

  constructor(private readonly host: DispatchHost, ioChain: number | undefined) {
    this.queue = new RequestQueue(ioChain ?? IO_CHAIN, (sessionId) => {
      const security = host.sessions.get(sessionId);
      return security?.signingKey !== undefined && security.signingRequired;
    });
    this.inPlace = new ReceiveInPlace({
      get receiving() {
        return host.failure === undefined && host.observer === undefined && host.faults?.incomingFrame === undefined;
      },
      outstanding: (messageId) => this.outstanding.get(messageId),
      session: (sessionId) => host.sessions.get(sessionId),
      placed: (message, transformSessionId, data, verified) => {
        this.onResponse(message, transformSessionId, data, verified);
        this.pump();
      },
      whole: (message) => this.onChained(message),
      chain: (arriving) => {
        this.receivingChain = arriving;
        if (!arriving) this.pump();
      },
      fail: (error) => host.fail(error),
    });
  }

  /** Where frames go; set once the transport is open. */
  attach(sink: FrameSink): void {
    this.sink = sink;
  }

  enqueue(requests: readonly RequestOptions[], related: boolean): Promise<SmbResponse>[] {
    const failure = this.host.failure;
    if (failure !== undefined) {
      const error = new TransportError(`connection to ${this.host.peer} is closed: ${failure.message}`, { cause: failure });
      return requests.map(() => Promise.reject(error));
    }
    const multiCredit = this.host.multiCredit;
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
    for (const item of batch.items) this.deadlines.start(item, item.options.timeoutMs ?? this.host.timeoutMs);
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
    if (this.queue.remove(item.batch) || item.messageId === undefined) {
      for (const other of item.batch.items) {
        other.deadline = undefined;
        other.reject(cancelledBeforeSending(other.command, other.options.path));
      }
      return;
    }
    if (this.outstanding.get(item.messageId) !== item || this.host.failure !== undefined) return;
    // The server answers the cancelled request (usually STATUS_CANCELLED); wait for that, but not forever.
    this.deadlines.start(item, this.host.timeoutMs);
    const sessionId = item.options.sessionId ?? 0n;
    const security = this.host.sessions.get(sessionId);
    try {
      const message = composeCancel(
        { messageId: item.messageId, asyncId: item.asyncId, treeId: item.options.treeId ?? 0, sessionId },
        item.signed ? requestSigner(security, this.host.faults) : undefined,
        this.host.faults === undefined ? undefined : messageEdit(this.host.faults, [{ command: 'CANCEL', commandCode: Command.Cancel, sessionId }], { signed: item.signed, encrypted: item.encrypted, dialect: this.host.dialect }),
      );
      if (this.host.observer !== undefined) notify(this.host.observer, messageEvent('send', message, item.encrypted));
      this.sendMessage(message, item.encrypted ? security : undefined, 'CANCEL', item.signed);
    } catch (error) {
      this.host.fail(error instanceof Error ? error : new ProtocolError(String(error)));
    }
  }

  /** Fails the requests whose deadline passed; returns the next deadline (Deadlines). */
  private sweep(now: number): number {
    if (this.host.failure !== undefined) return Infinity;
    let next = Infinity;
    const expired: Outstanding[] = [];
    for (const item of this.outstanding.values()) {
      if (item.deadline === undefined) continue;
      if (item.deadline <= now) expired.push(item);
      else next = Math.min(next, item.deadline);
    }
    for (const batch of this.queue.waiting) {
      // A queued batch expires together (expire() takes all of it): its elements are one frame.
      const late = batch.items.find((item) => item.deadline !== undefined && item.deadline <= now);
      if (late !== undefined) expired.push(late);
      else for (const item of batch.items) if (item.deadline !== undefined) next = Math.min(next, item.deadline);
    }
    for (const item of expired) {
      if (this.host.failure !== undefined) return Infinity;
      this.expire(item);
    }
    if (expired.length > 0) this.pump();
    return this.host.failure === undefined ? next : Infinity;
  }

  private expire(item: Outstanding): void {
    const ms = item.waitMs;
    const peer = this.host.peer;
    if (this.inPlace.placing === item) {
      // The socket's next read may already be aimed at the reader's buffer, so the request
      // cannot end while the connection lives on; nothing else can arrive before this frame anyway.
      const where = item.options.path === undefined ? '' : ` ${item.options.path}`;
      this.host.fail(new TimeoutError(`no response to ${item.command}${where} from ${peer} within ${ms} ms: the server stopped in the middle of sending it, so the connection is closed`, { command: item.command }));
      return;
    }
    const queued = this.queue.waiting.includes(item.batch);
    if (!queued && item.messageId !== undefined && item.asyncId === undefined) {
      // MS-SMB2 3.2.6.1: the client may disconnect. A request sent and not even answered
      // STATUS_PENDING means a server that stopped answering: every request after it (the
      // cleanup CLOSE first) would wait out its own timeout in vain, so all fail now with this error.
      const where = item.options.path === undefined ? '' : ` ${item.options.path}`;
      this.host.fail(new TimeoutError(`no response to ${item.command}${where} from ${peer} within ${ms} ms`, { command: item.command }));
      return;
    }
    if (queued) this.queue.remove(item.batch);
    const affected = queued ? item.batch.items : [item];
    for (const expired of affected) {
      expired.deadline = undefined;
      if (expired.messageId !== undefined) this.outstanding.delete(expired.messageId);
      this.queue.release(expired);
      const where = expired.options.path === undefined ? '' : ` ${expired.options.path}`;
      const state = expired.asyncId === undefined ? '' : ' (the server answered STATUS_PENDING)';
      expired.reject(new TimeoutError(`no response to ${expired.command}${where} from ${peer} within ${ms} ms${state}`, { command: expired.command }));
    }
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
  pump(): void {
    if (this.host.failure !== undefined || this.queue.length === 0 || this.receivingChain) return;
    this.sink.batch(() => {
      while (this.host.failure === undefined && !this.sink.congested) {
        const batch = this.queue.next();
        if (batch === undefined) return;
        this.dispatch(batch);
      }
    });
  }

  private dispatch(batch: Batch): void {
    const { items } = batch;
    const first = items[0]!;
    const sessionId = first.options.sessionId ?? 0n;
    const security = sessionId === 0n ? undefined : this.host.sessions.get(sessionId);
    const headers = this.queue.headers(batch, sessionId);
    try {
      const encrypt = security !== undefined && (security.encryptData || items.some((item) => item.options.encrypt === true));
      if (security === undefined && items.some((item) => item.options.encrypt === true)) throw new SecurityError(`cannot encrypt ${first.command}: no session keys`);
      const sign = !encrypt && security?.signingKey !== undefined && (security.signingRequired || items.some((item) => item.options.sign === true));
      const { observer, faults } = this.host;
      const { message, parts, views } = composeRequests(
        items.map((item, i) => ({ header: headers[i]!, body: item.options.body })),
        {
          related: batch.related,
          whole: observer !== undefined || first.options.keepRequest === true || faults !== undefined,
          signer: sign ? requestSigner(security, faults) : undefined,
          edit: faults === undefined ? undefined : messageEdit(faults, items.map((item) => ({ command: item.command, commandCode: item.options.command, sessionId })), { signed: sign, encrypted: encrypt, dialect: this.host.dialect }),
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
        this.queue.release(item);
        item.deadline = undefined;
        item.reject(error as Error);
      }
    }
  }

  /** Sends a clear message (whole or in parts), sealed in a TRANSFORM message when `encryptFor` is given. */
  private sendMessage(message: Buffer | readonly Buffer[], encryptFor: SessionSecurity | undefined, command: string, signed: boolean): void {
    const parts = Buffer.isBuffer(message) ? [message] : message;
    const outgoing = this.host.faults?.outgoingFrame;
    if (outgoing !== undefined) {
      const frame = Buffer.concat(encryptFor === undefined ? parts : seal(parts, encryptFor, command).parts);
      const sent = outgoing(frame, { command, encrypted: encryptFor !== undefined, signed: encryptFor === undefined && signed, dialect: this.host.dialect });
      if (sent !== null) this.sink.send([sent ?? frame]);
      return;
    }
    if (encryptFor === undefined) {
      this.sink.send(parts);
      return;
    }
    const sealed = seal(parts, encryptFor, command, this.sendBuffers);
    this.sink.send(sealed.parts, sealed.written);
  }

  /** Returns true when nothing keeps a view of `frame` (it was decrypted into a new buffer). */
  onFrame(received: Buffer): boolean {
    if (this.host.failure !== undefined) return false;
    try {
      let frame = received;
      const incoming = this.host.faults?.incomingFrame;
      if (incoming !== undefined) {
        const transform = classifyMessage(received) === 'transform';
        const command = transform || received.length < 64 ? undefined : commandName(received.readUInt16LE(12));
        const replaced = incoming(received, { command, encrypted: transform, signed: undefined, dialect: this.host.dialect });
        if (replaced === null) return false;
        frame = replaced ?? received;
      }
      const { message, released, transformSessionId } = openFrame(frame, this.host.sessions);
      // Compound responses (MS-SMB2 3.2.5.1.9): each element is its own signed message.
      for (const part of splitCompound(message)) this.onResponse(part, transformSessionId);
      this.pump();
      // With an incomingFrame fault the frame's memory stays out of reuse: the hook may keep it.
      return released && incoming === undefined;
    } catch (error) {
      this.host.fail(error instanceof Error ? error : new ProtocolError(String(error)));
      return false;
    }
  }

  /** A message of a chain received whole around READs received in place (PlacedChain). */
  private onChained(message: Buffer): void {
    if (this.host.failure !== undefined) return;
    try {
      this.onResponse(message, undefined);
      this.pump();
    } catch (error) {
      this.host.fail(error instanceof Error ? error : new ProtocolError(String(error)));
    }
  }

  /** `placed`: the data of a READ received in place; `verified`: its signature already checked (ReceiveInPlace). */
  private onResponse(message: Buffer, transformSessionId: bigint | undefined, placed?: Buffer, verified = false): void {
    const header = decodeHeader(message);
    const encrypted = transformSessionId !== undefined;
    if (!isResponse(header)) throw new ProtocolError(`received a ${commandName(header.command)} request from the server`);
    if (this.host.observer !== undefined) notify(this.host.observer, messageEvent('receive', message, encrypted));
    this.queue.grant(header.credits);
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
    const signatureVerified = !encrypted && !isInterim && (verified || verifyResponse(this.host.sessions, item, header, message));
    if (isInterim) {
      // MS-SMB2 3.2.5.1.5: keep waiting for the final response under the same MessageId.
      item.asyncId = header.asyncId;
      this.queue.release(item);
      const extend = item.options.pendingTimeoutMs;
      if (extend === null) item.deadline = undefined;
      else if (extend !== undefined) this.deadlines.start(item, extend);
      return;
    }
    this.outstanding.delete(header.messageId);
    this.queue.release(item);
    item.deadline = undefined;
    const status = header.status;
    const problem = unprotected(this.host.sessions, item, encrypted, signatureVerified);
    if (problem !== undefined) {
      const where = item.options.path === undefined ? '' : ` ${item.options.path}`;
      const details = { status, statusName: ntStatusName(status), command, ...(item.options.path === undefined ? {} : { path: item.options.path }) };
      item.reject(new SecurityError(`${formatStatus(status, ntStatusName(status))} on ${command}${where}, in ${problem}`, details));
      return;
    }
    if (isError(status) && !(item.options.okStatuses ?? []).includes(status)) {
      item.reject(SmbError.fromStatus(status, ntStatusName(status), command, item.options.path));
      return;
    }
    item.resolve({ header, message, status, encrypted, signatureVerified, request: item.request, placed });
  }

  /** The connection ended: every outstanding and queued request fails with `error`. */
  failAll(error: Error): void {
    this.sendBuffers.clear();
    this.deadlines.stop();
    const waiting = [...this.outstanding.values(), ...this.queue.drain()];
    this.outstanding.clear();
    for (const item of waiting) {
      item.deadline = undefined;
      item.reject(error);
    }
  }
}
