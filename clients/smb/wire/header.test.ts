import { test, expect } from '@playwright/test';
import { Command } from './constants.js';
import { HeaderFlag, decodeHeader, encodeHeader, isResponse, priorityOf } from './header.js';
import { bytes, expectEveryTruncationRejected, expectProtocolError, guid, hex, u16, u32, u64 } from './test-builder.js';

const PROTOCOL_ID = hex('fe534d42');

test('sync request header is byte-exact', () => {
  const encoded = encodeHeader({
    command: Command.TreeConnect,
    messageId: 3n,
    creditCharge: 1,
    channelSequence: 2,
    credits: 31,
    flags: HeaderFlag.Signed,
    reserved: 0xfeff,
    treeId: 0,
    sessionId: 0x0000_4000_0000_0011n,
    signature: guid(0xa0),
  });
  const expected = bytes(
    PROTOCOL_ID,
    u16(64), // StructureSize
    u16(1), // CreditCharge
    u16(2), // ChannelSequence
    u16(0), // Reserved
    u16(0x0003), // Command
    u16(31), // CreditRequest
    u32(0x00000008), // Flags
    u32(0), // NextCommand
    u64(3), // MessageId
    u32(0xfeff), // Reserved
    u32(0), // TreeId
    u64(0x0000_4000_0000_0011n), // SessionId
    guid(0xa0), // Signature
  );
  expect(encoded).toEqual(expected);
  const decoded = decodeHeader(encoded);
  expect(decoded).toMatchObject({
    creditCharge: 1,
    status: 2,
    channelSequence: 2,
    command: Command.TreeConnect,
    credits: 31,
    flags: HeaderFlag.Signed,
    nextCommand: 0,
    messageId: 3n,
    isAsync: false,
    asyncId: undefined,
    treeId: 0,
    reserved: 0xfeff,
    sessionId: 0x0000_4000_0000_0011n,
  });
  expect(decoded.signature).toEqual(guid(0xa0));
});

test('async response header carries AsyncId and sets the async flag', () => {
  const encoded = encodeHeader({
    command: Command.ChangeNotify,
    messageId: 9n,
    status: 0x00000103, // STATUS_PENDING
    credits: 1,
    flags: HeaderFlag.ServerToRedir,
    asyncId: 0x1122334455667788n,
    sessionId: 7n,
  });
  expect(encoded.subarray(8, 12)).toEqual(u32(0x103));
  expect(encoded.readUInt32LE(16)).toBe(HeaderFlag.ServerToRedir | HeaderFlag.AsyncCommand);
  expect(encoded.subarray(32, 40)).toEqual(u64(0x1122334455667788n));
  const decoded = decodeHeader(encoded);
  expect(decoded.isAsync).toBe(true);
  expect(decoded.asyncId).toBe(0x1122334455667788n);
  expect(decoded.treeId).toBeUndefined();
  expect(decoded.status).toBe(0x103);
  expect(isResponse(decoded)).toBe(true);
});

test('decodes a header at a non-zero offset and reports priority and high flag bits', () => {
  const header = encodeHeader({
    command: Command.Read,
    messageId: 0xffffffffffffffffn,
    flags: HeaderFlag.DfsOperations | HeaderFlag.ReplayOperation | (5 << 4),
  });
  const decoded = decodeHeader(Buffer.concat([Buffer.alloc(8), header]), 8);
  expect(decoded.messageId).toBe(0xffffffffffffffffn);
  expect(priorityOf(decoded.flags)).toBe(5);
  expect(decoded.flags & HeaderFlag.ReplayOperation).toBe(HeaderFlag.ReplayOperation);
});

test('hostile headers are ProtocolErrors', () => {
  const good = encodeHeader({ command: Command.Echo, messageId: 1n });
  expectEveryTruncationRejected(good, (m) => decodeHeader(m));
  expectProtocolError(() => decodeHeader(Buffer.alloc(0)), 'SMB2 header.StructureSize');
  const wrongId = Buffer.from(good);
  wrongId[0] = 0xff;
  expectProtocolError(() => decodeHeader(wrongId), 'SMB2 header.ProtocolId', /0xff534d42/);
  const wrongSize = Buffer.from(good);
  wrongSize.writeUInt16LE(65, 4);
  expectProtocolError(() => decodeHeader(wrongSize), 'SMB2 header.StructureSize', /65, expected 64/);
  expectProtocolError(() => decodeHeader(good, 1), 'SMB2 header.StructureSize');
});

test('encoder rejects out-of-range arguments', () => {
  expectProtocolError(() => encodeHeader({ command: 0x10000, messageId: 0n }), 'SMB2 header.Command');
  expectProtocolError(() => encodeHeader({ command: 1, messageId: -1n }), 'SMB2 header.MessageId');
  expectProtocolError(
    () => encodeHeader({ command: 1, messageId: 0n, signature: Buffer.alloc(8) }),
    'SMB2 header.Signature',
  );
});
