// Seeded pseudo-random numbers: every simulated corpus is reproducible from its seed (Math.random
// is never used). sfc32 is fast and statistically sound; it is seeded through a string hash so that
// a session's stream depends only on (seed, labels), not on how many draws came before it.

export type Seed = number | string;

/** FNV-1a over the parts (with a separator, so ('ab','c') ≠ ('a','bc')), finished by murmur3's mixer. */
export function hashSeed(...parts: Seed[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const s = String(part);
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0x1f;
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

export class Rng {
  /** The 32-bit hash this stream was seeded with; forks derive from it, not from the stream state. */
  readonly seed: number;
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: Seed) {
    this.seed = hashSeed(seed);
    this.a = fmix32(this.seed ^ 0x9e3779b9);
    this.b = fmix32(this.seed ^ 0x243f6a88);
    this.c = fmix32(this.seed ^ 0xb7e15162);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.uint32(); // sfc32's recommended warm-up
  }

  /** An independent stream for a sub-task (e.g. the sampling grid), stable whatever this stream drew. */
  fork(...labels: Seed[]): Rng {
    return new Rng(`${this.seed}/${labels.join('/')}`);
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

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Log-uniform in [lo, hi): durations and amounts spanning orders of magnitude. */
  logRange(lo: number, hi: number): number {
    return lo * Math.pow(hi / lo, this.next());
  }

  /** Integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }

  /** One of the values, with probability proportional to its weight. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of entries) total += w;
    let x = this.next() * total;
    for (const [v, w] of entries) {
      x -= w;
      if (x < 0) return v;
    }
    return entries[entries.length - 1][0];
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = xs[i];
      xs[i] = xs[j];
      xs[j] = tmp;
    }
    return xs;
  }
}
