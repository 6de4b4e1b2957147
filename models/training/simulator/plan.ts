// How a normal session unfolds: plug in, (maybe wait for a smart-charging slot of up to 4 h), charge
// towards the car's target, then leave — before full, soon after a DC stop at the target, hours after
// an AC car tapered to full, or after an AC car stopped flat at its charge limit (80/85/90/100 %),
// sometimes overnight. Load management and shared DC cabinets step power down and up (never to idle).
import { MAX_SESSION_MS, type ChargePlan, type ChargerPhysics, type Timeline } from './physics';
import type { Rng } from './rng';
import type { Station } from './station';
import type { Lookalike } from './types';
import { acPhasesUsed, acPowerKw, dcCurveKw, type Vehicle } from './vehicle';

const MIN = 60_000;
const H = 3_600_000;
/** AC load management never goes below the IEC 61851 minimum of 6 A per phase. */
const MIN_AMPS = 6;
const VOLTS = 230;

export function drawPhysics(rng: Rng, vehicle: Vehicle, station: Station): ChargerPhysics {
  if (station.current === 'DC') {
    const derate = rng.range(0.8, 1);
    return {
      current: 'DC',
      batteryKwh: vehicle.batteryKwh,
      efficiency: rng.range(0.92, 0.96),
      maxKw: station.ratedKw,
      dcKw: (soc) => dcCurveKw(vehicle, soc) * derate,
      rampMs: rng.range(20_000, 90_000),
      taperStartSoc: 100,
      taperFloor: 1,
      phasesUsed: 0,
    };
  }
  const maxKw = acPowerKw(vehicle, station.ratedKw) * rng.range(0.94, 1);
  return {
    current: 'AC',
    batteryKwh: vehicle.batteryKwh,
    efficiency: rng.range(0.86, 0.93),
    maxKw,
    dcKw: null,
    rampMs: rng.range(5_000, 20_000),
    taperStartSoc: rng.range(88, 96),
    // The taper ends well above the 0.5 kW charging threshold: a trickle below it would be ambiguous.
    taperFloor: Math.max(rng.range(0.08, 0.3), 0.8 / maxKw),
    phasesUsed: acPhasesUsed(vehicle, station.phases),
  };
}

export interface PlanWish {
  lookalike?: Lookalike;
  /** ZERO_SESSION: the car never takes energy (judged over all readings, so it may last past 6 h). */
  zero?: boolean;
  /**
   * AC: the car stops flat at its charge limit (no taper; the caller sets ph.taperStartSoc = 100)
   * and stays plugged in.
   */
  stopAtLimit?: boolean;
  /** End with an idle tail long enough for a wake draw (≥ 25 min after the finish). */
  idleTail?: boolean;
  /** A smart-charging delay before charging may start (10 min … 4 h). */
  smartDelay?: boolean;
}

export function drawPlan(rng: Rng, ph: ChargerPhysics, startMs: number, wish: PlanWish): ChargePlan {
  const dc = ph.current === 'DC';
  const plan: ChargePlan = {
    startMs,
    chargeStartMs: startMs + rng.range(5_000, 90_000),
    departureMs: 0,
    idleAfterFullMs: Infinity,
    socStart: 0,
    socTarget: 100,
    limits: [],
    pauses: [],
    stopMs: null,
    noCharge: false,
    wakes: [],
  };
  if (dc) {
    plan.socStart = rng.range(5, 60);
    plan.socTarget = rng.weighted<() => number>([
      [() => 80, 0.45],
      [() => rng.pick([85, 90]), 0.2],
      [() => 100, 0.1],
      [() => rng.range(60, 80), 0.25],
    ])();
    plan.departureMs = startMs + rng.logRange(12 * MIN, 100 * MIN);
    // At a low DC target the driver leaves within minutes (with SoC below 70 % a long idle after an
    // abrupt stop would be CHARGING_EXPECTED); at 75 % and more an idle car is normal.
    plan.idleAfterFullMs = plan.socTarget >= 75 ? rng.range(0, 40 * MIN) : rng.range(0, 5 * MIN);
  } else {
    plan.socStart = rng.range(10, 85);
    plan.socTarget = rng.chance(0.75) ? 100 : rng.range(95, 99.5);
    plan.departureMs =
      startMs +
      rng.weighted<() => number>([
        [() => rng.logRange(10 * MIN, 60 * MIN), 0.15],
        [() => rng.range(1 * H, 4 * H), 0.35],
        [() => rng.range(4 * H, 8 * H), 0.25],
        [() => rng.range(8 * H, 16 * H), 0.25],
      ])();
  }
  if (wish.stopAtLimit && !dc) {
    plan.socTarget = rng.weighted([
      [80, 0.35],
      [85, 0.15],
      [90, 0.25],
      [100, 0.25],
    ] as const);
    plan.idleAfterFullMs = rng.weighted<() => number>([
      [() => rng.range(0, 15 * MIN), 0.25],
      [() => rng.logRange(15 * MIN, 3 * H), 0.45],
      [() => rng.range(3 * H, 10 * H), 0.3],
    ])();
    plan.departureMs = Math.max(plan.departureMs, startMs + rng.range(1 * H, 8 * H));
  }
  plan.socStart = Math.min(plan.socStart, plan.socTarget - 8);

  if (wish.smartDelay || wish.lookalike === 'smart-charging-idle') {
    plan.chargeStartMs = startMs + rng.logRange(10 * MIN, 4 * H);
    plan.departureMs = Math.max(plan.departureMs, plan.chargeStartMs + rng.range(0.5 * H, 8 * H));
  }
  if (wish.idleTail) {
    plan.departureMs = startMs + MAX_SESSION_MS;
    if (!(plan.idleAfterFullMs >= 25 * MIN && plan.idleAfterFullMs < Infinity)) plan.idleAfterFullMs = rng.logRange(25 * MIN, 6 * H);
  }

  switch (wish.lookalike) {
    case 'smart-charging-idle':
      break;
    case 'overnight-idle':
      // Charged in the evening, idle for the rest of the night: the last 6 hours hold no charging.
      plan.socStart = Math.max(plan.socStart, plan.socTarget - rng.range(10, 60));
      plan.departureMs = startMs + MAX_SESSION_MS;
      plan.idleAfterFullMs = rng.range(6.3 * H, 12 * H);
      break;
    case 'tapered-finish-idle':
      plan.socTarget = 100;
      plan.socStart = Math.min(plan.socStart, rng.range(40, 90));
      plan.departureMs = startMs + MAX_SESSION_MS;
      plan.idleAfterFullMs = dc ? rng.range(12 * MIN, 60 * MIN) : rng.logRange(15 * MIN, 8 * H);
      break;
    case 'long-session':
      plan.departureMs = startMs + rng.range(6.5 * H, 16 * H);
      break;
    default:
      break;
  }
  if (wish.zero) {
    plan.noCharge = true;
    // Mostly inside one window; some plugged in all night without ever charging.
    plan.departureMs = startMs + (rng.chance(0.85) ? rng.logRange(3 * MIN, 5.9 * H) : rng.range(6.2 * H, 14 * H));
  }
  return plan;
}

/**
 * Load-management steps during charging: down to a lower cap (AC ≥ 6 A per phase, DC ≥ 30 % or the
 * cabinet's half) and back, spaced at least `minGapMs` so that no two fall between the same readings.
 */
export function addLoadSteps(rng: Rng, plan: ChargePlan, base: Timeline, ph: ChargerPhysics, station: Station, minGapMs: number): void {
  if (base.firstChargeMs === null || base.lastChargeMs === null) return;
  const from = base.firstChargeMs + Math.max(2 * MIN, minGapMs);
  const to = base.lastChargeMs - Math.max(2 * MIN, minGapMs);
  if (to - from < 2 * minGapMs) return;
  const steps = rng.int(1, 3) * 2;
  const times: number[] = [];
  for (let i = 0; i < steps * 4 && times.length < steps; i++) {
    const t = rng.range(from, to);
    if (times.every((x) => Math.abs(x - t) >= minGapMs)) times.push(t);
  }
  times.sort((a, b) => a - b);
  const full = station.current === 'DC' ? station.ratedKw : Infinity;
  plan.limits = times.map((atMs, i) => {
    if (i % 2 === 1) return { atMs, kw: full };
    let kw: number;
    if (station.sharedCabinet) kw = station.ratedKw / 2;
    else if (station.current === 'DC') kw = Math.max(15, station.ratedKw * rng.range(0.3, 0.6));
    else kw = (Math.max(1, ph.phasesUsed) * VOLTS * rng.range(MIN_AMPS, 13)) / 1000;
    return { atMs, kw };
  });
}

/**
 * Short interruptions (1–8 min) while charging: below the 10-minute CHARGING_EXPECTED threshold
 * also as the readings measure it (last charging reading to the next), hence shorter with sparser readings.
 */
export function addBriefPauses(rng: Rng, plan: ChargePlan, base: Timeline, intervalMs = 0): void {
  const longest = Math.min(8 * MIN, 9 * MIN - 2.2 * intervalMs);
  if (longest < 1.5 * MIN) return;
  if (base.firstChargeMs === null || base.lastChargeMs === null) return;
  const from = base.firstChargeMs + 3 * MIN;
  const to = base.lastChargeMs - 12 * MIN;
  if (to <= from) return;
  const n = rng.int(1, 2);
  const pauses: { fromMs: number; toMs: number }[] = [];
  for (let i = 0; i < n * 4 && pauses.length < n; i++) {
    const a = rng.range(from, to);
    const b = a + rng.range(1 * MIN, longest);
    if (pauses.every((p) => b + 5 * MIN < p.fromMs || a > p.toMs + 5 * MIN)) pauses.push({ fromMs: a, toMs: b });
  }
  plan.pauses = pauses.sort((x, y) => x.fromMs - y.fromMs);
}

/**
 * A short low-power draw after charging has ended (pre-conditioning, cell balancing): 2–4 min at
 * 0.6 kW … min(2.5 kW, 22 % of the peak), under 1 kWh, starting 20 min … 5 h after the last charging
 * and ending ≥ 5 min before the session does. Where power is sent the draw spans a reading, so that
 * power explains the register's rise. False when the tail is too short or the car too weak.
 */
export function addWakeDraw(rng: Rng, plan: ChargePlan, tl: Timeline, readingsUpTo: (endMs: number) => number[], withPower: boolean): boolean {
  if (tl.lastChargeMs === null) return false;
  const peak = Math.max(...tl.p);
  const top = Math.min(2.5, 0.22 * peak);
  if (top < 0.65) return false;
  const ms = rng.range(2 * MIN, 4 * MIN);
  const kw = rng.range(0.6, top);
  const lo = tl.lastChargeMs + 20 * MIN;
  const hi = Math.min(tl.endMs - 5 * MIN - ms, tl.lastChargeMs + 5 * H);
  if (hi <= lo) return false;
  let fromMs = rng.range(lo, hi);
  if (withPower) {
    const inside = readingsUpTo(hi + ms).filter((t) => t >= lo + 0.3 * ms && t <= hi + 0.7 * ms);
    if (inside.length === 0) return false;
    fromMs = rng.pick(inside) - rng.range(0.3, 0.7) * ms;
  }
  plan.wakes = [{ fromMs, toMs: fromMs + ms, kw }];
  return true;
}
