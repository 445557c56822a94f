import { test, expect } from '@playwright/test';
import { ProtocolError, SecurityError, SmbError, TimeoutError } from './errors.js';
import { chainFailure } from './handles.js';

const notFound = SmbError.fromStatus(0xc0000034, 'STATUS_OBJECT_NAME_NOT_FOUND', 'CREATE', '\\\\h\\s\\missing.txt');
const inherited = SmbError.fromStatus(0xc0000034, 'STATUS_OBJECT_NAME_NOT_FOUND', 'CLOSE', '\\\\h\\s\\missing.txt');

test('a chain of answered statuses reports the first (the CREATE), not what the rest inherit', () => {
  expect(chainFailure([notFound, inherited])).toBe(notFound);
});

test('a chain in which a later response was malformed, forged or never came reports that, not the CREATE status before it', () => {
  const malformed = new ProtocolError('response to message 33 is SESSION_SETUP, but the request was CLOSE');
  const forged = new SecurityError('STATUS_SUCCESS (0x00000000) on CLOSE, in an unsigned response in a session that signs', { status: 0, statusName: 'STATUS_SUCCESS', command: 'CLOSE' });
  const late = new TimeoutError('no response to CLOSE from 127.0.0.1:445 within 500 ms', { command: 'CLOSE' });
  for (const fatal of [malformed, forged, late]) expect(chainFailure([notFound, inherited, fatal])).toBe(fatal);
});
