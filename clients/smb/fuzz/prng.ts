/** A small seeded generator (sfc32 seeded from SHA-256): the same seed and run give the same mutation anywhere. */
import { createHash } from 'node:crypto';

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: string) {
    const digest = createHash('sha256').update(seed).digest();
    this.a = digest.readUInt32LE(0);
    this.b = digest.readUInt32LE(4);
    this.c = digest.readUInt32LE(8);
    this.d = digest.readUInt32LE(12);
  }

  /** The generator of run `index` of the campaign seeded `seed`. */
  static forRun(seed: string, index: number): Prng {
    return new Prng(`${seed}/${index}`);
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** 0 <= n < limit */
  below(limit: number): number {
    return limit <= 1 ? 0 : this.uint32() % limit;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Prng.pick: no items');
    return items[this.below(items.length)]!;
  }

  /** Picks by weight: [[item, weight], ...]. */
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T {
    const total = items.reduce((sum, [, weight]) => sum + weight, 0);
    let at = this.below(total);
    for (const [item, weight] of items) {
      if (at < weight) return item;
      at -= weight;
    }
    return items[items.length - 1]![0];
  }
}
