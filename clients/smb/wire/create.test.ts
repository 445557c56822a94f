import { test, expect } from '@playwright/test';
import { AccessMask, CreateAction, CreateDisposition, CreateOption, FileAttribute, ShareAccess } from './constants.js';
import {
  decodeCreateContexts,
  decodeMaximalAccessResponse,
  decodeQueryOnDiskIdResponse,
  encodeCreateContexts,
  findCreateContext,
  maximalAccessRequest,
  queryOnDiskIdRequest,
} from './create-contexts.js';
import { decodeCreateRequest, decodeCreateResponse, encodeCreateRequest, encodeCreateResponse } from './create.js';
import type { CreateResponse } from './create.js';
import { bytes, expectEveryTruncationRejected, expectProtocolError, u16, u32, u64, u8, utf16, withHeader, zeros } from './test-builder.js';

function contextBytes(next: number, name: string, dataOffset: number, data: Buffer, pad: number): Buffer {
  return bytes(u32(next), u16(16), u16(name.length), u16(0), u16(dataOffset), u32(data.length), Buffer.from(name, 'latin1'), zeros(pad), data);
}

test('CREATE request with name and MxAc + QFid contexts is byte-exact', () => {
  const request = {
    desiredAccess: AccessMask.GenericRead,
    fileAttributes: FileAttribute.Normal,
    shareAccess: ShareAccess.Read | ShareAccess.Write,
    createDisposition: CreateDisposition.Open,
    createOptions: CreateOption.NonDirectoryFile,
    name: 'a.txt',
    contexts: [maximalAccessRequest(), queryOnDiskIdRequest()],
  };
  const body = encodeCreateRequest(request);
  expect(body).toEqual(
    bytes(
      u16(57), u8(0), u8(0), // StructureSize, SecurityFlags, RequestedOplockLevel
      u32(2), // ImpersonationLevel: Impersonation
      u64(0), u64(0), // SmbCreateFlags, Reserved
      u32(0x80000000), u32(0x80), u32(3), u32(1), u32(0x40),
      u16(120), u16(10), // NameOffset, NameLength
      u32(136), u32(44), // CreateContextsOffset (aligned), CreateContextsLength
      utf16('a.txt'),
      zeros(6),
      contextBytes(24, 'MxAc', 0, Buffer.alloc(0), 4),
      contextBytes(0, 'QFid', 0, Buffer.alloc(0), 0),
    ),
  );
  expect(decodeCreateRequest(withHeader(body))).toEqual({ ...request, requestedOplockLevel: 0, impersonationLevel: 2 });
});

test('CREATE request for the share root keeps one buffer byte', () => {
  const body = encodeCreateRequest({ desiredAccess: 1, shareAccess: 7, createDisposition: 1, createOptions: 1, name: '' });
  expect(body.length).toBe(57);
  expect(body.subarray(44, 56)).toEqual(bytes(u16(120), u16(0), u32(0), u32(0)));
  expect(decodeCreateRequest(withHeader(body)).name).toBe('');
});

function sampleResponse(): CreateResponse {
  return {
    oplockLevel: 0,
    flags: 0,
    createAction: CreateAction.Opened,
    creationTime: 133000000000000000n,
    lastAccessTime: 133000000000000001n,
    lastWriteTime: 133000000000000002n,
    changeTime: 133000000000000003n,
    allocationSize: 4096n,
    endOfFile: 5n,
    fileAttributes: FileAttribute.Archive,
    fileId: { persistent: 0x1122n, volatile: 0x3344n },
    contexts: [
      { name: 'MxAc', data: bytes(u32(0), u32(0x001f01ff)) },
      { name: 'QFid', data: bytes(u64(0xabcdn), u64(0x77n), zeros(16)) },
    ],
  };
}

test('CREATE response: fixed fields, FileId and contexts with data', () => {
  const body = encodeCreateResponse(sampleResponse());
  expect(body.subarray(88)).toEqual(
    bytes(
      contextBytes(32, 'MxAc', 24, bytes(u32(0), u32(0x001f01ff)), 4),
      contextBytes(0, 'QFid', 24, bytes(u64(0xabcdn), u64(0x77n), zeros(16)), 4),
    ),
  );
  expect(body.subarray(64, 88)).toEqual(bytes(u64(0x1122n), u64(0x3344n), u32(152), u32(88)));
  const message = withHeader(body);
  const response = decodeCreateResponse(message);
  expect(response).toEqual(sampleResponse());
  expect(decodeMaximalAccessResponse(findCreateContext(response.contexts, 'MxAc')?.data ?? Buffer.alloc(0))).toEqual({
    queryStatus: 0,
    maximalAccess: 0x001f01ff,
  });
  expect(decodeQueryOnDiskIdResponse(findCreateContext(response.contexts, 'QFid')?.data ?? Buffer.alloc(0))).toEqual({
    diskFileId: 0xabcdn,
    volumeId: 0x77n,
  });
  expectEveryTruncationRejected(message, decodeCreateResponse);
});

test('create context chains: lying Next, name and data offsets are ProtocolErrors', () => {
  const chain = encodeCreateContexts(sampleResponse().contexts);
  expect(decodeCreateContexts(chain, 'CREATE response')).toHaveLength(2);
  const selfLoop = Buffer.from(chain);
  selfLoop.writeUInt32LE(0, 0);
  selfLoop.writeUInt32LE(8, 0); // smaller than a context header
  expectProtocolError(() => decodeCreateContexts(selfLoop, 'CREATE response'), 'CREATE response.CreateContexts[0].Next');
  const beyond = Buffer.from(chain);
  beyond.writeUInt32LE(4096, 0);
  expectProtocolError(() => decodeCreateContexts(beyond, 'CREATE response'), 'CREATE response.CreateContexts[0].Next');
  const badData = Buffer.from(chain);
  badData.writeUInt32LE(0xffff, 12); // DataLength past the context
  expectProtocolError(() => decodeCreateContexts(badData, 'CREATE response'), 'CREATE response.CreateContexts[0].DataOffset');
  const badName = Buffer.from(chain);
  badName.writeUInt16LE(30, 4); // NameOffset so the name crosses into the next context
  expectProtocolError(() => decodeCreateContexts(badName, 'CREATE response'), 'CREATE response.CreateContexts[0].NameOffset');
  expectProtocolError(() => decodeCreateContexts(Buffer.alloc(5), 'CREATE response'), 'CREATE response.CreateContexts[0].NameOffset');
  expectProtocolError(() => decodeMaximalAccessResponse(Buffer.alloc(4)), 'MxAc response.MaximalAccess');

  const message = withHeader(encodeCreateResponse(sampleResponse()));
  message.writeUInt32LE(0xfffffff0, 64 + 80);
  expectProtocolError(() => decodeCreateResponse(message), 'CREATE response.CreateContextsOffset');
});
