// The station-day simulator: stations with 1–4 connectors, arrivals by hour and weekday, each
// session charged by the session simulator's physics (a real vehicle from ev-data.json, its AC
// onboard charger or DC curve, the charge plan's departure, smart-charging delays and zero
// sessions), per-minute register energy and reported power, weeks of history, and injected station
// faults of each type (docs/station-anomaly-types.md) with their minute ranges as labels.
//
// A station is simulated continuously (sessions run across midnight); its last days are cut out as
// the days to judge and the weeks before them become their history. Faults are injected only into
// the judged days, except for rare past faults in the history (a real history has them too).
import { STATION_ANOMALY_TYPES, type ConnectorDay, type DaySession, type HistoryDay, type StationAnomalyType, type StationDayInput } from '../../../domain/shade/types';
import { drawPhysics, drawPlan } from '../simulator/plan';
import { simulate } from '../simulator/physics';
import { Rng, type Seed } from '../simulator/rng';
import { drawStation, type Station } from '../simulator/station';
import { heldOutVehicleIds, loadVehicles, type Vehicle } from '../simulator';

const MIN = 60_000;
const DAY_MIN = 1440;
/** Day 0 of every simulation: Monday 2026-01-05, UTC. */
const EPOCH = Date.UTC(2026, 0, 5);

/** Arrival shapes by local hour (relative rates) and weekday factors (Sunday first). */
export const USAGE_PROFILES = {
  workplace: {
    hours: [0, 0, 0, 0, 0, 0.2, 1, 3, 4, 2.5, 1.2, 0.8, 1, 1, 0.7, 0.5, 0.4, 0.3, 0.2, 0.1, 0.1, 0, 0, 0],
    weekdays: [0.15, 1, 1, 1, 1, 0.9, 0.25],
  },
  retail: {
    hours: [0, 0, 0, 0, 0, 0, 0.1, 0.3, 0.8, 1.5, 2, 2, 2, 2, 2, 2, 2.2, 2.4, 2, 1.5, 0.8, 0.3, 0.1, 0],
    weekdays: [0.4, 0.9, 0.9, 0.9, 1, 1.2, 1.5],
  },
  residential: {
    hours: [0.1, 0.05, 0.02, 0.02, 0.02, 0.05, 0.2, 0.4, 0.4, 0.4, 0.5, 0.6, 0.7, 0.8, 0.8, 0.9, 1.4, 2.2, 2.6, 2.2, 1.6, 1, 0.5, 0.2],
    weekdays: [1.1, 1, 1, 1, 1, 0.95, 1.05],
  },
  highway: {
    hours: [0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.3, 1.6, 1.8, 2, 2, 2, 2, 2, 2, 2, 1.9, 1.6, 1.3, 1, 0.7, 0.5, 0.3],
    weekdays: [1.3, 0.8, 0.8, 0.85, 0.9, 1.3, 1.2],
  },
} as const;
export type UsageProfile = keyof typeof USAGE_PROFILES;

export interface StationSpec {
  id: string;
  seed: Seed;
  station: Station;
  connectors: number;
  usage: UsageProfile;
  /** Mean arrivals per connector on a weekday-factor-1 day. */
  arrivalsPerConnector: number;
  /** Minutes between power readings, or null: the station reports no power. */
  powerIntervalMin: number | null;
  /** Register resolution (Wh). */
  registerWh: number;
  /** Days simulated before the first judged day (the history the judged days see, ≤ 56 used). */
  historyDays: number;
  /** Held-out stations draw from every vehicle; training stations never from the held-out ones. */
  heldOut: boolean;
}

export interface FaultLabel {
  type: StationAnomalyType;
  /** Null for station-wide faults. */
  connectorId: string | null;
  /** Minutes of the day where the fault acted (inclusive). */
  startMinute: number;
  endMinute: number;
  /** The fault left the evidence its type's defining condition needs (see docs/station-anomaly-types.md). */
  observable: boolean;
  variant: string;
}

export interface SimStationDay {
  input: StationDayInput;
  labels: FaultLabel[];
  spec: StationSpec;
}

/** A station of the given role: sizes, usage and reporting drawn from the seed. */
export function drawStationSpec(seed: Seed, id: string, heldOut: boolean, wish: { usage?: UsageProfile; connectors?: number; historyDays?: number } = {}): StationSpec {
  const rng = new Rng(`${seed}/spec/${id}`);
  const usage = wish.usage ?? rng.pick(Object.keys(USAGE_PROFILES) as UsageProfile[]);
  const station = drawStation(rng, id, { current: usage === 'highway' ? 'DC' : usage === 'residential' ? 'AC' : undefined });
  // Held-out stations come in sizes and usage levels training never saw (up to 8 connectors, quieter
  // and busier connectors).
  const connectors =
    wish.connectors ??
    (heldOut
      ? rng.weighted([
          [2, 0.2],
          [4, 0.3],
          [6, 0.25],
          [8, 0.25],
        ] as const)
      : rng.weighted([
          [1, 0.15],
          [2, 0.35],
          [3, 0.1],
          [4, 0.4],
        ] as const));
  // DC sessions are short, so a DC connector sees many more of them.
  const arrivalsPerConnector = heldOut
    ? station.current === 'DC'
      ? rng.range(2, 15)
      : rng.range(0.7, 5)
    : station.current === 'DC'
      ? rng.range(3, 12)
      : rng.range(1, 4);
  return {
    id,
    seed,
    station,
    connectors,
    usage,
    arrivalsPerConnector,
    powerIntervalMin: rng.weighted<number | null>([
      [1, 0.4],
      [5, 0.3],
      [null, 0.3],
    ]),
    registerWh: rng.weighted([
      [1, 0.75],
      [10, 0.2],
      [100, 0.05],
    ] as const),
    historyDays: wish.historyDays ?? 56,
    heldOut,
  };
}

function poisson(rng: Rng, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * rng.normal()));
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  for (;;) {
    p *= rng.next();
    if (p <= l) return k;
    k++;
  }
}

interface Fault {
  type: StationAnomalyType;
  connector: number | null;
  /** Absolute minutes, inclusive. */
  from: number;
  to: number;
  variant: string;
  /** energy_drop: power factor; unexplained_load: kW; meter_drift: register factor at the end. */
  level: number;
  /** energy_drop: share of arrivals that still come. */
  keep: number;
}

interface SimSessionRec {
  connector: number;
  start: number;
  end: number;
}

/** Expected arrivals per minute (all connectors) at absolute minute m, without day-to-day noise. */
function arrivalRate(spec: StationSpec, m: number): number {
  const p = USAGE_PROFILES[spec.usage];
  const day = Math.floor(m / DAY_MIN);
  const weekday = (day + 1) % 7; // day 0 is a Monday
  const hour = Math.floor((m % DAY_MIN) / 60);
  const mean = (p.hours as readonly number[]).reduce((a, b) => a + b, 0) / 24;
  return (spec.arrivalsPerConnector * spec.connectors * p.weekdays[weekday] * p.hours[hour]) / mean / DAY_MIN;
}

/**
 * Simulate `judged` days after the station's history. `faultRate` of the judged days get one
 * injected fault (types drawn uniformly, or `types`); the history gets past faults at 3 %.
 */
export function simulateStation(spec: StationSpec, judged: number, opts: { faultRate?: number; types?: readonly StationAnomalyType[] } = {}): SimStationDay[] {
  const rng = new Rng(`${spec.seed}/station/${spec.id}`);
  const heldOutIds = heldOutVehicleIds(loadVehicles());
  const vehicles: Vehicle[] = loadVehicles().filter(
    (v) => (spec.station.current === 'AC' || v.dc !== null) && (spec.heldOut || !heldOutIds.has(v.id)),
  );
  const types = opts.types ?? STATION_ANOMALY_TYPES;
  const days = spec.historyDays + judged;
  const total = days * DAY_MIN;
  const C = spec.connectors;
  // Truth per connector and minute: energy the car took (Wh), later corrupted by faults.
  const energy = Array.from({ length: C }, () => new Float64Array(total));
  const sessions: SimSessionRec[] = [];

  // Faults first: they change who arrives and what sessions get.
  const faults: Fault[] = [];
  for (let d = 0; d < days; d++) {
    const isJudged = d >= spec.historyDays;
    const rate = isJudged ? (opts.faultRate ?? 0.5) : 0.03;
    if (!rng.chance(rate)) continue;
    faults.push(drawFault(rng, spec, d, rng.pick(types)));
  }
  const faultAt = (type: StationAnomalyType, m: number, c: number | null) =>
    faults.find((f) => f.type === type && m >= f.from && m <= f.to && (f.connector === null || c === null || f.connector === c));

  const freeAt = new Array<number>(C).fill(0);
  for (let d = 0; d < days; d++) {
    // Day-to-day variation of demand (weather, events): ±25 %.
    const dayFactor = Math.exp(0.25 * rng.normal() - 0.03);
    for (let h = 0; h < 24; h++) {
      const m0 = d * DAY_MIN + h * 60;
      const count = poisson(rng, arrivalRate(spec, m0) * 60 * dayFactor);
      const times = Array.from({ length: count }, () => m0 + Math.floor(rng.next() * 60)).sort((a, b) => a - b);
      for (const t of times) arrive(t, 0);
    }
  }

  function arrive(t: number, retry: number): void {
    if (t >= total) return;
    const outage = faultAt('outage', t, null);
    if (outage && outage.variant === 'offline') return; // the station is dark: drivers go elsewhere
    const drop = faultAt('energy_drop', t, null);
    if (drop && !rng.chance(drop.keep)) return;
    const free: number[] = [];
    for (let c = 0; c < C; c++) if (freeAt[c] <= t) free.push(c);
    if (free.length === 0) return; // all taken: the driver leaves
    const c = rng.pick(free);
    const stuck = faultAt('stuck_connector', t, c);
    if (outage || stuck) {
      // Plugged in, nothing flows; the driver gives up after a few minutes and may try another connector.
      const end = t + rng.int(2, 12);
      sessions.push({ connector: c, start: t, end });
      freeAt[c] = end + 1;
      if (stuck && retry === 0 && rng.chance(0.6)) arrive(end + 1, 1);
      return;
    }
    const vehicle = rng.pick(vehicles);
    const ph = drawPhysics(rng, vehicle, spec.station);
    const startMs = EPOCH + t * MIN;
    const plan = drawPlan(rng, ph, startMs, { zero: rng.chance(0.03), smartDelay: ph.current === 'AC' && rng.chance(0.08) });
    // Departure is bounded by the next day's noon for overnight stays (the parking rules of most sites).
    const tl = simulate(ph, plan, MIN);
    const len = Math.max(1, tl.p.length);
    const end = Math.min(total - 1, t + len - 1);
    for (let k = 0; k < len && t + k < total; k++) energy[c][t + k] += (tl.p[k] * 1000) / 60;
    sessions.push({ connector: c, start: t, end });
    freeAt[c] = end + 1 + rng.int(0, 10);
  }

  // Faults that act on the meter rather than on arrivals.
  for (const f of faults) {
    for (let c = 0; c < C; c++) {
      if (f.connector !== null && f.connector !== c) continue;
      const e = energy[c];
      if (f.type === 'outage' || f.type === 'stuck_connector') for (let m = f.from; m <= f.to; m++) e[m] = 0;
      if (f.type === 'energy_drop') for (let m = f.from; m <= f.to; m++) e[m] *= f.level;
    }
  }
  // Reported power as the service derives it from a session's meter values: readings every
  // `powerIntervalMin` minutes during the session (the instantaneous power at a jittered instant,
  // 1.5 % noise), each interval's trapezoid spread evenly over its minutes; null where no reading
  // pair covers a minute (outside sessions).
  const power = Array.from({ length: C }, () => (spec.powerIntervalMin === null ? null : new Float64Array(total).fill(NaN)));
  if (spec.powerIntervalMin !== null) {
    const iv = spec.powerIntervalMin;
    for (const ses of sessions) {
      const p = power[ses.connector]!;
      const e = energy[ses.connector];
      const at: number[] = [];
      for (let m = ses.start; m < ses.end; m += iv) at.push(m);
      at.push(ses.end);
      const sample = (m: number) => {
        const k = Math.min(total - 1, Math.max(0, m + (rng.chance(0.3) ? rng.pick([-1, 1]) : 0)));
        return Math.max(0, e[k] * (1 + 0.015 * rng.normal()));
      };
      let prev = sample(at[0]);
      for (let k = 0; k + 1 < at.length; k++) {
        const next = sample(at[k + 1]);
        for (let m = at[k]; m < at[k + 1]; m++) p[m] = (Number.isNaN(p[m]) ? 0 : p[m]) + (prev + next) / 2;
        prev = next;
      }
    }
  }
  for (const f of faults) {
    if (f.type === 'unexplained_load') {
      // Load the meter sees with no session on the connector (so no meter values report its power).
      const c = f.connector!;
      for (let m = f.from; m <= f.to; m++) {
        const wh = (f.level * 1000) / 60;
        energy[c][m] += wh;
      }
    }
    if (f.type === 'meter_drift') {
      const c = f.connector!;
      for (let m = f.from; m <= f.to; m++) {
        const progress = f.variant === 'progressive' ? (m - f.from + 1) / (f.to - f.from + 1) : 1;
        energy[c][m] *= 1 + (f.level - 1) * progress;
      }
    }
  }
  // The register: cumulative energy at its resolution; per-minute energy is its difference.
  const register = energy.map((e) => {
    const out = new Float64Array(total);
    let cum = 0;
    let shown = 0;
    for (let m = 0; m < total; m++) {
      cum += e[m];
      const q = Math.floor(cum / spec.registerWh) * spec.registerWh;
      out[m] = q - shown;
      shown = q;
    }
    return out;
  });

  // Cut out the judged days with their histories.
  const byStart = sessions.sort((a, b) => a.start - b.start);
  const dayTotals: number[] = [];
  const hourly: number[][] = [];
  const starts: number[][] = [];
  for (let d = 0; d < days; d++) {
    const row = new Array<number>(24).fill(0);
    for (let c = 0; c < C; c++) for (let m = 0; m < DAY_MIN; m++) row[Math.floor(m / 60)] += register[c][d * DAY_MIN + m];
    hourly.push(row);
    dayTotals.push(row.reduce((x, y) => x + y, 0));
    starts.push(new Array<number>(24).fill(0));
  }
  for (const s of byStart) starts[Math.floor(s.start / DAY_MIN)][Math.floor((s.start % DAY_MIN) / 60)]++;
  const out: SimStationDay[] = [];
  const historyOf = (d: number): HistoryDay[] => {
    const h: HistoryDay[] = [];
    for (let back = 1; back <= Math.min(56, spec.historyDays) && d - back >= 0; back++) {
      const hd = d - back;
      h.push({ day: isoDay(hd), weekday: (hd + 1) % 7, hourlyWh: hourly[hd], sessionStarts: starts[hd] });
    }
    return h;
  };
  for (let d = spec.historyDays; d < days; d++) {
    const a = d * DAY_MIN;
    const b = a + DAY_MIN - 1;
    const connectors: ConnectorDay[] = [];
    for (let c = 0; c < C; c++) {
      const energyWh = Array.from(register[c].subarray(a, b + 1));
      const pw = power[c];
      const powerWh: (number | null)[] = pw ? Array.from(pw.subarray(a, b + 1), (x) => (Number.isNaN(x) ? null : Math.round(x * 10) / 10)) : new Array<number | null>(DAY_MIN).fill(null);
      const daySessions: DaySession[] = [];
      for (const s of byStart) {
        if (s.connector !== c || s.end < a || s.start > b) continue;
        const sm = Math.max(s.start, a) - a;
        const em = Math.min(s.end, b) - a;
        let wh = 0;
        for (let m = sm; m <= em; m++) wh += energyWh[m];
        daySessions.push({ startMinute: sm, endMinute: em, energyWh: wh, startedBefore: s.start < a, endsAfter: s.end > b });
      }
      connectors.push({ connectorId: String(c + 1), energyWh, powerWh, sessions: daySessions });
    }
    const history = historyOf(d);
    const input: StationDayInput = {
      stationKey: spec.id,
      day: isoDay(d),
      weekday: (d + 1) % 7,
      dayStart: new Date(EPOCH + a * MIN).toISOString(),
      minutes: DAY_MIN,
      connectors,
      history,
    };
    const labels: FaultLabel[] = [];
    for (const f of faults) {
      if (f.to < a || f.from > b) continue;
      labels.push(labelOf(f, input, a, spec, dayTotals[d]));
    }
    out.push({ input, labels, spec });
  }
  return out;
}

function isoDay(d: number): string {
  return new Date(EPOCH + d * DAY_MIN * MIN).toISOString().slice(0, 10);
}

function drawFault(rng: Rng, spec: StationSpec, d: number, type: StationAnomalyType): Fault {
  const day0 = d * DAY_MIN;
  const conn = spec.connectors > 1 || type !== 'stuck_connector' ? rng.int(0, spec.connectors - 1) : 0;
  switch (type) {
    case 'outage': {
      const len = Math.round(rng.logRange(90, 12 * 60));
      const from = day0 + rng.int(5 * 60, Math.max(5 * 60, 22 * 60 - len));
      return { type, connector: null, from, to: Math.min(day0 + DAY_MIN - 1, from + len - 1), variant: rng.chance(0.5) ? 'offline' : 'powered-no-energy', level: 0, keep: 1 };
    }
    case 'stuck_connector': {
      const len = Math.round(rng.logRange(3 * 60, 14 * 60));
      const from = day0 + rng.int(5 * 60, Math.max(5 * 60, 23 * 60 - len));
      return { type, connector: conn, from, to: Math.min(day0 + DAY_MIN - 1, from + len - 1), variant: 'no-energy', level: 0, keep: 1 };
    }
    case 'energy_drop': {
      // Derating (a hot cabinet, a grid limit) for most of the day, and fewer drivers willing to wait.
      const len = Math.round(rng.range(12 * 60, DAY_MIN));
      const from = day0 + rng.int(0, DAY_MIN - len);
      return { type, connector: null, from, to: from + len - 1, variant: 'derated', level: rng.range(0.1, 0.4), keep: rng.range(0.5, 1) };
    }
    case 'unexplained_load': {
      const len = Math.round(rng.logRange(10, 180));
      // Mostly at night, when nobody is plugged in.
      const from = day0 + (rng.chance(0.7) ? rng.int(0, 5 * 60 - len > 0 ? 5 * 60 - len : 0) : rng.int(0, DAY_MIN - len));
      return { type, connector: conn, from, to: from + len - 1, variant: 'standing-load', level: rng.logRange(0.5, 7), keep: 1 };
    }
    case 'meter_drift': {
      const from = day0 + rng.int(0, 12 * 60);
      const off = rng.range(0.12, 0.4) * (rng.chance(0.6) ? 1 : -1);
      return { type, connector: conn, from, to: day0 + DAY_MIN - 1, variant: rng.chance(0.3) ? 'progressive' : 'step', level: 1 + off, keep: 1 };
    }
  }
}

/** The label of a fault on the day starting at absolute minute `a`, clipped to the day. */
function labelOf(f: Fault, input: StationDayInput, a: number, spec: StationSpec, dayWh: number): FaultLabel {
  const from = Math.max(f.from, a) - a;
  const to = Math.min(f.to, a + DAY_MIN - 1) - a;
  const label: FaultLabel = {
    type: f.type,
    connectorId: f.connector === null ? null : String(f.connector + 1),
    startMinute: from,
    endMinute: to,
    observable: true,
    variant: f.variant,
  };
  const conns = input.connectors;
  switch (f.type) {
    case 'stuck_connector': {
      // Evidence: two or more sessions that got nothing; the label narrows to them.
      const c = conns[f.connector!];
      const dead = c.sessions.filter((s) => s.startMinute >= from && s.startMinute <= to);
      // As the definition: ≥ 2 dead sessions in a row, unlikely at a 5 % rate of car-side failures.
      const begun = c.sessions.filter((s) => !s.startedBefore).length;
      label.observable = dead.length >= 2 && begun * Math.pow(0.05, dead.length) <= 0.01;
      if (dead.length) {
        label.startMinute = Math.min(...dead.map((s) => s.startMinute));
        label.endMinute = Math.max(...dead.map((s) => s.endMinute));
      }
      break;
    }
    case 'outage': {
      // Evidence: dead plug-ins on two connectors, or ≥ 8 session starts in the window on the
      // history's same weekdays (on average; three such days at least).
      const same = input.history.filter((h) => h.weekday === input.weekday);
      let expected = 0;
      for (const h of same) for (let m = from; m <= to; m++) expected += h.sessionStarts[Math.floor(m / 60)] / 60 / same.length;
      const dead = new Set<string>();
      for (const c of conns) for (const s of c.sessions) if (s.startMinute >= from && s.startMinute <= to && s.energyWh < 100 && !s.startedBefore) dead.add(c.connectorId);
      label.observable = to - from + 1 >= 60 && ((same.length >= 3 && expected >= 8) || dead.size >= 2);
      break;
    }
    case 'energy_drop': {
      // Evidence: three same-weekday days of history and a day at most 55 % of their median.
      const same = input.history.filter((h) => h.weekday === input.weekday).map((h) => h.hourlyWh.reduce((x, y) => x + y, 0));
      same.sort((x, y) => x - y);
      const med = same.length ? (same.length % 2 ? same[same.length >> 1] : (same[same.length / 2 - 1] + same[same.length / 2]) / 2) : 0;
      label.observable = same.length >= 3 && med >= 5000 && dayWh <= 0.55 * med;
      break;
    }
    case 'unexplained_load': {
      // Evidence: ≥ 5 min and ≥ 0.05 kWh of the load outside the connector's sessions (2 min grace).
      const c = conns[f.connector!];
      let first = -1;
      let last = -1;
      let wh = 0;
      for (let m = from; m <= to; m++) {
        if (c.sessions.some((s) => m >= s.startMinute - 2 && m <= s.endMinute + 2)) continue;
        if (first < 0) first = m;
        last = m;
        wh += c.energyWh[m];
      }
      label.observable = first >= 0 && last - first + 1 >= 5 && wh >= 50;
      if (first >= 0) {
        label.startMinute = first;
        label.endMinute = last;
      }
      break;
    }
    case 'meter_drift': {
      // Evidence: ≥ 10 power readings while charging under the drift, over ≥ 30 min; the label narrows to them.
      const c = conns[f.connector!];
      let first = -1;
      let last = -1;
      let count = 0;
      for (let m = from; m <= to; m++) {
        const p = c.powerWh[m];
        if (p == null || p < 10) continue;
        if (!c.sessions.some((s) => m >= s.startMinute && m <= s.endMinute)) continue;
        if (first < 0) first = m;
        last = m;
        count++;
      }
      label.observable = count >= 10 && last - first + 1 >= 30;
      if (first >= 0) {
        label.startMinute = first;
        label.endMinute = last;
      }
      break;
    }
  }
  return label;
}
