import { test, expect } from '../../fixtures.js';
import type { AdapterDirectory } from '../../fixtures.js';
import { Requirement } from '../../annotations.js';
import { forEachClient, scenario } from '../../scenario.js';
import { wireSessions } from '../../wire-proof.js';
import type { WireSession } from '../../wire-proof.js';
import type { DecodedWire } from '../../capture/wire-decode.js';
import { described, notApplicable, unsupportedUnless } from '../helpers.js';
import { DIALECTS } from '../../../servers/catalog/index.js';
import type { Cipher, SigningAlgorithm } from '../../../servers/catalog/schema.js';
import type { DialectName } from '../../../clients/smb/index.js';
import { NegotiationError } from '../../../clients/smb/index.js';
import { cipherNameOf } from '../../../clients/smb/negotiation.js';
import { Capability, Dialect, Fsctl, NtStatus, decodeIoctlRequest, findContext } from '../../../clients/smb/wire/index.js';

const SHA512 = 0x0001;
const DIALECT_CODES: Record<string, number> = { '2.0.2': Dialect.Smb202, '2.1': Dialect.Smb210, '3.0': Dialect.Smb300, '3.0.2': Dialect.Smb302, '3.1.1': Dialect.Smb311 };

/** One operation after the fixture's own, the client closed, then its wire: every message of the cell. */
async function wireAfterWork(adapter: AdapterDirectory, cellWire: () => Promise<DecodedWire>): Promise<DecodedWire> {
  await adapter.session.writeFile(`${adapter.dir}/negotiate.txt`, Buffer.from('negotiate'));
  await adapter.session.close();
  return cellWire();
}

/** The cell's first authenticated session on the wire. */
function firstSession(wire: DecodedWire): WireSession {
  const session = wireSessions(wire).find((s) => !s.guest && !s.anonymous);
  expect(session, `an authenticated session on the wire (${wire.messages.length} messages, problems: ${wire.problems.map((p) => p.problem).join('; ') || 'none'})`).toBeDefined();
  return session!;
}

/** Portable: what the client and the server agreed, read from the decoded wire and the server's key log. */
forEachClient((client, suffix) => {
  test.describe(`negotiate${suffix}`, () => {
    test(`the server chooses the highest dialect the target allows, which the client offered (read from the wire)${suffix}`, scenario({ id: 'negotiate/highest-dialect', client }), async ({ adapter, target, cellWire }) => {
      const session = firstSession(await wireAfterWork(adapter, cellWire));
      const highest = DIALECT_CODES[target.profile.dialects.max]!;
      expect(session.negotiateResponse?.dialectRevision, 'NEGOTIATE response DialectRevision').toBe(highest);
      // A multi-protocol SMB1 NEGOTIATE that the server answered directly leaves no SMB2 request to read.
      if (session.negotiateRequest !== undefined) expect(session.negotiateRequest.dialects, 'NEGOTIATE request Dialects').toContain(highest);
    });

    test(`the cipher on the wire is the one the target declares, and the server used it (none when it declares none)${suffix}`, scenario({ id: 'negotiate/declared-cipher', client }), async ({ adapter, cell, target, cellWire }) => {
      const declared = target.profile.expect.cipher;
      if (declared !== null) unsupportedUnless(cell, { cipher: declared as Cipher }, target.name);
      const wire = await wireAfterWork(adapter, cellWire);
      const session = firstSession(wire);
      expect(session.cipher, 'the cipher of the NEGOTIATE response (3.1.1: ENCRYPTION context; 3.0.x: SMB2_GLOBAL_CAP_ENCRYPTION)').toBe(declared);
      const encrypted = session.after.filter((m) => m.encrypted);
      if (target.profile.expect.encryption) expect(encrypted.length, 'messages after SESSION_SETUP opened with the server\'s key').toBeGreaterThan(0);
      // The transforms opened with the server's keys: their authentication tags verified under this cipher.
      expect([...new Set(encrypted.map((m) => m.transform?.cipher))], 'the cipher the transforms opened with').toEqual(encrypted.length > 0 ? [declared] : []);
      // smbd up to 4.22 also logs the session's cipher (4.23 and later do not).
      const logged = target.sessionKeys?.().find((k) => k.sessionId === session.sessionId)?.cipher;
      if (encrypted.length > 0 && logged !== undefined) expect(cipherNameOf(logged), 'the cipher the server logged for the session').toBe(declared);
    });

    test(`the signing algorithm on the wire is the one the target declares, and the server's signatures verify with it${suffix}`, scenario({ id: 'negotiate/declared-signing-algorithm', client }), async ({ adapter, cell, target, cellWire }) => {
      const declared = target.profile.expect.signingAlgorithm;
      if (declared !== null) unsupportedUnless(cell, { signing: declared as SigningAlgorithm }, target.name);
      const session = firstSession(await wireAfterWork(adapter, cellWire));
      expect(session.signingAlgorithm, 'the signing algorithm the NEGOTIATE settled (MS-SMB2 3.2.5.2)').toBe(declared);
      if (!session.dialect.startsWith('3.')) return test.info().annotations.push({ type: 'wire', description: `SMB ${session.dialect}: HMAC-SHA256 by the dialect; smbd logs no key to verify signatures with` });
      // SMB 3.x: the server signs the final SESSION_SETUP response with the session's signing key.
      expect(session.setup.signature, 'the final SESSION_SETUP response\'s signature with the server\'s signing key').toBe('valid');
      const signed = session.after.filter((m) => m.header.signed);
      expect(signed.filter((m) => m.signature !== 'valid').map(described), 'signed messages whose signature does not verify').toEqual([]);
    });

    test(`3.1.1 negotiates SHA-512 preauth integrity both ways, and the keys derived from it open the session (read from the wire)${suffix}`, scenario({ id: 'negotiate/preauth-integrity', client, requires: [Requirement.smb311] }), async ({ adapter, cellWire }) => {
      const session = firstSession(await wireAfterWork(adapter, cellWire));
      expect(findContext(session.negotiateRequest?.negotiateContexts ?? [], 'preauthIntegrity')?.hashAlgorithms, 'the request\'s PREAUTH_INTEGRITY_CAPABILITIES').toContain(SHA512);
      const chosen = findContext(session.negotiateResponse?.negotiateContexts ?? [], 'preauthIntegrity');
      expect(chosen?.hashAlgorithms, 'the response\'s PREAUTH_INTEGRITY_CAPABILITIES').toEqual([SHA512]);
      expect(chosen?.salt.length).toBeGreaterThan(0);
      // The session's keys depend on the preauth hash: the server's keys open the client's messages only if both hashed the same.
      const opened = session.after.filter((m) => m.direction === 'send' && (m.encrypted || m.signature === 'valid'));
      expect(opened.length, 'requests after SESSION_SETUP that decrypt or verify with the server\'s keys').toBeGreaterThan(0);
      expect(session.opaque, 'frames that do not open with the server\'s keys').toEqual([]);
    });

    test(`3.0.x validates the negotiation with FSCTL_VALIDATE_NEGOTIATE_INFO, signed or encrypted (read from the wire)${suffix}`, scenario({ id: 'negotiate/validate-negotiate', client, requires: [Requirement.smb30x] }), async ({ adapter, cellWire }) => {
      const session = firstSession(await wireAfterWork(adapter, cellWire));
      const ioctls = session.after.filter((m) => m.header.command === 'IOCTL');
      const validate = ioctls.find((m) => m.direction === 'send' && decodeIoctlRequest(m.bytes).ctlCode === Fsctl.ValidateNegotiateInfo);
      expect(validate, `an FSCTL_VALIDATE_NEGOTIATE_INFO request after TREE_CONNECT (IOCTLs: ${ioctls.map(described).join(', ') || 'none'})`).toBeDefined();
      const answer = ioctls.find((m) => m.direction === 'receive' && m.header.messageId === validate!.header.messageId);
      expect(answer?.header.status, 'the server\'s answer').toBe(NtStatus.Success);
      expect(answer!.encrypted || answer!.signature === 'valid', `${described(answer!)}: signed with the session's key or encrypted`).toBe(true);
    });

    test(`a NEGOTIATE offering 3.0 or 3.0.2 advertises SMB2_GLOBAL_CAP_ENCRYPTION (read from the wire)${suffix}`, scenario({ id: 'negotiate/encryption-capability', client }), async ({ adapter, cell, cellWire }) => {
      unsupportedUnless(cell, { cipher: 'AES-128-CCM' });
      const wire = await wireAfterWork(adapter, cellWire);
      const session = firstSession(wire);
      const offered = session.negotiateRequest?.dialects ?? [];
      if (!offered.includes(Dialect.Smb300) && !offered.includes(Dialect.Smb302)) return notApplicable(`${cell.client}'s NEGOTIATE offers no 3.0.x dialect here (${offered.map((d) => `0x${d.toString(16)}`).join(', ') || 'no SMB2 NEGOTIATE request'})`);
      const capabilities = session.negotiateRequest!.capabilities;
      expect(capabilities & Capability.Encryption, `NEGOTIATE request Capabilities 0x${capabilities.toString(16).padStart(8, '0')}`).toBe(Capability.Encryption);
    });
  });
});

/**
 * This project's client only: the subject is its own dialect option and the error type it
 * throws (a plug-in cannot be told which dialects to offer).
 */
test.describe('negotiate', () => {
  test('no dialect in common is a clear NegotiationError, and the server refused the NEGOTIATE (read from the wire)', scenario({ id: 'negotiate/no-common-dialect' }), async ({ connect, target, cellWire }) => {
    const outside = DIALECTS.filter((d) => DIALECTS.indexOf(d) < DIALECTS.indexOf(target.profile.dialects.min) || DIALECTS.indexOf(d) > DIALECTS.indexOf(target.profile.dialects.max));
    test.skip(outside.length === 0, `${target.name} accepts every dialect`);
    const offer = outside as DialectName[];
    const error = await connect({ dialects: offer }).then(() => undefined, (e: Error) => e);
    expect(error).toBeInstanceOf(NegotiationError);
    expect(error?.message).toContain(`client offered ${offer.join(', ')}`);
    expect(error?.message).toMatch(/no dialect in common/);
    const negotiate = (await cellWire()).messages.filter((m) => m.header.command === 'NEGOTIATE');
    expect(negotiate.some((m) => m.direction === 'receive' && m.header.status === NtStatus.Success), `a NEGOTIATE the server accepted: ${negotiate.map(described).join(', ')}`).toBe(false);
  });
});
