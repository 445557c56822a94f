/**
 * The state of one SPNEGO exchange on SESSION_SETUP. A server that answers out of turn (another
 * round where the mechanism has none, a token after completion) breaks the exchange: a protocol
 * error on SESSION_SETUP naming the state, not a crash; any failure leaves the exchange failed.
 */
import { ProtocolError } from '../errors.js';

export class ExchangeSteps<Step extends string> {
  #step: Step | 'failed';

  constructor(private readonly mechanism: string, initial: Step) {
    this.#step = initial;
  }

  get current(): Step | 'failed' {
    return this.#step;
  }

  /** Runs `action` in step `from`; `to` once it succeeded, 'failed' if it threw. */
  advance<T>(from: Step, to: Step, action: () => T): T {
    if (this.#step !== from) {
      throw new ProtocolError(`SESSION_SETUP: the server's answer came with the ${this.mechanism} exchange in state ${this.#step}, where ${from} was expected`, {
        command: 'SESSION_SETUP',
        field: 'SESSION_SETUP response.SecurityBuffer',
      });
    }
    try {
      const result = action();
      this.#step = to;
      return result;
    } catch (error) {
      this.#step = 'failed';
      throw error;
    }
  }
}
