// How a normal session unfolds: plug in, (maybe wait for a smart-charging slot), charge towards the
// car's target, then leave — before full, soon after a DC stop at the target, or hours after an AC
// car tapered to full. Load management and shared DC cabinets step power down and up (never to idle).
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
  /** ZERO_SESSION: the car never takes energy (kept inside one 6-hour analysis window). */
  zero?: boolean;
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
    // At a DC target below 95 % the driver leaves within minutes: a longer idle would be CHARGING_EXPECTED.
    plan.idleAfterFullMs = plan.socTarget >= 95 ? rng.range(0, 40 * MIN) : rng.range(0, 5 * MIN);
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
  plan.socStart = Math.min(plan.socStart, plan.socTarget - 8);

  switch (wish.lookalike) {
    case 'smart-charging-idle':
      plan.chargeStartMs = startMs + rng.logRange(10 * MIN, 4 * H);
      plan.departureMs = Math.max(plan.departureMs, plan.chargeStartMs + rng.range(0.5 * H, 8 * H));
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
    plan.departureMs = startMs + rng.logRange(3 * MIN, 5.9 * H);
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

/** Short interruptions (1–8 min) while charging: below the 10-minute CHARGING_EXPECTED threshold. */
export function addBriefPauses(rng: Rng, plan: ChargePlan, base: Timeline): void {
  if (base.firstChargeMs === null || base.lastChargeMs === null) return;
  const from = base.firstChargeMs + 3 * MIN;
  const to = base.lastChargeMs - 12 * MIN;
  if (to <= from) return;
  const n = rng.int(1, 2);
  const pauses: { fromMs: number; toMs: number }[] = [];
  for (let i = 0; i < n * 4 && pauses.length < n; i++) {
    const a = rng.range(from, to);
    const b = a + rng.range(1 * MIN, 8 * MIN);
    if (pauses.every((p) => b + 5 * MIN < p.fromMs || a > p.toMs + 5 * MIN)) pauses.push({ fromMs: a, toMs: b });
  }
  plan.pauses = pauses.sort((x, y) => x.fromMs - y.fromMs);
}
