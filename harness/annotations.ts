/**
 * The vocabulary of what the harness leaves on each Playwright test result: annotation types and
 * attachment names. The matrix reporter reads results through this file only, so the two sides
 * agree on one definition. No imports: this file is data.
 *
 * One Playwright project per target (`<profile>@<provider>`); inside it, one test per scenario and
 * client. A cell of the matrix = client x target x scenario.
 */

/** Annotation types (testInfo.annotations / test(..., { annotation }) entries). */
export const Annotation = {
  /** description: the scenario id, `<area>/<slug>`, e.g. `files/round-trip-small`. Exactly one. */
  scenario: 'scenario',
  /** description: the area, e.g. `negotiate`, `files`, `interop`. Exactly one. */
  area: 'area',
  /** description: the client id (a registered client, see clients/plugins/registry.ts). Exactly one. */
  client: 'client',
  /** description: one requirement id (see Requirement); one annotation per requirement. */
  requires: 'requires',
  /**
   * description: one thing the scenario needs from its client, `<kind>:<value>`
   * (`operation:rename`, `dialect:3.1.1`, `cipher:AES-256-GCM`, `signing:AES-128-GMAC`, `auth:guest`).
   */
  needs: 'needs',
  /** description: `ntlm` or `kerberos`, the logon mechanism a scenario asks its client for (absent: the target's default). */
  logon: 'logon',
  /**
   * description: why the client cannot run the cell: it declared it lacks what the scenario or the
   * target needs. The test is skipped (or ended) with the same reason. Outcome: unsupported.
   */
  unsupported: 'unsupported',
  /**
   * description: why the scenario does not apply to this target (the test is skipped with the
   * same reason). Outcome: not-applicable.
   */
  notApplicable: 'not-applicable',
  /**
   * description: why the target could not be used (failed to start, unreachable, not configured);
   * the test is skipped with the same reason. Outcome: infra-error (or not configured: see
   * notConfigured).
   */
  infraError: 'infra-error',
  /** description: a remote target has no configuration; the test is skipped. Outcome: not-applicable. */
  notConfigured: 'not-configured',
  /** description: JSON of NegotiatedSettings, what the client's session actually negotiated. */
  negotiated: 'negotiated',
  /** description: JSON `{ checked, unchecked, differences? }`, the cell's proof of configuration (harness/wire-proof.ts). */
  proof: 'configuration-proof',
  /** description: JSON of TargetFacts, what the target is and declares. Once per test. */
  target: 'target',
  /** description: the command line that reruns exactly this cell with full traces. */
  repro: 'repro',
  /** description: the Wireshark/tshark command line that opens this cell's pcap decrypted. */
  wireshark: 'wireshark',
  /**
   * description: JSON array of strings, a failed cell's explanation from its own traces: violated
   * spec rules, the server's reason for the failing status, connections the server ended.
   */
  explanation: 'explanation',
  /** description: JSON array of SpecViolationEntry: the spec rules the cell's wire breaks (also when it passed). */
  specViolations: 'spec-violations',
  /**
   * description: `relay`: the scenario changes or holds the server's traffic (faults), so its
   * clients connect through the capture proxy, never straight to the server (harness/trace.ts).
   */
  capture: 'capture',
} as const;

export type AnnotationType = (typeof Annotation)[keyof typeof Annotation];

/** Attachment names (testInfo.attach(name, ...)). */
export const Attachment = {
  /** application/vnd.tcpdump.pcap: the cell's capture (pcapng), server port shown as 445. */
  pcap: 'trace.pcapng',
  /** text/plain: Wireshark's SMB2 decryption keys (uat:smb2_seskey_list lines). Secret-bearing: only ever under results/. */
  keys: 'wireshark-keys.txt',
  /** application/json: every SMB2 message in the clear, in order. */
  transcriptJson: 'transcript.json',
  /** text/plain: the same transcript, one line per message. */
  transcriptText: 'transcript.txt',
  /** text/plain: the server's log lines for the test's time window. */
  serverLog: 'server.log',
  /** text/plain: what a client plug-in's driver wrote to stderr (bounded). */
  clientStderr: 'client-stderr.txt',
} as const;

export type AttachmentName = (typeof Attachment)[keyof typeof Attachment];

/**
 * The built-in clients' ids, in the matrix's order; `smb-ts` is this project's TypeScript client.
 * The set of clients is open: a config registers more (clients/plugins/registry.ts).
 */
export const ClientId = {
  typescript: 'smb-ts',
  smbclient: 'smbclient',
  goSmb2: 'go-smb2',
  impacket: 'impacket',
} as const;

/** A registered client's id: a built-in one or a name from the config's `clients`. */
export type ClientIdValue = string;

/** What a scenario may need from a target; the harness decides applicability from the profile. */
export const Requirement = {
  encryption: 'encryption',
  encryptionRequired: 'encryption-required',
  smb311: 'smb3.1.1',
  smb3: 'smb3',
  smb30x: 'smb3.0.x',
  signingRequired: 'signing-required',
  /** The first share's responses are signed or encrypted (the session encrypts, or the server requires signing). */
  protectedResponses: 'protected-responses',
  guest: 'guest',
  shareEncryption: 'share-encryption',
  /** The server's disk is readable by the harness (native provider). */
  localPath: 'local-path',
  /** The server accepts NTLM logons (every target but a domain that refuses NTLM). */
  ntlm: 'ntlm',
  /** The server is in a Kerberos realm whose KDC the harness knows (a domain profile). */
  domain: 'domain',
  /** The server is in a realm and refuses NTLM logons. */
  kerberosOnly: 'kerberos-only',
  /** The harness reads the server's own log (native and container targets; a remote server keeps it). */
  serverLog: 'server-log',
} as const;

export type RequirementId = (typeof Requirement)[keyof typeof Requirement];

/** The `negotiated` annotation's JSON. Names as in the catalog (`3.1.1`, `AES-128-GCM`). */
export interface NegotiatedSettings {
  dialect: string;
  cipher: string | null;
  signingAlgorithm: string | null;
  preauthIntegrity: boolean;
  encryption: boolean;
  signing: boolean;
  /** The logon mechanism the wire showed (the proof sets it; a client's own report does not). */
  authMechanism?: 'ntlm' | 'kerberos';
}

/** The `target` annotation's JSON. */
export interface TargetFacts {
  /** `<profile>@<provider>` */
  name: string;
  profile: string;
  provider: string;
  serverVersion: string;
  /** What the profile declares (its `expect` block). */
  declared: NegotiatedSettings & { encryptedShares: string[] };
  /** An impaired variant: the link the harness plays, in a few words (`10 ms each way, 100 Mbit/s`). */
  impairment?: string;
}

/**
 * The error message prefix the harness uses when the negotiated settings differ from the declared
 * ones: `configuration mismatch: cipher AES-128-CCM, declared AES-128-GCM`.
 */
export const CONFIGURATION_MISMATCH = 'configuration mismatch';
