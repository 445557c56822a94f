import { test, expect } from '@playwright/test';
import { Capability, SecurityMode } from './constants.js';
import {
  SESSION_FLAG_BINDING,
  SessionFlag,
  decodeSessionSetupRequest,
  decodeSessionSetupResponse,
  encodeSessionSetupRequest,
  encodeSessionSetupResponse,
} from './session-setup.js';
import { bytes, expectEveryTruncationRejected, expectProtocolError, u16, u32, u64, u8, withHeader } from './test-builder.js';

const NTLM_NEGOTIATE = Buffer.from('4e544c4d535350000100000097b208e2', 'hex');

test('request is byte-exact and round-trips', () => {
  const request = {
    flags: SESSION_FLAG_BINDING,
    securityMode: SecurityMode.SigningEnabled,
    capabilities: Capability.Dfs,
    channel: 0,
    previousSessionId: 0x11n,
    securityBuffer: NTLM_NEGOTIATE,
  };
  const body = encodeSessionSetupRequest(request);
  expect(body).toEqual(
    bytes(u16(25), u8(1), u8(1), u32(1), u32(0), u16(88), u16(16), u64(0x11), NTLM_NEGOTIATE),
  );
  expect(decodeSessionSetupRequest(withHeader(body))).toEqual(request);
});

test('response decodes session flags and the token as a view', () => {
  const message = withHeader(bytes(u16(9), u16(SessionFlag.EncryptData), u16(72), u16(16), NTLM_NEGOTIATE));
  const response = decodeSessionSetupResponse(message);
  expect(response.sessionFlags).toBe(SessionFlag.EncryptData);
  expect(response.securityBuffer).toEqual(NTLM_NEGOTIATE);
  expect(response.securityBuffer.buffer).toBe(message.buffer);
  expect(encodeSessionSetupResponse(response)).toEqual(message.subarray(64));
  expectEveryTruncationRejected(message, decodeSessionSetupResponse);
});

test('final guest response with an empty token and offset 0 is accepted', () => {
  const message = withHeader(bytes(u16(9), u16(SessionFlag.IsGuest), u16(0), u16(0), u8(0)));
  expect(decodeSessionSetupResponse(message)).toEqual({ sessionFlags: 1, securityBuffer: Buffer.alloc(0) });
});

test('lying security buffer fields are ProtocolErrors', () => {
  const lying = withHeader(bytes(u16(9), u16(0), u16(72), u16(0xffff), NTLM_NEGOTIATE));
  expectProtocolError(
    () => decodeSessionSetupResponse(lying),
    'SESSION_SETUP response.SecurityBufferOffset',
    /72 \+ length 65535 exceeds message length 88/,
  );
  const request = withHeader(bytes(u16(25), u8(0), u8(0), u32(0), u32(0), u16(0xfff0), u16(4), u64(0)));
  expectProtocolError(() => decodeSessionSetupRequest(request), 'SESSION_SETUP request.SecurityBufferOffset');
  expectProtocolError(() => decodeSessionSetupResponse(Buffer.alloc(0)), 'SESSION_SETUP response.StructureSize');
});
