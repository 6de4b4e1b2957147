// SHADE with its learned model, on the committed artifact: the TypeScript profile and onnxruntime-node
// reproduce what training computed (shade-1.reference.json), the model only scores (the findings
// are the rules' and meet their hard edges), and a missing or mismatched artifact fails loudly.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StationDayInput, StationDayResult } from '../../domain/shade/types';
import { ARTIFACTS_DIR } from '../../models/serving/paths';
import { analyseDay, loadShadeDetector, RULES, ShadeModel } from '../../models/serving/shade';
import { weekdayBaseline } from '../../models/serving/shade/baseline';
import { dayProfile, PROFILE_CHANNELS, SLOTS } from '../../models/serving/shade/profile';
import { simulateSet, type EvalSetOptions } from '../../models/training/shade/evaluate';
import type { SimStationDay } from '../../models/training/shade/simulate';

interface Reference {
  set: EvalSetOptions;
  days: { station: string; day: string }[];
  profile: number[][][];
  context: number[][];
  outputs: Record<'slot_prob' | 'day_prob' | 'slot_error' | 'day_error', (number | number[])[]>;
}

const close = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

describe('SHADE with SHADE-1', function () {
  this.timeout(120_000);
  let days: SimStationDay[];
  let full: StationDayResult[];
  let rules: StationDayResult[];
  let version: string;

  before(async () => {
    days = simulateSet({ seed: 'shade-unit-model', stations: 8, days: 7, heldOut: true, faultRate: 0.6 });
    const detector = await loadShadeDetector();
    version = detector.modelVersion;
    full = await detector.detect(days.map((d) => d.input));
    rules = await (await loadShadeDetector({ rulesOnly: true })).detect(days.map((d) => d.input));
  });

  it('the TypeScript profile and onnxruntime-node reproduce training (shade-1.reference.json)', async () => {
    const ref = JSON.parse(readFileSync(join(ARTIFACTS_DIR, 'shade-1.reference.json'), 'utf8')) as Reference;
    const sim = simulateSet({ ...ref.set, stations: 1 });
    const model = await ShadeModel.load();
    const profiles = ref.days.map((r, i) => {
      const d = sim.find((x) => x.spec.id === r.station && x.input.day === r.day);
      assert.ok(d, `reference day ${r.station} ${r.day} not simulated`);
      const p = dayProfile(d.input, analyseDay(d.input));
      for (let c = 0; c < PROFILE_CHANNELS; c++) {
        for (let s = 0; s < SLOTS; s++) assert.ok(close(p.x[c * SLOTS + s], ref.profile[i][c][s], 1e-4), `profile ${i} channel ${c} slot ${s}`);
      }
      ref.context[i].forEach((v, k) => assert.ok(close(p.context[k], v, 1e-4)));
      return p;
    });
    const out = await model.raw(profiles);
    profiles.forEach((_, i) => {
      for (let s = 0; s < SLOTS; s++) {
        assert.ok(close(out.slot_prob[i * SLOTS + s], (ref.outputs.slot_prob[i] as number[])[s], 1e-3));
        assert.ok(close(out.slot_error[i * SLOTS + s], (ref.outputs.slot_error[i] as number[])[s], 1e-3));
      }
      assert.ok(close(out.day_prob[i], ref.outputs.day_prob[i] as number, 1e-3));
      assert.ok(close(out.day_error[i], ref.outputs.day_error[i] as number, 1e-3));
    });
  });

  it('names rules and model in its version', () => {
    assert.match(version, /^shade-rules-1\+shade-1@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('the model only scores: same findings as the rules alone, markers inside them, scores in 0–1', () => {
    let marked = 0;
    full.forEach((r, i) => {
      assert.deepEqual(r.detectionDetails.findings!.map((f) => [f.anomaly_type, f.connector_id, f.start_minute, f.end_minute]), rules[i].detectionDetails.findings!.map((f) => [f.anomaly_type, f.connector_id, f.start_minute, f.end_minute]));
      assert.equal(r.isAnomaly, rules[i].isAnomaly);
      for (const x of [r.anomalyScore, r.dayScore]) assert.ok(x >= 0 && x <= 1);
      assert.ok(r.dayScore >= r.anomalyScore);
      const fs = r.detectionDetails.findings!;
      for (const m of r.markers) {
        assert.ok(m.score >= 0.5 && m.score <= 1);
        assert.ok(fs.some((f) => m.startMinute >= f.start_minute && m.startMinute <= f.end_minute), `marker ${m.startMinute} outside findings`);
        marked++;
      }
    });
    assert.ok(marked > 0);
    // The learned score separates faulty from clean days better than nothing.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const clean = full.filter((_, i) => days[i].labels.length === 0).map((r) => r.dayScore);
    const faulty = full.filter((_, i) => days[i].labels.length > 0).map((r) => r.dayScore);
    assert.ok(mean(faulty) > mean(clean), `faulty ${mean(faulty)} clean ${mean(clean)}`);
  });

  it('every finding meets its defining condition on the data (hard edges)', () => {
    let checked = 0;
    full.forEach((r, i) => {
      const d: StationDayInput = days[i].input;
      for (const f of r.detectionDetails.findings!) {
        checked++;
        const conn = d.connectors.find((c) => c.connectorId === f.connector_id);
        switch (f.anomaly_type) {
          case 'outage':
            for (let m = f.start_minute; m <= f.end_minute; m++) for (const c of d.connectors) assert.ok(c.energyWh[m] < RULES.idleWh);
            break;
          case 'stuck_connector': {
            const dead = conn!.sessions.filter((s) => s.startMinute >= f.start_minute && s.endMinute <= f.end_minute && s.energyWh < RULES.zeroSessionWh);
            assert.ok(dead.length >= RULES.stuck.minSessions);
            break;
          }
          case 'energy_drop': {
            const b = weekdayBaseline(d.history, d.weekday);
            assert.ok(b && b.days >= 3);
            const total = d.connectors.reduce((s, c) => s + c.energyWh.reduce((x, y) => x + y, 0), 0);
            assert.ok(total <= RULES.drop.maxShare * b.dayWh + 1);
            break;
          }
          case 'unexplained_load':
            for (const s of conn!.sessions) assert.ok(s.endMinute + RULES.unexplained.graceMinutes < f.start_minute || s.startMinute - RULES.unexplained.graceMinutes > f.end_minute);
            assert.ok(f.actual_energy_kwh >= RULES.unexplained.minWh / 1000);
            break;
          case 'meter_drift':
            assert.ok(Math.abs(f.actual_energy_kwh - f.expected_energy_kwh) >= RULES.drift.minRelative * f.expected_energy_kwh - 0.001);
            assert.ok(conn!.powerWh.slice(f.start_minute, f.end_minute + 1).filter((p) => p != null).length >= RULES.drift.minReadings);
            break;
        }
      }
    });
    assert.ok(checked > 10);
  });

  it('refuses an artifact trained on another profile version, and a missing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shade-'));
    try {
      cpSync(join(ARTIFACTS_DIR, 'shade-1.onnx'), join(dir, 'shade-1.onnx'));
      const card = JSON.parse(readFileSync(join(ARTIFACTS_DIR, 'shade-1.card.json'), 'utf8'));
      writeFileSync(join(dir, 'shade-1.card.json'), JSON.stringify({ ...card, profileVersion: 'shade-profile-0' }));
      await assert.rejects(loadShadeDetector({ dir }), /profile shade-profile-0/);
      rmSync(join(dir, 'shade-1.card.json'));
      await assert.rejects(loadShadeDetector({ dir }), /ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
