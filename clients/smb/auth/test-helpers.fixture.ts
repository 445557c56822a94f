/** Assertions shared by the auth unit tests. Test code only. */
import { expect } from '@playwright/test';
import { ProtocolError } from '../errors.js';

export const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** `fn` must throw a ProtocolError whose field and message match the patterns given. */
export function expectProtocolError(fn: () => unknown, match: { field?: RegExp; message?: RegExp } = {}): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  if (match.field) expect((caught as ProtocolError).field).toMatch(match.field);
  if (match.message) expect((caught as ProtocolError).message).toMatch(match.message);
}

/**
 * Corrupts a few bytes of each token many times over (deterministically) and feeds
 * the result to every decoder: anything thrown must be a ProtocolError.
 */
export function expectOnlyProtocolErrors(
  tokens: readonly Buffer[],
  decoders: ReadonlyArray<(token: Buffer) => unknown>,
  options: { rounds: number; seed: number; keepPrefix?: number },
): void {
  let seed = options.seed;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  const keep = options.keepPrefix ?? 0;
  for (let round = 0; round < options.rounds; round++) {
    const token = Buffer.from(tokens[round % tokens.length] ?? Buffer.alloc(0));
    for (let k = 0; k < 3; k++) token[keep + (next() % (token.length - keep))] = next() & 0xff;
    for (const decode of decoders) {
      try {
        decode(token);
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError);
      }
    }
  }
}
