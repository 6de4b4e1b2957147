// SORC's served trajectory: the network's per-bucket SoC made to obey the physics of charging.
//
// SoC moves only with the energy the car takes in: SoC(t) = s0 + 100·D(t)/C (D = energy delivered
// since the window start, C = the usable battery as the SoC sees it). The network's per-bucket
// predictions (weighted by its σ) choose s0 in [0, 100] and C in [5, 200] kWh; the served trajectory
// is that line, clamped at 100. So it is flat when no energy flows, never falls while energy rises
// and never leaves 0–100, whatever the network says bucket by bucket. The fit is a 2-parameter
// weighted least squares on sufficient statistics: O(buckets).
//
// The confidence (P(|error| ≤ 10 points), averaged over the overlay's points) and the per-point
// uncertainty band come from a map fitted on validation sessions whose SoC is hidden
// (models/training/calibrate.ts → postprocess.json `sorc`).
import type { AnalysisWindow, SocOverlay, SocPoints } from '../../domain/analysis/types';
import { stationRating } from '../../domain/analysis/physics-detector';
import { BUCKET_MS } from '../../domain/analysis/window';
import type { ConfidenceMap } from './postprocess';
import { applyConfidence } from './postprocess';

const H = 3_600_000;
/** Usable battery range the fit may choose (kWh): motorbikes/small PHEVs to the largest trucks. */
export const SORC_C_MIN_KWH = 5;
export const SORC_C_MAX_KWH = 200;
const K_MIN = 100 / SORC_C_MAX_KWH;
const K_MAX = 100 / SORC_C_MIN_KWH;
/** The slope the fit leans towards when the window cannot tell it (a 60 kWh battery), and how hard. */
const K_PRIOR = 100 / 60;
const K_PRIOR_WEIGHT = 0.1;
/** Plausible power without a peak power reading or a station rating (anomaly-categories.md). */
const DEFAULT_MAX_KW = 350;
/** σ below this (points) does not weigh more: the network is never that sure. */
const SIGMA_FLOOR = 1;

/**
 * Fitted on validation (calibrate.ts): how sure the fitted trajectory is. `confidence` maps the
 * raw confidence of a session (`SorcReconstruction.rawConfidence`) to the share of its points actually
 * within 10 points (isotonic). `band`: the per-point half-width of the interval that holds
 * `band.coverage` of validation points is `band.scale` × the point's spread (`SorcFit.spread`).
 */
export interface SorcCalibration {
  confidence: ConfidenceMap;
  band?: { coverage: number; scale: number };
  /** What it was measured on (for the record). */
  fittedOn?: { sessions: number; points: number; withinTen: number; mae: number };
}

/** The physics fit of one session. */
export interface SorcFit {
  /** SoC at the window start (%). */
  s0: number;
  /** SoC points per kWh (= 100 / C). */
  k: number;
  /** Per bucket: the fitted trajectory (%), in [0, 100]. */
  soc: Float32Array;
  /** Per bucket: the spread of the fitted value (points, 1 σ, before calibration): √(σ² + residual²). */
  spread: Float32Array;
  /** Delivered energy over the window (kWh). */
  deliveredKwh: number;
  /** Weighted RMS distance of the network's predictions from the fitted line (points). */
  residual: number;
}

/**
 * Energy delivered since the window start at each bucket centre (kWh, non-decreasing). From the
 * register where it has ≥ 2 readings — increments outside dips; a reading back from a dip (a pit)
 * credits only what lies above the old maximum; a register that restarts lower (a reset) counts on;
 * no interval credits more than 1.5 × the plausible power allows — else from the power readings
 * (trapezoids; standby readings below the charging threshold count nothing).
 */
export function deliveredPerBucket(w: AnalysisWindow, T = w.bucketCount, metadata?: Record<string, unknown> | null): Float64Array {
  const out = new Float64Array(T);
  const E = w.energy;
  const P = w.power;
  // The fastest the register may plausibly rise (kW): 1.5 × the session's peak power, the station
  // rating or 350 kW. Faster accrual (a register jump) is not energy in the car.
  let peak = 0;
  for (const v of P.v) if (v > peak) peak = v;
  const rating = stationRating(metadata);
  const maxKw = 1.5 * Math.max(peak, rating ?? 0, peak > 0 || rating ? 0 : DEFAULT_MAX_KW, 1);
  if (E.t.length >= 2) {
    const n = E.t.length;
    const thr = 0.01 + 1e-9;
    const cum = new Float64Array(n);
    let max = E.v[0];
    let prevDeficit = 0;
    for (let i = 1; i < n; i++) {
      const runMax = max;
      const deficit = Math.max(0, runMax - E.v[i]);
      const a = prevDeficit > thr;
      const b = deficit > thr;
      const d = E.v[i] - E.v[i - 1];
      let inc: number;
      if (a === b) inc = Math.max(0, d);
      else if (!b) inc = Math.max(0, E.v[i] - runMax); // back at the maximum: only what lies above it
      else inc = 0; // into a dip
      const cap = (maxKw * (E.t[i] - E.t[i - 1])) / H;
      cum[i] = cum[i - 1] + Math.min(inc, cap);
      if (E.v[i] > max) max = E.v[i];
      prevDeficit = deficit;
    }
    interpolate(E.t, cum, w.t0, T, out);
    return out;
  }
  if (P.t.length >= 2) {
    const n = P.t.length;
    const cum = new Float64Array(n);
    for (let i = 1; i < n; i++) {
      const dt = P.t[i] - P.t[i - 1];
      const kw = (Math.max(0, P.v[i]) + Math.max(0, P.v[i - 1])) / 2;
      // Below the charging threshold a reading is standby noise, not energy into the car.
      const charging = P.v[i] > 0.5 || P.v[i - 1] > 0.5;
      cum[i] = cum[i - 1] + (charging ? (kw * dt) / H : 0);
    }
    interpolate(P.t, cum, w.t0, T, out);
  }
  return out;
}

/** Linear interpolation of (t, y) at bucket centres; flat before the first and after the last. */
function interpolate(t: number[], y: Float64Array, t0: number, T: number, out: Float64Array): void {
  const base = y[0];
  let i = 0;
  for (let b = 0; b < T; b++) {
    const tc = t0 + (b + 0.5) * BUCKET_MS;
    while (i + 1 < t.length && t[i + 1] <= tc) i++;
    let v: number;
    if (tc <= t[0]) v = y[0];
    else if (i + 1 >= t.length) v = y[t.length - 1];
    else v = y[i] + ((y[i + 1] - y[i]) * (tc - t[i])) / (t[i + 1] - t[i] || 1);
    out[b] = v - base;
  }
}

/**
 * The physics fit: s0 and k = 100/C minimising Σ w (s0 + k·D − soc)² + λ·Σw·(k − k₆₀)², w = 1/σ²,
 * inside the box s0 ∈ [0, 100], k ∈ [100/200, 100/5]. The small pull towards a 60 kWh battery only
 * matters when the window shows too little energy to tell the slope. Solved exactly on the box
 * (interior, else the best point of the four edges): the cost is a convex quadratic in (s0, k).
 */
export function fitSorc(soc: ArrayLike<number>, sigma: ArrayLike<number>, D: ArrayLike<number>, T: number): SorcFit {
  let sw = 0;
  let sd = 0;
  let sdd = 0;
  let sy = 0;
  let sdy = 0;
  let syy = 0;
  let dMax = 0;
  for (let b = 0; b < T; b++) {
    const s = Math.max(SIGMA_FLOOR, sigma[b]);
    const w = 1 / (s * s);
    const d = D[b];
    const y = soc[b];
    sw += w;
    sd += w * d;
    sdd += w * d * d;
    sy += w * y;
    sdy += w * d * y;
    syy += w * y * y;
    if (d > dMax) dMax = d;
  }
  // The prior on k as an extra quadratic term: λ·Σw·(k − K_PRIOR)².
  const lam = K_PRIOR_WEIGHT * sw;
  const Sdd = sdd + lam;
  const Sdy = sdy + lam * K_PRIOR;
  const Syy = syy + lam * K_PRIOR * K_PRIOR;
  const cost = (a: number, k: number) => Syy + a * a * sw + k * k * Sdd - 2 * a * sy - 2 * k * Sdy + 2 * a * k * sd;
  const clampA = (a: number) => Math.min(100, Math.max(0, a));
  const clampK = (k: number) => Math.min(K_MAX, Math.max(K_MIN, k));
  let s0 = 50;
  let k = K_PRIOR;
  const det = sw * Sdd - sd * sd;
  const a0 = det > 0 ? (sy * Sdd - sd * Sdy) / det : NaN;
  const k0 = det > 0 ? (sw * Sdy - sd * sy) / det : NaN;
  if (sw > 0 && a0 >= 0 && a0 <= 100 && k0 >= K_MIN && k0 <= K_MAX) {
    s0 = a0;
    k = k0;
  } else if (sw > 0) {
    // The minimum lies on an edge: k at a bound (best s0), or s0 at a bound (best k).
    const cands: [number, number][] = [];
    for (const kb of [K_MIN, K_MAX]) cands.push([clampA((sy - kb * sd) / sw), kb]);
    for (const ab of [0, 100]) cands.push([ab, clampK((Sdy - ab * sd) / Sdd)]);
    let best = Infinity;
    for (const [a, kk] of cands) {
      const v = cost(a, kk);
      if (v < best) {
        best = v;
        s0 = a;
        k = kk;
      }
    }
  }
  // How far the network strays from the line (weighted RMS, points): added to each point's σ.
  let r2 = 0;
  for (let b = 0; b < T; b++) {
    const s = Math.max(SIGMA_FLOOR, sigma[b]);
    const e = s0 + k * D[b] - soc[b];
    r2 += (e * e) / (s * s);
  }
  const resid2 = sw > 0 ? r2 / sw : 0;
  const out = new Float32Array(T);
  const spread = new Float32Array(T);
  for (let b = 0; b < T; b++) {
    const v = s0 + k * D[b];
    out[b] = v > 100 ? 100 : v < 0 ? 0 : v;
    const s = Math.max(SIGMA_FLOOR, sigma[b]);
    spread[b] = Math.sqrt(s * s + resid2);
  }
  return { s0, k, soc: out, spread, deliveredKwh: dMax, residual: Math.sqrt(resid2) };
}

/** P(|e| ≤ 10) for e ~ N(0, σ²). */
export function withinTen(sigma: number): number {
  return erf(10 / (Math.max(1e-6, sigma) * Math.SQRT2));
}

export function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7), enough for a confidence.
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

/** The overlay's buckets: those with an energy or power reading. */
export function overlayBuckets(w: AnalysisWindow, T: number): number[] {
  const has = new Uint8Array(T);
  for (const s of [w.energy, w.power]) for (const t of s.t) has[Math.min(T - 1, Math.max(0, Math.floor((t - w.t0) / BUCKET_MS)))] = 1;
  const out: number[] = [];
  for (let b = 0; b < T; b++) if (has[b]) out.push(b);
  return out;
}

/** One session's served reconstruction before rounding: the fit, the overlay's buckets, the raw confidence over them. */
export interface SorcReconstruction {
  fit: SorcFit;
  buckets: number[];
  /** Mean over the overlay's buckets of P(|e| ≤ 10) under N(0, spread²): what calibration maps. */
  rawConfidence: number;
}

export function reconstruct(w: AnalysisWindow, metadata: Record<string, unknown> | null | undefined, T: number, soc: ArrayLike<number>, sigma: ArrayLike<number>): SorcReconstruction {
  const fit = fitSorc(soc, sigma, deliveredPerBucket(w, T, metadata), T);
  const buckets = overlayBuckets(w, T);
  let c = 0;
  for (const b of buckets) c += withinTen(fit.spread[b]);
  return { fit, buckets, rawConfidence: buckets.length ? c / buckets.length : 0 };
}

/** The calibrated confidence of a raw one (the raw one where postprocess.json has no `sorc`). */
export function calibratedConfidence(cal: SorcCalibration | null | undefined, raw: number): number {
  return cal && cal.confidence.x.length ? applyConfidence(cal.confidence, raw) : raw;
}

/**
 * The served overlay: one point per bucket that has an energy or power reading, on the physics fit;
 * `sorcConfidence` is the calibrated share of those points within 10 points of the truth. With
 * `withBand`, each point's calibrated half-width as `reconstructedSoc.band`.
 */
export function sorcOverlay(
  w: AnalysisWindow,
  metadata: Record<string, unknown> | null | undefined,
  T: number,
  soc: ArrayLike<number>,
  sigma: ArrayLike<number>,
  cal?: SorcCalibration | null,
  withBand = true,
): SocOverlay {
  const r = reconstruct(w, metadata, T, soc, sigma);
  const values = r.buckets.map((b) => Math.round(r.fit.soc[b] * 10) / 10);
  const any = r.buckets.length > 0;
  const points: SocPoints = { t0: w.t0, buckets: r.buckets, values };
  if (withBand) {
    const scale = cal?.band?.scale ?? 1.2816; // a Gaussian's central 80 % without calibration
    points.band = r.buckets.map((b) => Math.round(scale * r.fit.spread[b] * 10) / 10);
  }
  const confidence = calibratedConfidence(cal, r.rawConfidence);
  return { socReconstructed: any, reconstructedSoc: points, sorcConfidence: any ? Math.round(confidence * 1000) / 1000 : null };
}
