/**
 * Session keys as the server logs them. With `debug encryption = yes` smbd dumps, for each new
 * session, its id and keys as hex rows:
 *
 *   debug encryption: dumping generated session keys
 *   Session Id    [0000] 44 BB 5D B5 00 00 00 00                             D.].....
 *   Session Key   [0000] E1 E1 5E CF ...
 *   Signing Algo: 2
 *   Signing Key   [0000] 8C 17 41 F4 ...
 *   Cipher Algo: 2
 *   ServerIn Key  [0000] 22 35 58 23 ...        (32-byte keys continue on a `[0010]` row)
 *   ServerOut Key [0000] A6 E2 F1 07 ...
 *
 * That is smbd up to 4.22. From 4.23 on smbd dumps through the routine Samba's client library
 * uses, which prints no Cipher Algo line, labels the rows as a client sees them and adds a
 * line for Wireshark's key list:
 *
 *   ServerIn Key  [0000] 1C 80 FF D1 ...      the server's ENCRYPTION key: server-to-client
 *   ServerOut Key [0000] A3 B8 08 51 ...      the server's decryption key: client-to-server
 *   Wireshark configuration line:
 *   e62796ea00000000,1df31588...,a3b80851...,1c80ffd1...
 *
 * (a session that cannot encrypt prints both labels and the Wireshark heading on one line, and
 * empty fields). A dump without a Cipher Algo line is read that way: its ServerIn row is the
 * server-to-client key. The unit test checks both against keys derived from the logged session
 * key. Such a dump does not say the cipher: the capture's NEGOTIATE does (harness/capture/wire-decode.ts).
 *
 * These keys decrypt and verify any client's capture, whatever the client. They are secrets:
 * ServerLog keeps them apart from the log text it publishes (REDACTED_KEY_DUMP stands in their
 * place), the Wireshark line included.
 */

export interface ServerSessionKeys {
  /** The SessionId as the client's header carries it (the logged bytes are in wire order). */
  sessionId: bigint;
  sessionKey: Buffer;
  /** SMB2 signing algorithm id (0 HMAC-SHA256, 1 AES-CMAC, 2 AES-GMAC), when logged. */
  signingAlgorithm: number | undefined;
  signingKey: Buffer;
  /**
   * SMB2 cipher id (1 AES-128-CCM, 2 AES-128-GCM, 3 AES-256-CCM, 4 AES-256-GCM) as smbd up to 4.22
   * logs it (0 when the session cannot encrypt); undefined where the dump has no Cipher Algo line
   * (smbd 4.23 and later), and then the connection's NEGOTIATE says it.
   */
  cipher: number | undefined;
  /** Client-to-server key: what the server decrypts with. */
  serverInKey: Buffer | undefined;
  /** Server-to-client key: what the server encrypts with. */
  serverOutKey: Buffer | undefined;
}

const DUMP_START = /debug encryption: dumping generated session keys/;
/**
 * `Name [0000] hex bytes   ascii` or a continuation row `[0010] hex bytes ...`. Samba prints the
 * bytes in a column of fixed width after the offset (16 times " XX" or blanks, two more spaces
 * after the eighth), then the bytes as text, which may itself look like hex: only the column is read.
 */
const HEX_ROW = /^\s*(Session Id|Session Key|Signing Key|App Key|ServerIn Key|ServerOut Key)?\s*\[([0-9A-Fa-f]{4})\](?= [0-9A-Fa-f]{2})/;
const HEX_COLUMN_WIDTH = 16 * 3 + 2;
const ALGORITHM = /^\s*(Signing|Cipher) Algo:\s*(\d+)/;
/**
 * smbd 4.23+: the heading of the Wireshark line, alone or after the two labels of keys that are
 * empty, and the line itself (session id, session key, two cipher keys; the keys may be empty).
 */
const WIRESHARK_HEADING = /^\s*(?:ServerIn Key\s+)?(?:ServerOut Key\s+)?Wireshark configuration line:?\s*$/;
const WIRESHARK_LINE = /^\s*[0-9a-fA-F]{16},[0-9a-fA-F]*,[0-9a-fA-F]*,[0-9a-fA-F]*\s*$/;

function bytesOf(hexColumn: string): number[] {
  return (hexColumn.slice(0, HEX_COLUMN_WIDTH).match(/[0-9A-Fa-f]{2}/g) ?? []).map((h) => Number.parseInt(h, 16));
}

/** Whether the line starts a key dump. */
export function startsKeyDump(line: string): boolean {
  return DUMP_START.test(line);
}

/** Whether the line belongs to a key dump that has started (a hex row or an algorithm line). */
export function continuesKeyDump(line: string): boolean {
  return HEX_ROW.test(line) || ALGORITHM.test(line) || WIRESHARK_HEADING.test(line) || WIRESHARK_LINE.test(line);
}

/** Whether the line is the one that ends a dump of smbd 4.23+ (its Wireshark line). */
export function endsKeyDump(line: string): boolean {
  return WIRESHARK_LINE.test(line);
}

/**
 * The keys of a dump still arriving, once it holds every row it will have (so that they can be
 * used before the line after it comes), else none: smbd 4.23+ ends a dump with its Wireshark
 * line; up to 4.22 the last row is ServerOut's, complete at the length of the logged cipher's
 * keys (none for cipher 0). A dump read too early would give a 32-byte key's first half.
 */
export function wholeDumpKeys(lines: readonly string[]): ServerSessionKeys[] {
  const sessions = parseServerKeys(lines.join('\n'));
  if (lines.some((line) => WIRESHARK_LINE.test(line))) return sessions;
  const session = sessions[0];
  if (session === undefined || session.cipher === undefined) return [];
  const keyBytes = session.cipher === 0 ? 0 : session.cipher >= 3 ? 32 : 16;
  return (session.serverOutKey?.length ?? 0) >= keyBytes ? sessions : [];
}

/** What a published log shows where a key dump was. */
export const REDACTED_KEY_DUMP = 'debug encryption: session keys dumped (kept out of this log; they decrypt the capture)';

/** Every session's keys dumped in the log, in order (a session logged twice keeps its last dump). */
export function parseServerKeys(log: string): ServerSessionKeys[] {
  const sessions = new Map<bigint, ServerSessionKeys>();
  let fields: Map<string, number[]> | undefined;
  let algorithms: { Signing?: number; Cipher?: number } = {};
  let current: string | undefined;
  const finish = () => {
    if (fields === undefined) return;
    const id = fields.get('Session Id');
    const sessionKey = fields.get('Session Key');
    const signingKey = fields.get('Signing Key');
    if (id !== undefined && id.length === 8 && sessionKey !== undefined && signingKey !== undefined) {
      const sessionId = Buffer.from(id).readBigUInt64LE(0);
      // Without a Cipher Algo line the rows carry a client's labels (smbd 4.23+, see above).
      const clientLabels = algorithms.Cipher === undefined;
      const serverIn = fields.get(clientLabels ? 'ServerOut Key' : 'ServerIn Key');
      const serverOut = fields.get(clientLabels ? 'ServerIn Key' : 'ServerOut Key');
      sessions.set(sessionId, {
        sessionId,
        sessionKey: Buffer.from(sessionKey),
        signingAlgorithm: algorithms.Signing,
        signingKey: Buffer.from(signingKey),
        cipher: algorithms.Cipher,
        serverInKey: serverIn === undefined ? undefined : Buffer.from(serverIn),
        serverOutKey: serverOut === undefined ? undefined : Buffer.from(serverOut),
      });
    }
    fields = undefined;
    algorithms = {};
    current = undefined;
  };
  for (const line of log.split('\n')) {
    if (DUMP_START.test(line)) {
      finish();
      fields = new Map();
      continue;
    }
    if (fields === undefined) continue;
    const algorithm = ALGORITHM.exec(line);
    if (algorithm) {
      algorithms[algorithm[1] as 'Signing' | 'Cipher'] = Number(algorithm[2]);
      current = undefined;
      continue;
    }
    if (WIRESHARK_HEADING.test(line) || WIRESHARK_LINE.test(line)) {
      // Nothing the rows did not already give; the line ends the dump.
      current = undefined;
      continue;
    }
    const row = HEX_ROW.exec(line);
    if (row) {
      const name = row[1] ?? (row[2] !== '0000' ? current : undefined);
      if (name === undefined) {
        finish();
        continue;
      }
      current = name;
      fields.set(name, [...(row[1] === undefined ? (fields.get(name) ?? []) : []), ...bytesOf(line.slice(row[0].length))]);
      continue;
    }
    finish();
  }
  finish();
  return [...sessions.values()];
}
