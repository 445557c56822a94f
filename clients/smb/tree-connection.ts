/**
 * The tree-connect layer (MS-SMB2 3.2.4.2.4, 3.2.5.5): a session's attachment to one share, with
 * the share's own encryption demand and, on 3.0/3.0.2, secure dialect negotiation (3.2.5.14.12).
 * Requests and compound chains on the tree go through it, and it holds what the connection
 * negotiated that the file layer needs (TreeLimits). The file-system facade (Tree and the file
 * modules) builds on this class and imports nothing below it.
 */
import { Dialect } from './crypto/index.js';
import type { RequestOptions, SmbResponse } from './connection.js';
import { SecurityError, SmbError, formatStatus } from './errors.js';
import type { EncryptionPolicy } from './negotiation.js';
import type { Session } from './session.js';
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

/** A request on a tree: the tree sets the session, the tree id and the encryption. */
export type TreeRequest = Omit<RequestOptions, 'sessionId' | 'treeId'>;

/** What the connection negotiated that sizes the file layer's requests; read-only. */
export interface TreeLimits {
  readonly maxReadSize: number;
  readonly maxWriteSize: number;
  readonly maxTransactSize: number;
  /** LARGE_MTU: requests may carry more than 64 KiB and are charged credits by size. */
  readonly supportsMultiCredit: boolean;
  /** Large READ responses on this tree can be received in place (Connection.receivesInPlace). */
  readonly receivesInPlace: boolean;
}

/** The fields of a tree connect, from its TREE_CONNECT response. */
export interface TreeFields {
  session: Session;
  id: number;
  path: string;
  shareType: number;
  shareFlags: number;
  capabilities: number;
  maximalAccess: number;
  encrypted: boolean;
}

export class TreeConnection {
  private disconnected = false;
  readonly session: Session;
  readonly id: number;
  /** `\\host\share` */
  readonly path: string;
  readonly shareType: number;
  readonly shareFlags: number;
  readonly capabilities: number;
  readonly maximalAccess: number;
  /** Requests on this tree are encrypted (the session encrypts or the share demands it). */
  readonly encrypted: boolean;
  readonly limits: TreeLimits;

  protected constructor(fields: TreeFields) {
    this.session = fields.session;
    this.id = fields.id;
    this.path = fields.path;
    this.shareType = fields.shareType;
    this.shareFlags = fields.shareFlags;
    this.capabilities = fields.capabilities;
    this.maximalAccess = fields.maximalAccess;
    this.encrypted = fields.encrypted;
    const connection = fields.session.connection;
    const negotiated = connection.negotiated;
    this.limits = Object.freeze({
      maxReadSize: negotiated.maxReadSize,
      maxWriteSize: negotiated.maxWriteSize,
      maxTransactSize: negotiated.maxTransactSize,
      supportsMultiCredit: negotiated.supportsMultiCredit,
      receivesInPlace: connection.receivesInPlace(fields.encrypted),
    });
  }

  /** Whether the share itself asked for encryption (SMB2_SHAREFLAG_ENCRYPT_DATA). */
  get shareEncrypted(): boolean {
    return (this.shareFlags & ShareFlag.EncryptData) !== 0;
  }

  /**
   * TREE_CONNECT to `\\host\share` (host as the client was given it); `make` builds the tree
   * object (the facade) from the response's fields, before encryption and secure negotiation are checked.
   */
  protected static async attach<T extends TreeConnection>(session: Session, share: string, make: (fields: TreeFields) => T): Promise<T> {
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
    const shareEncrypts = (reply.shareFlags & ShareFlag.EncryptData) !== 0;
    const tree = make({
      session, id: response.header.treeId ?? 0, path, shareType: reply.shareType, shareFlags: reply.shareFlags,
      capabilities: reply.capabilities, maximalAccess: reply.maximalAccess, encrypted: session.encryptData || shareEncrypts,
    });
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
  request(options: TreeRequest): Promise<SmbResponse> {
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

  /** A compound chain on this tree (Connection.compound); one promise per element. */
  compound(requests: ReadonlyArray<TreeRequest>, options: { related: boolean }): Promise<SmbResponse>[] {
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
async function validateNegotiateInfo(tree: TreeConnection): Promise<void> {
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
  connection.markNegotiateValidated();
}
