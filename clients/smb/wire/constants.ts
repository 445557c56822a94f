/** Wire values shared by several commands (MS-SMB2 2.2, MS-FSCC). */

/** SMB2 command codes (MS-SMB2 2.2.1.2 Command). */
export const enum Command {
  Negotiate = 0x0000, // choose dialect and capabilities
  SessionSetup = 0x0001, // authenticate (GSS-API tokens)
  Logoff = 0x0002, // end a session
  TreeConnect = 0x0003, // attach to a share
  TreeDisconnect = 0x0004, // detach from a share
  Create = 0x0005, // open or create a file, directory or pipe
  Close = 0x0006, // close a handle
  Flush = 0x0007, // flush cached data of a handle
  Read = 0x0008, // read from a file or pipe
  Write = 0x0009, // write to a file or pipe
  Lock = 0x000a, // byte-range locks
  Ioctl = 0x000b, // FSCTL / IOCTL
  Cancel = 0x000c, // cancel a pending request (no response)
  Echo = 0x000d, // keep-alive
  QueryDirectory = 0x000e, // enumerate a directory
  ChangeNotify = 0x000f, // watch a directory for changes
  QueryInfo = 0x0010, // file, filesystem, security or quota info
  SetInfo = 0x0011, // set file, filesystem, security or quota info
  OplockBreak = 0x0012, // oplock/lease break notification and acknowledgment
  ServerToClientNotification = 0x0013, // unsolicited notification (3.1.1)
}

const COMMAND_NAMES: readonly string[] = [
  'NEGOTIATE',
  'SESSION_SETUP',
  'LOGOFF',
  'TREE_CONNECT',
  'TREE_DISCONNECT',
  'CREATE',
  'CLOSE',
  'FLUSH',
  'READ',
  'WRITE',
  'LOCK',
  'IOCTL',
  'CANCEL',
  'ECHO',
  'QUERY_DIRECTORY',
  'CHANGE_NOTIFY',
  'QUERY_INFO',
  'SET_INFO',
  'OPLOCK_BREAK',
  'SERVER_TO_CLIENT_NOTIFICATION',
];

/** `TREE_CONNECT`, or `COMMAND_0x0042` for a code the spec does not define. */
export function commandName(command: number): string {
  return COMMAND_NAMES[command] ?? `COMMAND_0x${command.toString(16).padStart(4, '0')}`;
}

/** Dialect revisions (MS-SMB2 2.2.3). */
export const enum Dialect {
  Smb202 = 0x0202,
  Smb210 = 0x0210,
  Smb300 = 0x0300,
  Smb302 = 0x0302,
  Smb311 = 0x0311,
  Wildcard = 0x02ff, // SMB2 response to a multi-protocol SMB1 negotiate
}

/** SecurityMode (MS-SMB2 2.2.3, 2.2.5). */
export const enum SecurityMode {
  SigningEnabled = 0x0001,
  SigningRequired = 0x0002,
}

/** Global capabilities (MS-SMB2 2.2.3 Capabilities). */
export const enum Capability {
  Dfs = 0x00000001,
  Leasing = 0x00000002,
  LargeMtu = 0x00000004,
  MultiChannel = 0x00000008,
  PersistentHandles = 0x00000010,
  DirectoryLeasing = 0x00000020,
  Encryption = 0x00000040,
  Notifications = 0x00000080,
}

/** TREE_CONNECT response ShareType (MS-SMB2 2.2.10). */
export const enum ShareType {
  Disk = 0x01,
  Pipe = 0x02,
  Print = 0x03,
}

/** TREE_CONNECT response ShareFlags (MS-SMB2 2.2.10). Caching policy lives in bits 4-5. */
export const enum ShareFlag {
  ManualCaching = 0x00000000,
  AutoCaching = 0x00000010,
  VdoCaching = 0x00000020,
  NoCaching = 0x00000030,
  CachingMask = 0x00000030,
  Dfs = 0x00000001,
  DfsRoot = 0x00000002,
  RestrictExclusiveOpens = 0x00000100,
  ForceSharedDelete = 0x00000200,
  AllowNamespaceCaching = 0x00000400,
  AccessBasedDirectoryEnum = 0x00000800,
  ForceLevel2Oplock = 0x00001000,
  EnableHashV1 = 0x00002000,
  EnableHashV2 = 0x00004000,
  EncryptData = 0x00008000,
  IdentityRemoting = 0x00040000,
  CompressData = 0x00100000,
  IsolatedTransport = 0x00200000,
}

/** TREE_CONNECT response Capabilities (MS-SMB2 2.2.10). */
export const enum ShareCapability {
  Dfs = 0x00000008,
  ContinuousAvailability = 0x00000010,
  Scaleout = 0x00000020,
  Cluster = 0x00000040,
  Asymmetric = 0x00000080,
  RedirectToOwner = 0x00000100,
}

/** Access mask bits (MS-SMB2 2.2.13.1, MS-DTYP 2.4.3). */
export const enum AccessMask {
  FileReadData = 0x00000001, // also FILE_LIST_DIRECTORY
  FileWriteData = 0x00000002, // also FILE_ADD_FILE
  FileAppendData = 0x00000004, // also FILE_ADD_SUBDIRECTORY
  FileReadEa = 0x00000008,
  FileWriteEa = 0x00000010,
  FileExecute = 0x00000020, // also FILE_TRAVERSE
  FileDeleteChild = 0x00000040,
  FileReadAttributes = 0x00000080,
  FileWriteAttributes = 0x00000100,
  Delete = 0x00010000,
  ReadControl = 0x00020000,
  WriteDac = 0x00040000,
  WriteOwner = 0x00080000,
  Synchronize = 0x00100000,
  AccessSystemSecurity = 0x01000000,
  MaximumAllowed = 0x02000000,
  GenericAll = 0x10000000,
  GenericExecute = 0x20000000,
  GenericWrite = 0x40000000,
  GenericRead = 0x80000000,
}

/** File attributes (MS-FSCC 2.6). */
export const enum FileAttribute {
  ReadOnly = 0x00000001,
  Hidden = 0x00000002,
  System = 0x00000004,
  Directory = 0x00000010,
  Archive = 0x00000020,
  Normal = 0x00000080,
  Temporary = 0x00000100,
  SparseFile = 0x00000200,
  ReparsePoint = 0x00000400,
  Compressed = 0x00000800,
  Offline = 0x00001000,
  NotContentIndexed = 0x00002000,
  Encrypted = 0x00004000,
  IntegrityStream = 0x00008000,
  NoScrubData = 0x00020000,
}

/** CREATE ShareAccess (MS-SMB2 2.2.13). */
export const enum ShareAccess {
  Read = 0x00000001,
  Write = 0x00000002,
  Delete = 0x00000004,
}

/** CREATE CreateDisposition (MS-SMB2 2.2.13). */
export const enum CreateDisposition {
  Supersede = 0,
  Open = 1,
  Create = 2,
  OpenIf = 3,
  Overwrite = 4,
  OverwriteIf = 5,
}

/** CREATE CreateOptions (MS-SMB2 2.2.13). */
export const enum CreateOption {
  DirectoryFile = 0x00000001,
  WriteThrough = 0x00000002,
  SequentialOnly = 0x00000004,
  NoIntermediateBuffering = 0x00000008,
  SynchronousIoAlert = 0x00000010,
  SynchronousIoNonalert = 0x00000020,
  NonDirectoryFile = 0x00000040,
  CompleteIfOplocked = 0x00000100,
  NoEaKnowledge = 0x00000200,
  OpenRemoteInstance = 0x00000400,
  RandomAccess = 0x00000800,
  DeleteOnClose = 0x00001000,
  OpenByFileId = 0x00002000,
  OpenForBackupIntent = 0x00004000,
  NoCompression = 0x00008000,
  OpenRequiringOplock = 0x00010000,
  DisallowExclusive = 0x00020000,
  ReserveOpfilter = 0x00100000,
  OpenReparsePoint = 0x00200000,
  OpenNoRecall = 0x00400000,
  OpenForFreeSpaceQuery = 0x00800000,
}

/** CREATE RequestedOplockLevel / response OplockLevel (MS-SMB2 2.2.13). */
export const enum OplockLevel {
  None = 0x00,
  Level2 = 0x01,
  Exclusive = 0x08,
  Batch = 0x09,
  Lease = 0xff,
}

/** CREATE ImpersonationLevel (MS-SMB2 2.2.13). */
export const enum ImpersonationLevel {
  Anonymous = 0,
  Identification = 1,
  Impersonation = 2,
  Delegate = 3,
}

/** CREATE response CreateAction (MS-SMB2 2.2.14). */
export const enum CreateAction {
  Superseded = 0,
  Opened = 1,
  Created = 2,
  Overwritten = 3,
}

/** QUERY_INFO / SET_INFO InfoType (MS-SMB2 2.2.37). */
export const enum InfoType {
  File = 0x01,
  FileSystem = 0x02,
  Security = 0x03,
  Quota = 0x04,
}

/** File information classes (MS-FSCC 2.4) used by QUERY_DIRECTORY, QUERY_INFO and SET_INFO. */
export const enum FileInfoClass {
  FileDirectoryInformation = 1,
  FileFullDirectoryInformation = 2,
  FileBothDirectoryInformation = 3,
  FileBasicInformation = 4,
  FileStandardInformation = 5,
  FileInternalInformation = 6,
  FileEaInformation = 7,
  FileAccessInformation = 8,
  FileNameInformation = 9,
  FileRenameInformation = 10,
  FileNamesInformation = 12,
  FileDispositionInformation = 13,
  FilePositionInformation = 14,
  FileFullEaInformation = 15,
  FileModeInformation = 16,
  FileAlignmentInformation = 17,
  FileAllInformation = 18,
  FileAllocationInformation = 19,
  FileEndOfFileInformation = 20,
  FileAlternateNameInformation = 21,
  FileStreamInformation = 22,
  FileCompressionInformation = 28,
  FileNetworkOpenInformation = 34,
  FileAttributeTagInformation = 35,
  FileIdBothDirectoryInformation = 37,
  FileIdFullDirectoryInformation = 38,
  FileNormalizedNameInformation = 48,
  FileIdExtdDirectoryInformation = 60,
  FileDispositionInformationEx = 64,
}

/** Filesystem information classes (MS-FSCC 2.5). */
export const enum FsInfoClass {
  FileFsVolumeInformation = 1,
  FileFsLabelInformation = 2,
  FileFsSizeInformation = 3,
  FileFsDeviceInformation = 4,
  FileFsAttributeInformation = 5,
  FileFsControlInformation = 6,
  FileFsFullSizeInformation = 7,
  FileFsObjectIdInformation = 8,
  FileFsSectorSizeInformation = 11,
}
