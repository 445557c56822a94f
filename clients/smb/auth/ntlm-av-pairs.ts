/** NTLM AV_PAIR lists (MS-NLMP 2.2.2.1): the CHALLENGE TargetInfo and the NTLMv2 client blob. */
import { fileTimeToDate, malformed, slice, u16, utf16 } from './bytes.js';

export const AvId = {
  EOL: 0x0000,
  NbComputerName: 0x0001,
  NbDomainName: 0x0002,
  DnsComputerName: 0x0003,
  DnsDomainName: 0x0004,
  DnsTreeName: 0x0005,
  Flags: 0x0006,
  Timestamp: 0x0007,
  SingleHost: 0x0008,
  TargetName: 0x0009,
  ChannelBindings: 0x000a,
} as const;

/** MsvAvFlags bits (MS-NLMP 2.2.2.1). */
export const AvFlags = {
  ACCOUNT_AUTHENTICATION_CONSTRAINED: 0x1,
  MIC_PRESENT: 0x2,
  TARGET_SPN_UNTRUSTED: 0x4,
} as const;

export interface AvPair {
  readonly id: number;
  readonly value: Buffer;
}

/** Values whose size the spec fixes; anything else is a lying AvLen. */
const FIXED_LENGTH: ReadonlyMap<number, number> = new Map([
  [AvId.Flags, 4],
  [AvId.Timestamp, 8],
  [AvId.ChannelBindings, 16],
]);

const STRUCTURE = 'AV_PAIR';

/** Parses an AV_PAIR list up to and excluding MsvAvEOL, which must be present. */
export function parseAvPairs(buf: Buffer): AvPair[] {
  const pairs: AvPair[] = [];
  let offset = 0;
  for (;;) {
    const id = u16(buf, offset, STRUCTURE, 'AvId');
    const length = u16(buf, offset + 2, STRUCTURE, 'AvLen');
    const value = slice(buf, offset + 4, length, STRUCTURE, `Value (AvId ${id})`);
    offset += 4 + length;
    if (id === AvId.EOL) {
      if (length !== 0) throw malformed(STRUCTURE, 'AvLen', `MsvAvEOL has length ${length}`);
      return pairs;
    }
    const fixed = FIXED_LENGTH.get(id);
    if (fixed !== undefined && length !== fixed) {
      throw malformed(STRUCTURE, 'AvLen', `AvId ${id} must be ${fixed} bytes, got ${length}`);
    }
    pairs.push({ id, value });
  }
}

/** Encodes the pairs followed by MsvAvEOL. */
export function encodeAvPairs(pairs: readonly AvPair[]): Buffer {
  const parts: Buffer[] = [];
  for (const { id, value } of pairs) {
    if (value.length > 0xffff) throw malformed(STRUCTURE, 'AvLen', `value of AvId ${id} is too long`);
    const header = Buffer.alloc(4);
    header.writeUInt16LE(id, 0);
    header.writeUInt16LE(value.length, 2);
    parts.push(header, value);
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

/** The TargetInfo of a CHALLENGE_MESSAGE, decoded for people and for the session layer. */
export interface TargetInfo {
  nbComputerName?: string;
  nbDomainName?: string;
  dnsComputerName?: string;
  dnsDomainName?: string;
  dnsTreeName?: string;
  flags?: number;
  /** The server's clock, when it sent MsvAvTimestamp. */
  timestamp?: Date;
  targetName?: string;
}

export function describeTargetInfo(pairs: readonly AvPair[]): TargetInfo {
  const info: TargetInfo = {};
  const text = (id: number): string | undefined => {
    const value = findAvPair(pairs, id);
    return value === undefined ? undefined : value.toString('utf16le');
  };
  // Absent pairs leave their keys out rather than set to undefined.
  const assign = <K extends keyof TargetInfo>(key: K, value: TargetInfo[K] | undefined): void => {
    if (value !== undefined) info[key] = value;
  };
  assign('nbComputerName', text(AvId.NbComputerName));
  assign('nbDomainName', text(AvId.NbDomainName));
  assign('dnsComputerName', text(AvId.DnsComputerName));
  assign('dnsDomainName', text(AvId.DnsDomainName));
  assign('dnsTreeName', text(AvId.DnsTreeName));
  assign('targetName', text(AvId.TargetName));
  assign('flags', findAvPair(pairs, AvId.Flags)?.readUInt32LE(0));
  const timestamp = findAvPair(pairs, AvId.Timestamp);
  if (timestamp !== undefined) info.timestamp = fileTimeToDate(timestamp);
  return info;
}

export function findAvPair(pairs: readonly AvPair[], id: number): Buffer | undefined {
  return pairs.find((pair) => pair.id === id)?.value;
}

export interface ClientAvPairOptions {
  /** Sets MsvAvFlags bit 0x2: the AUTHENTICATE_MESSAGE carries a MIC. */
  micPresent: boolean;
  /** Service principal name for MsvAvTargetName, e.g. `cifs/server.example`. */
  targetName?: string;
  /** MD5 of gss_channel_bindings_struct; all zeros when there are no channel bindings. */
  channelBindings?: Buffer;
}

/**
 * The server's TargetInfo with the client's additions (MS-NLMP 3.1.5.1.2): MsvAvFlags
 * with MIC_PRESENT, MsvAvChannelBindings and MsvAvTargetName. Existing pairs keep their
 * order; the client's own replace any the server sent with the same id.
 */
export function addClientAvPairs(server: readonly AvPair[], options: ClientAvPairOptions): AvPair[] {
  const extra: AvPair[] = [];
  if (options.micPresent) {
    const current = findAvPair(server, AvId.Flags)?.readUInt32LE(0) ?? 0;
    const value = Buffer.alloc(4);
    value.writeUInt32LE((current | AvFlags.MIC_PRESENT) >>> 0);
    extra.push({ id: AvId.Flags, value });
  }
  if (options.channelBindings !== undefined) {
    if (options.channelBindings.length !== 16) throw new RangeError('channel bindings hash must be 16 bytes');
    extra.push({ id: AvId.ChannelBindings, value: options.channelBindings });
  }
  if (options.targetName !== undefined) extra.push({ id: AvId.TargetName, value: utf16(options.targetName) });

  const out = server.map((pair) => extra.find((own) => own.id === pair.id) ?? pair);
  const present = new Set(server.map((pair) => pair.id));
  for (const pair of extra) if (!present.has(pair.id)) out.push(pair);
  return out;
}
