import { test, expect } from '@playwright/test';
import { RELATED_FILE_ID } from './buffer.js';
import { decodeCloseRequest, encodeCloseRequest, encodeCloseResponse } from './close.js';
import { buildCompound, buildCompoundVector, splitCompound } from './compound.js';
import { Command } from './constants.js';
import { encodeCreateRequest } from './create.js';
import { HeaderFlag, decodeHeader, encodeHeader } from './header.js';
import { decodeReadRequest, encodeReadRequest, encodeReadResponse, decodeReadResponse } from './read.js';
import { decodeWriteRequest, encodeWriteRequestHeader } from './write.js';
import { expectProtocolError } from './test-builder.js';

test('related CREATE + READ + CLOSE chain: aligned, NextCommand set, related flag, related FileId', () => {
  const create = encodeCreateRequest({ desiredAccess: 1, shareAccess: 1, createDisposition: 1, createOptions: 0, name: 'f.txt' });
  const read = encodeReadRequest({ length: 100, offset: 0n, fileId: RELATED_FILE_ID });
  const close = encodeCloseRequest({ fileId: RELATED_FILE_ID });
  const { message, parts } = buildCompound(
    [
      { header: { command: Command.Create, messageId: 10n, treeId: 5, sessionId: 9n }, body: create },
      { header: { command: Command.Read, messageId: 11n, treeId: 5, sessionId: 9n }, body: read },
      { header: { command: Command.Close, messageId: 12n, treeId: 5, sessionId: 9n }, body: close },
    ],
    { related: true },
  );
  const first = 64 + create.length + ((8 - ((64 + create.length) % 8)) % 8);
  expect(parts.map((p) => p.length)).toEqual([first, 64 + 56, 64 + 24]); // 64 + 49 padded to 120
  expect(message.length).toBe(first + 120 + 88);
  expect(decodeHeader(message).nextCommand).toBe(first);
  expect(decodeHeader(message).flags & HeaderFlag.RelatedOperations).toBe(0);
  const messages = splitCompound(message);
  expect(messages).toHaveLength(3);
  const readHeader = decodeHeader(messages[1] ?? Buffer.alloc(0));
  expect(readHeader.nextCommand).toBe(120);
  expect(readHeader.flags & HeaderFlag.RelatedOperations).toBe(HeaderFlag.RelatedOperations);
  expect(decodeReadRequest(messages[1] ?? Buffer.alloc(0)).fileId).toEqual(RELATED_FILE_ID);
  expect(decodeCloseRequest(messages[2] ?? Buffer.alloc(0)).fileId).toEqual(RELATED_FILE_ID);
  expect(decodeHeader(messages[2] ?? Buffer.alloc(0)).nextCommand).toBe(0);
  expect(messages[2]?.buffer).toBe(message.buffer);
});

test('a chain in pieces is the same bytes as the chain joined, and keeps WRITE data as given', () => {
  const data = [Buffer.alloc(65_536, 0xa1), Buffer.alloc(1001, 0xb2), Buffer.alloc(3, 0xc3)];
  const elements = data.map((payload, i) => ({
    header: { command: Command.Write, messageId: BigInt(20 + i), treeId: 7, sessionId: 9n },
    body: [encodeWriteRequestHeader({ fileId: { persistent: 1n, volatile: 2n }, offset: BigInt(i * 65_536) }, payload.length), payload],
  }));
  const { pieces, sizes } = buildCompoundVector(elements, { related: false });
  const joined = Buffer.concat(pieces);
  expect(joined.equals(buildCompound(elements, { related: false }).message)).toBe(true);
  // 64 + 48 + 65536 is aligned; 64 + 48 + 1001 = 1113 pads to 1120; the last is not padded.
  expect(sizes).toEqual([65_648, 1120, 64 + 48 + 3]);
  expect(pieces.filter((piece) => data.some((payload) => payload === piece))).toHaveLength(3);
  const messages = splitCompound(joined);
  expect(messages.map((m) => m.length)).toEqual(sizes);
  for (const [i, message] of messages.entries()) {
    const write = decodeWriteRequest(message);
    expect(write.offset).toBe(BigInt(i * 65_536));
    expect(write.data.equals(data[i]!)).toBe(true);
  }
  expect(joined.subarray(65_648 + 1113, 65_648 + 1120).every((byte) => byte === 0)).toBe(true);
});

test('unrelated chains leave the related flag clear', () => {
  const { message } = buildCompound(
    [
      { header: { command: Command.Echo, messageId: 1n }, body: Buffer.from([4, 0, 0, 0]) },
      { header: { command: Command.Echo, messageId: 2n }, body: Buffer.from([4, 0, 0, 0]) },
    ],
    { related: false },
  );
  const [, second] = splitCompound(message);
  expect(decodeHeader(second ?? Buffer.alloc(0)).flags).toBe(0);
});

test('a split response decodes in place: READ data offset counts from its own header', () => {
  const { message } = buildCompound(
    [
      { header: { command: Command.Read, messageId: 1n, flags: HeaderFlag.ServerToRedir }, body: encodeReadResponse(Buffer.from('data!')) },
      { header: { command: Command.Close, messageId: 2n, flags: HeaderFlag.ServerToRedir }, body: encodeCloseResponse({ flags: 0, creationTime: 0n, lastAccessTime: 0n, lastWriteTime: 0n, changeTime: 0n, allocationSize: 0n, endOfFile: 5n, fileAttributes: 0 }) },
    ],
    { related: true },
  );
  expect(decodeReadResponse(splitCompound(message)[0] ?? Buffer.alloc(0)).data.toString()).toBe('data!');
  expect(splitCompound(encodeHeader({ command: 0, messageId: 0n }))).toHaveLength(1);
});

test('hostile NextCommand values are ProtocolErrors', () => {
  const { message } = buildCompound(
    [
      { header: { command: Command.Echo, messageId: 1n }, body: Buffer.from([4, 0, 0, 0]) },
      { header: { command: Command.Echo, messageId: 2n }, body: Buffer.from([4, 0, 0, 0]) },
    ],
    { related: false },
  );
  const set = (value: number) => {
    const copy = Buffer.from(message);
    copy.writeUInt32LE(value, 20);
    return copy;
  };
  expectProtocolError(() => splitCompound(set(8)), 'compound.[0].NextCommand', /own header/);
  expectProtocolError(() => splitCompound(set(68)), 'compound.[0].NextCommand', /aligned/);
  expectProtocolError(() => splitCompound(set(4096)), 'compound.[0].NextCommand', /past/);
  expectProtocolError(() => splitCompound(set(0xfffffff8)), 'compound.[0].NextCommand', /past/);
  expectProtocolError(() => splitCompound(message.subarray(0, 100)), 'compound.[0].NextCommand');
  expectProtocolError(() => splitCompound(Buffer.alloc(0)), 'SMB2 header.StructureSize');
});
