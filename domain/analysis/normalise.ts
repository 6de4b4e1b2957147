// OCPP meter values → three clean series (energy kWh, power kW, SoC %) plus data-quality findings
// (ocpp-normalisation.md, rules 1–4). Data is never rewritten on suspicion: a unit that looks wrong
// is analysed as sent and only counted.
import type { DataQuality, NormalisedSession, Series, StoredMeterValue } from './types';
import { canonical, LOCATIONS, MEASURANDS, MIN_TIMESTAMP_MS, PHASES, parseTimestamp } from './validate';

type Kind = 'energy' | 'power' | 'soc';

interface Reading {
  t: number;
  v: number;
  seq: number;
  kind: Kind;
  phase: string | null;
  /** Canonical location; unset means Outlet (the OCPP default). */
  location: string;
}

const ENERGY = 'Energy.Active.Import.Register';
const POWER = 'Power.Active.Import';
const SOC = 'SoC';

/** Readings of one phase set closer than this belong to one sample (chargers stamp phases ms apart). */
const PHASE_GROUP_MS = 1000;
/** Readings of one series closer than this are a clock problem, not a sampling rate. */
const CLOCK_JITTER_MS = 1000;

/** Location preference for energy and power: the charger's own meter first (rule 3). */
const METER_LOCATIONS = ['Outlet', 'Cable', 'Inlet', 'EV', 'Upstream', 'Body'];
/** SoC comes from the car, normally with location EV; the order only breaks ties. */
const SOC_LOCATIONS = ['EV', 'Outlet', 'Inlet', 'Cable', 'Body', 'Upstream'];

const LINE_PHASES = ['L1', 'L2', 'L3'];
const LINE_NEUTRAL_PHASES = ['L1-N', 'L2-N', 'L3-N'];

const KINDS: Kind[] = ['energy', 'power', 'soc'];
const KIND_OF = new Map<string, Kind>([
  [ENERGY, 'energy'],
  [POWER, 'power'],
  [SOC, 'soc'],
]);
// The vocabularies map both spellings to the canonical one: index the distinct canonical values,
// so that every phase fits the key's 4 bits (a duplicate-inflated index made L2-N collide).
const PHASE_INDEX = new Map([...new Set(PHASES.values())].map((p, i) => [p, i]));
const LOCATION_INDEX = new Map([...new Set(LOCATIONS.values())].map((l, i) => [l, i]));

/** kWh / kW per sent unit (lower case). A missing unit is Wh for energy (OCPP default), W for power. */
const ENERGY_UNITS = new Map([
  ['wh', 1e-3],
  ['kwh', 1],
]);
const POWER_UNITS = new Map([
  ['w', 1e-3],
  ['kw', 1],
]);
const SOC_UNITS = new Map([['percent', 1]]);

/** Factor to kWh, kW or % for a unit as sent (any case), or undefined when it does not fit the kind. */
function unitFactor(kind: Kind, unit: unknown): number | undefined {
  const u = typeof unit === 'string' && unit.trim() !== '' ? unit.trim().toLowerCase() : null;
  if (kind === 'energy') return ENERGY_UNITS.get(u ?? 'wh');
  if (kind === 'power') return POWER_UNITS.get(u ?? 'w');
  return u === null ? 1 : SOC_UNITS.get(u);
}

export function emptyQuality(): DataQuality {
  return { duplicates: 0, conflicts: 0, outOfOrder: 0, suspiciousUnits: 0, clockIssues: 0, ignored: 0, notes: [] };
}

// One write normalises a session's readings for the analysis, the station rollups and the session's
// energy figures: the same readings array, so the later ones reuse the first result. Keyed by the
// array (and its length, in case a caller appends to it); results are never mutated by readers.
const normalised = new WeakMap<StoredMeterValue[], { length: number; session: NormalisedSession }>();

export function normalise(values: StoredMeterValue[]): NormalisedSession {
  const hit = normalised.get(values);
  if (hit && hit.length === values.length) return hit.session;
  const session = normaliseReadings(values);
  normalised.set(values, { length: values.length, session });
  return session;
}

function normaliseReadings(values: StoredMeterValue[]): NormalisedSession {
  const q = emptyQuality();
  const ignoredWhy = new Map<string, number>();
  const ignore = (why: string) => {
    q.ignored++;
    ignoredWhy.set(why, (ignoredWhy.get(why) ?? 0) + 1);
  };
  const otherNotes: string[] = [];
  let clockUnset = 0;

  // 1. Parse and convert every reading the analysis can use. (Plain loops and caches: a 6-hour
  // session at 15 s with three measurands is ~4,000 readings and must normalise in about a ms.)
  // Readings of one instant usually arrive together (energy, power, …): the last timestamp read
  // is kept instead of a map of them all.
  let lastStamp: unknown;
  let lastT: number | null = null;
  const arrivalT: number[] = [];
  const arrivalSeq: number[] = [];
  const bySeries = new Map<number, Reading[]>();
  for (let idx = 0; idx < values.length; idx++) {
    const mv = values[idx];
    const seq = typeof mv.seq === 'number' ? mv.seq : idx;
    if (idx === 0 || mv.timestamp !== lastStamp) {
      lastStamp = mv.timestamp;
      lastT = parseTimestamp(mv.timestamp);
    }
    const t = lastT;
    if (t === null) {
      ignore('unparseable timestamp');
      continue;
    }
    if (t < MIN_TIMESTAMP_MS) {
      clockUnset++;
      continue;
    }
    arrivalT.push(t);
    arrivalSeq.push(seq);
    const value = mv.value;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      ignore('value not a non-negative number');
      continue;
    }
    const named = canonical(MEASURANDS, mv.measurand);
    const measurand = named === null ? ENERGY : named; // a missing measurand is the energy register
    if (measurand === undefined) {
      ignore('unknown measurand');
      continue;
    }
    const kind = KIND_OF.get(measurand);
    if (kind === undefined) {
      ignore(`measurand ${measurand} not used`);
      continue;
    }
    const phase = canonical(PHASES, mv.phase);
    const location = canonical(LOCATIONS, mv.location) ?? 'Outlet';
    if (phase === undefined || location === undefined) {
      ignore('unknown phase or location');
      continue;
    }
    let factor = unitFactor(kind, mv.unit);
    if (factor === undefined) {
      ignore(`unit ${mv.unit} not usable for ${measurand}`);
      continue;
    }
    const mult = mv.multiplier;
    if (mult !== null && mult !== undefined) {
      if (!Number.isInteger(mult) || Math.abs(mult) > 9) {
        ignore('invalid multiplier');
        continue;
      }
      factor *= 10 ** mult;
    }
    const key = KINDS.indexOf(kind) * 256 + (phase === null ? 0 : PHASE_INDEX.get(phase)! + 1) * 16 + LOCATION_INDEX.get(location)!;
    const list = bySeries.get(key);
    const r: Reading = { t, v: value * factor, seq, kind, phase, location };
    if (list) list.push(r);
    else bySeries.set(key, [r]);
  }

  // 2. Arrival order vs timestamp order: a reading is out of order when something that arrived
  // earlier carries a later timestamp (queued offline readings, batch uploads).
  let inArrivalOrder = arrivalT;
  if (!ascending(arrivalSeq)) {
    const order = arrivalT.map((_, i) => i).sort((a, b) => arrivalSeq[a] - arrivalSeq[b]);
    inArrivalOrder = order.map((i) => arrivalT[i]);
  }
  let maxT = -Infinity;
  for (const t of inArrivalOrder) {
    if (t < maxT) q.outOfOrder++;
    else maxT = t;
  }

  // 3. Per series (kind, phase, location): duplicates and conflicts at one timestamp, and readings
  // milliseconds apart. Context is not part of the key, so a Transaction.Begin value and a
  // periodic value at the same instant conflict.
  let jitter = 0;
  const unique: Reading[] = [];
  for (const list of bySeries.values()) {
    if (!sortedBy(list, byTimeThenSeq)) list.sort(byTimeThenSeq);
    let prevT = NaN;
    for (let i = 0; i < list.length; ) {
      let j = i + 1;
      while (j < list.length && list[j].t === list[i].t) j++;
      if (j - i > 1) {
        const distinct: number[] = [];
        for (let k = i; k < j; k++) if (!distinct.some((d) => sameValue(d, list[k].v))) distinct.push(list[k].v);
        q.duplicates += j - i - distinct.length;
        q.conflicts += distinct.length - 1;
      }
      if (list[i].t - prevT < CLOCK_JITTER_MS) jitter++;
      prevT = list[i].t;
      unique.push(list[j - 1]); // the latest arrival (sorted by seq within a timestamp)
      i = j;
    }
  }
  q.clockIssues += jitter + clockUnset;

  // 4. One location, then one phase treatment, per kind.
  const series = (kind: Kind): Series => {
    const own = unique.filter((r) => r.kind === kind);
    if (kind === 'soc') return socSeries(own);
    const chosen = chooseLocation(own, METER_LOCATIONS);
    const dropped = own.length - chosen.readings.length;
    if (dropped > 0) otherNotes.push(`${dropped} ${kind} reading(s) at other locations not used (location ${chosen.location} preferred)`);
    const { points, note, skewed } = combinePhases(chosen.readings, kind);
    if (note) otherNotes.push(note);
    phaseSkew += skewed;
    return toSeries(points);
  };
  let phaseSkew = 0;
  const energy = series('energy');
  const power = series('power');
  const soc = series('soc');
  q.clockIssues += phaseSkew;

  // 5. Units that look wrong: counted and described, never corrected.
  const suspicion = unitSuspicion(energy, power);
  if (suspicion) {
    q.suspiciousUnits += suspicion.count;
    otherNotes.push(suspicion.note);
  }

  if (q.duplicates) q.notes.push(`${q.duplicates} exact duplicate reading(s) collapsed`);
  if (q.conflicts) q.notes.push(`${q.conflicts} conflicting reading(s) (same timestamp, measurand, phase and location, different value): the later arrival was kept`);
  if (q.outOfOrder) q.notes.push(`${q.outOfOrder} reading(s) arrived out of timestamp order (sorted by timestamp)`);
  if (jitter) q.notes.push(`${jitter} reading(s) less than 1 s after the previous reading of the same series (clock jitter or double sampling)`);
  if (phaseSkew) q.notes.push(`${phaseSkew} per-phase sample(s) with the phases stamped up to 1 s apart (summed as one sample)`);
  if (clockUnset) q.notes.push(`${clockUnset} reading(s) dated before 2000 skipped (charger clock not set)`);
  for (const [why, n] of ignoredWhy) q.notes.push(`${n} reading(s) ignored: ${why}`);
  q.notes.push(...otherNotes);
  return { energy, power, soc, quality: q };
}

const byTimeThenSeq = (a: { t: number; seq: number }, b: { t: number; seq: number }) => a.t - b.t || a.seq - b.seq;

/** Readings usually arrive in order: checking is cheaper than sorting. */
function sortedBy<T>(xs: T[], cmp: (a: T, b: T) => number): boolean {
  for (let i = 1; i < xs.length; i++) if (cmp(xs[i - 1], xs[i]) > 0) return false;
  return true;
}

/** `sortedBy` for plain numbers, without a comparator call per pair (it runs per session). */
function ascending(xs: number[]): boolean {
  for (let i = 1; i < xs.length; i++) if (xs[i - 1] > xs[i]) return false;
  return true;
}

function sameValue(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/**
 * The preferred location present, unless it has fewer than half the readings of the best-covered
 * one (e.g. an Outlet value only at Transaction.Begin beside a periodic Inlet series): mixing two
 * meters in one series would show their offset as jumps.
 */
function chooseLocation(readings: Reading[], preference: string[]): { location: string; readings: Reading[] } {
  const counts = new Map<string, number>();
  for (const r of readings) counts.set(r.location, (counts.get(r.location) ?? 0) + 1);
  const maxCount = Math.max(0, ...counts.values());
  const location = preference.find((l) => (counts.get(l) ?? 0) >= maxCount / 2 && (counts.get(l) ?? 0) > 0) ?? preference[0];
  return { location, readings: readings.filter((r) => r.location === location) };
}

/**
 * There is one state of charge, whatever location a charger files it under (normally EV): all
 * are used, and where two share a timestamp the better location (EV first), then the later
 * arrival, wins.
 */
function socSeries(readings: Reading[]): Series {
  const rank = (r: Reading) => SOC_LOCATIONS.length - SOC_LOCATIONS.indexOf(r.location);
  const sorted = [...readings].sort((a, b) => a.t - b.t || rank(a) - rank(b) || a.seq - b.seq);
  return toSeries(sorted.map((r, i) => ({ t: r.t, v: r.v, seq: i })));
}

interface Point {
  t: number;
  v: number;
  seq: number;
}

/**
 * Rule 2: the total when the session reports one, else the sum of L1–L3 (or L1-N…L3-N). A sum is
 * formed only where every phase the session reports is present (within 1 s): a missing phase
 * would look like a register drop or a power dip. Totals and sums are never mixed in one series,
 * for the same reason; sums win only when totals are rare (e.g. only at Transaction.Begin/End).
 */
function combinePhases(readings: Reading[], kind: Kind): { points: Point[]; note: string | null; skewed: number } {
  const totals = readings.filter((r) => r.phase === null);
  let family = LINE_PHASES;
  let phased = readings.filter((r) => r.phase !== null && family.includes(r.phase));
  if (phased.length === 0) {
    family = LINE_NEUTRAL_PHASES;
    phased = readings.filter((r) => r.phase !== null && family.includes(r.phase));
  }
  if (phased.length === 0) return { points: totals, note: null, skewed: 0 };

  const present = new Set(phased.map((r) => r.phase));
  phased.sort((a, b) => a.t - b.t || a.seq - b.seq);
  const groups: Point[] = [];
  let incomplete = 0;
  let skewed = 0;
  let cur: { start: number; byPhase: Map<string, Reading> } | null = null;
  const close = () => {
    if (!cur) return;
    if (cur.byPhase.size === present.size) {
      let v = 0;
      let seq = -Infinity;
      let last = cur.start;
      for (const r of cur.byPhase.values()) {
        v += r.v;
        seq = Math.max(seq, r.seq);
        last = Math.max(last, r.t);
      }
      groups.push({ t: cur.start, v, seq });
      if (last !== cur.start) skewed++;
    } else incomplete += cur.byPhase.size;
  };
  for (const r of phased) {
    if (cur && r.t - cur.start < PHASE_GROUP_MS && !cur.byPhase.has(r.phase as string)) {
      cur.byPhase.set(r.phase as string, r);
    } else {
      close();
      cur = { start: r.t, byPhase: new Map([[r.phase as string, r]]) };
    }
  }
  close();

  if (totals.length > 0 && totals.length >= groups.length / 2) return { points: totals, note: null, skewed: 0 };
  const phases = [...present].sort().join('+');
  let note = `${kind}: no total reported, per-phase values summed (${phases})`;
  if (incomplete) note += `; ${incomplete} reading(s) of incomplete phase sets skipped`;
  if (totals.length) note += `; ${totals.length} sparse total reading(s) not mixed in`;
  return { points: groups, note, skewed };
}

function toSeries(points: Point[]): Series {
  const sorted = sortedBy(points, byTimeThenSeq) ? points : [...points].sort(byTimeThenSeq);
  const t: number[] = [];
  const v: number[] = [];
  for (const p of sorted) {
    // Same instant twice can only come from different sources; the later arrival wins (sorted last).
    if (t.length && t[t.length - 1] === p.t) v[v.length - 1] = p.v;
    else {
      t.push(p.t);
      v.push(p.v);
    }
  }
  return { t, v };
}

/**
 * Energy the register shows vs energy the reported power integrates to, over the span both cover.
 * A ratio near 1/1000 or 1000 is a unit mix-up (a kWh register labelled Wh, W sent as kW, …);
 * which side is wrong is decided by which one is physically implausible (> 1000 kW). Session
 * totals rather than per-interval slopes, so a rounded register that ticks rarely still counts.
 */
function unitSuspicion(energy: Series, power: Series): { count: number; note: string } | null {
  const positivePower = positiveSorted(power.v);
  const medPower = median(positivePower);
  if (energy.t.length >= 3 && power.t.length >= 3) {
    const lo = Math.max(energy.t[0], power.t[0]);
    const hi = Math.min(energy.t[energy.t.length - 1], power.t[power.t.length - 1]);
    let first = -1;
    let last = -1;
    let rise = 0;
    let top = -Infinity;
    for (let i = 0; i < energy.t.length; i++) {
      if (energy.t[i] < lo || energy.t[i] > hi) continue;
      if (first < 0) top = energy.v[i];
      else if (energy.v[i] > top) {
        rise += energy.v[i] - top; // above the running maximum only: a reset adds nothing
        top = energy.v[i];
      }
      if (first < 0) first = i;
      last = i;
    }
    const integrated = first >= 0 && last - first >= 2 ? integrateBetween(power, energy.t[first], energy.t[last]) : 0;
    if (rise > 0 && integrated > 0) {
      const r = rise / integrated;
      const medSlope = r * medPower;
      if (r >= 1 / 5000 && r <= 1 / 200) {
        if (medPower > 1000) return { count: power.t.length, note: `power reads about 1000× what the energy register shows and over 1000 kW: W probably sent as kW (analysed as sent)` };
        return { count: energy.t.length, note: `energy register rises about 1000× less than power says: a kWh register probably labelled Wh (analysed as sent)` };
      }
      if (r >= 200 && r <= 5000) {
        if (medSlope > 1000) return { count: energy.t.length, note: `energy register rises about 1000× more than power says, at over 1000 kW: a Wh register probably labelled kWh (analysed as sent)` };
        return { count: power.t.length, note: `power reads about 1000× below what the energy register shows: kW probably sent as W (analysed as sent)` };
      }
    }
  }
  if (positivePower.length >= 3 && medPower > 1000) {
    return { count: power.t.length, note: `power above 1000 kW: W probably sent as kW (analysed as sent)` };
  }
  return null;
}

/** Trapezoid integral (kWh) of a power series over [a, b], interpolated at the ends. */
function integrateBetween(p: Series, a: number, b: number): number {
  let e = 0;
  for (let i = 0; i + 1 < p.t.length; i++) {
    const t1 = Math.max(p.t[i], a);
    const t2 = Math.min(p.t[i + 1], b);
    if (t2 <= t1) continue;
    const v1 = p.v[i] + ((p.v[i + 1] - p.v[i]) * (t1 - p.t[i])) / (p.t[i + 1] - p.t[i]);
    const v2 = p.v[i] + ((p.v[i + 1] - p.v[i]) * (t2 - p.t[i])) / (p.t[i + 1] - p.t[i]);
    e += ((v1 + v2) / 2) * ((t2 - t1) / 3_600_000);
  }
  return e;
}

/** The positive values, sorted (numerically, without a comparator call per pair). */
function positiveSorted(xs: number[]): Float64Array {
  let n = 0;
  for (const x of xs) if (x > 0) n++;
  const out = new Float64Array(n);
  n = 0;
  for (const x of xs) if (x > 0) out[n++] = x;
  return out.sort();
}

/** Median of sorted values. */
function median(s: Float64Array): number {
  if (s.length === 0) return 0;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
