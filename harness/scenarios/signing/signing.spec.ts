import { test, expect } from '../../fixtures.js';
import { Requirement } from '../../annotations.js';
import { frameKind } from '../../pcap-reader.js';
import { scenario } from '../../scenario.js';
import { Command, HeaderFlag, encodeEchoRequest } from '../../../clients/smb/wire/index.js';

test.describe('signing', () => {
  test('every message after SESSION_SETUP is signed and every response signature verifies', scenario({ id: 'signing/all-signed', requires: [Requirement.signingRequired] }), async ({ client, target, traces }) => {
    const tree = await client.connectTree(target.shares[0]!.name);
    const responses = await Promise.all(Array.from({ length: 20 }, () => client.session.request({ command: Command.Echo, body: encodeEchoRequest() })));
    expect(responses.map((r) => r.signatureVerified || r.encrypted)).toEqual(responses.map(() => true));
    await tree.disconnect();
    await client.close();
    const frames = await traces.wireFrames();
    const lastSetup = frames.map((f) => frameKind(f.bytes) === 'smb2' && f.bytes.readUInt16LE(12) === Command.SessionSetup).lastIndexOf(true);
    const after = frames.slice(lastSetup + 1);
    expect(after.length).toBeGreaterThanOrEqual(44);
    if (client.negotiated.encryptionOn) {
      // The target also encrypts: the AEAD tag of each transform is the signature (MS-SMB2 3.1.4.3).
      expect(after.filter((f) => frameKind(f.bytes) !== 'transform').length).toBe(0);
      return;
    }
    const unsigned = after.filter((f) => frameKind(f.bytes) !== 'smb2' || (f.bytes.readUInt32LE(16) & HeaderFlag.Signed) === 0);
    expect(unsigned.map((f) => `${f.direction} ${frameKind(f.bytes)} command ${f.bytes.readUInt16LE(12)}`)).toEqual([]);
    // A non-zero signature on every one of them, as it crossed the wire.
    expect(after.filter((f) => f.bytes.subarray(48, 64).equals(Buffer.alloc(16))).length).toBe(0);
  });
});
