import { expect, test } from '@playwright/test';
import { encryptMessage, signMessage } from '../../clients/smb/crypto/index.js';
import { Command, HeaderFlag, encodeHeader, encodeSessionSetupResponse } from '../../clients/smb/wire/index.js';
import type { ServerSessionKeys } from '../../servers/samba/server-keys.js';
import { decodeWire } from '../capture/wire-decode.js';
import { explainCell } from './cell-explanation.js';

const SESSION = 0x00000000ab7ceb8fn;
const AES_CMAC = 1;
const KEYS: ServerSessionKeys = {
  sessionId: SESSION, sessionKey: Buffer.alloc(16, 1), signingAlgorithm: AES_CMAC, signingKey: Buffer.alloc(16, 2), cipher: undefined, serverInKey: undefined, serverOutKey: undefined,
};

/** The final SESSION_SETUP response, signed with `key`. */
function finalResponse(key: Buffer) {
  const header = encodeHeader({ command: Command.SessionSetup, messageId: 2n, creditCharge: 1, credits: 1, sessionId: SESSION, flags: HeaderFlag.ServerToRedir | HeaderFlag.Signed });
  const message = Buffer.concat([header, encodeSessionSetupResponse({ sessionFlags: 0, securityBuffer: Buffer.alloc(9, 4) })]);
  signMessage(AES_CMAC, key, message).copy(message, 48);
  return decodeWire([{ direction: 'receive', clientPort: 50000, bytes: message }], [KEYS]);
}

const ERROR = 'SecurityError: bad signature on the final SESSION_SETUP response (session 0x00000000ab7ceb8f)';

test('a client rejecting a response the server signed right is told it derived another signing key', () => {
  expect(explainCell({ wire: finalResponse(KEYS.signingKey), serverLog: '', error: ERROR })).toEqual([
    'signing: the server\'s SESSION_SETUP response mid=2 verifies with session 0x00000000ab7ceb8f\'s signing key as the server derived it, but the client rejected it: '
      + 'the client derived another signing key (MS-SMB2 3.2.5.3.1: the KDF\'s label and context, on 3.1.1 the preauth integrity hash of the NEGOTIATE and SESSION_SETUP messages)',
  ]);
});

test('a response that does not verify with the server\'s own key either is said to be the server\'s', () => {
  expect(explainCell({ wire: finalResponse(Buffer.alloc(16, 9)), serverLog: '', error: ERROR })).toEqual([
    'spec: signature-valid (MS-SMB2 3.1.4.1, 3.1.5.1): SESSION_SETUP response mid=2: the signature does not verify with session 0x00000000ab7ceb8f\'s signing key',
    'signing: the server\'s SESSION_SETUP response mid=2 does not verify with session 0x00000000ab7ceb8f\'s signing key as the server logged it either (MS-SMB2 3.1.4.1)',
  ]);
  // Another error says nothing about signatures.
  expect(explainCell({ wire: finalResponse(KEYS.signingKey), serverLog: '', error: 'SmbError: STATUS_ACCESS_DENIED (0xC0000022) on TREE_CONNECT' })).toEqual([]);
});

test('a client message that does not decrypt is placed after the last message read, and joined with the server\'s own decryption failure', () => {
  const AES_128_GCM = 2;
  const keys: ServerSessionKeys = { ...KEYS, cipher: AES_128_GCM, serverInKey: Buffer.alloc(16, 5), serverOutKey: Buffer.alloc(16, 6) };
  const header = encodeHeader({ command: Command.TreeConnect, messageId: 3n, creditCharge: 1, credits: 1, sessionId: SESSION });
  const sealed = encryptMessage({ cipher: AES_128_GCM, key: Buffer.alloc(16, 6), sessionId: SESSION, nonce: Buffer.alloc(12, 1), message: Buffer.concat([header, Buffer.alloc(8)]) });
  const setup = finalResponse(KEYS.signingKey).messages[0]!.bytes;
  const wire = decodeWire([{ direction: 'receive', clientPort: 50000, bytes: setup }, { direction: 'send', clientPort: 50000, bytes: sealed }], [keys]);
  const log = 'GNUTLS ERROR: GNUTLS_E_DECRYPTION_FAILED, NTSTATUS: NT_STATUS_DECRYPTION_FAILED at ../../libcli/smb/smb2_signing.c:1185\nServer exit (NT_STATUS_DECRYPTION_FAILED)\n';
  const lines = explainCell({ wire, serverLog: log, error: 'TransportError: connection to 127.0.0.1:445 closed by the server' });
  expect(lines.at(-1)).toMatch(/^wire: connection 1, client frame 2 \(the message after SESSION_SETUP response mid=2\): does not decrypt with session 0x00000000ab7ceb8f's ServerIn key \(AES-128-GCM\): .*; the server could not decrypt it either \(NT_STATUS_DECRYPTION_FAILED\)$/);
});
