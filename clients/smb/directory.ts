/** readdir (QUERY_DIRECTORY until STATUS_NO_MORE_FILES, MS-SMB2 3.2.4.17), mkdir and rmdir. */
import { withCleanup } from './cleanup.js';
import type { SmbResponse } from './connection.js';
import { ProtocolError } from './errors.js';
import { chainFailure, closeHandle, createRequest, onFile, toFileStat } from './handles.js';
import type { DirEntry, OpenSpec } from './handles.js';
import { displayPath, toSharePath, toShareFilePath } from './paths.js';
import { deleteOnClose } from './path-operations.js';
import type { TreeConnection, TreeRequest } from './tree-connection.js';
import {
  AccessMask,
  Command,
  CreateDisposition,
  CreateOption,
  FileInfoClass,
  NtStatus,
  QueryDirectoryFlag,
  RELATED_FILE_ID,
  decodeCreateResponse,
  decodeDirectoryEntries,
  decodeQueryDirectoryResponse,
  encodeQueryDirectoryRequest,
} from './wire/index.js';
import type { FileId } from './wire/index.js';

const LIST = AccessMask.FileReadData | AccessMask.FileReadAttributes | AccessMask.Synchronize;
const ENTRY_CLASS = FileInfoClass.FileIdFullDirectoryInformation;
const MAX_LISTING_BUFFER = 256 * 1024;

export interface ReaddirOptions {
  withFileTypes?: boolean;
}

function queryDirectory(tree: TreeConnection, fileId: FileId, path: string, first: boolean): TreeRequest {
  const { limits } = tree;
  const length = Math.min(limits.maxTransactSize, limits.supportsMultiCredit ? MAX_LISTING_BUFFER : 65536);
  return {
    command: Command.QueryDirectory,
    body: encodeQueryDirectoryRequest({ fileInformationClass: ENTRY_CLASS, fileId, pattern: '*', outputBufferLength: length, flags: first ? QueryDirectoryFlag.RestartScans : 0 }),
    payloadSize: length,
    okStatuses: [NtStatus.NoMoreFiles],
    path,
  };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `name` cannot be the name of an entry of a directory (MS-FSCC 2.1.5), or undefined. */
function nameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  for (const forbidden of ['/', '\\', '\0']) if (name.includes(forbidden)) return `contains ${JSON.stringify(forbidden)}`;
  const lone = LONE_SURROGATE.exec(name)?.[0];
  if (lone !== undefined) return `holds a lone surrogate (U+${lone.charCodeAt(0).toString(16).toUpperCase()})`;
  return undefined;
}

function entriesOf(response: SmbResponse, path: string): DirEntry[] {
  if (response.status === NtStatus.NoMoreFiles) return [];
  const output = decodeQueryDirectoryResponse(response.message);
  // The end is STATUS_NO_MORE_FILES; an empty success would have the listing loop forever.
  if (output.length === 0) throw new ProtocolError('QUERY_DIRECTORY response: success with no entries', { field: 'QUERY_DIRECTORY response.OutputBufferLength', command: 'QUERY_DIRECTORY' });
  const entries = decodeDirectoryEntries(output, ENTRY_CLASS);
  for (const { fileName } of entries) {
    // A name the caller joins to a path must neither leave the directory nor split in two.
    const problem = nameProblem(fileName);
    if (problem !== undefined) {
      throw new ProtocolError(`QUERY_DIRECTORY ${path}: entry ${JSON.stringify(fileName)} is not a file name: it ${problem}`, {
        command: 'QUERY_DIRECTORY', path, field: 'FileIdFullDirectoryInformation.FileName',
      });
    }
  }
  return entries
    .filter((entry) => entry.fileName !== '.' && entry.fileName !== '..')
    .map((entry) => toFileStat(entry.fileName, {
      creationTime: entry.creationTime ?? 0n,
      lastAccessTime: entry.lastAccessTime ?? 0n,
      lastWriteTime: entry.lastWriteTime ?? 0n,
      changeTime: entry.changeTime ?? 0n,
      allocationSize: entry.allocationSize ?? 0n,
      endOfFile: entry.endOfFile ?? 0n,
      fileAttributes: entry.fileAttributes ?? 0,
    }, entry.fileId));
}

export async function listDirectory(tree: TreeConnection, path: string): Promise<DirEntry[]> {
  const sharePath = toSharePath(path, 'readdir');
  const display = displayPath(tree.path, sharePath);
  const spec: OpenSpec = { desiredAccess: LIST, createDisposition: CreateDisposition.Open, createOptions: CreateOption.DirectoryFile };
  const [creating, listing] = tree.compound(
    [createRequest(tree, sharePath, spec), queryDirectory(tree, RELATED_FILE_ID, display, true)],
    { related: true },
  ) as [Promise<SmbResponse>, Promise<SmbResponse>];
  const [created, listed] = await Promise.allSettled([creating, listing]);
  if (created.status === 'rejected') throw listed.status === 'rejected' ? chainFailure([created.reason, listed.reason]) : created.reason;
  const { fileId } = decodeCreateResponse(created.value.message);
  return withCleanup(async () => {
    if (listed.status === 'rejected') throw listed.reason;
    const all = entriesOf(listed.value, display);
    let last = listed.value;
    while (last.status !== NtStatus.NoMoreFiles) {
      last = await tree.request(queryDirectory(tree, fileId, display, false));
      for (const entry of entriesOf(last, display)) all.push(entry);
    }
    return all;
  }, () => closeHandle(tree, fileId, display));
}

export async function makeDirectory(tree: TreeConnection, path: string, options: { recursive?: boolean } = {}): Promise<void> {
  const sharePath = toShareFilePath(path, 'mkdir');
  const create = (target: string, disposition: number) =>
    onFile(tree, target, { desiredAccess: AccessMask.FileReadAttributes, createDisposition: disposition, createOptions: CreateOption.DirectoryFile }, () => []);
  if (options.recursive !== true) {
    await create(sharePath, CreateDisposition.Create);
    return;
  }
  const segments = sharePath.split('\\');
  for (let i = 1; i <= segments.length; i++) {
    await create(segments.slice(0, i).join('\\'), CreateDisposition.OpenIf);
  }
}

export async function removeDirectory(tree: TreeConnection, path: string): Promise<void> {
  const sharePath = toShareFilePath(path, 'rmdir');
  await deleteOnClose(tree, sharePath, CreateOption.DirectoryFile);
}
