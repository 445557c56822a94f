/**
 * Which mechanism a logon uses: NTLM, Kerberos, or negotiate (Kerberos where it can be had,
 * NTLM otherwise, as Windows' Negotiate package does). Kerberos needs its tickets before the
 * first SESSION_SETUP, so this runs after NEGOTIATE, with the server's SPNEGO hint.
 */
import { isIP } from 'node:net';
import { ArgumentError } from '../errors.js';
import { createNtlmAuthenticator, type Authenticator } from './authenticator.js';
import { KerberosAuthenticator } from './kerberos/authenticator.js';
import { KerberosError } from './kerberos/errors.js';
import type { KdcAddress } from './kerberos/kdc.js';
import { KerberosTicketCache, cifsPrincipal } from './kerberos/ticket-cache.js';
import { Oid, decodeNegTokenInit } from './spnego.js';

export type AuthMechanismChoice = 'ntlm' | 'kerberos' | 'negotiate';

export interface KerberosClientOptions {
  /** The realm (upper case); default the one in `user@REALM`. */
  realm?: string;
  /** The KDC: `host` or `host:port` (no DNS look-up of the realm's KDCs). */
  kdc?: string;
  /** The server's host name for its service principal cifs/<serviceHost>; default the host connected to, which must then be a name, not an address. */
  serviceHost?: string;
  /** Tickets to reuse across connections; default a cache of this connection's own. */
  ticketCache?: KerberosTicketCache;
  /** Added to the client's clock for every Kerberos timestamp (tests of KRB_AP_ERR_SKEW). */
  clockSkewMs?: number;
  /** Per KDC exchange; default 10 s. */
  timeoutMs?: number;
}

export interface AuthChoiceOptions {
  auth: AuthMechanismChoice;
  /** `user`, `user@REALM` or `DOMAIN\user`; empty: anonymous (always NTLM). */
  username: string;
  password: string;
  domain?: string | undefined;
  /** The host connected to. */
  host: string;
  kerberos?: KerberosClientOptions | undefined;
}

const KRB5_OIDS: ReadonlySet<string> = new Set([Oid.KERBEROS, Oid.MS_KERBEROS]);
/** KDC answers after which negotiate logs on with NTLM instead: the server has no Kerberos identity there. */
const FALL_BACK_CODES: ReadonlySet<number> = new Set([7 /* KDC_ERR_S_PRINCIPAL_UNKNOWN */, 68 /* KDC_ERR_WRONG_REALM */]);

/** Kerberos could not be tried (no KDC reachable, or the server has no service principal): the password was not refused. */
function kerberosUnavailable(error: unknown): boolean {
  if (!(error instanceof KerberosError)) return false;
  return error.step === 'KDC connection' || (error.kerberosCode !== undefined && FALL_BACK_CODES.has(error.kerberosCode));
}

interface KerberosPlan {
  realm: string;
  username: string;
  kdc: KdcAddress;
  serviceHost: string;
}

/** Why Kerberos cannot be tried with these options, or the plan for it. */
function kerberosPlan(options: AuthChoiceOptions): KerberosPlan | string {
  const k = options.kerberos ?? {};
  let username = options.username;
  let realm = k.realm;
  const at = username.lastIndexOf('@');
  if (at > 0) {
    realm ??= username.slice(at + 1);
    username = username.slice(0, at);
  }
  const slash = username.indexOf('\\');
  if (slash >= 0) username = username.slice(slash + 1);
  if (realm === undefined || realm === '') return 'no realm: pass kerberos.realm or a username of the form user@REALM';
  if (k.kdc === undefined || k.kdc === '') return 'no KDC: pass kerberos.kdc (host or host:port)';
  const serviceHost = k.serviceHost ?? options.host;
  if (isIP(serviceHost) !== 0) {
    return `the server's service principal cifs/<name> needs a host name, but ${serviceHost} is an address: pass kerberos.serviceHost`;
  }
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(k.kdc);
  if (match === null) return `kerberos.kdc ${k.kdc} is not host or host:port`;
  const kdc: KdcAddress = { host: match[1]!.replace(/^\[|\]$/g, ''), ...(match[2] === undefined ? {} : { port: Number(match[2]) }) };
  return { realm: realm.toUpperCase(), username, kdc, serviceHost };
}

/** The authenticator for this logon; `serverHint` is the NEGOTIATE response's security buffer. */
export async function chooseAuthenticator(options: AuthChoiceOptions, serverHint: Buffer): Promise<Authenticator> {
  const ntlm = (): Authenticator => createNtlmAuthenticator({
    username: options.username,
    password: options.password,
    targetHost: options.host,
    ...(options.domain === undefined ? {} : { domain: options.domain }),
    ...(options.username === '' ? { anonymous: true } : {}),
  });
  if (!(['ntlm', 'kerberos', 'negotiate'] as const).includes(options.auth)) {
    throw new ArgumentError(`auth must be 'ntlm', 'kerberos' or 'negotiate', got ${JSON.stringify(options.auth)}`);
  }
  if (options.auth === 'ntlm' || options.username === '') {
    if (options.auth === 'kerberos') throw new ArgumentError('auth: kerberos needs a username and password (an anonymous logon is NTLM)');
    return ntlm();
  }
  const plan = kerberosPlan(options);
  const offered = serverHint.length === 0 ? undefined : decodeNegTokenInit(serverHint).mechTypes;
  const serverOffers = offered === undefined || offered.some((oid) => KRB5_OIDS.has(oid));
  if (options.auth === 'negotiate' && (typeof plan === 'string' || !serverOffers)) return ntlm();
  if (typeof plan === 'string') throw new ArgumentError(`auth: kerberos: ${plan}`);
  const skew = options.kerberos?.clockSkewMs ?? 0;
  const now = (): Date => new Date(Date.now() + skew);
  const cache = options.kerberos?.ticketCache ?? new KerberosTicketCache();
  try {
    const service = await cache.serviceTicket({
      kdc: plan.kdc, realm: plan.realm, username: plan.username, password: options.password, now,
      ...(options.kerberos?.timeoutMs === undefined ? {} : { timeoutMs: options.kerberos.timeoutMs }),
    }, cifsPrincipal(plan.serviceHost));
    return new KerberosAuthenticator({ service, now });
  } catch (error) {
    if (options.auth === 'negotiate' && kerberosUnavailable(error)) return ntlm();
    throw error;
  }
}
