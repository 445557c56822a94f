/**
 * CHANGE_NOTIFY request (MS-SMB2 2.2.35) and response (MS-SMB2 2.2.36), with the
 * FILE_NOTIFY_INFORMATION entries of the response buffer (MS-FSCC 2.7.1).
 */
import {
  Reader,
  SMB2_HEADER_SIZE,
  Writer,
  decodeOutputBufferResponse,
  decodeUtf16,
  encodeOutputBufferResponse,
  encodeUtf16,
  joinEntries,
  readFileId,
  splitEntries,
  writeFileId,
} from './buffer.js';
import type { FileId } from './buffer.js';

export const CHANGE_NOTIFY_WATCH_TREE = 0x0001;

/** CompletionFilter bits (MS-SMB2 2.2.35). */
export const enum CompletionFilter {
  FileName = 0x00000001,
  DirName = 0x00000002,
  Attributes = 0x00000004,
  Size = 0x00000008,
  LastWrite = 0x00000010,
  LastAccess = 0x00000020,
  Creation = 0x00000040,
  Ea = 0x00000080,
  Security = 0x00000100,
  StreamName = 0x00000200,
  StreamSize = 0x00000400,
  StreamWrite = 0x00000800,
}

/** FILE_NOTIFY_INFORMATION Action values (MS-FSCC 2.7.1). */
export const enum NotifyAction {
  Added = 0x00000001,
  Removed = 0x00000002,
  Modified = 0x00000003,
  RenamedOldName = 0x00000004,
  RenamedNewName = 0x00000005,
  AddedStream = 0x00000006,
  RemovedStream = 0x00000007,
  ModifiedStream = 0x00000008,
  RemovedByDelete = 0x00000009,
  IdNotTunnelled = 0x0000000a,
  TunnelledIdCollision = 0x0000000b,
}

const ACTION_NAMES: readonly string[] = [
  'FILE_ACTION_UNKNOWN',
  'FILE_ACTION_ADDED',
  'FILE_ACTION_REMOVED',
  'FILE_ACTION_MODIFIED',
  'FILE_ACTION_RENAMED_OLD_NAME',
  'FILE_ACTION_RENAMED_NEW_NAME',
  'FILE_ACTION_ADDED_STREAM',
  'FILE_ACTION_REMOVED_STREAM',
  'FILE_ACTION_MODIFIED_STREAM',
  'FILE_ACTION_REMOVED_BY_DELETE',
  'FILE_ACTION_ID_NOT_TUNNELLED',
  'FILE_ACTION_TUNNELLED_ID_COLLISION',
];

export function notifyActionName(action: number): string {
  return (action > 0 && ACTION_NAMES[action]) || `FILE_ACTION_0x${action.toString(16)}`;
}

export interface ChangeNotifyRequest {
  flags?: number;
  outputBufferLength: number;
  fileId: FileId;
  completionFilter: number;
}

export interface FileNotifyInformation {
  action: number;
  actionName: string;
  fileName: string;
}

const REQUEST = 'CHANGE_NOTIFY request';
const RESPONSE = 'CHANGE_NOTIFY response';
const NOTIFY = 'FILE_NOTIFY_INFORMATION';

export function encodeChangeNotifyRequest(request: ChangeNotifyRequest): Buffer {
  const w = new Writer(32, REQUEST);
  w.u16(32, 'StructureSize');
  w.u16(request.flags ?? 0, 'Flags');
  w.u32(request.outputBufferLength, 'OutputBufferLength');
  writeFileId(w, request.fileId);
  w.u32(request.completionFilter, 'CompletionFilter');
  w.u32(0, 'Reserved');
  return w.buffer;
}

export function decodeChangeNotifyRequest(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): Required<ChangeNotifyRequest> {
  const r = new Reader(message, REQUEST, bodyOffset);
  r.structureSize(32);
  const flags = r.u16('Flags');
  const outputBufferLength = r.u32('OutputBufferLength');
  const fileId = readFileId(r);
  const completionFilter = r.u32('CompletionFilter');
  r.skip(4, 'Reserved');
  return { flags, outputBufferLength, fileId, completionFilter };
}

export function encodeChangeNotifyResponse(notifications: ReadonlyArray<{ action: number; fileName: string }>): Buffer {
  const entries = notifications.map(({ action, fileName }) => {
    const name = encodeUtf16(fileName);
    const w = new Writer(12 + name.length, NOTIFY);
    w.u32(0, 'NextEntryOffset').u32(action, 'Action').u32(name.length, 'FileNameLength').bytes(name, 'FileName');
    return w.buffer;
  });
  return encodeOutputBufferResponse(RESPONSE, joinEntries(entries));
}

/**
 * The notifications of a response. An empty list is normal: the server sends an empty buffer
 * with STATUS_NOTIFY_ENUM_DIR when too much changed to report.
 */
export function decodeChangeNotifyResponse(message: Buffer, bodyOffset = SMB2_HEADER_SIZE): FileNotifyInformation[] {
  const output = decodeOutputBufferResponse(message, RESPONSE, bodyOffset);
  return splitEntries(output, NOTIFY, 12).map((entry) => {
    const r = new Reader(entry, NOTIFY, 4);
    const action = r.u32('Action');
    const length = r.u32('FileNameLength');
    const fileName = decodeUtf16(r.bytes(length, 'FileName'), NOTIFY, 'FileNameLength');
    return { action, actionName: notifyActionName(action), fileName };
  });
}
