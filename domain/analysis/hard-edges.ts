// The contract's hard edges (anomaly-categories.md, "Hard edges"): every reported anomaly must meet
// its category's defining condition in the data, whatever produced it. Learned detectors are free
// inside these edges (noise, coarse registers, lost readings, boundary cases of the thresholds);
// an anomaly outside them is dropped here, before any verdict is stored.
//
// Each check asks for a witness of the defining condition near the reported range, with tolerances
// for what the rules' literal thresholds leave open (how long, how many readings, how abrupt) but
// none for the condition itself: a register that never fell has no KWH_DECREASE.
import {
  chargingEpisodes,
  context,
  deliveredBetweenFn,
  energyAtFn,
  flowingFn,
  interp,
  lowerBound,
  sessionBatteryKwh,
  SHARED_THRESHOLDS,
  socAtStop,
  type Ctx,
} from './physics-detector';
import type { Anomaly, AnomalyCategory, AnalysisWindow } from './types';
import { BUCKET_MS, medianStepMs } from './window';

const H = 3_600_000;
const MIN = 60_000;
const EPS = 1e-9;
const {
  CHARGING_KW,
  RATE_FACTOR,
  DEFAULT_MAX_KW,
  MISMATCH_ABS_KW,
  MISMATCH_REL,
  SOC_FALL_POINTS,
  SOC_RISE_SLACK,
  SOC_WANTS,
  IDLE_EXPECTED_MS,
  ZERO_KWH,
  MAX_GAP_MS,
} = SHARED_THRESHOLDS;
/** The witness may sit this far outside the reported range (at least; more with sparse readings). */
const SLACK_MS = MIN;
/** Energy that counts as "rose" or "unexplained" at the least (beyond the register's resolution). */
const RISE_KWH = 0.01;
/** Energy and power stamped this close belong to the same sample. */
const SKEW_MS = 2000;

type Check = (c: Ctx, from: number, to: number) => boolean;

const CHECKS: Record<AnomalyCategory, Check> = {
  ZERO_SESSION: zeroSession,
  KWH_DECREASE: registerFell,
  ENERGY_PIT: registerFell,
  UNEXPECTED_KWH_ACCUMULATE: unexplainedEnergy,
  INCORRECT_ACTIVE_POWER_REGISTER: powerDisagrees,
  UNEXPECTED_CHARGE_LEVEL_CHANGES: impossibleSoc,
  CHARGING_EXPECTED: stoppedWhileWanted,
};

/** The anomalies whose defining condition the window's data shows; the others are left out. */
export function withinHardEdges(w: AnalysisWindow, metadata: Record<string, unknown> | null | undefined, anomalies: Anomaly[]): Anomaly[] {
  if (anomalies.length === 0 || w.bucketCount <= 0) return anomalies;
  const c = context(w, metadata);
  const slack = Math.max(SLACK_MS, Math.min(MAX_GAP_MS, medianStepMs(c.act.t.length >= 2 ? c.act : c.E.t.length >= 2 ? c.E : w.soc)));
  return anomalies.filter((a) => {
    const from = w.t0 + a.bucketRange.startUnit * BUCKET_MS - slack;
    const to = w.t0 + (a.bucketRange.endUnit + 1) * BUCKET_MS + slack;
    return CHECKS[a.category](c, from, to);
  });
}

/** Over all readings received: under 0.1 kWh (or one register step) delivered, and never charging. */
function zeroSession(c: Ctx): boolean {
  if (c.w.before.charged || (!c.hasE && !c.hasP)) return false;
  if (c.act.v.some((p) => p > CHARGING_KW)) return false;
  // Without a register, the most the power readings explain up to the last one (what energyAtFn counts).
  const window = c.hasE ? c.D[c.D.length - 1] : (energyAtFn(c)(c.P.t[c.P.t.length - 1]) ?? 0);
  return c.w.before.deliveredKwh + window < ZERO_KWH + c.res;
}

/** A register reading in range below its running maximum by more than the decrease threshold. */
function registerFell(c: Ctx, from: number, to: number): boolean {
  const { E } = c;
  let hi = -Infinity;
  for (let i = 0; i < E.t.length && E.t[i] <= to; i++) {
    if (E.t[i] >= from && E.v[i] < hi - c.thr) return true;
    if (E.v[i] > hi) hi = E.v[i];
  }
  return false;
}

/**
 * The register gains in range more than power explains: more than the idle power readings' worth,
 * or, where power says energy flows or is missing, faster than 1.5 × the highest plausible power.
 */
function unexplainedEnergy(c: Ctx, from: number, to: number): boolean {
  const { E, D } = c;
  if (E.t.length < 2) return false;
  const plausible = Math.max(c.rating ?? 0, c.powerPeak > CHARGING_KW ? Math.min(c.powerPeak, DEFAULT_MAX_KW) : 0) || DEFAULT_MAX_KW;
  let unexplained = 0;
  for (let i = Math.max(0, lowerBound(E.t, from) - 1); i + 1 < E.t.length && E.t[i] <= to; i++) {
    const inc = D[i + 1] - D[i];
    const dt = (E.t[i + 1] - E.t[i]) / H;
    if (c.skip[i] || inc <= EPS || dt <= 0) continue;
    const p = powerAround(c, E.t[i], E.t[i + 1]);
    const explained = p === null || p > CHARGING_KW ? RATE_FACTOR * plausible * dt : p * dt;
    unexplained += Math.max(0, inc - explained);
  }
  return unexplained >= Math.max(RISE_KWH, c.res) - EPS;
}

/** Both measurands say energy flows over an interval in range, and differ beyond max(1 kW, 25 %). */
function powerDisagrees(c: Ctx, from: number, to: number): boolean {
  const { E, P, D } = c;
  if (E.t.length < 2 || P.t.length < 1) return false;
  for (let i = Math.max(0, lowerBound(E.t, from) - 1); i + 1 < E.t.length && E.t[i] <= to; i++) {
    const dt = (E.t[i + 1] - E.t[i]) / H;
    if (c.skip[i] || dt <= 1 / 3600) continue;
    const slope = (D[i + 1] - D[i]) / dt;
    const p = powerAround(c, E.t[i], E.t[i + 1]);
    if (p === null || p <= CHARGING_KW || slope <= EPS) continue;
    const quant = c.res / dt;
    if (Math.abs(p - slope) > Math.max(MISMATCH_ABS_KW, MISMATCH_REL * Math.max(p, slope)) + quant) return true;
  }
  // Power stepping between sparse energy readings: compare on the power grid too.
  for (let k = Math.max(0, lowerBound(P.t, from) - 1); k + 1 < P.t.length && P.t[k] <= to; k++) {
    const da = interp(E.t, D, P.t[k], MAX_GAP_MS, 2000);
    const db = interp(E.t, D, P.t[k + 1], MAX_GAP_MS, 2000);
    const dt = (P.t[k + 1] - P.t[k]) / H;
    if (da === undefined || db === undefined || dt <= 1 / 3600) continue;
    const slope = (db - da) / dt;
    const p = (P.v[k] + P.v[k + 1]) / 2;
    if (p <= CHARGING_KW || slope <= EPS) continue;
    if (Math.abs(p - slope) > Math.max(MISMATCH_ABS_KW, MISMATCH_REL * Math.max(p, slope)) + (2 * c.res) / dt) return true;
  }
  return false;
}

/**
 * SoC in range outside 0–100; falling > 2 points while energy flows in; or rising between two
 * readings more than the delivered energy explains for the session's own battery, + 3 points.
 */
function impossibleSoc(c: Ctx, from: number, to: number): boolean {
  const { S } = c;
  if (S.t.length === 0) return false;
  const a = lowerBound(S.t, from);
  const b = lowerBound(S.t, to + 1);
  for (let j = a; j < b; j++) if (S.v[j] < 0 || S.v[j] > 100) return true;
  const energyAt = energyAtFn(c);
  const flowing = flowingFn(c, energyAt);
  const battery = sessionBatteryKwh(S, energyAt, flowing);
  const deliveredBetween = deliveredBetweenFn(c);
  for (let j = Math.max(1, a); j < Math.min(S.t.length, b + 1); j++) {
    const de = deliveredBetween(S.t[j - 1], S.t[j]);
    if (de !== undefined && S.v[j] - S.v[j - 1] - (100 * de) / battery > SOC_RISE_SLACK + EPS) return true;
  }
  // Falls: against the highest SoC of the same stretch of flowing energy.
  for (let j = Math.max(1, a), r = Math.max(0, a - 1); j < Math.min(S.t.length, b + 1); j++) {
    if (!flowing(S.t[j - 1], S.t[j])) {
      r = j;
      continue;
    }
    if (S.v[r] - S.v[j] > SOC_FALL_POINTS + EPS) return true;
    if (S.v[j] > S.v[r]) r = j;
  }
  return false;
}

/**
 * An idle stretch in range after charging has stopped, with evidence the car still wanted energy:
 * charging resumes later, or SoC was below 70 % at the stop. How long and how abrupt are left to
 * the detector (down to half the rule's 10 minutes).
 */
function stoppedWhileWanted(c: Ctx, from: number, to: number): boolean {
  const { act } = c;
  const eps = chargingEpisodes(c);
  const real = eps.filter((e) => e.real);
  for (let k = 0; k < real.length; k++) {
    const stop = real[k].last;
    if (stop + 1 >= act.t.length) continue;
    const next = real[k + 1];
    const ts = act.t[stop + 1];
    const te = next ? act.t[next.first - 1] : act.t[act.t.length - 1];
    if (te - ts < IDLE_EXPECTED_MS / 2 || te < from || ts > to) continue;
    const soc = socAtStop(c.S, act.t[stop], ts);
    if (next || (soc !== null && soc < SOC_WANTS)) return true;
  }
  return false;
}

/**
 * The highest power reading in [a, b] (give or take clock skew); without one there, the higher of
 * the two readings around it (within the sparse-reading gap); null when power says nothing.
 */
function powerAround(c: Ctx, a: number, b: number): number | null {
  const { P } = c;
  if (!c.hasP) return null;
  let best: number | null = null;
  let i = lowerBound(P.t, a - SKEW_MS);
  for (let k = i; k < P.t.length && P.t[k] <= b + SKEW_MS; k++) best = best === null ? P.v[k] : Math.max(best, P.v[k]);
  if (best !== null) return best;
  const before = i > 0 && a - P.t[i - 1] <= MAX_GAP_MS ? P.v[i - 1] : null;
  const after = i < P.t.length && P.t[i] - b <= MAX_GAP_MS ? P.v[i] : null;
  return before === null ? after : after === null ? before : Math.max(before, after);
}
