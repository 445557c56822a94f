/**
 * A credentials cache in memory: the ticket-granting ticket per client principal and the
 * service tickets got with it, reused until shortly before they end, then got anew. Entries are
 * keyed by the password too (an HMAC under a key of this cache), so a wrong password is never
 * answered from the cache.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { requestServiceTicket, requestTicketGrantingTicket, type Credentials, type PasswordLogon } from './kdc.js';
import { NameType, principalToString, type PrincipalName } from './messages.js';

/** A ticket ending sooner than this is not used for a new logon (RFC 4120 leaves it to the client). */
const DEFAULT_RENEW_BEFORE_MS = 60_000;

export interface TicketCacheStats {
  /** AS exchanges made (one per TGT got). */
  asExchanges: number;
  /** TGS exchanges made (one per service ticket got). */
  tgsExchanges: number;
}

export interface TicketCacheOptions {
  /** Tickets that end within this many ms are got anew; default one minute. */
  renewBeforeMs?: number;
}

export class KerberosTicketCache {
  readonly #secret = randomBytes(32);
  readonly #renewBeforeMs: number;
  readonly #tgts = new Map<string, Credentials>();
  readonly #services = new Map<string, Credentials>();
  readonly stats: TicketCacheStats = { asExchanges: 0, tgsExchanges: 0 };

  constructor(options: TicketCacheOptions = {}) {
    this.#renewBeforeMs = options.renewBeforeMs ?? DEFAULT_RENEW_BEFORE_MS;
  }

  /** A service ticket for `service`, from the cache or from the KDC (AS then TGS as needed). */
  async serviceTicket(logon: PasswordLogon, service: PrincipalName): Promise<Credentials> {
    const now = (logon.now ?? (() => new Date()))().getTime();
    const who = this.#key(logon);
    const serviceKey = `${who}\u0000${principalToString(service).toLowerCase()}`;
    const cached = this.#services.get(serviceKey);
    if (cached !== undefined && this.#fresh(cached, now)) return cached;
    let tgt = this.#tgts.get(who);
    if (tgt === undefined || !this.#fresh(tgt, now)) {
      this.#tgts.delete(who);
      tgt = await requestTicketGrantingTicket(logon);
      this.stats.asExchanges++;
      this.#tgts.set(who, tgt);
    }
    const ticket = await requestServiceTicket(tgt, service, logon);
    this.stats.tgsExchanges++;
    this.#services.set(serviceKey, ticket);
    return ticket;
  }

  /** Forgets every ticket. */
  clear(): void {
    this.#tgts.clear();
    this.#services.clear();
  }

  get size(): number {
    return this.#tgts.size + this.#services.size;
  }

  #fresh(credentials: Credentials, now: number): boolean {
    return credentials.endtime.getTime() - now > this.#renewBeforeMs;
  }

  #key(logon: PasswordLogon): string {
    const mac = createHmac('sha256', this.#secret).update(logon.password).digest('base64url');
    return `${logon.username.toLowerCase()}@${logon.realm.toUpperCase()}\u0000${mac}`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `KerberosTicketCache { tickets: ${this.size} }`;
  }
}

/** cifs/<host> (MS-SMB2 3.2.4.2.3: the service principal of an SMB server). */
export function cifsPrincipal(host: string): PrincipalName {
  return { type: NameType.SRV_INST, components: ['cifs', host] };
}
