// Charging physics: the car decides the power (AC onboard charger with a taper near full, DC curve
// by SoC), the point and load management cap it; energy is its integral and SoC follows through
// the charging efficiency. Power is piecewise constant over short steps, so a sampled power
// reading and the register slope agree by construction.
import type { CurrentType } from './types';

const H = 3_600_000;
/** Nothing plugs in for longer than this. */
export const MAX_SESSION_MS = 26 * H;

export interface ChargerPhysics {
  current: CurrentType;
  batteryKwh: number;
  efficiency: number;
  /** AC: what the car draws at this point; DC: the connector's limit. */
  maxKw: number;
  /** DC: power the car accepts at a SoC (kW), already derated; null on AC. */
  dcKw: ((soc: number) => number) | null;
  /** Power ramps up linearly over this after each (re)start. */
  rampMs: number;
  /** AC: the onboard charger tapers linearly above this SoC, down to taperFloor × power at 100 %. */
  taperStartSoc: number;
  taperFloor: number;
  /** AC phases the car charges on (DC: 0). */
  phasesUsed: number;
}

export interface ChargePlan {
  startMs: number;
  /** Charging may begin from here (handshake, or a smart-charging delay). */
  chargeStartMs: number;
  /** The driver unplugs at this instant at the latest. */
  departureMs: number;
  /** After the target SoC is reached the session idles this long, then ends (capped by departure). */
  idleAfterFullMs: number;
  socStart: number;
  socTarget: number;
  /** Power caps from this instant on (load management, shared cabinet), sorted; none = the point's maximum. */
  limits: { atMs: number; kw: number }[];
  /** Charging interrupted (power 0, register flat), sorted and disjoint. */
  pauses: { fromMs: number; toMs: number }[];
  /** Charging ends for good here (a fault); the session idles on until departure. */
  stopMs: number | null;
  /** The car never takes energy. */
  noCharge: boolean;
  /**
   * Short low-power draws while not charging (pre-conditioning, balancing after the stop), sorted
   * and disjoint. They never count as charging in the timeline's first/last charge instants.
   */
  wakes: { fromMs: number; toMs: number; kw: number }[];
}

export interface Timeline {
  startMs: number;
  endMs: number;
  stepMs: number;
  /** kW during step k. */
  p: number[];
  /** kWh delivered at the start of step k (one entry more than p). */
  e: number[];
  /** SoC (%) at the start of step k (one entry more than p). */
  soc: number[];
  firstChargeMs: number | null;
  lastChargeMs: number | null;
  /** When the target SoC was reached. */
  fullMs: number | null;
}

export function chargingPower(ph: ChargerPhysics, soc: number, limitKw: number): number {
  if (ph.dcKw) return Math.min(ph.dcKw(soc), limitKw, ph.maxKw);
  let p = Math.min(ph.maxKw, limitKw);
  if (soc > ph.taperStartSoc) p *= 1 - ((1 - ph.taperFloor) * (soc - ph.taperStartSoc)) / (100 - ph.taperStartSoc);
  return p;
}

export function simulate(ph: ChargerPhysics, plan: ChargePlan, stepMs: number): Timeline {
  const p: number[] = [];
  const e: number[] = [0];
  const soc: number[] = [plan.socStart];
  let end = Math.min(plan.departureMs, plan.startMs + MAX_SESSION_MS);
  let s = plan.socStart;
  let delivered = 0;
  let fullMs: number | null = null;
  let firstChargeMs: number | null = null;
  let lastChargeMs: number | null = null;
  let limit = Infinity;
  let li = 0;
  let pi = 0;
  let wi = 0;
  let segStart = 0;
  let wasOn = false;
  const socPerKwh = (100 * ph.efficiency) / ph.batteryKwh;
  const stepH = stepMs / H;
  for (let k = 0; ; k++) {
    const t = plan.startMs + k * stepMs;
    if (t >= end) break;
    while (li < plan.limits.length && plan.limits[li].atMs <= t) limit = plan.limits[li++].kw;
    while (pi < plan.pauses.length && plan.pauses[pi].toMs <= t) pi++;
    const paused = pi < plan.pauses.length && plan.pauses[pi].fromMs <= t;
    const on = !plan.noCharge && fullMs === null && t >= plan.chargeStartMs && !paused && (plan.stopMs === null || t < plan.stopMs);
    let kw = 0;
    if (on) {
      if (!wasOn) segStart = t;
      kw = chargingPower(ph, s, limit);
      const ramp = (t - segStart + stepMs) / ph.rampMs;
      if (ramp < 1) kw *= ramp;
      if (firstChargeMs === null) firstChargeMs = t;
      lastChargeMs = t + stepMs;
    } else {
      while (wi < plan.wakes.length && plan.wakes[wi].toMs <= t) wi++;
      if (wi < plan.wakes.length && plan.wakes[wi].fromMs <= t) kw = plan.wakes[wi].kw;
    }
    wasOn = on;
    p.push(kw);
    delivered += kw * stepH;
    s = Math.min(100, s + kw * stepH * socPerKwh);
    e.push(delivered);
    soc.push(s);
    if (on && fullMs === null && s >= plan.socTarget - 1e-9) {
      fullMs = t + stepMs;
      end = Math.min(end, fullMs + plan.idleAfterFullMs);
    }
  }
  if (p.length === 0) {
    p.push(0);
    e.push(0);
    soc.push(plan.socStart);
  }
  return { startMs: plan.startMs, endMs: Math.max(end, plan.startMs + stepMs), stepMs, p, e, soc, firstChargeMs, lastChargeMs, fullMs };
}

/** The true state at instant t: power of the step containing t, energy and SoC interpolated within it. */
export function stateAt(tl: Timeline, t: number): { kw: number; kwh: number; soc: number } {
  const x = (t - tl.startMs) / tl.stepMs;
  const k = Math.max(0, Math.min(tl.p.length - 1, Math.floor(x)));
  const f = Math.max(0, Math.min(1, x - k));
  return { kw: tl.p[k], kwh: tl.e[k] + (tl.e[k + 1] - tl.e[k]) * f, soc: tl.soc[k] + (tl.soc[k + 1] - tl.soc[k]) * f };
}
