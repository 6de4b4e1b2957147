// One simulated session: pick a station, a car and what the charger reports; plan and simulate the
// charging; sample it; inject the requested anomalies (each read back from the corrupted readings
// against the rules of anomaly-categories.md); encode as OCPP meter values with their quirks.
// A draw that cannot host the requested anomalies, or whose readings would make a label
// ambiguous under the revised contract (readback.ts), is redrawn (deterministically).
import { ANOMALY_CATEGORIES, type AnomalyCategory } from '../../../domain/analysis/types';
import { applyZeroSession, planChargingExpected, verifyChargingExpected, type ExpectedEvent } from './anomalies/charging';
import { Injection, type Has } from './anomalies/context';
import { finaliseIncorrectPower, injectIncorrectPower } from './anomalies/power';
import { injectEnergyPit, injectKwhDecrease, injectUnexpectedAccumulate } from './anomalies/register';
import { injectChargeLevel } from './anomalies/soc';
import { drawEncoding, encode, energyResolutionKwh, type Encoding } from './encode';
import { loadVehicles } from './ev-data';
import { simulate, type ChargePlan, type ChargerPhysics } from './physics';
import { addBriefPauses, addLoadSteps, addWakeDraw, drawPhysics, drawPlan } from './plan';
import { accrualSuspects, chargingExpectedStretches, socRiseSuspects, type ReadView } from './readback';
import { Rng, type Seed } from './rng';
import { drawSampling, Grid } from './sampling';
import { drawStation, stationFits, type Station, type StationWish } from './station';
import { buildTrace, isCharging } from './trace';
import { BEHAVIOURS, type Behaviour, type CurrentType, type Lookalike, type Measurand, type SimSession } from './types';
import type { Vehicle } from './vehicle';

const MIN = 60_000;
/** Default session starts: 2024-01-01 … 2025-10-01 UTC (in the past, after 2000). */
export const DEFAULT_START_RANGE: [number, number] = [Date.UTC(2024, 0, 1), Date.UTC(2025, 9, 1)];
const H = 3_600_000;
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
  /** Nominal sampling interval inside [lo, hi] ms (a held-out sampling regime). */
  samplingWithin?: readonly [number, number];
  /** Nominal sampling interval outside [lo, hi] ms. */
  samplingAvoid?: readonly [number, number];
  /** AC: the car stops flat at its charge limit (true), never (false), or now and then (default). */
  stopAtLimit?: boolean;
  /** A short low-power draw after the stop: always, never, or now and then (default). */
  wakeDraw?: 'always' | 'never';
  /** Measurands to send (default: drawn by current type). */
  measurands?: Measurand[];
  /** CHARGING_EXPECTED as a stall that resumes or, with SoC, a stop for good (default: drawn). */
  expectedKind?: 'stall' | 'stopped-early';
  /** UNEXPECTED_CHARGE_LEVEL_CHANGES as this kind only (default: drawn). */
  chargeLevelVariant?: 'persistent-drop';
  /** Adjust the drawn physics and plan before simulation (regression scenarios). */
  adjustPlan?: (plan: ChargePlan, ph: ChargerPhysics, rng: Rng) => void;
  /** Adjust the drawn encoding (regression scenarios). */
  adjustEncoding?: (enc: Encoding) => void;
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
  // SoC mostly comes from DC (ISO 15118 / CHAdeMO); an AC car sending it is rarer, but AC SoC
  // anomalies (the persistent drop) need examples too.
  if (needs.soc && !current && rng.chance(0.55)) needs.station.current = 'DC';
  switch (lookalike) {
    case 'smart-charging-idle':
      if (!current) needs.station.current = rng.chance(0.85) ? 'AC' : 'DC';
      break;
    case 'long-session':
    case 'stop-at-limit':
    case 'overnight-idle':
      needs.station.current = 'AC';
      break;
    case 'wake-draw':
      if (!current) needs.station.current = rng.chance(0.8) ? 'AC' : 'DC';
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
      (station.current === 'AC' || v.dc !== null) && (!needs.onePhaseCar || v.acPhases === 1),
  );
  if (fit.length === 0) return null;
  // Motorbikes are rare at public points.
  return rng.weighted(fit.map((v) => [v, v.kind === 'motorbike' ? 0.25 : 1] as const));
}

function pickMeasurands(rng: Rng, station: Station, needs: Needs, forced?: Measurand[]): Has | null {
  if (forced) {
    const has = { energy: forced.includes('energy'), power: forced.includes('power'), soc: forced.includes('soc') };
    const ok = (has.energy || has.power) && (!needs.energy || has.energy) && (!needs.power || has.power) && (!needs.soc || has.soc);
    return ok ? has : null;
  }
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
          ['EPS', 0.12],
          ['ES', 0.05],
          ['P', 0.04],
        ];
  const ok = mixes.filter(
    ([m]) =>
      (!needs.energy || m.includes('E')) && (!needs.power || m.includes('P')) && (!needs.soc || m.includes('S')),
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
  const has = pickMeasurands(rng, station, needs, o.measurands);
  if (!has) return null;
  const ph = drawPhysics(rng, vehicle, station);
  const [lo, hi] = o.startRange ?? DEFAULT_START_RANGE;
  const startMs = o.startMs ?? Math.floor(rng.range(lo, hi) / 1000) * 1000;
  // Behaviour families drawn now and then whatever the look-alike (never on a zero session).
  const ac = station.current === 'AC';
  const wantWake = !zero && o.wakeDraw !== 'never' && (o.wakeDraw === 'always' || lookalike === 'wake-draw' || rng.chance(0.05));
  const stopAtLimit = ac && !zero && o.stopAtLimit !== false && (o.stopAtLimit || lookalike === 'stop-at-limit' || (lookalike !== 'tapered-finish-idle' && rng.chance(0.3)));
  if (stopAtLimit) ph.taperStartSoc = 100; // flat to the limit, then 0
  const plan = drawPlan(rng, ph, startMs, { lookalike, zero, stopAtLimit, idleTail: wantWake, smartDelay: !zero && rng.chance(0.08) });
  o.adjustPlan?.(plan, ph, rng);

  const base = simulate(ph, plan, 30_000);
  if (!zero && base.firstChargeMs === null) return null;
  const sampling = drawSampling(rng, base.endMs - startMs, {
    sparse: lookalike === 'sparse-readings',
    maxIntervalMs: lookalike === 'brief-pause' ? 120_000 : undefined,
    within: o.samplingWithin,
    avoid: o.samplingAvoid,
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
    addBriefPauses(rng, plan, base, iv);
    if (plan.pauses.length) quirks.push('brief-pause');
  }
  const severity = () => o.severity ?? rng.next();
  let event: ExpectedEvent | null = null;
  if (expected) {
    event = planChargingExpected(rng, plan, base, grid, has.soc, severity(), o.expectedKind);
    if (!event) return null;
  }
  if (lookalike && !plannedLookalike(lookalike, plan.limits.length, plan.pauses.length, iv)) return null;

  const stepMs = iv <= 30_000 ? 5_000 : 10_000;
  let tl = simulate(ph, plan, stepMs);
  if (wantWake) {
    if (addWakeDraw(rng, plan, tl, (end) => grid.upTo(end), has.power)) tl = simulate(ph, plan, stepMs);
    else if (o.wakeDraw === 'always' || lookalike === 'wake-draw') return null;
  }
  const t = grid.session(tl.endMs);
  if (t.length < 4) return null;
  if (lookalike === 'tapered-finish-idle' && !(tl.fullMs !== null && tl.endMs - tl.fullMs >= 12 * MIN)) return null;
  if (lookalike === 'long-session' && t[t.length - 1] - t[0] <= 6 * H) return null;
  if (lookalike === 'stop-at-limit' && !(tl.fullMs !== null && tl.endMs - tl.fullMs >= 12 * MIN)) return null;
  if (lookalike === 'overnight-idle' && !(tl.lastChargeMs !== null && tl.endMs - tl.lastChargeMs > 6 * H + 10 * MIN)) return null;
  const enc = drawEncoding(rng.fork('encoding'), { station, phasesUsed: ph.phasesUsed, has, sampling, lookalike });
  o.adjustEncoding?.(enc);
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
  // A wake draw must show in the readings: after it, the session is still idle.
  if (plan.wakes.length && !t.some((x) => x > plan.wakes[0].toMs)) return null;

  const res = energyResolutionKwh(enc);
  const inj = new Injection(rng.fork('inject'), tr, has, station.ratedKw, res, ph.phasesUsed);
  if (zero && !applyZeroSession(inj, severity())) return null;
  if (event && !verifyChargingExpected(inj, event)) return null;
  const inject: [AnomalyCategory, (sev: number) => boolean][] = [
    ['INCORRECT_ACTIVE_POWER_REGISTER', (s) => injectIncorrectPower(inj, s)],
    ['UNEXPECTED_KWH_ACCUMULATE', (s) => injectUnexpectedAccumulate(inj, s)],
    ['KWH_DECREASE', (s) => injectKwhDecrease(inj, s)],
    ['ENERGY_PIT', (s) => injectEnergyPit(inj, s)],
    ['UNEXPECTED_CHARGE_LEVEL_CHANGES', (s) => injectChargeLevel(inj, s, !zero, o.chargeLevelVariant)],
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
    for (let k = 0; k < more && cat !== 'INCORRECT_ACTIVE_POWER_REGISTER' && !o.chargeLevelVariant; k++) fn(severity());
  }
  if (!finaliseIncorrectPower(inj)) return null;
  // The whole session read back against the revised contract: every CHARGING_EXPECTED stretch the
  // readings show is labelled and every label is shown (a power anomaly may have moved the peak, a
  // SoC drop may have put a stop below 70 %), no stretch is borderline, and no unlabelled SoC rise
  // comes near the bound.
  const view: ReadView = { tr, has, resKwh: res, ratingKw: station.ratedKw };
  const stretches = chargingExpectedStretches(view);
  // With a faulty power series the register's slope must tell the same story.
  if (has.power && has.energy && inj.ranges.some((r) => r.category === 'INCORRECT_ACTIVE_POWER_REGISTER')) {
    const bySlope = chargingExpectedStretches({ ...view, has: { ...has, power: false } }).filter((x) => x.verdict !== 'clean');
    const byPower = stretches.filter((x) => x.verdict !== 'clean');
    if (bySlope.length !== byPower.length || bySlope.some((x, k) => x.verdict !== byPower[k].verdict || x.a !== byPower[k].a)) return null;
  }
  // Without power, a register fault (a jump read as charging, a pit) must not change the story either.
  if (!has.power && has.energy && inj.ranges.some((r) => r.category !== 'ZERO_SESSION' && r.category !== 'CHARGING_EXPECTED' && r.category !== 'UNEXPECTED_CHARGE_LEVEL_CHANGES')) {
    const sent = chargingExpectedStretches({ ...view, sentRegister: true }).filter((x) => x.verdict !== 'clean');
    const truth = stretches.filter((x) => x.verdict !== 'clean');
    if (sent.length !== truth.length || sent.some((x, k) => x.verdict !== truth[k].verdict || x.a !== truth[k].a)) return null;
  }
  if (stretches.some((x) => x.verdict === 'ambiguous')) return null;
  const shown = stretches.filter((x) => x.verdict === 'anomaly').map((x) => t[x.a]);
  const labelled = inj.ranges.filter((r) => r.category === 'CHARGING_EXPECTED').map((r) => r.startMs);
  if (shown.length !== labelled.length || shown.some((x) => !labelled.includes(x))) return null;
  const energyRanges = inj.ranges.filter((r) => r.category === 'UNEXPECTED_KWH_ACCUMULATE' || r.category === 'KWH_DECREASE' || r.category === 'ENERGY_PIT');
  // Readings next to a labelled register fault (the run may start in a pit or at a jump).
  const nearEnergyFault = (i: number) => energyRanges.some((r) => t[Math.min(i + 1, t.length - 1)] >= r.startMs && t[Math.max(i - 1, 0)] <= r.endMs + 15_000);
  if (accrualSuspects(view, nearEnergyFault).length) return null;
  const socRanges = inj.ranges.filter((r) => r.category === 'UNEXPECTED_CHARGE_LEVEL_CHANGES');
  if (socRiseSuspects(view, 1, (i) => socRanges.some((r) => t[i + 1] >= r.startMs && t[i] <= r.endMs)).length) return null;
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

  const shows = new Set<Behaviour>();
  if (!zero && plan.chargeStartMs - startMs >= 10 * MIN) shows.add('smart-delay');
  if (stopAtLimit && tl.fullMs !== null) shows.add('stop-at-limit');
  if (tl.lastChargeMs !== null && tl.endMs - tl.lastChargeMs > 6 * H) shows.add('overnight');
  if (plan.wakes.length) shows.add('wake-draw');
  if (plan.pauses.length) shows.add('stall-resume');
  if (plan.limits.length) shows.add('load-management');
  if (tl.fullMs !== null && !stopAtLimit && (ac ? plan.socTarget > ph.taperStartSoc : plan.socTarget >= 90)) shows.add('tapered-finish');

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
      drive: vehicle.drive,
      behaviours: BEHAVIOURS.filter((b) => shows.has(b)),
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
