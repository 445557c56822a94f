/**
 * What the SMB session layer drives through SESSION_SETUP: NTLMv2 inside SPNEGO,
 * with the mechListMIC exchange of RFC 4178 5 (NTLM key state: MS-SPNG 3.3.5.1).
 */
import { AuthenticationError, ProtocolError, SecurityError } from '../errors.js';
import { ExchangeSteps } from './exchange-steps.js';
import { NtlmClient } from './ntlm.js';
import { describeTargetInfo } from './ntlm-av-pairs.js';
import type { TargetInfo } from './ntlm-av-pairs.js';
import type { NtlmSessionSecurity } from './ntlm-session-security.js';
import {
  NegState,
  Oid,
  decodeNegTokenInit,
  decodeNegTokenResp,
  encodeMechTypeList,
  encodeNegTokenInit,
  encodeNegTokenResp,
} from './spnego.js';

export interface Authenticator {
  readonly mechanism: 'ntlm' | 'kerberos';
  /** First security blob for SESSION_SETUP. `serverHint` = the NEGOTIATE response security buffer (may be empty). */
  initialToken(serverHint?: Buffer): Buffer;
  /** Consumes the server's blob from a STATUS_MORE_PROCESSING_REQUIRED response, returns the next blob. */
  continue(serverToken: Buffer): Buffer;
  /** Consumes the blob of the final successful SESSION_SETUP response (may be empty); verifies mechListMIC when present. */
  complete(serverToken: Buffer): void;
  /** The GSS session key: NTLM's ExportedSessionKey once continue() has run, Kerberos' once complete() has; undefined for anonymous. */
  readonly sessionKey: Buffer | undefined;
  readonly isAnonymous: boolean;
}

export interface NtlmAuthenticatorOptions {
  /** `user`, or `DOMAIN\user` when `domain` is not given. */
  username: string;
  password: string;
  domain?: string;
  workstation?: string;
  /** The server's name; sent as MsvAvTargetName `cifs/<targetHost>`. */
  targetHost?: string;
  /** Null session: username and password are ignored. */
  anonymous?: boolean;
  now?: () => Date;
  randomBytes?: (size: number) => Buffer;
}

type Step = 'initial' | 'negotiated' | 'authenticated' | 'complete';

const MECH_TYPES = [Oid.NTLMSSP] as const;

export class NtlmAuthenticator implements Authenticator {
  readonly mechanism = 'ntlm' as const;
  readonly #ntlm: NtlmClient;
  readonly #mechTypesDer = encodeMechTypeList(MECH_TYPES);
  readonly #steps = new ExchangeSteps<Step>('NTLM', 'initial');
  #security: NtlmSessionSecurity | undefined;

  constructor(options: NtlmAuthenticatorOptions) {
    let { username, domain } = options;
    const slash = username.indexOf('\\');
    if (domain === undefined && slash >= 0) {
      domain = username.slice(0, slash);
      username = username.slice(slash + 1);
    }
    this.#ntlm = new NtlmClient({
      user: username,
      password: options.password,
      domain,
      workstation: options.workstation,
      targetName: options.targetHost === undefined ? undefined : `cifs/${options.targetHost}`,
      anonymous: options.anonymous,
      now: options.now,
      randomBytes: options.randomBytes,
    });
  }

  get sessionKey(): Buffer | undefined {
    return this.#ntlm.exportedSessionKey;
  }

  get isAnonymous(): boolean {
    return this.#ntlm.isAnonymous;
  }

  /** The server's names and clock from its CHALLENGE_MESSAGE, once continue() has run. */
  get serverInfo(): TargetInfo | undefined {
    const challenge = this.#ntlm.challenge;
    return challenge === undefined ? undefined : describeTargetInfo(challenge.targetInfo);
  }

  initialToken(serverHint?: Buffer): Buffer {
    return this.#advance('initial', 'negotiated', () => {
      if (serverHint !== undefined && serverHint.length > 0) {
        const offered = decodeNegTokenInit(serverHint).mechTypes;
        if (!offered.includes(Oid.NTLMSSP)) {
          throw new AuthenticationError(`server does not offer NTLMSSP in SPNEGO (offers ${offered.join(', ')})`);
        }
      }
      return encodeNegTokenInit({ mechTypes: MECH_TYPES, mechToken: this.#ntlm.negotiate() });
    });
  }

  continue(serverToken: Buffer): Buffer {
    return this.#advance('negotiated', 'authenticated', () => {
      const response = decodeNegTokenResp(serverToken);
      checkNotRejected(response.negState);
      if (response.supportedMech !== undefined && response.supportedMech !== Oid.NTLMSSP) {
        throw new AuthenticationError(`server chose mechanism ${response.supportedMech}; only NTLMSSP was offered`);
      }
      if (response.responseToken === undefined) {
        throw new ProtocolError('NegTokenResp from the server carries no NTLM CHALLENGE_MESSAGE', {
          field: 'NegTokenResp.responseToken',
        });
      }
      const authenticate = this.#ntlm.authenticate(response.responseToken);
      // Servers that receive an NTLM MIC insist on the mechListMIC (Samba's "new SPNEGO");
      // request-mic asks for it explicitly (RFC 4178 5).
      const wantMic = this.#ntlm.micPresent || response.negState === NegState.REQUEST_MIC;
      let mechListMIC: Buffer | undefined;
      if (wantMic && !this.isAnonymous) mechListMIC = this.#sessionSecurity().sign(this.#mechTypesDer);
      return encodeNegTokenResp({ responseToken: authenticate, mechListMIC });
    });
  }

  complete(serverToken: Buffer): void {
    this.#advance('authenticated', 'complete', () => {
      if (serverToken.length === 0) return;
      const response = decodeNegTokenResp(serverToken);
      checkNotRejected(response.negState);
      if (response.negState !== undefined && response.negState !== NegState.ACCEPT_COMPLETED) {
        throw new ProtocolError(`SESSION_SETUP succeeded but SPNEGO negState is ${response.negState}, not accept-completed`, {
          field: 'NegTokenResp.negState',
        });
      }
      // An anonymous logon has no keys to check a mechListMIC with.
      if (response.mechListMIC !== undefined && !this.isAnonymous) {
        if (!this.#sessionSecurity().verify(this.#mechTypesDer, response.mechListMIC)) {
          throw new SecurityError('SPNEGO mechListMIC from the server does not verify');
        }
      }
    });
  }

  #sessionSecurity(): NtlmSessionSecurity {
    this.#security ??= this.#ntlm.createSessionSecurity();
    return this.#security;
  }

  #advance<T>(from: Step, to: Step, action: () => T): T {
    // NTLM has one challenge round: another one asked for after AUTHENTICATE is out of turn.
    return this.#steps.advance(from, to, action);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `NtlmAuthenticator { step: ${this.#steps.current}, anonymous: ${this.isAnonymous} }`;
  }

  toJSON(): Record<string, unknown> {
    return { mechanism: this.mechanism, step: this.#steps.current, anonymous: this.isAnonymous };
  }
}

function checkNotRejected(negState: number | undefined): void {
  if (negState === NegState.REJECT) throw new AuthenticationError('server rejected the SPNEGO negotiation (negState reject)');
}

export function createNtlmAuthenticator(options: NtlmAuthenticatorOptions): NtlmAuthenticator {
  return new NtlmAuthenticator(options);
}
