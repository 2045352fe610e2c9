/**
 * A small seeded random source for generated data (mulberry32). Math.random is never used: the
 * same seed must give the same municipality on every machine and Node version, so a failing
 * check can be rerun with the very data that failed.
 *
 * `fork(label)` derives an independent stream from this one's seed and a label. Each person
 * draws from their own fork, so adding a question or a rule for one person does not shift the
 * random numbers of every person generated after them.
 */
export class Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    // mulberry32 (Tommy Ettinger): 32-bit state, passes the usual quick statistical tests, and
    // is exactly reproducible in JavaScript's 32-bit integer arithmetic.
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** One value by relative weight; weights need not sum to 1. Zero weights are never chosen. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of entries) total += Math.max(0, w);
    if (total <= 0) throw new Error('weighted: no positive weight');
    let u = this.next() * total;
    for (const [value, w] of entries) {
      if (w <= 0) continue;
      u -= w;
      if (u < 0) return value;
    }
    // Rounding can leave u at a hair above 0: the last positive entry.
    return [...entries].reverse().find(([, w]) => w > 0)![0];
  }

  /** Waiting time of a Poisson process with `rate` events per unit (exponential distribution). */
  exponential(rate: number): number {
    if (rate <= 0) return Number.POSITIVE_INFINITY;
    return -Math.log(1 - this.next()) / rate;
  }

  /** A Poisson-distributed count with mean `mean` (Knuth for small means, normal above 50). */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  fork(label: string | number): Random {
    return new Random(hash32(`${this.seed}:${label}`));
  }
}

/** FNV-1a, then a final avalanche (murmur3 fmix32) so that similar labels give unrelated seeds. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
