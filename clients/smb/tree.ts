/**
 * A tree connect (MS-SMB2 3.2.4.2.4, 3.2.5.5): a session's attachment to one share, with the
 * share's own encryption demand and, on 3.0/3.0.2, secure dialect negotiation (3.2.5.14.12).
 */
import type { Readable, Writable } from 'node:stream';
import { Dialect } from './crypto/index.js';
import type { RequestOptions, SmbResponse } from './connection.js';
import { SecurityError, SmbError, formatStatus } from './errors.js';
import type { EncryptionPolicy } from './negotiation.js';
import type { Session } from './session.js';
import { listDirectory, makeDirectory, removeDirectory } from './directory.js';
import type { ReaddirOptions } from './directory.js';
import { FileHandle } from './file.js';
import type { OpenFlags } from './file.js';
import type { DirEntry, FileStat } from './handles.js';
import { exists, rename, stat, truncate, unlink, utimes } from './path-operations.js';
import { createReadStream, createWriteStream } from './streams.js';
import type { ReadStreamOptions, WriteStreamOptions } from './streams.js';
import { watch } from './watch.js';
import type { WatchOptions, Watcher } from './watch.js';
import { appendFile, readFile, writeFile } from './whole-file.js';
import type { FileData } from './whole-file.js';
import {
  Command,
  Fsctl,
  IOCTL_IS_FSCTL,
  NtStatus,
  ShareFlag,
  commandName,
  decodeIoctlResponse,
  decodeTreeConnectResponse,
  decodeValidateNegotiateInfoResponse,
  encodeIoctlRequest,
  encodeTreeConnectRequest,
  encodeTreeDisconnectRequest,
  encodeValidateNegotiateInfoRequest,
  ntStatusName,
} from './wire/index.js';

/** FSCTL_VALIDATE_NEGOTIATE_INFO is not about a file: FileId is all ones (MS-SMB2 3.2.4.20.1). */
const NO_FILE_ID = { persistent: 0xffffffffffffffffn, volatile: 0xffffffffffffffffn };
const VALIDATE_NEGOTIATE_RESPONSE_BYTES = 24;

export class Tree {
  private disconnected = false;

  private constructor(
    readonly session: Session,
    readonly id: number,
    /** `\\host\share` */
    readonly path: string,
    readonly shareType: number,
    readonly shareFlags: number,
    readonly capabilities: number,
    readonly maximalAccess: number,
    /** Requests on this tree are encrypted (the session encrypts or the share demands it). */
    readonly encrypted: boolean,
  ) {}

  /** Whether the share itself asked for encryption (SMB2_SHAREFLAG_ENCRYPT_DATA). */
  get shareEncrypted(): boolean {
    return (this.shareFlags & ShareFlag.EncryptData) !== 0;
  }

  /** TREE_CONNECT to `\\host\share` (host as the client was given it). */
  static async connect(session: Session, share: string): Promise<Tree> {
    const connection = session.connection;
    const path = share.startsWith('\\\\') ? share : `\\\\${connection.options.host}\\${share}`;
    const dialect = connection.negotiated.dialect;
    const response = await session.request({
      command: Command.TreeConnect,
      body: encodeTreeConnectRequest({ path }),
      path,
      // MS-SMB2 3.3.5.7: a 3.1.1 server drops an authenticated TREE_CONNECT that is neither signed nor encrypted.
      sign: dialect === Dialect.Smb311,
    });
    const reply = decodeTreeConnectResponse(response.message);
    const treeId = response.header.treeId ?? 0;
    const shareEncrypts = (reply.shareFlags & ShareFlag.EncryptData) !== 0;
    const tree = new Tree(
      session, treeId, path, reply.shareType, reply.shareFlags, reply.capabilities, reply.maximalAccess,
      session.encryptData || shareEncrypts,
    );
    if (shareEncrypts && !session.encryptData) {
      const refusal = encryptionRefusal(session, connection.options.encryption);
      if (refusal !== undefined) {
        await tree.disconnect().catch(() => undefined);
        throw new SecurityError(`${path} requires encryption (SMB2_SHAREFLAG_ENCRYPT_DATA) but ${refusal}`, { command: 'TREE_CONNECT', path });
      }
    }
    const secureNegotiate = dialect === Dialect.Smb300 || dialect === Dialect.Smb302;
    if (secureNegotiate && !session.isGuest && !session.isAnonymous && !connection.negotiateValidated) {
      await validateNegotiateInfo(tree);
    }
    return tree;
  }

  /** A request on this tree: encrypted when the tree is, refused once disconnected. */
  request(options: Omit<RequestOptions, 'sessionId' | 'treeId'>): Promise<SmbResponse> {
    if (this.disconnected) {
      const status = NtStatus.NetworkNameDeleted;
      const command = commandName(options.command);
      return Promise.reject(
        new SmbError(`${formatStatus(status, ntStatusName(status))} on ${command} ${this.path}: the tree was disconnected`, {
          status, statusName: ntStatusName(status), command, path: this.path,
        }),
      );
    }
    return this.session.requestOnTree(options, this.id, this.encrypted, options.path ?? this.path);
  }

  // The path-based file API, like node:fs/promises. Paths are relative to the share, `/` or `\`.

  /** The whole file; one round trip (CREATE + READ + CLOSE) when it fits in one READ. */
  readFile(path: string): Promise<Buffer> {
    return readFile(this, path);
  }

  /** Creates or replaces the file with `data` (strings as UTF-8). */
  writeFile(path: string, data: FileData): Promise<void> {
    return writeFile(this, path, data);
  }

  /** Appends `data`, creating the file if needed. */
  appendFile(path: string, data: FileData): Promise<void> {
    return appendFile(this, path, data);
  }

  stat(path: string): Promise<FileStat> {
    return stat(this, path);
  }

  exists(path: string): Promise<boolean> {
    return exists(this, path);
  }

  /** Names in the directory (never `.` and `..`), or entries with types, sizes and times. */
  readdir(path: string): Promise<string[]>;
  readdir(path: string, options: { withFileTypes: true }): Promise<DirEntry[]>;
  readdir(path: string, options?: ReaddirOptions): Promise<string[] | DirEntry[]>;
  async readdir(path: string, options: ReaddirOptions = {}): Promise<string[] | DirEntry[]> {
    const entries = await listDirectory(this, path);
    return options.withFileTypes === true ? entries : entries.map((entry) => entry.name);
  }

  /** Creates a directory; `recursive` creates missing parents and accepts an existing directory. */
  mkdir(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    return makeDirectory(this, path, options);
  }

  /** Removes an empty directory. */
  rmdir(path: string): Promise<void> {
    return removeDirectory(this, path);
  }

  /** Deletes a file. */
  unlink(path: string): Promise<void> {
    return unlink(this, path);
  }

  /** Renames or moves within the share; an existing target is replaced only with `replace: true`. */
  rename(from: string, to: string, options: { replace?: boolean } = {}): Promise<void> {
    return rename(this, from, to, options);
  }

  /** Cuts or extends (with zeros) the file to `length` bytes. */
  truncate(path: string, length = 0): Promise<void> {
    return truncate(this, path, length);
  }

  /** Sets last access and last write time. */
  utimes(path: string, atime: Date, mtime: Date): Promise<void> {
    return utimes(this, path, atime, mtime);
  }

  /** Opens a file with node's flags: r, r+, w, w+, wx, a, a+. */
  open(path: string, flags: OpenFlags = 'r'): Promise<FileHandle> {
    return FileHandle.open(this, path, flags);
  }

  /** A readable of the file (or of bytes `start`..`end` inclusive), several READs ahead. */
  createReadStream(path: string, options: ReadStreamOptions = {}): Readable {
    return createReadStream(this, path, options);
  }

  /** A writable that replaces ('w') or appends to ('a') the file; 'finish' once all is written and closed. */
  createWriteStream(path: string, options: WriteStreamOptions = {}): Writable {
    return createWriteStream(this, path, options);
  }

  /** Changes in the directory as an async iterable; close() (or the signal) ends it. */
  watch(path: string, options: WatchOptions = {}): Watcher {
    return watch(this, path, options);
  }

  /** A compound chain on this tree (Connection.compound); one promise per element. */
  compound(requests: ReadonlyArray<Omit<RequestOptions, 'sessionId' | 'treeId'>>, options: { related: boolean }): Promise<SmbResponse>[] {
    if (this.disconnected) return requests.map((request) => this.request(request));
    const onTree = requests.map((request) => ({ ...request, treeId: this.id, encrypt: this.encrypted, path: request.path ?? this.path }));
    return this.session.compound(onTree, options);
  }

  /** TREE_DISCONNECT; idempotent. */
  async disconnect(): Promise<void> {
    if (this.disconnected) return;
    try {
      await this.request({ command: Command.TreeDisconnect, body: encodeTreeDisconnectRequest() });
    } finally {
      this.disconnected = true;
    }
  }
}

function encryptionRefusal(session: Session, policy: EncryptionPolicy): string | undefined {
  if (policy === 'off') return "the client's encryption is 'off'";
  if (session.isGuest || session.isAnonymous) return 'a guest or anonymous session cannot encrypt';
  if (!session.canEncrypt) return `dialect ${session.connection.negotiated.dialectName} negotiated no cipher`;
  return undefined;
}

/**
 * MS-SMB2 3.2.5.14.12: ask the server to repeat what it negotiated, over a signed (or
 * encrypted) channel, so that a downgrade by someone in the middle is caught.
 */
async function validateNegotiateInfo(tree: Tree): Promise<void> {
  const connection = tree.session.connection;
  const sent = connection.clientNegotiate;
  const negotiated = connection.negotiated;
  const input = encodeValidateNegotiateInfoRequest({
    capabilities: sent.capabilities,
    guid: sent.clientGuid,
    securityMode: sent.securityMode,
    dialects: sent.dialects,
  });
  const fail = (problem: string, cause?: unknown): never => {
    const error = new SecurityError(`FSCTL_VALIDATE_NEGOTIATE_INFO on ${tree.path}: ${problem}`, { command: 'IOCTL', path: tree.path, cause });
    connection.fail(error);
    throw error;
  };
  let response: SmbResponse;
  try {
    response = await tree.request({
      command: Command.Ioctl,
      body: encodeIoctlRequest({
        ctlCode: Fsctl.ValidateNegotiateInfo,
        fileId: NO_FILE_ID,
        input,
        maxOutputResponse: VALIDATE_NEGOTIATE_RESPONSE_BYTES,
        flags: IOCTL_IS_FSCTL,
      }),
      sign: true,
      // Servers that do not implement it answer so, signed; that is not a downgrade.
      okStatuses: [NtStatus.NotSupported, NtStatus.InvalidDeviceRequest],
    });
  } catch (error) {
    return fail((error as Error).message, error);
  }
  if (!response.signatureVerified && !response.encrypted) return fail('the response is neither signed nor encrypted');
  if (response.status === NtStatus.Success) {
    const info = decodeValidateNegotiateInfoResponse(decodeIoctlResponse(response.message).output);
    const differences: string[] = [];
    const hex = (n: number) => `0x${n.toString(16)}`;
    if (info.capabilities !== negotiated.capabilities) differences.push(`Capabilities ${hex(info.capabilities)} vs ${hex(negotiated.capabilities)}`);
    if (!info.guid.equals(negotiated.serverGuid)) differences.push('ServerGuid');
    if (info.securityMode !== negotiated.securityMode) differences.push(`SecurityMode ${hex(info.securityMode)} vs ${hex(negotiated.securityMode)}`);
    if (info.dialect !== negotiated.dialect) differences.push(`Dialect ${hex(info.dialect)} vs ${hex(negotiated.dialect)}`);
    if (differences.length > 0) fail(`the server's answer differs from its NEGOTIATE response (${differences.join(', ')})`);
  }
  connection.negotiateValidated = true;
}
