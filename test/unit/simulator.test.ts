// The charging simulator (models/training/simulator): deterministic, every anomaly category with ground
// truth, look-alikes clean, meter values valid per ocpp-normalisation.md. Pure: no stack needed.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ANOMALY_CATEGORIES, type AnomalyCategory, type RawMeterValue } from '../../domain/analysis/types';
import {
  BEHAVIOURS,
  EV_DATA_PATH,
  FAILURE_CLASSES,
  HOLDOUT,
  LOOKALIKES,
  Rng,
  SLICE_KEYS,
  generateCorpus,
  generateScenario,
  generateSession,
  heldOutParts,
  heldOutVehicleIds,
  loadVehicles,
  scenarioExpectation,
  sessionSlices,
  summariseCorpus,
  truthBuckets,
  truthWindow,
  type FailureClass,
  type SimSession,
} from '../../models/training/simulator';

const ROOT = join(__dirname, '..', '..');
const MIN = 60_000;
const H = 3_600_000;
const MEASURANDS = new Set([
  'Energy.Active.Import.Register',
  'Power.Active.Import',
  'SoC',
  'Voltage',
  'Current.Import',
  'Power.Offered',
  'Temperature',
]);
const UNITS = new Set(['wh', 'kwh', 'w', 'kw', 'percent', 'v', 'a', 'celsius']);
const PHASES = new Set(['L1', 'L2', 'L3', 'L1-N', 'L2-N', 'L3-N']);
const CONTEXTS = new Set(['Transaction.Begin', 'Transaction.End', 'Sample.Periodic', 'Sample.Clock']);
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?(Z|[+-]\d{2}:\d{2})$/;

const ENERGY = 'Energy.Active.Import.Register';

function kwhOf(mv: RawMeterValue): number {
  return mv.value * ((mv.unit ?? 'Wh').toLowerCase() === 'kwh' ? 1 : 1e-3) * 10 ** (mv.multiplier ?? 0);
}

/** The energy register in kWh per instant, as normalisation reads it: units, multipliers, phase sums. */
function energySeries(mvs: RawMeterValue[]): { t: number; v: number }[] {
  const totals = new Map<number, number>();
  const phases = new Map<string, number>();
  for (const mv of mvs) {
    if ((mv.measurand ?? ENERGY) !== ENERGY) continue;
    const t = Date.parse(mv.timestamp);
    if (mv.phase) phases.set(`${t}|${mv.phase}`, kwhOf(mv));
    else totals.set(t, kwhOf(mv));
  }
  let byT = totals;
  if (totals.size === 0) {
    byT = new Map();
    for (const [key, v] of phases) {
      const t = Number(key.split('|')[0]);
      byT.set(t, (byT.get(t) ?? 0) + v);
    }
  }
  return [...byT.entries()].map(([t, v]) => ({ t, v })).sort((a, b) => a.t - b.t);
}

function powerSeries(mvs: RawMeterValue[]): { t: number; v: number }[] {
  const byKey = new Map<string, number>();
  for (const mv of mvs) {
    if (mv.measurand !== 'Power.Active.Import') continue;
    const kw = mv.value * ((mv.unit ?? 'W').toLowerCase() === 'kw' ? 1 : 1e-3) * 10 ** (mv.multiplier ?? 0);
    byKey.set(`${Date.parse(mv.timestamp)}|${mv.phase ?? ''}`, kw);
  }
  const byT = new Map<number, number>();
  for (const [key, v] of byKey) {
    const t = Number(key.split('|')[0]);
    byT.set(t, (byT.get(t) ?? 0) + v);
  }
  return [...byT.entries()].map(([t, v]) => ({ t, v })).sort((a, b) => a.t - b.t);
}

function socSeries(mvs: RawMeterValue[]): { t: number; v: number }[] {
  const byT = new Map<number, number>();
  for (const mv of mvs) if (mv.measurand === 'SoC') byT.set(Date.parse(mv.timestamp), mv.value);
  return [...byT.entries()].map(([t, v]) => ({ t, v })).sort((a, b) => a.t - b.t);
}

/** Value at instant t of a series (exact instant; the simulator sends every measurand at every instant). */
function at(xs: { t: number; v: number }[], t: number): number {
  const x = xs.find((p) => p.t === t);
  assert.ok(x, `no reading at ${new Date(t).toISOString()}`);
  return x.v;
}

function instants(s: SimSession): number[] {
  return [...new Set(s.meterValues.map((mv) => Date.parse(mv.timestamp)))].sort((a, b) => a - b);
}

describe('simulator', function () {
  // One shared corpus: generation is the expensive part on a 2-core machine.
  let corpus: SimSession[];
  before(function () {
    corpus = generateCorpus({ seed: 'unit-test', count: 700, anomalyRate: 0.6 });
  });

  describe('ev data', function () {
    it('loads the project copy in models/training/data, with its licence beside it', function () {
      assert.equal(EV_DATA_PATH, join(ROOT, 'models', 'training', 'data', 'ev-data.json'));
      assert.ok(!EV_DATA_PATH.includes('shared'));
      const licence = readFileSync(join(ROOT, 'models', 'training', 'data', 'ev-data.LICENSE'), 'utf8');
      assert.match(licence, /MIT License/);
      assert.match(licence, /open-ev-data/);
      assert.ok(existsSync(EV_DATA_PATH));
      const vehicles = loadVehicles();
      assert.ok(vehicles.length > 250, `${vehicles.length} vehicles`);
      assert.ok(vehicles.some((v) => v.dc && v.dc.curve.length > 2 && v.batteryKwh > 50));
      assert.ok(vehicles.some((v) => v.acPhases === 1) && vehicles.some((v) => v.acPhases === 3));
    });
  });

  describe('determinism', function () {
    it('gives identical output for the same seed and different output for another', function () {
      const a = generateCorpus({ seed: 99, count: 40 });
      const b = generateCorpus({ seed: 99, count: 40 });
      const c = generateCorpus({ seed: 100, count: 40 });
      assert.deepEqual(a, b);
      assert.notDeepEqual(
        a.map((s) => s.meterValues),
        c.map((s) => s.meterValues),
      );
      assert.deepEqual(generateSession('one', { categories: ['KWH_DECREASE'] }), generateSession('one', { categories: ['KWH_DECREASE'] }));
      assert.deepEqual(generateSession(new Rng(5)), generateSession(new Rng(5)));
      assert.notDeepEqual(generateSession(5).meterValues, generateSession(6).meterValues);
    });

    it('keeps session i independent of the corpus size', function () {
      const small = generateCorpus({ seed: 'prefix', count: 10 });
      const large = generateCorpus({ seed: 'prefix', count: 25 });
      assert.deepEqual(small, large.slice(0, 10));
    });
  });

  describe('ground truth', function () {
    it('has every category of anomaly-categories.md, with consistent ranges', function () {
      const seen = new Set<AnomalyCategory>();
      for (const s of corpus) {
        const cats = [...new Set(s.truth.ranges.map((r) => r.category))];
        assert.deepEqual(
          s.truth.categories,
          ANOMALY_CATEGORIES.filter((c) => cats.includes(c)),
          s.id,
        );
        assert.equal(s.truth.clean, s.truth.ranges.length === 0, s.id);
        if (s.truth.lookalike) assert.ok(s.truth.clean, s.id);
        // ZERO_SESSION excludes CHARGING_EXPECTED.
        assert.ok(!(s.truth.categories.includes('ZERO_SESSION') && s.truth.categories.includes('CHARGING_EXPECTED')), s.id);
        const ts = instants(s);
        const window = truthWindow(s);
        assert.equal(window.tEnd, ts[ts.length - 1]);
        for (const r of s.truth.ranges) {
          seen.add(r.category);
          assert.ok(r.startMs <= r.endMs, `${s.id} ${r.category}`);
          // Every injected anomaly lies in the analysed window (the last 6 hours).
          assert.ok(r.startMs >= window.t0 && r.endMs <= window.tEnd, `${s.id} ${r.category} outside the window`);
          assert.ok(ts.includes(r.startMs), `${s.id} ${r.category} starts at a reading`);
          assert.ok(r.severity >= 0 && r.severity <= 1 && r.variant.length > 0);
        }
        for (const b of truthBuckets(s, window)) {
          assert.ok(b.startUnit >= 0 && b.startUnit <= b.endUnit && b.endUnit < window.bucketCount, `${s.id} ${b.category}`);
        }
      }
      assert.deepEqual([...seen].sort(), [...ANOMALY_CATEGORIES].sort());
    });

    it('injects each category alone and in combinations on request', function () {
      for (const category of ANOMALY_CATEGORIES) {
        for (let k = 0; k < 3; k++) {
          const s = generateSession(`alone-${category}-${k}`, { categories: [category] });
          assert.deepEqual(s.truth.categories, [category], s.id);
        }
      }
      const combo = generateSession('combo', { categories: ['KWH_DECREASE', 'INCORRECT_ACTIVE_POWER_REGISTER', 'UNEXPECTED_CHARGE_LEVEL_CHANGES'] });
      assert.deepEqual(combo.truth.categories, ['KWH_DECREASE', 'INCORRECT_ACTIVE_POWER_REGISTER', 'UNEXPECTED_CHARGE_LEVEL_CHANGES']);
      const zero = generateSession('zero', { categories: ['ZERO_SESSION', 'CHARGING_EXPECTED'] });
      assert.deepEqual(zero.truth.categories, ['ZERO_SESSION']);
      const combos = corpus.filter((s) => s.truth.categories.length >= 2).length;
      assert.ok(combos > 50, `${combos} sessions with several categories`);
    });

    it('spans severities from just past the threshold to blatant', function () {
      for (const category of ANOMALY_CATEGORIES) {
        const sev = corpus.flatMap((s) => s.truth.ranges.filter((r) => r.category === category).map((r) => r.severity));
        assert.ok(Math.min(...sev) < 0.35 && Math.max(...sev) > 0.6, `${category}: ${Math.min(...sev)}…${Math.max(...sev)}`);
      }
    });

    it('follows the rules: KWH_DECREASE stays down > 2 min, ENERGY_PIT recovers, ZERO_SESSION never charges', function () {
      for (const s of corpus) {
        const e = energySeries(s.meterValues);
        for (const r of s.truth.ranges) {
          if (r.category === 'KWH_DECREASE' && !r.variant.startsWith('stop-below-start')) {
            const down = e.filter((p) => p.t >= r.startMs && p.t <= r.endMs + 15_000);
            const before = Math.max(...e.filter((p) => p.t < r.startMs).map((p) => p.v));
            const below = down.filter((p) => p.v < before - 0.01);
            assert.ok(below.length > 0 && below[below.length - 1].t - below[0].t >= 2 * MIN, `${s.id} decrease evidence`);
          }
          if (r.category === 'ENERGY_PIT') {
            const before = Math.max(...e.filter((p) => p.t < r.startMs).map((p) => p.v));
            const back = e.find((p) => p.t > r.startMs && p.v >= before - 1e-6);
            assert.ok(back, `${s.id} pit recovers to the previous maximum`);
            const inPit = e.filter((p) => p.t >= r.startMs && p.t < back.t);
            assert.ok(inPit.length >= 1 && inPit.every((p) => p.v < before - 0.01), `${s.id} pit below the maximum`);
            // Back within 2 minutes, unless the readings are too sparse to show more than one in the pit.
            assert.ok(inPit.length === 1 || back.t - r.startMs <= 2 * MIN, `${s.id} pit lasts ${back.t - r.startMs} ms`);
          }
        }
        if (s.truth.categories.includes('ZERO_SESSION')) {
          assert.ok(s.profile.deliveredKwh === 0, s.id);
          for (const p of powerSeries(s.meterValues)) assert.ok(p.v <= 0.5, `${s.id} power ${p.v}`);
          const ts = instants(s);
          assert.ok(ts[ts.length - 1] - ts[0] >= 2 * MIN, s.id);
        }
      }
    });
  });

  describe('look-alikes', function () {
    it('are clean and show the pattern they are built around', function () {
      for (const lookalike of LOOKALIKES) {
        for (let k = 0; k < 3; k++) {
          const s = generateSession(`look-${lookalike}-${k}`, { lookalike });
          assert.equal(s.truth.clean, true, `${lookalike}: ${s.truth.categories}`);
          assert.deepEqual(s.truth.categories, []);
          assert.equal(s.truth.lookalike, lookalike);
          const ts = instants(s);
          const q = s.profile.quirks;
          const mvs = s.meterValues;
          switch (lookalike) {
            case 'smart-charging-idle': {
              // Idle (no power, register flat) for the first 10 minutes, charging later.
              const early = (x: { t: number }) => x.t <= ts[0] + 10 * MIN;
              assert.ok(powerSeries(mvs).filter(early).every((x) => x.v <= 0.5), lookalike);
              const e = energySeries(mvs);
              assert.ok(e.filter(early).every((x) => x.v - e[0].v < 0.01), lookalike);
              assert.ok(s.profile.deliveredKwh > 0.2 && q.includes('smart-charging-idle'));
              break;
            }
            case 'tapered-finish-idle':
              assert.ok(q.includes('idle-after-full'), lookalike);
              break;
            case 'load-management-steps':
              assert.ok(q.includes('load-steps') || q.includes('shared-cabinet'), lookalike);
              break;
            case 'shared-dc-cabinet':
              assert.equal(s.metadata.sharedCabinet, true);
              assert.ok(q.includes('shared-cabinet'));
              break;
            case 'one-phase-on-three-phase':
              assert.equal(s.metadata.stationPhases, 3);
              assert.equal(s.profile.phasesUsed, 1);
              break;
            case 'sparse-readings': {
              const gaps = ts.slice(1).map((t, i) => t - ts[i]);
              gaps.sort((a, b) => a - b);
              const median = gaps[gaps.length >> 1];
              assert.ok(median >= MIN - 20_000 && gaps[gaps.length - 1] <= 15 * MIN, `${lookalike} median gap ${median}`);
              break;
            }
            case 'duplicates': {
              const keys = mvs.map((mv) => JSON.stringify(mv));
              assert.ok(new Set(keys).size < keys.length, lookalike);
              break;
            }
            case 'out-of-order': {
              const arrival = mvs.map((mv) => Date.parse(mv.timestamp));
              assert.ok(arrival.some((t, i) => i > 0 && t < arrival[i - 1]), lookalike);
              break;
            }
            case 'wh-register':
              assert.ok(mvs.some((mv) => (mv.measurand ?? ENERGY) === ENERGY && (mv.unit ?? 'Wh') === 'Wh'));
              break;
            case 'per-phase-only':
              assert.ok(mvs.filter((mv) => (mv.measurand ?? ENERGY) === ENERGY || mv.measurand === 'Power.Active.Import').every((mv) => mv.phase));
              break;
            case 'utc-offset':
              assert.ok(mvs.some((mv) => /[+-]\d{2}:\d{2}$/.test(mv.timestamp) && !mv.timestamp.endsWith('+00:00')));
              break;
            case 'lifetime-register':
              assert.ok(energySeries(mvs)[0].v >= 1000);
              break;
            case 'ocpp201-multiplier':
              assert.equal(s.metadata.ocppVersion, '2.0.1');
              assert.ok(mvs.some((mv) => typeof mv.multiplier === 'number'));
              break;
            case 'brief-pause':
              assert.ok(q.includes('brief-pause'));
              break;
            case 'long-session':
              assert.ok(ts[ts.length - 1] - ts[0] > 6 * H);
              break;
            case 'stop-at-limit':
              assert.ok(s.profile.behaviours.includes('stop-at-limit') && q.includes('idle-after-full'), lookalike);
              break;
            case 'overnight-idle':
              assert.ok(s.profile.behaviours.includes('overnight') && truthWindow(s).truncated, lookalike);
              break;
            case 'wake-draw':
              assert.ok(s.profile.behaviours.includes('wake-draw'), lookalike);
              break;
          }
        }
      }
    });

    it('appear in a corpus, as do the non-anomalous OCPP quirks', function () {
      const summary = summariseCorpus(corpus);
      for (const l of LOOKALIKES) assert.ok((summary.lookalikes[l] ?? 0) > 0, l);
      const quirks = new Set(corpus.flatMap((s) => s.profile.quirks));
      for (const q of ['per-phase-only', 'wh-register', 'duplicates', 'out-of-order', 'utc-offset', 'lifetime-register', 'ocpp201-multiplier', 'long-session']) {
        assert.ok(quirks.has(q), q);
      }
      assert.ok(corpus.some((s) => s.profile.intervalMs <= 15_000) && corpus.some((s) => s.profile.intervalMs >= 880_000));
      assert.ok(corpus.some((s) => s.profile.current === 'DC' && s.profile.stationKw >= 300));
      assert.ok(corpus.some((s) => s.profile.current === 'AC' && s.profile.stationKw <= 3.7));
      assert.ok(corpus.some((s) => s.profile.endMs - s.profile.startMs < 15 * MIN) && corpus.some((s) => s.profile.endMs - s.profile.startMs > 10 * H));
    });
  });

  describe('meter values', function () {
    it('are valid per the spec: finite, 0 … 1e10, OCPP vocabulary, timestamps with an offset after 2000', function () {
      const latest = Date.now() + 24 * H;
      for (const s of corpus) {
        assert.ok(s.meterValues.length >= 3, s.id);
        for (const mv of s.meterValues) {
          assert.ok(Number.isFinite(mv.value) && mv.value >= 0 && mv.value <= 1e10, `${s.id} value ${mv.value}`);
          assert.match(mv.timestamp, ISO_WITH_OFFSET);
          const t = Date.parse(mv.timestamp);
          assert.ok(t >= Date.UTC(2000, 0, 1) && t <= latest, `${s.id} ${mv.timestamp}`);
          if (mv.measurand !== undefined) assert.ok(MEASURANDS.has(mv.measurand as string), String(mv.measurand));
          if (mv.unit !== undefined) assert.ok(UNITS.has(String(mv.unit).toLowerCase()), String(mv.unit));
          if (mv.phase !== undefined) assert.ok(PHASES.has(mv.phase as string), String(mv.phase));
          if (mv.context !== undefined) assert.ok(CONTEXTS.has(mv.context as string), String(mv.context));
          if (mv.multiplier !== undefined) assert.ok(Number.isInteger(mv.multiplier) && Math.abs(mv.multiplier as number) <= 9);
        }
      }
    });

    it('keep the energy register monotone in clean sessions, after unit conversion and phase sums', function () {
      let checked = 0;
      for (const s of corpus) {
        if (!s.truth.clean || !s.profile.measurands.includes('energy')) continue;
        const e = energySeries(s.meterValues);
        for (let i = 1; i < e.length; i++) assert.ok(e[i].v >= e[i - 1].v - 1e-9, `${s.id} at ${new Date(e[i].t).toISOString()}: ${e[i - 1].v} → ${e[i].v}`);
        checked++;
      }
      assert.ok(checked > 150, `${checked} clean sessions checked`);
    });

    it('keep power and the register in agreement in clean sessions (no power anomaly in disguise)', function () {
      for (const s of corpus) {
        if (!s.truth.clean || !s.profile.measurands.includes('energy') || !s.profile.measurands.includes('power')) continue;
        const e = energySeries(s.meterValues);
        const p = new Map(powerSeries(s.meterValues).map((x) => [x.t, x.v]));
        const res = s.profile.registerResolutionKwh;
        let run = 0;
        let runStart = 0;
        for (let i = 0; i + 1 < e.length; i++) {
          const dtH = (e[i + 1].t - e[i].t) / H;
          const slope = (e[i + 1].v - e[i].v) / dtH;
          const pa = p.get(e[i].t) ?? 0;
          const pb = p.get(e[i + 1].t) ?? 0;
          const mean = (pa + pb) / 2;
          // Power may step anywhere between two samples: a slope between them is explained.
          const nearest = Math.min(Math.max(slope, Math.min(pa, pb)), Math.max(pa, pb));
          const tol = (x: number) => Math.max(1, 0.25 * Math.max(x, slope)) + (2 * res) / dtH;
          const disagree = mean > 0.5 && slope > 0.5 && Math.abs(mean - slope) > tol(mean) && Math.abs(nearest - slope) > tol(nearest);
          if (disagree) {
            if (run === 0) runStart = e[i].t;
            run++;
            assert.ok(!(run >= 2 && e[i + 1].t - runStart >= 2 * MIN), `${s.id}: power and register disagree from ${new Date(runStart).toISOString()}`);
          } else run = 0;
        }
      }
    });
  });

  describe('corpus', function () {
    it('summarises counts per category, look-alike and mix', function () {
      const summary = summariseCorpus(corpus);
      assert.equal(summary.sessions, corpus.length);
      assert.equal(summary.clean + summary.anomalous, corpus.length);
      assert.equal(summary.meterValues, corpus.reduce((n, s) => n + s.meterValues.length, 0));
      for (const c of ANOMALY_CATEGORIES) {
        assert.equal(summary.perCategory[c].sessions, corpus.filter((s) => s.truth.categories.includes(c)).length);
        assert.ok(summary.perCategory[c].sessions >= 20, `${c}: ${summary.perCategory[c].sessions}`);
      }
      // Roughly the requested share of anomalous sessions.
      assert.ok(Math.abs(summary.anomalous / corpus.length - 0.6) < 0.08, `${summary.anomalous} anomalous`);
      const table = ANOMALY_CATEGORIES.map((c) => `  ${c.padEnd(34)} ${String(summary.perCategory[c].sessions).padStart(4)} sessions ${String(summary.perCategory[c].ranges).padStart(4)} ranges`);
      console.log(
        [
          `    corpus: ${summary.sessions} sessions (${summary.clean} clean, ${summary.anomalous} anomalous), ${summary.meterValues} meter values,`,
          `    readings/session min ${summary.readingsPerSession.min} median ${summary.readingsPerSession.median} max ${summary.readingsPerSession.max}, ${summary.longerThanWindow} longer than 6 h`,
          ...table.map((l) => `  ${l}`),
          `    by category count: ${JSON.stringify(summary.byCategoryCount)}`,
          `    current: ${JSON.stringify(summary.current)}; measurands: ${JSON.stringify(summary.measurands)}`,
        ].join('\n'),
      );
    });

    it('generates quickly', function () {
      const t0 = process.hrtime.bigint();
      const sessions = generateCorpus({ seed: 'speed', count: 1000 });
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const readings = sessions.reduce((n, s) => n + s.meterValues.length, 0);
      console.log(`    speed: ${Math.round(1000 / seconds)} sessions/s, ${Math.round(readings / seconds)} meter values/s`);
      assert.ok(seconds < 20, `${seconds}s for 1000 sessions`);
    });
  });

  describe('fleet and revised contract (issue 14)', function () {
    it('draws the whole fleet: plug-in hybrids with SoC, motorbikes, every behaviour family', function () {
      const vehicles = loadVehicles();
      assert.ok(vehicles.some((v) => v.drive === 'phev' && v.batteryKwh < 12));
      assert.ok(corpus.some((s) => s.profile.drive === 'phev' && s.profile.measurands.includes('soc')), 'a PHEV sending SoC');
      assert.ok(corpus.some((s) => s.profile.drive === 'phev' && s.profile.batteryKwh < 12 && s.profile.measurands.includes('soc')));
      assert.ok(corpus.some((s) => s.vehicle && loadVehicles().find((v) => v.id === s.profile.vehicleId)?.kind === 'motorbike'));
      for (const b of BEHAVIOURS) assert.ok(corpus.some((s) => s.profile.behaviours.includes(b)), b);
      for (const s of corpus) assert.deepEqual(s.profile.behaviours, BEHAVIOURS.filter((b) => s.profile.behaviours.includes(b)), s.id);
      assert.ok(corpus.some((s) => s.profile.intervalMs <= 10_000), 'readings every 10 s');
      // Smart-charging delays up to 4 h.
      const delays = corpus.filter((s) => s.profile.behaviours.includes('smart-delay')).map((s) => {
        const p = powerSeries(s.meterValues);
        const e = energySeries(s.meterValues);
        const first = p.length ? p.find((x) => x.v > 0.5)?.t : e.find((x, i) => i > 0 && x.v - e[0].v > 0.01)?.t;
        return ((first ?? s.profile.startMs) - s.profile.startMs) / H;
      });
      assert.ok(delays.length > 10 && Math.max(...delays) > 1.5 && Math.max(...delays) <= 4.5, `delays ${Math.max(...delays)} h`);
    });

    it('judges ZERO_SESSION over all readings: never charging, also beyond 6 h, reported over the whole window', function () {
      let long = 0;
      for (const s of corpus) {
        const zero = s.truth.ranges.find((r) => r.category === 'ZERO_SESSION');
        if (!zero) continue;
        const w = truthWindow(s);
        assert.equal(zero.startMs, w.t0, s.id);
        assert.equal(zero.endMs, w.tEnd, s.id);
        if (w.truncated) long++;
        const e = energySeries(s.meterValues);
        if (e.length) assert.ok(e[e.length - 1].v - e[0].v < 0.1, s.id);
      }
      assert.ok(long > 0, 'a never-charging session longer than 6 h');
      // Charged, then idle for more than 6 h: clean, not a zero session.
      const overnight = corpus.filter((s) => s.profile.behaviours.includes('overnight'));
      assert.ok(overnight.length > 5);
      for (const s of overnight) assert.ok(!s.truth.categories.includes('ZERO_SESSION') && s.profile.deliveredKwh > 0.2, s.id);
    });

    it('labels CHARGING_EXPECTED only with evidence: a resumption, or SoC below 70 % at the stop', function () {
      let stalls = 0;
      let lowSoc = 0;
      for (const s of corpus) {
        for (const r of s.truth.ranges.filter((x) => x.category === 'CHARGING_EXPECTED')) {
          const hasSoc = s.profile.measurands.includes('soc');
          if (!hasSoc) assert.match(r.variant, /^stall/, `${s.id}: without SoC only a resumption is evidence`);
          if (r.variant.startsWith('stopped-early')) {
            lowSoc++;
            const soc = socSeries(s.meterValues);
            assert.ok(at(soc, r.startMs) < 70, `${s.id}: SoC ${at(soc, r.startMs)} at the stop`);
          } else {
            stalls++;
            // Charging resumes after the idle stretch: the register climbs ≥ 1 kWh or power returns.
            const e = energySeries(s.meterValues);
            const p = powerSeries(s.meterValues);
            // Plausible increments only (a later pit's recovery or a reset is no charging).
            let rose = 0;
            for (let i = 1; i < e.length; i++) {
              const d = e[i].v - e[i - 1].v;
              if (e[i - 1].t >= r.endMs && d > 0 && d <= (1.5 * s.metadata.maxPowerKw * (e[i].t - e[i - 1].t)) / H) rose += d;
            }
            // Charging level: power, else the register's slope to the next reading.
            const level = p.length
              ? p
              : e.slice(0, -1).map((x, i) => ({ t: x.t, v: (e[i + 1].v - x.v) / ((e[i + 1].t - x.t) / H) }));
            const plausible = level.filter((x) => x.v <= 1.5 * s.metadata.maxPowerKw);
            const back = Math.max(0, ...plausible.filter((x) => x.t > r.endMs).map((x) => x.v));
            const peak = Math.max(0, ...plausible.filter((x) => x.t < r.startMs).map((x) => x.v));
            assert.ok(rose >= 1 || (peak > 0 && back >= 0.3 * peak), `${s.id}: no resumption (${rose} kWh, ${back}/${peak} kW)`);
          }
        }
      }
      assert.ok(stalls > 10 && lowSoc > 5, `${stalls} stalls, ${lowSoc} stops at low SoC`);
      // An AC car stopping flat at its limit and staying plugged in is clean, with or without SoC.
      const atLimit = corpus.filter((s) => s.profile.behaviours.includes('stop-at-limit') && s.truth.clean);
      assert.ok(atLimit.some((s) => s.profile.measurands.includes('soc')) && atLimit.some((s) => !s.profile.measurands.includes('soc')));
    });

    it('keeps clean SoC rises within the bound for the battery the session shows', function () {
      let checked = 0;
      for (const s of corpus) {
        if (!s.truth.clean || !s.profile.measurands.includes('soc') || !s.profile.measurands.includes('energy')) continue;
        const soc = socSeries(s.meterValues);
        const e = energySeries(s.meterValues);
        // The car's own usable battery (the session shows at least that, the charging losses added).
        const c = Math.max(5, s.profile.batteryKwh);
        for (let i = 1; i < soc.length; i++) {
          const de = at(e, soc[i].t) - at(e, soc[i - 1].t);
          assert.ok(soc[i].v - soc[i - 1].v <= (100 * de) / c + 3 + 1e-9, `${s.id}: +${soc[i].v - soc[i - 1].v} points for ${de} kWh`);
          assert.ok(soc[i].v >= soc[i - 1].v, `${s.id}: clean SoC falls`);
        }
        checked++;
      }
      assert.ok(checked > 40, `${checked} sessions`);
    });

    it('produces the persistent 8–12 point SoC drop on AC while energy flows', function () {
      const drops = corpus.flatMap((s) =>
        s.profile.current === 'AC' ? s.truth.ranges.filter((r) => r.variant === 'drop/persist' && r.severity * 50 >= 7.9 && r.severity * 50 <= 12.1) : [],
      );
      assert.ok(drops.length >= 2, `${drops.length} persistent AC drops`);
    });
  });

  describe('failure-class scenarios', function () {
    const sessions = new Map<FailureClass, SimSession[]>();
    before(function () {
      for (const name of FAILURE_CLASSES) sessions.set(name, [1, 2].map((k) => generateScenario(name, k)));
    });

    it('are deterministic per (name, seed) and carry the expected truth', function () {
      assert.deepEqual(generateScenario('phev-soc-every-5-min', 7), generateScenario('phev-soc-every-5-min', 7));
      assert.notDeepEqual(generateScenario('phev-soc-every-5-min', 7).meterValues, generateScenario('phev-soc-every-5-min', 8).meterValues);
      for (const name of FAILURE_CLASSES) {
        for (const s of sessions.get(name)!) {
          assert.deepEqual(s.truth.categories, scenarioExpectation(name), `${name}: ${s.truth.categories}`);
          assert.equal(s.truth.clean, scenarioExpectation(name).length === 0);
          assert.ok(s.meterValues.length >= 3);
        }
      }
    });

    it('show the pattern they are named after', function () {
      const get = (n: FailureClass) => sessions.get(n)!;
      for (const s of [...get('smart-delay-ac-soc-no-power'), ...get('smart-delay-dc-wh-register')]) {
        const e = energySeries(s.meterValues);
        assert.ok(e.filter((x) => x.t <= s.profile.startMs + 80 * MIN).every((x) => x.v - e[0].v < 0.01), `${s.id}: 85 min idle first`);
        const rise = e[e.length - 1].v - e[0].v;
        if (s.profile.current === 'AC') {
          assert.deepEqual(s.profile.measurands, ['energy', 'soc']);
          assert.ok(rise > 2.4 && rise < 3.7, `${s.id}: +${rise} kWh`);
        } else {
          assert.ok(s.meterValues.some((mv) => (mv.measurand ?? ENERGY) === ENERGY && mv.unit === 'Wh'));
          assert.ok(rise > 14.8 && rise < 17.2, `${s.id}: +${rise} kWh`);
        }
      }
      for (const name of ['phev-soc-every-5-min', 'phev-soc-every-15-min'] as const) {
        for (const s of get(name)) {
          assert.equal(s.profile.drive, 'phev');
          assert.ok(s.profile.batteryKwh >= 7 && s.profile.batteryKwh <= 17.5);
          assert.equal(sessionSlices(s).interval, name === 'phev-soc-every-5-min' ? '1–5 min' : '5–15 min');
          const soc = socSeries(s.meterValues);
          assert.ok(soc.some((x, i) => i > 0 && x.v - soc[i - 1].v >= 3), `${s.id}: fast SoC steps`);
        }
      }
      for (const s of get('ac-stop-at-limit-no-soc')) {
        assert.ok(!s.profile.measurands.includes('soc'));
        const p = powerSeries(s.meterValues);
        const last = p.reduce((k, x, i) => (x.v > 0.5 ? i : k), -1);
        const peak = Math.max(...p.map((x) => x.v));
        assert.ok(peak >= 7.5 && p[last].v >= 0.8 * peak && p[last + 1].v <= 0.5, `${s.id}: flat to 0`);
        assert.ok(p[p.length - 1].t - p[last].t >= 30 * MIN);
      }
      for (const s of get('overnight-idle-after-charge')) {
        const w = truthWindow(s);
        assert.ok(w.truncated);
        assert.ok(powerSeries(s.meterValues).every((x) => x.t < w.t0 || x.v <= 0.5));
        const e = energySeries(s.meterValues).filter((x) => x.t >= w.t0);
        if (e.length) assert.ok(e[e.length - 1].v - e[0].v < 0.01);
      }
      for (const s of get('wake-draw-after-stop')) {
        const p = powerSeries(s.meterValues);
        const peak = Math.max(...p.map((x) => x.v));
        const wake = p.filter((x) => x.v > 0.5 && x.v < 0.3 * peak);
        assert.ok(wake.length >= 1, `${s.id}: a low draw`);
        const e = energySeries(s.meterValues);
        assert.ok(e[e.length - 1].v - at(e, wake[0].t) < 1, `${s.id}: under 1 kWh`);
      }
      for (const s of get('stop-then-resume-no-soc')) {
        const r = s.truth.ranges[0];
        assert.ok(r.endMs - r.startMs >= 20 * MIN && !s.profile.measurands.includes('soc'));
      }
      for (const s of get('stop-at-low-soc')) assert.ok(at(socSeries(s.meterValues), s.truth.ranges[0].startMs) < 65);
      for (const s of get('ac-persistent-soc-drop')) {
        assert.equal(s.profile.current, 'AC');
        const r = s.truth.ranges[0];
        const soc = socSeries(s.meterValues);
        const fall = at(soc, r.startMs) - at(soc, r.endMs);
        assert.ok(fall >= 7 && fall <= 13, `${s.id}: falls ${fall}`);
        const e = energySeries(s.meterValues);
        assert.ok(at(e, r.endMs) > at(e, r.startMs), 'energy flows');
        assert.ok(soc[soc.length - 1].v < Math.max(...soc.map((x) => x.v)) - 5 || soc[soc.length - 1].v < 100, 'stays down');
      }
      for (const s of get('never-charged-8h')) {
        assert.ok(s.profile.endMs - s.profile.startMs > 7 * H && truthWindow(s).truncated);
        assert.equal(s.truth.ranges[0].startMs, truthWindow(s).t0);
      }
    });
  });

  describe('slices and hold-outs', function () {
    it('slices every session along the evaluation keys', function () {
      const allowed: Record<string, string[]> = {
        current: ['AC', 'DC'],
        soc: ['SoC', 'no SoC'],
        power: ['power', 'no power'],
        interval: ['≤ 1 min', '1–5 min', '5–15 min'],
        drive: ['BEV', 'PHEV'],
        register: ['Wh', '0.1 kWh', 'kWh fine', 'none'],
      };
      const seen: Record<string, Set<string>> = {};
      for (const s of corpus) {
        const sl = sessionSlices(s);
        assert.deepEqual(Object.keys(sl), [...SLICE_KEYS]);
        for (const k of SLICE_KEYS) {
          assert.ok(allowed[k].includes(sl[k]), `${k}=${sl[k]}`);
          (seen[k] ??= new Set()).add(sl[k]);
        }
      }
      for (const k of SLICE_KEYS) assert.ok(seen[k].size >= allowed[k].length - (k === 'register' ? 1 : 0), `${k}: ${[...seen[k]]}`);
    });

    it('holds out a stable ~12 % of the vehicles, BEVs and PHEVs both', function () {
      const vehicles = loadVehicles();
      const held = heldOutVehicleIds(vehicles);
      assert.deepEqual([...held].sort(), [...heldOutVehicleIds([...vehicles])].sort());
      const share = held.size / vehicles.length;
      assert.ok(share > 0.08 && share < 0.16, `${share}`);
      assert.ok(vehicles.some((v) => held.has(v.id) && v.drive === 'phev') && vehicles.some((v) => held.has(v.id) && v.drive === 'bev'));
    });

    it('keeps held-out parts out of an excluding corpus, and each held-out corpus inside its part', function () {
      const ex = generateCorpus({ seed: 'holdout-test', count: 150, holdout: 'exclude' });
      for (const s of ex) assert.deepEqual(heldOutParts(s), [], s.id);
      assert.ok(ex.some((s) => !s.truth.clean) && ex.some((s) => s.truth.clean));
      for (const part of ['vehicles', 'sampling', 'behaviour'] as const) {
        const c = generateCorpus({ seed: 'holdout-test', count: 50, holdout: part });
        for (const s of c) assert.deepEqual(heldOutParts(s), [part], `${part}: ${s.id} ${heldOutParts(s)}`);
        assert.ok(c.filter((s) => !s.truth.clean).length >= 10, part);
        if (part === 'sampling') for (const s of c) assert.ok(s.profile.intervalMs >= HOLDOUT.samplingMs[0] && s.profile.intervalMs <= HOLDOUT.samplingMs[1]);
        assert.deepEqual(c.slice(0, 10), generateCorpus({ seed: 'holdout-test', count: 10, holdout: part }), `${part}: deterministic per (seed, i)`);
      }
    });
  });
});
