// The contract's hard edges as a property: whatever sessions the served detector sees — simulated
// ones of every category and look-alike, and adversarial ones built from charging segments with
// faults, odd sampling and dirty encodings — no anomaly it reports contradicts its category's
// defining condition. The oracle below reads the contract literally and generously (it only calls
// a report wrong when the data plainly contradicts it); it shares no code with the detector's own
// hard-edge check (domain/analysis/hard-edges.ts), so that check cannot vouch for itself.
// Used by test/unit/hard-edges.property.test.ts (a few thousand cases) and by
// test/properties/run.ts (`npm run test:properties`, ≥ 100,000).
import fc from 'fast-check';
import { analyseMany } from '../../domain/analysis/analyse';
import { normalise } from '../../domain/analysis/normalise';
import type { AnalysisResult, Anomaly, BatchDetector, RawMeterValue, Series, StoredMeterValue } from '../../domain/analysis/types';
import { ANOMALY_CATEGORIES } from '../../domain/analysis/types';
import { generateSession, LOOKALIKES, Rng } from '../../models/training/simulator';

const H = 3_600_000;
const MIN = 60_000;
const START = Date.UTC(2026, 1, 27, 10);

// ---------------------------------------------------------------------------------------------
// Sessions

export interface Case {
  kind: 'simulated' | 'adversarial';
  /** How to rebuild it (printed with a counterexample). */
  spec: unknown;
  values: RawMeterValue[];
  metadata: Record<string, unknown> | null;
}

/** A simulator session of random seed, categories (0–2) or look-alike. */
export const simulatedCase: fc.Arbitrary<Case> = fc
  .record({
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    categories: fc.subarray([...ANOMALY_CATEGORIES], { maxLength: 2 }),
    lookalike: fc.option(fc.constantFrom(...LOOKALIKES), { nil: undefined }),
  })
  .map((spec) => {
    const s = generateSession(new Rng(spec.seed), { categories: spec.categories, lookalike: spec.lookalike });
    return { kind: 'simulated' as const, spec, values: s.meterValues, metadata: s.metadata };
  });

const segment = fc.record({
  minutes: fc.double({ min: 0.25, max: 180, noNaN: true }),
  kw: fc.oneof(fc.constant(0), fc.constant(0.3), fc.constantFrom(1.4, 3.7, 7.4, 11, 22), fc.double({ min: 0, max: 350, noNaN: true })),
});

const fault = fc.record({
  kind: fc.constantFrom('register-drop', 'register-pit', 'register-jump', 'register-frozen', 'soc-jump', 'soc-drop', 'soc-out', 'power-scale', 'power-frozen', 'power-zero'),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  /** Fraction of the session the fault lasts. */
  length: fc.double({ min: 0, max: 0.5, noNaN: true }),
  size: fc.double({ min: 0, max: 1, noNaN: true }),
});

const adversarialSpec = fc.record({
  segments: fc.array(segment, { minLength: 1, maxLength: 6 }),
  stepS: fc.constantFrom(10, 15, 30, 60, 120, 300, 600, 900),
  jitterS: fc.integer({ min: 0, max: 5 }),
  energy: fc.boolean(),
  power: fc.boolean(),
  soc: fc.boolean(),
  energyUnit: fc.constantFrom('kWh', 'Wh'),
  /** kWh step of the register as sent (0: three decimals). */
  resolution: fc.constantFrom(0, 0.1, 1),
  startKwh: fc.double({ min: 0, max: 50_000, noNaN: true }),
  batteryKwh: fc.double({ min: 5, max: 120, noNaN: true }),
  socStart: fc.double({ min: 0, max: 95, noNaN: true }),
  noiseKw: fc.double({ min: 0, max: 1, noNaN: true }),
  faults: fc.array(fault, { maxLength: 3 }),
  lossRate: fc.double({ min: 0, max: 0.3, noNaN: true }),
  duplicates: fc.boolean(),
  shuffle: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  rating: fc.option(fc.constantFrom(3.7, 11, 22, 50, 150, 350), { nil: null }),
});
export type AdversarialSpec = typeof adversarialSpec extends fc.Arbitrary<infer T> ? T : never;

/** Charging segments with faults, odd sampling and dirty encodings (at most ~10 hours). */
export const adversarialCase: fc.Arbitrary<Case> = adversarialSpec
  .filter((s) => s.energy || s.power)
  .map((spec) => ({ kind: 'adversarial' as const, spec, values: buildAdversarial(spec), metadata: spec.rating ? { maxPowerKw: spec.rating } : null }));

export const anyCase: fc.Arbitrary<Case> = fc.oneof(simulatedCase, adversarialCase);

export function buildAdversarial(spec: AdversarialSpec): RawMeterValue[] {
  const rng = new Rng(spec.seed);
  const totalMs = Math.min(10 * H, spec.segments.reduce((s, x) => s + x.minutes * MIN, 0));
  const kwAt = (t: number) => {
    let acc = 0;
    for (const s of spec.segments) {
      acc += s.minutes * MIN;
      if (t < acc) return s.kw;
    }
    return spec.segments[spec.segments.length - 1].kw;
  };
  const inFault = (kind: string, t: number) =>
    spec.faults.find((f) => f.kind === kind && t >= f.at * totalMs && t <= (f.at + f.length) * totalMs + spec.stepS * 1000);
  const out: RawMeterValue[] = [];
  let e = spec.startKwh;
  let last = 0;
  let frozenE: number | null = null;
  let frozenP: number | null = null;
  const stepMs = spec.stepS * 1000;
  for (let t = 0; t <= totalMs; t += stepMs) {
    const at = Math.max(last + 1000, t + rng.int(0, spec.jitterS) * 1000);
    e += (kwAt(last) * (at - last)) / H;
    last = at;
    if (rng.chance(spec.lossRate)) continue;
    const ts = new Date(START + at).toISOString();
    // Register as reported.
    let reg = e;
    const drop = inFault('register-drop', at) ?? inFault('register-pit', at);
    if (drop) reg = drop.kind === 'register-pit' && drop.size > 0.5 ? 0 : e - (0.02 + drop.size * 20);
    const jump = inFault('register-jump', at);
    if (jump) reg = e + 0.05 + jump.size * 50;
    if (inFault('register-frozen', at)) reg = frozenE ??= reg;
    else frozenE = null;
    if (spec.resolution > 0) reg = Math.floor(reg / spec.resolution) * spec.resolution;
    // Power as reported.
    let kw = Math.max(0, kwAt(at) + (rng.next() - 0.5) * 2 * spec.noiseKw);
    const scale = inFault('power-scale', at);
    if (scale) kw *= scale.size < 0.5 ? 1000 : 1 / 3;
    if (inFault('power-zero', at)) kw = 0;
    if (inFault('power-frozen', at)) kw = frozenP ??= kw;
    else frozenP = null;
    // SoC as the car reports it (whole points).
    let soc = Math.min(100, spec.socStart + (100 * (e - spec.startKwh)) / spec.batteryKwh);
    const sj = inFault('soc-jump', at);
    if (sj) soc += 4 + sj.size * 40;
    const sd = inFault('soc-drop', at);
    if (sd) soc -= 3 + sd.size * 30;
    const so = inFault('soc-out', at);
    if (so) soc = so.size < 0.5 ? -5 : 105 + so.size * 50;
    if (spec.energy) {
      out.push({ timestamp: ts, measurand: 'Energy.Active.Import.Register', unit: spec.energyUnit, value: spec.energyUnit === 'Wh' ? Math.round(reg * 1000) : Math.round(reg * 1000) / 1000 });
    }
    if (spec.power) out.push({ timestamp: ts, measurand: 'Power.Active.Import', unit: 'kW', value: Math.round(kw * 1000) / 1000 });
    if (spec.soc) out.push({ timestamp: ts, measurand: 'SoC', unit: 'Percent', value: Math.round(soc) });
  }
  if (spec.duplicates) for (let i = 0; i < out.length; i += 7) out.push({ ...out[i] });
  if (spec.shuffle) for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The oracle

/**
 * What the data plainly contradicts in a verdict, one line per anomaly. Generous by design: it
 * misses borderline violations rather than call a legitimate report wrong.
 */
export function violations(values: RawMeterValue[], result: AnalysisResult): string[] {
  if (result.status !== 'active' || result.anomalies.length === 0) return [];
  const n = normalise(values.map((v, seq) => ({ ...v, seq }) as StoredMeterValue));
  const t0 = Date.parse(result.window.t0);
  const cut = (s: Series): Series => {
    const i = s.t.findIndex((t) => t >= t0);
    return i < 0 ? { t: [], v: [] } : { t: s.t.slice(i), v: s.v.slice(i) };
  };
  const E = cut(n.energy);
  const P = cut(n.power);
  const S = cut(n.soc);
  const out: string[] = [];
  for (const a of result.anomalies) {
    const why = contradiction(a, { all: n, E, P, S, t0 });
    if (why) out.push(`${a.category} [${a.bucketRange.startUnit}, ${a.bucketRange.endUnit}]: ${why}`);
  }
  return out;
}

interface Data {
  all: { energy: Series; power: Series; soc: Series };
  E: Series;
  P: Series;
  S: Series;
  t0: number;
}

function contradiction(a: Anomaly, d: Data): string | null {
  const from = d.t0 + a.bucketRange.startUnit * 15_000;
  const to = d.t0 + (a.bucketRange.endUnit + 1) * 15_000;
  const { E, P, S } = d;
  switch (a.category) {
    case 'ZERO_SESSION': {
      // Above its first reading: a pit's way back up is not energy delivered.
      const e = d.all.energy.v;
      const rise = e.length ? Math.max(...e) - e[0] : 0;
      if (rise >= 0.5) return `the register rose ${rise.toFixed(2)} kWh over the session`;
      const p = Math.max(...d.all.power.v, -Infinity);
      if (p > 0.5) return `power read ${p} kW`;
      return null;
    }
    case 'KWH_DECREASE':
    case 'ENERGY_PIT':
      return largestFall(E) > 0.01 ? null : 'the register never fell in the window';
    case 'UNEXPECTED_KWH_ACCUMULATE': {
      if (E.t.length < 2) return 'no energy register';
      const near = slice(E, from - 15 * MIN, to + 15 * MIN);
      return largestRise(near) > 0.01 ? null : 'the register did not rise near the range';
    }
    case 'INCORRECT_ACTIVE_POWER_REGISTER':
      if (E.t.length < 2 || P.t.length < 1) return 'needs both energy and power';
      if (!P.v.some((p) => p > 0.5)) return 'power never said energy flows';
      return largestRise(E) > 0 ? null : 'the register never said energy flows';
    case 'UNEXPECTED_CHARGE_LEVEL_CHANGES':
      return socContradiction(E, S);
    case 'CHARGING_EXPECTED': {
      const charged = (s: Series, p: Series, until: number) => p.v.some((v, i) => v > 0.5 && p.t[i] < until) || fastestRise(slice(s, -Infinity, until)) > 0.5;
      if (!charged(E, P, to)) return 'charging never happened before or during the range';
      const after = (x: number) => x > from + MIN;
      const resumed = P.v.some((v, i) => v > 0.5 && after(P.t[i])) || fastestRise(slice(E, from + MIN, Infinity)) > 0.5;
      if (resumed) return null;
      if (S.t.length === 0) return 'no SoC and charging never resumed';
      if (Math.min(...S.v) >= 70) return 'SoC never below 70 % and charging never resumed';
      return null;
    }
  }
}

/**
 * SoC contradicts the category when it stays in 0–100, never falls more than 2 points below an
 * earlier reading, and every step is within what the delivered energy explains + 3 points for
 * the larger of 15 kWh and twice the battery the whole session shows (ΣΔE over ΣΔSoC while SoC <
 * 100; no bound from energy when SoC never rose), so that no estimate of the contract's own can be
 * more generous.
 */
function socContradiction(E: Series, S: Series): string | null {
  if (S.t.length === 0) return 'no SoC readings';
  if (S.v.some((v) => v < 0 || v > 100)) return null;
  let hi = -Infinity;
  for (const v of S.v) {
    if (v < hi - 2) return null;
    hi = Math.max(hi, v);
  }
  if (E.t.length < 2) return null; // without a register the oracle cannot bound the rises
  const steps: { dS: number; dE: number }[] = [];
  const envelope: Series = { t: E.t, v: [] };
  E.v.forEach((v, i) => envelope.v.push(Math.max(v, i ? envelope.v[i - 1] : v)));
  for (let j = 1; j < S.t.length; j++) {
    const ea = at(E, S.t[j - 1]);
    const eb = at(E, S.t[j]);
    if (ea === undefined || eb === undefined) return null;
    // Inside a register dip what was delivered is anyone's guess: not judged.
    if (ea < at(envelope, S.t[j - 1])! - 0.01 || eb < at(envelope, S.t[j])! - 0.01) return null;
    steps.push({ dS: S.v[j] - S.v[j - 1], dE: Math.max(0, eb - ea) });
  }
  let sumS = 0;
  let sumE = 0;
  steps.forEach((x, j) => {
    if (x.dE > 0 && S.v[j] < 100) {
      sumS += x.dS;
      sumE += x.dE;
    }
  });
  // The contract's own estimate falls back to 15 kWh where the session shows too little.
  const battery = sumS > 0 ? Math.max(15, (2 * 100 * sumE) / sumS) : Infinity;
  if (steps.some((x) => x.dS > (100 * x.dE) / battery + 3)) return null;
  return 'every SoC step is within what the delivered energy explains';
}

function slice(s: Series, a: number, b: number): Series {
  const t: number[] = [];
  const v: number[] = [];
  s.t.forEach((x, i) => {
    if (x >= a && x <= b) {
      t.push(x);
      v.push(s.v[i]);
    }
  });
  return { t, v };
}

/** Largest E[j] − E[i] over i < j. */
function largestRise(s: Series): number {
  let lo = Infinity;
  let best = 0;
  for (const v of s.v) {
    lo = Math.min(lo, v);
    best = Math.max(best, v - lo);
  }
  return best;
}

/** Largest E[i] − E[j] over i < j. */
function largestFall(s: Series): number {
  let hi = -Infinity;
  let best = 0;
  for (const v of s.v) {
    hi = Math.max(hi, v);
    best = Math.max(best, hi - v);
  }
  return best;
}

/** Fastest rise between consecutive readings (kW). */
function fastestRise(s: Series): number {
  let best = 0;
  for (let i = 1; i < s.t.length; i++) if (s.t[i] > s.t[i - 1]) best = Math.max(best, (s.v[i] - s.v[i - 1]) / ((s.t[i] - s.t[i - 1]) / H));
  return best;
}

/** The register at t: a reading within 2 s, else linear between neighbours; undefined outside. */
function at(s: Series, t: number): number | undefined {
  const i = s.t.findIndex((x) => x >= t - 2000);
  if (i < 0) return undefined;
  if (Math.abs(s.t[i] - t) <= 2000) return s.v[i];
  if (i === 0) return undefined;
  return s.v[i - 1] + ((s.v[i] - s.v[i - 1]) * (t - s.t[i - 1])) / (s.t[i] - s.t[i - 1]);
}

// ---------------------------------------------------------------------------------------------
// The property

/** Runs `numRuns` cases through the detector; returns fast-check's report (failed = a violation). */
export async function checkHardEdges(detector: BatchDetector, arbitrary: fc.Arbitrary<Case>, numRuns: number, seed?: number): Promise<fc.RunDetails<[Case]>> {
  return fc.check(
    fc.asyncProperty(arbitrary, async (c) => {
      const [r] = await analyseMany([{ values: c.values.map((v, seq) => ({ ...v, seq })), metadata: c.metadata }], detector);
      if (r instanceof Error) throw r;
      const v = violations(c.values, r);
      if (v.length) throw new Error(v.join('; '));
    }),
    { numRuns, seed, endOnFailure: true },
  );
}
