import { test, expect } from '@playwright/test';
import { renderDcConf, unprefixedLines } from './ad-dc.js';
import { resolveProfiles } from '../catalog/index.js';
import { ServerLog } from './server-log.js';

test("smbd's lines through samba lose their daemon prefix, so its key dump is read and kept out of the log text", () => {
  const log = new ServerLog();
  const feed = unprefixedLines((line) => log.push(`${line}\n`));
  const lines = [
    '/usr/sbin/smbd: smbd version 4.17.12-Debian started.',
    'debug encryption: dumping generated session keys',
    '/usr/sbin/smbd: Session Id    [0000] C2 CE 34 46 00 00 00 00                             ..4F....',
    '/usr/sbin/smbd: Session Key   [0000] 5D 3A 76 24 F4 E3 5A 76   69 BC CD 0F 2D EA 46 B3   ]:v$..Zv i...-.F.',
    '/usr/sbin/smbd: Signing Algo: 2',
    '/usr/sbin/smbd: Signing Key   [0000] 61 A5 5D 2D 81 38 F5 60   2F 88 37 2E A1 10 44 0B   a.]-.8.` /.7...D.',
    '/usr/sbin/winbindd: winbindd version 4.17.12-Debian started.',
    '',
  ].join('\n');
  // In pieces that split lines, as a pipe delivers them.
  for (let at = 0; at < lines.length; at += 37) feed(Buffer.from(lines.slice(at, at + 37)));
  const keys = log.sessionKeys();
  expect(keys).toHaveLength(1);
  expect(keys[0]!.sessionId).toBe(0x4634cec2n);
  expect(keys[0]!.signingKey.toString('hex')).toBe('61a55d2d8138f5602f88372ea110440b');
  expect(log.text()).not.toContain('61 A5 5D 2D');
  expect(log.text()).toContain('smbd version 4.17.12-Debian started.');
  expect(log.text()).not.toContain('/usr/sbin/');
});

test("the DC's smb.conf puts everything under its directory and binds to its own address", () => {
  const conf = renderDcConf('/tmp/dc-x', 'INTEROP.TEST', '127.0.0.120');
  expect(conf).toContain('\tinterfaces = 127.0.0.120\n\tbind interfaces only = yes');
  expect(conf).toContain('\tworkgroup = INTEROP');
  expect(conf).toContain('\tdebug encryption = yes');
  for (const line of conf.split('\n').filter((l) => /(dir|directory|file) = /.test(l))) expect(line).toContain('/tmp/dc-x/');
});

test("a domain profile's SMB settings and shares reach the DC's smb.conf: dialects, signing, encryption, NTLM refused, the log levels", () => {
  const profiles = resolveProfiles({});
  const kerberos = profiles.find((p) => p.name === 'ad-kerberos')!;
  const conf = renderDcConf('/tmp/dc-x', 'INTEROP.TEST', '127.0.0.120', { profile: kerberos, shares: kerberos.shares, logLevel: 3 });
  for (const line of [
    'server min protocol = SMB3_11', 'server max protocol = SMB3_11', 'server signing = mandatory', 'server smb encrypt = required',
    'server smb3 encryption algorithms = aes-128-gcm, aes-128-ccm, aes-256-gcm, aes-256-ccm', 'ntlm auth = disabled',
    'log level = 1 smb2:3 auth:3 auth_audit:4',
  ]) expect(conf).toContain(`\t${line}\n`);
  expect(conf).toContain('[data]\n\tpath = /tmp/dc-x/shares/data\n');
  expect(conf).not.toContain('[share]');
  const negotiate = profiles.find((p) => p.name === 'ad-negotiate')!;
  const both = renderDcConf('/tmp/dc-x', 'INTEROP.TEST', '127.0.0.120', { profile: negotiate, shares: [{ name: 'data', encryption: 'required' }] });
  expect(both).not.toContain('ntlm auth');
  expect(both).toContain('\tserver smb3 signing algorithms = aes-128-cmac\n');
  expect(both).toContain('\tlog level = 1\n');
  expect(both.slice(both.indexOf('[data]'))).toContain('\tserver smb encrypt = required\n');
});
