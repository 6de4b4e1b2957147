// The session as a charger or CSMS would send it (ocpp-normalisation.md): Wh or kWh registers at
// various resolutions, W or kW, OCPP 2.0.1 multipliers, per-phase-only values, lower-case units,
// UTC offsets, contexts, extra measurands the analysis ignores, duplicates and late arrivals. None
// of this is an anomaly: normalisation must undo it.
import type { RawMeterValue } from '../../../domain/analysis/types';
import type { Has } from './anomalies/context';
import type { Rng } from './rng';
import type { Sampling } from './sampling';
import type { Station } from './station';
import type { Trace } from './trace';
import type { Lookalike } from './types';

export interface Encoding {
  /** null: unit omitted (the OCPP default, Wh). */
  energyUnit: 'Wh' | 'kWh' | null;
  energyMultiplier: number | null;
  energyDecimals: number;
  powerUnit: 'W' | 'kW';
  powerMultiplier: number | null;
  powerDecimals: number;
  lowerCaseUnits: boolean;
  perPhaseEnergy: boolean;
  perPhasePower: boolean;
  /** 'L1' or 'L1-N' style phase names. */
  neutralPhases: boolean;
  /** Share of the total on L1, L2, L3 (1 entry on a single-phase point). */
  phaseShares: number[];
  omitEnergyMeasurand: boolean;
  location: 'Outlet' | null;
  socUnit: boolean;
  socLocation: boolean;
  socDecimals: number;
  contexts: boolean;
  clockContext: boolean;
  rawFormat: boolean;
  /** Voltage, Current.Import, Power.Offered, Temperature: sent, not analysed. */
  extras: ('Voltage' | 'Current.Import' | 'Power.Offered' | 'Temperature')[];
  /** Minutes east of UTC the timestamps are written in. */
  offsetMin: number;
  /** Write UTC as "Z" (else "+00:00"). */
  zulu: boolean;
  /** Some readings in UTC, others in the local offset (same instants). */
  mixedOffsets: boolean;
  millis: boolean;
  duplicateRate: number;
  outOfOrder: 'none' | 'swaps' | 'queued';
  registerStartKwh: number;
  standbyKw: number;
  powerNoise: number;
}

const OFFSETS: readonly (readonly [number, number])[] = [
  [60, 3],
  [120, 2],
  [600, 3],
  [-300, 2],
  [330, 1],
  [-180, 1],
  [540, 1],
  [480, 1],
  [-420, 1],
  [345, 0.3],
];

export interface EncodingContext {
  station: Station;
  phasesUsed: number;
  has: Has;
  sampling: Sampling;
  lookalike?: Lookalike;
}

export function drawEncoding(rng: Rng, x: EncodingContext): Encoding {
  const { station, lookalike, sampling } = x;
  const v201 = station.ocppVersion === '2.0.1';
  const ac = station.current === 'AC';
  type EnergyRep = [Encoding['energyUnit'], number | null, number];
  const energyReps: (readonly [EnergyRep, number])[] = [
    [['Wh', null, 0], 0.38],
    [['kWh', null, 3], 0.25],
    [['kWh', null, 2], 0.17],
    [[null, null, 0], 0.05],
  ];
  // A 0.1 kWh register only where readings are at least a minute apart (it would look stuck otherwise).
  if (sampling.intervalMs >= 60_000) energyReps.push([['kWh', null, 1], 0.08]);
  const multiplierReps: (readonly [EnergyRep, number])[] = [
    [['Wh', 3, 3], 1],
    [['kWh', -3, 0], 1],
    [['Wh', 1, 0], 0.5],
  ];
  let energy: EnergyRep;
  if (lookalike === 'ocpp201-multiplier') energy = rng.weighted(multiplierReps);
  else if (lookalike === 'wh-register') energy = rng.chance(0.8) ? ['Wh', null, 0] : [null, null, 0];
  else energy = v201 && rng.chance(0.3) ? rng.weighted(multiplierReps) : rng.weighted(energyReps);

  type PowerRep = [Encoding['powerUnit'], number | null, number];
  let power: PowerRep = rng.weighted<PowerRep>([
    [['W', null, 0], 0.45],
    [['kW', null, 2], 0.3],
    [['kW', null, 3], 0.2],
  ]);
  if ((v201 && rng.chance(0.3)) || lookalike === 'ocpp201-multiplier') power = rng.chance(0.5) ? ['W', 3, 3] : ['kW', -3, 0];

  const perPhaseAll = ac && (lookalike === 'per-phase-only' || (lookalike === 'one-phase-on-three-phase' ? rng.chance(0.5) : rng.chance(0.12)));
  const phases = ac ? station.phases : 1;
  const used = Math.max(1, Math.min(phases, x.phasesUsed || 1));
  const phaseShares: number[] = [];
  for (let k = 0; k < phases; k++) phaseShares.push(k < used ? 1 + 0.03 * rng.normal() : 0);
  const total = phaseShares.reduce((a, b) => a + b, 0);
  for (let k = 0; k < phases; k++) phaseShares[k] /= total;

  let offsetMin = 0;
  if (lookalike === 'utc-offset') offsetMin = rng.weighted(OFFSETS);
  else if (rng.chance(0.4)) offsetMin = rng.weighted(OFFSETS);

  const extras: Encoding['extras'] = [];
  if (rng.chance(0.1)) {
    for (const m of ['Voltage', 'Current.Import', 'Power.Offered', 'Temperature'] as const) {
      if (m === 'Temperature' && v201) continue; // 2.0.1 dropped Temperature
      if (rng.chance(0.5)) extras.push(m);
    }
  }

  let registerStartKwh = 0;
  if (lookalike === 'lifetime-register') registerStartKwh = rng.logRange(1_000, 250_000);
  else if (rng.chance(0.6)) registerStartKwh = rng.logRange(50, 250_000);

  const duplicates = lookalike === 'duplicates' ? rng.range(0.05, 0.3) : rng.chance(0.08) ? rng.range(0.01, 0.1) : 0;
  const outOfOrder: Encoding['outOfOrder'] =
    lookalike === 'out-of-order' ? (rng.chance(0.5) ? 'swaps' : 'queued') : rng.chance(0.08) ? (rng.chance(0.5) ? 'swaps' : 'queued') : 'none';

  const enc: Encoding = {
    energyUnit: energy[0],
    energyMultiplier: energy[1],
    energyDecimals: energy[2],
    powerUnit: power[0],
    powerMultiplier: power[1],
    powerDecimals: power[2],
    lowerCaseUnits: rng.chance(0.05),
    perPhaseEnergy: perPhaseAll || (ac && rng.chance(0.05)),
    perPhasePower: perPhaseAll || (ac && rng.chance(0.05)),
    neutralPhases: rng.chance(0.15),
    phaseShares,
    omitEnergyMeasurand: rng.chance(0.05),
    location: rng.chance(0.5) ? 'Outlet' : null,
    socUnit: rng.chance(0.8),
    socLocation: rng.chance(0.85),
    socDecimals: rng.chance(0.85) ? 0 : 1,
    contexts: rng.chance(0.7),
    clockContext: sampling.clockAligned,
    rawFormat: rng.chance(0.1),
    extras,
    offsetMin,
    zulu: rng.chance(0.9),
    mixedOffsets: offsetMin !== 0 && rng.chance(0.1),
    millis: sampling.millis,
    duplicateRate: duplicates,
    outOfOrder,
    registerStartKwh: 0,
    standbyKw: rng.chance(0.1) ? rng.range(0.002, 0.05) : 0,
    powerNoise: rng.range(0.002, 0.01),
  };
  enc.registerStartKwh = roundTo(registerStartKwh, energyResolutionKwh(enc));
  return enc;
}

/** kWh per unit sent, multiplier included. */
function energyScale(enc: Encoding): number {
  return (enc.energyUnit === 'kWh' ? 1 : 1e-3) * 10 ** (enc.energyMultiplier ?? 0);
}

/** kW per unit sent, multiplier included. */
function powerScale(enc: Encoding): number {
  return (enc.powerUnit === 'kW' ? 1 : 1e-3) * 10 ** (enc.powerMultiplier ?? 0);
}

/** Smallest register step the encoding can show, in kWh. */
export function energyResolutionKwh(enc: Encoding): number {
  return energyScale(enc) * 10 ** -enc.energyDecimals;
}

function roundTo(x: number, step: number): number {
  return Math.round(x / step) * step;
}

function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  const v = Math.round(x * f) / f;
  return v === 0 ? 0 : v; // no -0
}

/** ISO 8601 in the given offset: "2025-03-01T19:00:05+10:00", or "…Z" for UTC. */
export function formatTimestamp(ms: number, offsetMin: number, millis: boolean, zulu = true): string {
  const local = ms + offsetMin * 60_000;
  const day = Math.floor(local / DAY_MS);
  // The date part is shared by thousands of readings: built once per day (toISOString is slow).
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDate = new Date(day * DAY_MS).toISOString().slice(0, 11);
  }
  const rest = local - day * DAY_MS;
  const sec = Math.floor(rest / 1000);
  let out = cachedDate + TWO[Math.floor(sec / 3600)] + ':' + TWO[Math.floor(sec / 60) % 60] + ':' + TWO[sec % 60];
  if (millis) out += '.' + String(rest % 1000).padStart(3, '0');
  return out + offsetSuffix(offsetMin, zulu);
}

const DAY_MS = 86_400_000;
const TWO = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
let cachedDay = NaN;
let cachedDate = '';

const suffixes = new Map<number, string>();

function offsetSuffix(offsetMin: number, zulu: boolean): string {
  if (offsetMin === 0) return zulu ? 'Z' : '+00:00';
  let s = suffixes.get(offsetMin);
  if (s === undefined) {
    const abs = Math.abs(offsetMin);
    s = `${offsetMin < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
    suffixes.set(offsetMin, s);
  }
  return s;
}

export function encode(tr: Trace, enc: Encoding, has: Has, station: Station, rng: Rng): RawMeterValue[] {
  const n = tr.t.length;
  const eScale = energyScale(enc);
  const pScale = powerScale(enc);
  const eUnit = enc.energyUnit === null ? null : enc.lowerCaseUnits ? enc.energyUnit.toLowerCase() : enc.energyUnit;
  const pUnit = enc.lowerCaseUnits ? enc.powerUnit.toLowerCase() : enc.powerUnit;
  const phaseNames = enc.phaseShares.map((_, k) => (enc.neutralPhases ? `L${k + 1}-N` : `L${k + 1}`));
  const energyPhases = enc.perPhaseEnergy ? phaseNames : [null];
  const powerPhases = enc.perPhasePower ? phaseNames : [null];
  // Per-phase registers: each phase keeps its own share of the lowest value the total shows, plus
  // its share of everything above it, so the phases sum to the total and never go negative.
  let eRef = Infinity;
  for (const v of tr.e) eRef = Math.min(eRef, v);
  if (!(eRef >= 0)) eRef = 0;
  const offsets = enc.phaseShares.map(() => rng.range(0.5, 1.5));
  const offSum = offsets.reduce((a, b) => a + b, 0);
  for (let k = 0; k < offsets.length; k++) offsets[k] = (eRef * offsets[k]) / offSum;
  const shape: Shape = { location: enc.location, format: enc.rawFormat ? 'Raw' : null, context: null };

  const groups: RawMeterValue[][] = [];
  for (let i = 0; i < n; i++) {
    const local = !enc.mixedOffsets || rng.chance(0.5);
    const timestamp = formatTimestamp(tr.t[i], local ? enc.offsetMin : 0, enc.millis, enc.zulu);
    shape.context = enc.contexts ? (i === 0 ? 'Transaction.Begin' : i === n - 1 ? 'Transaction.End' : enc.clockContext ? 'Sample.Clock' : 'Sample.Periodic') : null;
    const g: RawMeterValue[] = [];
    if (has.energy) {
      for (let k = 0; k < energyPhases.length; k++) {
        const kwh = enc.perPhaseEnergy ? offsets[k] + enc.phaseShares[k] * (tr.e[i] - eRef) : tr.e[i];
        const measurand = enc.omitEnergyMeasurand ? null : 'Energy.Active.Import.Register';
        g.push(reading(timestamp, round(kwh / eScale, enc.energyDecimals), measurand, eUnit, energyPhases[k], enc.energyMultiplier, shape));
      }
    }
    if (has.power) {
      for (let k = 0; k < powerPhases.length; k++) {
        const kw = enc.perPhasePower ? enc.phaseShares[k] * tr.p[i] : tr.p[i];
        g.push(reading(timestamp, round(kw / pScale, enc.powerDecimals), 'Power.Active.Import', pUnit, powerPhases[k], enc.powerMultiplier, shape));
      }
    }
    if (has.soc) {
      const mv = reading(timestamp, round(tr.s[i], enc.socDecimals), 'SoC', enc.socUnit ? 'Percent' : null, null, null, { ...shape, location: null });
      if (enc.socLocation) mv.location = 'EV';
      g.push(mv);
    }
    for (const m of enc.extras) pushExtra(g, m, tr, i, timestamp, enc, station, phaseNames, rng);
    groups.push(g);
  }

  arrivalOrder(groups, enc.outOfOrder, rng);
  const out: RawMeterValue[] = [];
  // A resent message (or one repeated sampled value) arrives again right behind the original.
  const dup = groups.map(() => enc.duplicateRate > 0 && rng.chance(enc.duplicateRate));
  if (enc.duplicateRate > 0 && !dup.includes(true)) dup[rng.int(0, dup.length - 1)] = true;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    for (const mv of g) out.push(mv);
    if (!dup[i] || g.length === 0) continue;
    if (rng.chance(0.5)) for (const mv of g) out.push({ ...mv });
    else out.push({ ...rng.pick(g) });
  }
  return out;
}

interface Shape {
  location: string | null;
  format: string | null;
  context: string | null;
}

/** One meter value with only the fields that are set, always in the same order. */
function reading(
  timestamp: string,
  value: number,
  measurand: string | null,
  unit: string | null,
  phase: string | null,
  multiplier: number | null,
  shape: Shape,
): RawMeterValue {
  const mv: RawMeterValue = { timestamp, value };
  if (measurand !== null) mv.measurand = measurand;
  if (unit !== null) mv.unit = unit;
  if (phase !== null) mv.phase = phase;
  if (shape.location !== null) mv.location = shape.location;
  if (shape.context !== null) mv.context = shape.context;
  if (shape.format !== null) mv.format = shape.format;
  if (multiplier !== null) mv.multiplier = multiplier;
  return mv;
}

function pushExtra(
  g: RawMeterValue[],
  m: Encoding['extras'][number],
  tr: Trace,
  i: number,
  timestamp: string,
  enc: Encoding,
  station: Station,
  phaseNames: string[],
  rng: Rng,
): void {
  const dc = station.current === 'DC';
  switch (m) {
    case 'Voltage':
      if (dc) g.push({ timestamp, value: round(rng.range(350, 800), 1), measurand: 'Voltage', unit: 'V' });
      else for (const phase of phaseNames) g.push({ timestamp, value: round(230 + 4 * rng.normal(), 1), measurand: 'Voltage', unit: 'V', phase: phase.endsWith('-N') ? phase : `${phase}-N` });
      break;
    case 'Current.Import':
      if (dc) g.push({ timestamp, value: round((tr.pTrue[i] * 1000) / 400, 1), measurand: 'Current.Import', unit: 'A' });
      else for (let k = 0; k < phaseNames.length; k++) g.push({ timestamp, value: round((enc.phaseShares[k] * tr.pTrue[i] * 1000) / 230, 1), measurand: 'Current.Import', unit: 'A', phase: phaseNames[k] });
      break;
    case 'Power.Offered':
      g.push({ timestamp, value: station.ratedKw, measurand: 'Power.Offered', unit: 'kW' });
      break;
    case 'Temperature':
      g.push({ timestamp, value: round(25 + 10 * rng.next(), 1), measurand: 'Temperature', unit: 'Celsius', location: 'Body' });
      break;
  }
}

/** Late arrivals: neighbouring messages swapped, or a block queued offline and sent at the end. */
function arrivalOrder(groups: RawMeterValue[][], mode: Encoding['outOfOrder'], rng: Rng): void {
  const n = groups.length;
  if (mode === 'none' || n < 4) return;
  if (mode === 'swaps') {
    const swaps = Math.max(1, Math.round(n * rng.range(0.02, 0.1)));
    for (let s = 0; s < swaps; s++) {
      const i = rng.int(1, n - 2);
      const tmp = groups[i];
      groups[i] = groups[i + 1];
      groups[i + 1] = tmp;
    }
    return;
  }
  const len = Math.max(1, Math.round(n * rng.range(0.05, 0.3)));
  const at = rng.int(1, Math.max(1, n - len - 1));
  const block = groups.splice(at, len);
  groups.push(...block);
}
