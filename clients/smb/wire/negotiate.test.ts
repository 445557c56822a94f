import { test, expect } from '@playwright/test';
import { Capability, Dialect, SecurityMode } from './constants.js';
import {
  Cipher,
  HashAlgorithm,
  NegotiateContextType,
  SigningAlgorithm,
  findContext,
} from './negotiate-contexts.js';
import type { NegotiateContext } from './negotiate-contexts.js';
import {
  decodeNegotiateRequest,
  decodeNegotiateResponse,
  encodeNegotiateRequest,
  encodeNegotiateResponse,
} from './negotiate.js';
import type { NegotiateResponse } from './negotiate.js';
import {
  bytes,
  expectEveryTruncationRejected,
  expectProtocolError,
  guid,
  u16,
  u32,
  u64,
  utf16,
  withHeader,
  zeros,
} from './test-builder.js';

const ALL_DIALECTS = [Dialect.Smb202, Dialect.Smb210, Dialect.Smb300, Dialect.Smb302, Dialect.Smb311];
const SALT = Buffer.alloc(32, 0x5a);

function contextBytes(type: number, data: Buffer): Buffer {
  return bytes(u16(type), u16(data.length), u32(0), data);
}

test('3.1.1 request: dialects, then contexts at an 8-byte aligned offset, each padded to 8', () => {
  const contexts: NegotiateContext[] = [
    { kind: 'preauthIntegrity', hashAlgorithms: [HashAlgorithm.Sha512], salt: SALT },
    { kind: 'encryption', ciphers: [Cipher.Aes128Gcm, Cipher.Aes128Ccm] },
    { kind: 'signing', algorithms: [SigningAlgorithm.AesGmac, SigningAlgorithm.AesCmac] },
  ];
  const body = encodeNegotiateRequest({
    dialects: ALL_DIALECTS,
    securityMode: SecurityMode.SigningEnabled,
    capabilities: Capability.Dfs | Capability.Encryption,
    clientGuid: guid(0x10),
    negotiateContexts: contexts,
  });
  const expected = bytes(
    u16(36), // StructureSize
    u16(5), // DialectCount
    u16(1), // SecurityMode
    u16(0), // Reserved
    u32(0x41), // Capabilities
    guid(0x10), // ClientGuid
    u32(112), // NegotiateContextOffset: 64 + 46 rounded up to 8
    u16(3), // NegotiateContextCount
    u16(0), // Reserved2
    u16(0x0202), u16(0x0210), u16(0x0300), u16(0x0302), u16(0x0311),
    zeros(2), // Padding to offset 112
    contextBytes(1, bytes(u16(1), u16(32), u16(1), SALT)),
    zeros(2),
    contextBytes(2, bytes(u16(2), u16(2), u16(1))),
    zeros(2),
    contextBytes(8, bytes(u16(2), u16(2), u16(1))),
  );
  expect(body).toEqual(expected);
  const decoded = decodeNegotiateRequest(withHeader(body));
  expect(decoded.dialects).toEqual(ALL_DIALECTS);
  expect(decoded.clientGuid).toEqual(guid(0x10));
  expect(decoded.negotiateContexts).toEqual(contexts);
});

test('request without 3.1.1 carries ClientStartTime zero and no contexts', () => {
  const body = encodeNegotiateRequest({
    dialects: [Dialect.Smb202, Dialect.Smb210],
    securityMode: SecurityMode.SigningRequired,
    capabilities: 0,
    clientGuid: guid(0),
    negotiateContexts: [{ kind: 'encryption', ciphers: [1] }],
  });
  expect(body).toEqual(bytes(u16(36), u16(2), u16(2), u16(0), u32(0), guid(0), u64(0), u16(0x0202), u16(0x0210)));
  expect(decodeNegotiateRequest(withHeader(body)).negotiateContexts).toBeUndefined();
});

function serverResponse311(): Buffer {
  const token = Buffer.from('604806062b0601050502a03e303ca00e300c060a2b06010401823702020a', 'hex');
  const securityEnd = 64 + 64 + token.length; // 158
  const contextsOffset = 160;
  return withHeader(
    bytes(
      u16(65), // StructureSize
      u16(1), // SecurityMode
      u16(0x0311), // DialectRevision
      u16(4), // NegotiateContextCount
      guid(0x40), // ServerGuid
      u32(0x2f), // Capabilities
      u32(8388608), // MaxTransactSize
      u32(8388608), // MaxReadSize
      u32(8388608), // MaxWriteSize
      u64(133500000000000000n), // SystemTime
      u64(0), // ServerStartTime
      u16(128), // SecurityBufferOffset
      u16(token.length), // SecurityBufferLength
      u32(contextsOffset), // NegotiateContextOffset
      token,
      zeros(contextsOffset - securityEnd),
      contextBytes(1, bytes(u16(1), u16(32), u16(1), SALT)), // 46 bytes
      zeros(2),
      contextBytes(2, bytes(u16(1), u16(2))), // 12 bytes
      zeros(4),
      contextBytes(0x0100, Buffer.from('future')), // unknown type: 14 bytes
      zeros(2),
      contextBytes(8, bytes(u16(1), u16(1))),
    ),
  );
}

test('decodes a 3.1.1 response with a security token and contexts, skipping unknown types', () => {
  const message = serverResponse311();
  const response = decodeNegotiateResponse(message);
  expect(response).toMatchObject({
    securityMode: 1,
    dialectRevision: 0x0311,
    capabilities: 0x2f,
    maxTransactSize: 8388608,
    maxReadSize: 8388608,
    maxWriteSize: 8388608,
    systemTime: 133500000000000000n,
    serverStartTime: 0n,
  });
  expect(response.serverGuid).toEqual(guid(0x40));
  expect(response.securityBuffer.subarray(0, 2)).toEqual(Buffer.from([0x60, 0x48]));
  expect(response.securityBuffer.buffer).toBe(message.buffer); // a view, not a copy
  expect(response.negotiateContexts).toEqual([
    { kind: 'preauthIntegrity', hashAlgorithms: [1], salt: SALT },
    { kind: 'encryption', ciphers: [Cipher.Aes128Gcm] },
    { kind: 'unknown', type: 0x0100, data: Buffer.from('future') },
    { kind: 'signing', algorithms: [SigningAlgorithm.AesCmac] },
  ]);
  expect(findContext(response.negotiateContexts, 'encryption')?.ciphers).toEqual([2]);
  expect(findContext(response.negotiateContexts, 'netname')).toBeUndefined();
  expectEveryTruncationRejected(message, decodeNegotiateResponse);
});

test('response round trip, including netname, compression, transport and RDMA contexts', () => {
  const response: NegotiateResponse = {
    securityMode: 3,
    dialectRevision: Dialect.Smb311,
    serverGuid: guid(1),
    capabilities: Capability.LargeMtu,
    maxTransactSize: 1 << 20,
    maxReadSize: 1 << 20,
    maxWriteSize: 1 << 20,
    systemTime: 1n,
    serverStartTime: 2n,
    securityBuffer: Buffer.from([1, 2, 3]),
    negotiateContexts: [
      { kind: 'netname', netName: 'fileserver.example' },
      { kind: 'compression', flags: 1, algorithms: [2, 5] },
      { kind: 'transport', flags: 1 },
      { kind: 'rdmaTransform', transformIds: [1, 2] },
    ],
  };
  const body = encodeNegotiateResponse(response);
  expect(body.readUInt32LE(60)).toBe(136); // 64 + 64 + 3 rounded to 8
  expect(body.subarray(72, 72 + 8)).toEqual(bytes(u16(5), u16(36), u32(0)));
  expect(body.subarray(80, 116)).toEqual(utf16('fileserver.example'));
  expect(decodeNegotiateResponse(withHeader(body))).toEqual(response);

  const smb2: NegotiateResponse = { ...response, dialectRevision: Dialect.Smb210, negotiateContexts: [] };
  const plain = encodeNegotiateResponse(smb2);
  expect(plain.length).toBe(67);
  expect(decodeNegotiateResponse(withHeader(plain))).toEqual(smb2);
});

test('hostile NEGOTIATE responses are ProtocolErrors naming the field', () => {
  const good = serverResponse311();
  const lyingSecurity = Buffer.from(good);
  lyingSecurity.writeUInt16LE(4000, 64 + 56);
  expectProtocolError(
    () => decodeNegotiateResponse(lyingSecurity),
    'NEGOTIATE response.SecurityBufferOffset',
    /^NEGOTIATE response: SecurityBufferOffset 4000 \+ length 30 exceeds message length 252$/,
  );
  const lyingContextOffset = Buffer.from(good);
  lyingContextOffset.writeUInt32LE(0xfffffff8, 64 + 60);
  expectProtocolError(() => decodeNegotiateResponse(lyingContextOffset), 'NEGOTIATE response.NegotiateContextOffset');
  const unaligned = Buffer.from(good);
  unaligned.writeUInt32LE(162, 64 + 60);
  expectProtocolError(() => decodeNegotiateResponse(unaligned), 'NEGOTIATE response.NegotiateContextOffset', /aligned/);
  const hugeCount = Buffer.from(good);
  hugeCount.writeUInt16LE(0xffff, 64 + 6);
  expectProtocolError(() => decodeNegotiateResponse(hugeCount), 'NEGOTIATE response.NegotiateContextCount');
  const lyingDataLength = Buffer.from(good);
  lyingDataLength.writeUInt16LE(0xff00, 160 + 2);
  expectProtocolError(
    () => decodeNegotiateResponse(lyingDataLength),
    'NEGOTIATE response.NegotiateContextList[0].Data',
  );
  const hugeCipherCount = Buffer.from(good);
  hugeCipherCount.writeUInt16LE(0xffff, 208 + 8);
  expectProtocolError(() => decodeNegotiateResponse(hugeCipherCount), 'ENCRYPTION_CAPABILITIES.Ciphers');
  const noContexts = Buffer.from(good);
  noContexts.writeUInt16LE(0, 64 + 6);
  expectProtocolError(() => decodeNegotiateResponse(noContexts), 'NEGOTIATE response.NegotiateContextCount');
  expectProtocolError(() => decodeNegotiateResponse(Buffer.alloc(0)), 'NEGOTIATE response.StructureSize');
});

test('hostile NEGOTIATE requests are ProtocolErrors', () => {
  const body = bytes(u16(36), u16(0xffff), u16(0), u16(0), u32(0), guid(0), u64(0), u16(0x0202));
  expectProtocolError(() => decodeNegotiateRequest(withHeader(body)), 'NEGOTIATE request.DialectCount');
  expect(NegotiateContextType.SigningCapabilities).toBe(8);
});
