// SHADE's robust-baseline rules: each station anomaly type's defining condition
// (docs/station-anomaly-types.md), checked on one station-day. Pure functions over the input. The
// learned model (./model.ts) adds no finding: it scores the day and raises markers only inside the
// ranges found here, so every reported finding satisfies its type's hard edge.
import type { ConnectorDay, DaySession, StationDayInput, StationFinding } from '../../../domain/shade/types';
import { clockHour, LOG_OFFSET_WH, MIN_SAME_WEEKDAY_DAYS, weekdayBaseline, type Baseline } from './baseline';

export { MIN_SAME_WEEKDAY_DAYS };

export type Finding = StationFinding;

/** The thresholds of docs/station-anomaly-types.md. */
export const RULES = {
  /** A minute with less register energy than this (Wh) delivered nothing (< 0.06 kW average). */
  idleWh: 1,
  /** A session that delivered less than this (Wh) delivered nothing. */
  zeroSessionWh: 100,
  outage: {
    /** Shortest station-wide stretch without energy. */
    minMinutes: 60,
    /** Expected session starts over the stretch (history, scaled down on a quiet day) for an outage by expectation: P(no start) = e^-8 < 0.04 % (a day holds many stretches). */
    minExpectedStarts: 8,
    /** A session that starts this close to the stretch's end is what ended it (handshake, ramp), not a delayed start. */
    endingMinutes: 10,
    /** Sessions that delivered nothing, on this many distinct connectors, for an outage by plug-ins. */
    minDeadConnectors: 2,
  },
  stuck: {
    /** Consecutive sessions on one connector that delivered nothing. */
    minSessions: 2,
    /** A session shorter than this (min) is a mis-plug, not evidence. */
    minSessionMinutes: 2,
    /** Share of sessions that deliver nothing for reasons of the car's (full, refused authorisation) … */
    priorDeadRate: 0.05,
    /** … and the largest chance of the run under it: sessions on the connector that day × rate^run. */
    maxChance: 0.01,
  },
  drop: {
    /** The day (outside outage stretches) delivered at most this share of its weekday median … */
    maxShare: 0.55,
    /** … the median is at least this much (Wh): a station that delivers 2 kWh a day has no "far below" … */
    minExpectedWh: 5000,
    /** … and either (derated) at least this many sessions came … */
    minSessions: 3,
    /** … and delivered at most this share of a usual session each … */
    maxPerSessionShare: 0.4,
    /** … or (deserted) the day is at least this many robust spreads of ln(day + 1 kWh) below the median, … */
    minSigmas: 3,
    /** … below this share of the history's second-lowest day (relative to its weekday median), … */
    belowLowShare: 0.8,
    /** … and as few sessions as came has at most this probability (Poisson at the history's rate). */
    maxArrivalProbability: 0.001,
    /** The log spread is at least this (±10 %; a history of identical days has MAD 0). */
    minLogSigma: 0.1,
    /** dayScore: the day total's spread is at least this share of the median. */
    minRelativeSigma: 0.15,
  },
  unexplained: {
    /** Minutes next to a session that still count as the session (clock skew between session and meter). */
    graceMinutes: 2,
    /** Gaps up to this long join two stretches of load. */
    joinGapMinutes: 3,
    minWh: 50,
    minMinutes: 5,
  },
  drift: {
    /** A minute charges when register or power says at least this (Wh per minute, 0.6 kW). */
    chargingWh: 10,
    /** Per-minute disagreement tolerated before it counts (share of power-implied energy). */
    toleranceShare: 0.05,
    /** The stretch's register and power differ by at least this share … */
    minRelative: 0.1,
    /** … and this much energy (Wh) … */
    minAbsoluteWh: 300,
    /** … over at least this many steady charging minutes with power … */
    minReadings: 10,
    /** … spread over at least this many minutes. */
    minSpanMinutes: 30,
  },
} as const;

const clip01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
/** Severity: 0.5 at the rule's threshold, rising to 1 at `full`. */
const severity = (excess: number, full: number) => 0.5 + 0.5 * clip01(excess / full);
const kwh = (wh: number) => Math.round(wh) / 1000;

export interface DayAnalysis {
  findings: Finding[];
  baseline: Baseline | null;
  /** Station energy of the day (Wh). */
  dayWh: number;
  /** Station energy per minute (Wh). */
  totalWh: Float64Array;
  /** Expected station energy per minute from the baseline (Wh), or null without a baseline. */
  expectedWh: Float64Array | null;
  /** How far the day's total is from its weekday median, 0–1 (0 without a baseline). */
  deviationScore: number;
}

export function analyseDay(day: StationDayInput): DayAnalysis {
  const n = day.minutes;
  const hours = Math.round(n / 60);
  const baseline = weekdayBaseline(day.history, day.weekday);
  const totalWh = new Float64Array(n);
  for (const c of day.connectors) {
    const e = c.energyWh;
    for (let m = 0; m < n; m++) totalWh[m] += e[m] || 0;
  }
  let dayWh = 0;
  for (let m = 0; m < n; m++) dayWh += totalWh[m];

  let expectedWh: Float64Array | null = null;
  let expectedStarts: Float64Array | null = null;
  if (baseline) {
    expectedWh = new Float64Array(n);
    expectedStarts = new Float64Array(n);
    for (let m = 0; m < n; m++) {
      const h = clockHour(hours, Math.floor(m / 60));
      expectedWh[m] = baseline.hourlyWh[h] / 60;
      expectedStarts[m] = baseline.startsPerHour[h] / 60;
    }
  }

  const findings: Finding[] = [];
  const outages = outageFindings(day, totalWh, expectedWh, expectedStarts);
  findings.push(...outages);
  findings.push(...stuckFindings(day, outages, baseline));
  const drop = energyDropFinding(day, totalWh, expectedWh, baseline, outages);
  if (drop) findings.push(drop);
  for (const c of day.connectors) {
    const covered = sessionMinutes(c, n);
    findings.push(...unexplainedFindings(c, n, covered));
    // Nothing to compare on a connector that reports no power.
    if (c.powerWh.some((p) => p != null)) findings.push(...driftFindings(c, n, covered));
  }
  findings.sort((a, b) => b.score - a.score || a.start_minute - b.start_minute);

  let deviationScore = 0;
  if (baseline && baseline.dayWh > 0) {
    const sigma = Math.max(baseline.daySigmaWh, RULES.drop.minRelativeSigma * baseline.dayWh, 1000);
    const z = Math.abs(dayWh - baseline.dayWh) / sigma;
    // z = 3 → 0.39, z = 5 → 0.75: a day two spreads off its median is not remarkable yet.
    deviationScore = 1 - Math.exp(-(z * z) / 18);
  }
  return { findings, baseline, dayWh, totalWh, expectedWh, deviationScore };
}

/** Maximal runs [start, end] (inclusive) where `pred(m)` holds. */
/**
 * The contiguous stretch of 0…n-1 with the largest sum whose sum exceeds `above` (Kadane); indexes
 * whose value is undefined add nothing and break nothing. Null when no stretch exceeds `above`.
 */
function largestSumRun(n: number, valueAt: (i: number) => number | undefined, above: number): { sum: number; from: number; to: number } | null {
  let best: { sum: number; from: number; to: number } | null = null;
  let cur = 0;
  let curFrom = -1;
  for (let i = 0; i < n; i++) {
    const x = valueAt(i);
    if (x === undefined) continue;
    if (cur <= 0) {
      cur = 0;
      curFrom = i;
    }
    cur += x;
    if (cur > (best?.sum ?? above)) best = { sum: cur, from: curFrom, to: i };
  }
  return best;
}

function runs(n: number, pred: (m: number) => boolean): [number, number][] {
  const out: [number, number][] = [];
  let s = -1;
  for (let m = 0; m < n; m++) {
    if (pred(m)) {
      if (s < 0) s = m;
    } else if (s >= 0) {
      out.push([s, m - 1]);
      s = -1;
    }
  }
  if (s >= 0) out.push([s, n - 1]);
  return out;
}

function sessionWhOn(c: ConnectorDay, start: number, end: number): number {
  let sum = 0;
  for (let m = Math.max(0, start); m <= Math.min(end, c.energyWh.length - 1); m++) sum += c.energyWh[m] || 0;
  return sum;
}

/** The session began on this day (not carried over from the day before: its start says so, or minute 0 does). */
export const beganToday = (s: DaySession) => !(s.startedBefore ?? s.startMinute <= 0);

/**
 * A session that delivered nothing: under 0.1 kWh by its register and on the connector's meter, long
 * enough to have tried, and wholly inside the day — a session carried over from the evening before
 * (idle after charging) or still plugged in at midnight (waiting for a smart-charging slot) says
 * nothing about the day.
 */
function deadSession(c: ConnectorDay, s: DaySession): boolean {
  const n = c.energyWh.length;
  if (!beganToday(s)) return false;
  if (s.endsAfter ?? s.endMinute >= n - 1) return false;
  return (
    s.endMinute - s.startMinute >= RULES.stuck.minSessionMinutes &&
    s.energyWh < RULES.zeroSessionWh &&
    sessionWhOn(c, s.startMinute, s.endMinute) < RULES.zeroSessionWh
  );
}

function outageFindings(day: StationDayInput, totalWh: Float64Array, expectedWh: Float64Array | null, expectedStarts: Float64Array | null): Finding[] {
  const out: Finding[] = [];
  const n = day.minutes;
  // Sessions that began today, and what the history expected in all: today's level of activity
  // scales the expectation, so that a quiet (rainy, holiday) day does not turn its gaps into outages.
  const begun: number[] = [];
  for (const c of day.connectors) for (const s of c.sessions) if (beganToday(s)) begun.push(s.startMinute);
  let expectedAll = 0;
  if (expectedStarts) for (let m = 0; m < n; m++) expectedAll += expectedStarts[m];
  for (const [a, b] of runs(n, (m) => totalWh[m] < RULES.idleWh)) {
    if (b - a + 1 < RULES.outage.minMinutes) continue;
    const dead = new Set<string>();
    let deadCount = 0;
    let firstDead = Infinity;
    let lastDead = -Infinity;
    let startsThatCharged = 0;
    for (const c of day.connectors) {
      for (const s of c.sessions) {
        if (s.startMinute < a || s.startMinute > b) continue;
        if (deadSession(c, s)) {
          dead.add(c.connectorId);
          deadCount++;
          firstDead = Math.min(firstDead, s.startMinute);
          lastDead = Math.max(lastDead, s.endMinute);
        } else if (s.energyWh >= RULES.zeroSessionWh && s.startMinute < b - RULES.outage.endingMinutes) startsThatCharged++;
      }
    }
    // Evidence 1: vehicles were plugged in and nothing flowed, on several connectors. (On a station
    // with one connector that is a stuck connector: nothing tells the two apart.)
    const byPlugIns = dead.size >= RULES.outage.minDeadConnectors;
    // Evidence 2: the history expects several arrivals in the stretch, and none got energy. A session
    // that started in the stretch and charged later (smart charging) shows the station was up.
    let lambda = 0;
    let rawLambda = 0;
    if (expectedStarts) {
      for (let m = a; m <= b; m++) rawLambda += expectedStarts[m];
      lambda = rawLambda;
      const outside = expectedAll - lambda;
      const seen = begun.filter((m) => m < a || m > b).length;
      lambda *= Math.min(1, Math.max(0.5, (seen + 1) / (outside + 1)));
    }
    const byExpectation = expectedStarts !== null && startsThatCharged === 0 && lambda >= RULES.outage.minExpectedStarts;
    if (!byPlugIns && !byExpectation) continue;
    // The outage began somewhere between the last energy and the first evidence; the range keeps
    // no more of the silence than about one expected arrival's worth (an hour without a history)
    // before the first dead plug-in and after the last, and none of the quiet night hours.
    let start = a;
    let end = b;
    if (byPlugIns) {
      start = Math.max(a, expectedStarts ? backUntil(expectedStarts, firstDead, a, -1) : firstDead - 60);
      end = Math.min(b, expectedStarts ? backUntil(expectedStarts, lastDead, b, 1) : lastDead + 60);
    }
    if (byExpectation && expectedStarts) {
      const quiet = (0.25 * rawLambda) / (b - a + 1);
      let s0 = a;
      let e0 = b;
      while (s0 < e0 && expectedStarts[s0] < quiet) s0++;
      while (e0 > s0 && expectedStarts[e0] < quiet) e0--;
      start = byPlugIns ? Math.min(start, s0) : s0;
      end = byPlugIns ? Math.max(end, e0) : e0;
    }
    let rangeExpected = 0;
    if (expectedWh) for (let m = start; m <= end; m++) rangeExpected += expectedWh[m];
    const minutes = b - a + 1;
    // Longer and better-evidenced outages are more severe: 4 h, 10 expected arrivals or 6 dead plug-ins reach 1.
    const score = Math.max(
      severity(minutes - RULES.outage.minMinutes, 180) * (byExpectation ? 1 : 0.8),
      byExpectation ? severity(lambda - RULES.outage.minExpectedStarts, 5) : 0,
      byPlugIns ? severity(deadCount - RULES.stuck.minSessions, 4) : 0,
    );
    out.push({ anomaly_type: 'outage', connector_id: null, start_minute: start, end_minute: end, score, expected_energy_kwh: kwh(rangeExpected), actual_energy_kwh: 0 });
  }
  return out;
}

/** From `from`, step in `dir` towards `limit` until about one arrival is expected on the way. */
function backUntil(rate: Float64Array, from: number, limit: number, dir: 1 | -1): number {
  let acc = 0;
  let m = from;
  while (m !== limit && acc < 1) {
    m += dir;
    acc += rate[m];
  }
  return m;
}

function stuckFindings(day: StationDayInput, outages: Finding[], baseline: Baseline | null): Finding[] {
  const out: Finding[] = [];
  // What one session usually delivers here: today's sessions that charged, else the history.
  const charged: number[] = [];
  for (const c of day.connectors) for (const s of c.sessions) if (s.energyWh >= RULES.zeroSessionWh) charged.push(s.energyWh);
  charged.sort((x, y) => x - y);
  const typical = charged.length >= 3 ? charged[charged.length >> 1] : (baseline?.sessionWh ?? (charged.length ? charged[charged.length >> 1] : 0));
  for (const c of day.connectors) {
    const sessions = [...c.sessions].sort((x, y) => x.startMinute - y.startMinute);
    let seq: typeof sessions = [];
    // Sessions that fail on the car's side (full battery, authorisation) happen anywhere at a few
    // per cent; on a busy connector two in a row happen by chance. The run must be unlikely at that
    // rate: (sessions of the day on the connector) × rate^(run length) ≤ 1 %.
    const begun = sessions.filter(beganToday).length;
    const flush = () => {
      if (seq.length >= RULES.stuck.minSessions && begun * Math.pow(RULES.stuck.priorDeadRate, seq.length) <= RULES.stuck.maxChance) {
        const a = seq[0].startMinute;
        const b = Math.max(...seq.map((s) => s.endMinute));
        // Inside a station-wide outage the connector is not the culprit.
        const inOutage = outages.some((o) => o.start_minute <= a && o.end_minute >= b);
        if (!inOutage) {
          const actual = seq.reduce((sum, s) => sum + Math.max(s.energyWh, 0), 0);
          out.push({
            anomaly_type: 'stuck_connector',
            connector_id: c.connectorId,
            start_minute: a,
            end_minute: Math.min(b, day.minutes - 1),
            score: severity(seq.length - RULES.stuck.minSessions, 3),
            expected_energy_kwh: kwh(typical * seq.length),
            actual_energy_kwh: kwh(actual),
          });
        }
      }
      seq = [];
    };
    for (const s of sessions) {
      if (deadSession(c, s)) seq.push(s);
      else if (s.energyWh >= RULES.zeroSessionWh || sessionWhOn(c, s.startMinute, s.endMinute) >= RULES.zeroSessionWh) flush();
      // A session under 2 minutes neither adds evidence nor clears it.
    }
    flush();
  }
  return out;
}

function energyDropFinding(
  day: StationDayInput,
  totalWh: Float64Array,
  expectedWh: Float64Array | null,
  baseline: Baseline | null,
  outages: Finding[],
): Finding | null {
  if (!baseline || !expectedWh) return null;
  const n = day.minutes;
  const inOutage = new Uint8Array(n);
  for (const o of outages) for (let m = o.start_minute; m <= o.end_minute; m++) inOutage[m] = 1;
  // Per-hour medians do not add up to the median day; rescale them to it.
  let sumExpected = 0;
  for (let m = 0; m < n; m++) sumExpected += expectedWh[m];
  const scale = sumExpected > 0 ? baseline.dayWh / sumExpected : 0;
  let expected = 0;
  let actual = 0;
  const hours = Math.ceil(n / 60);
  const deficit = new Float64Array(hours);
  for (let m = 0; m < n; m++) {
    if (inOutage[m]) continue;
    const e = expectedWh[m] * scale;
    expected += e;
    actual += totalWh[m];
    deficit[Math.floor(m / 60)] += e - totalWh[m];
  }
  if (expected < RULES.drop.minExpectedWh) return null;
  const covered = expected / baseline.dayWh;
  const share = actual / expected;
  if (share > RULES.drop.maxShare) return null;
  // Not just a quiet day. Either the sessions that came delivered far less than sessions here
  // usually do (derating, a power limit) — several of them, so that one small car does not decide —
  // or the day is below anything the station's history shows for a normal day and so few sessions
  // came that chance does not explain it.
  let begun = 0;
  for (const c of day.connectors) for (const s of c.sessions) if (beganToday(s) && !inOutage[s.startMinute]) begun++;
  let lambda = 0;
  for (let h = 0; h < 24; h++) lambda += baseline.startsPerHour[h];
  lambda *= covered;
  const perSession = begun >= RULES.drop.minSessions && baseline.sessionWh ? actual / (begun * baseline.sessionWh) : null;
  const derated = perSession !== null && perSession <= RULES.drop.maxPerSessionShare;
  const sigma = Math.max(baseline.logSigma, RULES.drop.minLogSigma);
  const z = (Math.log(expected + LOG_OFFSET_WH) - Math.log(actual + LOG_OFFSET_WH)) / sigma;
  const belowHistory = baseline.lowShare === null || share <= RULES.drop.belowLowShare * baseline.lowShare;
  const deserted = z >= RULES.drop.minSigmas && belowHistory && poissonCdf(begun, lambda) <= RULES.drop.maxArrivalProbability;
  if (!derated && !deserted) return null;
  // The hours that carry the shortfall: the contiguous run with the largest deficit.
  const carrying = largestSumRun(hours, (h) => deficit[h], -Infinity) ?? { sum: -Infinity, from: 0, to: hours - 1 };
  const best = carrying.sum;
  let a = carrying.from * 60;
  let b = Math.min(n - 1, carrying.to * 60 + 59);
  let rangeExpected = 0;
  let rangeActual = 0;
  for (let m = a; m <= b; m++) {
    if (inOutage[m]) continue;
    rangeExpected += expectedWh[m] * scale;
    rangeActual += totalWh[m];
  }
  // A run that carries less than half the shortfall is no better than the day.
  if (best < 0.5 * (expected - actual)) {
    a = 0;
    b = n - 1;
    rangeExpected = expected;
    rangeActual = actual;
  }
  return {
    anomaly_type: 'energy_drop',
    connector_id: null,
    start_minute: a,
    end_minute: b,
    score: severity(RULES.drop.maxShare - share, RULES.drop.maxShare),
    expected_energy_kwh: kwh(rangeExpected),
    actual_energy_kwh: kwh(rangeActual),
  };
}

/** P(X ≤ k) for X ~ Poisson(lambda). */
export function poissonCdf(k: number, lambda: number): number {
  if (lambda <= 0) return 1;
  let term = Math.exp(-lambda);
  let sum = term;
  for (let i = 1; i <= k; i++) {
    term *= lambda / i;
    sum += term;
  }
  return Math.min(1, sum);
}

function unexplainedFindings(c: ConnectorDay, n: number, covered: Uint8Array): Finding[] {
  const out: Finding[] = [];
  let a = -1;
  let last = -1;
  let wh = 0;
  const flush = () => {
    if (a >= 0 && wh >= RULES.unexplained.minWh && last - a + 1 >= RULES.unexplained.minMinutes) {
      // 0.05 kWh is the threshold, 5 kWh (a car's worth) the full score.
      out.push({
        anomaly_type: 'unexplained_load',
        connector_id: c.connectorId,
        start_minute: a,
        end_minute: last,
        score: severity(Math.log10(wh / RULES.unexplained.minWh), 2),
        expected_energy_kwh: 0,
        actual_energy_kwh: kwh(wh),
      });
    }
    a = -1;
    wh = 0;
  };
  for (let m = 0; m < n; m++) {
    const e = c.energyWh[m] || 0;
    if (covered[m] || e < RULES.idleWh) {
      if (a >= 0 && (covered[m] || m - last > RULES.unexplained.joinGapMinutes)) flush();
      continue;
    }
    if (a < 0) a = m;
    last = m;
    wh += e;
  }
  flush();
  return out;
}

/** Minutes inside one of the connector's sessions, widened by the grace at both ends. */
function sessionMinutes(c: ConnectorDay, n: number): Uint8Array {
  const covered = new Uint8Array(n);
  const g = RULES.unexplained.graceMinutes;
  for (const s of c.sessions) {
    for (let m = Math.max(0, s.startMinute - g); m <= Math.min(n - 1, s.endMinute + g); m++) covered[m] = 1;
  }
  return covered;
}

/**
 * Minutes where register and power can be compared: inside a session, power saying energy flows, the register
 * charging for one reading interval plus a minute on either side (at least two minutes). Near a
 * start, stop or pause the power implied by the readings around it legitimately differs from the
 * register (the car ramps or stops between two readings, and the readings' trapezoid spreads that
 * over the interval); away from them both measure the same flow.
 */
function steadyMinutes(c: ConnectorDay, covered: Uint8Array, n: number): Uint8Array {
  const w = Math.max(2, readingInterval(c) + 1);
  const charging = new Int32Array(n + 1); // prefix count of charging minutes
  for (let m = 0; m < n; m++) charging[m + 1] = charging[m] + ((c.energyWh[m] || 0) >= RULES.drift.chargingWh ? 1 : 0);
  const out = new Uint8Array(n);
  for (let m = w; m < n - w; m++) {
    // Both must say energy flows: a register rising while power reads idle is energy nobody
    // accounts for inside a session (the session category UNEXPECTED_KWH_ACCUMULATE), not a drift.
    const p = c.powerWh[m];
    if (!covered[m] || p == null || p < RULES.drift.chargingWh) continue;
    if (charging[m + w + 1] - charging[m - w] === 2 * w + 1) out[m] = 1;
  }
  return out;
}

/**
 * The power readings' interval as the minutes show it (minutes): the median length of runs of equal
 * consecutive values (a reading pair's trapezoid is spread evenly over its minutes), 1–15.
 */
function readingInterval(c: ConnectorDay): number {
  const lengths: number[] = [];
  let run = 0;
  let prev: number | null = null;
  for (const p of c.powerWh) {
    if (p != null && p > 0 && prev != null && Math.abs(p - prev) <= 1e-6 * Math.max(1, Math.abs(p))) run++;
    else {
      if (run > 0) lengths.push(run);
      run = p != null && p > 0 ? 1 : 0;
    }
    prev = p;
  }
  if (run > 0) lengths.push(run);
  if (lengths.length === 0) return 1;
  lengths.sort((a, b) => a - b);
  return Math.min(15, Math.max(1, lengths[lengths.length >> 1]));
}

/** The register's energy around minute m (mean of the five minutes): a coarse register's steps average out. */
function registerAround(c: ConnectorDay, m: number): number {
  const e = c.energyWh;
  return (e[m - 2] + e[m - 1] + e[m] + e[m + 1] + e[m + 2]) / 5;
}

/**
 * The register's resolution as the day shows it: 1000, 100 or 10 Wh when every minute's energy is a
 * multiple of it (a register reported in kWh with 0, 1 or 2 decimals), else 0 (fine enough).
 */
function resolution(c: ConnectorDay): number {
  for (const q of [1000, 100, 10]) {
    let any = false;
    let all = true;
    for (const e of c.energyWh) {
      if (!(e > 0)) continue;
      any = true;
      const r = e / q;
      if (Math.abs(r - Math.round(r)) > 1e-6) {
        all = false;
        break;
      }
    }
    if (any && all) return q;
  }
  return 0;
}

/** `covered`: the connector's session minutes; energy outside them is unexplained load, whatever power says. */
function driftFindings(c: ConnectorDay, n: number, covered: Uint8Array): Finding[] {
  const out: Finding[] = [];
  const d = RULES.drift;
  const steady = steadyMinutes(c, covered, n);
  // Around a reading the register is known to ± one step over five minutes.
  const stepTolerance = resolution(c) / 5;
  for (const sign of [1, -1]) {
    // Largest-sum stretch of register-minus-power beyond the per-minute tolerance; minutes without
    // a power reading or without steady charging are neutral.
    const stretch = largestSumRun(n, (m) => {
      if (!steady[m]) return undefined;
      const p = c.powerWh[m] as number;
      const e = registerAround(c, m);
      return sign * (e - p) - d.toleranceShare * Math.max(e, p) - stepTolerance;
    }, 0);
    if (!stretch) continue;
    const [bestA, bestB] = [stretch.from, stretch.to];
    let eSum = 0;
    let pSum = 0;
    let minutes = 0;
    for (let m = bestA; m <= bestB; m++) {
      if (!steady[m]) continue;
      const p = c.powerWh[m] as number;
      const e = registerAround(c, m);
      eSum += e;
      pSum += p;
      minutes++;
    }
    const diff = Math.abs(eSum - pSum);
    const rel = diff / Math.max(pSum, 1);
    if (minutes < d.minReadings || bestB - bestA + 1 < d.minSpanMinutes || diff < d.minAbsoluteWh || rel < d.minRelative) continue;
    out.push({
      anomaly_type: 'meter_drift',
      connector_id: c.connectorId,
      start_minute: bestA,
      end_minute: bestB,
      // 10 % is the threshold, 40 % the full score.
      score: severity(rel - d.minRelative, 0.3),
      expected_energy_kwh: kwh(pSum),
      actual_energy_kwh: kwh(eSum),
    });
  }
  return out;
}
