/**
 * The client's side of the KDC exchanges (RFC 4120 3.1, 3.3) over TCP (RFC 4120 7.2.2): AS with
 * PA-ENC-TIMESTAMP, after the KDC_ERR_PREAUTH_REQUIRED round that names the salt and iteration
 * count (ETYPE-INFO2), and TGS for a service ticket.
 */
import { randomInt } from 'node:crypto';
import { Socket } from 'node:net';
import { SecurityError } from '../../errors.js';
import {
  EncryptionType,
  checksum,
  checksumTypeOf,
  decrypt,
  encrypt,
  isSupportedEtype,
  iterationsFromParams,
  makeKey,
  stringToKey,
  type EncryptionKey,
} from './crypto.js';
import { KerberosError, KerberosErrorCode, type KerberosStep } from './errors.js';
import {
  KdcOption,
  MessageType,
  NameType,
  PaDataType,
  decodeEncKdcRepPart,
  decodeEtypeInfo2,
  decodeKdcReply,
  decodeKrbError,
  decodeMethodData,
  encodeApRequest,
  encodeAuthenticator,
  encodeEncryptedData,
  encodeKdcRequest,
  encodeKdcRequestBody,
  encodePaEncTimestamp,
  messageTypeOf,
  principalToString,
  type EncKdcRepPart,
  type KdcReply,
  type PaData,
  type PrincipalName,
} from './messages.js';

export interface KdcAddress {
  host: string;
  /** Default 88. */
  port?: number;
}

export interface KdcOptions {
  kdc: KdcAddress;
  /** Per exchange; default 10 s. */
  timeoutMs?: number;
  /** The client's clock (a test can skew it). */
  now?: () => Date;
}

/** A ticket and the session key that goes with it (RFC 4120 5.4.2). */
export interface Credentials {
  readonly realm: string;
  readonly client: PrincipalName;
  readonly server: PrincipalName;
  /** The Ticket's DER, as the KDC sent it. */
  readonly ticket: Buffer;
  readonly sessionKey: EncryptionKey;
  readonly endtime: Date;
}

const ETYPES = [EncryptionType.AES256_CTS_HMAC_SHA1_96, EncryptionType.AES128_CTS_HMAC_SHA1_96];
/** RFC 4120 7.2.2: a reply longer than this from a KDC is refused rather than buffered. */
const MAX_REPLY = 1 << 20;
const TICKET_LIFETIME_MS = 10 * 3600_000;

/** Sends one request with the 4-byte length prefix of RFC 4120 7.2.2 and reads one reply. */
export function kdcExchange(kdc: KdcAddress, request: Buffer, timeoutMs: number, step: KerberosStep): Promise<Buffer> {
  const where = `${kdc.host}:${kdc.port ?? 88}`;
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let received = Buffer.alloc(0);
    const fail = (message: string, cause?: unknown): void => {
      socket.destroy();
      reject(new KerberosError('KDC connection', `${step}: KDC ${where}: ${message}`, undefined, cause));
    };
    const timer = setTimeout(() => fail(`no reply within ${timeoutMs} ms`), timeoutMs);
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      fail(`connection failed (${error.code ?? error.message})`, error);
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const length = received.readUInt32BE(0);
      if (length > MAX_REPLY) {
        clearTimeout(timer);
        fail(`reply of ${length} bytes exceeds ${MAX_REPLY}`);
        return;
      }
      if (received.length < 4 + length) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(received.subarray(4, 4 + length));
    });
    socket.once('close', () => {
      clearTimeout(timer);
      fail(`connection closed after ${received.length} bytes of the reply`);
    });
    socket.connect(kdc.port ?? 88, kdc.host, () => {
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(request.length);
      socket.write(Buffer.concat([prefix, request]));
    });
  });
}

/** A KRB-ERROR answer as a KerberosError; anything else is returned for the caller to decode. */
function throwIfError(reply: Buffer, step: KerberosStep, about: string): void {
  if (messageTypeOf(reply) !== MessageType.KRB_ERROR) return;
  const error = decodeKrbError(reply);
  throw new KerberosError(step, `${about}${error.eText === undefined ? '' : ` (${error.eText})`}`, error.errorCode);
}

function nonce(): number {
  return randomInt(1, 0x7fffffff);
}

interface SaltChoice {
  etype: 17 | 18;
  salt: string;
  iterations: number;
}

/** RFC 4120 5.2.7.5 / RFC 3962 4: the first ETYPE-INFO2 entry of an etype this client speaks. */
function chooseSalt(padata: readonly PaData[], defaultSalt: string, step: KerberosStep): SaltChoice | undefined {
  const info = padata.find((p) => p.type === PaDataType.ETYPE_INFO2);
  if (info === undefined) return undefined;
  const entry = decodeEtypeInfo2(info.value).find((e) => isSupportedEtype(e.etype));
  if (entry === undefined) throw new KerberosError(step, 'the KDC offers no AES encryption type for this account', 14);
  return { etype: entry.etype as 17 | 18, salt: entry.salt ?? defaultSalt, iterations: iterationsFromParams(entry.s2kparams) };
}

export interface PasswordLogon extends KdcOptions {
  realm: string;
  username: string;
  password: string;
}

/** The AS exchange: a ticket-granting ticket for `username@realm` (RFC 4120 3.1). */
export async function requestTicketGrantingTicket(logon: PasswordLogon): Promise<Credentials> {
  const step = 'AS exchange';
  const now = logon.now ?? (() => new Date());
  const timeoutMs = logon.timeoutMs ?? 10_000;
  const realm = logon.realm.toUpperCase();
  const cname: PrincipalName = { type: NameType.PRINCIPAL, components: logon.username.split('/') };
  const who = principalToString(cname, realm);
  const sname: PrincipalName = { type: NameType.SRV_INST, components: ['krbtgt', realm] };
  const body = (): { der: Buffer; nonce: number } => {
    const n = nonce();
    const der = encodeKdcRequestBody({
      options: [KdcOption.FORWARDABLE, KdcOption.RENEWABLE, KdcOption.CANONICALIZE, KdcOption.RENEWABLE_OK],
      cname, realm, sname, till: new Date(now().getTime() + TICKET_LIFETIME_MS), nonce: n, etypes: ETYPES,
    });
    return { der, nonce: n };
  };
  const defaultSalt = `${realm}${cname.components.join('')}`;

  // Round 1 without pre-authentication: the KDC answers PREAUTH_REQUIRED with the salt to use.
  const first = body();
  const firstReply = await kdcExchange(logon.kdc, encodeKdcRequest(MessageType.AS_REQ, [], first.der), timeoutMs, step);
  let choice: SaltChoice | undefined;
  if (messageTypeOf(firstReply) === MessageType.KRB_ERROR) {
    const error = decodeKrbError(firstReply);
    if (error.errorCode !== KerberosErrorCode.PREAUTH_REQUIRED) {
      throw new KerberosError(step, `for ${who}${error.eText === undefined ? '' : ` (${error.eText})`}`, error.errorCode);
    }
    choice = chooseSalt(error.eData === undefined ? [] : decodeMethodData(error.eData), defaultSalt, step);
  } else {
    // No pre-authentication required: the reply itself is encrypted in the password's key.
    const reply = decodeKdcReply(firstReply, MessageType.AS_REP);
    choice = chooseSalt(reply.padata, defaultSalt, step) ?? { etype: reply.encPart.etype as 17 | 18, salt: defaultSalt, iterations: 4096 };
    return finishAsReply(reply, stringToKey(choice.etype, logon.password, choice.salt, choice.iterations), first.nonce, who);
  }
  choice ??= { etype: EncryptionType.AES256_CTS_HMAC_SHA1_96, salt: defaultSalt, iterations: 4096 };
  const key = stringToKey(choice.etype, logon.password, choice.salt, choice.iterations);

  // Round 2 with PA-ENC-TIMESTAMP (RFC 4120 5.2.7.2, key usage 1).
  const second = body();
  const timestamp = encrypt(key, 1, encodePaEncTimestamp(now()));
  const paEncTimestamp = encodeEncryptedData({ etype: choice.etype, cipher: timestamp });
  const reply = await kdcExchange(logon.kdc, encodeKdcRequest(MessageType.AS_REQ, [{ type: PaDataType.ENC_TIMESTAMP, value: paEncTimestamp }], second.der), timeoutMs, step);
  throwIfError(reply, step, `for ${who}`);
  return finishAsReply(decodeKdcReply(reply, MessageType.AS_REP), key, second.nonce, who);
}

function finishAsReply(reply: KdcReply, key: EncryptionKey, sentNonce: number, who: string): Credentials {
  const step = 'AS exchange';
  if (reply.encPart.etype !== key.etype) {
    throw new KerberosError(step, `the AS-REP for ${who} is encrypted with etype ${reply.encPart.etype}, but the key is etype ${key.etype}`);
  }
  const part = decryptPart(key, 3, reply.encPart.cipher, step, 'EncASRepPart');
  return credentialsFrom(reply, part, sentNonce, step);
}

function decryptPart(key: EncryptionKey, usage: number, cipher: Buffer, step: KerberosStep, what: string): EncKdcRepPart {
  let plain: Buffer;
  try {
    plain = decrypt(key, usage, cipher, what);
  } catch (error) {
    if (error instanceof SecurityError) throw new KerberosError(step, `${what} does not decrypt with the client's key (wrong password, or the reply was altered)`, 31, error);
    throw error;
  }
  return decodeEncKdcRepPart(plain);
}

function credentialsFrom(reply: KdcReply, part: EncKdcRepPart, sentNonce: number, step: KerberosStep): Credentials {
  // RFC 4120 3.1.5: the nonce ties the reply to this request.
  if (part.nonce !== sentNonce) throw new KerberosError(step, `the reply's nonce ${part.nonce} is not the request's ${sentNonce} (a replayed reply?)`);
  return {
    realm: reply.crealm,
    client: reply.cname,
    server: part.sname,
    ticket: reply.ticket,
    sessionKey: makeKey(part.key.keytype, part.key.value, 'EncKDCRepPart.key'),
    endtime: part.endtime,
  };
}

/** The TGS exchange: a ticket for `service` (e.g. cifs/host) with the TGT (RFC 4120 3.3). */
export async function requestServiceTicket(tgt: Credentials, service: PrincipalName, options: KdcOptions): Promise<Credentials> {
  const step = 'TGS exchange';
  const now = options.now ?? (() => new Date());
  const realm = tgt.realm;
  const n = nonce();
  const bodyDer = encodeKdcRequestBody({
    options: [KdcOption.FORWARDABLE, KdcOption.CANONICALIZE],
    realm, sname: service, till: new Date(now().getTime() + TICKET_LIFETIME_MS), nonce: n, etypes: ETYPES,
  });
  const ctime = now();
  // RFC 4120 5.5.1 / 7.5.1: the authenticator checksums the request body (usage 6), is encrypted with usage 7.
  const authenticator = encodeAuthenticator({
    crealm: realm, cname: tgt.client, ctime, cusec: (ctime.getTime() % 1000) * 1000,
    checksum: { type: checksumTypeOf(tgt.sessionKey.etype), value: checksum(tgt.sessionKey, 6, bodyDer) },
  });
  const apReq = encodeApRequest([], tgt.ticket, { etype: tgt.sessionKey.etype, cipher: encrypt(tgt.sessionKey, 7, authenticator) });
  const request = encodeKdcRequest(MessageType.TGS_REQ, [{ type: PaDataType.TGS_REQ, value: apReq }], bodyDer);
  const reply = await kdcExchange(options.kdc, request, options.timeoutMs ?? 10_000, step);
  throwIfError(reply, step, `for ${principalToString(service, realm)}`);
  const decoded = decodeKdcReply(reply, MessageType.TGS_REP);
  // RFC 4120 3.3.3: without a subkey in the authenticator the reply is encrypted in the TGT's session key (usage 8).
  const part = decryptPart(tgt.sessionKey, 8, decoded.encPart.cipher, step, 'EncTGSRepPart');
  return credentialsFrom(decoded, part, n, step);
}

export function isKerberosError(error: unknown, code: number): boolean {
  return error instanceof KerberosError && error.kerberosCode === code;
}
