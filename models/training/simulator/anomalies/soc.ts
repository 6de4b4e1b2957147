// UNEXPECTED_CHARGE_LEVEL_CHANGES: SoC falling more than 2 points while energy flows in (also for
// good: a recalibration, 8–12 points on AC being the case the served models missed), rising between
// two consecutive readings more than the delivered energy explains for the battery the session
// itself shows (+3 points), or leaving 0–100 (255 is a common "unknown" from cars). Values are
// whole points, clear of the thresholds.
import { deltaKwh, sessionBatteryKwh, SOC_MIN_BATTERY_KWH, SOC_RISE_SLACK } from '../readback';
import { isCharging, trueSlopeKw, CHARGING_KW } from '../trace';
import { clamp01, type Injection } from './context';

const SOC_FALL_POINTS = 2;
/** Whole points beyond each threshold, so that SoC rounding cannot undo an injection. */
const MARGIN_POINTS = 2;
const TRIES = 30;

type Variant = 'drop' | 'zero-glitch' | 'jump' | 'out-of-range';

/**
 * `flowAllowed`: false in a session that never charges (a fall needs energy flowing in);
 * `only`: 'persistent-drop' injects nothing but a drop that stays (8–12 points on AC).
 */
export function injectChargeLevel(c: Injection, severity: number, flowAllowed = true, only?: 'persistent-drop'): boolean {
  if (only === 'persistent-drop') {
    for (let attempt = 0; attempt < TRIES; attempt++) if (flowAllowed && drop(c, severity, false, true)) return true;
    return false;
  }
  const variants: [Variant, number][] = [
    ['jump', 0.3],
    ['out-of-range', 0.2],
  ];
  // On AC the drop weighs more: SoC over AC is rarer, and the persistent AC drop must be learnt.
  if (flowAllowed) variants.push(['drop', c.phasesUsed > 0 ? 0.55 : 0.35], ['zero-glitch', 0.15]);
  for (let attempt = 0; attempt < TRIES; attempt++) {
    const v = c.rng.weighted(variants);
    const ok = v === 'out-of-range' ? outOfRange(c, severity) : v === 'jump' ? jump(c, severity) : drop(c, severity, v === 'zero-glitch');
    if (ok) return true;
  }
  return false;
}

/** Energy flows into the car over interval i → i+1 (both ends charging, register rising). */
function flowing(c: Injection, i: number): boolean {
  return isCharging(c.tr, i) && isCharging(c.tr, i + 1) && trueSlopeKw(c.tr, i) > CHARGING_KW;
}

function drop(c: Injection, severity: number, toZero: boolean, forcePersist = false): boolean {
  const { t, s } = c.tr;
  const n = c.n;
  const j = c.rng.int(Math.max(1, c.tr.w0 + 1), n - 1);
  if (!flowing(c, j - 1)) return false;
  // Back on track after m readings, or (a recalibration) for good. A lower SoC in a later idle
  // stretch could make it CHARGING_EXPECTED: the session's final read-back rejects that draw.
  const persist = forcePersist || c.rng.chance(c.phasesUsed > 0 ? 0.5 : 0.4);
  let end = n - 1;
  if (!persist) {
    end = j;
    const m = c.rng.int(1, 8);
    while (end + 1 < n - 1 && end - j + 1 < m && flowing(c, end)) end++;
    // Lowered readings must all be while charging (a lower SoC while idle could pass for a stall).
    for (let i = j; i <= end; i++) if (!isCharging(c.tr, i)) return false;
  }
  const after = persist ? n - 1 : Math.min(end + 1, n - 1);
  if (!c.free(c.busyS, j - 1, after)) return false;
  const least = SOC_FALL_POINTS + 1 + MARGIN_POINTS;
  // A recalibration on AC: often 8–12 points, the size the served models used to miss.
  let points = toZero ? s[j] : persist && c.phasesUsed > 0 && (forcePersist || c.rng.chance(0.6)) ? c.rng.int(8, 12) : Math.round(least + severity * 36);
  points = Math.min(points, s[j]);
  if (s[j - 1] - (s[j] - points) < least) return false;
  for (let i = j; i <= end; i++) s[i] = Math.max(0, s[i] - points);
  c.claim(c.busyS, j - 1, after);
  c.add('UNEXPECTED_CHARGE_LEVEL_CHANGES', t[j - 1], persist ? t[j] : t[after], clamp01(points / 50), toZero ? 'zero-glitch' : persist ? 'drop/persist' : 'drop');
  return true;
}

function jump(c: Injection, severity: number): boolean {
  const { t, s, eTrue } = c.tr;
  const n = c.n;
  const j = c.rng.int(Math.max(1, c.tr.w0 + 1), n - 1);
  // Judged with the session's own battery; the smallest it could plausibly be estimated at (or the
  // 5 kWh floor) keeps the jump clear of the bound however the estimate comes out.
  const view = { tr: c.tr, has: c.has, resKwh: c.resKwh, ratingKw: c.ratingKw };
  const est = sessionBatteryKwh(view);
  const battery = est === null || !Number.isFinite(est) ? SOC_MIN_BATTERY_KWH : Math.max(SOC_MIN_BATTERY_KWH, 0.8 * est);
  const explained = (100 * Math.max(0, deltaKwh(view, j - 1), eTrue[j] - eTrue[j - 1])) / battery + SOC_RISE_SLACK;
  const points = Math.ceil(explained + MARGIN_POINTS + severity * 30);
  const persist = c.rng.chance(0.35);
  let end = j;
  if (persist) end = n - 1;
  else {
    const m = c.rng.int(1, 6);
    while (end + 1 < n - 1 && end - j + 1 < m) end++;
  }
  const after = persist ? n - 1 : Math.min(end + 1, n - 1);
  if (!c.free(c.busyS, j - 1, after)) return false;
  for (let i = j; i <= end; i++) if (s[i] + points > 100) return false;
  for (let i = j; i <= end; i++) s[i] += points;
  c.claim(c.busyS, j - 1, after);
  c.add('UNEXPECTED_CHARGE_LEVEL_CHANGES', t[j - 1], persist ? t[j] : t[after], clamp01((points - explained) / 50), persist ? 'jump/persist' : 'jump');
  return true;
}

function outOfRange(c: Injection, severity: number): boolean {
  const { t, s } = c.tr;
  const n = c.n;
  const j = c.rng.int(c.tr.w0, n - 1);
  const end = Math.min(n - 1, j + c.rng.int(0, 2));
  const before = Math.max(c.tr.w0, j - 1);
  const after = Math.min(end + 1, n - 1);
  if (!c.free(c.busyS, before, after)) return false;
  const value = severity < 0.3 ? c.rng.int(101, 110) : c.rng.pick([120, 127, 150, 200, 255]);
  for (let i = j; i <= end; i++) s[i] = value;
  c.claim(c.busyS, before, after);
  // The jump out of 0–100 and back is the impossible change, like a drop and its return.
  c.add('UNEXPECTED_CHARGE_LEVEL_CHANGES', t[before], t[after], clamp01((value - 100) / 50), 'out-of-range');
  return true;
}
