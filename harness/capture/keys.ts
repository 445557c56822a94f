/**
 * Wireshark's SMB2 decryption table (UAT `smb2_seskey_list`) for a trace: the key file beside the
 * pcap and the command lines that open the pcap decrypted. Columns: Session ID (the SessionId's
 * 8 bytes in wire order, i.e. little-endian), Session Key, Server-to-Client key (the client's
 * decryption key, ServerOut), Client-to-Server key (its encryption key, ServerIn); all bare hex.
 * AES-256 sessions carry 32-byte cipher keys, which tshark 4.0.17 accepts and decrypts with.
 */
import type { SmbSessionKeys } from '../../clients/smb/observer.js';

/** `0x0000100000000005`, as the transcript and smbstatus print a SessionId. */
export function formatSessionId(sessionId: bigint): string {
  return `0x${sessionId.toString(16).padStart(16, '0')}`;
}

/** The SessionId as Wireshark's table wants it: the 8 bytes as they appear on the wire. */
export function wireSessionId(sessionId: bigint): string {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(BigInt.asUintN(64, sessionId));
  return bytes.toString('hex');
}

/** One table row: `SESSIONID,SESSIONKEY,S2CKEY,C2SKEY`. */
export function seskeyRecord(keys: SmbSessionKeys): string {
  return [
    wireSessionId(keys.sessionId),
    keys.sessionKey.toString('hex'),
    keys.decryptionKey?.toString('hex') ?? '',
    keys.encryptionKey?.toString('hex') ?? '',
  ].join(',');
}

/** Sessions whose traffic may be encrypted: the ones that have cipher keys. */
function cipherSessions(keys: readonly SmbSessionKeys[]): SmbSessionKeys[] {
  return keys.filter((k) => k.encryptionKey !== null && k.decryptionKey !== null);
}

function describeSession(keys: SmbSessionKeys): string {
  return `session ${formatSessionId(keys.sessionId)}: SMB ${keys.dialect}, ${keys.cipher ?? 'no cipher'}`;
}

/**
 * The key file: `#` comments on what the columns are and how to use the file, then one row per
 * session with cipher keys. The file is a valid `smb2_seskey_list` UAT file as it stands.
 */
export function wiresharkKeyFile(keys: readonly SmbSessionKeys[]): string {
  const lines = [
    '# SMB2 decryption keys for the pcapng trace beside this file (Wireshark UAT table smb2_seskey_list).',
    '# SECRET: these keys decrypt the captured traffic. Keep this file with its trace only.',
    '# Columns: Session ID (the SMB2 SessionId as its 8 bytes on the wire, little-endian), Session Key,',
    '#   Server-to-Client key (ServerOut, the client decrypts with it), Client-to-Server key (ServerIn,',
    '#   the client encrypts with it); all hex.',
    "# Use: tshark -r trace.pcapng -o 'uat:smb2_seskey_list:ROW' for each row below (wireshark -r takes",
    '#   the same -o), or Edit > Preferences > Protocols > SMB2 > Secret session keys for decryption,',
    '#   or copy this file as smb2_seskey_list into your Wireshark profile directory.',
  ];
  const sessions = cipherSessions(keys);
  if (sessions.length === 0) {
    lines.push(keys.length === 0
      ? '# Nothing to decrypt: no session established keys (guest, anonymous or failed sessions).'
      : `# Nothing to decrypt: ${keys.map(describeSession).join('; ')} (no cipher keys, so no encrypted traffic).`);
    return `${lines.join('\n')}\n`;
  }
  for (const session of sessions) {
    lines.push(`# ${describeSession(session)}`);
    lines.push(seskeyRecord(session));
  }
  return `${lines.join('\n')}\n`;
}

/** POSIX shell single quoting. */
function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The commands that open the trace decrypted: tshark (dissecting SMB2) and the Wireshark GUI.
 * `serverPort` other than 445 adds the "decode as" that makes Wireshark see SMB on it.
 */
export function wiresharkCommand(pcapPath: string, keys: readonly SmbSessionKeys[], serverPort = 445): string {
  const sessions = cipherSessions(keys);
  const decodeAs = serverPort === 445 ? [] : ['-d', `tcp.port==${serverPort},nbss`];
  const keyOptions = sessions.flatMap((s) => ['-o', shellQuote(`uat:smb2_seskey_list:${seskeyRecord(s)}`)]);
  const options = [...decodeAs, ...keyOptions];
  const tshark = ['tshark', '-r', shellQuote(pcapPath), ...options, '-Y', 'smb2'].join(' ');
  const wireshark = ['wireshark', '-r', shellQuote(pcapPath), ...options].join(' ');
  const notes = sessions.length === 0 ? ['# nothing to decrypt: no session with cipher keys'] : [];
  return [...notes, tshark, wireshark].join('\n');
}
