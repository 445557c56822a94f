import { SAMBA_PROTOCOL_NAMES } from '../catalog/schema.js';
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

const DIALECT_BY_SAMBA_NAME = new Map(Object.entries(SAMBA_PROTOCOL_NAMES).map(([dialect, samba]) => [samba, dialect]));

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
      dialect: DIALECT_BY_SAMBA_NAME.get(s.session_dialect ?? '') ?? s.session_dialect ?? '',
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
