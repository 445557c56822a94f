import { test, expect } from '../../fixtures.js';
import { Requirement } from '../../annotations.js';
import { MessageLog } from '../../message-log.js';
import { scenario } from '../../scenario.js';
import { DIALECTS } from '../../../servers/catalog/index.js';
import type { DialectName } from '../../../clients/smb/index.js';
import { NegotiationError } from '../../../clients/smb/index.js';
import { Capability, Dialect, Fsctl, decodeNegotiateRequest, decodeNegotiateResponse, findContext } from '../../../clients/smb/wire/index.js';

const SHA512 = 0x0001;
const DIALECT_CODES: Record<string, number> = { '2.0.2': Dialect.Smb202, '2.1': Dialect.Smb210, '3.0': Dialect.Smb300, '3.0.2': Dialect.Smb302, '3.1.1': Dialect.Smb311 };

test.describe('negotiate', () => {
  test('a client offering every dialect gets the highest the target allows', scenario({ id: 'negotiate/highest-dialect' }), async ({ connect, target }) => {
    const log = new MessageLog();
    const client = await connect({ observer: log });
    const offered = decodeNegotiateRequest(log.one('NEGOTIATE', 'send').bytes).dialects;
    expect(offered).toEqual(DIALECTS.map((d) => DIALECT_CODES[d]));
    const chosen = decodeNegotiateResponse(log.one('NEGOTIATE', 'receive').bytes).dialectRevision;
    expect(chosen).toBe(DIALECT_CODES[target.profile.dialects.max]);
    expect(client.negotiated.dialect).toBe(target.profile.dialects.max);
  });

  test('the cipher is the one the target declares (none when it declares none)', scenario({ id: 'negotiate/declared-cipher' }), async ({ client, target }) => {
    expect(client.negotiated.cipher).toBe(target.profile.expect.cipher);
  });

  test('the signing algorithm is the one the target declares', scenario({ id: 'negotiate/declared-signing-algorithm' }), async ({ client, target }) => {
    expect(client.negotiated.signingAlgorithm).toBe(target.profile.expect.signingAlgorithm);
  });

  test('3.1.1 negotiates SHA-512 preauth integrity in both directions', scenario({ id: 'negotiate/preauth-integrity', requires: [Requirement.smb311] }), async ({ connect }) => {
    const log = new MessageLog();
    const client = await connect({ observer: log });
    const request = decodeNegotiateRequest(log.one('NEGOTIATE', 'send').bytes);
    const response = decodeNegotiateResponse(log.one('NEGOTIATE', 'receive').bytes);
    expect(findContext(request.negotiateContexts ?? [], 'preauthIntegrity')?.hashAlgorithms).toContain(SHA512);
    const chosen = findContext(response.negotiateContexts, 'preauthIntegrity');
    expect(chosen?.hashAlgorithms).toEqual([SHA512]);
    expect(chosen?.salt.length).toBeGreaterThan(0);
    expect(client.negotiated.preauthIntegrity).toBe(true);
    // The session key depends on the preauth hash: a signed/encrypted request only works if both sides agree.
    await client.echo();
  });

  test('3.0.x validates the negotiation with FSCTL_VALIDATE_NEGOTIATE_INFO after tree connect', scenario({ id: 'negotiate/validate-negotiate', requires: [Requirement.smb30x] }), async ({ connect, target }) => {
    const log = new MessageLog();
    const client = await connect({ observer: log });
    await client.connectTree(target.shares[0]!.name);
    const ioctl = log.one('IOCTL', 'send');
    expect(ioctl.bytes.readUInt32LE(64 + 4)).toBe(Fsctl.ValidateNegotiateInfo);
    const answer = log.one('IOCTL', 'receive');
    expect(answer.statusName).toBe('STATUS_SUCCESS');
    expect(answer.signed || answer.encrypted).toBe(true);
    expect(client.connection.negotiateValidated).toBe(true);
  });

  test('no dialect in common is a clear NegotiationError', scenario({ id: 'negotiate/no-common-dialect' }), async ({ connect, target }) => {
    const outside = DIALECTS.filter((d) => DIALECTS.indexOf(d) < DIALECTS.indexOf(target.profile.dialects.min) || DIALECTS.indexOf(d) > DIALECTS.indexOf(target.profile.dialects.max));
    test.skip(outside.length === 0, `${target.name} accepts every dialect`);
    const offer = outside as DialectName[];
    const error = await connect({ dialects: offer }).then(() => undefined, (e: Error) => e);
    expect(error).toBeInstanceOf(NegotiationError);
    expect(error?.message).toContain(`client offered ${offer.join(', ')}`);
    expect(error?.message).toMatch(/no dialect in common/);
  });

  test('a NEGOTIATE offering 3.0.x advertises SMB2_GLOBAL_CAP_ENCRYPTION (read from the wire)', scenario({ id: 'negotiate/encryption-capability' }), async ({ connect, traces }) => {
    const client = await connect({ dialects: ['3.0', '3.0.2'] }).catch((e: Error) => e);
    if (client instanceof Error) expect(client).toBeInstanceOf(NegotiationError);
    else await client.close();
    const frames = await traces.wireFrames();
    const negotiate = frames.find((f) => f.direction === 'send' && f.bytes.readUInt16LE(12) === 0);
    expect(negotiate, 'the NEGOTIATE request on the wire').toBeDefined();
    const request = decodeNegotiateRequest(negotiate!.bytes);
    expect(request.dialects).toEqual([Dialect.Smb300, Dialect.Smb302]);
    expect(request.capabilities & Capability.Encryption, `capabilities 0x${request.capabilities.toString(16).padStart(8, '0')}`).toBe(Capability.Encryption);
  });
});
