/**
 * One interface over every client the suite can drive, so the portable scenarios (files, dirs, io,
 * interop) run unchanged for every client: in-process ones (this project's TypeScript client, a
 * user's module) and command plug-ins in any language (clients/plugins, clients/PLUGIN-PROTOCOL.md).
 */

import type { Dialect } from '../../servers/catalog/schema.js';

/** The logon mechanism a connect asks for: NTLM, Kerberos, or negotiate (Kerberos where it can be had, NTLM otherwise). */
export type AdapterAuth = 'ntlm' | 'kerberos' | 'negotiate';

/** Where Kerberos tickets come from: no DNS look-up, no system krb5.conf needed. */
export interface AdapterKerberos {
  /** Upper-case realm; the user logs on as `<username>@<realm>`. */
  realm: string;
  /** The KDC as `host:port`. */
  kdc: string;
  /** The server's host name, for its service principal cifs/<serviceHost> (`host` stays the address connected to). */
  serviceHost: string;
}

export interface AdapterConnectOptions {
  host: string;
  port: number;
  /** Share name, e.g. `data`. */
  share: string;
  username?: string;
  password?: string;
  domain?: string;
  /** Default 'ntlm'. 'kerberos' and 'negotiate' need `kerberos`. */
  auth?: AdapterAuth;
  kerberos?: AdapterKerberos;
  /** The dialects the target admits, as it declares them: a hint for a client that must be told which to offer (it still offers what it offers). */
  dialects?: { min: Dialect; max: Dialect };
  timeoutMs?: number;
  /**
   * The longest the host waits for one answer of an out-of-process client before it ends the
   * client (default: the plug-in's own limit). A scenario that makes the server stop answering
   * sets it a little above `timeoutMs`, so a client that never gives up costs seconds, not minutes.
   */
  operationLimitMs?: number;
  /** Given a reader of what the client writes on its own (a driver's stderr) as soon as it runs, also when connect fails. */
  onDiagnostics?: (read: () => string) => void;
}

export interface AdapterEntry {
  name: string;
  isDirectory: boolean;
  size: number;
}

/** A connected client on one share. Paths are share-relative, `/`-separated. */
export interface AdapterSession {
  readonly client: string;
  writeFile(path: string, data: Buffer): Promise<void>;
  readFile(path: string): Promise<Buffer>;
  stat(path: string): Promise<{ size: number; isDirectory: boolean }>;
  /** Names in the directory, without `.` and `..`, sorted. */
  readdir(path: string): Promise<AdapterEntry[]>;
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  unlink(path: string): Promise<void>;
  rename(from: string, to: string, options?: { replace?: boolean }): Promise<void>;
  exists(path: string): Promise<boolean>;
  close(): Promise<void>;
  /** What the client wrote on its own (a driver's stderr, bounded), for the cell's attachment. */
  diagnostics?(): string;
}

export interface ClientAdapter {
  /** Stable id used in the matrix: `smb-ts`, `smbclient`, or the name a config gives it. */
  readonly id: string;
  connect(options: AdapterConnectOptions): Promise<AdapterSession>;
}

/** A failed operation, with the NTSTATUS name when the client reported one. */
export class AdapterError extends Error {
  readonly code = 'SMB_INTEROP_ADAPTER';
  constructor(
    message: string,
    readonly client: string,
    readonly operation: string,
    readonly path: string,
    /** e.g. `STATUS_OBJECT_NAME_NOT_FOUND` */
    readonly statusName: string | undefined,
    /** The client's own error, for an in-process client (`cause.name`: TimeoutError, SecurityError, ...). */
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AdapterError';
  }
}
