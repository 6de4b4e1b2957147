import assert from 'node:assert/strict';
import { analyse } from '../../domain/analysis/analyse';
import type { AnalysisResult, Anomaly, Detector } from '../../domain/analysis/types';
import { OnnxDetector } from '../../models/serving/onnx-detector';
import { generateSession, Rng } from '../../models/training/simulator';
import { simulate, stored, toMeterValues } from '../fixtures/sessions';
import { adversarialCase, checkHardEdges, simulatedCase, violations } from '../properties/hard-edges';

/** Cases per kind in `npm test`; `npm run test:properties` runs ≥ 100,000 with fresh seeds. */
const RUNS = Number(process.env.HARD_EDGE_RUNS ?? 1500);
/** Fixed, so that a run in CI is reproducible; HARD_EDGE_SEED explores. */
const SEED = Number(process.env.HARD_EDGE_SEED ?? 20261206);

describe('hard edges (anomaly-categories.md): no reported anomaly contradicts its defining condition', function () {
  this.timeout(600_000);
  let served: OnnxDetector;
  before(async () => {
    served = await OnnxDetector.load();
  });

  it(`served detector, ${RUNS} simulated sessions`, async () => {
    const r = await checkHardEdges(served, simulatedCase, RUNS, SEED);
    assert.ok(!r.failed, r.failed ? `${r.counterexample?.[0].kind} ${JSON.stringify(r.counterexample?.[0].spec)}: ${String(r.errorInstance)}` : '');
  });

  it(`served detector, ${RUNS} adversarial sessions`, async () => {
    const r = await checkHardEdges(served, adversarialCase, RUNS, SEED);
    assert.ok(!r.failed, r.failed ? `${JSON.stringify(r.counterexample?.[0].spec)}: ${String(r.errorInstance)}` : '');
  });

  describe('the oracle is not vacuous', () => {
    const lie = (anomalies: Anomaly[]): Detector => ({ name: 'liar', version: '0', detect: () => anomalies });
    const a = (category: Anomaly['category'], startUnit: number, endUnit: number): Anomaly => ({
      category,
      score: 0.9,
      confidence: 0.99,
      bucketRange: { startUnit, endUnit },
      timeRange: { startTimestamp: '', endTimestamp: '' },
    });
    const charged = toMeterValues(simulate({ count: 121, power: () => 11, soc: { start: 30, capacityKwh: 60 } }));
    /** The verdict a detector would give without the hard edges: what it reported, unfiltered. */
    const unfiltered = (anomalies: Anomaly[]): AnalysisResult => ({ ...(analyse(stored(charged)) as Extract<AnalysisResult, { status: 'active' }>), anomalies });

    it('flags the issue\'s examples when they reach it', () => {
      assert.match(violations(charged, unfiltered([a('ZERO_SESSION', 0, 120)])).join(), /rose 5\.\d+ kWh/);
      assert.match(violations(charged, unfiltered([a('KWH_DECREASE', 10, 20)])).join(), /never fell/);
      assert.match(violations(charged, unfiltered([a('UNEXPECTED_CHARGE_LEVEL_CHANGES', 10, 20)])).join(), /within what the delivered energy explains/);
      const atLimit = toMeterValues(simulate({ count: 160, power: (i) => (i < 80 ? 11 : 0) }));
      const r = { ...(analyse(stored(atLimit)) as Extract<AnalysisResult, { status: 'active' }>), anomalies: [a('CHARGING_EXPECTED', 80, 159)] };
      assert.match(violations(atLimit, r).join(), /no SoC and charging never resumed/);
    });

    it('and the analysis drops them before any verdict leaves it', () => {
      const r = analyse(stored(charged), { detector: lie([a('ZERO_SESSION', 0, 120), a('KWH_DECREASE', 10, 20), a('UNEXPECTED_CHARGE_LEVEL_CHANGES', 10, 20)]) });
      assert.deepEqual(violations(charged, r), []);
      assert.equal(r.status === 'active' && r.isAnomaly, false);
    });

    it('accepts what the simulator labels (no false contradictions on true anomalies)', () => {
      for (let i = 0; i < 300; i++) {
        const s = generateSession(new Rng(i), { categories: [(['KWH_DECREASE', 'ENERGY_PIT', 'UNEXPECTED_KWH_ACCUMULATE', 'INCORRECT_ACTIVE_POWER_REGISTER', 'UNEXPECTED_CHARGE_LEVEL_CHANGES', 'CHARGING_EXPECTED', 'ZERO_SESSION'] as const)[i % 7]] });
        const r = analyse(stored(s.meterValues), { metadata: s.metadata });
        assert.deepEqual(violations(s.meterValues, r), [], s.id);
      }
    });
  });
});
