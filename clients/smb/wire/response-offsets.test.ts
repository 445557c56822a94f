/**
 * Every response field that says where its variable part starts must point past the header and
 * the fixed fields, and stay inside the message: otherwise the header's own bytes (or the fixed
 * fields) come back as data.
 */
import { test } from '@playwright/test';
import { decodeChangeNotifyResponse } from './change-notify.js';
import { decodeCreateContexts } from './create-contexts.js';
import { decodeCreateResponse } from './create.js';
import { decodeIoctlResponse } from './ioctl.js';
import { decodeNegotiateResponse } from './negotiate.js';
import { decodeQueryDirectoryResponse } from './query-directory.js';
import { decodeQueryInfoResponse } from './query-info.js';
import { decodeReadResponse } from './read.js';
import { decodeSessionSetupResponse } from './session-setup.js';
import { bytes, expectProtocolError, guid, u16, u32, u64, u8, withHeader, zeros } from './test-builder.js';

const INTO_HEADER = /points before the end of the fixed fields/;

test('READ response: a DataOffset inside the SMB2 header or the fixed fields is refused, even when the bytes are there', () => {
  const lying = (offset: number) => withHeader(bytes(u16(17), u8(offset), u8(0), u32(16), u32(0), u32(0), Buffer.from('file data, 16 b.')));
  expectProtocolError(() => decodeReadResponse(lying(0)), 'READ response.DataOffset', /0 points before the end of the fixed fields at 80/);
  expectProtocolError(() => decodeReadResponse(lying(0x40)), 'READ response.DataOffset', INTO_HEADER);
  expectProtocolError(() => decodeReadResponse(lying(0x4f)), 'READ response.DataOffset', INTO_HEADER);
  expectProtocolError(() => decodeReadResponse(lying(0x51)), 'READ response.DataOffset', /81 \+ length 16 exceeds message length 96/);
});

test('QUERY_DIRECTORY, QUERY_INFO and CHANGE_NOTIFY responses: an OutputBufferOffset before 72 is refused', () => {
  const lying = withHeader(bytes(u16(9), u16(8), u32(32), zeros(32)));
  expectProtocolError(() => decodeQueryDirectoryResponse(lying), 'QUERY_DIRECTORY response.OutputBufferOffset', /8 points before the end of the fixed fields at 72/);
  expectProtocolError(() => decodeQueryInfoResponse(lying), 'QUERY_INFO response.OutputBufferOffset', INTO_HEADER);
  expectProtocolError(() => decodeChangeNotifyResponse(lying), 'CHANGE_NOTIFY response.OutputBufferOffset', INTO_HEADER);
});

test('SESSION_SETUP response: a SecurityBufferOffset into the header is refused', () => {
  const lying = withHeader(bytes(u16(9), u16(0), u16(64), u16(8), Buffer.from('NTLMSSP\0')));
  expectProtocolError(() => decodeSessionSetupResponse(lying), 'SESSION_SETUP response.SecurityBufferOffset', /64 points before the end of the fixed fields at 72/);
});

test('NEGOTIATE response: a SecurityBufferOffset or NegotiateContextOffset inside the fixed fields is refused', () => {
  const fixed = (securityOffset: number, contextOffset: number, dialect = 0x0302) => withHeader(bytes(
    u16(65), u16(1), u16(dialect), u16(dialect === 0x0311 ? 1 : 0), guid(1), u32(0), u32(65536), u32(65536), u32(65536), u64(0), u64(0),
    u16(securityOffset), u16(8), u32(contextOffset), Buffer.from('12345678'), zeros(8),
  ));
  expectProtocolError(() => decodeNegotiateResponse(fixed(0, 0)), 'NEGOTIATE response.SecurityBufferOffset', /0 points before the end of the fixed fields at 128/);
  expectProtocolError(() => decodeNegotiateResponse(fixed(128, 64, 0x0311)), 'NEGOTIATE response.NegotiateContextOffset', /64 points before the end of the fixed fields at 128/);
});

test('IOCTL response: an InputOffset or OutputOffset into the fixed fields is refused', () => {
  const lying = (inputOffset: number, outputOffset: number) => withHeader(bytes(
    u16(49), u16(0), u32(0x00140204), u64(1), u64(2), u32(inputOffset), u32(0), u32(outputOffset), u32(8), u32(0), u32(0), Buffer.from('output!!'),
  ));
  expectProtocolError(() => decodeIoctlResponse(lying(0, 104)), 'IOCTL response.OutputOffset', /104 points before the end of the fixed fields at 112/);
  expectProtocolError(() => decodeIoctlResponse(lying(0, 0)), 'IOCTL response.OutputOffset', INTO_HEADER);
});

test('CREATE response: a CreateContextsOffset into the fixed fields is refused, and so is a context whose name or data points into its own header', () => {
  const create = (contextsOffset: number) => withHeader(bytes(
    u16(89), u8(0), u8(0), u32(1), u64(0), u64(0), u64(0), u64(0), u64(0), u64(0), u32(0x80), u32(0), u64(1), u64(2),
    u32(contextsOffset), u32(24), zeros(24),
  ));
  expectProtocolError(() => decodeCreateResponse(create(64)), 'CREATE response.CreateContextsOffset', /64 points before the end of the fixed fields at 152/);
  const context = (nameOffset: number, dataOffset: number) => bytes(u32(0), u16(nameOffset), u16(4), u16(0), u16(dataOffset), u32(dataOffset === 0 ? 0 : 4), Buffer.from('MxAc'), zeros(4), Buffer.from('data'));
  expectProtocolError(() => decodeCreateContexts(context(0, 24), 'CREATE response'), 'CREATE response.CreateContexts[0].NameOffset', /0 points before the end of the context header at 16/);
  expectProtocolError(() => decodeCreateContexts(context(16, 8), 'CREATE response'), 'CREATE response.CreateContexts[0].DataOffset', /8 points before the end of the context header at 16/);
});
