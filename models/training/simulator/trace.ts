// A session as normalisation should see it: one value per sampling instant for the energy register
// (kWh, including its lifetime start), total power (kW) and SoC (%), beside the physical truth.
// Anomalies are injected into the reported series; the true ones never change.
import { stateAt, type Timeline } from './physics';
import type { Rng } from './rng';

export const BUCKET_MS = 15_000;
export const WINDOW_MS = 6 * 3_600_000;
/** anomaly-categories.md: charging is P > 0.5 kW. */
export const CHARGING_KW = 0.5;

export interface Trace {
  t: number[];
  /** Reported energy register (kWh). */
  e: number[];
  /** Reported power (kW). */
  p: number[];
  /** Reported SoC (%), rounded as the car sends it. */
  s: number[];
  /** True energy register (kWh): what a healthy meter would have shown. */
  eTrue: number[];
  /** True power (kW), noise-free. */
  pTrue: number[];
  /** True SoC (%), unrounded. */
  sTrue: number[];
  /** First index inside the analysis window (the last 6 hours). */
  w0: number;
}

export interface TraceOptions {
  registerStartKwh: number;
  /** Relative sd of power readings (meter noise). */
  powerNoise: number;
  /** Some chargers report a few watts while idle. */
  standbyKw: number;
  socDecimals: number;
}

export function buildTrace(tl: Timeline, t: number[], rng: Rng, o: TraceOptions): Trace {
  const n = t.length;
  const tr: Trace = { t, e: [], p: [], s: [], eTrue: [], pTrue: [], sTrue: [], w0: windowStartIndex(t) };
  const f = 10 ** o.socDecimals;
  for (let i = 0; i < n; i++) {
    const st = stateAt(tl, t[i]);
    const e = o.registerStartKwh + st.kwh;
    tr.eTrue.push(e);
    tr.e.push(e);
    tr.pTrue.push(st.kw);
    tr.p.push(st.kw > 0 ? Math.max(0, st.kw * (1 + o.powerNoise * rng.normal())) : o.standbyKw > 0 ? o.standbyKw * rng.range(0.5, 1.5) : 0);
    tr.sTrue.push(st.soc);
    tr.s.push(Math.min(100, Math.max(0, Math.round(st.soc * f) / f)));
  }
  return tr;
}

export function windowStartIndex(t: number[]): number {
  if (t.length === 0) return 0;
  const start = t[t.length - 1] - WINDOW_MS;
  let i = 0;
  while (t[i] < start) i++;
  return i;
}

export function isCharging(tr: Trace, i: number): boolean {
  return tr.pTrue[i] > CHARGING_KW;
}

/** True register slope over reading interval i → i+1, in kW. */
export function trueSlopeKw(tr: Trace, i: number): number {
  const dt = (tr.t[i + 1] - tr.t[i]) / 3_600_000;
  return dt > 0 ? (tr.eTrue[i + 1] - tr.eTrue[i]) / dt : 0;
}
