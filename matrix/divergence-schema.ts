/**
 * The `divergence` of a red cell in matrix.json: which passing cell it was compared with, the
 * first difference that matters, and the two conversations aligned side by side (divergence.ts
 * makes it; render/divergence.ts shows it).
 */
import { z } from 'zod';

export const TranscriptRow = z
  .object({
    /** This cell's message, one line (`#3 → SESSION_SETUP request mid=1 signed, valid`); null where the reference has one this cell lacks. */
    cell: z.string().nullable(),
    reference: z.string().nullable(),
    /** The row where the two diverge. */
    mark: z.boolean(),
  })
  .strict();
export type TranscriptRow = z.infer<typeof TranscriptRow>;

export const CellDivergence = z
  .object({
    /** The cell that passed: the same scenario on the same target from another client, else the same client on another target. */
    reference: z.object({ client: z.string(), target: z.string(), differs: z.enum(['client', 'target']) }).strict(),
    kind: z.enum(['field', 'structure', 'none']),
    /** One line, e.g. `NEGOTIATE request Capabilities: DFS|LEASING|LARGE_MTU; reference: ...|ENCRYPTION (MS-SMB2 2.2.3)`. */
    text: z.string(),
    field: z.string().optional(),
    value: z.string().optional(),
    referenceValue: z.string().optional(),
    section: z.string().optional(),
    rows: z.array(TranscriptRow),
    /** Rows left out before and after the ones kept (the kept ones surround the mark). */
    rowsBefore: z.number().int().nonnegative(),
    rowsAfter: z.number().int().nonnegative(),
  })
  .strict();
export type CellDivergence = z.infer<typeof CellDivergence>;
