/**
 * A cell's decoded wire in the compact form it is kept in after the cell ends: per message the
 * header facts and the significant fields (message-fields.ts) already rendered, never a payload,
 * a security blob or a key. Every cell leaves one as the `wire-summary.json` attachment, so that
 * after the run a red cell can be compared with a cell that passed (divergence.ts) without
 * either capture. Data and its schema only: the matrix reads it through this file.
 */
import { z } from 'zod';

/** The attachment's name (not a trace kind of the matrix: it is read, not published). */
export const WIRE_SUMMARY_ATTACHMENT = 'wire-summary.json';
export const WIRE_SUMMARY_VERSION = 1;
/** Messages kept per cell; a longer conversation (a bulk transfer) keeps its beginning. */
export const WIRE_SUMMARY_MAX_MESSAGES = 400;

const Choice = z.enum(['dialect', 'cipher', 'signing', 'hash']);

/**
 * Whether a difference in the field matters when the reference is another client:
 * `decisive` always; `incidental` never (implementations differ there and both work);
 * `signature` when a signature does not verify, or signed differs from unsigned where the server requires signing;
 * `offer` when the server's choice for the reference is missing from this cell's offer or the
 * server chose differently; `encryptionBit` when SMB2_GLOBAL_CAP_ENCRYPTION differs where it
 * changed the outcome (see mattersAcrossClients in divergence.ts).
 */
export const Rank = z.union([
  z.literal('decisive'),
  z.literal('incidental'),
  z.literal('signature'),
  z.object({ offer: Choice, values: z.array(z.number().int()) }).strict(),
  z.object({ encryptionBit: z.number().int() }).strict(),
]);
export type Rank = z.infer<typeof Rank>;

export const MessageField = z
  .object({
    name: z.string(),
    value: z.string(),
    /** e.g. `MS-SMB2 2.2.3` */
    section: z.string(),
    rank: Rank,
    /** Compared instead of `value` when set (share names are case-insensitive, signature checks without keys). */
    key: z.string().optional(),
  })
  .strict();
export type MessageField = z.infer<typeof MessageField>;

/** What the server chose on a connection (its NEGOTIATE response) and what was used, by which a request's offer is judged. */
export const Negotiated = z
  .object({
    dialect: z.number().int().optional(),
    cipher: z.number().int().optional(),
    signing: z.number().int().optional(),
    hash: z.number().int().optional(),
    /** The NEGOTIATE response set SMB2_NEGOTIATE_SIGNING_REQUIRED. */
    signingRequired: z.boolean().optional(),
    /** Some message of the connection travelled encrypted. */
    encrypts: z.boolean().optional(),
    /** Some message of the connection carried SMB2_FLAGS_SIGNED. */
    signs: z.boolean().optional(),
  })
  .strict();
export type Negotiated = z.infer<typeof Negotiated>;

export const SignatureCheck = z.enum(['valid', 'invalid', 'unsigned', 'no-key']);

export const SummaryMessage = z
  .object({
    /** 1-based, in capture order over all connections. */
    index: z.number().int().positive(),
    connection: z.number().int().positive(),
    /** 0-based frame (NetBIOS message) of the capture. */
    frame: z.number().int().nonnegative(),
    direction: z.enum(['send', 'receive']),
    command: z.string(),
    /** Decimal: a MessageId is 64 bits. */
    messageId: z.string(),
    status: z.number().int(),
    statusName: z.string(),
    creditCharge: z.number().int(),
    credits: z.number().int(),
    flags: z.number().int(),
    encrypted: z.boolean(),
    signed: z.boolean(),
    signature: SignatureCheck,
    /** A TREE_CONNECT request to IPC$ (a detour some clients take before the share). */
    ipc: z.boolean().optional(),
    /** A successful NEGOTIATE response: what the server chose. */
    negotiated: Negotiated.optional(),
    fields: z.array(MessageField),
  })
  .strict();
export type SummaryMessage = z.infer<typeof SummaryMessage>;

/** A frame the harness could not read, and why. */
export const SummaryProblem = z
  .object({
    connection: z.number().int().positive(),
    frame: z.number().int().nonnegative(),
    direction: z.enum(['send', 'receive']),
    problem: z.string(),
  })
  .strict();
export type SummaryProblem = z.infer<typeof SummaryProblem>;

export const WireSummary = z
  .object({
    version: z.literal(WIRE_SUMMARY_VERSION),
    messages: z.array(SummaryMessage),
    problems: z.array(SummaryProblem),
    /** Messages left out after WIRE_SUMMARY_MAX_MESSAGES. */
    omitted: z.number().int().nonnegative(),
    /** Connections (1-based) that the server ended, not the client. */
    closedByServer: z.array(z.number().int().positive()),
  })
  .strict();
export type WireSummary = z.infer<typeof WireSummary>;

/** The attachment's body parsed, or why it cannot be. */
export function parseWireSummary(body: Buffer | string): { summary: WireSummary } | { error: string } {
  let data: unknown;
  try {
    data = JSON.parse(body.toString());
  } catch (error) {
    return { error: `${WIRE_SUMMARY_ATTACHMENT}: not JSON: ${(error as Error).message}` };
  }
  const parsed = WireSummary.safeParse(data);
  return parsed.success ? { summary: parsed.data } : { error: `${WIRE_SUMMARY_ATTACHMENT}: ${z.prettifyError(parsed.error)}` };
}
