/**
 * The client plug-in protocol, version 1 (clients/PLUGIN-PROTOCOL.md), as zod schemas: every line
 * a driver writes and every request the host sends is checked against these. Pure: no I/O.
 */
import { z } from 'zod';
import { CIPHERS, DIALECTS, SIGNING_ALGORITHMS } from '../../servers/catalog/schema.js';

export const PROTOCOL_VERSION = 1;

/** A line longer than this (bytes, without its newline) is a protocol error. */
export const MAX_LINE_BYTES = 1024 * 1024;

/** File operations a driver may implement; `connect` and `close` are always implemented. */
export const OPERATIONS = ['writeFile', 'readFile', 'stat', 'readdir', 'mkdir', 'rmdir', 'unlink', 'rename', 'exists'] as const;
export const Operation = z.enum(OPERATIONS);
export type Operation = z.infer<typeof Operation>;

export const AUTH_METHODS = ['ntlm', 'guest', 'kerberos'] as const;
export const AuthMethod = z.enum(AUTH_METHODS);
export type AuthMethod = z.infer<typeof AuthMethod>;

/** What a client can do, with the catalog's names. */
export const Capabilities = z
  .object({
    dialects: z.array(z.enum(DIALECTS)),
    ciphers: z.array(z.enum(CIPHERS)),
    signing: z.array(z.enum(SIGNING_ALGORITHMS)),
    auth: z.array(AuthMethod),
    operations: z.array(Operation),
    /**
     * Optional request fields the driver wants (absent: none). `dialects`: `connect` carries the
     * target's declared dialect range, for a client that must be told which dialect to offer.
     */
    hints: z.array(z.enum(['dialects'])).optional(),
  })
  .strict();
export type Capabilities = z.infer<typeof Capabilities>;

export const Hello = z
  .object({
    type: z.literal('hello'),
    protocol: z.number().int(),
    client: z.object({ name: z.string().min(1), version: z.string() }).strict(),
    capabilities: Capabilities,
  })
  .strict();
export type Hello = z.infer<typeof Hello>;

const path = z.string().refine((p) => !p.startsWith('/') && !p.includes('\\'), 'expected a share-relative path with / separators');
const localFile = z.string().min(1);

/** Each operation's arguments and the value of its successful answer. */
export const OPERATION_SCHEMAS = {
  connect: {
    args: z
      .object({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535),
        share: z.string().min(1),
        username: z.string().optional(),
        password: z.string().optional(),
        domain: z.string().optional(),
        /** Only to a driver that declares `kerberos`: the mechanism to log on with (absent: NTLM). */
        auth: z.enum(['ntlm', 'kerberos', 'negotiate']).optional(),
        /** With auth kerberos or negotiate: the realm, its KDC (`host:port`) and the server's host name for cifs/<serviceHost>. */
        kerberos: z.object({ realm: z.string().min(1), kdc: z.string().min(1), serviceHost: z.string().min(1) }).strict().optional(),
        /** Only to a driver whose hello lists the `dialects` hint: the dialects the target admits, as it declares them. */
        dialects: z.object({ min: z.enum(DIALECTS), max: z.enum(DIALECTS) }).strict().optional(),
        timeoutMs: z.number().int().positive(),
      })
      .strict(),
    value: z.object({}).strict(),
  },
  writeFile: { args: z.object({ path, source: localFile }).strict(), value: z.object({}).strict() },
  readFile: { args: z.object({ path, destination: localFile }).strict(), value: z.object({ size: z.number().int().nonnegative() }).strict() },
  stat: { args: z.object({ path }).strict(), value: z.object({ size: z.number().int().nonnegative(), isDirectory: z.boolean() }).strict() },
  readdir: {
    args: z.object({ path }).strict(),
    value: z
      .object({
        entries: z.array(
          z
            .object({ name: z.string().min(1).refine((n) => n !== '.' && n !== '..', 'no "." or ".." entries'), isDirectory: z.boolean(), size: z.number().int().nonnegative() })
            .strict(),
        ),
      })
      .strict(),
  },
  mkdir: { args: z.object({ path }).strict(), value: z.object({}).strict() },
  rmdir: { args: z.object({ path }).strict(), value: z.object({}).strict() },
  unlink: { args: z.object({ path }).strict(), value: z.object({}).strict() },
  rename: { args: z.object({ from: path, to: path, replace: z.boolean() }).strict(), value: z.object({}).strict() },
  exists: { args: z.object({ path }).strict(), value: z.object({ exists: z.boolean() }).strict() },
  close: { args: z.object({}).strict(), value: z.object({}).strict() },
} as const;

export type RequestOp = keyof typeof OPERATION_SCHEMAS;
export type ArgsOf<Op extends RequestOp> = z.infer<(typeof OPERATION_SCHEMAS)[Op]['args']>;
export type ValueOf<Op extends RequestOp> = z.infer<(typeof OPERATION_SCHEMAS)[Op]['value']>;

export const Request = z
  .object({
    type: z.literal('request'),
    id: z.number().int().positive(),
    op: z.enum(Object.keys(OPERATION_SCHEMAS) as [RequestOp, ...RequestOp[]]),
    args: z.record(z.string(), z.unknown()),
  })
  .strict();
export type Request = z.infer<typeof Request>;

/** The NTSTATUS name as MS-ERREF spells it. */
const statusName = z.string().regex(/^STATUS_[A-Z0-9_]+$/, 'expected an NTSTATUS name such as STATUS_ACCESS_DENIED');

export const Result = z.discriminatedUnion('ok', [
  z.object({ type: z.literal('result'), id: z.number().int().positive(), ok: z.literal(true), value: z.record(z.string(), z.unknown()) }).strict(),
  z
    .object({
      type: z.literal('result'),
      id: z.number().int().positive(),
      ok: z.literal(false),
      error: z.object({ message: z.string(), status: statusName.optional() }).strict(),
    })
    .strict(),
]);
export type Result = z.infer<typeof Result>;

/** One line of a driver's output: a hello or a result. */
export const DriverMessage = z.union([Hello, Result]);
export type DriverMessage = z.infer<typeof DriverMessage>;

/** The first issue of a failed parse, as `field: message`. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid';
  const where = issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
  return `${where}${issue.message}`;
}

/** A request line, validated before it is sent (a harness bug must not reach the driver). */
export function encodeRequest<Op extends RequestOp>(id: number, op: Op, args: ArgsOf<Op>): string {
  const checked = OPERATION_SCHEMAS[op].args.safeParse(args);
  if (!checked.success) throw new Error(`plug-in request ${op}: ${firstIssue(checked.error)}`);
  const request: Request = { type: 'request', id, op, args: checked.data as Record<string, unknown> };
  return `${JSON.stringify(Request.parse(request))}\n`;
}

/** Parses one line of driver output; a string is why it is not a valid message. */
export function parseDriverLine(line: string): DriverMessage | string {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
    const type = (data as { type?: unknown }).type;
    const schema = type === 'hello' ? Hello : type === 'result' ? Result : undefined;
    if (schema === undefined) return `unknown message type ${JSON.stringify(type)} (expected "hello" or "result")`;
    const parsed = schema.safeParse(data);
    return parsed.success ? parsed.data : firstIssue(parsed.error);
  }
  return 'not a JSON object';
}
