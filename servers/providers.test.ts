import { test, expect } from '@playwright/test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadCatalog, resolveProfiles, resolveTargets, type Catalog } from './catalog/index.js';
import { providersFromEnv, targetSpecs } from './providers.js';
import { remoteProfile } from './remote/remote-target.js';
import { sambaImageTag } from './samba/container-images.js';

const remoteEntry = {
  kind: 'azure-files',
  host: 'example.file.core.windows.net',
  share: 'interop',
  usernameEnv: 'AZ_USER',
  passwordEnv: 'AZ_KEY',
  declares: { dialects: { min: '3.0', max: '3.1.1' }, encryption: 'required', signing: 'required' },
};

function catalogOf(config: Record<string, unknown>): Catalog {
  return { profiles: resolveProfiles(config), ...resolveTargets(config, 'smb-interop.config.json'), configFile: undefined };
}

function problemsOf(config: unknown): string[] {
  try {
    resolveTargets(config, 'smb-interop.config.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).message).toContain('smb-interop.config.json: invalid configuration');
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

test('SMB_INTEROP_PROVIDER: one provider, all, a comma list, unset; anything else names the variable', () => {
  expect(providersFromEnv('native')).toEqual(['native']);
  expect(providersFromEnv('container')).toEqual(['container']);
  expect(providersFromEnv('all')).toEqual(['native', 'container', 'remote']);
  expect(providersFromEnv(' Native, container ')).toEqual(['native', 'container']);
  expect(providersFromEnv('')).toBeUndefined();
  expect(providersFromEnv(undefined)).toBeUndefined();
  expect(() => providersFromEnv('docker')).toThrow('SMB_INTEROP_PROVIDER=docker: unknown provider "docker"; expected native, container, remote, all or a comma list');
});

test('without a choice only native targets are listed; container targets are one per profile and Samba image', () => {
  const catalog = catalogOf({});
  expect(targetSpecs(catalog).map((s) => s.name).slice(0, 2)).toEqual(['smb302-ccm@native', 'smb311-gcm@native']);
  expect(targetSpecs(catalog)).toHaveLength(13);
  expect(targetSpecs(catalog).at(-1)?.name).toBe('smb311-gcm+wan@native');
  const both = targetSpecs(catalog, { providers: ['native', 'container'] });
  // Twelve profiles on four providers; the impaired variant on the native one only.
  expect(both).toHaveLength(49);
  expect(both.filter((s) => s.profile.impairment !== undefined).map((s) => s.name)).toEqual(['smb311-gcm+wan@native']);
  expect(both.filter((s) => s.profile.domain !== undefined && s.provider === 'container').map((s) => s.name)).toEqual([
    'ad-kerberos@samba-4.17', 'ad-kerberos@samba-4.22', 'ad-kerberos@samba-4.25', 'ad-negotiate@samba-4.17', 'ad-negotiate@samba-4.22', 'ad-negotiate@samba-4.25',
  ]);
  expect(both.slice(0, 4).map((s) => [s.name, s.provider, s.image ?? null])).toEqual([
    ['smb302-ccm@native', 'native', null],
    ['smb302-ccm@samba-4.17', 'container', 'samba-4.17'],
    ['smb302-ccm@samba-4.22', 'container', 'samba-4.22'],
    ['smb302-ccm@samba-4.25', 'container', 'samba-4.25'],
  ]);
  const one = targetSpecs(catalog, { providers: ['container'], sambaImages: ['samba-4.22'] });
  expect(one.map((s) => s.name)).toContain('guest@samba-4.22');
  expect(one).toHaveLength(12);
});

test('the config chooses providers and images globally and per profile; the environment overrides the global choice', () => {
  const catalog = catalogOf({
    providers: ['container'],
    sambaImages: ['samba-4.25'],
    profiles: {
      'smb202-legacy': { providers: ['native'] },
      'smb311-gcm': { providers: ['native', 'container'], sambaImages: ['samba-4.17', 'samba-4.22'] },
    },
  });
  const names = targetSpecs(catalog).map((s) => s.name);
  expect(names).toContain('smb302-ccm@samba-4.25');
  expect(names).not.toContain('smb302-ccm@native');
  expect(names).toContain('smb202-legacy@native');
  expect(names).not.toContain('smb202-legacy@samba-4.25');
  expect(names.filter((n) => n.startsWith('smb311-gcm@'))).toEqual(['smb311-gcm@native', 'smb311-gcm@samba-4.17', 'smb311-gcm@samba-4.22']);
  // SMB_INTEROP_PROVIDER=native: a profile's own list is narrowed, never widened.
  const nativeOnly = targetSpecs(catalog, { providers: ['native'] }).map((s) => s.name);
  expect(nativeOnly).toHaveLength(13);
  expect(nativeOnly.every((n) => n.endsWith('@native'))).toBe(true);
});

test('a remote target is listed with its status: not configured while its variables are unset, never showing their values', () => {
  const catalog = catalogOf({ remoteTargets: { 'azure-eu': remoteEntry } });
  const unset = targetSpecs(catalog, { env: {} }).filter((s) => s.provider === 'remote');
  expect(unset.map((s) => [s.name, s.status])).toEqual([[
    'azure-eu@azure-files',
    { state: 'not-configured', reason: 'environment variables AZ_USER (remoteTargets.azure-eu.usernameEnv) and AZ_KEY (remoteTargets.azure-eu.passwordEnv) not set' },
  ]]);
  const half = targetSpecs(catalog, { env: { AZ_USER: 'storageacct' } }).find((s) => s.provider === 'remote');
  expect(half?.status).toEqual({ state: 'not-configured', reason: 'environment variable AZ_KEY (remoteTargets.azure-eu.passwordEnv) not set' });
  const ready = targetSpecs(catalog, { env: { AZ_USER: 'storageacct', AZ_KEY: 'k3y-secret' } }).find((s) => s.provider === 'remote');
  expect(ready?.status).toEqual({ state: 'ready' });
  expect(JSON.stringify(ready)).not.toContain('k3y-secret');
  expect(targetSpecs(catalog, { providers: ['native'], env: {} }).some((s) => s.provider === 'remote')).toBe(false);
});

test('a remote declaration becomes the profile a client offering everything should observe', () => {
  const [azure] = resolveTargets({ remoteTargets: { 'azure-eu': remoteEntry } }).remoteTargets;
  const profile = remoteProfile(azure!);
  expect(profile.name).toBe('azure-eu');
  expect(profile.shares.map((s) => s.name)).toEqual(['interop']);
  expect(profile.expect).toEqual({
    dialect: '3.1.1', cipher: 'AES-128-GCM', signingAlgorithm: 'AES-128-GMAC', preauthIntegrity: true,
    encryption: true, signing: true, encryptedShares: [], authMechanism: 'ntlm',
  });
  expect(azure!.port).toBe(445);
  expect(azure!.probeTimeoutMs).toBe(3000);
  const [win] = resolveTargets({
    remoteTargets: {
      win2022: {
        ...remoteEntry, kind: 'windows', port: 10445,
        declares: { dialects: { min: '2.1', max: '3.0.2' }, encryption: 'off', signing: 'optional' },
      },
    },
  }).remoteTargets;
  expect(remoteProfile(win!).expect).toEqual({
    dialect: '3.0.2', cipher: null, signingAlgorithm: null, preauthIntegrity: false, encryption: false, signing: false, encryptedShares: [], authMechanism: 'ntlm',
  });
});

test('bad provider and remote settings are refused, naming the file and the field', () => {
  expect(problemsOf({ providers: ['docker'] })).toEqual([
    'providers[0]: Invalid option: expected one of "native"|"container"|"remote"',
  ]);
  expect(problemsOf({ sambaImages: ['samba-3.6'] })).toEqual([
    'sambaImages[0]: Invalid option: expected one of "samba-4.17"|"samba-4.22"|"samba-4.25"',
  ]);
  expect(problemsOf({ profiles: { 'smb311-gcm': { providers: [] } } })).toEqual([
    'profiles.smb311-gcm.providers: Too small: expected array to have >=1 items',
  ]);
  expect(problemsOf({ remoteTargets: { 'azure-eu': { ...remoteEntry, port: 70000 } } })).toEqual([
    'remoteTargets.azure-eu.port: Too big: expected number to be <=65535',
  ]);
  expect(problemsOf({ remoteTargets: { 'azure-eu': { ...remoteEntry, password: 'inline' } } })).toEqual([
    'remoteTargets.azure-eu: Unrecognized key: "password"',
  ]);
  expect(problemsOf({ remoteTargets: { w: { ...remoteEntry, usernameEnv: 'bad name', declares: { ...remoteEntry.declares, dialects: { min: '2.1', max: '2.1' } } } } })).toEqual([
    'remoteTargets.w.usernameEnv: expected the name of an environment variable',
    'remoteTargets.w.declares.encryption: SMB encryption needs dialect 3.0 or newer',
  ]);
});

test('a config file with a bad remote port fails loading with the file name and the field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smb-interop-providers-test-'));
  try {
    const file = join(dir, 'smb-interop.config.json');
    writeFileSync(file, JSON.stringify({ remoteTargets: { 'win-lab': { ...remoteEntry, kind: 'windows', port: 'smb' } } }));
    const error = await loadCatalog({ configFile: file }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(`${file}: invalid configuration\n  remoteTargets.win-lab.port: Invalid input: expected number, received string`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a Samba image tag is a hash of the build context and the suite: stable, and different per suite and per Dockerfile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smb-interop-image-test-'));
  try {
    writeFileSync(join(dir, 'Dockerfile'), 'FROM debian:bookworm-slim\n');
    const first = sambaImageTag('samba-4.17', dir);
    expect(first).toMatch(/^smb-interop\/samba:bookworm-[0-9a-f]{12}$/);
    expect(sambaImageTag('samba-4.17', dir)).toBe(first);
    expect(sambaImageTag('samba-4.22', dir)).toMatch(/^smb-interop\/samba:trixie-[0-9a-f]{12}$/);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM debian:bookworm-slim\nRUN true\n');
    expect(sambaImageTag('samba-4.17', dir)).not.toBe(first);
    // The AD DC's image has a repository of its own: building one never replaces the other.
    expect(sambaImageTag('samba-4.25', dir, 'samba-ad-dc')).toMatch(/^smb-interop\/samba-ad-dc:sid-[0-9a-f]{12}$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
