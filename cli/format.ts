import type { Profile } from '../servers/catalog/index.js';

export function pad(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text.padEnd(width);
}

/** One block per profile: what it declares and what a client should observe. */
export function describeProfile(p: Profile): string {
  const e = p.expect;
  const shares = p.shares
    .map((s) => `${s.name}${s.encryption ? ` (encryption ${s.encryption})` : ''}${s.guestOk ? ' (guest)' : ''}`)
    .join(', ');
  return [
    `${p.name}: ${p.description}`,
    `  dialects ${p.dialects.min}..${p.dialects.max}; signing ${p.signing.required ? 'required' : 'optional'} [${p.signing.algorithms.join(', ')}]; ` +
      `encryption ${p.encryption.mode} [${p.encryption.ciphers.join(', ')}]; guest ${p.guest.enabled ? 'on' : 'off'}${p.hardened ? '; hardened' : ''}`,
    `  shares: ${shares}`,
    `  expect: ${e.dialect}, cipher ${e.cipher ?? 'none'}, signing ${e.signingAlgorithm ?? 'none'}, preauth ${e.preauthIntegrity ? 'yes' : 'no'}, ` +
      `session ${e.encryption ? 'encrypted' : e.signing ? 'signed' : 'plain'}${e.encryptedShares.length ? `, encrypted shares: ${e.encryptedShares.join(', ')}` : ''}`,
  ].join('\n');
}
