/**
 * What a Kerberos logon costs against an NTLM one, side by side against the same Samba AD DC:
 * TCP connect, NEGOTIATE and SESSION_SETUP until the session is usable, then close. Kerberos is
 * measured cold (a new ticket cache: AS, TGS and AP exchanges) and warm (tickets cached: the AP
 * exchange alone). Variants take turns within a round, in a rotating order. Also prints the DC's
 * start time.
 *
 *   npm run build && node dist/bench/kerberos-login.js [--rounds 20] [--warmup 3]
 */
import { parseArgs } from 'node:util';
import { KerberosTicketCache } from '../clients/smb/auth/kerberos/ticket-cache.js';
import { SmbClient, type SmbClientOptions } from '../clients/smb/index.js';
import { SambaAdDc, type StartedAdDc } from '../servers/samba/ad-dc.js';

const VARIANTS = ['ntlm', 'kerberos (cold cache)', 'kerberos (cached tickets)'] as const;
type Variant = (typeof VARIANTS)[number];

function optionsFor(dc: StartedAdDc, variant: Variant, cache: KerberosTicketCache): SmbClientOptions {
  const alice = dc.user('alice');
  const common = { host: dc.address, username: alice.username, password: alice.password, dialects: ['3.1.1'] as const };
  if (variant === 'ntlm') return { ...common, domain: dc.domain, auth: 'ntlm' };
  const ticketCache = variant === 'kerberos (cold cache)' ? new KerberosTicketCache() : cache;
  return { ...common, auth: 'kerberos', kerberos: { realm: dc.realm, kdc: dc.address, serviceHost: dc.hostName, ticketCache } };
}

async function logonMs(options: SmbClientOptions, expected: 'ntlm' | 'kerberos'): Promise<number> {
  const started = process.hrtime.bigint();
  const client = await SmbClient.connect(options);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (client.negotiated.authMechanism !== expected) throw new Error(`expected a ${expected} logon, got ${client.negotiated.authMechanism}`);
  await client.close();
  return ms;
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' }, warmup: { type: 'string', default: '3' } } });
  const rounds = Number(values.rounds);
  const warmup = Number(values.warmup);
  if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(warmup) || warmup < 0) throw new Error('--rounds must be a whole number >= 1 and --warmup >= 0');

  const dc = await new SambaAdDc({ realm: 'ADTEST.INTEROP' }).start();
  try {
    const t = dc.timings;
    console.log(`AD DC ${dc.realm} on ${dc.address}: provisioning ${t.provisionMs} ms${t.provisionMs === 0 ? ' (cached template)' : ''}, lock wait ${t.lockWaitMs} ms, ready ${t.readyMs} ms, with its user ${t.totalMs} ms`);
    const cache = new KerberosTicketCache();
    const ms: Record<Variant, number[]> = { ntlm: [], 'kerberos (cold cache)': [], 'kerberos (cached tickets)': [] };
    for (let round = 0; round < warmup + rounds; round++) {
      for (let i = 0; i < VARIANTS.length; i++) {
        const variant = VARIANTS[(round + i) % VARIANTS.length]!;
        const took = await logonMs(optionsFor(dc, variant, cache), variant === 'ntlm' ? 'ntlm' : 'kerberos');
        if (round >= warmup) ms[variant].push(took);
      }
    }
    console.log(`logon (connect, NEGOTIATE, SESSION_SETUP), ${rounds} rounds after ${warmup} warm-up, SMB 3.1.1:`);
    const ntlmMedian = quantile(ms.ntlm, 0.5);
    for (const variant of VARIANTS) {
      const median = quantile(ms[variant], 0.5);
      const ratio = variant === 'ntlm' ? '' : `  (${(median / ntlmMedian).toFixed(2)}x NTLM)`;
      console.log(`  ${variant.padEnd(26)} median ${median.toFixed(1).padStart(7)} ms   p90 ${quantile(ms[variant], 0.9).toFixed(1).padStart(7)} ms${ratio}`);
    }
    console.log(`  KDC exchanges of the cached variant: ${cache.stats.asExchanges} AS, ${cache.stats.tgsExchanges} TGS`);
  } finally {
    await dc.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
