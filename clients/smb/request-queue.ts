/**
 * Requests waiting to be sent, the credits that let them go (MS-SMB2 3.2.4.1.5, 3.2.5.1.4) and
 * the MessageIds they take, and the I/O chains: small READs and WRITEs queued one after another
 * leave as one compound chain (IO_CHAIN).
 */
import { ProtocolError } from './errors.js';
import type { Batch, Outstanding } from './requests.js';
import { Command } from './wire/index.js';
import type { HeaderFields } from './wire/index.js';

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

export class RequestQueue {
  private readonly batches: Batch[] = [];
  private credits = 1;
  private creditsInFlight = 0;
  private nextMessageId = 0n;

  /**
   * `chainLimit`: the most requests an I/O chain joins (1: none); `signsAll(sessionId)`: the
   * session signs every request (its requests are not chained: a signed chain is signed message
   * by message over a joined copy, which bulk data is better without).
   */
  constructor(private readonly chainLimit: number, private readonly signsAll: (sessionId: bigint) => boolean) {}

  get length(): number {
    return this.batches.length;
  }

  /** The batches waiting, oldest first. */
  get waiting(): readonly Batch[] {
    return this.batches;
  }

  push(batch: Batch): void {
    this.batches.push(batch);
  }

  /** Takes `batch` out of the queue; false when it was not (or no longer) queued. */
  remove(batch: Batch): boolean {
    const at = this.batches.indexOf(batch);
    if (at < 0) return false;
    this.batches.splice(at, 1);
    return true;
  }

  /** Every queued request, the queue emptied. */
  drain(): Outstanding[] {
    const items = this.batches.flatMap((batch) => batch.items);
    this.batches.length = 0;
    return items;
  }

  /** Credits the server granted. */
  grant(credits: number): void {
    this.credits += credits;
  }

  /** The credits `item` held while it was in flight come back (its response arrived or it ended). */
  release(item: Outstanding): void {
    if (!item.holdsCredits) return;
    item.holdsCredits = false;
    this.creditsInFlight -= item.credits;
  }

  /**
   * The next batch the credits allow (with the I/O requests queued behind it as a chain), or
   * undefined while it must wait for credits. A batch that needs more credits than the server
   * granted, with none outstanding that could bring more, is rejected.
   */
  next(): Batch | undefined {
    for (;;) {
      const head = this.batches[0];
      if (head === undefined) return undefined;
      if (head.credits <= this.credits) {
        this.batches.shift();
        return this.chainFrom(head);
      }
      if (this.creditsInFlight !== 0) return undefined;
      this.batches.shift();
      const commands = head.items.map((item) => item.command).join('+');
      const error = new ProtocolError(`${commands} needs ${head.credits} credits but the server granted only ${this.credits} and none are outstanding`);
      for (const item of head.items) {
        item.deadline = undefined;
        item.reject(error);
      }
    }
  }

  /**
   * The headers of `batch`'s requests: each takes its MessageIds and spends its credits; the
   * last asks for enough to bring the balance back to TARGET_CREDITS.
   */
  headers(batch: Batch, sessionId: bigint): HeaderFields[] {
    const { items } = batch;
    const spare = Math.max(0, TARGET_CREDITS - this.credits - this.creditsInFlight);
    return items.map((item, i) => {
      const messageId = this.nextMessageId;
      this.nextMessageId += BigInt(item.credits);
      this.credits -= item.credits;
      this.creditsInFlight += item.credits;
      item.holdsCredits = true;
      item.messageId = messageId;
      const credits = Math.min(MAX_CREDIT_REQUEST, item.credits + (i === items.length - 1 ? spare : 0));
      return { command: item.options.command, messageId, creditCharge: item.charge, credits, treeId: item.options.treeId ?? 0, sessionId };
    });
  }

  /**
   * `head` and the READs and WRITEs queued right after it as one unrelated chain (IO_CHAIN),
   * while credits allow; `head` alone when it is not such a request. The elements keep their
   * own MessageIds, credits, deadlines and answers (MS-SMB2 3.2.4.1.4: unrelated elements
   * succeed or fail on their own).
   */
  private chainFrom(head: Batch): Batch {
    const first = head.items[0]!;
    if (this.chainLimit < 2 || !this.chainable(head, first)) return head;
    const items = [first];
    let credits = head.credits;
    while (items.length < this.chainLimit && this.batches.length > 0) {
      const next = this.batches[0]!;
      if (!this.chainable(next, first) || credits + next.credits > this.credits) break;
      this.batches.shift();
      items.push(next.items[0]!);
      credits += next.credits;
    }
    return items.length === 1 ? head : { items, related: false, credits };
  }

  /** A lone READ or WRITE of up to CHAINED_IO_BYTES in `first`'s session, protected as `first` is, in a session that does not sign everything. */
  private chainable(batch: Batch, first: Outstanding): boolean {
    if (batch.items.length !== 1 || batch.related) return false;
    const { options } = batch.items[0]!;
    if ((options.command !== Command.Read && options.command !== Command.Write) || (options.payloadSize ?? 0) > CHAINED_IO_BYTES) return false;
    if (options.keepRequest === true || options.sign === true || options.encrypt !== first.options.encrypt) return false;
    const sessionId = options.sessionId ?? 0n;
    return sessionId === (first.options.sessionId ?? 0n) && !this.signsAll(sessionId);
  }
}
