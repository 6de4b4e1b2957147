// One simulated session: pick a station, a car and what the charger reports; plan and simulate the
// charging; sample it; inject the requested anomalies (each read back from the corrupted readings
// against the rules of anomaly-categories.md); encode as OCPP meter values with their quirks.
// A draw that cannot host the requested anomalies is redrawn (deterministically).
import { ANOMALY_CATEGORIES, type AnomalyCategory } from '../../../domain/analysis/types';
import { applyZeroSession, planChargingExpected, sentSlopeKw, showsAbruptStop, verifyChargingExpected, type ExpectedEvent } from './anomalies/charging';
import { Injection, type Has } from './anomalies/context';
import { finaliseIncorrectPower, injectIncorrectPower } from './anomalies/power';
import { injectEnergyPit, injectKwhDecrease, injectUnexpectedAccumulate } from './anomalies/register';
import { injectChargeLevel } from './anomalies/soc';
import { drawEncoding, encode, energyResolutionKwh } from './encode';
import { loadVehicles } from './ev-data';
import { simulate } from './physics';
import { addBriefPauses, addLoadSteps, drawPhysics, drawPlan } from './plan';
import { Rng, type Seed } from './rng';
import { drawSampling, Grid } from './sampling';
import { drawStation, stationFits, type Station, type StationWish } from './station';
import { buildTrace, CHARGING_KW, isCharging, type Trace } from './trace';
import type { CurrentType, Lookalike, Measurand, SimSession } from './types';
import type { Vehicle } from './vehicle';

const MIN = 60_000;
/** Default session starts: 2024-01-01 … 2025-10-01 UTC (in the past, after 2000). */
export const DEFAULT_START_RANGE: [number, number] = [Date.UTC(2024, 0, 1), Date.UTC(2025, 9, 1)];
/** SoC is sent only for cars with at least this battery: smaller ones could out-run the 15 kWh SoC rule. */
const SOC_MIN_BATTERY_KWH = 16;
const ATTEMPTS = 40;

export interface SessionOptions {
  id?: string;
  /** Anomalies to inject; none (the default) gives a clean session. */
  categories?: AnomalyCategory[];
  /** Build a clean session around this look-alike (ignored when categories are given). */
  lookalike?: Lookalike;
  /** Station to charge at; if it cannot host the request, a fitting one of `stationPool`, else a new one. */
  station?: Station;
  stationPool?: Station[];
  stationId?: string;
  connectorId?: string;
  /** Vehicles to draw from (default: models/data/ev-data.json). */
  vehicles?: Vehicle[];
  startMs?: number;
  startRange?: [number, number];
  /** Fixed severity in [0, 1] for every injection (default: drawn per injection). */
  severity?: number;
  current?: CurrentType;
}

interface Needs {
  energy: boolean;
  power: boolean;
  soc: boolean;
  station: StationWish;
  onePhaseCar: boolean;
}

export function generateSession(rngOrSeed: Rng | Seed, options: SessionOptions = {}): SimSession {
  const rng = rngOrSeed instanceof Rng ? rngOrSeed : new Rng(rngOrSeed);
  let cats = normaliseCategories(options.categories ?? []);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const session = tryGenerate(rng.fork('attempt', attempt), cats, options);
    if (session) return session;
    // A combination that keeps failing (rare) loses its last category rather than the session.
    if (attempt >= 20 && attempt % 5 === 0 && cats.length > 1) cats = cats.slice(0, -1);
  }
  throw new Error(`simulator: could not generate a session with ${cats.join(', ') || 'no anomalies'}`);
}

/** Distinct, in contract order; ZERO_SESSION excludes CHARGING_EXPECTED. */
export function normaliseCategories(cats: AnomalyCategory[]): AnomalyCategory[] {
  const set = new Set(cats);
  if (set.has('ZERO_SESSION')) set.delete('CHARGING_EXPECTED');
  return ANOMALY_CATEGORIES.filter((c) => set.has(c));
}

function needsOf(cats: AnomalyCategory[], lookalike: Lookalike | undefined, rng: Rng, current?: CurrentType): Needs {
  const has = (c: AnomalyCategory) => cats.includes(c);
  const needs: Needs = {
    energy: has('KWH_DECREASE') || has('ENERGY_PIT') || has('UNEXPECTED_KWH_ACCUMULATE') || has('INCORRECT_ACTIVE_POWER_REGISTER'),
    power: has('INCORRECT_ACTIVE_POWER_REGISTER'),
    soc: has('UNEXPECTED_CHARGE_LEVEL_CHANGES'),
    station: { current },
    onePhaseCar: false,
  };
  // SoC mostly comes from DC (ISO 15118 / CHAdeMO); an AC car sending it is rarer.
  if (needs.soc && !current && rng.chance(0.75)) needs.station.current = 'DC';
  switch (lookalike) {
    case 'smart-charging-idle':
    case 'long-session':
      needs.station.current = 'AC';
      break;
    case 'per-phase-only':
      needs.station = { current: 'AC', threePhase: rng.chance(0.8) };
      break;
    case 'one-phase-on-three-phase':
      needs.station = { current: 'AC', threePhase: true };
      needs.onePhaseCar = true;
      break;
    case 'shared-dc-cabinet':
      needs.station = { current: 'DC', sharedCabinet: true };
      break;
    case 'tapered-finish-idle':
      if (!current) needs.station.current = rng.chance(0.8) ? 'AC' : 'DC';
      break;
    case 'wh-register':
    case 'lifetime-register':
      needs.energy = true;
      break;
    case 'ocpp201-multiplier':
      needs.station.ocppVersion = '2.0.1';
      break;
    default:
      break;
  }
  return needs;
}

function pickVehicle(rng: Rng, vehicles: Vehicle[], station: Station, needs: Needs): Vehicle | null {
  const fit = vehicles.filter(
    (v) =>
      (station.current === 'AC' || v.dc !== null) &&
      (!needs.soc || v.batteryKwh >= SOC_MIN_BATTERY_KWH) &&
      (!needs.onePhaseCar || v.acPhases === 1),
  );
  if (fit.length === 0) return null;
  // Motorbikes are rare at public points.
  return rng.weighted(fit.map((v) => [v, v.kind === 'motorbike' ? 0.25 : 1] as const));
}

function pickMeasurands(rng: Rng, station: Station, vehicle: Vehicle, needs: Needs): Has | null {
  const socOk = vehicle.batteryKwh >= SOC_MIN_BATTERY_KWH;
  const mixes: (readonly [string, number])[] =
    station.current === 'DC'
      ? [
          ['E', 0.12],
          ['EP', 0.25],
          ['EPS', 0.55],
          ['ES', 0.05],
          ['P', 0.03],
        ]
      : [
          ['E', 0.38],
          ['EP', 0.5],
          ['EPS', 0.06],
          ['ES', 0.02],
          ['P', 0.04],
        ];
  const ok = mixes.filter(
    ([m]) =>
      (!needs.energy || m.includes('E')) && (!needs.power || m.includes('P')) && (!needs.soc || m.includes('S')) && (socOk || !m.includes('S')),
  );
  if (ok.length === 0) return null;
  const m = rng.weighted(ok);
  return { energy: m.includes('E'), power: m.includes('P'), soc: m.includes('S') };
}

function tryGenerate(rng: Rng, cats: AnomalyCategory[], o: SessionOptions): SimSession | null {
  const lookalike = cats.length === 0 ? o.lookalike : undefined;
  const needs = needsOf(cats, lookalike, rng, o.current);
  const zero = cats.includes('ZERO_SESSION');
  const expected = cats.includes('CHARGING_EXPECTED');
  const station = chooseStation(rng, o, needs.station);
  const vehicle = pickVehicle(rng, o.vehicles ?? loadVehicles(), station, needs);
  if (!vehicle) return null;
  const has = pickMeasurands(rng, station, vehicle, needs);
  if (!has) return null;
  const ph = drawPhysics(rng, vehicle, station);
  const [lo, hi] = o.startRange ?? DEFAULT_START_RANGE;
  const startMs = o.startMs ?? Math.floor(rng.range(lo, hi) / 1000) * 1000;
  const plan = drawPlan(rng, ph, startMs, { lookalike, zero });

  const base = simulate(ph, plan, 30_000);
  if (!zero && base.firstChargeMs === null) return null;
  const sampling = drawSampling(rng, base.endMs - startMs, {
    sparse: lookalike === 'sparse-readings',
    maxIntervalMs: lookalike === 'brief-pause' ? 120_000 : undefined,
  });
  const grid = new Grid(rng.fork('grid'), startMs, sampling);
  const iv = sampling.intervalMs;

  // Clean behaviour that must not look anomalous.
  const quirks: string[] = [];
  const steps =
    lookalike === 'load-management-steps' || lookalike === 'shared-dc-cabinet' || (station.sharedCabinet ? rng.chance(0.5) : rng.chance(0.08));
  if (steps && !zero && !(expected && !has.soc)) {
    addLoadSteps(rng, plan, base, ph, station, Math.max(5 * MIN, 3 * iv));
    if (plan.limits.length) quirks.push(station.sharedCabinet ? 'shared-cabinet' : 'load-steps');
  }
  if (!zero && (lookalike === 'brief-pause' || (iv <= 120_000 && rng.chance(0.04)))) {
    addBriefPauses(rng, plan, base);
    if (plan.pauses.length) quirks.push('brief-pause');
  }
  const severity = () => o.severity ?? rng.next();
  let event: ExpectedEvent | null = null;
  if (expected) {
    event = planChargingExpected(rng, plan, base, grid, has.soc, severity());
    if (!event) return null;
  }
  if (lookalike && !plannedLookalike(lookalike, plan.limits.length, plan.pauses.length, iv)) return null;

  const tl = simulate(ph, plan, iv <= 30_000 ? 5_000 : 10_000);
  const t = grid.session(tl.endMs);
  if (t.length < 4) return null;
  if (lookalike === 'tapered-finish-idle' && !(tl.fullMs !== null && tl.endMs - tl.fullMs >= 12 * MIN)) return null;
  if (lookalike === 'long-session' && t[t.length - 1] - t[0] <= 6 * 3_600_000) return null;
  const enc = drawEncoding(rng.fork('encoding'), { station, phasesUsed: ph.phasesUsed, has, sampling, lookalike });
  const tr = buildTrace(tl, t, rng.fork('noise'), {
    registerStartKwh: enc.registerStartKwh,
    powerNoise: enc.powerNoise,
    standbyKw: zero ? 0 : enc.standbyKw,
    socDecimals: enc.socDecimals,
  });
  const delivered = tl.e[tl.e.length - 1];
  if (!zero) {
    // A clean-looking session really charges: ≥ 0.2 kWh and charging seen in at least two readings.
    let charging = 0;
    for (let i = 0; i < t.length; i++) if (isCharging(tr, i)) charging++;
    if (delivered < 0.2 || charging < 2) return null;
  }

  const res = energyResolutionKwh(enc);
  // Without SoC a finished car idling on must show its taper, or the readings say "abrupt stop".
  if (!has.soc && event?.kind !== 'stopped-early' && idleTailLooksAbrupt(tr, has, res)) return null;

  const inj = new Injection(rng.fork('inject'), tr, has, station.ratedKw, res, ph.phasesUsed);
  if (zero && !applyZeroSession(inj, severity())) return null;
  if (event && !verifyChargingExpected(inj, event)) return null;
  const inject: [AnomalyCategory, (sev: number) => boolean][] = [
    ['INCORRECT_ACTIVE_POWER_REGISTER', (s) => injectIncorrectPower(inj, s)],
    ['UNEXPECTED_KWH_ACCUMULATE', (s) => injectUnexpectedAccumulate(inj, s)],
    ['KWH_DECREASE', (s) => injectKwhDecrease(inj, s)],
    ['ENERGY_PIT', (s) => injectEnergyPit(inj, s)],
    ['UNEXPECTED_CHARGE_LEVEL_CHANGES', (s) => injectChargeLevel(inj, s, !zero)],
  ];
  for (const [cat, fn] of inject) {
    if (!cats.includes(cat)) continue;
    if (!fn(severity())) return null;
    // Sometimes more than one of a kind (repeated pits, two SoC glitches).
    const more = rng.weighted([
      [0, 0.8],
      [1, 0.15],
      [2, 0.05],
    ] as const);
    for (let k = 0; k < more && cat !== 'INCORRECT_ACTIVE_POWER_REGISTER'; k++) fn(severity());
  }
  if (!finaliseIncorrectPower(inj)) return null;
  // A power anomaly or a register jump may have moved the peak a stop is judged against, or hidden
  // a taper: the readings as sent must still tell an abrupt stop from a finished car.
  if (!has.soc) {
    for (const r of inj.ranges) if (r.category === 'CHARGING_EXPECTED' && !showsAbruptStop(inj, tr.t.indexOf(r.startMs), station.ratedKw)) return null;
    if (event?.kind !== 'stopped-early' && !inj.ranges.some((r) => r.category === 'UNEXPECTED_KWH_ACCUMULATE') && idleTailLooksAbrupt(tr, has, res)) return null;
  }
  if (inj.powerEncoding.forceKw) {
    enc.powerUnit = 'kW';
    enc.powerMultiplier = null;
    enc.powerDecimals = 2;
  }
  if (inj.powerEncoding.forceTotal) enc.perPhasePower = false;

  const meterValues = encode(tr, enc, has, station, rng.fork('encode'));
  const ranges = inj.ranges.sort((a, b) => a.startMs - b.startMs || ANOMALY_CATEGORIES.indexOf(a.category) - ANOMALY_CATEGORIES.indexOf(b.category));
  const categories = ANOMALY_CATEGORIES.filter((c) => ranges.some((r) => r.category === c));
  const measurands: Measurand[] = (['energy', 'power', 'soc'] as const).filter((m) => has[m]);
  quirks.push(...encodingQuirks(enc, has, iv, tr.t[tr.t.length - 1] - tr.t[0]));
  if (plan.chargeStartMs - startMs >= 10 * MIN) quirks.push('smart-charging-idle');
  if (tl.fullMs !== null && tl.endMs - tl.fullMs >= 10 * MIN) quirks.push('idle-after-full');
  if (station.current === 'AC' && vehicle.acPhases === 1 && station.phases === 3) quirks.push('one-phase-on-three-phase');
  if (sampling.dropRate > 0) quirks.push('missing-samples');
  if (sampling.clockAligned) quirks.push('clock-aligned');

  return {
    id: o.id ?? `sim-${rng.seed.toString(36)}`,
    stationId: station.id,
    connectorId: o.connectorId ?? String(rng.int(1, station.connectors)),
    vehicle: vehicle.name,
    metadata: {
      maxPowerKw: station.ratedKw,
      currentType: station.current,
      connectorType: station.current === 'AC' ? 'Type2' : vehicle.dc?.ports.includes('chademo') && !vehicle.dc.ports.includes('ccs') ? 'CHAdeMO' : 'CCS',
      ocppVersion: station.ocppVersion,
      ...(station.current === 'AC' ? { stationPhases: station.phases } : {}),
      ...(station.sharedCabinet ? { sharedCabinet: true } : {}),
    },
    meterValues,
    truth: { categories, ranges, clean: ranges.length === 0, ...(lookalike && ranges.length === 0 ? { lookalike } : {}) },
    profile: {
      current: station.current,
      stationKw: station.ratedKw,
      vehicleId: vehicle.id,
      batteryKwh: vehicle.batteryKwh,
      phasesUsed: ph.phasesUsed,
      measurands,
      intervalMs: iv,
      startMs: tr.t[0],
      endMs: tr.t[tr.t.length - 1],
      samples: tr.t.length,
      deliveredKwh: round3(delivered),
      socStart: has.soc ? round3(tr.sTrue[0]) : null,
      socEnd: has.soc ? round3(tr.sTrue[tr.sTrue.length - 1]) : null,
      registerResolutionKwh: res,
      quirks: [...new Set(quirks)],
    },
  };
}

/**
 * An idle tail (≥ 10 min after the last charging reading) whose readings show no taper: the last
 * charging level (power, else register slope) ≥ 50 % of the peak and no gradual decline over the
 * 15 min before (≥ 3 readings, ≥ 25 % fall, no single step over 60 % of it). Without SoC that is
 * indistinguishable from CHARGING_EXPECTED, so a clean session must not look like it.
 */
function idleTailLooksAbrupt(tr: Trace, has: Has, resKwh: number): boolean {
  const { t, p, e } = tr;
  const n = t.length;
  // As the readings show it: power, else the register's slope to the next reading (> 0.5 kW charges).
  const level = (i: number) => (has.power ? p[i] : sentSlopeKw(t, e, i, resKwh));
  let last = n - 1;
  while (last >= tr.w0 && !(level(last) > CHARGING_KW)) last--;
  if (last < tr.w0 || last >= n - 2 || t[n - 1] - t[last + 1] < 10 * MIN) return false;
  let peak = 0;
  for (let i = tr.w0; i <= last; i++) peak = Math.max(peak, level(i));
  if (level(last) < 0.5 * peak) return false;
  const vals: number[] = [];
  for (let i = last; i >= tr.w0 && t[i] >= t[last] - 15 * MIN && level(i) > CHARGING_KW; i--) vals.unshift(level(i));
  if (vals.length < 3) return true;
  const top = Math.max(...vals);
  const decline = top - vals[vals.length - 1];
  if (decline < 0.25 * top) return true;
  for (let i = 0; i + 1 < vals.length; i++) if (vals[i] - vals[i + 1] > 0.6 * decline) return true;
  return false;
}

function chooseStation(rng: Rng, o: SessionOptions, wish: StationWish): Station {
  if (o.station && stationFits(o.station, wish)) return o.station;
  const fitting = (o.stationPool ?? []).filter((s) => stationFits(s, wish));
  if (fitting.length) return rng.pick(fitting);
  // A new station needs an id of its own: reusing one would give a station two ratings.
  const id = o.stationId ?? `${o.station?.id ?? 'SIM'}-${rng.uint32().toString(36).toUpperCase()}`;
  return drawStation(rng.fork('station'), id, wish);
}

/** Behavioural look-alikes must actually happen (e.g. a step needs charging time to fit in). */
function plannedLookalike(lookalike: Lookalike, limits: number, pauses: number, intervalMs: number): boolean {
  if (lookalike === 'load-management-steps' || lookalike === 'shared-dc-cabinet') return limits > 0;
  if (lookalike === 'brief-pause') return pauses > 0;
  if (lookalike === 'sparse-readings') return intervalMs >= 60_000;
  return true;
}

function encodingQuirks(enc: ReturnType<typeof drawEncoding>, has: Has, intervalMs: number, spanMs: number): string[] {
  const q: string[] = [];
  if (has.energy) {
    if (enc.energyUnit !== 'kWh' && enc.energyMultiplier === null) q.push('wh-register');
    if (enc.energyUnit === null) q.push('energy-unit-omitted');
    if (enc.registerStartKwh > 0) q.push('lifetime-register');
    if (enc.omitEnergyMeasurand) q.push('energy-measurand-omitted');
    if (enc.energyMultiplier !== null) q.push('ocpp201-multiplier');
    if (enc.perPhaseEnergy) q.push('per-phase-energy');
  }
  if (has.power) {
    if (enc.powerMultiplier !== null) q.push('ocpp201-multiplier');
    if (enc.perPhasePower) q.push('per-phase-power');
    if (enc.standbyKw > 0) q.push('standby-power');
  }
  if ((has.energy && enc.perPhaseEnergy && !has.power) || (enc.perPhaseEnergy && enc.perPhasePower) || (has.power && enc.perPhasePower && !has.energy))
    q.push('per-phase-only');
  if (enc.lowerCaseUnits) q.push('lower-case-units');
  if (enc.offsetMin !== 0) q.push('utc-offset');
  if (enc.mixedOffsets) q.push('mixed-offsets');
  if (enc.duplicateRate > 0) q.push('duplicates');
  if (enc.outOfOrder !== 'none') q.push('out-of-order');
  if (enc.extras.length) q.push('extra-measurands');
  if (intervalMs >= 60_000) q.push('sparse-readings');
  if (spanMs > 6 * 3_600_000) q.push('long-session');
  return q;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
