/**
 * Building the bytes of outgoing requests: a single message or a compound chain (MS-SMB2
 * 3.2.4.1.4), kept in parts when nothing needs it whole so WRITE data is not copied, with each
 * element of a signed chain signed on its own; and CANCEL (MS-SMB2 3.2.4.24).
 */
import { applySignature } from './crypto/index.js';
import type { SignatureOptions, SigningAlgorithm } from './crypto/index.js';
import { SmbError, formatStatus } from './errors.js';
import { Command, HeaderFlag, NtStatus, buildCompound, buildCompoundVector, encodeCancelRequest, encodeHeader, ntStatusName } from './wire/index.js';
import type { HeaderFields } from './wire/index.js';

export interface Signer {
  algorithm: SigningAlgorithm;
  key: Buffer;
  options?: SignatureOptions | undefined;
}

/** Replaces the `index`th message of a chain before it is signed (a FaultHook's outgoingMessage). */
export type MessageEdit = (message: Buffer, index: number) => Buffer;

export interface OutgoingElement {
  header: HeaderFields;
  body: Buffer | readonly Buffer[];
}

export interface Composed {
  /** The whole frame, or undefined when `parts` can be sent as they are. */
  message: Buffer | undefined;
  parts: Buffer[];
  /** Each element's message (with its padding in a chain): what was signed, what observers see. */
  views: Buffer[];
}

/**
 * Header + body, joined only when `whole` (an observer or keepRequest need each message in one
 * piece) or when signing (a signature is computed over, and written into, the message).
 */
export function composeRequests(
  elements: readonly OutgoingElement[],
  options: { related: boolean; whole: boolean; signer: Signer | undefined; edit?: MessageEdit | undefined },
): Composed {
  const { signer } = options;
  const flags = signer === undefined ? 0 : HeaderFlag.Signed;
  let composed: Composed;
  if (elements.length === 1) {
    const { header, body } = elements[0]!;
    const parts = [encodeHeader(header, flags)];
    if (Buffer.isBuffer(body)) parts.push(body);
    else for (const part of body) parts.push(part);
    const message = options.whole || signer !== undefined ? Buffer.concat(parts) : undefined;
    composed = { message, parts, views: message === undefined ? [] : [message] };
  } else if (options.whole || signer !== undefined) {
    const chain = buildCompound(elements, { related: options.related, flags });
    composed = { message: chain.message, parts: [chain.message], views: chain.parts };
  } else {
    composed = { message: undefined, parts: buildCompoundVector(elements, { related: options.related, flags }).pieces, views: [] };
  }
  if (options.edit !== undefined) composed = edited(composed, options.edit);
  if (signer !== undefined) for (const view of composed.views) applySignature(view, signer.algorithm, signer.key, signer.options);
  return composed;
}

/** `composed` (whole) with each message as `edit` returns it, joined again when one changed. */
function edited(composed: Composed, edit: MessageEdit): Composed {
  const views = composed.views.map((view, i) => edit(view, i));
  if (views.every((view, i) => view === composed.views[i])) return composed;
  const message = Buffer.concat(views);
  let offset = 0;
  const placed = views.map((view) => message.subarray(offset, (offset += view.length)));
  return { message, parts: [message], views: placed };
}

/** MS-SMB2 3.2.4.24: the cancelled request's MessageId (and AsyncId once known), no credits. */
export function composeCancel(
  request: { messageId: bigint; asyncId: bigint | undefined; treeId: number; sessionId: bigint },
  signer: Signer | undefined,
  edit?: MessageEdit,
): Buffer {
  const header = encodeHeader({
    command: Command.Cancel,
    messageId: request.messageId,
    creditCharge: 0,
    credits: 0,
    flags: signer === undefined ? 0 : HeaderFlag.Signed,
    sessionId: request.sessionId,
    ...(request.asyncId === undefined ? { treeId: request.treeId } : { asyncId: request.asyncId }),
  });
  const composed = Buffer.concat([header, encodeCancelRequest()]);
  const message = edit === undefined ? composed : edit(composed, 0);
  if (signer !== undefined) applySignature(message, signer.algorithm, signer.key, signer.options);
  return message;
}

/** The error of a request cancelled while it was still queued. */
export function cancelledBeforeSending(command: string, path: string | undefined): SmbError {
  const status = NtStatus.Cancelled;
  const statusName = ntStatusName(status);
  return new SmbError(`${formatStatus(status, statusName)} on ${command}${path === undefined ? '' : ` ${path}`}: cancelled before it was sent`, {
    status, statusName, command, ...(path === undefined ? {} : { path }),
  });
}
