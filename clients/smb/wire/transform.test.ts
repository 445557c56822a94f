import { test, expect } from '@playwright/test';
import {
  TRANSFORM_FLAG_ENCRYPTED,
  classifyMessage,
  decodeTransformMessage,
  encodeTransformHeader,
  transformAad,
} from './transform.js';
import { bytes, expectEveryTruncationRejected, expectProtocolError, guid, hex, u16, u32, u64 } from './test-builder.js';

const NONCE = bytes(guid(0x30).subarray(0, 12), Buffer.alloc(4));

test('transform header is 52 bytes, byte-exact, and the AAD is bytes 20..51', () => {
  const header = encodeTransformHeader({
    signature: guid(0x80),
    nonce: NONCE,
    originalMessageSize: 100,
    flags: TRANSFORM_FLAG_ENCRYPTED,
    sessionId: 0x0000_1000_0000_0041n,
  });
  const expected = bytes(hex('fd534d42'), guid(0x80), NONCE, u32(100), u16(0), u16(1), u64(0x0000_1000_0000_0041n));
  expect(header).toEqual(expected);
  expect(header.length).toBe(52);
  expect(transformAad(header)).toEqual(expected.subarray(20));
  expect(transformAad(header).length).toBe(32);

  const message = Buffer.concat([header, Buffer.alloc(100, 0xee)]);
  const decoded = decodeTransformMessage(message);
  expect(decoded).toMatchObject({ originalMessageSize: 100, flags: 1, sessionId: 0x0000_1000_0000_0041n });
  expect(decoded.signature).toEqual(guid(0x80));
  expect(decoded.nonce).toEqual(NONCE);
  expect(decoded.aad).toEqual(expected.subarray(20));
  expect(decoded.ciphertext.length).toBe(100);
  expect(decoded.ciphertext.buffer).toBe(message.buffer);
  expect(classifyMessage(message)).toBe('transform');
});

test('hostile transform messages', () => {
  const header = encodeTransformHeader({ signature: guid(0), nonce: NONCE, originalMessageSize: 8, flags: 1, sessionId: 1n });
  const message = Buffer.concat([header, Buffer.alloc(8)]);
  expectEveryTruncationRejected(message, decodeTransformMessage);
  expectProtocolError(() => decodeTransformMessage(message.subarray(0, 59)), 'TRANSFORM_HEADER.OriginalMessageSize', /8 does not match the 7/);
  const badFlags = Buffer.from(message);
  badFlags.writeUInt16LE(2, 42);
  expectProtocolError(() => decodeTransformMessage(badFlags), 'TRANSFORM_HEADER.Flags');
  expectProtocolError(() => decodeTransformMessage(Buffer.from(header.subarray(0, 52)).fill(0, 36, 40)), 'TRANSFORM_HEADER.OriginalMessageSize', /is 0/);
  expectProtocolError(() => transformAad(Buffer.alloc(10)), 'TRANSFORM_HEADER.Nonce');
});

test('classifies protocol ids; compressed and SMB1 messages are refused', () => {
  expect(classifyMessage(bytes(hex('fe534d42'), Buffer.alloc(60)))).toBe('smb2');
  expectProtocolError(() => classifyMessage(hex('fc534d42 00000000')), 'SMB2 message.ProtocolId', /compressed messages not supported/);
  expectProtocolError(() => classifyMessage(hex('ff534d42 72')), 'SMB2 message.ProtocolId', /not an SMB2/);
  expectProtocolError(() => classifyMessage(Buffer.alloc(0)), 'SMB2 message.ProtocolId');
});
