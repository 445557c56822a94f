import { test, expect } from '../../fixtures.js';
import { Requirement } from '../../annotations.js';
import { forEachClient, scenario } from '../../scenario.js';
import { isInterim, wireSessions } from '../../wire-proof.js';
import { described } from '../helpers.js';
import { NtStatus, SIGNATURE_SIZE, decodeHeader } from '../../../clients/smb/wire/index.js';

/** Portable: signatures read from the wire and verified with the server's signing key. */
forEachClient((client, suffix) => {
  test.describe(`signing${suffix}`, () => {
    test(`every message after SESSION_SETUP is signed with a signature that verifies, or travels encrypted${suffix}`, scenario({ id: 'signing/all-signed', client, requires: [Requirement.signingRequired] }), async ({ adapter, cellWire }) => {
      const { session, dir } = adapter;
      for (let i = 0; i < 4; i++) await session.writeFile(`${dir}/s${i}.txt`, Buffer.from(`signed ${i}`));
      expect((await session.readdir(dir)).length).toBe(4);
      await session.close();
      const sessions = wireSessions(await cellWire()).filter((s) => !s.guest && !s.anonymous);
      expect(sessions.length, 'authenticated sessions on the wire').toBeGreaterThan(0);
      // An interim response (STATUS_PENDING) is not signed (MS-SMB2 3.3.4.2).
      const after = sessions.flatMap((s) => s.after.filter((m) => !isInterim(m)));
      expect(after.length, 'messages after SESSION_SETUP').toBeGreaterThanOrEqual(10);
      const smb3 = sessions.filter((s) => s.dialect.startsWith('3.'));
      const smb2 = sessions.filter((s) => !s.dialect.startsWith('3.'));
      // SMB 3.x: the server signs the final SESSION_SETUP response with the session's signing key.
      expect(smb3.map((s) => s.setup.signature), 'the final SESSION_SETUP responses\' signatures with the server\'s key').toEqual(smb3.map(() => 'valid'));
      // Encrypted messages are authenticated by their transform's tag (opened with the server's key),
      // never signed as well (MS-SMB2 3.1.4.3); every clear one must carry a signature that verifies.
      const clear = after.filter((m) => !m.encrypted);
      expect(clear.filter((m) => !m.header.signed).map(described), 'clear messages after SESSION_SETUP without SMB2_FLAGS_SIGNED').toEqual([]);
      expect(clear.filter((m) => decodeHeader(m.bytes).signature.equals(Buffer.alloc(SIGNATURE_SIZE))).map(described), 'signed messages with a zero signature').toEqual([]);
      const verifiable = smb3.flatMap((s) => s.after.filter((m) => !m.encrypted && !isInterim(m)));
      expect(verifiable.filter((m) => m.signature !== 'valid').map((m) => `${described(m)}: ${m.signature}`), 'signatures that do not verify with the server\'s key').toEqual([]);
      if (smb2.length > 0) {
        // smbd logs no keys for SMB 2.x: the server's acceptance of each signed request is its verification.
        test.info().annotations.push({ type: 'wire', description: `SMB ${smb2[0]!.dialect}: signatures present; the server accepted every signed request; their bytes are not verified here (smbd logs no SMB 2.x keys)` });
        const refused = smb2.flatMap((s) => s.after.filter((m) => m.direction === 'receive' && (m.header.status === NtStatus.AccessDenied || m.header.status === NtStatus.UserSessionDeleted)));
        expect(refused.map(described), 'requests the server refused').toEqual([]);
      }
      expect(sessions.flatMap((s) => s.opaque), 'frames that do not open with the server\'s keys').toEqual([]);
    });
  });
});
