/**
 * Kerberos inside SPNEGO for SESSION_SETUP: the AP-REQ with mutual authentication, a subkey and
 * the GSS flags (RFC 4121 4.1, MS-KILE 3.2.5.2), the AP-REP verified (RFC 4120 3.2.5), and the
 * session key taken from the acceptor subkey (MS-KILE 3.1.1.2, MS-SMB2 3.2.5.3).
 */
import { randomInt } from 'node:crypto';
import { ProtocolError, SecurityError } from '../../errors.js';
import type { Authenticator } from '../authenticator.js';
import { ExchangeSteps } from '../exchange-steps.js';
import { NegState, Oid, decodeNegTokenResp, encodeMechTypeList, encodeNegTokenInit, encodeNegTokenResp, decodeNegTokenInit } from '../spnego.js';
import { decrypt, encrypt, makeKey, randomKey, type EncryptionKey } from './crypto.js';
import { KerberosError } from './errors.js';
import { GSS_CHECKSUM_TYPE, GssFlag, TokenId, gssChecksum, initiatorMic, unwrapKerberosToken, verifyAcceptorMic, wrapKerberosToken } from './gss.js';
import type { Credentials } from './kdc.js';
import { ApOption, decodeApReply, decodeEncApRepPart, decodeKrbError, encodeApRequest, encodeAuthenticator, principalToString } from './messages.js';

export interface KerberosAuthenticatorOptions {
  /** A service ticket for cifs/<server> (kdc.ts requestServiceTicket, or a KerberosTicketCache). */
  service: Credentials;
  /** The client's clock. */
  now?: () => Date;
}

/** RFC 4120 7.5.1 key usages of the AP exchange. */
const AP_REQ_AUTHENTICATOR = 11;
const AP_REP_ENC_PART = 12;
const MECH_TYPES = [Oid.KERBEROS] as const;
const KRB5_OIDS: ReadonlySet<string> = new Set([Oid.KERBEROS, Oid.MS_KERBEROS]);
const GSS_FLAGS = GssFlag.MUTUAL | GssFlag.REPLAY | GssFlag.SEQUENCE | GssFlag.CONF | GssFlag.INTEG;

type Step = 'initial' | 'sent' | 'verified' | 'complete';

export class KerberosAuthenticator implements Authenticator {
  readonly mechanism = 'kerberos' as const;
  readonly isAnonymous = false;
  readonly #service: Credentials;
  readonly #now: () => Date;
  readonly #mechTypesDer = encodeMechTypeList(MECH_TYPES);
  readonly #subkey: EncryptionKey;
  readonly #sequence = randomInt(0, 2 ** 30);
  #ctime: Date | undefined;
  #cusec = 0;
  /** The key both sides hold once the AP-REP is verified: the acceptor subkey, else ours. */
  #contextKey: EncryptionKey | undefined;
  #acceptorSubkey = false;
  readonly #steps = new ExchangeSteps<Step>('Kerberos', 'initial');

  constructor(options: KerberosAuthenticatorOptions) {
    this.#service = options.service;
    this.#now = options.now ?? (() => new Date());
    this.#subkey = randomKey(options.service.sessionKey.etype);
  }

  /** The GSS context key (its first 16 bytes are Session.SessionKey), once the AP-REP is verified. */
  get sessionKey(): Buffer | undefined {
    return this.#contextKey === undefined ? undefined : Buffer.from(this.#contextKey.value);
  }

  /** `cifs/host@REALM`: the service the ticket is for. */
  get servicePrincipal(): string {
    return principalToString(this.#service.server, this.#service.realm);
  }

  initialToken(serverHint?: Buffer): Buffer {
    return this.#advance('initial', 'sent', () => {
      if (serverHint !== undefined && serverHint.length > 0) {
        const offered = decodeNegTokenInit(serverHint).mechTypes;
        if (!offered.some((oid) => KRB5_OIDS.has(oid))) {
          throw new KerberosError('AP exchange', `the server does not offer Kerberos in SPNEGO (offers ${offered.join(', ')})`);
        }
      }
      return encodeNegTokenInit({ mechTypes: MECH_TYPES, mechToken: wrapKerberosToken(TokenId.AP_REQ, this.#apRequest()) });
    });
  }

  /** A further round: the server sent its AP-REP and asks for this side's mechListMIC (RFC 4178 5). */
  continue(serverToken: Buffer): Buffer {
    return this.#advance('sent', 'verified', () => {
      const response = this.#response(serverToken);
      this.#readReply(response.responseToken);
      this.#checkServerMic(response.mechListMIC);
      return encodeNegTokenResp({ mechListMIC: this.#mic() });
    });
  }

  complete(serverToken: Buffer): void {
    if (this.#steps.current === 'verified') {
      this.#advance('verified', 'complete', () => {
        if (serverToken.length === 0) return;
        const response = this.#response(serverToken);
        this.#checkServerMic(response.mechListMIC);
      });
      return;
    }
    this.#advance('sent', 'complete', () => {
      // Mutual authentication: success without the server's AP-REP proves nothing about the server.
      if (serverToken.length === 0) throw new SecurityError('SESSION_SETUP succeeded without an AP-REP: the server did not prove it holds the service key (mutual authentication)');
      const response = this.#response(serverToken);
      if (response.negState !== undefined && response.negState !== NegState.ACCEPT_COMPLETED) {
        throw new ProtocolError(`SESSION_SETUP succeeded but SPNEGO negState is ${response.negState}, not accept-completed`, { field: 'NegTokenResp.negState' });
      }
      this.#readReply(response.responseToken);
      this.#checkServerMic(response.mechListMIC);
    });
  }

  /** AP-REQ (RFC 4120 5.5.1) with mutual-required and an authenticator holding the GSS checksum and a subkey. */
  #apRequest(): Buffer {
    const ctime = this.#now();
    this.#ctime = new Date(Math.floor(ctime.getTime() / 1000) * 1000);
    this.#cusec = (ctime.getTime() % 1000) * 1000;
    const service = this.#service;
    const authenticator = encodeAuthenticator({
      crealm: service.realm,
      cname: service.client,
      ctime: this.#ctime,
      cusec: this.#cusec,
      checksum: { type: GSS_CHECKSUM_TYPE, value: gssChecksum(GSS_FLAGS) },
      subkey: { keytype: this.#subkey.etype, value: this.#subkey.value },
      seqNumber: this.#sequence,
    });
    return encodeApRequest([ApOption.MUTUAL_REQUIRED], service.ticket, {
      etype: service.sessionKey.etype,
      cipher: encrypt(service.sessionKey, AP_REQ_AUTHENTICATOR, authenticator),
    });
  }

  #response(serverToken: Buffer): ReturnType<typeof decodeNegTokenResp> {
    const response = decodeNegTokenResp(serverToken);
    if (response.negState === NegState.REJECT) {
      // A KRB-ERROR in the token says why (RFC 4121 4.1).
      if (response.responseToken !== undefined) this.#readReply(response.responseToken);
      throw new KerberosError('AP exchange', `the server rejected the AP-REQ for ${this.servicePrincipal} (negState reject)`);
    }
    if (response.supportedMech !== undefined && !KRB5_OIDS.has(response.supportedMech)) {
      throw new KerberosError('AP exchange', `the server chose mechanism ${response.supportedMech}; only Kerberos was offered`);
    }
    return response;
  }

  /** RFC 4120 3.2.5: the AP-REP decrypts with the ticket's session key and echoes our ctime and cusec. */
  #readReply(token: Buffer | undefined): void {
    if (token === undefined) throw new SecurityError('the server sent no AP-REP: mutual authentication did not happen');
    const { tokenId, message } = unwrapKerberosToken(token, 'AP-REP token');
    if (tokenId === TokenId.KRB_ERROR) {
      const error = decodeKrbError(message);
      throw new KerberosError('AP exchange', `for ${this.servicePrincipal}${error.eText === undefined ? '' : ` (${error.eText})`}`, error.errorCode);
    }
    if (tokenId !== TokenId.AP_REP) throw new ProtocolError(`the server's Kerberos token has TOK_ID 0x${tokenId.toString(16)}, not AP-REP (0x0200)`, { field: 'AP-REP token.TOK_ID' });
    const encPart = decodeApReply(message);
    const key = this.#service.sessionKey;
    if (encPart.etype !== key.etype) throw new SecurityError(`the AP-REP is encrypted with etype ${encPart.etype}, the ticket's session key is etype ${key.etype}`);
    let plain: Buffer;
    try {
      plain = decrypt(key, AP_REP_ENC_PART, encPart.cipher, 'EncAPRepPart');
    } catch (error) {
      if (error instanceof SecurityError) {
        throw new KerberosError('AP exchange', `the AP-REP does not decrypt with the ticket's session key: the server did not prove it is ${this.servicePrincipal} (mutual authentication failed)`, 41, error);
      }
      throw error;
    }
    const part = decodeEncApRepPart(plain);
    if (part.ctime.getTime() !== this.#ctime?.getTime() || part.cusec !== this.#cusec) {
      throw new KerberosError('AP exchange', `the AP-REP's ctime ${part.ctime.toISOString()}/${part.cusec} is not the authenticator's (a replayed AP-REP?)`, 41);
    }
    this.#acceptorSubkey = part.subkey !== undefined;
    this.#contextKey = part.subkey === undefined ? this.#subkey : makeKey(part.subkey.keytype, part.subkey.value, 'EncAPRepPart.subkey');
  }

  #checkServerMic(mic: Buffer | undefined): void {
    if (mic === undefined) return;
    if (this.#contextKey === undefined) throw new ProtocolError('the server sent a mechListMIC before its AP-REP', { field: 'NegTokenResp.mechListMIC' });
    if (!verifyAcceptorMic(this.#contextKey, this.#acceptorSubkey, this.#mechTypesDer, mic)) {
      throw new SecurityError('SPNEGO mechListMIC from the server does not verify');
    }
  }

  #mic(): Buffer {
    if (this.#contextKey === undefined) throw new ProtocolError('no Kerberos context key for the mechListMIC', { field: 'NegTokenResp.mechListMIC' });
    return initiatorMic(this.#contextKey, this.#acceptorSubkey, this.#sequence, this.#mechTypesDer);
  }

  #advance<T>(from: Step, to: Step, action: () => T): T {
    return this.#steps.advance(from, to, action);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `KerberosAuthenticator { step: ${this.#steps.current}, service: ${this.servicePrincipal} }`;
  }

  toJSON(): Record<string, unknown> {
    return { mechanism: this.mechanism, step: this.#steps.current, service: this.servicePrincipal };
  }
}
