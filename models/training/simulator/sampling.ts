// When a charger samples: every 10 s to 15 min, with jitter or aligned to the clock (a little
// late), sometimes skipping a sample. The grid is generated lazily from its own random stream, so
// it does not change when the session's events (and therefore its end) do.
import type { Rng } from './rng';

export interface Sampling {
  intervalMs: number;
  /** Max deviation from the nominal instant (periodic sampling). */
  jitterMs: number;
  /** Sample.Clock: instants on wall-clock multiples of the interval, plus a small lag. */
  clockAligned: boolean;
  /** Timestamps carry milliseconds. */
  millis: boolean;
  /** Share of samples silently missing (never with intervals over 5 min: gaps stay ≤ 15 min). */
  dropRate: number;
}

const MENU: readonly (readonly [number, number])[] = [
  [10_000, 0.03],
  [15_000, 0.07],
  [30_000, 0.12],
  [60_000, 0.23],
  [120_000, 0.09],
  [180_000, 0.04],
  [240_000, 0.03],
  [300_000, 0.19],
  [600_000, 0.1],
  [900_000, 0.15],
];
/** At least this many samples in a session (3 are needed to analyse it). */
const MIN_SAMPLES = 6;
/** At most this many, so that a day-long session stays below the API's 20,000 readings. */
const MAX_SAMPLES = 1500;

export interface SamplingWish {
  sparse?: boolean;
  maxIntervalMs?: number;
  /** Nominal interval inside [lo, hi] (a held-out sampling regime). */
  within?: readonly [number, number];
  /** Nominal interval outside [lo, hi] (training around a held-out regime). */
  avoid?: readonly [number, number];
}

export function drawSampling(rng: Rng, durationMs: number, opts: SamplingWish = {}): Sampling {
  const { within, avoid } = opts;
  const allowed = (iv: number) => (!within || (iv >= within[0] && iv <= within[1])) && (!avoid || iv < avoid[0] || iv > avoid[1]);
  let menu = MENU.filter(([iv]) => durationMs / iv >= MIN_SAMPLES && durationMs / iv <= MAX_SAMPLES && allowed(iv));
  if (opts.sparse) menu = menu.filter(([iv]) => iv >= 60_000);
  const cap = opts.maxIntervalMs;
  if (cap !== undefined) menu = menu.filter(([iv]) => iv <= cap);
  let intervalMs: number;
  if (menu.length) intervalMs = rng.weighted(menu);
  else {
    // Between menu entries (e.g. a 4-minute session): the nearest workable interval.
    const lo = opts.sparse ? 60_000 : 15_000;
    intervalMs = Math.max(Math.min(durationMs / MIN_SAMPLES, cap ?? Infinity), Math.min(lo, durationMs / MIN_SAMPLES));
    intervalMs = Math.max(5_000, Math.round(intervalMs / 1000) * 1000);
    // A held-out regime stays exact: inside it (a short session then has fewer samples), or just below it.
    if (within) intervalMs = Math.min(within[1], Math.max(within[0], intervalMs));
    if (avoid && intervalMs >= avoid[0] && intervalMs <= avoid[1]) intervalMs = avoid[0] - 1000;
  }
  // Gaps stay ≤ 15 min ("sparse readings 1–15 min apart" are normal): the 15-minute interval is
  // periodic with its nominal value shortened by the jitter, clock alignment only up to 10 min.
  const clockAligned = intervalMs >= 60_000 && intervalMs <= 600_000 && rng.chance(0.3);
  let jitterMs = clockAligned ? 2_000 : Math.min(0.15 * intervalMs, 20_000) * rng.next();
  if (intervalMs >= 900_000) {
    jitterMs = Math.min(jitterMs, 5_000);
    intervalMs = 900_000 - 2 * jitterMs - 1_000;
  }
  return {
    intervalMs,
    jitterMs,
    clockAligned,
    millis: rng.chance(0.2),
    dropRate: intervalMs <= 300_000 && rng.chance(0.15) ? rng.range(0.01, 0.06) : 0,
  };
}

export class Grid {
  private readonly instants: number[] = [];
  private i = 0;
  private dropped = false;
  private readonly base: number;

  constructor(
    private readonly rng: Rng,
    private readonly startMs: number,
    readonly sampling: Sampling,
  ) {
    const iv = sampling.intervalMs;
    this.base = sampling.clockAligned ? Math.ceil((startMs + 1000) / iv) * iv : startMs;
  }

  /** Sampling instants in (start, endMs), strictly increasing; the start itself is not included. */
  upTo(endMs: number): number[] {
    const { intervalMs: iv, jitterMs, clockAligned, millis, dropRate } = this.sampling;
    while (this.instants.length === 0 || this.instants[this.instants.length - 1] < endMs) {
      const k = this.i++;
      let t = clockAligned ? this.base + k * iv + jitterMs * this.rng.next() : this.base + (k + 1) * iv + jitterMs * (2 * this.rng.next() - 1);
      t = millis ? Math.round(t) : Math.round(t / 1000) * 1000;
      // A missing sample never follows another: two in a row would open a gap over 15 min.
      const drop = dropRate > 0 && !this.dropped && this.rng.chance(dropRate);
      this.dropped = drop;
      if (t <= this.startMs + this.guardMs || drop) continue;
      this.instants.push(t);
    }
    let n = this.instants.length;
    while (n > 0 && this.instants[n - 1] >= endMs) n--;
    return this.instants.slice(0, n);
  }

  /** The session's reading instants: the start, the grid, and the end (Transaction.Begin/End). */
  session(endMs: number): number[] {
    const end = this.round(endMs);
    const mid = this.upTo(end - this.guardMs);
    return [this.round(this.startMs), ...mid, end];
  }

  /**
   * Transaction.Begin/End keep this far from the nearest periodic sample: a register step over a
   * second or two would read as an implausible rate (samples ms apart are a clock issue, not a rate).
   */
  private get guardMs(): number {
    return Math.max(1000, Math.min(10_000, this.sampling.intervalMs / 3));
  }

  private round(t: number): number {
    return this.sampling.millis ? Math.round(t) : Math.round(t / 1000) * 1000;
  }
}
