import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveProfiles, type Profile } from '../catalog/index.js';
import { renderSmbConf } from './smb-conf.js';

// Domain profiles render the DC's smb.conf (ad-dc.test.ts).
const profiles = resolveProfiles({}).filter((p) => p.domain === undefined);
const byName = (n: string): Profile => profiles.find((p) => p.name === n)!;

function render(profile: Profile, root = '/srv/t'): string {
  const sharePaths = Object.fromEntries(profile.shares.map((s) => [s.name, `${root}/shares/${s.name}`]));
  return renderSmbConf(profile, { port: 44500, host: '127.0.0.1', root, sharePaths, guestAccount: 'nobody', logLevel: 2 });
}

/** Renders into a real directory tree (testparm checks it) and returns testparm's canonical dump by section. */
function testparm(profile: Profile): Record<string, Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'smb-interop-testparm-'));
  try {
    for (const sub of ['private', 'lock', 'state', 'cache', 'pid', 'ncalrpc', 'usershares']) mkdirSync(join(dir, sub));
    const file = join(dir, 'smb.conf');
    writeFileSync(file, render(profile, dir));
    const r = spawnSync('testparm', ['-s', '-v', file], { encoding: 'utf8' });
    r.stdout = r.stdout.replaceAll(dir, '/srv/t');
    expect(r.status, `testparm rejected the config:\n${r.stderr}`).toBe(0);
    expect(r.stderr).not.toMatch(/Unknown parameter|Ignoring unknown|ERROR/i);
    const sections: Record<string, Record<string, string>> = {};
    let current: Record<string, string> = {};
    for (const line of r.stdout.split('\n')) {
      const header = /^\[(.+)\]$/.exec(line.trim());
      if (header) sections[header[1]!] = current = {};
      const kv = /^\s*([^=]+?)\s*=\s*(.*)$/.exec(line);
      if (kv) current[kv[1]!] = kv[2]!;
    }
    return sections;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const profile of profiles) {
  test(`${profile.name}: rendered smb.conf passes testparm and says what the profile declares`, () => {
    const parsed = testparm(profile);
    const g = parsed.global!;
    expect(g['smb ports']).toBe('44500');
    expect(g['interfaces']).toBe('127.0.0.1');
    expect(g['bind interfaces only']).toBe('Yes');
    expect(g['private dir']).toBe('/srv/t/private');
    expect(g['passdb backend']).toBe('tdbsam:/srv/t/private/passdb.tdb');
    for (const share of profile.shares) expect(parsed[share.name]?.['path']).toBe(`/srv/t/shares/${share.name}`);
  });
}

test('security-relevant lines: dialects, signing, encryption and algorithms', () => {
  const ccm = testparm(byName('smb302-ccm')).global!;
  expect([ccm['server min protocol'], ccm['server max protocol']]).toEqual(['SMB3_00', 'SMB3_02']);
  expect(ccm['server smb encrypt']).toBe('required');
  expect(ccm['server smb3 encryption algorithms']).toBe('aes-128-ccm');

  const gmac = testparm(byName('smb311-signing-gmac')).global!;
  expect(gmac['server signing']).toBe('required'); // testparm's canonical spelling of mandatory
  expect(gmac['server smb3 signing algorithms']).toBe('aes-128-gmac');
  expect(gmac['server smb encrypt']).toBe('No'); // testparm's canonical spelling of off
  // testparm prints SMB3_11 by its alias SMB3.
  expect([gmac['server min protocol'], gmac['server max protocol']]).toEqual(['SMB3', 'SMB3']);

  const aes256 = testparm(byName('smb311-aes256')).global!;
  expect(aes256['server smb3 encryption algorithms']).toBe('aes-256-gcm, aes-256-ccm');

  const hmac = testparm(byName('smb21-signing-hmac')).global!;
  expect([hmac['server min protocol'], hmac['server max protocol'], hmac['server signing']]).toEqual(['SMB2', 'SMB2', 'required']); // SMB2: testparm's alias of SMB2_10

  const legacy = testparm(byName('smb202-legacy')).global!;
  expect([legacy['server max protocol'], legacy['server signing']]).toEqual(['SMB2_02', 'if_required']); // offered, not required
});

test('per-share encryption, guest mapping and hardening', () => {
  const shareEnc = testparm(byName('share-encryption'));
  expect(shareEnc.global!['server smb encrypt']).toBe('if_required');
  expect(shareEnc.secure!['server smb encrypt']).toBe('required');
  expect(shareEnc.plain!['server smb encrypt']).toBeUndefined(); // inherits the global policy

  const guest = testparm(byName('guest'));
  expect(guest.global!['map to guest']).toBe('Bad User');
  expect(guest.public!['guest ok']).toBe('Yes');
  expect(guest.private!['guest ok']).toBeUndefined(); // the default, No

  const hardened = testparm(byName('windows-hardened')).global!;
  expect(hardened['map to guest']).toBe('Never');
  expect(hardened['ntlm auth']).toBe('ntlmv2-only');
  expect(hardened['restrict anonymous']).toBe('2');
  expect(hardened['server smb encrypt']).toBe('desired');
  expect(hardened['server signing']).toBe('required');
});

test('session keys are never logged unless asked for', () => {
  expect(render(byName('smb311-gcm'))).not.toMatch(/debug encryption/);
});
