// The revised contract's judgement-heavy rules read back from the readings as they will be sent, so
// that a label never disagrees with the data: CHARGING_EXPECTED (abrupt stop, ≥ 10 min idle, and
// evidence — a resumption or SoC < 70 % at the stop) and the SoC rise bound with the battery the
// session itself shows. Each stretch gets a verdict with a margin around every threshold; a session
// with an ambiguous stretch, or one whose verdicts disagree with its labels, is redrawn.
import type { Has } from './anomalies/context';
import { CHARGING_KW, type Trace } from './trace';

const MIN = 60_000;
const H = 3_600_000;
const IDLE_MS = 10 * MIN;
/** Clearly below / above the 10-minute idle threshold, however the stretch is measured. */
const IDLE_CLEAN_MS = 9.5 * MIN;
const IDLE_ANOMALY_MS = IDLE_MS + 30_000;
/** Abrupt stop: last charging level ≥ 50 % of the peak; clear below 40 %, clear from 60 %. */
const ABRUPT_CLEAN = 0.4;
const ABRUPT_ANOMALY = 0.6;
/** Resumption: ≥ 30 % of the peak or ≥ 1 kWh more; clear below 20 % / 0.7 kWh, clear from 40 % / 1.3 kWh. */
const RESUME_CLEAN = 0.2;
const RESUME_ANOMALY = 0.4;
const RESUME_KWH_CLEAN = 0.7;
const RESUME_KWH_ANOMALY = 1.3;
/** SoC at the stop below 70 %: clear at ≤ 65, clearly not from 74. */
const SOC_STOP_ANOMALY = 65;
const SOC_STOP_CLEAN = 74;
const TAPER_LOOKBACK_MS = 15 * MIN;
/** anomaly-categories.md: C floored at 5 kWh, 15 kWh where the session shows too little. */
export const SOC_MIN_BATTERY_KWH = 5;
export const SOC_DEFAULT_BATTERY_KWH = 15;
export const SOC_RISE_SLACK = 3;

export interface ReadView {
  tr: Trace;
  has: Has;
  resKwh: number;
  ratingKw: number;
  /** Judge on the register as sent (injected faults included) instead of its true trajectory. */
  sentRegister?: boolean;
}

export interface Stretch {
  /** Last charging reading before the idle run, first and last idle readings. */
  stop: number;
  a: number;
  b: number;
  verdict: 'anomaly' | 'clean' | 'ambiguous';
  why: string;
}

/**
 * The register as sent (quantised to its resolution), by default on the true trajectory: injected
 * register faults are other categories (the session is also judged on the faulty register, see session.ts).
 */
function registerAt(v: ReadView, i: number): number {
  const r = v.resKwh;
  return Math.round((v.sentRegister ? v.tr.e : v.tr.eTrue)[i] / r) * r;
}

/**
 * "Charging" level per reading as the detector sees it: power where it is sent, else the register's
 * slope to the next reading (the last reading: from the previous one).
 */
export function sentLevels(v: ReadView): number[] {
  const { t, p } = v.tr;
  const n = t.length;
  if (v.has.power) return p.slice();
  const out: number[] = new Array(n).fill(0);
  for (let i = 0; i < n; i++) {
    const a = i + 1 < n ? i : i - 1;
    if (a < 0 || t[a + 1] <= t[a]) continue;
    out[i] = (registerAt(v, a + 1) - registerAt(v, a)) / ((t[a + 1] - t[a]) / H);
  }
  return out;
}

function windowPeak(v: ReadView, lv: number[]): number {
  let peak = 0;
  let peakAll = 0;
  for (let i = v.tr.w0; i < lv.length; i++) {
    if (!(lv[i] > CHARGING_KW)) continue;
    peakAll = Math.max(peakAll, lv[i]);
    // A power reading far above the rating is a fault (W sent as kW), not charging.
    if (lv[i] <= 1.5 * v.ratingKw) peak = Math.max(peak, lv[i]);
  }
  return peak || peakAll;
}

/** Gradual decline into the stop over the last 15 min (≥ 3 readings, ≥ 25 % fall, no step over 60 % of it). */
function tapered(t: number[], lv: number[], stop: number, w0: number): boolean {
  const vals: number[] = [];
  for (let i = stop; i >= w0 && t[i] >= t[stop] - TAPER_LOOKBACK_MS && lv[i] > CHARGING_KW; i--) vals.unshift(lv[i]);
  if (vals.length < 3) return false;
  const top = Math.max(...vals);
  const decline = top - vals[vals.length - 1];
  if (decline < 0.25 * top) return false;
  for (let i = 0; i + 1 < vals.length; i++) if (vals[i] - vals[i + 1] > 0.6 * decline) return false;
  return true;
}

/** Every idle stretch after charging has started in the analysis window, with the contract's verdict. */
export function chargingExpectedStretches(v: ReadView): Stretch[] {
  const { t, s } = v.tr;
  const n = t.length;
  const w0 = v.tr.w0;
  const lv = sentLevels(v);
  const charging = (i: number) => lv[i] > CHARGING_KW;
  let first = w0;
  while (first < n && !charging(first)) first++;
  const out: Stretch[] = [];
  if (first >= n) return out;
  const peak = windowPeak(v, lv);
  let faultyPower = false;
  for (let i = w0; i < n && v.has.power; i++) if (lv[i] > 1.5 * v.ratingKw) faultyPower = true;
  const thr = Math.max(0.01, v.resKwh);
  for (let i = first + 1; i < n; i++) {
    if (charging(i)) continue;
    const a = i;
    let b = a;
    while (b + 1 < n && !charging(b + 1)) b++;
    i = b;
    const stop = a - 1;
    const next = b + 1 < n ? b + 1 : b;
    const loose = t[next] - t[stop];
    const strict = t[b] - t[a];
    const st = (verdict: Stretch['verdict'], why: string) => out.push({ stop, a, b, verdict, why });
    if (loose < IDLE_CLEAN_MS) continue; // clearly too short to matter
    // Idle: the register flat over the idle readings.
    const rise = v.has.energy ? registerAt(v, b) - registerAt(v, a) : 0;
    if (rise >= 2 * thr) {
      st('clean', 'register moves');
      continue;
    }
    const flat = rise < 0.5 * thr;
    // Power far above the rating (W sent as kW) leaves the peak undefined: a stop followed by any
    // later charging has no clear verdict.
    let laterCharging = false;
    for (let k = b + 1; k < n && !laterCharging; k++) laterCharging = charging(k);
    if (faultyPower && laterCharging) {
      st('ambiguous', 'power above the rating and later charging');
      continue;
    }
    // Abrupt stop.
    const frac = peak > 0 ? lv[stop] / peak : 0;
    if (tapered(t, lv, stop, w0) || frac < ABRUPT_CLEAN) {
      st('clean', 'tapered or low stop');
      continue;
    }
    const abrupt = frac >= ABRUPT_ANOMALY;
    // Evidence: a later resumption (any later charging in the window), or SoC < 70 % at the stop.
    let later = 0;
    let laterKwhLo = 0;
    let laterKwhHi = 0;
    let faulty = false;
    for (let k = b + 1; k < n; k++) {
      if (charging(k) && lv[k] <= 1.5 * v.ratingKw) later = Math.max(later, lv[k]);
      // Power far above the rating after the stop (W sent as kW): no telling how it compares with the peak.
      if (lv[k] > 1.5 * v.ratingKw) faulty = true;
      if (k + 1 < n && !v.has.energy) {
        const dtH = (t[k + 1] - t[k]) / H;
        laterKwhLo += ((v.tr.p[k] + v.tr.p[k + 1]) / 2) * dtH;
        laterKwhHi += Math.max(v.tr.p[k], v.tr.p[k + 1]) * dtH;
      }
    }
    if (v.has.energy) {
      laterKwhLo = laterKwhHi = registerAt(v, n - 1) - registerAt(v, b);
      // The register as sent may say more (an unexplained jump after the stop): then no clear verdict.
      laterKwhHi = Math.max(laterKwhHi, v.tr.e[n - 1] - v.tr.e[b]);
    }
    const resumes = later >= RESUME_ANOMALY * peak || laterKwhLo >= RESUME_KWH_ANOMALY;
    const noResume = !faulty && later < RESUME_CLEAN * peak && laterKwhHi < RESUME_KWH_CLEAN;
    let socLow = false;
    let socHigh = true;
    if (v.has.soc) {
      const vals: number[] = [];
      for (let k = stop; k <= b; k++) if (s[k] >= 0 && s[k] <= 100) vals.push(s[k]);
      socLow = vals.length > 0 && Math.max(...vals) <= SOC_STOP_ANOMALY;
      socHigh = vals.length > 0 && Math.min(...vals) >= SOC_STOP_CLEAN;
    }
    const evidence = resumes || socLow;
    const noEvidence = noResume && socHigh;
    if (noEvidence) {
      st('clean', 'no evidence the car wanted more');
      continue;
    }
    if (strict >= IDLE_ANOMALY_MS && flat && abrupt && evidence) st('anomaly', resumes ? 'resumes' : 'low soc');
    else st('ambiguous', `strict ${Math.round(strict / 1000)} s, flat ${flat}, stop at ${frac.toFixed(2)} of peak, resumes ${resumes}/${noResume}, soc ${socLow}/${socHigh}`);
  }
  return out;
}

/** Energy delivered between readings i and i+1 as the detector can know it (register, else what power explains at most). */
export function deltaKwh(v: ReadView, i: number): number {
  if (v.has.energy) return Math.max(0, registerAt(v, i + 1) - registerAt(v, i));
  const { t, p } = v.tr;
  return Math.max(p[i], p[i + 1]) * ((t[i + 1] - t[i]) / H);
}

/**
 * Usable battery the session itself shows: 100 ÷ the median SoC points per kWh over its charging
 * intervals (both readings charging, energy delivered), floored at 5 kWh; null when too little to
 * estimate (fewer than 3 such intervals, or under 3 SoC points over them). Analysis window only.
 */
export function sessionBatteryKwh(v: ReadView, skip?: (i: number) => boolean): number | null {
  const { t, s } = v.tr;
  const lv = sentLevels(v);
  const ratios: number[] = [];
  let points = 0;
  for (let i = v.tr.w0; i + 1 < t.length; i++) {
    if (skip?.(i) || !(lv[i] > CHARGING_KW && lv[i + 1] > CHARGING_KW)) continue;
    const de = deltaKwh(v, i);
    const ds = s[i + 1] - s[i];
    if (!(de > 0) || s[i] < 0 || s[i + 1] > 100) continue;
    ratios.push(ds / de);
    points += Math.max(0, ds);
  }
  if (ratios.length < 3 || points < 3) return null;
  ratios.sort((x, y) => x - y);
  const m = ratios.length;
  const median = m % 2 ? ratios[m >> 1] : (ratios[m / 2 - 1] + ratios[m / 2]) / 2;
  return median > 0 ? Math.max(SOC_MIN_BATTERY_KWH, 100 / median) : Infinity;
}

/** The contract's bound on a SoC rise over interval i → i+1 (points), for battery C. */
export function socRiseBound(v: ReadView, i: number, batteryKwh: number): number {
  return (100 * deltaKwh(v, i)) / batteryKwh + SOC_RISE_SLACK;
}

/**
 * Intervals whose SoC rise is not clearly within the bound (within `margin` points of it or over),
 * judged with the session's own battery; `skip` leaves out intervals already labelled.
 */
export function socRiseSuspects(v: ReadView, margin: number, skip?: (i: number) => boolean): number[] {
  if (!v.has.soc) return [];
  const c = sessionBatteryKwh(v, skip) ?? SOC_DEFAULT_BATTERY_KWH;
  const { s } = v.tr;
  const out: number[] = [];
  for (let i = v.tr.w0; i + 1 < s.length; i++) {
    if (skip?.(i)) continue;
    if (s[i + 1] - s[i] > socRiseBound(v, i, c) - margin) out.push(i);
  }
  return out;
}

/**
 * UNEXPECTED_KWH_ACCUMULATE's first clause read back: runs of consecutive readings whose power is
 * idle (≤ 0.5 kW), spanning ≥ 1 min, over which the register as sent rises 0.03 kWh or more beyond
 * what power explains (the rule's 0.05 with a margin). A faulty power series that reads idle while
 * the register still climbs (a taper tail scaled down, a phase sent as the total) is exactly that.
 * Power and register both needed; `skip(i)` leaves out readings already labelled.
 */
export function accrualSuspects(v: ReadView, skip?: (i: number) => boolean): [number, number][] {
  if (!v.has.power || !v.has.energy) return [];
  const { t, p, e } = v.tr;
  const n = t.length;
  const q = (x: number) => Math.round(x / v.resKwh) * v.resKwh;
  const out: [number, number][] = [];
  // Power is sent rounded (0.503 kW may arrive as 0.50): near the threshold counts as idle here.
  const idle = (i: number) => p[i] <= CHARGING_KW + 0.02;
  for (let i = v.tr.w0; i < n; i++) {
    if (!idle(i)) continue;
    let j = i;
    while (j + 1 < n && idle(j + 1)) j++;
    const a = i;
    i = j;
    if (t[j] - t[a] < MIN) continue;
    let labelled = false;
    for (let k = a; k <= j && !labelled; k++) labelled = skip?.(k) ?? false;
    if (labelled) continue;
    let explained = 0;
    for (let k = a; k < j; k++) explained += Math.max(p[k], p[k + 1]) * ((t[k + 1] - t[k]) / H);
    if (q(e[j]) - q(e[a]) - explained >= 0.03) out.push([a, j]);
  }
  return out;
}
