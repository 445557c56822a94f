import { test, expect } from '@playwright/test';
import { ServerFrameSplitter, capabilityDowngrade, dialectDowngrade, flipInDataResponse, framed, guestFlag, midTransfer } from './interference.js';
import type { Interference, StreamPiece } from './interference.js';
import { seededRandom } from '../scenarios/helpers.js';

/** A response header: ProtocolId, StructureSize 64, Status, Command, Flags (SERVER_TO_REDIRECTOR), NextCommand. */
function header(command: number, status = 0, nextCommand = 0): Buffer {
  const h = Buffer.alloc(64);
  h.write('\xfeSMB', 0, 'latin1');
  h.writeUInt16LE(64, 4);
  h.writeUInt32LE(status, 8);
  h.writeUInt16LE(command, 12);
  h.writeUInt16LE(1, 14); // CreditResponse
  h.writeUInt32LE(0x00000001 | 0x00000008, 16); // SERVER_TO_REDIRECTOR | SIGNED
  h.writeUInt32LE(nextCommand, 20);
  return h;
}

function readResponse(data: Buffer): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt16LE(17, 0);
  body[2] = 80;
  body.writeUInt32LE(data.length, 4);
  return Buffer.concat([header(0x0008), body, data]);
}

function negotiateResponse(dialect: number, capabilities: number): Buffer {
  const body = Buffer.alloc(64);
  body.writeUInt16LE(65, 0);
  body.writeUInt16LE(dialect, 4);
  body.writeUInt32LE(capabilities, 24);
  return Buffer.concat([header(0x0000), body]);
}

function sessionSetupResponse(status: number, flags: number): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16LE(9, 0);
  body.writeUInt16LE(flags, 2);
  return Buffer.concat([header(0x0001, status), body]);
}

/** The stream cut into chunks of seeded random sizes (1 byte to 3 frames). */
function chunks(stream: Buffer, seed: number): Buffer[] {
  const random = seededRandom(seed);
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length;) {
    const size = 1 + Math.floor(random() * 300);
    out.push(stream.subarray(i, i + size));
    i += size;
  }
  return out;
}

const frames = [readResponse(Buffer.alloc(100, 7)), negotiateResponse(0x0311, 0x2f), sessionSetupResponse(0, 0), Buffer.alloc(0), readResponse(Buffer.alloc(5, 1))];
const stream = Buffer.concat(frames.map(framed));

test('the splitter relays every byte in order when nothing is held, however the stream is cut', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const splitter = new ServerFrameSplitter();
    const pieces = chunks(stream, seed).flatMap((c) => splitter.split(c, false));
    expect(pieces.every((p) => 'raw' in p), `seed ${seed}: only raw pieces`).toBe(true);
    expect(Buffer.concat(pieces.map((p) => (p as { raw: Buffer }).raw)).equals(stream), `seed ${seed}: the same bytes`).toBe(true);
  }
});

test('the splitter holds whole frames from the first boundary after hold is turned on; the bytes before pass raw', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const splitter = new ServerFrameSplitter();
    const cut = chunks(stream, seed);
    const switchAt = Math.floor(cut.length / 3);
    const pieces: StreamPiece[] = cut.flatMap((c, i) => splitter.split(c, i >= switchAt));
    const raw = Buffer.concat(pieces.filter((p): p is { raw: Buffer } => 'raw' in p).map((p) => p.raw));
    const held = pieces.filter((p): p is { frame: Buffer } => 'frame' in p).map((p) => p.frame);
    // Raw bytes are a prefix of the stream ending at a frame boundary; the held frames are the rest, whole.
    expect(stream.subarray(0, raw.length).equals(raw), `seed ${seed}: raw bytes are the stream's start`).toBe(true);
    const heldFrom = frames.length - held.length;
    expect(Buffer.concat(frames.slice(0, heldFrom).map(framed)).length, `seed ${seed}: raw ends at a boundary`).toBe(raw.length);
    expect(held.map((f) => f.toString('hex')), `seed ${seed}: frames held whole`).toEqual(frames.slice(heldFrom).map((f) => f.toString('hex')));
    if (switchAt === 0) expect(held.length).toBe(frames.length);
  }
});

test('a stream that is not direct-TCP framing passes through raw, held bytes included', () => {
  const splitter = new ServerFrameSplitter();
  const garbage = Buffer.from('HTTP/1.1 400 Bad Request\r\n');
  const pieces = [...splitter.split(garbage.subarray(0, 2), true), ...splitter.split(garbage.subarray(2), true)];
  expect(Buffer.concat(pieces.map((p) => ('raw' in p ? p.raw : Buffer.alloc(0)))).equals(garbage)).toBe(true);
});

function apply(interference: Interference, frame: Buffer): ReturnType<Interference> {
  return interference(frame, { connection: 1 });
}

test('a bit flipped in a signed READ response: its data, its DataRemaining or the CreditResponse, once', () => {
  const response = readResponse(Buffer.alloc(1000, 0));
  const data = apply(flipInDataResponse('data', 0), response);
  expect(data.kind).toBe('replace');
  const edited = (data as { frame: Buffer }).frame;
  const changed = [...edited].flatMap((b, i) => (b !== response[i] ? [i] : []));
  expect(changed).toEqual([80 + 500]);
  expect(edited[580]).toBe(4);
  expect((data as { note: string }).note).toBe('harness: bit 2 of byte 580 inverted (the READ response\'s data)');
  const field = apply(flipInDataResponse('field', 0), response) as { frame: Buffer };
  expect(field.frame.readUInt32LE(64 + 8)).toBe(4);
  const credit = apply(flipInDataResponse('header', 0), response) as { frame: Buffer };
  expect(credit.frame.readUInt16LE(14)).toBe(1 | 4);
  // Once only, and only READ responses that carry data.
  const flip = flipInDataResponse('data', 0);
  expect(apply(flip, negotiateResponse(0x0311, 1)).kind).toBe('pass');
  expect(apply(flip, readResponse(Buffer.alloc(0))).kind).toBe('pass');
  expect(apply(flip, response).kind).toBe('replace');
  expect(apply(flip, response).kind).toBe('pass');
});

test('a bit flipped in a transform: the ciphertext, the tag or the nonce, in frames of at least the minimum size', () => {
  const transform = Buffer.alloc(52 + 2000);
  transform.write('\xfdSMB', 0, 'latin1');
  expect(apply(flipInDataResponse('data', 4096), transform).kind).toBe('pass');
  const spots = (['data', 'field', 'header'] as const).map((spot) => {
    const verdict = apply(flipInDataResponse(spot, 1024), transform) as { frame: Buffer };
    return [...verdict.frame].findIndex((b, i) => b !== transform[i]);
  });
  expect(spots).toEqual([52 + 1000, 11, 23]);
});

test('downgrades: the dialect one step down (never the SMB1 wildcard answer), the capabilities cleared, IS_GUEST set on the final SESSION_SETUP', () => {
  expect(apply(dialectDowngrade(), negotiateResponse(0x02ff, 7)).kind).toBe('pass');
  for (const [from, to] of [[0x0311, 0x0302], [0x0302, 0x0210], [0x0300, 0x0210], [0x0210, 0x0202]]) {
    const verdict = apply(dialectDowngrade(), negotiateResponse(from!, 7)) as { frame: Buffer; note: string };
    expect(verdict.frame.readUInt16LE(64 + 4)).toBe(to);
  }
  expect(apply(dialectDowngrade(), negotiateResponse(0x0202, 7)).kind).toBe('pass');
  const caps = apply(capabilityDowngrade(), negotiateResponse(0x0300, 0x7f)) as { frame: Buffer; note: string };
  expect(caps.frame.readUInt32LE(64 + 24)).toBe(0);
  expect(caps.note).toBe('harness: NEGOTIATE response Capabilities 0x0000007f cleared to 0x00000000');
  expect(apply(guestFlag(), sessionSetupResponse(0xc0000016, 0)).kind).toBe('pass');
  const guest = apply(guestFlag(), sessionSetupResponse(0, 0)) as { frame: Buffer };
  expect(guest.frame.readUInt16LE(64 + 2)).toBe(1);
  expect(apply(guestFlag(), sessionSetupResponse(0, 1)).kind).toBe('pass');
});

test('mid-transfer faults cut the first large frame in half and act once', () => {
  const fault = midTransfer('reset', 500);
  expect(apply(fault, Buffer.alloc(100)).kind).toBe('pass');
  expect(apply(fault, Buffer.alloc(1000))).toEqual({ kind: 'reset', deliver: 504, note: 'harness: the server reset the connection (RST) after 504 of this 1004-byte frame' });
  expect(apply(fault, Buffer.alloc(1000)).kind).toBe('pass');
});
