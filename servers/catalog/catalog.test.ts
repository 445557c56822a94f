import { test, expect } from '@playwright/test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadCatalog, resolveClients, resolveProfiles, dialectsOf } from './index.js';

const NAMES = [
  'smb302-ccm', 'smb311-gcm', 'smb311-aes256', 'smb311-signing-gmac', 'smb300-signing-cmac',
  'smb21-signing-hmac', 'smb202-legacy', 'share-encryption', 'guest', 'windows-hardened',
  'ad-kerberos', 'ad-negotiate', 'smb311-gcm+wan',
];

function problemsOf(config: unknown): string[] {
  try {
    resolveProfiles(config, 'smb-interop.config.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

test('the built-in catalog holds the twelve profiles of the design and one impaired variant, each valid', () => {
  const profiles = resolveProfiles({});
  expect(profiles.map((p) => p.name)).toEqual(NAMES);
  const byName = Object.fromEntries(profiles.map((p) => [p.name, p]));
  expect(byName['smb302-ccm']!.expect).toMatchObject({ dialect: '3.0.2', cipher: 'AES-128-CCM', encryption: true, preauthIntegrity: false });
  expect(byName['smb311-gcm']!.encryption).toEqual({ mode: 'required', ciphers: ['AES-128-GCM'] });
  expect(byName['smb311-signing-gmac']!.signing).toEqual({ required: true, algorithms: ['AES-128-GMAC'] });
  expect(dialectsOf(byName['share-encryption']!)).toEqual(['2.0.2', '2.1', '3.0', '3.0.2', '3.1.1']);
  expect(byName['share-encryption']!.expect.encryptedShares).toEqual(['secure']);
  expect(byName['guest']!.shares.find((s) => s.guestOk)?.name).toBe('public');
  expect(byName['ad-kerberos']!.domain).toEqual({ realm: 'INTEROP.TEST', ntlm: false });
  expect(byName['ad-negotiate']!.domain).toEqual({ realm: 'INTEROP.TEST', ntlm: true });
  expect(profiles.filter((p) => p.expect.authMechanism === 'kerberos').map((p) => p.name)).toEqual(['ad-kerberos', 'ad-negotiate']);
  // The impaired variant is its base's server behind a slow link: the same settings, the link added.
  const { name: _a, description: _b, impairment, ...wan } = byName['smb311-gcm+wan']!;
  const { name: _c, description: _d, ...base } = byName['smb311-gcm']!;
  expect(wan).toEqual(base);
  expect(impairment).toEqual({ latencyMs: 10, bandwidthMbps: 100 });
  expect(profiles.filter((p) => p.impairment !== undefined).map((p) => p.name)).toEqual(['smb311-gcm+wan']);
});

test('an impaired variant: a name with "+" needs an impairment and an impairment needs such a name; its fields are checked', () => {
  expect(problemsOf({ profiles: { 'smb302-ccm+slow': { extends: 'smb302-ccm' } } })).toEqual([
    'profiles.smb302-ccm+slow.impairment: "smb302-ccm+slow" names an impaired variant: give it an impairment ({ latencyMs, bandwidthMbps, ... })',
  ]);
  expect(problemsOf({ profiles: { slow: { extends: 'smb302-ccm', impairment: { latencyMs: 50 } } } })).toEqual([
    'profiles.slow.name: an impaired variant\'s name ends in "+<variant>" (e.g. slow+wan)',
  ]);
  expect(problemsOf({ profiles: { 'smb302-ccm+flaky': { extends: 'smb302-ccm', impairment: { stallEveryKiB: 256 } } } })).toEqual([
    'profiles.smb302-ccm+flaky.impairment.stallMs: stallEveryKiB and stallMs go together',
  ]);
  const flaky = resolveProfiles({ profiles: { 'smb302-ccm+flaky': { extends: 'smb302-ccm', impairment: { stallEveryKiB: 256, stallMs: 200, resetAfterKiB: 4096 } } } });
  expect(flaky.find((p) => p.name === 'smb302-ccm+flaky')?.impairment).toEqual({ latencyMs: 0, stallEveryKiB: 256, stallMs: 200, resetAfterKiB: 4096 });
});

test('a domain profile is checked: Kerberos needs a realm, a DC has no guests, the realm is a DNS name', () => {
  expect(problemsOf({ profiles: { k: { extends: 'smb311-gcm', expect: { authMechanism: 'kerberos' } } } })).toEqual([
    'profiles.k.expect.authMechanism: Kerberos needs a domain: add domain: { realm, ntlm }',
  ]);
  expect(problemsOf({ profiles: { g: { extends: 'guest', domain: { ntlm: true }, signing: { required: true } } } })).toEqual([
    'profiles.g.guest: a domain profile has no guest access',
  ]);
  expect(problemsOf({ profiles: { r: { extends: 'ad-kerberos', domain: { realm: 'interop.test', ntlm: false } } } })[0]).toMatch(/^profiles\.r\.domain\.realm: expected an upper-case DNS name/);
});

test('a user config adds a profile that extends a built-in one, and overrides another', () => {
  const profiles = resolveProfiles({
    profiles: {
      'gcm-and-ccm': { extends: 'smb311-gcm', encryption: { ciphers: ['AES-128-GCM', 'AES-128-CCM'] }, description: 'both 128-bit ciphers' },
      'smb202-legacy': { signing: { required: true } },
    },
  });
  const added = profiles.find((p) => p.name === 'gcm-and-ccm')!;
  expect(added.encryption).toEqual({ mode: 'required', ciphers: ['AES-128-GCM', 'AES-128-CCM'] });
  expect(added.dialects).toEqual({ min: '3.1.1', max: '3.1.1' });
  const legacy = profiles.find((p) => p.name === 'smb202-legacy')!;
  expect(legacy.signing).toEqual({ required: true, algorithms: ['HMAC-SHA256'] });
  expect(profiles).toHaveLength(NAMES.length + 1);
});

test('a bad entry names the file, the field and what was expected', () => {
  const problems = problemsOf({ profiles: { fast: { extends: 'smb311-gcm', encryption: { ciphers: ['AES-512-GCM'] } } } });
  expect(problems).toHaveLength(1);
  expect(problems[0]).toMatch(/^profiles\.fast\.encryption\.ciphers\[0\]: .*"AES-128-CCM"/);
  expect(() => resolveProfiles({ profiles: { fast: { extends: 'nope' } } }, 'x.json')).toThrow(
    /x\.json: invalid configuration\n {2}profiles\.fast\.extends: unknown profile "nope" \(known: smb302-ccm/,
  );
});

test('semantic mistakes are caught: dialect range, expected dialect, shares, unknown keys', () => {
  expect(problemsOf({ profiles: { a: { extends: 'smb311-gcm', dialects: { min: '3.1.1', max: '2.1' } } } })).toEqual(
    expect.arrayContaining([expect.stringMatching(/^profiles\.a\.dialects: min 3\.1\.1 is above max 2\.1/)]),
  );
  expect(problemsOf({ profiles: { b: { extends: 'smb302-ccm', expect: { dialect: '3.1.1' } } } })).toEqual([
    'profiles.b.expect.dialect: 3.1.1 is outside the profile\'s dialect range 3.0..3.0.2',
  ]);
  expect(problemsOf({ profiles: { c: { extends: 'share-encryption', expect: { encryptedShares: ['nosuch'] } } } })[0]).toMatch(
    /^profiles\.c\.expect\.encryptedShares\[0\]: "nosuch" is not one of the profile's shares/,
  );
  expect(problemsOf({ profiles: { d: { extends: 'guest', sahres: [] } } })[0]).toMatch(/^profiles\.d: .*sahres/);
  expect(problemsOf({ profile: {} })[0]).toMatch(/^\(root\): .*profile/);
  expect(problemsOf({ profiles: { 'Bad Name': { extends: 'guest' } } })[0]).toMatch(/^profiles\.Bad Name\.name: expected lower-case/);
});

test('config files: JSON and TypeScript are found in the working directory; bad JSON is named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smb-interop-config-'));
  try {
    writeFileSync(join(dir, 'smb-interop.config.json'), JSON.stringify({ profiles: { mine: { extends: 'guest' } } }));
    const fromJson = await loadCatalog({ cwd: dir });
    expect(fromJson.configFile).toBe(join(dir, 'smb-interop.config.json'));
    expect(fromJson.profiles.map((p) => p.name)).toContain('mine');

    rmSync(join(dir, 'smb-interop.config.json'));
    writeFileSync(
      join(dir, 'smb-interop.config.ts'),
      `const ciphers: string[] = ['AES-256-CCM'];\nexport default { profiles: { ccm256: { extends: 'smb311-aes256', encryption: { ciphers }, expect: { cipher: 'AES-256-CCM' } } } };\n`,
    );
    const fromTs = await loadCatalog({ cwd: dir });
    expect(fromTs.profiles.find((p) => p.name === 'ccm256')?.expect.cipher).toBe('AES-256-CCM');

    writeFileSync(join(dir, 'broken.json'), '{ "profiles": ');
    await expect(loadCatalog({ cwd: dir, configFile: 'broken.json' })).rejects.toThrow(/broken\.json: invalid configuration\n {2}\(file\): not valid JSON/);
    await expect(loadCatalog({ cwd: dir, configFile: 'missing.json' })).rejects.toThrow(/missing\.json: invalid configuration\n {2}\(file\): does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('clients: command and module entries are read with their config directory; mistakes name the file and the field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smb-interop-config-'));
  try {
    writeFileSync(
      join(dir, 'smb-interop.config.ts'),
      `export default { clients: { 'my-client': { command: ['./bin/driver', '--verbose'], env: { RUST_LOG: 'debug' }, timeoutMs: 5000 }, 'my-ts-client': { module: './adapter.js' } } };\n`,
    );
    const catalog = await loadCatalog({ cwd: dir });
    expect(catalog.clients).toEqual([
      { name: 'my-client', command: ['./bin/driver', '--verbose'], env: { RUST_LOG: 'debug' }, timeoutMs: 5000, baseDir: dir, origin: `clients.my-client in ${join(dir, 'smb-interop.config.ts')}` },
      { name: 'my-ts-client', module: './adapter.js', baseDir: dir, origin: `clients.my-ts-client in ${join(dir, 'smb-interop.config.ts')}` },
    ]);
    expect((await loadCatalog({ cwd: tmpdir(), configFile: join(dir, 'smb-interop.config.ts') })).clients?.[0]?.baseDir, 'relative paths start at the config file').toBe(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const problems = (clients: unknown): string[] => {
    try {
      resolveClients({ clients }, 'smb-interop.config.json');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toMatch(/^smb-interop\.config\.json: invalid configuration\n/);
      return (e as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  };
  expect(problems({ mine: { command: [] } })).toEqual(['clients.mine.command: expected the program and its arguments']);
  expect(problems({ mine: { command: ['x'], timeoutMs: -1 } })).toEqual(['clients.mine.timeoutMs: Too small: expected number to be >0']);
  expect(problems({ mine: { command: ['x'], retries: 3 } })).toEqual(['clients.mine: Unrecognized key: "retries"']);
  expect(problems({ mine: { command: ['x'], module: './m.js' } })).toEqual(['clients.mine: expected either { command: [program, ...args], env?, timeoutMs? } or { module: "path" }']);
  expect(problems({ 'My Client': { module: './m.js' } })).toEqual(['clients.My Client: the name must be lower-case letters, digits, ".", "_" and "-" (at most 40)']);
  expect(problems(['go-smb2'])).toEqual(['clients: expected an object keyed by client name']);
  expect(resolveClients({}, 'x.json')).toEqual([]);
  // The other parts of a config do not mistake `clients` for theirs.
  expect(() => resolveProfiles({ clients: { mine: { command: ['x'] } } }, 'x.json')).not.toThrow();
});
