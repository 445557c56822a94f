/**
 * Path operations that are one related compound each: CREATE, a QUERY_INFO or SET_INFO on
 * the new handle, CLOSE (stat, unlink, rename, truncate, utimes).
 */
import { ArgumentError, SmbError } from './errors.js';
import { onFile, toFileStat } from './handles.js';
import type { FileStat } from './handles.js';
import { baseName, toShareFilePath, toSharePath } from './paths.js';
import type { TreeConnection, TreeRequest } from './tree-connection.js';
import {
  AccessMask,
  Command,
  CreateDisposition,
  CreateOption,
  FileInfoClass,
  InfoType,
  NtStatus,
  dateToFiletime,
  decodeFileInternalInformation,
  decodeQueryInfoResponse,
  encodeFileBasicInformation,
  encodeFileDispositionInformation,
  encodeFileEndOfFileInformation,
  encodeFileRenameInformation,
  encodeQueryInfoRequest,
  encodeSetInfoRequest,
} from './wire/index.js';
import type { FileId } from './wire/index.js';

function setInfo(fileId: FileId, fileInfoClass: number, buffer: Buffer, path: string): TreeRequest {
  return { command: Command.SetInfo, body: encodeSetInfoRequest({ infoType: InfoType.File, fileInfoClass, fileId, buffer }), path };
}

const open = (desiredAccess: number, createOptions = 0) => ({ desiredAccess, createDisposition: CreateDisposition.Open, createOptions });

export async function stat(tree: TreeConnection, path: string): Promise<FileStat> {
  const sharePath = toSharePath(path, 'stat');
  const { create, responses } = await onFile(tree, sharePath, open(AccessMask.FileReadAttributes), (fileId, display) => [{
    command: Command.QueryInfo,
    body: encodeQueryInfoRequest({ infoType: InfoType.File, fileInfoClass: FileInfoClass.FileInternalInformation, outputBufferLength: 8, fileId }),
    path: display,
  }]);
  return toFileStat(baseName(sharePath), create, decodeFileInternalInformation(decodeQueryInfoResponse(responses[0]!.message)));
}

export async function exists(tree: TreeConnection, path: string): Promise<boolean> {
  try {
    await stat(tree, path);
    return true;
  } catch (error) {
    const status = error instanceof SmbError ? error.status : undefined;
    if (status === NtStatus.ObjectNameNotFound || status === NtStatus.ObjectPathNotFound) return false;
    throw error;
  }
}

/** Opens with DELETE and marks the file for deletion on close (MS-FSCC 2.4.11). */
export async function deleteOnClose(tree: TreeConnection, sharePath: string, createOptions: number): Promise<void> {
  await onFile(tree, sharePath, open(AccessMask.Delete | AccessMask.FileReadAttributes, createOptions), (fileId, display) => [
    setInfo(fileId, FileInfoClass.FileDispositionInformation, encodeFileDispositionInformation(true), display),
  ]);
}

export async function unlink(tree: TreeConnection, path: string): Promise<void> {
  await deleteOnClose(tree, toShareFilePath(path, 'unlink'), CreateOption.NonDirectoryFile);
}

/** Renames or moves a file or directory; `replace` overwrites an existing target. */
export async function rename(tree: TreeConnection, from: string, to: string, options: { replace?: boolean } = {}): Promise<void> {
  const source = toShareFilePath(from, 'rename');
  const target = toShareFilePath(to, 'rename');
  await onFile(tree, source, open(AccessMask.Delete | AccessMask.FileReadAttributes | AccessMask.Synchronize), (fileId, display) => [
    setInfo(fileId, FileInfoClass.FileRenameInformation, encodeFileRenameInformation({ replaceIfExists: options.replace ?? false, fileName: target }), display),
  ]);
}

export async function truncate(tree: TreeConnection, path: string, length = 0): Promise<void> {
  if (!Number.isSafeInteger(length) || length < 0) throw new ArgumentError(`truncate ${path}: length ${length} is not a non-negative integer`, { path });
  await onFile(tree, toShareFilePath(path, 'truncate'), open(AccessMask.FileWriteData | AccessMask.FileReadAttributes, CreateOption.NonDirectoryFile), (fileId, display) => [
    setInfo(fileId, FileInfoClass.FileEndOfFileInformation, encodeFileEndOfFileInformation(BigInt(length)), display),
  ]);
}

/** Sets the last access and last write times; 0 leaves creation and change time as they are. */
export async function utimes(tree: TreeConnection, path: string, atime: Date, mtime: Date): Promise<void> {
  const info = encodeFileBasicInformation({
    creationTime: 0n,
    lastAccessTime: dateToFiletime(atime),
    lastWriteTime: dateToFiletime(mtime),
    changeTime: 0n,
    fileAttributes: 0,
  });
  await onFile(tree, toSharePath(path, 'utimes'), open(AccessMask.FileWriteAttributes | AccessMask.FileReadAttributes), (fileId, display) => [
    setInfo(fileId, FileInfoClass.FileBasicInformation, info, display),
  ]);
}
