import { z } from 'zod';
import { Cipher, Dialect, dialectIndex, EncryptionMode, ShareSpec, SigningAlgorithm } from './schema.js';

/** Where a target's server runs: a spawned smbd, a Samba container, or a server someone else runs. */
export const PROVIDER_KINDS = ['native', 'container', 'remote'] as const;
export const ProviderKind = z.enum(PROVIDER_KINDS);
export type ProviderKind = z.infer<typeof ProviderKind>;

/**
 * Samba container images: one per Debian suite. The name carries the Samba version the suite
 * shipped when the table was written; sid follows Debian unstable, so an image built later may
 * hold a newer Samba (a started target's `serverVersion` always says which).
 */
export const SAMBA_IMAGES = {
  'samba-4.17': { suite: 'bookworm' },
  'samba-4.22': { suite: 'trixie' },
  'samba-4.25': { suite: 'sid' },
} as const satisfies Record<string, { suite: string }>;
export const SAMBA_IMAGE_NAMES = Object.keys(SAMBA_IMAGES) as Array<keyof typeof SAMBA_IMAGES>;
export const SambaImageName = z.enum(SAMBA_IMAGE_NAMES as [keyof typeof SAMBA_IMAGES, ...Array<keyof typeof SAMBA_IMAGES>]);
export type SambaImageName = z.infer<typeof SambaImageName>;

/** Provider choice, globally or for one profile. */
export const ProviderChoice = z
  .object({
    providers: z.array(ProviderKind).min(1).optional(),
    sambaImages: z.array(SambaImageName).min(1).optional(),
  })
  .strict();
export type ProviderChoice = z.infer<typeof ProviderChoice>;

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected the name of an environment variable');

/** What the administrator of a remote server says it negotiates with a client offering everything. */
export const RemoteDeclaration = z
  .object({
    dialects: z.object({ min: Dialect, max: Dialect }).strict(),
    /** Server or share policy: `required` refuses clients that cannot encrypt. */
    encryption: EncryptionMode,
    /** Cipher of an encrypted session; default AES-128-GCM for 3.1.1, AES-128-CCM for 3.0.x. */
    cipher: Cipher.optional(),
    signing: z.enum(['required', 'optional']),
    /** Default: HMAC-SHA256 for 2.x, AES-128-CMAC for 3.0.x, AES-128-GMAC for 3.1.1. */
    signingAlgorithm: SigningAlgorithm.optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (dialectIndex(d.dialects.min) > dialectIndex(d.dialects.max)) {
      ctx.addIssue({ code: 'custom', path: ['dialects'], message: `min ${d.dialects.min} is above max ${d.dialects.max}` });
    }
    if (d.encryption !== 'off' && dialectIndex(d.dialects.max) < dialectIndex('3.0')) {
      ctx.addIssue({ code: 'custom', path: ['encryption'], message: 'SMB encryption needs dialect 3.0 or newer' });
    }
  });
export type RemoteDeclaration = z.infer<typeof RemoteDeclaration>;

/** A remote server's realm: where a client gets Kerberos tickets for it (no DNS look-up). */
export const RemoteKerberos = z
  .object({
    /** Upper-case realm, e.g. CORP.EXAMPLE.COM; users log on as `<username>@<realm>`. */
    realm: z.string().regex(/^[A-Z0-9][A-Z0-9.-]*$/, 'expected the realm in upper case, e.g. CORP.EXAMPLE.COM'),
    /** The KDC (a domain controller): `host` or `host:port` (default port 88). */
    kdc: z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, 'expected host or host:port'),
    /** The server's name in its service principal cifs/<name>; default `host` (then a name, not an address). */
    serviceHost: z.string().regex(/^[A-Za-z0-9.-]+$/, 'expected a host name').optional(),
    /** Whether the server also accepts NTLM logons; default true. */
    ntlm: z.boolean().default(true),
  })
  .strict();
export type RemoteKerberos = z.infer<typeof RemoteKerberos>;

/**
 * A Windows Server or Azure Files share. Credentials are never written in the config: it names
 * the environment variables that hold them.
 */
export const RemoteTargetConfig = z
  .object({
    kind: z.enum(['windows', 'azure-files']),
    host: z.string().min(1).regex(/^[A-Za-z0-9.:[\]-]+$/, 'expected a host name or an IP address'),
    port: z.number().int().min(1).max(65535).default(445),
    share: ShareSpec.shape.name,
    domain: z.string().max(255).default(''),
    usernameEnv: envName,
    passwordEnv: envName,
    /** TCP connect probe before the target counts as started. */
    probeTimeoutMs: z.number().int().min(100).max(60_000).default(3000),
    /** The server is in a realm: clients that have Kerberos log on with it (negotiate). */
    kerberos: RemoteKerberos.optional(),
    declares: RemoteDeclaration,
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.kerberos !== undefined && t.kerberos.serviceHost === undefined && /^[\d.]+$|:/.test(t.host)) {
      ctx.addIssue({ code: 'custom', path: ['kerberos', 'serviceHost'], message: `host ${t.host} is an address: name the server for its service principal cifs/<name>` });
    }
  });
export type RemoteTargetConfig = z.infer<typeof RemoteTargetConfig>;

export const remoteTargetName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'expected lower-case letters, digits and dashes (at most 40)');

/** The parts of a user config that choose providers and name remote targets. */
export const TargetsConfig = z
  .object({
    providers: z.array(ProviderKind).min(1).optional(),
    sambaImages: z.array(SambaImageName).min(1).optional(),
    remoteTargets: z.record(remoteTargetName, RemoteTargetConfig).optional(),
  })
  .strict();
