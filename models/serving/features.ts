// The ONE feature extraction of the learned detectors: analysis window → per-15-s-bucket feature
// matrix. `models/training/export-dataset.ts` writes the training tensors with this code and
// `models/onnx-detector.ts` serves with it, so training and serving cannot drift. Any change to
// what a channel means must bump FEATURE_VERSION (the model cards record the version they were
// trained on, and the detector refuses artifacts of another version).
//
// Layout: channel-major Float32Array [FEATURE_COUNT × T] with T = window.bucketCount (≤ 1440):
// exactly the [1, F, T] input of a Conv1d, so serving needs no transpose. The models are fully
// convolutional (any T); training pads batches and masks the padding with the `valid` channel.
//
// Every value is scaled by a fixed transform (log-like for kW/kWh, ratios to the contract's
// thresholds) instead of statistics fitted on a corpus: nothing to store beside the model, and a
// feature means the same on every corpus. The channels encode the quantities the detection
// contract (anomaly-categories.md) talks about — deficits below the register's running maximum,
// register slope against power and against the plausible maximum, SoC against delivered energy,
// idle stretches after charging — as evidence, with 0/1 channels for the contract's own thresholds
// (`*_rule`); the models learn how the evidence combines over time, where each range starts and
// ends, what the look-alikes are, and how sure to be.
import type { AnalysisWindow, Series } from '../../domain/analysis/types';
import { interp as detectorInterp, lowerBound, PowerPoints, registerResolution, sessionBatteryKwh, SHARED_THRESHOLDS, stationRating } from '../../domain/analysis/physics-detector';
import { medianStepMs, BUCKET_MS as WINDOW_BUCKET_MS, MAX_BUCKETS as WINDOW_MAX_BUCKETS } from '../../domain/analysis/window';

// Local copies: a CommonJS import is a property read on every use, which hot loops pay for.
const BUCKET_MS = WINDOW_BUCKET_MS;
const MAX_BUCKETS = WINDOW_MAX_BUCKETS;

/** Bump on any change of a channel's meaning or scaling; artifacts carry the version they need. */
export const FEATURE_VERSION = 'evni-features-2';

export const FEATURE_NAMES = [
  // Presence and global context
  'valid', // 1 inside the window (0 in training padding)
  'e_has', // the window has an energy register
  'p_has', // … power readings
  's_has', // … SoC readings
  'e_present', // an energy reading in this bucket
  'p_present',
  's_present',
  'since_reading', // minutes since the last energy or power reading (/15, clipped at 2)
  'density', // log10 of the median reading step in seconds (/3)
  'span', // session span in hours (/6)
  'truncated', // readings before the last 6 h were dropped
  'before_charged', // the dropped readings showed charging or ≥ 0.1 kWh (ZERO_SESSION is judged over all readings)
  'resolution', // register resolution: -log10(kWh step)/3 (0 when unknown)
  'rating', // station rating from metadata, slog(kW)/6 (0 when none)
  'total_energy', // delivered energy over the window, slog(kWh / 0.1)/6
  'ever_charging', // some activity > 0.5 kW in the window
  'peak', // peak activity, slog(kW)/6
  // Energy register
  'e_deficit', // below the running maximum: log10(1 + deficit/threshold)/4
  'e_below', // deficit beyond the KWH_DECREASE/ENERGY_PIT threshold
  'dip_elapsed', // minutes since the dip began (/2, clipped at 5)
  'dip_back', // minutes from the dip's first reading to the reading back at the maximum (/2, clipped at 5; 5 when never)
  'dip_seen', // minutes between the dip's first and last reading below the maximum (/2, clipped at 5)
  'dip_recovered', // the register comes back to its maximum inside the window
  'dip_pit_rule', // the contract's pit test: back within 2 min, or not seen down for 2 min (and back)
  'e_slope', // register slope of the interval, slog(kW)/6 (signed)
  'e_over_plausible', // delivered rate vs 1.5 × plausible power: 1 + ln(ratio)/3, in [0, 2] (1 = the limit)
  'e_unexplained', // interval increment beyond what power explains, slog(kWh / 0.05)/4
  'e_excess', // 0.1 + (increment − 1.5 × plausible power × interval) / max(0.05 kWh, resolution) / 10, in [0, 1.1] (> 0.2 = the rule)
  'e_jump_rule', // the increment exceeds 1.5 × plausible power × interval by the margin
  'unexplained_rule', // the interval accrues ≥ 0.05 kWh more than power explains
  // Power
  'p_value', // power (last reading), slog(kW)/6
  'p_interval', // mean power of the interval, slog(kW)/6
  'p_idle', // power reads idle (≤ 0.5 kW)
  'mismatch_mean', // (mean power − slope) / max(1 kW, 25 %), clipped to ±4, /4
  'mismatch_range', // slope outside the range of the power readings, same scale
  'mismatch_known', // both measurands cover the interval
  'mismatch_rule', // power and slope disagree beyond max(1 kW, 25 %), against the mean and the range
  // SoC
  's_value', // SoC / 100 (last reading; clipped to [-0.5, 3])
  's_out', // SoC outside 0–100
  's_delta', // ΔSoC since the previous reading /10 (clipped ±5)
  's_fall', // fall below the reference since energy last stopped flowing, points /10
  's_rise_excess', // 1 + (rise − 100·ΔE/C − 3 points)/10 between consecutive readings, C the session's own battery, in [0, 6] (> 1 = beyond the rule)
  's_battery', // the usable battery the session's SoC shows (kWh /100, clipped at 2.5)
  's_dip_temp', // below the earlier SoC maximum by > 2 points, and back later: points /10 (a transient drop)
  's_bump_temp', // above every later SoC by > 3 points: points /10 (a transient jump or out-of-range value)
  's_rule', // the contract's SoC tests: falls > 2 points while energy flows, rises beyond 100·ΔE/C + 3, or leaves 0–100
  // Activity and idle stretches
  'chg_prev', // charging at the last reading (activity > 0.5 kW)
  'chg_next', // charging at the next reading
  'activity', // slog(kW)/6 of the last activity reading
  'charged_before', // charging happened earlier in the window
  'charged_after', // charging happens later in the window
  'idle_len', // length of the idle stretch this bucket is in, minutes /10 (clipped at 6)
  'idle_elapsed', // minutes since the idle stretch began /10 (clipped at 6)
  'stop_level', // activity at the stop before the idle stretch / peak
  'taper_drop', // fall over the 15 min before the stop / top of that stretch
  'taper_step', // biggest single step of that fall / the fall (1 = one step)
  'idle_soc', // highest SoC in the idle stretch /100 (-0.2 when unknown)
  'resumes_later', // charging resumes after this idle stretch (≥ 30 % of the peak or ≥ 1 kWh)
  'idle_rule', // the contract's test: idle ≥ 10 min after an abrupt stop (≥ 50 % of the peak, no taper), and a later resumption or SoC < 70 %
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];
export const FEATURE_COUNT = FEATURE_NAMES.length;
export const FEATURE_INDEX: Record<FeatureName, number> = Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, i])) as Record<FeatureName, number>;

/**
 * Channels that depend on SoC readings. SORC (SoC reconstruction) sees every other channel only,
 * so that a session without SoC looks to it exactly like a SoC session with its SoC hidden.
 */
export const SOC_CHANNELS: FeatureName[] = ['s_has', 's_present', 's_value', 's_out', 's_delta', 's_fall', 's_rise_excess', 's_battery', 's_dip_temp', 's_bump_temp', 's_rule', 'idle_soc', 'idle_rule'];
export const SORC_INPUT_CHANNELS: number[] = FEATURE_NAMES.map((_, i) => i).filter((i) => !SOC_CHANNELS.includes(FEATURE_NAMES[i]));

export interface FeatureMatrix {
  /** Channel-major [FEATURE_COUNT × bucketCount]. */
  data: Float32Array;
  bucketCount: number;
  featureCount: number;
}

const H = 3_600_000;
const MIN = 60_000;
// Thresholds of anomaly-categories.md the scalings are relative to: the physics rules' own, as
// local bindings (hot loops).
const {
  CHARGING_KW,
  DECREASE_KWH,
  ACCRUAL_KWH,
  RATE_FACTOR,
  DEFAULT_MAX_KW,
  MISMATCH_ABS_KW,
  MISMATCH_REL,
  SOC_RISE_SLACK,
  SOC_WANTS,
  RESUME_FRACTION,
  RESUME_KWH,
  TAPER_LOOKBACK_MS,
  RECOVERY_MS,
  IDLE_EXPECTED_MS,
  ABRUPT_FRACTION,
  /** Readings further apart than this do not bracket a value (a gap, not sparse sampling). */
  MAX_GAP_MS,
} = SHARED_THRESHOLDS;
const EPS = 1e-9;

/** Signed log: keeps sign, compresses kW/kWh spanning five orders of magnitude. */
function slog(x: number): number {
  return x >= 0 ? Math.log1p(x) : -Math.log1p(-x);
}

function clip(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : Number.isFinite(x) ? x : 0;
}

/** Extracts the feature matrix of one analysis window. Pure and O(readings + buckets). */
export function extractFeatures(w: AnalysisWindow, metadata?: Record<string, unknown> | null): FeatureMatrix {
  const T = Math.max(0, Math.min(MAX_BUCKETS, w.bucketCount));
  const F = FEATURE_COUNT;
  const data = new Float32Array(F * T);
  if (T === 0) return { data, bucketCount: 0, featureCount: F };
  const ch = (name: FeatureName) => data.subarray(FEATURE_INDEX[name] * T, (FEATURE_INDEX[name] + 1) * T);
  const bucket = (t: number) => {
    const b = Math.floor((t - w.t0) / BUCKET_MS);
    return b < 0 ? 0 : b >= T ? T - 1 : b;
  };
  const E = w.energy;
  const P = w.power;
  const S = w.soc;
  const hasE = E.t.length > 0;
  const hasP = P.t.length > 0;
  const hasS = S.t.length > 0;

  // --- Presence and reading gaps ------------------------------------------------------------
  ch('valid').fill(1);
  ch('e_has').fill(hasE ? 1 : 0);
  ch('p_has').fill(hasP ? 1 : 0);
  ch('s_has').fill(hasS ? 1 : 0);
  ch('truncated').fill(w.truncated ? 1 : 0);
  ch('before_charged').fill(w.before.charged || w.before.deliveredKwh >= 0.1 ? 1 : 0);
  ch('span').fill(clip((w.tEnd - w.t0) / H / 6, 0, 1.5));
  // since_reading counts energy and power readings only, so that every channel outside
  // SOC_CHANNELS is the same with and without SoC (what SORC relies on).
  const lastReading = new Float64Array(T).fill(NaN);
  const markPresent = (s: Series, name: FeatureName, meter: boolean) => {
    const c = ch(name);
    for (const t of s.t) {
      const b = bucket(t);
      c[b] = 1;
      if (meter && !(lastReading[b] >= t)) lastReading[b] = t;
    }
  };
  markPresent(E, 'e_present', true);
  markPresent(P, 'p_present', true);
  markPresent(S, 's_present', false);
  {
    const c = ch('since_reading');
    let last = w.t0;
    for (let b = 0; b < T; b++) {
      if (!Number.isNaN(lastReading[b])) last = lastReading[b];
      c[b] = clip((w.t0 + (b + 1) * BUCKET_MS - last) / MIN / 15, 0, 2);
    }
  }
  const main = E.t.length >= 2 ? E : P;
  ch('density').fill(clip(Math.log10(Math.max(1, medianStepMs(main) / 1000)) / 3, 0, 1.5));
  const res = registerResolution(E.v);
  ch('resolution').fill(res > 0 ? clip(-Math.log10(res) / 3, 0, 1.5) : 0);
  const rating = stationRating(metadata);
  ch('rating').fill(rating ? slog(rating) / 6 : 0);

  // --- Energy register: dips below the running maximum and delivered energy -----------------
  const thr = Math.max(DECREASE_KWH, res) + EPS;
  const nE = E.t.length;
  const runMax = new Float64Array(nE); // maximum of the readings before i (E[0] for i = 0)
  const deficit = new Float64Array(nE);
  {
    let m = nE ? E.v[0] : 0;
    for (let i = 0; i < nE; i++) {
      runMax[i] = m;
      deficit[i] = Math.max(0, m - E.v[i]);
      if (E.v[i] > m) m = E.v[i];
    }
  }
  // Delivered energy per interval: increments outside dips; a reading back from a dip credits only
  // what lies above the old maximum, and a register that restarts lower (a reset) counts on.
  const inc = new Float64Array(Math.max(0, nE - 1));
  for (let i = 0; i + 1 < nE; i++) {
    const a = deficit[i] > thr;
    const b = deficit[i + 1] > thr;
    const d = E.v[i + 1] - E.v[i];
    if (a === b) inc[i] = Math.max(0, d);
    else if (!b) inc[i] = Math.max(0, E.v[i + 1] - runMax[i + 1]); // back at the maximum
    else inc[i] = 0; // into a dip
  }
  const cumE = new Float64Array(nE);
  for (let i = 1; i < nE; i++) cumE[i] = cumE[i - 1] + inc[i - 1];
  const slope = new Float64Array(Math.max(0, nE - 1)); // kW, raw register slope
  for (let i = 0; i + 1 < nE; i++) {
    const dt = (E.t[i + 1] - E.t[i]) / H;
    slope[i] = dt > 0 ? (E.v[i + 1] - E.v[i]) / dt : 0;
  }
  // Per reading: dip start (first reading below) and the time the register is back at the maximum.
  {
    const cDef = ch('e_deficit');
    const cBelow = ch('e_below');
    const cEl = ch('dip_elapsed');
    const cBack = ch('dip_back');
    const cSeen = ch('dip_seen');
    const cRec = ch('dip_recovered');
    const cPit = ch('dip_pit_rule');
    let i = 0;
    while (i < nE) {
      if (deficit[i] <= thr) {
        paint(cDef, bucket(E.t[i]), next(E.t, i, bucket, T), clip(Math.log10(1 + deficit[i] / thr) / 4, 0, 2), 'last');
        i++;
        continue;
      }
      let k = i;
      while (k < nE && deficit[k] > thr) k++;
      // The contract tells a pit from a decrease by what follows: back within 2 min, or seen
      // down for 2 min (sparse readings that cannot show it count as a pit).
      const start = E.t[i];
      const back = k < nE ? clip((E.t[k] - start) / MIN / 2, 0, 5) : 5;
      const seen = clip((E.t[k - 1] - start) / MIN / 2, 0, 5);
      const pit = k < nE && (E.t[k] - start <= RECOVERY_MS || E.t[k - 1] - start < RECOVERY_MS);
      for (let j = i; j < k; j++) {
        const b0 = bucket(E.t[j]);
        const b1 = next(E.t, j, bucket, T);
        for (let b = b0; b < b1; b++) {
          const tb = w.t0 + b * BUCKET_MS;
          cDef[b] = clip(Math.log10(1 + deficit[j] / thr) / 4, 0, 2);
          cBelow[b] = 1;
          cEl[b] = clip((Math.max(tb, E.t[j]) - start) / MIN / 2, 0, 5);
          cBack[b] = back;
          cSeen[b] = seen;
          cRec[b] = k < nE ? 1 : 0;
          cPit[b] = pit ? 1 : 0;
        }
      }
      i = k;
    }
  }

  // --- Power ---------------------------------------------------------------------------------
  const nP = P.t.length;
  {
    const cP = ch('p_value');
    const cI = ch('p_idle');
    const cPi = ch('p_interval');
    for (let j = 0; j < nP; j++) {
      const b0 = bucket(P.t[j]);
      const b1 = next(P.t, j, bucket, T);
      const to = j + 1 < nP && P.t[j + 1] - P.t[j] <= MAX_GAP_MS ? b1 : Math.min(T, b0 + 1);
      const mean = j + 1 < nP && P.t[j + 1] - P.t[j] <= MAX_GAP_MS ? (P.v[j] + P.v[j + 1]) / 2 : P.v[j];
      paint(cP, b0, b1, slog(P.v[j]) / 6, 'last');
      paint(cI, b0, b1, P.v[j] <= CHARGING_KW ? 1 : 0, 'last');
      paint(cPi, b0, to, slog(mean) / 6, 'last');
    }
  }

  // Peak power (for the plausible maximum) and the activity series: power where it exists,
  // else the register's forward slope (the contract's "where power is missing, the slope").
  let powerPeak = 0;
  for (const v of P.v) if (v > powerPeak) powerPeak = v;
  const act: Series = { t: [], v: [] };
  if (nP) {
    for (let j = 0; j < nP; j++) {
      act.t.push(P.t[j]);
      act.v.push(P.v[j]);
    }
  } else {
    for (let i = 0; i < nE; i++) {
      const dt = i + 1 < nE ? (E.t[i + 1] - E.t[i]) / H : 0;
      act.t.push(E.t[i]);
      act.v.push(i + 1 < nE && dt > 0 ? inc[i] / dt : 0);
    }
  }
  let actPeak = 0;
  const cap = RATE_FACTOR * (rating ?? DEFAULT_MAX_KW);
  for (const v of act.v) if (v > actPeak && v <= cap) actPeak = v;
  const everCharging = act.v.some((v) => v > CHARGING_KW);
  ch('ever_charging').fill(everCharging ? 1 : 0);
  ch('peak').fill(slog(actPeak) / 6);
  let total = nE ? cumE[nE - 1] : 0;
  if (!nE) for (let j = 0; j + 1 < nP; j++) total += ((P.v[j] + P.v[j + 1]) / 2) * ((P.t[j + 1] - P.t[j]) / H);
  ch('total_energy').fill(slog(total / 0.1) / 6);

  // --- Register slope against the plausible maximum and against power ------------------------
  const reported = powerPeak > CHARGING_KW ? Math.min(powerPeak, DEFAULT_MAX_KW) : 0;
  const plausible = Math.max(rating ?? 0, reported) || DEFAULT_MAX_KW;
  {
    const cS = ch('e_slope');
    const cO = ch('e_over_plausible');
    const cU = ch('e_unexplained');
    const cX = ch('e_excess');
    const cJ = ch('e_jump_rule');
    const cUR = ch('unexplained_rule');
    const margin = Math.max(ACCRUAL_KWH, res);
    let pj = 0; // power pointer
    for (let i = 0; i + 1 < nE; i++) {
      const b0 = bucket(E.t[i]);
      const b1 = Math.max(b0 + 1, bucket(E.t[i + 1]));
      const dt = (E.t[i + 1] - E.t[i]) / H;
      const rate = dt > 0 ? inc[i] / dt : 0;
      paint(cS, b0, b1, clip(slog(slope[i]) / 6, -2, 2), 'abs');
      paint(cO, b0, b1, rate > 0 ? clip(1 + Math.log(rate / (RATE_FACTOR * plausible)) / 3, 0, 2) : 0, 'max');
      // Shifted by +0.1 so that 'max' painting (channels ≥ 0) keeps the stronger evidence.
      paint(cX, b0, b1, clip((inc[i] - RATE_FACTOR * plausible * dt) / margin, -1, 10) / 10 + 0.1, 'max');
      if (inc[i] - RATE_FACTOR * plausible * dt > margin) paint(cJ, b0, b1, 1, 'max');
      if (nP) {
        // What power explains: the larger power reading around and inside the interval × its length.
        while (pj < nP && P.t[pj] < E.t[i]) pj++;
        let pMax = -1;
        if (pj > 0 && E.t[i] - P.t[pj - 1] <= MAX_GAP_MS) pMax = Math.max(pMax, P.v[pj - 1]);
        let q = pj;
        for (; q < nP && P.t[q] <= E.t[i + 1]; q++) pMax = Math.max(pMax, P.v[q]);
        if (q < nP && P.t[q] - E.t[i + 1] <= MAX_GAP_MS) pMax = Math.max(pMax, P.v[q]);
        if (pMax >= 0) {
          const unexplained = inc[i] - pMax * dt;
          paint(cU, b0, b1, clip(slog(Math.max(0, unexplained) / ACCRUAL_KWH) / 4, 0, 3), 'max');
          if (unexplained >= ACCRUAL_KWH && pMax <= CHARGING_KW) paint(cUR, b0, b1, 1, 'max');
        }
      }
    }
  }
  if (nE >= 2 && nP >= 2) mismatch(E, P, cumE, res, bucket, ch('mismatch_mean'), ch('mismatch_range'), ch('mismatch_known'), ch('mismatch_rule'));

  // --- SoC -------------------------------------------------------------------------------------
  const nS = S.t.length;
  if (nS) {
    const cV = ch('s_value');
    const cO = ch('s_out');
    const cD = ch('s_delta');
    const cF = ch('s_fall');
    const cR = ch('s_rise_excess');
    const cSR = ch('s_rule');
    // Delivered energy at instant t: the register's cumulative increments (interpolated), else the
    // most power can explain.
    const energyAt = energyAtFn(E, cumE, P);
    const flowing = (a: number, b: number): boolean => {
      const ea = energyAt(a);
      const eb = energyAt(b);
      if (ea !== undefined && eb !== undefined && b > a && (eb - ea) / ((b - a) / H) > CHARGING_KW) return true;
      for (let j = lowerBound(P.t, a); j < nP && P.t[j] <= b; j++) if (P.v[j] > CHARGING_KW) return true;
      return false;
    };
    // Transient displacement: below the earlier maximum and back later, or above every later value.
    const sufMax = new Float64Array(nS + 1).fill(-Infinity);
    const sufMin = new Float64Array(nS + 1).fill(Infinity);
    for (let m = nS - 1; m >= 0; m--) {
      sufMax[m] = Math.max(sufMax[m + 1], S.v[m]);
      sufMin[m] = Math.min(sufMin[m + 1], S.v[m]);
    }
    const cDip = ch('s_dip_temp');
    const cBump = ch('s_bump_temp');
    let pastMax = -Infinity;
    for (let m = 0; m < nS; m++) {
      const b0 = bucket(S.t[m]);
      const b1 = next(S.t, m, bucket, T);
      const below = pastMax - S.v[m];
      if (below > 2 && sufMax[m + 1] >= pastMax - 2) paint(cDip, b0, b1, clip(below / 10, 0, 10), 'max');
      const above = S.v[m] - sufMin[m + 1];
      if (above > 3) paint(cBump, b0, b1, clip(above / 10, 0, 10), 'max');
      if (S.v[m] > pastMax && S.v[m] >= 0 && S.v[m] <= 100) pastMax = S.v[m];
    }
    const battery = sessionBatteryKwh(S, energyAt, flowing);
    ch('s_battery').fill(clip(battery / 100, 0, 2.5));
    let ref = S.v[0];
    for (let m = 0; m < nS; m++) {
      const b0 = bucket(S.t[m]);
      const b1 = next(S.t, m, bucket, T);
      paint(cV, b0, b1, clip(S.v[m] / 100, -0.5, 3), 'last');
      paint(cO, b0, b1, S.v[m] < 0 || S.v[m] > 100 ? 1 : 0, 'max');
      if (S.v[m] < 0 || S.v[m] > 100) paint(cSR, b0, b0 + 1, 1, 'max');
      if (m === 0) continue;
      // Interval m-1 → m: painted from the previous reading's bucket through this one.
      const a0 = bucket(S.t[m - 1]);
      const d = S.v[m] - S.v[m - 1];
      paint(cD, a0, b0 + 1, clip(d / 10, -5, 5), 'abs');
      if (flowing(S.t[m - 1], S.t[m])) {
        const fall = ref - S.v[m];
        if (fall > 0) paint(cF, a0, b0 + 1, clip(fall / 10, 0, 5), 'max');
        if (fall > 2 + EPS) paint(cSR, a0, b0 + 1, 1, 'max');
        if (fall > 2 + EPS || S.v[m] >= ref) ref = S.v[m];
      } else ref = S.v[m];
      const ea = energyAt(S.t[m - 1]);
      const eb = energyAt(S.t[m]);
      if (ea !== undefined && eb !== undefined) {
        const excess = d - (100 * Math.max(0, eb - ea)) / battery - SOC_RISE_SLACK;
        paint(cR, a0, b0 + 1, clip(1 + excess / 10, 0, 6), 'max');
        if (excess > EPS) paint(cSR, a0, b0 + 1, 1, 'max');
      }
    }
  }

  // --- Activity, idle stretches after charging ------------------------------------------------
  activityFeatures(w, act, actPeak, S, bucket, T, ch);
  return { data, bucketCount: T, featureCount: F };
}

/**
 * Paints buckets [b0, b1) (at least b0) of a channel. Intervals only share a bucket when two
 * readings fall into the same 15 s: 'max' (channels ≥ 0) and 'abs' then keep the stronger evidence.
 */
function paint(c: Float32Array, b0: number, b1: number, v: number, mode: 'last' | 'max' | 'abs'): void {
  const end = Math.min(c.length, Math.max(b0 + 1, b1));
  for (let b = b0; b < end; b++) {
    if (mode === 'last') c[b] = v;
    else if (mode === 'max') c[b] = Math.max(c[b], v);
    else if (Math.abs(v) >= Math.abs(c[b])) c[b] = v;
  }
}

/** First bucket of the next reading (exclusive end for painting reading i), or T after the last one. */
function next(ts: number[], i: number, bucket: (t: number) => number, T: number): number {
  return i + 1 < ts.length ? Math.max(bucket(ts[i]) + 1, bucket(ts[i + 1])) : T;
}

/** One interval's power points at a time (see PowerPoints). */
const powerPoints = new PowerPoints();

/**
 * Power against the register's slope, on the grid of the sparser series (a power step between
 * sparse power samples is not compared against every dense energy interval).
 */
function mismatch(
  E: Series,
  P: Series,
  cumE: Float64Array,
  res: number,
  bucket: (t: number) => number,
  cMean: Float32Array,
  cRange: Float32Array,
  cKnown: Float32Array,
  cRule: Float32Array,
): void {
  const SKEW = 2000;
  const lo = Math.max(E.t[0], P.t[0]) - SKEW;
  const hi = Math.min(E.t[E.t.length - 1], P.t[P.t.length - 1]) + SKEW;
  const count = (t: number[]) => lowerBound(t, hi + 1) - lowerBound(t, lo);
  const cum = Array.from(cumE);
  const onPower = count(P.t) < count(E.t);
  const grid = onPower ? P.t : E.t;
  for (let k = lowerBound(grid, lo); k + 1 < grid.length && grid[k + 1] <= hi; k++) {
    const a = grid[k];
    const b = grid[k + 1];
    if (b - a < 1000 || b - a > MAX_GAP_MS) continue;
    const dt = (b - a) / H;
    let sl: number;
    let pMean: number;
    let pMin: number;
    let pMax: number;
    let quant: number;
    if (onPower) {
      const da = interp(E.t, cum, a);
      const db = interp(E.t, cum, b);
      if (da === undefined || db === undefined) continue;
      sl = (db - da) / dt;
      pMean = (P.v[k] + P.v[k + 1]) / 2;
      pMin = Math.min(P.v[k], P.v[k + 1]);
      pMax = Math.max(P.v[k], P.v[k + 1]);
      quant = (2 * res) / dt;
    } else {
      sl = (cumE[k + 1] - cumE[k]) / dt;
      const pa = interp(P.t, P.v, a);
      powerPoints.reset();
      if (pa !== undefined) powerPoints.add(a, pa);
      for (let j = lowerBound(P.t, a + SKEW + 1); j < P.t.length && P.t[j] < b - SKEW; j++) powerPoints.add(P.t[j], P.v[j]);
      const pb = interp(P.t, P.v, b);
      if (pb !== undefined) powerPoints.add(b, pb);
      if (powerPoints.count === 0) continue;
      pMin = powerPoints.min;
      pMax = powerPoints.max;
      pMean = powerPoints.mean;
      quant = res / dt;
    }
    const tolMean = Math.max(MISMATCH_ABS_KW, MISMATCH_REL * Math.max(Math.abs(pMean), Math.abs(sl))) + quant;
    const nearest = Math.min(Math.max(sl, pMin), pMax);
    const tolRange = Math.max(MISMATCH_ABS_KW, MISMATCH_REL * Math.max(Math.abs(nearest), Math.abs(sl))) + quant;
    const b0 = bucket(a);
    const b1 = Math.max(b0 + 1, bucket(b));
    paint(cMean, b0, b1, clip((pMean - sl) / tolMean / 4, -1, 1), 'abs');
    paint(cRange, b0, b1, clip((nearest - sl) / tolRange / 4, -1, 1), 'abs');
    paint(cKnown, b0, b1, 1, 'max');
    if (pMean > CHARGING_KW && sl > 0 && Math.abs(pMean - sl) > tolMean && Math.abs(nearest - sl) > tolRange) paint(cRule, b0, b1, 1, 'max');
  }
}

function energyAtFn(E: Series, cumE: Float64Array, P: Series): (t: number) => number | undefined {
  if (E.t.length) {
    const cum = Array.from(cumE);
    return (t) => interp(E.t, cum, t, Infinity, MAX_GAP_MS);
  }
  if (P.t.length) {
    const cum = [0];
    for (let k = 0; k + 1 < P.t.length; k++) cum.push(cum[k] + Math.max(P.v[k], P.v[k + 1]) * ((P.t[k + 1] - P.t[k]) / H));
    return (t) => interp(P.t, cum, t, Infinity, MAX_GAP_MS);
  }
  return () => undefined;
}

/**
 * Charging state at the last and next activity reading, and for each idle stretch (after the
 * last charging reading, up to the next): its length, whether charging came before and after, the
 * level of the stop against the peak, how much it tapered in the 15 min before, and the SoC then.
 */
function activityFeatures(
  w: AnalysisWindow,
  act: Series,
  peak: number,
  S: Series,
  bucket: (t: number) => number,
  T: number,
  ch: (name: FeatureName) => Float32Array,
): void {
  const n = act.t.length;
  if (n === 0) return;
  const cPrev = ch('chg_prev');
  const cNext = ch('chg_next');
  const cAct = ch('activity');
  const cBefore = ch('charged_before');
  const cAfter = ch('charged_after');
  const cLen = ch('idle_len');
  const cEl = ch('idle_elapsed');
  const cStop = ch('stop_level');
  const cDrop = ch('taper_drop');
  const cStep = ch('taper_step');
  const cSoc = ch('idle_soc');
  const cRule = ch('idle_rule');
  const charging = chargingRuns(act, peak);
  const cResume = ch('resumes_later');
  for (let i = 0; i < n; i++) {
    const b0 = bucket(act.t[i]);
    const b1 = next(act.t, i, bucket, T);
    paint(cPrev, b0, b1, charging[i] ? 1 : 0, 'last');
    paint(cAct, b0, b1, clip(slog(act.v[i]) / 6, -2, 2), 'last');
  }
  // chg_next: the state of the next reading (the reading in this bucket counts as next).
  {
    let i = n - 1;
    for (let b = T - 1; b >= 0; b--) {
      while (i > 0 && bucket(act.t[i - 1]) >= b) i--;
      cNext[b] = bucket(act.t[i]) >= b ? (charging[i] ? 1 : 0) : charging[n - 1] ? 1 : 0;
    }
  }
  const first = charging.indexOf(true);
  const last = charging.lastIndexOf(true);
  if (first >= 0) {
    for (let b = bucket(act.t[first]); b < T; b++) cBefore[b] = 1;
    for (let b = 0; b <= bucket(act.t[last]); b++) cAfter[b] = 1;
  }
  const socDefault = S.t.length ? 0 : -0.2;
  cSoc.fill(socDefault);
  // Idle stretches: maximal runs of idle readings.
  let s = 0;
  while (s < n) {
    if (charging[s]) {
      s++;
      continue;
    }
    let e = s;
    while (e + 1 < n && !charging[e + 1]) e++;
    const ts = act.t[s];
    const te = e + 1 < n ? act.t[e + 1] : w.tEnd; // the stretch lasts until charging resumes
    const lenMin = (act.t[e] - ts) / MIN;
    const stop = s - 1;
    let stopLevel = 0;
    let drop = 0;
    let step = 0;
    let tapered = false;
    if (stop >= 0 && peak > 0) {
      stopLevel = clip(act.v[stop] / peak, 0, 2);
      // Taper: the charging readings of the 15 min before the stop.
      const vals: number[] = [];
      for (let i = stop; i >= 0 && act.t[i] >= act.t[stop] - TAPER_LOOKBACK_MS && charging[i]; i--) vals.push(act.v[i]);
      vals.reverse();
      let top = 0;
      for (const v of vals) top = Math.max(top, v);
      const fall = top - vals[vals.length - 1];
      drop = top > 0 ? clip(fall / top, 0, 1) : 0;
      let biggest = 0;
      for (let i = 0; i + 1 < vals.length; i++) biggest = Math.max(biggest, vals[i] - vals[i + 1]);
      step = fall > EPS ? clip(biggest / fall, 0, 1) : 1;
      tapered = vals.length >= 3 && fall >= 0.25 * top && biggest <= 0.6 * fall;
    }
    // SoC at the stop: the last reading before the stretch and the first in it, the higher.
    let socHi = -Infinity;
    if (S.t.length) {
      const before = lowerBound(S.t, ts) - 1;
      if (before >= 0) socHi = S.v[before];
      if (before + 1 < S.t.length && S.t[before + 1] <= act.t[e]) socHi = Math.max(socHi, S.v[before + 1]);
    }
    const resumes = e + 1 < n;
    const b0 = bucket(ts);
    const b1 = resumes ? Math.max(b0 + 1, bucket(te)) : T;
    const expected =
      stop >= 0 &&
      act.t[e] - ts >= IDLE_EXPECTED_MS &&
      !tapered &&
      act.v[stop] >= ABRUPT_FRACTION * peak &&
      (resumes || (socHi > -Infinity && socHi < SOC_WANTS));
    for (let b = b0; b < b1; b++) {
      if (expected) cRule[b] = 1;
      if (resumes && stop >= 0) cResume[b] = 1;
      const tb = Math.max(ts, w.t0 + b * BUCKET_MS);
      cLen[b] = clip(lenMin / 10, 0, 6);
      cEl[b] = clip((tb - ts) / MIN / 10, 0, 6);
      cStop[b] = stopLevel;
      cDrop[b] = drop;
      cStep[b] = step;
      if (socHi > -Infinity) cSoc[b] = clip(socHi / 100, -0.5, 3);
    }
    s = e + 1;
  }
}

/**
 * Charging per activity reading, where short low-power draws after charging has started (under
 * 30 % of the peak and under 1 kWh: pre-conditioning, balancing) count as idle, as the contract
 * reads them: they neither end an idle stretch nor resume charging.
 */
function chargingRuns(act: Series, peak: number): boolean[] {
  const n = act.t.length;
  const out = act.v.map((v) => v > CHARGING_KW);
  let started = false;
  for (let i = 0; i < n; ) {
    if (!out[i]) {
      i++;
      continue;
    }
    let j = i;
    let top = act.v[i];
    while (j + 1 < n && out[j + 1]) top = Math.max(top, act.v[++j]);
    let kwh = 0;
    for (let k = Math.max(0, i - 1); k < Math.min(n - 1, j + 1); k++) kwh += Math.max(act.v[k], act.v[k + 1]) * ((act.t[k + 1] - act.t[k]) / H);
    if (started && top < RESUME_FRACTION * peak && kwh < RESUME_KWH) for (let k = i; k <= j; k++) out[k] = false;
    started = true;
    i = j + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Helpers (station rating, register resolution, lowerBound and median step come from the physics detector and
// the window module, so features and rules read the data the same way)

/** y at x: a reading within 2 s, else linear between neighbours ≤ maxGap apart; ends within `edge`. */
function interp(xs: number[], ys: number[], x: number, maxGap = MAX_GAP_MS, edge = 2000): number | undefined {
  return detectorInterp(xs, ys, x, maxGap, 2000, edge);
}
