/**
 * Remote targets: a Windows Server or Azure Files share that someone else runs. The harness
 * starts nothing; "starting" one resolves its credentials from the environment variables its
 * config names and checks that its port answers. There is no server log and no server-side view
 * of the share: `localPath` is absent, `log()` is empty, and checks of what reached the server
 * read it back through the reference client (smbclient) instead.
 */
import { Profile, type Dialect, type SigningAlgorithm, type Cipher } from '../catalog/schema.js';
import type { RemoteDeclaration, RemoteTargetConfig } from '../catalog/targets.js';
import { TargetNotConfiguredError, TargetStartError } from '../errors.js';
import { tcpProbe } from '../ports.js';
import { findShare, findUser, startedShares } from '../target-common.js';
import type { StartedShare, StartedTarget, TargetKerberos, TargetUser } from '../target.js';

export type NamedRemoteTarget = RemoteTargetConfig & { name: string };

export type RemoteStatus =
  | { state: 'ready' }
  | { state: 'not-configured'; reason: string };

const KIND_LABEL = { windows: 'Windows Server', 'azure-files': 'Azure Files' } as const;

export function remoteTargetName(target: NamedRemoteTarget): string {
  return `${target.name}@${target.kind}`;
}

function defaultSigningAlgorithm(dialect: Dialect): SigningAlgorithm {
  if (dialect === '3.1.1') return 'AES-128-GMAC';
  return dialect === '3.0' || dialect === '3.0.2' ? 'AES-128-CMAC' : 'HMAC-SHA256';
}

function defaultCipher(dialect: Dialect): Cipher {
  return dialect === '3.1.1' ? 'AES-128-GCM' : 'AES-128-CCM';
}

/** The profile a remote target's declaration amounts to: what a client offering everything should see. */
export function remoteProfile(target: NamedRemoteTarget): Profile {
  const d: RemoteDeclaration = target.declares;
  const dialect = d.dialects.max;
  const encrypts = d.encryption === 'required' || d.encryption === 'desired';
  const cipher = d.cipher ?? defaultCipher(dialect);
  const signingAlgorithm = d.signingAlgorithm ?? defaultSigningAlgorithm(dialect);
  const signs = d.signing === 'required' || encrypts;
  return Profile.parse({
    name: target.name,
    description: `${KIND_LABEL[target.kind]} share ${target.share} on ${target.host}:${target.port} (as declared in the config)`,
    dialects: d.dialects,
    signing: { required: d.signing === 'required', algorithms: [signingAlgorithm] },
    encryption: { mode: d.encryption, ciphers: [cipher] },
    guest: { enabled: false },
    ...(target.kerberos === undefined ? {} : { domain: { realm: target.kerberos.realm, ntlm: target.kerberos.ntlm } }),
    shares: [{ name: target.share }],
    users: [{ name: 'user' }],
    expect: {
      ...(target.kerberos === undefined ? {} : { authMechanism: 'kerberos' }),
      dialect,
      cipher: encrypts ? cipher : null,
      signingAlgorithm: signs ? signingAlgorithm : null,
      preauthIntegrity: dialect === '3.1.1',
      encryption: encrypts,
      signing: signs,
    },
  });
}

/** Whether the environment holds the credentials the config points at; never reveals their values. */
export function remoteStatus(target: NamedRemoteTarget, env: NodeJS.ProcessEnv = process.env): RemoteStatus {
  const missing = (['usernameEnv', 'passwordEnv'] as const)
    .filter((field) => !env[target[field]])
    .map((field) => `${target[field]} (remoteTargets.${target.name}.${field})`);
  if (missing.length === 0) return { state: 'ready' };
  const plural = missing.length > 1 ? 'environment variables' : 'environment variable';
  return { state: 'not-configured', reason: `${plural} ${missing.join(' and ')} not set` };
}

/** Resolves the credentials and probes the port; throws TargetNotConfiguredError or TargetStartError (unreachable). */
export async function startRemoteTarget(target: NamedRemoteTarget, env: NodeJS.ProcessEnv = process.env): Promise<StartedRemoteTarget> {
  const name = remoteTargetName(target);
  const status = remoteStatus(target, env);
  if (status.state === 'not-configured') throw new TargetNotConfiguredError(name, status.reason);
  const probe = await tcpProbe(target.host, target.port, target.probeTimeoutMs);
  if (!probe.ok) throw new TargetStartError(name, `${target.host}:${target.port} is unreachable (${probe.reason})`);
  const user: TargetUser = {
    name: 'user',
    username: env[target.usernameEnv] ?? '',
    password: env[target.passwordEnv] ?? '',
    domain: target.domain,
  };
  return new StartedRemoteTarget(name, target, remoteProfile(target), user);
}

export class StartedRemoteTarget implements StartedTarget {
  readonly provider = 'remote' as const;
  readonly host: string;
  readonly port: number;
  readonly serverVersion: string;
  readonly shares: StartedShare[];
  readonly users: TargetUser[];
  readonly kerberos?: TargetKerberos;

  constructor(readonly name: string, readonly config: NamedRemoteTarget, readonly profile: Profile, user: TargetUser) {
    this.host = config.host;
    const realm = config.kerberos;
    if (realm !== undefined) {
      const kdc = /:\d+$/.test(realm.kdc) ? realm.kdc : `${realm.kdc}:88`;
      this.kerberos = { realm: realm.realm, kdc, serviceHost: realm.serviceHost ?? config.host, ntlm: realm.ntlm };
    }
    this.port = config.port;
    // The version is only known once a session is up (and Azure Files does not say): name the kind.
    this.serverVersion = KIND_LABEL[config.kind];
    this.shares = startedShares(profile, config.host);
    this.users = [user];
  }

  share(name: string): StartedShare {
    return findShare(this, name);
  }

  user(name?: string): TargetUser {
    return findUser(this, name);
  }

  /** Always '': a remote server keeps its log to itself (Windows: the SMBServer event channels). */
  log(): string {
    return '';
  }

  /** Always '' (see log()). */
  logSince(_since: Date): string {
    return '';
  }

  /** Nothing was started here, so nothing is stopped. */
  async stop(): Promise<void> {}

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
