/**
 * The client side of an NTLMv2 exchange (MS-NLMP 3.1.5): NEGOTIATE out, CHALLENGE
 * in, AUTHENTICATE out, leaving the exported session key and the session-security
 * keys behind.
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { NegotiationError } from '../errors.js';
import { fileTime } from './bytes.js';
import { ANONYMOUS_CLIENT_FLAGS, CLIENT_FLAGS, NegotiateFlags, hasFlag, negotiatedFlags } from './ntlm-flags.js';
import { AvId, addClientAvPairs, encodeAvPairs, findAvPair } from './ntlm-av-pairs.js';
import {
  AUTHENTICATE_MIC_OFFSET,
  DEFAULT_VERSION,
  encodeAuthenticateMessage,
  encodeNegotiateMessage,
  parseChallengeMessage,
} from './ntlm-messages.js';
import type { ChallengeMessage, NtlmVersion } from './ntlm-messages.js';
import {
  computeMic,
  encryptSessionKey,
  lmv2Response,
  ntlmv2ClientBlob,
  ntlmv2Response,
  ntowfv2,
} from './ntlm-crypto.js';
import { NtlmSessionSecurity } from './ntlm-session-security.js';

export interface NtlmClientOptions {
  user: string;
  password: string;
  domain?: string;
  workstation?: string;
  /** Null-session logon (MS-NLMP 3.3.2): also implied by an empty user and password. */
  anonymous?: boolean;
  /** Service principal name sent as MsvAvTargetName, e.g. `cifs/fileserver`. */
  targetName?: string;
  /** The clock used when the server sends no MsvAvTimestamp. */
  now?: () => Date;
  /** Source of the client challenge (8 bytes, drawn first) and the exported session key (16 bytes). */
  randomBytes?: (size: number) => Buffer;
  /** The VERSION sent in NEGOTIATE and AUTHENTICATE. */
  version?: NtlmVersion;
}

export class NtlmClient {
  readonly #user: string;
  readonly #password: string;
  readonly #domain: string;
  readonly #workstation: string;
  readonly #anonymous: boolean;
  readonly #targetName: string | undefined;
  readonly #now: () => Date;
  readonly #random: (size: number) => Buffer;
  readonly #version: NtlmVersion;
  readonly #clientFlags: number;
  #negotiate: Buffer | undefined;
  #challenge: ChallengeMessage | undefined;
  #flags = 0;
  #exportedSessionKey: Buffer | undefined;
  #micPresent = false;

  constructor(options: NtlmClientOptions) {
    this.#anonymous = options.anonymous === true || (options.user === '' && options.password === '');
    this.#user = this.#anonymous ? '' : options.user;
    this.#password = this.#anonymous ? '' : options.password;
    this.#domain = this.#anonymous ? '' : (options.domain ?? '');
    this.#workstation = options.workstation ?? '';
    this.#targetName = options.targetName;
    this.#now = options.now ?? (() => new Date());
    this.#random = options.randomBytes ?? cryptoRandomBytes;
    this.#version = options.version ?? DEFAULT_VERSION;
    this.#clientFlags = this.#anonymous ? ANONYMOUS_CLIENT_FLAGS : CLIENT_FLAGS;
  }

  get isAnonymous(): boolean {
    return this.#anonymous;
  }

  /** The flags of the AUTHENTICATE_MESSAGE; 0 before authenticate(). */
  get flags(): number {
    return this.#flags;
  }

  /** The parsed CHALLENGE_MESSAGE, once authenticate() has run. */
  get challenge(): ChallengeMessage | undefined {
    return this.#challenge;
  }

  /** Whether the AUTHENTICATE_MESSAGE carries a MIC (the server sent MsvAvTimestamp). */
  get micPresent(): boolean {
    return this.#micPresent;
  }

  /** The key both sides now share (the SMB session key); undefined before authenticate() and for anonymous. */
  get exportedSessionKey(): Buffer | undefined {
    return this.#exportedSessionKey;
  }

  negotiate(): Buffer {
    if (this.#negotiate !== undefined) throw new Error('NTLM NEGOTIATE_MESSAGE was already produced');
    this.#negotiate = encodeNegotiateMessage(this.#clientFlags, this.#version);
    return this.#negotiate;
  }

  /** Consumes the CHALLENGE_MESSAGE and produces the AUTHENTICATE_MESSAGE (MS-NLMP 3.1.5.1.2). */
  authenticate(challengeToken: Buffer): Buffer {
    const negotiate = this.#negotiate;
    if (negotiate === undefined) throw new Error('NTLM negotiate() must run before authenticate()');
    if (this.#challenge !== undefined) throw new Error('NTLM AUTHENTICATE_MESSAGE was already produced');
    const challenge = parseChallengeMessage(challengeToken);
    this.#checkServerFlags(challenge.flags);
    this.#challenge = challenge;
    let flags = negotiatedFlags(this.#clientFlags, challenge.flags);
    if (this.#anonymous) flags = (flags | NegotiateFlags.ANONYMOUS) >>> 0;
    this.#flags = flags;
    const version = hasFlag(flags, NegotiateFlags.VERSION) ? this.#version : undefined;

    if (this.#anonymous) {
      // MS-NLMP 3.3.2: no NT response, LmChallengeResponse = Z(1), no keys.
      return encodeAuthenticateMessage({
        flags,
        lmChallengeResponse: Buffer.alloc(1),
        ntChallengeResponse: Buffer.alloc(0),
        domain: '',
        user: '',
        workstation: this.#workstation,
        encryptedRandomSessionKey: Buffer.alloc(0),
        version,
        withMic: false,
      });
    }

    const serverTime = findAvPair(challenge.targetInfo, AvId.Timestamp);
    const micPresent = serverTime !== undefined;
    const time = serverTime ?? fileTime(this.#now());
    const clientChallenge = this.#randomExactly(8);
    const avPairs = addClientAvPairs(challenge.targetInfo, {
      micPresent,
      channelBindings: micPresent ? Buffer.alloc(16) : undefined,
      targetName: this.#targetName,
    });

    const responseKey = ntowfv2(this.#password, this.#user, this.#domain);
    const blob = ntlmv2ClientBlob(time, clientChallenge, encodeAvPairs(avPairs));
    const nt = ntlmv2Response(responseKey, challenge.serverChallenge, blob);
    // MS-NLMP 3.3.2: with MsvAvTimestamp the client sends Z(24) instead of the LMv2 response.
    const lm = micPresent ? Buffer.alloc(24) : lmv2Response(responseKey, challenge.serverChallenge, clientChallenge);

    const keyExchangeKey = nt.sessionBaseKey;
    let exportedSessionKey = keyExchangeKey;
    let encryptedRandomSessionKey: Buffer = Buffer.alloc(0);
    if (hasFlag(flags, NegotiateFlags.KEY_EXCH) && hasFlag(flags, NegotiateFlags.SIGN | NegotiateFlags.SEAL)) {
      exportedSessionKey = this.#randomExactly(16);
      encryptedRandomSessionKey = encryptSessionKey(keyExchangeKey, exportedSessionKey);
    }

    const message = encodeAuthenticateMessage({
      flags,
      lmChallengeResponse: lm,
      ntChallengeResponse: nt.ntChallengeResponse,
      domain: this.#domain,
      user: this.#user,
      workstation: this.#workstation,
      encryptedRandomSessionKey,
      version,
      withMic: micPresent,
    });
    if (micPresent) {
      computeMic(exportedSessionKey, negotiate, challenge.raw, message).copy(message, AUTHENTICATE_MIC_OFFSET);
    }
    this.#micPresent = micPresent;
    this.#exportedSessionKey = exportedSessionKey;
    return message;
  }

  /** Signing and sealing with the keys derived from the exported session key (MS-NLMP 3.4.5). */
  createSessionSecurity(): NtlmSessionSecurity {
    if (this.#exportedSessionKey === undefined) throw new Error('NTLM session security needs a completed, non-anonymous logon');
    return new NtlmSessionSecurity(this.#exportedSessionKey, this.#flags, 'client');
  }

  #checkServerFlags(serverFlags: number): void {
    if (!hasFlag(serverFlags, NegotiateFlags.UNICODE)) {
      throw new NegotiationError('NTLM server does not support Unicode (NTLMSSP_NEGOTIATE_UNICODE)');
    }
    if (!this.#anonymous && !hasFlag(serverFlags, NegotiateFlags.EXTENDED_SESSIONSECURITY)) {
      throw new NegotiationError('NTLM server refused extended session security (NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY)');
    }
  }

  #randomExactly(size: number): Buffer {
    const bytes = this.#random(size);
    if (bytes.length !== size) throw new RangeError(`randomBytes(${size}) returned ${bytes.length} bytes`);
    return Buffer.from(bytes);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `NtlmClient { user: ${JSON.stringify(this.#user)}, domain: ${JSON.stringify(this.#domain)} }`;
  }

  toJSON(): Record<string, unknown> {
    return { user: this.#user, domain: this.#domain, anonymous: this.#anonymous };
  }
}
