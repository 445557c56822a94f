/** The SMB2/3 client library: `SmbClient.connect(...)`, then `client.connectTree(share)`. */
export { SmbClient, formatGuid } from './client.js';
export type { NegotiatedInfo, SmbClientOptions } from './client.js';
export { Tree } from './tree.js';
export { FileHandle } from './file.js';
export type { LockOptions, OpenFlags } from './file.js';
export type { DirEntry, FileStat } from './handles.js';
export type { ReaddirOptions } from './directory.js';
export type { FileData } from './whole-file.js';
export type { ReadStreamOptions, WriteStreamOptions } from './streams.js';
export type { WatchEvent, WatchOptions, Watcher } from './watch.js';
export { Session } from './session.js';
export { Connection } from './connection.js';
export type { RequestOptions, SmbResponse } from './connection.js';
export { ALL_DIALECTS, DEFAULT_CIPHERS, DEFAULT_SIGNING_ALGORITHMS } from './negotiation.js';
export type {
  CipherName,
  DialectName,
  EncryptionPolicy,
  SigningAlgorithmName,
  SigningPolicy,
} from './negotiation.js';
export type { SmbMessageEvent, SmbObserver, SmbSessionKeys } from './observer.js';
export {
  ArgumentError,
  AuthenticationError,
  NegotiationError,
  ProtocolError,
  SecurityError,
  SmbError,
  TimeoutError,
  TransportError,
} from './errors.js';
export type { SmbErrorCode, SmbErrorDetails } from './errors.js';
export { aeadBackend } from './crypto/index.js';
export type { AeadBackend } from './crypto/index.js';
export { KerberosTicketCache } from './auth/kerberos/ticket-cache.js';
export { KerberosError, KerberosErrorCode } from './auth/kerberos/errors.js';
export type { AuthMechanismChoice, KerberosClientOptions } from './auth/choose.js';
