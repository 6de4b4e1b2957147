// The daily profile the learned SHADE model reads: 96 quarter-hour slots × PROFILE_CHANNELS
// channels, plus a small context vector. One implementation for training (the dataset export
// calls it) and serving, like models/serving/features.ts for sessions.
import { STATION_ANOMALY_TYPES, type StationDayInput } from '../../../domain/shade/types';
import { beganToday, type DayAnalysis } from './rules';

export const PROFILE_VERSION = 'shade-profile-2';
export const SLOTS = 96;
/**
 * 0 station energy, 1 expected energy (baseline), 2 expected session starts (baseline), 3 session
 * starts, 4 share of connector-minutes in a session, 5 share of connector-minutes delivering,
 * 6 starts of sessions that delivered nothing, 7 energy outside sessions, 8 register-vs-power
 * mismatch, 9 cumulative energy minus cumulative expected (÷ the expected day), 10–14 the rules'
 * finding score per type (STATION_ANOMALY_TYPES order) over the finding's range — the model learns
 * from the rules' evidence as the session models learn from their `*_rule` channels.
 * Energies are log1p(Wh ÷ scale), scale = the station's usual energy per slot.
 */
export const PROFILE_CHANNELS = 15;
/** Channels the autoencoder part reconstructs … */
export const OBSERVED_CHANNELS = [0, 3, 4, 5, 6, 7, 8, 9] as const;
/** … from its bottleneck, the context and these (the baseline's expectation). */
export const CONDITIONING_CHANNELS = [1, 2] as const;
/** Weekday one-hot (7), has-baseline, log10 of the scale, connectors ÷ 8. */
export const CONTEXT_SIZE = 10;

export interface Profile {
  /** [PROFILE_CHANNELS × SLOTS], channel-major. */
  x: Float32Array;
  context: Float32Array;
}

/** Slot of minute m on a day of n minutes (DST days stretch or squeeze the 96 slots). */
export const slotOf = (m: number, n: number) => Math.min(SLOTS - 1, Math.floor((m * SLOTS) / n));

export function dayProfile(day: StationDayInput, a: DayAnalysis): Profile {
  const n = day.minutes;
  const x = new Float32Array(PROFILE_CHANNELS * SLOTS);
  const at = (c: number, s: number) => c * SLOTS + s;
  const b = a.baseline;
  let historyMean = 0;
  if (day.history.length) {
    for (const h of day.history) for (const w of h.hourlyWh) historyMean += w;
    historyMean /= day.history.length;
  }
  const scale = Math.max(b ? b.dayWh : historyMean, 1000) / SLOTS;
  const energy = new Float64Array(SLOTS);
  const expected = new Float64Array(SLOTS);
  const outside = new Float64Array(SLOTS);
  const mismatch = new Float64Array(SLOTS);
  const powerSum = new Float64Array(SLOTS);
  for (let m = 0; m < n; m++) {
    const s = slotOf(m, n);
    energy[s] += a.totalWh[m];
    if (a.expectedWh) expected[s] += a.expectedWh[m];
  }
  const C = Math.max(1, day.connectors.length);
  const slotMinutes = n / SLOTS;
  for (const c of day.connectors) {
    const inSession = new Uint8Array(n);
    for (const ss of c.sessions) {
      for (let m = Math.max(0, ss.startMinute); m <= Math.min(n - 1, ss.endMinute); m++) inSession[m] = 1;
      if (!beganToday(ss)) continue;
      const s = slotOf(ss.startMinute, n);
      x[at(3, s)] += 1;
      if (ss.energyWh < 100) x[at(6, s)] += 1;
    }
    for (let m = 0; m < n; m++) {
      const s = slotOf(m, n);
      const e = c.energyWh[m] || 0;
      if (inSession[m]) x[at(4, s)] += 1 / (C * slotMinutes);
      if (e >= 10) x[at(5, s)] += 1 / (C * slotMinutes);
      if (!inSession[m]) outside[s] += e;
      const p = c.powerWh[m];
      if (p != null && inSession[m] && e >= 10) {
        mismatch[s] += Math.abs(e - p);
        powerSum[s] += Math.max(e, p);
      }
    }
  }
  if (b) {
    for (let h = 0; h < 24; h++) {
      // Session starts expected per slot: the hour's rate spread over its four slots.
      for (let q = 0; q < 4; q++) x[at(2, h * 4 + q)] = b.startsPerHour[h] / 4;
    }
  }
  for (let s = 0; s < SLOTS; s++) {
    x[at(0, s)] = Math.log1p(energy[s] / scale);
    x[at(1, s)] = Math.log1p(expected[s] / scale);
    x[at(3, s)] = Math.log1p(x[at(3, s)]);
    x[at(6, s)] = Math.log1p(x[at(6, s)]);
    x[at(7, s)] = Math.log1p(outside[s] / scale);
    x[at(8, s)] = powerSum[s] > 0 ? Math.min(1, mismatch[s] / powerSum[s]) : 0;
  }
  if (b && a.expectedWh) {
    let cumE = 0;
    let cumX = 0;
    let sumX = 0;
    for (let s = 0; s < SLOTS; s++) sumX += expected[s];
    for (let s = 0; s < SLOTS; s++) {
      cumE += energy[s];
      cumX += expected[s];
      x[at(9, s)] = Math.max(-2, Math.min(2, (cumE - cumX) / Math.max(sumX, 1000)));
    }
  }
  for (const f of a.findings) {
    const ch = 10 + STATION_ANOMALY_TYPES.indexOf(f.anomaly_type);
    for (let s = slotOf(f.start_minute, n); s <= slotOf(f.end_minute, n); s++) x[at(ch, s)] = Math.max(x[at(ch, s)], f.score);
  }
  const context = new Float32Array(CONTEXT_SIZE);
  context[((day.weekday % 7) + 7) % 7] = 1;
  context[7] = b ? 1 : 0;
  context[8] = Math.log10(scale * SLOTS) / 6;
  context[9] = Math.min(day.connectors.length, 16) / 8;
  return { x, context };
}
