/** SMB2 packet header, sync (MS-SMB2 2.2.1.2) and async (MS-SMB2 2.2.1.1) forms. */
import { Reader, SMB2_HEADER_SIZE, Writer, protocolError } from './buffer.js';

export const SMB2_PROTOCOL_ID = Buffer.from([0xfe, 0x53, 0x4d, 0x42]); // 0xFE 'S' 'M' 'B'
export const SIGNATURE_OFFSET = 48;
export const SIGNATURE_SIZE = 16;

/** Header Flags (MS-SMB2 2.2.1.2). */
export const enum HeaderFlag {
  ServerToRedir = 0x00000001,
  AsyncCommand = 0x00000002,
  RelatedOperations = 0x00000004,
  Signed = 0x00000008,
  PriorityMask = 0x00000070,
  DfsOperations = 0x10000000,
  ReplayOperation = 0x20000000,
}

export interface HeaderFields {
  command: number;
  messageId: bigint;
  creditCharge?: number;
  /** NTSTATUS; responses only. Ignored when `channelSequence` is given. */
  status?: number;
  /** Requests of the 3.x dialects: ChannelSequence in the low 16 bits of the Status field. */
  channelSequence?: number;
  /** CreditRequest on requests, CreditResponse on responses. */
  credits?: number;
  flags?: number;
  nextCommand?: number;
  /** Selects the async form; SMB2_FLAGS_ASYNC_COMMAND is then set in Flags. */
  asyncId?: bigint;
  /** Sync form: the Reserved field (historically a process id). */
  reserved?: number;
  treeId?: number;
  sessionId?: bigint;
  signature?: Uint8Array;
}

export interface Header {
  creditCharge: number;
  /** The whole 32-bit Status field; for requests this holds ChannelSequence + Reserved. */
  status: number;
  channelSequence: number;
  command: number;
  credits: number;
  flags: number;
  nextCommand: number;
  messageId: bigint;
  isAsync: boolean;
  /** Present in the async form only. */
  asyncId: bigint | undefined;
  /** Present in the sync form only. */
  treeId: number | undefined;
  reserved: number | undefined;
  sessionId: bigint;
  /** View of the 16 signature bytes inside the message. */
  signature: Buffer;
}

const STRUCTURE = 'SMB2 header';

/**
 * `extraFlags` are set in Flags besides `fields.flags`, and `nextCommand` replaces
 * `fields.nextCommand`: what signing and chaining add to a request's header, without a copy of
 * its fields.
 */
export function encodeHeader(fields: HeaderFields, extraFlags = 0, nextCommand = fields.nextCommand ?? 0): Buffer {
  const w = new Writer(SMB2_HEADER_SIZE, STRUCTURE);
  const isAsync = fields.asyncId !== undefined;
  let flags = ((fields.flags ?? 0) | extraFlags) >>> 0;
  if (isAsync) flags = (flags | HeaderFlag.AsyncCommand) >>> 0;
  w.bytes(SMB2_PROTOCOL_ID, 'ProtocolId');
  w.u16(SMB2_HEADER_SIZE, 'StructureSize');
  w.u16(fields.creditCharge ?? 0, 'CreditCharge');
  if (fields.channelSequence !== undefined) {
    w.u16(fields.channelSequence, 'ChannelSequence').u16(0, 'Reserved');
  } else {
    w.u32(fields.status ?? 0, 'Status');
  }
  w.u16(fields.command, 'Command');
  w.u16(fields.credits ?? 0, 'CreditRequest');
  w.u32(flags, 'Flags');
  w.u32(nextCommand, 'NextCommand');
  w.u64(fields.messageId, 'MessageId');
  if (isAsync) {
    w.u64(fields.asyncId ?? 0n, 'AsyncId');
  } else {
    w.u32(fields.reserved ?? 0, 'Reserved').u32(fields.treeId ?? 0, 'TreeId');
  }
  w.u64(fields.sessionId ?? 0n, 'SessionId');
  if (fields.signature === undefined) w.zeros(SIGNATURE_SIZE);
  else w.bytes(fields.signature, 'Signature', SIGNATURE_SIZE);
  return w.buffer;
}

/** Decodes the header at `offset` (non-zero for later messages of a compound). */
export function decodeHeader(message: Buffer, offset = 0): Header {
  const r = new Reader(message, STRUCTURE, offset);
  if (message.length - offset < SMB2_HEADER_SIZE) {
    throw protocolError(
      STRUCTURE,
      'StructureSize',
      `needs ${SMB2_HEADER_SIZE} bytes at offset ${offset} but the message length is ${message.length}`,
    );
  }
  const protocolId = r.bytes(4, 'ProtocolId');
  if (!protocolId.equals(SMB2_PROTOCOL_ID)) {
    throw protocolError(STRUCTURE, 'ProtocolId', `is 0x${protocolId.toString('hex')}, expected 0xfe534d42`);
  }
  r.structureSize(SMB2_HEADER_SIZE);
  const creditCharge = r.u16('CreditCharge');
  const status = r.u32('Status');
  const command = r.u16('Command');
  const credits = r.u16('CreditRequest');
  const flags = r.u32('Flags');
  const nextCommand = r.u32('NextCommand');
  const messageId = r.u64('MessageId');
  const isAsync = (flags & HeaderFlag.AsyncCommand) !== 0;
  let asyncId: bigint | undefined;
  let reserved: number | undefined;
  let treeId: number | undefined;
  if (isAsync) {
    asyncId = r.u64('AsyncId');
  } else {
    reserved = r.u32('Reserved');
    treeId = r.u32('TreeId');
  }
  const sessionId = r.u64('SessionId');
  const signature = r.bytes(SIGNATURE_SIZE, 'Signature');
  return {
    creditCharge,
    status,
    channelSequence: status & 0xffff,
    command,
    credits,
    flags,
    nextCommand,
    messageId,
    isAsync,
    asyncId,
    treeId,
    reserved,
    sessionId,
    signature,
  };
}

export function isResponse(header: Pick<Header, 'flags'>): boolean {
  return (header.flags & HeaderFlag.ServerToRedir) !== 0;
}

/** SMB 3.1.1 priority value 0-7 carried in Flags bits 4-6. */
export function priorityOf(flags: number): number {
  return (flags & HeaderFlag.PriorityMask) >>> 4;
}
