/** Kerberos error codes (RFC 4120 7.5.9, MS-KILE 3.1.5) by name, and the error the client throws. */
import { AuthenticationError } from '../../errors.js';

const NAMES: Readonly<Record<number, string>> = {
  1: 'KDC_ERR_NAME_EXP',
  2: 'KDC_ERR_SERVICE_EXP',
  3: 'KDC_ERR_BAD_PVNO',
  6: 'KDC_ERR_C_PRINCIPAL_UNKNOWN',
  7: 'KDC_ERR_S_PRINCIPAL_UNKNOWN',
  8: 'KDC_ERR_PRINCIPAL_NOT_UNIQUE',
  12: 'KDC_ERR_POLICY',
  13: 'KDC_ERR_BADOPTION',
  14: 'KDC_ERR_ETYPE_NOSUPP',
  16: 'KDC_ERR_PADATA_TYPE_NOSUPP',
  18: 'KDC_ERR_CLIENT_REVOKED',
  23: 'KDC_ERR_KEY_EXPIRED',
  24: 'KDC_ERR_PREAUTH_FAILED',
  25: 'KDC_ERR_PREAUTH_REQUIRED',
  29: 'KDC_ERR_SVC_UNAVAILABLE',
  31: 'KRB_AP_ERR_BAD_INTEGRITY',
  32: 'KRB_AP_ERR_TKT_EXPIRED',
  33: 'KRB_AP_ERR_TKT_NYV',
  34: 'KRB_AP_ERR_REPEAT',
  35: 'KRB_AP_ERR_NOT_US',
  36: 'KRB_AP_ERR_BADMATCH',
  37: 'KRB_AP_ERR_SKEW',
  40: 'KRB_AP_ERR_MSG_TYPE',
  41: 'KRB_AP_ERR_MODIFIED',
  44: 'KRB_AP_ERR_NOKEY',
  52: 'KRB_ERR_RESPONSE_TOO_BIG',
  60: 'KRB_ERR_GENERIC',
  68: 'KDC_ERR_WRONG_REALM',
};

export const KerberosErrorCode = {
  C_PRINCIPAL_UNKNOWN: 6,
  PREAUTH_FAILED: 24,
  PREAUTH_REQUIRED: 25,
  SKEW: 37,
  RESPONSE_TOO_BIG: 52,
} as const;

export function kerberosErrorName(code: number): string {
  return NAMES[code] ?? `KRB_ERROR_${code}`;
}

/** The steps of a Kerberos logon, named in every error. */
export type KerberosStep = 'AS exchange' | 'TGS exchange' | 'AP exchange' | 'KDC connection';

/** A Kerberos failure: `KDC_ERR_PREAUTH_FAILED (24) in the AS exchange for alice@REALM: ...`. */
export class KerberosError extends AuthenticationError {
  readonly kerberosCode: number | undefined;
  readonly kerberosName: string | undefined;
  readonly step: KerberosStep;

  constructor(step: KerberosStep, message: string, code?: number, cause?: unknown) {
    const name = code === undefined ? undefined : kerberosErrorName(code);
    super(name === undefined ? `${message} (${step})` : `${name} (${code}) in the ${step}: ${message}`, cause === undefined ? {} : { cause });
    this.name = 'KerberosError';
    this.kerberosCode = code;
    this.kerberosName = name;
    this.step = step;
  }
}
