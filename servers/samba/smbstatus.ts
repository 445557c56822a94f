import type { ServerSession } from '../target.js';

interface StatusJson {
  sessions?: Record<string, {
    session_id?: string;
    username?: string;
    session_dialect?: string;
    encryption?: { cipher?: string };
    signing?: { cipher?: string };
  }>;
  tcons?: Record<string, {
    service?: string;
    session_id?: string;
    encryption?: { cipher?: string };
    signing?: { cipher?: string };
  }>;
}

/** smbstatus prints "-" for "none". */
function cipherOf(field: { cipher?: string } | undefined): string {
  const value = field?.cipher ?? '';
  return value === '-' ? '' : value;
}

const DIALECT_NAMES: Record<string, string> = {
  SMB2_02: '2.0.2',
  SMB2_10: '2.1',
  SMB3_00: '3.0',
  SMB3_02: '3.0.2',
  SMB3_11: '3.1.1',
};

/** Turns `smbstatus --json` output into sessions with dialect names as the catalog spells them. */
export function parseSmbstatusJson(json: string): ServerSession[] {
  let data: StatusJson;
  try {
    data = JSON.parse(json) as StatusJson;
  } catch (e) {
    throw new Error(`smbstatus --json printed something that is not JSON: ${(e as Error).message}`);
  }
  const sessions = new Map<string, ServerSession>();
  for (const s of Object.values(data.sessions ?? {})) {
    const id = s.session_id ?? '';
    sessions.set(id, {
      sessionId: id,
      username: s.username ?? '',
      dialect: DIALECT_NAMES[s.session_dialect ?? ''] ?? s.session_dialect ?? '',
      encryption: cipherOf(s.encryption),
      signing: cipherOf(s.signing),
      trees: [],
    });
  }
  for (const t of Object.values(data.tcons ?? {})) {
    sessions.get(t.session_id ?? '')?.trees.push({
      share: t.service ?? '',
      encryption: cipherOf(t.encryption),
      signing: cipherOf(t.signing),
    });
  }
  return [...sessions.values()];
}
