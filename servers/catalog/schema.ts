import { z } from 'zod';

/** SMB2 dialects by their usual names, lowest first. */
export const DIALECTS = ['2.0.2', '2.1', '3.0', '3.0.2', '3.1.1'] as const;
export const Dialect = z.enum(DIALECTS);
export type Dialect = z.infer<typeof Dialect>;

/** Samba's names for the dialects: smb.conf `server min/max protocol`, `smbclient -m`, smbstatus. */
export const SAMBA_PROTOCOL_NAMES: Readonly<Record<Dialect, string>> = {
  '2.0.2': 'SMB2_02',
  '2.1': 'SMB2_10',
  '3.0': 'SMB3_00',
  '3.0.2': 'SMB3_02',
  '3.1.1': 'SMB3_11',
};

export const CIPHERS = ['AES-128-CCM', 'AES-128-GCM', 'AES-256-CCM', 'AES-256-GCM'] as const;
export const Cipher = z.enum(CIPHERS);
export type Cipher = z.infer<typeof Cipher>;

export const SIGNING_ALGORITHMS = ['HMAC-SHA256', 'AES-128-CMAC', 'AES-128-GMAC'] as const;
export const SigningAlgorithm = z.enum(SIGNING_ALGORITHMS);
export type SigningAlgorithm = z.infer<typeof SigningAlgorithm>;

/**
 * Encryption policy, as a server administrator states it:
 * off: never; optional: if the client asks (Samba "if_required");
 * desired: encrypt when the client can; required: refuse clients that cannot.
 */
export const EncryptionMode = z.enum(['off', 'optional', 'desired', 'required']);
export type EncryptionMode = z.infer<typeof EncryptionMode>;

const name = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,39}(\+[a-z0-9][a-z0-9-]{0,19})?$/,
    'expected lower-case letters, digits and dashes (at most 40), and for an impaired variant "+" and its name (smb311-gcm+wan)',
  );

/**
 * The link between the client and the server, as the harness's capture proxy plays it for an
 * impaired variant of a profile (`smb311-gcm+wan`): the same server, reached over a slow or
 * flaky network. Each direction is shaped on its own.
 */
export const Impairment = z
  .object({
    /** One-way delay added to every byte, milliseconds (a round trip costs twice this). */
    latencyMs: z.number().int().min(0).max(5000).default(0),
    /** Each direction's bandwidth cap, megabits per second. */
    bandwidthMbps: z.number().positive().max(100_000).optional(),
    /** A stall of `stallMs` after every this many KiB in a direction (a congested or lossy path). */
    stallEveryKiB: z.number().int().positive().optional(),
    stallMs: z.number().int().min(1).max(60_000).optional(),
    /** The connection is reset once this many KiB have crossed it (both directions). */
    resetAfterKiB: z.number().int().positive().optional(),
  })
  .strict()
  .superRefine((impairment, ctx) => {
    if ((impairment.stallEveryKiB === undefined) !== (impairment.stallMs === undefined)) {
      ctx.addIssue({ code: 'custom', path: [impairment.stallMs === undefined ? 'stallMs' : 'stallEveryKiB'], message: 'stallEveryKiB and stallMs go together' });
    }
  });
export type Impairment = z.infer<typeof Impairment>;

/** `10 ms each way, 100 Mbit/s, ...`: an impairment in a few words, for reports. */
export function describeImpairment(impairment: Impairment): string {
  const parts: string[] = [];
  if (impairment.latencyMs > 0) parts.push(`${impairment.latencyMs} ms each way`);
  if (impairment.bandwidthMbps !== undefined) parts.push(`${impairment.bandwidthMbps} Mbit/s`);
  if (impairment.stallEveryKiB !== undefined) parts.push(`a ${impairment.stallMs} ms stall every ${impairment.stallEveryKiB} KiB`);
  if (impairment.resetAfterKiB !== undefined) parts.push(`reset after ${impairment.resetAfterKiB} KiB`);
  return parts.join(', ') || 'no impairment';
}
const shareName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/, 'expected letters, digits, "_" and "-" (at most 32)');

export const ShareSpec = z
  .object({
    name: shareName,
    comment: z.string().max(200).optional(),
    /** Per-share encryption, decided at TREE_CONNECT. Absent: the server-wide policy applies. */
    encryption: EncryptionMode.optional(),
    guestOk: z.boolean().default(false),
    readOnly: z.boolean().default(false),
  })
  .strict();
export type ShareSpec = z.infer<typeof ShareSpec>;

export const UserSpec = z
  .object({
    /** Logical name used by scenarios; the provider maps it to a real account it creates. */
    name: z.string().regex(/^[a-z][a-z0-9]{0,15}$/, 'expected a lower-case name of at most 16 characters'),
  })
  .strict();
export type UserSpec = z.infer<typeof UserSpec>;

/** Logon mechanisms a server may accept (MS-SPNG: NTLMSSP or Kerberos inside SPNEGO). */
export const AUTH_MECHANISMS = ['ntlm', 'kerberos'] as const;
export const AuthMechanism = z.enum(AUTH_MECHANISMS);
export type AuthMechanism = z.infer<typeof AuthMechanism>;

/**
 * A profile served by a Samba Active Directory domain controller of its own realm: the users are
 * domain accounts, and a client can log on with Kerberos (tickets from the DC's KDC for
 * cifs/dc1.<realm>) and, where `ntlm` allows it, with NTLM.
 */
export const DomainSpec = z
  .object({
    /** Upper-case DNS name; its first label (at most 15 characters) is the NetBIOS domain. */
    realm: z
      .string()
      .regex(/^[A-Z][A-Z0-9-]{0,14}(\.[A-Z0-9-]+)+$/, 'expected an upper-case DNS name like INTEROP.TEST (first label at most 15 characters)')
      .default('INTEROP.TEST'),
    /** Whether the server accepts NTLM logons too (false: `ntlm auth = disabled`, Kerberos only). */
    ntlm: z.boolean(),
  })
  .strict();
export type DomainSpec = z.infer<typeof DomainSpec>;

/** What a client offering every dialect, cipher and signing algorithm should end up with. */
export const Expectation = z
  .object({
    dialect: Dialect,
    /** Cipher of the session, or null when the session is not encrypted. */
    cipher: Cipher.nullable(),
    /** Signing algorithm in force for the session (null: no signing). */
    signingAlgorithm: SigningAlgorithm.nullable(),
    /** Whether SMB 3.1.1 preauth integrity (SHA-512) is in force. */
    preauthIntegrity: z.boolean(),
    /** Whether the authenticated (non-guest) session encrypts. */
    encryption: z.boolean(),
    /** Whether the authenticated session signs every message (implied by encryption). */
    signing: z.boolean(),
    /** Shares whose tree connect must turn encryption on even when the session does not. */
    encryptedShares: z.array(shareName).default([]),
    /** The logon mechanism of a client that offers Kerberos and NTLM (one that offers only NTLM uses NTLM where the server accepts it). */
    authMechanism: AuthMechanism.default('ntlm'),
  })
  .strict();
export type Expectation = z.infer<typeof Expectation>;

export const Profile = z
  .object({
    name,
    description: z.string().min(1),
    dialects: z.object({ min: Dialect, max: Dialect }).strict(),
    signing: z
      .object({
        required: z.boolean(),
        /** Server preference order (SMB 3.1.1 signing capabilities). */
        algorithms: z.array(SigningAlgorithm).min(1),
      })
      .strict(),
    encryption: z
      .object({
        mode: EncryptionMode,
        /** Server preference order (SMB 3.1.1 encryption capabilities; 3.0.x always uses AES-128-CCM). */
        ciphers: z.array(Cipher).min(1),
      })
      .strict(),
    guest: z.object({ enabled: z.boolean() }).strict(),
    /** NTLMv1 and LM refused, anonymous enumeration restricted. */
    hardened: z.boolean().default(false),
    /** In a Kerberos realm. Native provider: served by a Samba AD domain controller; remote: a server in that realm. Absent: local accounts, NTLM. */
    domain: DomainSpec.optional(),
    shares: z.array(ShareSpec).min(1),
    users: z.array(UserSpec).min(1),
    expect: Expectation,
    /** An impaired variant: the link the harness plays between client and server. Its name ends in `+<variant>`. */
    impairment: Impairment.optional(),
  })
  .strict()
  .superRefine((profile, ctx) => {
    if (profile.name.includes('+') !== (profile.impairment !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: profile.impairment === undefined ? ['impairment'] : ['name'],
        message: profile.impairment === undefined
          ? `"${profile.name}" names an impaired variant: give it an impairment ({ latencyMs, bandwidthMbps, ... })`
          : `an impaired variant's name ends in "+<variant>" (e.g. ${profile.name}+wan)`,
      });
    }
    const lo = DIALECTS.indexOf(profile.dialects.min);
    const hi = DIALECTS.indexOf(profile.dialects.max);
    if (lo > hi) {
      ctx.addIssue({
        code: 'custom',
        path: ['dialects'],
        message: `min ${profile.dialects.min} is above max ${profile.dialects.max}`,
      });
    }
    const expected = DIALECTS.indexOf(profile.expect.dialect);
    if (expected < lo || expected > hi) {
      ctx.addIssue({
        code: 'custom',
        path: ['expect', 'dialect'],
        message: `${profile.expect.dialect} is outside the profile's dialect range ${profile.dialects.min}..${profile.dialects.max}`,
      });
    }
    const shareNames = profile.shares.map((s) => s.name.toLowerCase());
    shareNames.forEach((n, i) => {
      if (shareNames.indexOf(n) !== i) {
        ctx.addIssue({ code: 'custom', path: ['shares', i, 'name'], message: `duplicate share name "${n}"` });
      }
      if (n === 'ipc$') {
        ctx.addIssue({ code: 'custom', path: ['shares', i, 'name'], message: 'IPC$ is built in' });
      }
    });
    profile.expect.encryptedShares.forEach((s, i) => {
      if (!shareNames.includes(s.toLowerCase())) {
        ctx.addIssue({
          code: 'custom',
          path: ['expect', 'encryptedShares', i],
          message: `"${s}" is not one of the profile's shares (${shareNames.join(', ')})`,
        });
      }
    });
    const userNames = profile.users.map((u) => u.name);
    userNames.forEach((n, i) => {
      if (userNames.indexOf(n) !== i) {
        ctx.addIssue({ code: 'custom', path: ['users', i, 'name'], message: `duplicate user "${n}"` });
      }
    });
    if (profile.expect.cipher !== null && !profile.encryption.ciphers.includes(profile.expect.cipher)) {
      ctx.addIssue({
        code: 'custom',
        path: ['expect', 'cipher'],
        message: `${profile.expect.cipher} is not among encryption.ciphers`,
      });
    }
    if (profile.expect.authMechanism === 'kerberos' && profile.domain === undefined) {
      ctx.addIssue({ code: 'custom', path: ['expect', 'authMechanism'], message: 'Kerberos needs a domain: add domain: { realm, ntlm }' });
    }
    if (profile.domain !== undefined && profile.guest.enabled) {
      ctx.addIssue({ code: 'custom', path: ['guest'], message: 'a domain profile has no guest access' });
    }
    if (profile.guest.enabled && !profile.shares.some((s) => s.guestOk)) {
      ctx.addIssue({ code: 'custom', path: ['guest'], message: 'guest is enabled but no share has guestOk' });
    }
  });
export type Profile = z.infer<typeof Profile>;
export type ProfileInput = z.input<typeof Profile>;

export function dialectIndex(d: Dialect): number {
  return DIALECTS.indexOf(d);
}

/** Dialects a profile allows, lowest first. */
export function dialectsOf(profile: Pick<Profile, 'dialects'>): Dialect[] {
  return DIALECTS.slice(dialectIndex(profile.dialects.min), dialectIndex(profile.dialects.max) + 1);
}
