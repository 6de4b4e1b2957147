// Rule-based detector: the seven categories of anomaly-categories.md, checked against the physics
// of a charging session (energy is the integral of power; SoC follows delivered energy).
// Bucket ranges are inclusive; an anomaly evidenced by readings at instants a…b covers
// bucket(a)…bucket(b), except for register dips, which follow the spec's own wording.
import type { Anomaly, AnomalyCategory, AnalysisWindow, Detector, DetectorInput, Series } from './types';
import { ANOMALY_CATEGORIES } from './types';
import { bucketOf, medianStepMs, timeRangeOf } from './window';

const H = 3_600_000;
const MIN = 60_000;
/** The analysis window's length: a truncated session spans at least this. */
const WINDOW_SPAN_MS = 6 * H;

// Defaults from anomaly-categories.md.
const CHARGING_KW = 0.5;
const FLAT_KWH = 0.01;
const ZERO_MIN_SPAN_MS = 2 * MIN;
const ZERO_KWH = 0.1;
const DECREASE_KWH = 0.01;
const RECOVERY_MS = 2 * MIN;
const ACCRUAL_MIN_MS = MIN;
const ACCRUAL_KWH = 0.05;
const RATE_FACTOR = 1.5;
const DEFAULT_MAX_KW = 350;
const MISMATCH_MIN_MS = 2 * MIN;
const MISMATCH_MIN_INTERVALS = 2; // = 3 consecutive readings
const MISMATCH_ABS_KW = 1;
const MISMATCH_REL = 0.25;
const SOC_FALL_POINTS = 2;
const SMALL_BATTERY_KWH = 15;
const MIN_BATTERY_KWH = 5;
/** SoC that does not move while energy flows: the largest battery any car has, and then some. */
const MAX_BATTERY_KWH = 250;
/** Charging intervals pooled per SoC-per-kWh ratio, and ratios needed for an estimate (this implementation's). */
const BATTERY_CHUNK_KWH = 0.5;
const BATTERY_MIN_CHUNKS = 2;
const SOC_RISE_SLACK = 3;
const IDLE_EXPECTED_MS = 10 * MIN;
/** With SoC, a stop below this is evidence the car still wanted energy. */
const SOC_WANTS = 70;
/** A later run of charging resumes when it reaches this share of the peak, or delivers RESUME_KWH. */
const RESUME_FRACTION = 0.3;
const RESUME_KWH = 1;
const ABRUPT_FRACTION = 0.5;

// Tolerances of this implementation (not in the spec).
/** Readings up to 15 min apart are normal ("sparse readings"); beyond that a series has a gap. */
const MAX_GAP_MS = 15 * MIN;
/** Energy and power stamped this close belong to the same sample. */
const SKEW_MS = 2000;
/** A taper is judged on the charging readings of the last 15 min before the stop. */
const TAPER_LOOKBACK_MS = 15 * MIN;

/**
 * The thresholds the learned models' rule features (models/features.ts) share with these rules,
 * so that the two cannot drift apart.
 */
export const SHARED_THRESHOLDS = {
  CHARGING_KW,
  ZERO_KWH,
  SOC_FALL_POINTS,
  DECREASE_KWH,
  ACCRUAL_KWH,
  RATE_FACTOR,
  DEFAULT_MAX_KW,
  MISMATCH_ABS_KW,
  MISMATCH_REL,
  SMALL_BATTERY_KWH,
  SOC_RISE_SLACK,
  RECOVERY_MS,
  IDLE_EXPECTED_MS,
  SOC_WANTS,
  RESUME_FRACTION,
  RESUME_KWH,
  MIN_BATTERY_KWH,
  BATTERY_CHUNK_KWH,
  BATTERY_MIN_CHUNKS,
  MAX_BATTERY_KWH,
  ABRUPT_FRACTION,
  MAX_GAP_MS,
  TAPER_LOOKBACK_MS,
} as const;
/** Float noise guard: 12.34 − 12.33 is 0.010000000000001563. */
const EPS = 1e-9;

interface Dip {
  /** First reading below the running maximum. */
  j: number;
  /** First reading back at the maximum, or -1. */
  k: number;
  maxV: number;
  minV: number;
  pit: boolean;
  /** Recovered, but readings too sparse to tell whether within 2 min. */
  ambiguous: boolean;
}

/** What every rule (and the hard-edge check, hard-edges.ts) reads of a window. */
export interface Ctx {
  w: AnalysisWindow;
  E: Series;
  P: Series;
  S: Series;
  hasE: boolean;
  hasP: boolean;
  /** Register reporting resolution (kWh), 0 when unknown. */
  res: number;
  /** Drop below the running maximum that counts as a decrease. */
  thr: number;
  dips: Dip[];
  /** Per energy interval i (reading i → i+1): touched by a dip, left out of accrual checks. */
  skip: boolean[];
  /** Energy delivered up to each energy reading: increments above the running maximum, dips left out. */
  D: number[];
  /** Charging activity: power readings, plus the register slope where power is missing. */
  act: Series;
  /** Peak of the activity series (kW), implausible spikes left out. */
  peak: number;
  /** Peak reported power (kW), or 0 without power. */
  powerPeak: number;
  rating: number | null;
  /** 1 for dense data (≤ 1 min), down to 0.6 for 15-min readings. */
  density: number;
}

export class PhysicsDetector implements Detector {
  readonly name = 'physics';
  readonly version = '1';

  detect(input: DetectorInput): Anomaly[] {
    const w = input.window;
    if (w.bucketCount <= 0) return [];
    const c = context(w, input.metadata);
    const out: Anomaly[] = [];
    const zero = zeroSession(c);
    if (zero) out.push(zero);
    out.push(...registerDips(c), ...unexplainedAccrual(c), ...powerMismatch(c), ...chargeLevel(c));
    if (!zero) out.push(...chargingExpected(c)); // ZERO_SESSION excludes CHARGING_EXPECTED
    const order = (a: AnomalyCategory) => ANOMALY_CATEGORIES.indexOf(a);
    return out.sort((a, b) => a.bucketRange.startUnit - b.bucketRange.startUnit || order(a.category) - order(b.category));
  }
}

// ---------------------------------------------------------------------------------------------
// Context

export function context(w: AnalysisWindow, metadata: Record<string, unknown> | null | undefined): Ctx {
  const E = w.energy;
  const P = w.power;
  const res = registerResolution(E.v);
  const thr = Math.max(DECREASE_KWH, res) + EPS;
  const { dips, skip, rebase, credit } = scanDips(E, thr);
  const D = delivered(E, skip, rebase, credit, dips);
  const rating = stationRating(metadata);
  const act = activity(E, P, D, res);
  const cap = RATE_FACTOR * (rating ?? DEFAULT_MAX_KW);
  const plausible = act.v.filter((p) => p <= cap);
  const peak = plausible.length ? maxOf(plausible) : act.v.length ? maxOf(act.v) : 0;
  const step = medianStepMs(act.t.length >= 2 ? act : E.t.length >= 2 ? E : w.soc);
  return {
    w,
    E,
    P,
    S: w.soc,
    hasE: E.t.length > 0,
    hasP: P.t.length > 0,
    res,
    thr,
    dips,
    skip,
    D,
    act,
    peak,
    powerPeak: P.v.length ? maxOf(P.v) : 0,
    rating,
    density: densityFactor(step),
  };
}

export function densityFactor(stepMs: number): number {
  return 1 - 0.4 * clamp01((stepMs - MIN) / (MAX_GAP_MS - MIN));
}

/** `maxPowerKw` or `ratedPowerKw` from the session metadata (number or numeric string). */
export function stationRating(metadata: Record<string, unknown> | null | undefined): number | null {
  if (!metadata) return null;
  for (const key of ['maxPowerKw', 'ratedPowerKw', 'max_power_kw', 'rated_power_kw']) {
    const v = Number(metadata[key]);
    if (metadata[key] !== null && metadata[key] !== '' && Number.isFinite(v) && v > 0) return v;
  }
  return null;
}

/** Largest of 1, 0.1, 0.01, 0.001 kWh that every value is a multiple of; 0 if none or too few values. */
export function registerResolution(v: number[]): number {
  if (!threeDistinct(v)) return 0;
  // Every value, duplicates too, rather than a Set of them: the answer is the same, without a Set per session.
  for (const q of [1, 0.1, 0.01, 0.001]) {
    let ok = true;
    for (let i = 0; i < v.length; i++) {
      const r = v[i] / q;
      if (Math.abs(r - Math.round(r)) > 1e-4) {
        ok = false;
        break;
      }
    }
    if (ok) return q;
  }
  return 0;
}

/** At least three distinct values, "distinct" as a Set counts them (NaN equals NaN, -0 equals 0). */
function threeDistinct(v: number[]): boolean {
  const same = (x: number, y: number) => x === y || (x !== x && y !== y);
  let b: number | undefined;
  for (let i = 1; i < v.length; i++) {
    const x = v[i];
    if (same(x, v[0])) continue;
    if (b === undefined) b = x;
    else if (!same(x, b)) return true;
  }
  return false;
}

/**
 * Walks the register against its running maximum. A dip recovered within 2 min (or recovered
 * with no reading to show it stayed down for 2 min) is a pit; one seen down for 2 min, or never
 * recovered, is a decrease. Intervals into, inside (pits) and out of a dip are marked so that the
 * drop and the jump back are not read as energy delivered.
 */
function scanDips(E: Series, thr: number): { dips: Dip[]; skip: boolean[]; rebase: (number | null)[]; credit: number[] } {
  const n = E.t.length;
  const skip: boolean[] = new Array(Math.max(0, n - 1)).fill(false);
  const rebase: (number | null)[] = new Array(Math.max(0, n - 1)).fill(null);
  const credit: number[] = new Array(Math.max(0, n - 1)).fill(0);
  const dips: Dip[] = [];
  if (n === 0) return { dips, skip, rebase, credit };
  let maxV = E.v[0];
  let i = 1;
  while (i < n) {
    if (E.v[i] >= maxV - thr) {
      if (E.v[i] > maxV) maxV = E.v[i];
      i++;
      continue;
    }
    const j = i;
    let k = j;
    let minV = E.v[j];
    while (k < n && E.v[k] < maxV - thr) minV = Math.min(minV, E.v[k++]);
    if (k === n) {
      dips.push({ j, k: -1, maxV, minV, pit: false, ambiguous: false });
      skip[j - 1] = true;
      rebase[j - 1] = E.v[j]; // a reset: later increments count from the new level
      break;
    }
    const quick = E.t[k] - E.t[j] <= RECOVERY_MS;
    const seenDown = E.t[k - 1] - E.t[j] >= RECOVERY_MS;
    const pit = quick || !seenDown;
    dips.push({ j, k, maxV, minV, pit, ambiguous: !quick && !seenDown });
    if (pit) {
      for (let x = j - 1; x < k; x++) skip[x] = true;
    } else {
      skip[j - 1] = true;
      rebase[j - 1] = E.v[j];
      skip[k - 1] = true;
      // The way back up is no delivery, but what it ends above the old maximum is.
      credit[k - 1] = Math.max(0, E.v[k] - maxV);
    }
    maxV = Math.max(maxV, E.v[k]);
    rebase[k - 1] = maxV;
    i = k + 1;
  }
  return { dips, skip, rebase, credit };
}

function delivered(E: Series, skip: boolean[], rebase: (number | null)[], credit: number[], dips: Dip[]): number[] {
  const n = E.t.length;
  const D: number[] = new Array(n).fill(0);
  if (n === 0) return D;
  // Increments above the running maximum only: jitter of a flat register does not add up.
  let hi = E.v[0];
  for (let i = 0; i + 1 < n; i++) {
    if (skip[i]) {
      D[i + 1] = D[i] + credit[i];
      const r = rebase[i];
      if (r !== null) hi = r;
      continue;
    }
    D[i + 1] = D[i] + Math.max(0, E.v[i + 1] - hi);
    if (E.v[i + 1] > hi) hi = E.v[i + 1];
  }
  // Charging goes on through a pit: what the register gained over its old maximum when it came
  // back was delivered during the hole, spread over it in time (SoC keeps rising meanwhile).
  let shift = 0;
  let d = 0;
  const pits = dips.filter((x) => x.pit);
  for (let i = 0; i < n; i++) {
    const pit = pits[d];
    if (pit && i >= pit.j && i <= pit.k) {
      const from = pit.j - 1;
      const credit = Math.max(0, E.v[pit.k] - pit.maxV);
      D[i] += shift + (credit * (E.t[i] - E.t[from])) / (E.t[pit.k] - E.t[from]);
      if (i === pit.k) {
        shift += credit;
        d++;
      }
    } else D[i] += shift;
  }
  return D;
}

/**
 * Power readings where there are any; register slope (kW) at energy readings that no power
 * reading covers ("where power is missing, the register slope").
 */
function activity(E: Series, P: Series, D: number[], res: number): Series {
  const pts: { t: number; v: number }[] = P.t.map((t, i) => ({ t, v: P.v[i] }));
  const slopes = registerSlopes(E, D, res);
  for (let i = 0; i < E.t.length; i++) {
    if (!covered(P.t, E.t[i]) && Number.isFinite(slopes[i])) pts.push({ t: E.t[i], v: slopes[i] });
  }
  pts.sort((a, b) => a.t - b.t);
  return { t: pts.map((p) => p.t), v: pts.map((p) => p.v) };
}

function covered(pt: number[], t: number): boolean {
  if (pt.length === 0) return false;
  const i = lowerBound(pt, t);
  if ((i < pt.length && pt[i] - t <= MIN) || (i > 0 && t - pt[i - 1] <= MIN)) return true;
  return i > 0 && i < pt.length && pt[i] - pt[i - 1] <= MAX_GAP_MS;
}

/**
 * Register slope (kW) at each energy reading, from the last increment at or before it to the next
 * one (≥ 10 s later). Tick to tick, a coarse register (0.1 or 1 kWh steps) reads as its average
 * power instead of alternating 0 and bursts. After the last increment the slope is the most a
 * flat register could hide (one step over the time since): idle only if that is below 0.5 kW.
 */
function registerSlopes(E: Series, D: number[], res: number): number[] {
  const n = E.t.length;
  const out: number[] = new Array(n).fill(NaN);
  const step = res > 0 ? res : 0.001;
  const ticks: number[] = [];
  for (let i = 1; i < n; i++) if (D[i] > D[i - 1] + EPS) ticks.push(i);
  let k = 0;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    while (k < ticks.length && ticks[k] <= i) prev = ticks[k++];
    if (k === 0 && k < ticks.length) {
      // Before the register's first step nothing says when charging began: each interval's own
      // slope (flat ones are idle, the one with the step is the step over its length).
      out[i] = (D[i + 1] - D[i]) / ((E.t[i + 1] - E.t[i]) / H);
      continue;
    }
    let j = k;
    while (j < ticks.length && E.t[ticks[j]] - E.t[prev] < 10_000) j++;
    if (j < ticks.length) {
      const next = ticks[j];
      out[i] = (D[next] - D[prev]) / ((E.t[next] - E.t[prev]) / H);
      if (i > prev) {
        // Flat since the last step: less than a step was delivered since, whatever came later.
        out[i] = Math.min(out[i], step / ((E.t[i] - E.t[prev]) / H));
      } else if (i + 1 < n && D[i + 1] <= D[i] + EPS && step / ((E.t[i + 1] - E.t[i]) / H) < CHARGING_KW) {
        // The last step before the register goes idle: the rate that led up to it (at the first
        // reading, with nothing before it, the idle that follows).
        const before = k >= 2 ? ticks[k - 2] : -1;
        out[i] = before >= 0 ? (D[i] - D[before]) / ((E.t[i] - E.t[before]) / H) : step / ((E.t[i + 1] - E.t[i]) / H);
      }
    } else if (i === n - 1 && prev === i && k >= 2) {
      const before = ticks[k - 2];
      out[i] = (D[i] - D[before]) / ((E.t[i] - E.t[before]) / H); // still charging at the last reading
    } else {
      const span = E.t[n - 1] - E.t[prev];
      if (span > 0) out[i] = step / (span / H);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Categories

function zeroSession(c: Ctx): Anomaly | null {
  const { w } = c;
  // Judged over all readings received: the dropped start of a long session counts too.
  const span = w.tEnd - w.t0 + (w.truncated ? WINDOW_SPAN_MS : 0);
  if (span < ZERO_MIN_SPAN_MS || (!c.hasE && !c.hasP) || w.before.charged) return null;
  if (c.act.v.some((p) => p > CHARGING_KW)) return null;
  const energy = w.before.deliveredKwh + (c.hasE ? c.D[c.D.length - 1] : integrate(c.P));
  if (!(energy < ZERO_KWH)) return null;
  const score = 0.4 + 0.3 * clamp01(1 - energy / ZERO_KWH) + 0.3 * clamp01(span / (30 * MIN));
  const conf = (c.hasE && c.hasP ? 0.9 : c.hasE ? 0.8 : 0.65) * (0.85 + 0.15 * c.density);
  return anomaly(c, 'ZERO_SESSION', 0, w.bucketCount - 1, score, conf);
}

function registerDips(c: Ctx): Anomaly[] {
  const { E, w } = c;
  return c.dips.map((d) => {
    const start = bucket(c, E.t[d.j]);
    const end = d.k >= 0 ? Math.max(start, bucket(c, E.t[d.k]) - 1) : w.bucketCount - 1;
    const depth = d.maxV - d.minV;
    const excess = clamp01(Math.log10(depth / c.thr) / 3);
    const resetToZero = d.minV <= c.thr;
    if (d.pit) {
      const dur = E.t[d.k] - E.t[d.j];
      const score = 0.35 + 0.45 * excess + 0.2 * clamp01(dur / RECOVERY_MS);
      const conf = (d.ambiguous ? 0.55 : 0.85) + (resetToZero ? 0.05 : 0);
      return anomaly(c, 'ENERGY_PIT', start, end, score, conf);
    }
    const until = d.k >= 0 ? E.t[d.k] : w.tEnd;
    const evidence = (d.k >= 0 ? E.t[d.k - 1] : w.tEnd) - E.t[d.j];
    const score = 0.35 + 0.4 * excess + 0.25 * clamp01((until - E.t[d.j]) / (30 * MIN));
    const conf = (evidence >= RECOVERY_MS ? 0.85 : 0.6) + (resetToZero ? 0.05 : 0);
    return anomaly(c, 'KWH_DECREASE', start, end, score, conf);
  });
}

interface Span {
  start: number;
  end: number;
  /** kWh not explained. */
  amount: number;
  conf: number;
}

/**
 * (a) an idle-power stretch ≥ 1 min whose register rises ≥ 0.05 kWh more than its readings
 * explain; (b) any interval rising faster than 1.5 × the highest plausible power. Under-reported
 * power while both say energy flows is left to INCORRECT_ACTIVE_POWER_REGISTER, so (b) bounds such
 * intervals by the station only.
 */
function unexplainedAccrual(c: Ctx): Anomaly[] {
  const { E, P, D } = c;
  if (!c.hasE || E.t.length < 2) return [];
  const spans: Span[] = [];

  if (c.hasP) {
    let s = 0;
    while (s < P.t.length) {
      if (P.v[s] > CHARGING_KW) {
        s++;
        continue;
      }
      let e = s;
      while (e + 1 < P.t.length && P.v[e + 1] <= CHARGING_KW && P.t[e + 1] - P.t[e] <= MAX_GAP_MS) e++;
      const ts = P.t[s];
      const te = P.t[e];
      if (te - ts >= ACCRUAL_MIN_MS) {
        let explained = 0;
        for (let k = s; k < e; k++) explained += Math.max(P.v[k], P.v[k + 1]) * ((P.t[k + 1] - P.t[k]) / H);
        const a = lowerBound(E.t, ts - SKEW_MS);
        const b = lowerBound(E.t, te + SKEW_MS + 1) - 1;
        if (b > a && D[b] - D[a] - explained >= ACCRUAL_KWH) {
          let first = -1;
          let last = -1;
          for (let i = a; i < b; i++) {
            if (D[i + 1] - D[i] > EPS) {
              if (first < 0) first = i;
              last = i;
            }
          }
          const conf = 0.85 * (0.8 + 0.2 * c.density);
          spans.push({ start: bucket(c, E.t[first]), end: bucket(c, E.t[last + 1]), amount: D[b] - D[a] - explained, conf });
        }
      }
      s = e + 1;
    }
  }

  const absolute = c.rating ?? DEFAULT_MAX_KW;
  const reported = c.powerPeak > CHARGING_KW ? Math.min(c.powerPeak, DEFAULT_MAX_KW) : 0;
  const plausible = Math.max(c.rating ?? 0, reported) || DEFAULT_MAX_KW;
  const margin = Math.max(ACCRUAL_KWH, c.res);
  for (let i = 0; i + 1 < E.t.length; i++) {
    const dt = (E.t[i + 1] - E.t[i]) / H;
    const inc = D[i + 1] - D[i];
    if (c.skip[i] || dt <= 0 || inc <= 0) continue;
    const bound = powerSaysFlowing(c, E.t[i], E.t[i + 1]) ? absolute : plausible;
    const excess = inc - RATE_FACTOR * bound * dt;
    // The margin (≥ one register step) keeps quantisation and ms-apart readings from firing.
    if (excess >= margin) {
      const ratio = inc / dt / (RATE_FACTOR * bound);
      spans.push({ start: bucket(c, E.t[i]), end: bucket(c, E.t[i + 1]), amount: excess, conf: ratio >= 3 ? 0.85 : 0.65 });
    }
  }

  return mergeSpans(spans).map((s) => {
    const dur = (s.end - s.start + 1) * 15_000;
    const score = 0.3 + 0.45 * clamp01(Math.log10(s.amount / ACCRUAL_KWH) / 2) + 0.25 * clamp01(dur / (15 * MIN));
    return anomaly(c, 'UNEXPECTED_KWH_ACCUMULATE', s.start, s.end, score, s.conf);
  });
}

/** Does any power reading in or next to [a, b] (within the sparse-reading gap) exceed idle? */
function powerSaysFlowing(c: Ctx, a: number, b: number): boolean {
  const { P } = c;
  if (!c.hasP) return false;
  let i = lowerBound(P.t, a - SKEW_MS);
  if (i > 0 && a - P.t[i - 1] <= MAX_GAP_MS && P.v[i - 1] > CHARGING_KW) return true;
  for (; i < P.t.length && P.t[i] <= b + SKEW_MS; i++) if (P.v[i] > CHARGING_KW) return true;
  return i < P.t.length && P.t[i] - b <= MAX_GAP_MS && P.v[i] > CHARGING_KW;
}

interface Comparison {
  a: number;
  b: number;
  slope: number;
  pMean: number;
  pMin: number;
  pMax: number;
  /** Slope uncertainty (kW) from the register's resolution. */
  quant: number;
}

/**
 * Power vs register slope, on the grid of the sparser of the two series (so a power step between
 * sparse power samples is not compared against every dense energy interval). Runs of ≥ 2
 * disagreeing intervals spanning ≥ 2 min are reported. An interval whose slope lies within the
 * range of its power readings is not counted: power may have stepped anywhere inside it.
 */
function powerMismatch(c: Ctx): Anomaly[] {
  const { E, P } = c;
  if (E.t.length < 2 || P.t.length < 2) return [];
  const lo = Math.max(E.t[0], P.t[0]) - SKEW_MS;
  const hi = Math.min(E.t[E.t.length - 1], P.t[P.t.length - 1]) + SKEW_MS;
  const count = (t: number[]) => lowerBound(t, hi + 1) - lowerBound(t, lo);
  const cmps = count(P.t) < count(E.t) ? onPowerGrid(c, lo, hi) : onEnergyGrid(c);

  const out: Anomaly[] = [];
  let run: Comparison[] = [];
  let ratios: number[] = [];
  let runEnd = NaN; // end of the last interval looked at in the run, neutral ones included
  const flush = () => {
    if (run.length >= MISMATCH_MIN_INTERVALS && run[run.length - 1].b - run[0].a >= MISMATCH_MIN_MS) {
      const span = run[run.length - 1].b - run[0].a;
      const mean = ratios.reduce((s, r) => s + r, 0) / ratios.length;
      const score = 0.3 + 0.4 * clamp01((mean - 1) / 3) + 0.3 * clamp01(span / (15 * MIN));
      const conf = (0.7 + (mean >= 3 ? 0.1 : 0) + (run.length >= 5 ? 0.05 : 0)) * (0.8 + 0.2 * c.density);
      out.push(anomaly(c, 'INCORRECT_ACTIVE_POWER_REGISTER', bucket(c, run[0].a), bucket(c, run[run.length - 1].b), score, conf));
    }
    run = [];
    ratios = [];
  };
  for (const x of cmps) {
    if (x === null || x.pMean <= CHARGING_KW || (run.length && runEnd !== x.a)) flush();
    if (x === null || x.pMean <= CHARGING_KW) continue;
    // The register "says energy flows" when it rises at all: a kWh register labelled Wh creeps at
    // 1/1000 of the power and must still be compared. An interval without any increment (a coarse
    // register between steps) neither confirms nor breaks a run.
    if (x.slope <= 0) {
      runEnd = x.b;
      continue;
    }
    const tolMean = Math.max(MISMATCH_ABS_KW, MISMATCH_REL * Math.max(x.pMean, x.slope)) + x.quant;
    const nearest = Math.min(Math.max(x.slope, x.pMin), x.pMax);
    const tolRange = Math.max(MISMATCH_ABS_KW, MISMATCH_REL * Math.max(nearest, x.slope)) + x.quant;
    const disagree = Math.abs(x.pMean - x.slope) > tolMean && Math.abs(x.slope - nearest) > tolRange;
    if (!disagree) {
      flush();
      continue;
    }
    run.push(x);
    ratios.push(Math.abs(x.pMean - x.slope) / tolMean);
    runEnd = x.b;
  }
  flush();
  return out;
}

/** Energy intervals, with the power readings inside (endpoints interpolated where needed). */
function onEnergyGrid(c: Ctx): (Comparison | null)[] {
  const { E, P, D } = c;
  const out: (Comparison | null)[] = [];
  for (let i = 0; i + 1 < E.t.length; i++) {
    const a = E.t[i];
    const b = E.t[i + 1];
    if (c.skip[i] || b - a < 1000) {
      out.push(null);
      continue;
    }
    points.reset();
    const pa = interp(P.t, P.v, a, MAX_GAP_MS, SKEW_MS);
    if (pa !== undefined) points.add(a, pa);
    for (let k = lowerBound(P.t, a + SKEW_MS + 1); k < P.t.length && P.t[k] < b - SKEW_MS; k++) points.add(P.t[k], P.v[k]);
    const pb = interp(P.t, P.v, b, MAX_GAP_MS, SKEW_MS);
    if (pb !== undefined) points.add(b, pb);
    if (points.count === 0) {
      out.push(null);
      continue;
    }
    const dt = (b - a) / H;
    out.push(comparison(points, a, b, (D[i + 1] - D[i]) / dt, c.res / dt));
  }
  return out;
}

/** Power intervals, with the (denser) register interpolated at their ends. */
function onPowerGrid(c: Ctx, lo: number, hi: number): (Comparison | null)[] {
  const { E, P, D } = c;
  const out: (Comparison | null)[] = [];
  for (let k = lowerBound(P.t, lo); k + 1 < P.t.length && P.t[k + 1] <= hi; k++) {
    const a = P.t[k];
    const b = P.t[k + 1];
    const da = interp(E.t, D, a, MAX_GAP_MS, SKEW_MS);
    const db = interp(E.t, D, b, MAX_GAP_MS, SKEW_MS);
    let dipped = false;
    for (let i = Math.max(0, lowerBound(E.t, a) - 1); i < c.skip.length && E.t[i] < b; i++) if (c.skip[i]) dipped = true;
    if (b - a < 1000 || da === undefined || db === undefined || dipped) {
      out.push(null);
      continue;
    }
    const dt = (b - a) / H;
    points.reset().add(a, P.v[k]).add(b, P.v[k + 1]);
    out.push(comparison(points, a, b, (db - da) / dt, (2 * c.res) / dt));
  }
  return out;
}

/**
 * Power points of one interval, added in time order: their time-weighted mean (trapezoids over
 * their span; the value itself for one point), min and max, without holding the points. One is
 * reused from interval to interval: an array of pairs per interval was a tenth of everything the
 * analysis allocated per session.
 */
export class PowerPoints {
  count = 0;
  min = Infinity;
  max = -Infinity;
  private area = 0;
  private firstT = 0;
  private firstV = 0;
  private lastT = 0;
  private lastV = 0;

  reset(): this {
    this.count = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.area = 0;
    return this;
  }

  add(t: number, v: number): this {
    if (this.count === 0) {
      this.firstT = t;
      this.firstV = v;
    } else this.area += ((this.lastV + v) / 2) * (t - this.lastT);
    this.min = Math.min(this.min, v);
    this.max = Math.max(this.max, v);
    this.lastT = t;
    this.lastV = v;
    this.count++;
    return this;
  }

  get mean(): number {
    if (this.count === 1) return this.firstV;
    const span = this.lastT - this.firstT;
    return span > 0 ? this.area / span : (this.min + this.max) / 2;
  }
}

const points = new PowerPoints();

function comparison(p: PowerPoints, a: number, b: number, slope: number, quant: number): Comparison {
  return { a, b, slope, pMean: p.mean, pMin: p.min, pMax: p.max, quant };
}

/**
 * SoC outside 0–100; falling > 2 points while energy flows in; rising between two readings more
 * than the delivered energy explains for the session's own battery, + 3 points.
 */
function chargeLevel(c: Ctx): Anomaly[] {
  const { S } = c;
  const m = S.t.length;
  if (m === 0) return [];
  const spans: (Span & { score: number })[] = [];

  for (let i = 0; i < m; i++) {
    if (S.v[i] < 0 || S.v[i] > 100) {
      const off = S.v[i] > 100 ? S.v[i] - 100 : -S.v[i];
      spans.push({ start: bucket(c, S.t[i]), end: bucket(c, S.t[i]), amount: off, conf: 0.9, score: 0.5 + 0.5 * clamp01(off / 20) });
    }
  }

  const energyAt = energyAtFn(c);
  const flowing = flowingFn(c, energyAt);
  const baseConf = c.hasE ? 0.8 : c.hasP ? 0.6 : 0.5;

  // Falls: against the highest SoC since energy last stopped flowing.
  let r = 0;
  for (let j = 1; j < m; j++) {
    if (!flowing(S.t[j - 1], S.t[j])) {
      r = j;
      continue;
    }
    const fall = S.v[r] - S.v[j];
    if (fall > SOC_FALL_POINTS + EPS) {
      spans.push({
        start: bucket(c, S.t[r]),
        end: bucket(c, S.t[j]),
        amount: fall,
        conf: baseConf * (0.8 + 0.2 * c.density),
        score: 0.35 + 0.4 * clamp01((fall - SOC_FALL_POINTS) / 20) + 0.25 * clamp01((S.t[j] - S.t[r]) / (15 * MIN)),
      });
      r = j;
    } else if (S.v[j] >= S.v[r]) r = j;
  }

  // Rises: between consecutive SoC readings, at most what the delivered energy explains for the
  // battery the session itself shows, + 3 points.
  const battery = sessionBatteryKwh(S, energyAt, flowing);
  const deliveredBetween = deliveredBetweenFn(c);
  for (let j = 1; j < m; j++) {
    const de = deliveredBetween(S.t[j - 1], S.t[j]);
    if (de === undefined) continue;
    const over = S.v[j] - S.v[j - 1] - (100 * de) / battery - SOC_RISE_SLACK;
    if (over > EPS) {
      spans.push({
        start: bucket(c, S.t[j - 1]),
        end: bucket(c, S.t[j]),
        amount: over,
        conf: baseConf * (0.8 + 0.2 * c.density),
        score: 0.35 + 0.45 * clamp01(over / 20) + 0.2 * clamp01((S.t[j] - S.t[j - 1]) / (15 * MIN)),
      });
    }
  }

  const merged = mergeSpans(spans);
  return merged.map((s) => {
    const inside = spans.filter((x) => x.start >= s.start && x.end <= s.end);
    const score = maxOf(inside.map((x) => x.score));
    return anomaly(c, 'UNEXPECTED_CHARGE_LEVEL_CHANGES', s.start, s.end, score, s.conf);
  });
}

/** Energy delivered up to instant t: the register where there is one, else what power can explain at most. */
export function energyAtFn(c: Ctx): (t: number) => number | undefined {
  if (c.hasE) return (t) => interp(c.E.t, c.D, t, Infinity, SKEW_MS, MAX_GAP_MS);
  return powerEnergyAtFn(c);
}

/** The most the power readings explain up to instant t (kWh); undefined without power. */
function powerEnergyAtFn(c: Ctx): (t: number) => number | undefined {
  if (!c.hasP) return () => undefined;
  const cum = [0];
  for (let k = 0; k + 1 < c.P.t.length; k++) cum.push(cum[k] + Math.max(c.P.v[k], c.P.v[k + 1]) * ((c.P.t[k + 1] - c.P.t[k]) / H));
  return (t) => interp(c.P.t, cum, t, Infinity, SKEW_MS, MAX_GAP_MS);
}

/**
 * Energy delivered between two SoC readings: the register's, except across a register dip (its
 * drop, hole or jump back), where what was delivered is not known: there the most power explains,
 * if it covers the span, else undefined (the step is not judged).
 */
export function deliveredBetweenFn(c: Ctx): (a: number, b: number) => number | undefined {
  const energyAt = energyAtFn(c);
  const byPower = powerEnergyAtFn(c);
  return (a, b) => {
    const ea = energyAt(a);
    const eb = energyAt(b);
    if (ea === undefined || eb === undefined) return undefined;
    if (!c.hasE || !dipBetween(c, a, b)) return Math.max(0, eb - ea);
    const pa = byPower(a);
    const pb = byPower(b);
    return pa === undefined || pb === undefined ? undefined : Math.max(0, eb - ea, pb - pa);
  };
}

/** A register dip (its drop, its hole or its jump back) inside [a, b]. */
export function dipBetween(c: Ctx, a: number, b: number): boolean {
  const { E } = c;
  for (let i = Math.max(0, lowerBound(E.t, a) - 1); i < c.skip.length && E.t[i] < b; i++) if (c.skip[i] && E.t[i + 1] > a) return true;
  return false;
}

/** Energy flows in over [a, b]: the register rises faster than idle, or a power reading inside says so. */
export function flowingFn(c: Ctx, energyAt: (t: number) => number | undefined): (a: number, b: number) => boolean {
  return (a, b) => {
    const ea = energyAt(a);
    const eb = energyAt(b);
    if (c.hasE && ea !== undefined && eb !== undefined && b > a && (eb - ea) / ((b - a) / H) > CHARGING_KW) return true;
    return powerSaysFlowingStrict(c, a, b);
  };
}

/**
 * The usable battery (kWh) the session itself shows: 100 ÷ the median SoC points per kWh over its
 * charging intervals, floored at 5 kWh; 15 kWh when it shows too little. Consecutive charging
 * intervals are pooled until they carry ≥ 0.5 kWh, so that whole-point SoC readings a few seconds
 * apart (mostly +0, sometimes +1) are not read as ratios of 0 and of hundreds. Intervals from a
 * SoC of 100 are left out.
 */
export function sessionBatteryKwh(S: Series, energyAt: (t: number) => number | undefined, flowing: (a: number, b: number) => boolean): number {
  const ratios: number[] = [];
  let dE = 0;
  let dS = 0;
  for (let j = 1; j < S.t.length; j++) {
    const ea = energyAt(S.t[j - 1]);
    const eb = energyAt(S.t[j]);
    // A SoC pinned at 100 shows nothing of the battery.
    if (ea === undefined || eb === undefined || !flowing(S.t[j - 1], S.t[j]) || S.v[j - 1] >= 100) {
      dE = 0;
      dS = 0;
      continue;
    }
    dE += eb - ea;
    dS += S.v[j] - S.v[j - 1];
    if (dE >= BATTERY_CHUNK_KWH) {
      ratios.push(dS / dE);
      dE = 0;
      dS = 0;
    }
  }
  if (ratios.length < BATTERY_MIN_CHUNKS) return SMALL_BATTERY_KWH;
  ratios.sort((x, y) => x - y);
  const h = ratios.length >> 1;
  const median = ratios.length % 2 ? ratios[h] : (ratios[h - 1] + ratios[h]) / 2;
  return median > 0 ? Math.max(MIN_BATTERY_KWH, 100 / median) : MAX_BATTERY_KWH;
}

/** A power reading inside [a, b] above idle (no look-around: used to confirm energy flow). */
function powerSaysFlowingStrict(c: Ctx, a: number, b: number): boolean {
  for (let i = lowerBound(c.P.t, a); i < c.P.t.length && c.P.t[i] <= b; i++) if (c.P.v[i] > CHARGING_KW) return true;
  return false;
}

/**
 * After charging has started: an idle stretch ≥ 10 min (register up < 0.01 kWh) that began with an
 * abrupt stop (last power ≥ 50 % of the session peak, no taper), with evidence the car still wanted
 * energy: a later resumption (≥ 30 % of the peak or ≥ 1 kWh), or SoC below 70 % at the stop.
 * A short low-power draw after the stop (pre-conditioning, balancing) ends the idle stretch but
 * is no resumption.
 */
function chargingExpected(c: Ctx): Anomaly[] {
  const { act, S } = c;
  const out: Anomaly[] = [];
  const eps = chargingEpisodes(c);
  const real = eps.filter((e) => e.real);
  for (let k = 0; k < real.length; k++) {
    const stop = real[k].last;
    const s = stop + 1;
    if (s >= act.t.length) continue;
    const next = real[k + 1];
    // The idle stretch ends at the next charging reading: a resumption, or a short draw (which
    // is no evidence of a resumption, and starts no stretch of its own: it is not a stop).
    const draw = eps.find((x) => !x.real && x.first > stop && (!next || x.first < next.first));
    const e = draw ? draw.first - 1 : next ? next.first - 1 : act.t.length - 1;
    const ts = act.t[s];
    const te = act.t[e];
    if (e < s || te - ts < IDLE_EXPECTED_MS) continue;
    if (c.hasE) {
      const ia = lowerBound(c.E.t, ts - SKEW_MS);
      const ib = lowerBound(c.E.t, te + SKEW_MS + 1) - 1;
      if (ib > ia && c.D[ib] - c.D[ia] >= FLAT_KWH) continue;
    }
    const pLast = act.v[stop];
    if (pLast < ABRUPT_FRACTION * c.peak || tapered(act, stop)) continue;
    const soc = socAtStop(S, act.t[stop], ts);
    const lowSoc = soc !== null && soc < SOC_WANTS;
    if (!next && !lowSoc) continue; // a stop at the car's limit
    const socFactor = soc !== null ? clamp01((SOC_WANTS - soc) / 50) : 0.5;
    const conf = (next && lowSoc ? 0.9 : lowSoc ? 0.8 : 0.75) * (0.75 + 0.25 * c.density);
    const score = 0.35 + 0.35 * clamp01((te - ts - IDLE_EXPECTED_MS) / (50 * MIN)) + 0.3 * Math.max(socFactor, next ? 0.5 : 0);
    out.push(anomaly(c, 'CHARGING_EXPECTED', bucket(c, ts), bucket(c, te), score, conf));
  }
  return out;
}

export interface Episode {
  /** First and last activity reading above the charging threshold. */
  first: number;
  last: number;
  /** Reaches ≥ 30 % of the session peak or delivers ≥ 1 kWh: charging, not a short draw. */
  real: boolean;
}

/** Runs of charging activity; the first one always counts as charging having started. */
export function chargingEpisodes(c: Ctx): Episode[] {
  const { act } = c;
  const out: Episode[] = [];
  let i = 0;
  while (i < act.t.length) {
    if (act.v[i] <= CHARGING_KW) {
      i++;
      continue;
    }
    let j = i;
    let top = act.v[i];
    while (j + 1 < act.t.length && act.v[j + 1] > CHARGING_KW) top = Math.max(top, act.v[++j]);
    const kwh = episodeKwh(c, i, j);
    // Without power, the register's slope after its last step is only the most it could hide:
    // what it did deliver across the run says how strong the run was.
    if (!c.hasP) {
      const hours = (act.t[Math.min(act.t.length - 1, j + 1)] - act.t[Math.max(0, i - 1)]) / H;
      if (hours > 0) top = Math.min(top, kwh / hours);
    }
    out.push({ first: i, last: j, real: out.length === 0 || top >= RESUME_FRACTION * c.peak || kwh >= RESUME_KWH });
    i = j + 1;
  }
  return out;
}

/** Energy of an episode: the register across it, else what its power readings explain. */
function episodeKwh(c: Ctx, i: number, j: number): number {
  const { act } = c;
  const a = act.t[i > 0 ? i - 1 : i];
  const b = act.t[j + 1 < act.t.length ? j + 1 : j];
  if (c.hasE) {
    const da = interp(c.E.t, c.D, a, Infinity, SKEW_MS, MAX_GAP_MS);
    const db = interp(c.E.t, c.D, b, Infinity, SKEW_MS, MAX_GAP_MS);
    if (da !== undefined && db !== undefined) return db - da;
  }
  let kwh = 0;
  for (let k = Math.max(0, i - 1); k < Math.min(act.t.length - 1, j + 1); k++) kwh += Math.max(act.v[k], act.v[k + 1]) * ((act.t[k + 1] - act.t[k]) / H);
  return kwh;
}

/** SoC at a stop: the highest of the last reading before the idle stretch and the first in it. */
export function socAtStop(S: Series, tStop: number, tIdle: number): number | null {
  if (S.t.length === 0) return null;
  const vals: number[] = [];
  const before = lowerBound(S.t, tIdle) - 1;
  if (before >= 0 && tStop - S.t[before] <= MAX_GAP_MS) vals.push(S.v[before]);
  if (before + 1 < S.t.length && S.t[before + 1] - tIdle <= MAX_GAP_MS) vals.push(S.v[before + 1]);
  return vals.length ? maxOf(vals) : null;
}

/**
 * A gradual decline into the stop: over the last 15 min of charging readings (at least 3), power
 * fell by ≥ 25 % of its top and no single step made more than 60 % of that fall (a load-management
 * step-down is one big step).
 */
function tapered(act: Series, stop: number): boolean {
  const from = act.t[stop] - TAPER_LOOKBACK_MS;
  const vals: number[] = [];
  for (let i = stop; i >= 0 && act.t[i] >= from && act.v[i] > CHARGING_KW; i--) vals.push(act.v[i]);
  if (vals.length < 3) return false;
  vals.reverse();
  const top = maxOf(vals);
  const decline = top - vals[vals.length - 1];
  if (decline < 0.25 * top) return false;
  let biggest = 0;
  for (let i = 0; i + 1 < vals.length; i++) biggest = Math.max(biggest, vals[i] - vals[i + 1]);
  return biggest <= 0.6 * decline;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function anomaly(c: Ctx, category: AnomalyCategory, start: number, end: number, score: number, confidence: number): Anomaly {
  const last = c.w.bucketCount - 1;
  const s = Math.min(Math.max(0, start), last);
  const e = Math.min(Math.max(s, end), last);
  return {
    category,
    score: round3(clamp01(score)),
    confidence: round3(Math.min(0.99, clamp01(confidence))),
    bucketRange: { startUnit: s, endUnit: e },
    timeRange: timeRangeOf(c.w.t0, s, e),
  };
}

function bucket(c: Ctx, t: number): number {
  return Math.min(Math.max(0, bucketOf(t, c.w.t0)), c.w.bucketCount - 1);
}

/** Overlapping or adjacent bucket spans become one (amounts add up, confidence is the best). */
function mergeSpans<T extends Span>(spans: T[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.start <= last.end + 1) {
      last.end = Math.max(last.end, s.end);
      last.amount += s.amount;
      last.conf = Math.max(last.conf, s.conf);
    } else out.push({ start: s.start, end: s.end, amount: s.amount, conf: s.conf });
  }
  return out;
}

/** Index of the first element ≥ x. */
export function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * y at x: the reading within `tol`, else linear between the neighbours when they are at most
 * `maxGap` apart; outside the series the end reading when within `edge`, else undefined.
 */
export function interp(xs: number[], ys: number[], x: number, maxGap: number, tol: number, edge = tol): number | undefined {
  const n = xs.length;
  if (n === 0) return undefined;
  const i = lowerBound(xs, x);
  const dr = i < n ? xs[i] - x : Infinity;
  const dl = i > 0 ? x - xs[i - 1] : Infinity;
  if (dr <= tol || dl <= tol) return dr <= dl ? ys[i] : ys[i - 1];
  if (i === 0) return dr <= edge ? ys[0] : undefined;
  if (i === n) return dl <= edge ? ys[n - 1] : undefined;
  if (xs[i] - xs[i - 1] > maxGap) return undefined;
  return ys[i - 1] + ((ys[i] - ys[i - 1]) * (x - xs[i - 1])) / (xs[i] - xs[i - 1]);
}

/** Trapezoid integral of a power series (kWh). */
/** Energy (kWh) of a power series in kW: the trapezoid integral. */
export function integrate(P: Series): number {
  let e = 0;
  for (let i = 0; i + 1 < P.t.length; i++) e += ((P.v[i] + P.v[i + 1]) / 2) * ((P.t[i + 1] - P.t[i]) / H);
  return e;
}

/** Math.max(...xs) without spreading thousands of arguments onto the stack. */
function maxOf(xs: number[]): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) if (xs[i] > m) m = xs[i];
  return m;
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : Number.isFinite(x) ? x : 0;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
