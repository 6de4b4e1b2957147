import assert from 'node:assert/strict';
import { analyse, analyseMany } from '../../domain/analysis/analyse';
import type { AnalysisResult, Anomaly, BatchDetector, Detector, DetectorInput, RawMeterValue } from '../../domain/analysis/types';
import { categoryFixtures, cleanFixtures, fixtures, pendingFixtures, simulate, START, stored, toMeterValues } from '../fixtures/sessions';

type Active = Extract<AnalysisResult, { status: 'active' }>;
type Pending = Extract<AnalysisResult, { status: 'pending' }>;

function active(r: AnalysisResult): Active {
  assert.equal(r.status, 'active', r.status === 'pending' ? r.message : '');
  return r as Active;
}
function pending(r: AnalysisResult): Pending {
  assert.equal(r.status, 'pending');
  return r as Pending;
}

const energy = (timestamp: string, value: number): RawMeterValue => ({ timestamp, measurand: 'Energy.Active.Import.Register', unit: 'kWh', value });

/** 11 kW with the register at 0 for sample `pit` and, from sample `from` on, 2 kWh lower. */
const dipped = (count: number, pit: number, from = Infinity) =>
  simulate({ count, power: () => 11 }).map((x, i) => (i === pit ? { ...x, energyKwh: 0 } : i >= from ? { ...x, energyKwh: x.energyKwh! - 2 } : x));

/** A detector that returns whatever a test hands it. */
const fake = (anomalies: Anomaly[]): Detector => ({ name: 'fake', version: '0', detect: () => anomalies });
const anomaly = (category: Anomaly['category'], score: number, confidence: number, startUnit = 0, endUnit = 0): Anomaly => ({
  category,
  score,
  confidence,
  bucketRange: { startUnit, endUnit },
  timeRange: { startTimestamp: 'x', endTimestamp: 'y' },
});

describe('analyse', () => {
  describe('pending', () => {
    it('waits for 3 usable readings and says why', () => {
      for (const f of pendingFixtures) {
        const r = pending(analyse(stored(f.values)));
        assert.ok(r.readingCount < 3, f.name);
        assert.match(r.message, /3/);
        assert.match(r.message, /usable meter value/);
      }
    });

    it('counts readings after duplicates and phases are merged, not as sent', () => {
      const threePhases = ['L1', 'L2', 'L3'].flatMap((phase) => [0, 15].map((s) => ({ ...energy(new Date(Date.parse(START) + s * 1000).toISOString(), 4), phase })));
      const r = pending(analyse(stored(threePhases)));
      assert.equal(r.readingCount, 2);
    });

    it('ignores measurands the analysis does not use', () => {
      const voltages = [0, 15, 30, 45].map((s) => ({ timestamp: new Date(Date.parse(START) + s * 1000).toISOString(), measurand: 'Voltage', unit: 'V', value: 230 }));
      const r = pending(analyse(stored(voltages)));
      assert.equal(r.readingCount, 0);
      assert.equal(r.quality.ignored, 4);
    });

    it('stays pending with SoC only: no energy or power to analyse', () => {
      const socs = [0, 15, 30].map((s) => ({ timestamp: new Date(Date.parse(START) + s * 1000).toISOString(), measurand: 'SoC', unit: 'Percent', value: 50 + s / 15 }));
      const r = pending(analyse(stored(socs)));
      assert.equal(r.readingCount, 3);
      assert.match(r.message, /energy or power/);
    });
  });

  describe('active', () => {
    it('analyses the reference example (three energy readings, 15 min apart)', () => {
      const r = active(analyse(stored([energy('2026-02-27T10:00:00Z', 0), energy('2026-02-27T10:15:00Z', 5.5), energy('2026-02-27T10:30:00Z', 11.1)])));
      assert.equal(r.readingCount, 3);
      assert.equal(r.isAnomaly, false);
      assert.equal(r.anomalyScore, 0);
      assert.deepEqual(r.window, { t0: '2026-02-27T10:00:00Z', tEnd: '2026-02-27T10:30:00Z', bucketCount: 121, truncated: false });
      assert.equal(r.detector, 'physics@1');
      assert.equal(r.message, null);
      assert.ok(r.anomalyConfidence > 0 && r.anomalyConfidence < 0.8, 'sparse, energy only: a modest "normal"');
    });

    it('gives each category fixture its category and range, and every clean one a normal verdict', () => {
      for (const f of categoryFixtures) {
        const r = active(analyse(stored(f.values), { metadata: f.metadata }));
        assert.equal(r.isAnomaly, true, f.name);
        assert.deepEqual(
          r.anomalies.map((a) => [a.category, a.bucketRange]),
          [[f.expect.category, f.expect.bucketRange]],
          f.name,
        );
        assert.equal(r.anomalyScore, r.anomalies[0].score, f.name);
      }
      for (const f of cleanFixtures) {
        const r = active(analyse(stored(f.values), { metadata: f.metadata }));
        assert.equal(r.isAnomaly, false, f.name);
        assert.deepEqual(r.anomalies, [], f.name);
        assert.equal(r.window.truncated, f.expect.truncated === true, f.name);
      }
    });

    it('is more confident of a normal verdict with dense energy, power and SoC than with sparse energy alone', () => {
      const dense = active(analyse(stored(cleanFixtures.find((f) => f.name === 'load-managed-steps')!.values)));
      const sparse = active(
        analyse(stored(toMeterValues(simulate({ count: 13, stepS: 900, power: () => 7.4 }).map((x) => ({ ...x, powerKw: undefined }))))),
      );
      assert.ok(dense.anomalyConfidence > sparse.anomalyConfidence + 0.1, `${dense.anomalyConfidence} vs ${sparse.anomalyConfidence}`);
    });

    it('gives the +10:00 session and the shuffled, duplicated session the plain session verdict', () => {
      const plain = active(analyse(stored(toMeterValues(simulate({ count: 121, power: () => 11, soc: { start: 30, capacityKwh: 60 } })))));
      for (const name of ['offset-plus-10', 'duplicates-out-of-order']) {
        const r = active(analyse(stored(cleanFixtures.find((f) => f.name === name)!.values)));
        assert.deepEqual(r.window, plain.window, name);
        assert.equal(r.anomalyConfidence, plain.anomalyConfidence, name);
      }
    });

    it('says when only the last 6 hours were analysed', () => {
      const r = active(analyse(stored(cleanFixtures.find((f) => f.name === 'longer-than-6h')!.values)));
      assert.equal(r.window.truncated, true);
      assert.equal(r.window.bucketCount, 1440);
      assert.equal(r.window.t0, '2026-02-27T12:00:00Z');
      assert.match(r.message!, /6 hours/);
    });
  });

  describe('combining anomalies', () => {
    // The register drops to 0 at sample 10 (a pit) and by 2 kWh from sample 30 on (a decrease): the
    // data shows what the fake detectors report, so the hard edges keep it.
    const values = stored(toMeterValues(dipped(41, 10, 30)));

    it('combines scores as 1 − Π(1 − s), never below the largest', () => {
      const r = active(analyse(values, { detector: fake([anomaly('ENERGY_PIT', 0.5, 0.6, 10, 10), anomaly('KWH_DECREASE', 0.4, 0.5, 30, 40)]) }));
      assert.equal(r.isAnomaly, true);
      assert.equal(r.anomalyScore, 0.7);
      assert.equal(r.anomalyConfidence, 0.8);
      assert.equal(r.detector, 'fake@0');
    });

    it('keeps whatever a detector returns inside the contract', () => {
      const r = active(analyse(values, { detector: fake([anomaly('ENERGY_PIT', 1.7, -0.2, -5, 9999), anomaly('KWH_DECREASE', Number.NaN, 0.9, 31, 30)]) }));
      const [pit, decrease] = r.anomalies;
      assert.deepEqual(pit.bucketRange, { startUnit: 0, endUnit: 40 });
      assert.deepEqual(pit.timeRange, { startTimestamp: '2026-02-27T10:00:00Z', endTimestamp: '2026-02-27T10:10:15Z' });
      assert.equal(pit.score, 1);
      assert.equal(pit.confidence, 0);
      assert.deepEqual(decrease.bucketRange, { startUnit: 31, endUnit: 31 });
      assert.equal(decrease.score, 0);
    });

    it('drops what the data contradicts, whatever reported it (the hard edges)', () => {
      const charged = stored(toMeterValues(simulate({ count: 41, power: () => 11 })));
      const r = active(analyse(charged, { detector: fake([anomaly('ZERO_SESSION', 0.9, 0.99, 0, 40), anomaly('KWH_DECREASE', 0.5, 0.9, 10, 20)]) }));
      assert.equal(r.isAnomaly, false);
      assert.deepEqual(r.anomalies, []);
    });

    it('drops CHARGING_EXPECTED beside ZERO_SESSION', () => {
      const idle = stored(toMeterValues(simulate({ count: 41, power: () => 0 })));
      const r = active(analyse(idle, { detector: fake([anomaly('ZERO_SESSION', 0.8, 0.9, 0, 40), anomaly('CHARGING_EXPECTED', 0.6, 0.7, 10, 40)]) }));
      assert.deepEqual(
        r.anomalies.map((a) => a.category),
        ['ZERO_SESSION'],
      );
    });

    it('passes the session metadata to the detector', () => {
      let seen: unknown;
      const spy: Detector = { name: 'spy', version: '1', detect: (input) => ((seen = input.metadata), []) };
      analyse(values, { detector: spy, metadata: { maxPowerKw: 22 } });
      assert.deepEqual(seen, { maxPowerKw: 22 });
    });
  });

  describe('several sessions at once', () => {
    const ok = stored(toMeterValues(dipped(41, 3)));
    const poison = stored(toMeterValues(dipped(42, 3)));
    /** Scores a group in one call, and fails any call that contains the 42-reading session. */
    const calls: number[] = [];
    const picky: BatchDetector = {
      name: 'picky',
      version: '1',
      async detectMany(inputs: DetectorInput[]) {
        calls.push(inputs.length);
        if (inputs.some((x) => x.window.energy.t.length === 42)) throw new Error('cannot score this one');
        return inputs.map(() => ({ anomalies: [anomaly('ENERGY_PIT', 0.5, 0.6, 2, 4)] }));
      },
    };

    it('scores ready sessions in one call and keeps pending ones out of it', async () => {
      calls.length = 0;
      const [a, p, b] = await analyseMany([{ values: ok }, { values: stored([energy('2026-02-27T10:00:00Z', 1)]) }, { values: ok }], picky);
      assert.deepEqual(calls, [2]);
      assert.equal(active(a as AnalysisResult).detector, 'picky@1');
      pending(p as AnalysisResult);
      assert.deepEqual(active(b as AnalysisResult).anomalies.map((x) => x.bucketRange), [{ startUnit: 2, endUnit: 4 }]);
    });

    it('fails only the session that breaks the detector', async () => {
      calls.length = 0;
      const results = await analyseMany([{ values: ok }, { values: poison }, { values: ok }], picky);
      assert.deepEqual(calls, [3, 1, 1, 1], 'the batched call, then each session alone');
      assert.ok(results[1] instanceof Error && /cannot score/.test(results[1].message));
      for (const i of [0, 2]) assert.equal(active(results[i] as AnalysisResult).isAnomaly, true);
    });
  });

  it('handles every fixture in a few milliseconds', () => {
    const big = stored(toMeterValues(simulate({ count: 1440, power: (i) => (i % 200 < 100 ? 11 : 4), soc: { start: 10, capacityKwh: 300 } })));
    // Rows as the database returns them: one object shape.
    const rows = big.map((r) => ({ seq: r.seq, timestamp: new Date(r.timestamp).toISOString(), value: r.value, measurand: r.measurand ?? null, unit: r.unit ?? null, phase: r.phase ?? null, location: r.location ?? null, context: r.context ?? null, format: null, multiplier: null, reconstructed: false }));
    for (let i = 0; i < 5; i++) analyse(rows);
    const t = performance.now();
    for (let i = 0; i < 20; i++) analyse(rows);
    const ms = (performance.now() - t) / 20;
    assert.ok(ms < 25, `${ms.toFixed(2)} ms per analysis of 4,320 readings`);
    for (const f of fixtures) analyse(stored(f.values), { metadata: f.metadata });
  });
});
