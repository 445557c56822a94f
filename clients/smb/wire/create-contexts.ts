/**
 * SMB2_CREATE_CONTEXT chains (MS-SMB2 2.2.13.2, 2.2.14.2) and the few contexts this client
 * interprets: MxAc (maximal access) and QFid (on-disk id).
 */
import { Reader, Writer, alignUp, protocolError } from './buffer.js';

export interface CreateContext {
  /** Context name bytes as latin1 text: `MxAc`, `QFid`, `RqLs`, ... (lossless for binary names). */
  name: string;
  /** View of the context data. */
  data: Buffer;
}

export const CREATE_CONTEXT_MAXIMAL_ACCESS = 'MxAc';
export const CREATE_CONTEXT_QUERY_ON_DISK_ID = 'QFid';

const STRUCTURE = 'create context';
const CONTEXT_HEADER_SIZE = 16;

/** Encodes the chain; every context starts 8-byte aligned relative to the chain start. */
export function encodeCreateContexts(contexts: readonly CreateContext[]): Buffer {
  const encoded = contexts.map((context) => {
    const name = Buffer.from(context.name, 'latin1');
    const dataOffset = context.data.length > 0 ? alignUp(CONTEXT_HEADER_SIZE + name.length) : 0;
    const size = dataOffset > 0 ? dataOffset + context.data.length : CONTEXT_HEADER_SIZE + name.length;
    return { name, data: context.data, dataOffset, size };
  });
  const total = encoded.reduce((sum, c, i) => sum + (i < encoded.length - 1 ? alignUp(c.size) : c.size), 0);
  const w = new Writer(total, STRUCTURE);
  for (const [i, c] of encoded.entries()) {
    const start = w.offset;
    const isLast = i === encoded.length - 1;
    w.u32(isLast ? 0 : alignUp(c.size), 'Next');
    w.u16(CONTEXT_HEADER_SIZE, 'NameOffset');
    w.u16(c.name.length, 'NameLength');
    w.u16(0, 'Reserved');
    w.u16(c.dataOffset, 'DataOffset');
    w.u32(c.data.length, 'DataLength');
    w.bytes(c.name, 'Name');
    if (c.dataOffset > 0) {
      w.offset = start + c.dataOffset;
      w.bytes(c.data, 'Data');
    }
    if (!isLast) w.offset = start + alignUp(c.size);
  }
  return w.buffer;
}

/**
 * Decodes a chain that fills `chain` (a view of the CreateContexts region). Each Next must move
 * forward by at least one context header and stay inside the region, so loops are impossible.
 */
export function decodeCreateContexts(chain: Buffer, structure: string): CreateContext[] {
  const contexts: CreateContext[] = [];
  let start = 0;
  while (chain.length > 0) {
    const field = (name: string) => `CreateContexts[${contexts.length}].${name}`;
    const r = new Reader(chain, structure, start);
    const next = r.u32(field('Next'));
    const nameOffset = r.u16(field('NameOffset'));
    const nameLength = r.u16(field('NameLength'));
    r.skip(2, field('Reserved'));
    const dataOffset = r.u16(field('DataOffset'));
    const dataLength = r.u32(field('DataLength'));
    const end = next === 0 ? chain.length : start + next;
    if (next !== 0 && (next < CONTEXT_HEADER_SIZE || end > chain.length)) {
      throw protocolError(structure, field('Next'), `${next} at offset ${start} leaves the ${chain.length}-byte chain`);
    }
    const context = chain.subarray(start, end);
    for (const [name, offset, length] of [['NameOffset', nameOffset, nameLength], ['DataOffset', dataOffset, dataLength]] as const) {
      if (length > 0 && offset < CONTEXT_HEADER_SIZE) {
        throw protocolError(structure, field(name), `${offset} points before the end of the context header at ${CONTEXT_HEADER_SIZE}`);
      }
    }
    const name = new Reader(context, structure, nameOffset).bytes(nameLength, field('NameOffset'));
    const data = dataLength === 0 ? context.subarray(0, 0) : new Reader(context, structure, dataOffset).bytes(dataLength, field('DataOffset'));
    contexts.push({ name: name.toString('latin1'), data });
    if (next === 0) break;
    start = end;
  }
  return contexts;
}

export function findCreateContext(contexts: readonly CreateContext[], name: string): CreateContext | undefined {
  return contexts.find((c) => c.name === name);
}

/** MxAc request; `timestamp` (FILETIME) asks for access as of that time. */
export function maximalAccessRequest(timestamp?: bigint): CreateContext {
  const data = timestamp === undefined ? Buffer.alloc(0) : new Writer(8, 'MxAc request').u64(timestamp, 'Timestamp').buffer;
  return { name: CREATE_CONTEXT_MAXIMAL_ACCESS, data };
}

/** SMB2_CREATE_QUERY_MAXIMAL_ACCESS_RESPONSE (MS-SMB2 2.2.14.2.5). */
export function decodeMaximalAccessResponse(data: Buffer): { queryStatus: number; maximalAccess: number } {
  const r = new Reader(data, 'MxAc response');
  return { queryStatus: r.u32('QueryStatus'), maximalAccess: r.u32('MaximalAccess') };
}

export function queryOnDiskIdRequest(): CreateContext {
  return { name: CREATE_CONTEXT_QUERY_ON_DISK_ID, data: Buffer.alloc(0) };
}

/** SMB2_CREATE_QUERY_ON_DISK_ID response (MS-SMB2 2.2.14.2.9): 32 bytes, ids in the first 16. */
export function decodeQueryOnDiskIdResponse(data: Buffer): { diskFileId: bigint; volumeId: bigint } {
  const r = new Reader(data, 'QFid response');
  return { diskFileId: r.u64('DiskFileId'), volumeId: r.u64('VolumeId') };
}
