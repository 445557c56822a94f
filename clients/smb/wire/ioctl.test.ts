import { test, expect } from '@playwright/test';
import { RELATED_FILE_ID } from './buffer.js';
import { Dialect } from './constants.js';
import {
  Fsctl,
  IOCTL_IS_FSCTL,
  decodeIoctlRequest,
  decodeIoctlResponse,
  decodeValidateNegotiateInfoRequest,
  decodeValidateNegotiateInfoResponse,
  encodeIoctlRequest,
  encodeIoctlResponse,
  encodeValidateNegotiateInfoRequest,
  encodeValidateNegotiateInfoResponse,
} from './ioctl.js';
import { bytes, expectEveryTruncationRejected, expectProtocolError, guid, u16, u32, u64, withHeader, zeros } from './test-builder.js';

const VNI_INPUT = bytes(u32(0x7f), guid(0x20), u16(1), u16(4), u16(0x0202), u16(0x0210), u16(0x0300), u16(0x0302));

test('FSCTL_VALIDATE_NEGOTIATE_INFO request payload and IOCTL request are byte-exact', () => {
  const input = encodeValidateNegotiateInfoRequest({
    capabilities: 0x7f,
    guid: guid(0x20),
    securityMode: 1,
    dialects: [Dialect.Smb202, Dialect.Smb210, Dialect.Smb300, Dialect.Smb302],
  });
  expect(input).toEqual(VNI_INPUT);
  const body = encodeIoctlRequest({
    ctlCode: Fsctl.ValidateNegotiateInfo,
    fileId: RELATED_FILE_ID,
    input,
    maxOutputResponse: 24,
  });
  expect(body).toEqual(
    bytes(
      u16(57), u16(0), u32(0x00140204),
      u64(0xffffffffffffffffn), u64(0xffffffffffffffffn),
      u32(120), u32(32), // InputOffset, InputCount
      u32(0), // MaxInputResponse
      u32(0), u32(0), // OutputOffset, OutputCount
      u32(24), // MaxOutputResponse
      u32(IOCTL_IS_FSCTL), u32(0),
      VNI_INPUT,
    ),
  );
  const decoded = decodeIoctlRequest(withHeader(body));
  expect(decoded.ctlCode).toBe(Fsctl.ValidateNegotiateInfo);
  expect(decodeValidateNegotiateInfoRequest(decoded.input ?? Buffer.alloc(0)).dialects).toEqual([
    0x0202, 0x0210, 0x0300, 0x0302,
  ]);
});

test('IOCTL response with output at the aligned offset; VALIDATE_NEGOTIATE_INFO response round trip', () => {
  const output = encodeValidateNegotiateInfoResponse({
    capabilities: 0x2f,
    guid: guid(0x60),
    securityMode: 3,
    dialect: Dialect.Smb302,
  });
  expect(output).toEqual(bytes(u32(0x2f), guid(0x60), u16(3), u16(0x0302)));
  const fileId = { persistent: 1n, volatile: 2n };
  const body = encodeIoctlResponse({
    ctlCode: Fsctl.ValidateNegotiateInfo,
    fileId,
    input: Buffer.from([9, 9, 9]),
    output,
    flags: 0,
  });
  expect(body.subarray(24, 40)).toEqual(bytes(u32(112), u32(3), u32(120), u32(24)));
  expect(body.subarray(48, 51)).toEqual(Buffer.from([9, 9, 9]));
  expect(body.subarray(51, 56)).toEqual(zeros(5));
  const message = withHeader(body);
  const response = decodeIoctlResponse(message);
  expect(response.fileId).toEqual(fileId);
  expect(response.output.buffer).toBe(message.buffer);
  expect(decodeValidateNegotiateInfoResponse(response.output)).toEqual({
    capabilities: 0x2f,
    guid: guid(0x60),
    securityMode: 3,
    dialect: 0x0302,
  });
  expectEveryTruncationRejected(message, decodeIoctlResponse);
  const plain = encodeIoctlResponse({ ctlCode: Fsctl.PipeTransceive, fileId, input: Buffer.alloc(0), output, flags: 0 });
  expect(plain.readUInt32LE(24)).toBe(0); // no input: InputOffset 0
  expect(plain.readUInt32LE(32)).toBe(112); // output right after the fixed part
  expect(decodeIoctlResponse(withHeader(plain)).output).toEqual(output);
});

test('hostile IOCTL responses and payloads are ProtocolErrors', () => {
  const fixed = (outputOffset: number, outputCount: number) =>
    withHeader(bytes(u16(49), u16(0), u32(0x00140204), zeros(16), u32(0), u32(0), u32(outputOffset), u32(outputCount), u32(0), u32(0)));
  expectProtocolError(() => decodeIoctlResponse(fixed(112, 0xffffffff)), 'IOCTL response.OutputOffset');
  expectProtocolError(() => decodeIoctlResponse(fixed(0xfffffff0, 8)), 'IOCTL response.OutputOffset');
  expectProtocolError(() => decodeValidateNegotiateInfoResponse(Buffer.alloc(23)), 'VALIDATE_NEGOTIATE_INFO response.Dialect');
  const hugeCount = Buffer.from(VNI_INPUT);
  hugeCount.writeUInt16LE(0xffff, 22);
  expectProtocolError(() => decodeValidateNegotiateInfoRequest(hugeCount), 'VALIDATE_NEGOTIATE_INFO request.DialectCount');
  expectProtocolError(
    () => encodeValidateNegotiateInfoRequest({ capabilities: 0, guid: Buffer.alloc(4), securityMode: 0, dialects: [] }),
    'VALIDATE_NEGOTIATE_INFO request.Guid',
  );
});
