import type { Profile } from './catalog/schema.js';
import type { ServerSessionKeys } from './samba/server-keys.js';

import type { ProviderKind } from './catalog/targets.js';

export type { ProviderKind };

export interface StartedShare {
  name: string;
  /** `\\host\share` as a client would connect to it. */
  unc: string;
  /** Directory behind the share on this machine: a server-side oracle. Absent for remote targets. */
  localPath?: string;
  /** Whether the profile declares per-share encryption for it. */
  encrypted: boolean;
  guestOk: boolean;
}

export interface TargetUser {
  /** Logical name from the profile (alice, bob). */
  name: string;
  /** Account name to log in with. */
  username: string;
  password: string;
  domain: string;
}

/** One session as the server itself reports it (smbstatus): an oracle independent of the client. */
export interface ServerSession {
  sessionId: string;
  username: string;
  dialect: string;
  /** e.g. AES-128-GCM, or "" when the session is not encrypted. */
  encryption: string;
  /** e.g. AES-128-GMAC, or "" when the session does not sign. */
  signing: string;
  /** Share names connected in this session, with their own encryption. */
  trees: Array<{ share: string; encryption: string; signing: string }>;
}

/** How a client gets Kerberos tickets for a target in a domain. */
export interface TargetKerberos {
  /** The realm, upper case (INTEROP.TEST); users log on as `<username>@<realm>`. */
  realm: string;
  /** The realm's KDC as `host:port`: no DNS look-up needed. */
  kdc: string;
  /** The server's host name: its service principal is cifs/<serviceHost> (a client connects to `host` by address). */
  serviceHost: string;
  /** Whether the server accepts NTLM logons too. */
  ntlm: boolean;
}

/** A server that is running and reachable; the same shape for every provider. */
export interface StartedTarget {
  /** `<profile>@<provider>`, e.g. smb311-gcm@native. */
  readonly name: string;
  readonly profile: Profile;
  readonly provider: ProviderKind;
  readonly host: string;
  readonly port: number;
  /** e.g. "Samba 4.17.12-Debian". */
  readonly serverVersion: string;
  readonly shares: StartedShare[];
  readonly users: TargetUser[];
  /** Present when the server is in a Kerberos realm (a domain profile). */
  readonly kerberos?: TargetKerberos;
  share(name: string): StartedShare;
  user(name?: string): TargetUser;
  /** The server's log so far (secrets are never logged by default). */
  log(): string;
  /** Log lines whose timestamp is at or after `since`. */
  logSince(since: Date): string;
  /**
   * The keys of every session the server has logged (Samba's `debug encryption`), which decrypt
   * and verify any client's capture. Secret: only ever written beside a trace. Absent where the
   * server logs none (remote targets).
   */
  sessionKeys?(): ServerSessionKeys[];
  /** Sessions the server currently has, when the provider can ask it. */
  serverSessions?(): Promise<ServerSession[]>;
  /** Stops the server and removes everything its start created. Safe to call twice. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
