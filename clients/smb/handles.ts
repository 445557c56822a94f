/**
 * The building blocks of the path-based tree API: CREATE a handle, CLOSE it, and the compound
 * CREATE + operations + CLOSE that most path operations are (MS-SMB2 3.2.4.1.4, related
 * operations on the handle the CREATE returns).
 */
import type { RequestOptions, SmbResponse } from './connection.js';
import { SmbError } from './errors.js';
import { displayPath } from './paths.js';
import type { TreeConnection, TreeRequest } from './tree-connection.js';
import {
  Command,
  FileAttribute,
  RELATED_FILE_ID,
  ShareAccess,
  decodeCreateResponse,
  encodeCloseRequest,
  encodeCreateRequest,
  filetimeToDate,
} from './wire/index.js';
import type { CreateResponse, FileId } from './wire/index.js';


export interface OpenSpec {
  desiredAccess: number;
  createDisposition: number;
  createOptions: number;
  fileAttributes?: number;
}

/** What `stat` reports; sizes are numbers (exact up to 2^53 bytes). */
export interface FileStat {
  /** The last name of the path ('' for the share root). */
  name: string;
  size: number;
  allocationSize: number;
  isDirectory: boolean;
  isFile: boolean;
  /** FILE_ATTRIBUTE_* bits (MS-FSCC 2.6). */
  attributes: number;
  birthtime: Date;
  atime: Date;
  mtime: Date;
  ctime: Date;
  /** The server's 64-bit file id, when it reported one. */
  fileId?: bigint;
}

/** An entry of `readdir(path, { withFileTypes: true })`. */
export type DirEntry = FileStat;

/** Like node on POSIX: other opens may read, write and delete alongside ours. */
const SHARE_ALL = ShareAccess.Read | ShareAccess.Write | ShareAccess.Delete;

export interface TimesSizesAttributes {
  creationTime: bigint;
  lastAccessTime: bigint;
  lastWriteTime: bigint;
  changeTime: bigint;
  allocationSize: bigint;
  endOfFile: bigint;
  fileAttributes: number;
}

export function toFileStat(name: string, info: TimesSizesAttributes, fileId?: bigint): FileStat {
  const isDirectory = (info.fileAttributes & FileAttribute.Directory) !== 0;
  const stat: FileStat = {
    name,
    size: Number(info.endOfFile),
    allocationSize: Number(info.allocationSize),
    isDirectory,
    isFile: !isDirectory,
    attributes: info.fileAttributes,
    birthtime: filetimeToDate(info.creationTime),
    atime: filetimeToDate(info.lastAccessTime),
    mtime: filetimeToDate(info.lastWriteTime),
    ctime: filetimeToDate(info.changeTime),
  };
  if (fileId !== undefined) stat.fileId = fileId;
  return stat;
}

export function createRequest(tree: TreeConnection, sharePath: string, spec: OpenSpec): TreeRequest {
  return {
    command: Command.Create,
    body: encodeCreateRequest({
      desiredAccess: spec.desiredAccess,
      fileAttributes: spec.fileAttributes ?? 0,
      shareAccess: SHARE_ALL,
      createDisposition: spec.createDisposition,
      createOptions: spec.createOptions,
      name: sharePath,
    }),
    path: displayPath(tree.path, sharePath),
  };
}

export function closeRequest(fileId: FileId, path: string): TreeRequest {
  return { command: Command.Close, body: encodeCloseRequest({ fileId }), path };
}

/** CREATE alone: the handle stays open. */
export async function openHandle(tree: TreeConnection, sharePath: string, spec: OpenSpec): Promise<CreateResponse> {
  const response = await tree.request(createRequest(tree, sharePath, spec));
  return decodeCreateResponse(response.message);
}

export async function closeHandle(tree: TreeConnection, fileId: FileId, path: string): Promise<void> {
  await tree.request(closeRequest(fileId, path));
}

/**
 * The error to report for a related chain whose elements failed (`reasons`, in chain order): the
 * first, so a missing file is the CREATE's STATUS_OBJECT_NAME_NOT_FOUND rather than the statuses
 * the rest inherit; but a failure that is not a status the server answered (a malformed or
 * forged response, a timeout: the connection ended with it) comes first, since the statuses
 * are then no longer the point (and a caller could take STATUS_OBJECT_NAME_NOT_FOUND for an answer).
 */
export function chainFailure(reasons: readonly unknown[]): unknown {
  const answered = (reason: unknown) => reason instanceof SmbError && reason.constructor === SmbError && reason.status !== undefined;
  return reasons.find((reason) => !answered(reason)) ?? reasons[0];
}

/**
 * CREATE, the operations built by `operations` (on RELATED_FILE_ID), then CLOSE, as one
 * related compound; a failure is reported as chainFailure says.
 */
export async function onFile(
  tree: TreeConnection,
  sharePath: string,
  spec: OpenSpec,
  operations: (fileId: FileId, path: string) => TreeRequest[],
): Promise<{ create: CreateResponse; responses: SmbResponse[] }> {
  const path = displayPath(tree.path, sharePath);
  const chain = [createRequest(tree, sharePath, spec), ...operations(RELATED_FILE_ID, path), closeRequest(RELATED_FILE_ID, path)];
  const settled = await Promise.allSettled(tree.compound(chain, { related: true }));
  const failures = settled.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  if (failures.length > 0) throw chainFailure(failures);
  const responses = settled.map((result) => (result as PromiseFulfilledResult<SmbResponse>).value);
  return { create: decodeCreateResponse(responses[0]!.message), responses: responses.slice(1, -1) };
}
