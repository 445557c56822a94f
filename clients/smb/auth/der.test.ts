import { test, expect } from '@playwright/test';
import { ProtocolError } from '../errors.js';
import { expectProtocolError, hex } from './test-helpers.fixture.js';
import { MAX_DEPTH, Tag, decodeDer, decodeOid, encodeLength, encodeOid, encodeTlv } from './der.js';

test('length forms: short, one and two length octets', () => {
  expect(encodeLength(0x7f).toString('hex')).toBe('7f');
  expect(encodeLength(200).toString('hex')).toBe('81c8');
  expect(encodeLength(300).toString('hex')).toBe('82012c');
  const long = encodeTlv(Tag.OCTET_STRING, Buffer.alloc(300, 7));
  const node = decodeDer(long, 'test');
  expect(node.value.length).toBe(300);
  expect(node.raw.equals(long)).toBe(true);
});

test('non-minimal long lengths are tolerated', () => {
  expect(decodeDer(hex('04 81 02 aa bb'), 'test').value.toString('hex')).toBe('aabb');
});

test('OIDs encode and decode', () => {
  expect(encodeOid('1.3.6.1.5.5.2').toString('hex')).toBe('06062b0601050502');
  expect(encodeOid('1.3.6.1.4.1.311.2.2.10').toString('hex')).toBe('060a2b06010401823702020a');
  expect(encodeOid('1.2.840.113554.1.2.2').toString('hex')).toBe('06092a864886f712010202');
  for (const oid of ['1.3.6.1.5.5.2', '1.3.6.1.4.1.311.2.2.10', '1.2.840.48018.1.2.2', '2.999.3']) {
    expect(decodeOid(decodeDer(encodeOid(oid), 'test'), 'test', 'oid')).toBe(oid);
  }
});

test('hostile DER: length lies, indefinite and oversized lengths, trailing bytes, bad OIDs', () => {
  expectProtocolError(() => decodeDer(hex('30 05 04 01 aa'), 'test'), { message: /claims 5 bytes/ });
  expectProtocolError(() => decodeDer(hex('30 03 04 05 aa'), 'test'), { message: /claims 5 bytes/ });
  expectProtocolError(() => decodeDer(hex('30 80 04 01 aa 00 00'), 'test'), { message: /indefinite/ });
  expectProtocolError(() => decodeDer(hex('04 85 00 00 00 00 01 aa'), 'test'), { message: /5-byte length/ });
  expectProtocolError(() => decodeDer(hex('04 84 ff ff ff ff'), 'test'), { message: /claims/ });
  expectProtocolError(() => decodeDer(hex('04 82 01'), 'test'), { message: /length octets/ });
  expectProtocolError(() => decodeDer(hex('04 01 aa 00'), 'test'), { message: /after the outer element/ });
  expectProtocolError(() => decodeDer(hex('1f 81 01 00'), 'test'), { message: /multi-byte tags/ });
  expectProtocolError(() => decodeDer(hex(''), 'test'));
  expectProtocolError(() => decodeOid(decodeDer(hex('06 02 2b 86'), 'test'), 'test', 'oid'), { message: /ends inside/ });
  expectProtocolError(() => decodeOid(decodeDer(hex('06 00'), 'test'), 'test', 'oid'), { message: /empty OID/ });
  expectProtocolError(() => decodeOid(decodeDer(hex('04 01 2b'), 'test'), 'test', 'oid'), { message: /expected tag 0x6/ });
});

test('hostile DER: nesting deeper than the limit is refused without exhausting the stack', () => {
  let nested = encodeTlv(Tag.OCTET_STRING, Buffer.alloc(1));
  for (let i = 0; i < MAX_DEPTH; i++) nested = encodeTlv(Tag.SEQUENCE, nested);
  expect(() => decodeDer(nested, 'test')).not.toThrow();
  expectProtocolError(() => decodeDer(encodeTlv(Tag.SEQUENCE, nested), 'test'), { message: /nested deeper/ });
  // Thousands of well-formed levels: the limit stops the walk long before the stack would.
  let deep: Buffer = Buffer.alloc(0);
  for (let i = 0; i < 3000; i++) deep = encodeTlv(Tag.SEQUENCE, deep);
  expectProtocolError(() => decodeDer(deep, 'test'));
});

test('ProtocolError names the structure and field', () => {
  try {
    decodeDer(hex('30 05'), 'NegTokenResp');
    throw new Error('not reached');
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).field).toBe('NegTokenResp.DER length');
  }
});
