import { expect, test } from '@playwright/test';
import type { WireFrame } from '../pcap-reader.js';
import type { ServerSessionKeys } from '../../servers/samba/server-keys.js';
import { serverKeysFor, sessionsExpectingKeys } from './wire-decode.js';

/** A clear SMB2 response: header with command, status and SessionId, then `body`. */
function response(clientPort: number, command: number, status: number, sessionId: bigint, body: Buffer): WireFrame {
  const header = Buffer.alloc(64);
  header.writeUInt32LE(0x424d53fe, 0);
  header.writeUInt16LE(64, 4);
  header.writeUInt32LE(status, 8);
  header.writeUInt16LE(command, 12);
  header.writeUInt32LE(1, 16); // SERVER_TO_REDIR
  header.writeBigUInt64LE(sessionId, 40);
  return { direction: 'receive', clientPort, bytes: Buffer.concat([header, body]) };
}
function negotiate(clientPort: number, dialect: number): WireFrame {
  const body = Buffer.alloc(64);
  body.writeUInt16LE(65, 0);
  body.writeUInt16LE(dialect, 4);
  return response(clientPort, 0, 0, 0n, body);
}
function sessionSetup(clientPort: number, sessionId: bigint, status: number, flags: number): WireFrame {
  const body = Buffer.alloc(8);
  body.writeUInt16LE(9, 0);
  body.writeUInt16LE(flags, 2);
  return response(clientPort, 1, status, sessionId, body);
}
const MORE_PROCESSING = 0xc0000016;

test('the sessions that must have server keys: SMB 3 logons that succeeded, not guest or anonymous, not 2.x', () => {
  const frames = [
    negotiate(5001, 0x0311),
    sessionSetup(5001, 0x11n, MORE_PROCESSING, 0),
    sessionSetup(5001, 0x11n, 0, 0),
    negotiate(5002, 0x0202),
    sessionSetup(5002, 0x22n, 0, 0),
    negotiate(5003, 0x0300),
    sessionSetup(5003, 0x33n, 0, 1), // guest
    sessionSetup(5003, 0x34n, 0, 2), // anonymous
    sessionSetup(5003, 0x35n, 0xc000006d, 0), // STATUS_LOGON_FAILURE
    sessionSetup(5003, 0x36n, 0, 0),
  ];
  expect(sessionsExpectingKeys(frames)).toEqual([0x11n, 0x36n]);
});

const key = (sessionId: bigint): ServerSessionKeys => ({ sessionId, sessionKey: Buffer.alloc(16), signingAlgorithm: 1, signingKey: Buffer.alloc(16), cipher: undefined, serverInKey: undefined, serverOutKey: undefined });

test('serverKeysFor waits for keys the log has not delivered yet, and gives up at its timeout with what there is', async () => {
  const frames = [negotiate(5001, 0x0311), sessionSetup(5001, 0x11n, 0, 0)];
  const log: ServerSessionKeys[] = [];
  setTimeout(() => log.push(key(0x11n)), 50);
  expect((await serverKeysFor(frames, () => [...log], 2_000)).map((k) => k.sessionId)).toEqual([0x11n]);

  const started = Date.now();
  expect(await serverKeysFor(frames, () => [key(0x99n)], 100)).toEqual([key(0x99n)]);
  expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  // A capture with no session that needs keys does not wait at all.
  expect(await serverKeysFor([negotiate(5002, 0x0202), sessionSetup(5002, 0x22n, 0, 0)], () => [], 5_000)).toEqual([]);
});
