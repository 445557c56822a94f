import { test, expect } from '@playwright/test';
import { AccessMask, ShareCapability, ShareFlag, ShareType } from './constants.js';
import {
  decodeTreeConnectRequest,
  decodeTreeConnectResponse,
  encodeTreeConnectRequest,
  encodeTreeConnectResponse,
} from './tree-connect.js';
import { decodeTreeDisconnectRequest, decodeTreeDisconnectResponse, encodeTreeDisconnectRequest } from './tree-disconnect.js';
import { decodeLogoffRequest, decodeLogoffResponse, encodeLogoffRequest, encodeLogoffResponse } from './logoff.js';
import { decodeEchoRequest, decodeEchoResponse, encodeEchoRequest, encodeEchoResponse } from './echo.js';
import { decodeCancelRequest, encodeCancelRequest } from './cancel.js';
import { encodeTreeDisconnectResponse } from './tree-disconnect.js';
import { bytes, expectEveryTruncationRejected, expectProtocolError, u16, u32, u8, utf16, withHeader } from './test-builder.js';

test('TREE_CONNECT request carries the UTF-16LE path after the fixed part', () => {
  const body = encodeTreeConnectRequest({ path: '\\\\server\\share' });
  expect(body).toEqual(bytes(u16(9), u16(0), u16(72), u16(28), utf16('\\\\server\\share')));
  expect(decodeTreeConnectRequest(withHeader(body))).toEqual({ flags: 0, path: '\\\\server\\share' });
});

test('TREE_CONNECT response with the encrypt-data share flag', () => {
  const message = withHeader(
    bytes(u16(16), u8(ShareType.Disk), u8(0), u32(0x00008800), u32(ShareCapability.ContinuousAvailability), u32(0x001f01ff)),
  );
  const response = decodeTreeConnectResponse(message);
  expect(response).toEqual({
    shareType: ShareType.Disk,
    shareFlags: ShareFlag.EncryptData | ShareFlag.AccessBasedDirectoryEnum,
    capabilities: 0x10,
    maximalAccess: 0x001f01ff,
  });
  expect(response.maximalAccess & AccessMask.Delete).toBe(AccessMask.Delete);
  expect(encodeTreeConnectResponse(response)).toEqual(message.subarray(64));
  expectEveryTruncationRejected(message, decodeTreeConnectResponse);
});

test('TREE_CONNECT hostile inputs', () => {
  const oddPath = withHeader(bytes(u16(9), u16(0), u16(72), u16(3), Buffer.from('abc')));
  expectProtocolError(() => decodeTreeConnectRequest(oddPath), 'TREE_CONNECT request.PathLength', /odd/);
  const farPath = withHeader(bytes(u16(9), u16(0), u16(400), u16(2), Buffer.from('ab')));
  expectProtocolError(() => decodeTreeConnectRequest(farPath), 'TREE_CONNECT request.PathOffset');
  const wrongSize = withHeader(bytes(u16(17), u8(1), u8(0), u32(0), u32(0), u32(0)));
  expectProtocolError(() => decodeTreeConnectResponse(wrongSize), 'TREE_CONNECT response.StructureSize', /17, expected 16/);
});

test('StructureSize-4 bodies: LOGOFF, TREE_DISCONNECT, ECHO, CANCEL', () => {
  const reserved = bytes(u16(4), u16(0));
  const encoders = [
    encodeLogoffRequest,
    encodeLogoffResponse,
    encodeTreeDisconnectRequest,
    encodeTreeDisconnectResponse,
    encodeEchoRequest,
    encodeEchoResponse,
    encodeCancelRequest,
  ];
  for (const encode of encoders) expect(encode()).toEqual(reserved);
  const decoders: Array<[(m: Buffer) => void, string]> = [
    [decodeLogoffRequest, 'LOGOFF request'],
    [decodeLogoffResponse, 'LOGOFF response'],
    [decodeTreeDisconnectRequest, 'TREE_DISCONNECT request'],
    [decodeTreeDisconnectResponse, 'TREE_DISCONNECT response'],
    [decodeEchoRequest, 'ECHO request'],
    [decodeEchoResponse, 'ECHO response'],
    [decodeCancelRequest, 'CANCEL request'],
  ];
  for (const [decode, name] of decoders) {
    decode(withHeader(reserved));
    expectProtocolError(() => decode(withHeader(bytes(u16(9), u16(0)))), `${name}.StructureSize`);
    expectProtocolError(() => decode(withHeader(u16(4))), `${name}.Reserved`);
    expectProtocolError(() => decode(Buffer.alloc(0)), `${name}.StructureSize`);
  }
});
