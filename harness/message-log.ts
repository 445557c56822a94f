/**
 * An observer that keeps the clear bytes of small exchanges, for scenarios that look inside
 * messages (NEGOTIATE capabilities, IOCTL codes), and a tee to keep the trace's own observer.
 */
import type { SmbMessageEvent, SmbObserver, SmbSessionKeys } from '../clients/smb/index.js';

export class MessageLog implements SmbObserver {
  readonly messages: SmbMessageEvent[] = [];

  onMessage(event: SmbMessageEvent): void {
    this.messages.push({ ...event, bytes: Buffer.from(event.bytes) });
  }

  /** Messages of a command, e.g. `NEGOTIATE`, in one direction. */
  find(command: string, direction: 'send' | 'receive'): SmbMessageEvent[] {
    return this.messages.filter((m) => m.command === command && m.direction === direction);
  }

  /** The single message of a command in one direction; throws naming it when absent. */
  one(command: string, direction: 'send' | 'receive'): SmbMessageEvent {
    const found = this.find(command, direction);
    if (found.length === 0) throw new Error(`no ${command} ${direction === 'send' ? 'request' : 'response'} was seen`);
    return found[0]!;
  }
}

export function tee(...observers: SmbObserver[]): SmbObserver {
  return {
    onMessage: (event) => {
      for (const o of observers) o.onMessage(event);
    },
    onSessionKeys: (keys: SmbSessionKeys) => {
      for (const o of observers) o.onSessionKeys?.(keys);
    },
  };
}
