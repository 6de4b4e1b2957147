// The failure classes of issue 14 as named, reproducible sessions for regression tests: each is the
// ordinary generator constrained to the pattern (vehicle, station, measurands, sampling, plan), then
// checked to show it; a draw that does not is redrawn from the next sub-seed. Truth follows the
// revised contract like every other session (readback.ts has judged it).
import type { AnomalyCategory } from '../../../domain/analysis/types';
import { loadVehicles } from './ev-data';
import { MAX_SESSION_MS } from './physics';
import { hashSeed, Rng, type Seed } from './rng';
import { generateSession, type SessionOptions } from './session';
import type { Station } from './station';
import type { SimSession } from './types';
import { acPowerKw, type Vehicle } from './vehicle';

const MIN = 60_000;
const H = 3_600_000;
const ATTEMPTS = 30;

export const FAILURE_CLASSES = [
  'smart-delay-ac-soc-no-power',
  'smart-delay-dc-wh-register',
  'phev-soc-every-5-min',
  'phev-soc-every-15-min',
  'ac-stop-at-limit-no-soc',
  'overnight-idle-after-charge',
  'wake-draw-after-stop',
  'stop-then-resume-no-soc',
  'stop-at-low-soc',
  'ac-persistent-soc-drop',
  'never-charged-8h',
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

interface Scenario {
  /** What the detector must report: nothing (clean) or exactly these categories. */
  expect: AnomalyCategory[];
  options: (rng: Rng) => SessionOptions;
  /** The session shows the pattern (else it is redrawn). */
  shows: (s: SimSession) => boolean;
}

const vehicles = (pred: (v: Vehicle) => boolean) => loadVehicles().filter(pred);
const span = (s: SimSession) => s.profile.endMs - s.profile.startMs;
const station = (rng: Rng, ratedKw: number, current: 'AC' | 'DC' = 'AC'): Station => ({
  id: `SCN-CP${rng.int(1, 9999).toString().padStart(4, '0')}`,
  current,
  ratedKw,
  phases: current === 'DC' || ratedKw >= 11 ? 3 : 1,
  connectors: 1,
  sharedCabinet: false,
  ocppVersion: '1.6',
});
const phev = (lo: number, hi: number) => vehicles((v) => v.drive === 'phev' && v.batteryKwh >= lo && v.batteryKwh <= hi);

const SCENARIOS: Record<FailureClass, Scenario> = {
  // 85 min of idle before an AC session with SoC and no power; the register rises ~3 kWh.
  'smart-delay-ac-soc-no-power': {
    expect: [],
    options: () => ({
      lookalike: 'smart-charging-idle',
      current: 'AC',
      measurands: ['energy', 'soc'],
      vehicles: vehicles((v) => v.drive === 'bev' && v.kind === 'car'),
      wakeDraw: 'never',
      stopAtLimit: false,
      adjustPlan: (plan, ph, rng) => {
        plan.socStart = rng.range(20, 50);
        plan.socTarget = 100;
        plan.chargeStartMs = plan.startMs + 85 * MIN;
        plan.departureMs = plan.chargeStartMs + ph.rampMs + (rng.range(2.9, 3.2) / ph.maxKw) * H;
      },
    }),
    shows: (s) => s.profile.behaviours.includes('smart-delay') && s.profile.deliveredKwh >= 2.5 && s.profile.deliveredKwh <= 3.6,
  },
  // 85 min of idle, then DC with a Wh register: +16 kWh.
  'smart-delay-dc-wh-register': {
    expect: [],
    options: (rng) => ({
      lookalike: 'smart-charging-idle',
      station: station(rng, rng.pick([50, 100, 150]), 'DC'),
      current: 'DC',
      measurands: ['energy'],
      vehicles: vehicles((v) => v.drive === 'bev' && v.dc !== null && v.batteryKwh >= 40),
      wakeDraw: 'never',
      adjustPlan: (plan, ph, r) => {
        plan.socStart = r.range(10, 30);
        plan.socTarget = plan.socStart + (16 * ph.efficiency * 100) / ph.batteryKwh;
        plan.chargeStartMs = plan.startMs + 85 * MIN;
        plan.idleAfterFullMs = r.range(0, 4 * MIN);
        plan.departureMs = plan.startMs + MAX_SESSION_MS;
      },
      adjustEncoding: (enc) => {
        enc.energyUnit = 'Wh';
        enc.energyMultiplier = null;
        enc.energyDecimals = 0;
      },
    }),
    shows: (s) => s.profile.behaviours.includes('smart-delay') && s.profile.deliveredKwh >= 15 && s.profile.deliveredKwh <= 17 && s.profile.quirks.includes('wh-register'),
  },
  // A plug-in hybrid (7–11 kWh) read every 5 min: ~+0.3 kWh and +3–4 SoC points per step, within the bound.
  'phev-soc-every-5-min': {
    expect: [],
    options: () => ({
      current: 'AC',
      measurands: ['energy', 'power', 'soc'],
      vehicles: phev(7, 11.5),
      samplingWithin: [300_000, 300_000],
      wakeDraw: 'never',
      adjustPlan: (plan, _ph, r) => {
        plan.socStart = r.range(5, 30);
        plan.departureMs = plan.startMs + r.range(3, 6) * H;
      },
    }),
    shows: (s) => s.profile.drive === 'phev' && s.profile.intervalMs === 300_000 && (s.profile.socEnd ?? 0) - (s.profile.socStart ?? 0) >= 25,
  },
  // The same read every 15 min: ~10 points per step.
  'phev-soc-every-15-min': {
    expect: [],
    options: () => ({
      current: 'AC',
      measurands: ['energy', 'power', 'soc'],
      vehicles: phev(7, 17.5),
      samplingWithin: [880_000, 900_000],
      wakeDraw: 'never',
      adjustPlan: (plan, _ph, r) => {
        plan.socStart = r.range(5, 25);
        plan.departureMs = plan.startMs + r.range(4, 7) * H;
      },
    }),
    shows: (s) => s.profile.drive === 'phev' && s.profile.intervalMs >= 880_000 && (s.profile.socEnd ?? 0) - (s.profile.socStart ?? 0) >= 30,
  },
  // AC ~9–11 kW flat to 0 at the car's limit (no taper), stays plugged in; no SoC, no resumption.
  'ac-stop-at-limit-no-soc': {
    expect: [],
    options: (rng) => ({
      lookalike: 'stop-at-limit',
      station: station(rng, 11),
      current: 'AC',
      measurands: ['energy', 'power'],
      vehicles: vehicles((v) => v.drive === 'bev' && acPowerKw(v, 11) >= 8),
      stopAtLimit: true,
      wakeDraw: 'never',
      adjustPlan: (plan, _ph, r) => {
        plan.socTarget = r.pick([80, 85, 90, 100]);
        plan.socStart = Math.min(plan.socStart, plan.socTarget - 20);
        plan.idleAfterFullMs = r.range(40 * MIN, 3 * H);
        plan.departureMs = plan.startMs + MAX_SESSION_MS;
      },
    }),
    shows: (s) => s.profile.behaviours.includes('stop-at-limit'),
  },
  // Charged, then idle for more than 6 h: the window holds no charging, yet this is no zero session.
  'overnight-idle-after-charge': {
    expect: [],
    options: () => ({ lookalike: 'overnight-idle', current: 'AC', wakeDraw: 'never' }),
    shows: (s) => s.profile.behaviours.includes('overnight') && s.profile.deliveredKwh >= 1,
  },
  // A stop at the limit, then a 2–4 min draw under 30 % of the peak and under 1 kWh: no resumption.
  'wake-draw-after-stop': {
    expect: [],
    options: () => ({ lookalike: 'wake-draw', current: 'AC', stopAtLimit: true, wakeDraw: 'always', measurands: ['energy', 'power'] }),
    shows: (s) => s.profile.behaviours.includes('wake-draw') && s.profile.behaviours.includes('stop-at-limit'),
  },
  // Abrupt stop, 20+ min idle, charging resumes at full power; no SoC.
  'stop-then-resume-no-soc': {
    expect: ['CHARGING_EXPECTED'],
    options: () => ({ categories: ['CHARGING_EXPECTED'], measurands: ['energy', 'power'], severity: 0.5, wakeDraw: 'never' }),
    shows: (s) => s.truth.ranges.some((r) => r.category === 'CHARGING_EXPECTED' && r.variant === 'stall/no-soc' && r.endMs - r.startMs >= 20 * MIN),
  },
  // SoC ~40 % at an abrupt stop, idle ≥ 10 min, no resumption.
  'stop-at-low-soc': {
    expect: ['CHARGING_EXPECTED'],
    options: () => ({
      categories: ['CHARGING_EXPECTED'],
      measurands: ['energy', 'power', 'soc'],
      expectedKind: 'stopped-early',
      wakeDraw: 'never',
      adjustPlan: (plan, _ph, r) => {
        plan.socStart = Math.min(plan.socStart, r.range(10, 25));
      },
    }),
    shows: (s) => s.truth.ranges.some((r) => r.category === 'CHARGING_EXPECTED' && r.variant === 'stopped-early'),
  },
  // AC, SoC falls 8–12 points while energy flows and stays down.
  'ac-persistent-soc-drop': {
    expect: ['UNEXPECTED_CHARGE_LEVEL_CHANGES'],
    options: () => ({
      categories: ['UNEXPECTED_CHARGE_LEVEL_CHANGES'],
      current: 'AC',
      measurands: ['energy', 'power', 'soc'],
      chargeLevelVariant: 'persistent-drop',
      wakeDraw: 'never',
    }),
    shows: (s) => s.profile.current === 'AC' && s.truth.ranges.every((r) => r.variant === 'drop/persist' && r.severity * 50 >= 7.9 && r.severity * 50 <= 12.1),
  },
  // Plugged in ~8 h, never charged: ZERO_SESSION over all readings, reported on the whole window.
  'never-charged-8h': {
    expect: ['ZERO_SESSION'],
    options: () => ({
      categories: ['ZERO_SESSION'],
      adjustPlan: (plan, _ph, r) => {
        plan.departureMs = plan.startMs + r.range(7.5, 8.5) * H;
      },
    }),
    shows: (s) => span(s) > 7 * H,
  },
};

/** What a failure class must produce: [] for clean, else exactly these categories. */
export function scenarioExpectation(name: FailureClass): AnomalyCategory[] {
  return SCENARIOS[name].expect;
}

/** One session of the failure class, deterministic per (name, seed). */
export function generateScenario(name: FailureClass, seed: Seed): SimSession {
  const sc = SCENARIOS[name];
  if (!sc) throw new Error(`unknown failure class ${name}`);
  for (let k = 0; k < ATTEMPTS; k++) {
    const rng = new Rng(hashSeed('scenario', name, seed, k));
    let s: SimSession;
    try {
      s = generateSession(rng, { id: `scn-${name}-${hashSeed(seed).toString(36)}`, ...sc.options(rng.fork('options')) });
    } catch {
      continue;
    }
    const cats = s.truth.categories;
    if (cats.length === sc.expect.length && sc.expect.every((c) => cats.includes(c)) && sc.shows(s)) return s;
  }
  throw new Error(`scenario ${name}: no session shows the pattern (seed ${seed})`);
}
