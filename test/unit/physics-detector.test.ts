import assert from 'node:assert/strict';
import { analyse } from '../../domain/analysis/analyse';
import { normalise } from '../../domain/analysis/normalise';
import { PhysicsDetector, PowerPoints, registerResolution } from '../../domain/analysis/physics-detector';
import { Rng } from '../../models/training/simulator/rng';
import type { Anomaly, AnomalyCategory, RawMeterValue } from '../../domain/analysis/types';
import { analysisWindow, timeRangeOf } from '../../domain/analysis/window';
import { categoryFixtures, cleanFixtures, simulate, type Sample, stored, toMeterValues } from '../fixtures/sessions';

const detector = new PhysicsDetector();

function detect(values: RawMeterValue[], metadata?: Record<string, unknown>): Anomaly[] {
  const w = analysisWindow(normalise(stored(values)));
  return detector.detect({ window: w, metadata });
}

const cats = (as: Anomaly[]) => as.map((a) => a.category);
const range = (a: Anomaly) => [a.bucketRange.startUnit, a.bucketRange.endUnit];
const only = (as: Anomaly[], category: AnomalyCategory) => {
  assert.deepEqual(cats(as), [category], JSON.stringify(as.map((a) => [a.category, range(a)])));
  return as[0];
};
const withoutPower = (xs: Sample[]) => xs.map((x) => ({ ...x, powerKw: undefined }));
const withoutEnergy = (xs: Sample[]) => xs.map((x) => ({ ...x, energyKwh: undefined }));

describe('PhysicsDetector', () => {
  it('is the physics detector, version 1', () => {
    assert.equal(detector.name, 'physics');
    assert.equal(detector.version, '1');
  });

  describe('detects each category with its bucket range', () => {
    for (const f of categoryFixtures) {
      it(`${f.name}: ${f.expect.category} at ${f.expect.bucketRange!.startUnit}–${f.expect.bucketRange!.endUnit}`, () => {
        const w = analysisWindow(normalise(stored(f.values)));
        const a = only(detector.detect({ window: w, metadata: f.metadata }), f.expect.category!);
        assert.deepEqual(a.bucketRange, f.expect.bucketRange);
        assert.deepEqual(a.timeRange, timeRangeOf(w.t0, a.bucketRange.startUnit, a.bucketRange.endUnit));
        assert.ok(a.score > 0.3 && a.score <= 1, `score ${a.score}`);
        assert.ok(a.confidence > 0.5 && a.confidence <= 1, `confidence ${a.confidence}`);
      });
    }
  });

  describe('stays quiet on clean look-alikes', () => {
    for (const f of cleanFixtures) {
      it(`${f.name}: ${f.description}`, () => {
        assert.deepEqual(cats(detect(f.values, f.metadata)), []);
      });
    }
  });

  describe('ZERO_SESSION', () => {
    it('covers the whole window and needs at least 2 minutes', () => {
      const a = only(detect(toMeterValues(simulate({ count: 9, power: () => 0 }))), 'ZERO_SESSION');
      assert.deepEqual(range(a), [0, 8]);
      assert.deepEqual(cats(detect(toMeterValues(simulate({ count: 8, power: () => 0 })))), []); // 1:45
    });

    it('is not a zero session once 0.1 kWh flowed or power showed charging', () => {
      // 0.3 kW for 30 min: 0.15 kWh, never "charging"
      assert.deepEqual(cats(detect(toMeterValues(simulate({ count: 121, power: () => 0.3 })))), []);
      // one charging reading, no energy to speak of
      const blip = toMeterValues(simulate({ count: 41, power: () => 0 }).map((x, i) => (i === 20 ? { ...x, powerKw: 3 } : x)));
      assert.ok(!cats(detect(blip)).includes('ZERO_SESSION'));
    });

    it('is judged over all readings received, not only the last 6 hours', () => {
      // Charged for an hour, then idle for 7 hours: the window (the last 6 h) is idle, the session is not zero.
      const overnight = analyse(stored(toMeterValues(simulate({ count: 97, stepS: 300, power: (i) => (i < 12 ? 7.4 : 0) }))));
      assert.equal(overnight.status === 'active' && overnight.window.truncated, true);
      assert.deepEqual(overnight.status === 'active' ? cats(overnight.anomalies) : null, []);
      // Plugged in for 8 hours, never charging: zero, over the whole window.
      const never = analyse(stored(toMeterValues(simulate({ count: 97, stepS: 300, power: () => 0 }))));
      assert.deepEqual(never.status === 'active' ? never.anomalies.map((a) => [a.category, a.bucketRange.startUnit, a.bucketRange.endUnit]) : null, [['ZERO_SESSION', 0, 1439]]);
    });

    it('stays quiet on a long smart-charging delay before charging (85 min idle, then 3 kWh)', () => {
      const delayed = toMeterValues(simulate({ count: 40, stepS: 180, power: (i) => (i < 28 ? 0 : 15) }));
      assert.deepEqual(cats(detect(delayed)), []);
    });

    it('works from energy alone and from power alone, with less confidence than from both', () => {
      const both = only(detect(toMeterValues(simulate({ count: 41, power: () => 0 }))), 'ZERO_SESSION');
      const energyOnly = only(detect(toMeterValues(withoutPower(simulate({ count: 41, power: () => 0 })))), 'ZERO_SESSION');
      const powerOnly = only(detect(toMeterValues(withoutEnergy(simulate({ count: 41, power: () => 0 })))), 'ZERO_SESSION');
      assert.ok(both.confidence > energyOnly.confidence && energyOnly.confidence > powerOnly.confidence);
    });
  });

  describe('KWH_DECREASE and ENERGY_PIT', () => {
    const dip = (from: number, to: number, value: (x: Sample) => number, stepS = 15, count = 121) =>
      toMeterValues(simulate({ count, stepS, power: () => 11 }).map((x, i) => (i >= from && i < to ? { ...x, energyKwh: value(x) } : x)));

    it('a drop that comes back within 2 minutes is a pit; one that stays down longer is a decrease', () => {
      assert.deepEqual(range(only(detect(dip(50, 58, () => 0)), 'ENERGY_PIT')), [50, 57]); // back after 2:00
      assert.deepEqual(range(only(detect(dip(50, 60, (x) => x.energyKwh! - 3)), 'KWH_DECREASE')), [50, 59]); // 2:30 down
    });

    it('a small slip that charging makes up within 2 minutes counts as a pit (the rule of thumb is the maximum)', () => {
      // −0.3 kWh at 11 kW: back above the previous maximum after 1:45.
      assert.deepEqual(range(only(detect(dip(60, 121, (x) => x.energyKwh! - 0.3)), 'ENERGY_PIT')), [60, 65]);
    });

    it('counts the energy delivered through a pit, so SoC rising meanwhile is no anomaly', () => {
      // 50 kW, 1-min readings, register reads 0 for 2 readings: SoC gains 3.75 points meanwhile.
      const values = toMeterValues(
        simulate({ count: 90, stepS: 60, power: () => 50, soc: { start: 20, capacityKwh: 66.6 } }).map((x, i) => (i === 60 || i === 61 ? { ...x, energyKwh: 0 } : x)),
      );
      assert.deepEqual(range(only(detect(values), 'ENERGY_PIT')), [240, 247]);
    });

    it('a register that never comes back is a decrease to the window end', () => {
      const a = only(detect(dip(100, 121, (x) => x.energyKwh! - 20)), 'KWH_DECREASE');
      assert.deepEqual(range(a), [100, 120]);
    });

    it('a final reading below the start (meterStop < meterStart) is a decrease, with less confidence', () => {
      const a = only(detect(dip(120, 121, () => 0)), 'KWH_DECREASE');
      const b = only(detect(dip(80, 121, () => 0)), 'KWH_DECREASE');
      assert.deepEqual(range(a), [120, 120]);
      assert.ok(a.confidence < b.confidence);
    });

    it('ignores drops within 0.01 kWh, or within a coarser register resolution', () => {
      assert.deepEqual(cats(detect(dip(50, 51, (x) => x.energyKwh! - 0.04 - 0.0075))), []); // −0.0075 below the running max
      // Whole-kWh register: 1 kWh steps; a reading 1 kWh back is within the resolution.
      const coarse = toMeterValues(simulate({ count: 61, stepS: 60, power: () => 11 }).map((x, i) => ({ ...x, energyKwh: Math.floor(x.energyKwh!) - (i === 30 ? 1 : 0) })));
      assert.ok(!cats(detect(coarse)).includes('KWH_DECREASE'));
    });

    it('scores a deep reset above a shallow slip, and a sparse pit with less confidence', () => {
      const deep = only(detect(dip(60, 121, () => 0)), 'KWH_DECREASE');
      const shallow = only(detect(dip(60, 121, (x) => x.energyKwh! - 3)), 'KWH_DECREASE');
      assert.ok(deep.score > shallow.score);
      const dense = only(detect(dip(60, 62, () => 0)), 'ENERGY_PIT');
      const sparse = only(detect(dip(10, 11, () => 0, 300, 25)), 'ENERGY_PIT'); // one reading down, next 5 min later
      assert.deepEqual(range(sparse), [200, 219]);
      assert.ok(sparse.confidence < dense.confidence);
    });
  });

  describe('UNEXPECTED_KWH_ACCUMULATE', () => {
    it('flags energy accruing while power reads 0 (kW sent as W)', () => {
      const values = toMeterValues(simulate({ count: 121, power: () => 7.4 })).map((v) => (v.measurand === 'Power.Active.Import' ? { ...v, unit: 'W' } : v));
      assert.deepEqual(range(only(detect(values), 'UNEXPECTED_KWH_ACCUMULATE')), [0, 120]);
    });

    it('needs at least a minute of idle power and 0.05 kWh more than it explains', () => {
      const short = toMeterValues(simulate({ count: 121, power: () => 7.4 }).map((x, i) => (i >= 40 && i <= 43 ? { ...x, powerKw: 0 } : x))); // 45 s
      assert.deepEqual(cats(detect(short)), []);
      const trickle = toMeterValues(simulate({ count: 121, power: () => 0.3 }).map((x) => ({ ...x, powerKw: 0.25 }))); // 0.15 kWh, 0.125 explained
      assert.ok(!cats(detect(trickle)).includes('UNEXPECTED_KWH_ACCUMULATE'));
    });

    it('flags a register jump faster than 1.5 × the highest plausible power, with or without power', () => {
      const jump = (xs: Sample[]) => xs.map((x, i) => (i >= 60 ? { ...x, energyKwh: x.energyKwh! + 20 } : x));
      assert.deepEqual(range(only(detect(toMeterValues(jump(simulate({ count: 121, power: () => 7 })))), 'UNEXPECTED_KWH_ACCUMULATE')), [59, 60]);
      assert.deepEqual(range(only(detect(toMeterValues(withoutPower(jump(simulate({ count: 121, power: () => 7 }))))), 'UNEXPECTED_KWH_ACCUMULATE')), [59, 60]);
    });

    it('bounds plausible power by the station rating from metadata, else 350 kW', () => {
      const dc = toMeterValues(withoutPower(simulate({ count: 121, power: () => 50 })));
      assert.deepEqual(cats(detect(dc)), []);
      assert.deepEqual(range(only(detect(dc, { maxPowerKw: 22 }), 'UNEXPECTED_KWH_ACCUMULATE')), [0, 120]);
      assert.deepEqual(cats(detect(dc, { ratedPowerKw: '50' })), []);
    });

    it('leaves under-reported power while both say energy flows to INCORRECT_ACTIVE_POWER_REGISTER', () => {
      const onePhase = toMeterValues(simulate({ count: 121, power: () => 11 }).map((x) => ({ ...x, powerKw: x.powerKw! / 3 })));
      assert.deepEqual(range(only(detect(onePhase), 'INCORRECT_ACTIVE_POWER_REGISTER')), [0, 120]);
    });
  });

  describe('INCORRECT_ACTIVE_POWER_REGISTER', () => {
    it('flags W sent as kW', () => {
      const values = toMeterValues(simulate({ count: 121, power: () => 7.4 }).map((x) => ({ ...x, powerKw: x.powerKw! * 1000 })));
      const a = only(detect(values), 'INCORRECT_ACTIVE_POWER_REGISTER');
      assert.deepEqual(range(a), [0, 120]);
      assert.ok(a.score > 0.9, 'a 1000× disagreement is severe');
    });

    it('flags a kWh register labelled Wh (analysed as sent)', () => {
      const values = toMeterValues(simulate({ count: 121, power: () => 9, startKwh: 512 })).map((v) => (v.measurand === 'Energy.Active.Import.Register' ? { ...v, unit: 'Wh' } : v));
      assert.deepEqual(range(only(detect(values), 'INCORRECT_ACTIVE_POWER_REGISTER')), [0, 120]);
    });

    it('needs 2 minutes and 3 consecutive readings of disagreement', () => {
      const frozen = (n: number) => toMeterValues(simulate({ count: 121, power: (i) => (i < 60 ? 11 : 3.7) }).map((x, i) => (i >= 60 && i < 60 + n ? { ...x, powerKw: 11 } : x)));
      assert.deepEqual(cats(detect(frozen(8))), []); // 7 disagreeing intervals: 1:45
      assert.deepEqual(range(only(detect(frozen(9)), 'INCORRECT_ACTIVE_POWER_REGISTER')), [60, 68]); // 2:00
    });

    it('needs both measurands', () => {
      const f = categoryFixtures.find((x) => x.name === 'incorrect-active-power-register')!;
      const energyOnly = f.values.filter((v) => v.measurand !== 'Power.Active.Import');
      assert.ok(!cats(detect(energyOnly)).includes('INCORRECT_ACTIVE_POWER_REGISTER'));
    });

    it('tolerates a coarse register whose slope jumps between 0 and a step', () => {
      const coarse = toMeterValues(simulate({ count: 241, power: (i) => (i < 120 ? 11 : 4.2) }).map((x) => ({ ...x, energyKwh: Math.floor(x.energyKwh! * 10) / 10 })));
      assert.deepEqual(cats(detect(coarse)), []);
    });

    it('compares on the sparser grid when power is sampled less often than energy', () => {
      // Energy every 15 s, power every 5 min, with a load-management step between two power samples.
      const samples = simulate({ count: 241, power: (i) => (i < 50 ? 11 : 4.2) }).map((x, i) => (i % 20 === 0 ? x : { ...x, powerKw: undefined }));
      assert.deepEqual(cats(detect(toMeterValues(samples))), []);
    });
  });

  describe('UNEXPECTED_CHARGE_LEVEL_CHANGES', () => {
    const base = () => simulate({ count: 121, power: () => 11, soc: { start: 30, capacityKwh: 60 } });

    it('flags SoC rising between two readings more than 100·ΔE/C + 3 points (C the session\'s battery)', () => {
      const values = toMeterValues(base().map((x, i) => (i >= 60 ? { ...x, soc: x.soc! + 8 } : x)));
      assert.deepEqual(range(only(detect(values), 'UNEXPECTED_CHARGE_LEVEL_CHANGES')), [59, 60]);
      const within = toMeterValues(base().map((x, i) => (i >= 60 ? { ...x, soc: x.soc! + 2.5 } : x)));
      assert.deepEqual(cats(detect(within)), []);
    });

    it('judges a plug-in hybrid by the battery it shows: fast SoC read every 5 minutes is normal', () => {
      // 3.7 kW into an 8 kWh battery: +0.3 kWh and +3.9 points per 5 minutes, for an hour.
      const phev = toMeterValues(simulate({ count: 13, stepS: 300, power: () => 3.7, soc: { start: 20, capacityKwh: 8 } }));
      assert.deepEqual(cats(detect(phev)), []);
      // The same hybrid with one impossible step: +15 points on 0.3 kWh.
      const jump = toMeterValues(simulate({ count: 13, stepS: 300, power: () => 3.7, soc: { start: 20, capacityKwh: 8 } }).map((x, i) => (i >= 7 ? { ...x, soc: x.soc! + 12 } : x)));
      assert.deepEqual(range(only(detect(jump), 'UNEXPECTED_CHARGE_LEVEL_CHANGES')), [120, 140]);
    });

    it('flags a persistent 8–12 point drop while energy flows (AC)', () => {
      const drop = toMeterValues(simulate({ count: 121, power: () => 7.4, soc: { start: 40, capacityKwh: 60 } }).map((x, i) => (i >= 60 ? { ...x, soc: x.soc! - 10 } : x)));
      assert.deepEqual(range(only(detect(drop), 'UNEXPECTED_CHARGE_LEVEL_CHANGES')), [59, 60]);
    });

    it('flags SoC outside 0–100', () => {
      const values = toMeterValues(base().map((x, i) => (i >= 100 && i < 103 ? { ...x, soc: 101.5 } : x)));
      const a = only(detect(values), 'UNEXPECTED_CHARGE_LEVEL_CHANGES');
      assert.ok(a.bucketRange.startUnit <= 100 && a.bucketRange.endUnit >= 102, JSON.stringify(a.bucketRange));
    });

    it('allows SoC to fall while no energy flows, and by 2 points while it does', () => {
      const idleFall = toMeterValues(
        simulate({ count: 121, power: (i) => (i < 40 ? 11 : 0), soc: { start: 94, capacityKwh: 60 } }).map((x, i) => (i >= 60 ? { ...x, soc: x.soc! - 4 } : x)),
      );
      assert.ok(!cats(detect(idleFall)).includes('UNEXPECTED_CHARGE_LEVEL_CHANGES'));
      const smallFall = toMeterValues(base().map((x, i) => (i >= 60 ? { ...x, soc: x.soc! - 1.9 } : x)));
      assert.deepEqual(cats(detect(smallFall)), []);
    });
  });

  describe('CHARGING_EXPECTED', () => {
    const stop = (idleSamples: number, socStart?: number) =>
      toMeterValues(simulate({ count: 80 + idleSamples, power: (i) => (i < 80 ? 11 : 0), soc: socStart === undefined ? undefined : { start: socStart, capacityKwh: 60 } }));

    it('needs an idle stretch of 10 minutes', () => {
      assert.deepEqual(cats(detect(stop(40, 40))), []); // 9:45
      assert.deepEqual(range(only(detect(stop(41, 40)), 'CHARGING_EXPECTED')), [80, 120]);
    });

    it('stays quiet at SoC ≥ 70 % when charging does not resume (a stop at the car\'s limit)', () => {
      assert.deepEqual(cats(detect(stop(80, 90))), []);
      assert.deepEqual(cats(detect(stop(80, 65))), []); // stops at 71 %
      assert.deepEqual(range(only(detect(stop(80, 60)), 'CHARGING_EXPECTED')), [80, 159]); // stops at 66 %
    });

    it('without SoC, needs an abrupt stop and a later resumption', () => {
      const atLimit = toMeterValues(simulate({ count: 200, power: (i) => (i < 100 ? 22 : 0) }));
      assert.deepEqual(cats(detect(atLimit)), []);
      const low = toMeterValues(simulate({ count: 260, power: (i) => (i < 40 ? 22 : i < 100 ? 7 : i < 200 ? 0 : 22) }));
      assert.deepEqual(cats(detect(low)), []);
      const high = toMeterValues(simulate({ count: 260, power: (i) => (i < 40 ? 22 : i < 100 ? 16 : i < 200 ? 0 : 22) }));
      assert.deepEqual(range(only(detect(high), 'CHARGING_EXPECTED')), [100, 199]);
    });

    it('does not take a short low-power draw after the stop for a resumption', () => {
      // 11 kW to the car's limit, idle, a 2-minute 2 kW draw (pre-conditioning), idle again.
      const wake = toMeterValues(simulate({ count: 300, power: (i) => (i < 100 ? 11 : i >= 200 && i < 208 ? 2 : 0) }));
      assert.deepEqual(cats(detect(wake)), []);
      // With SoC at 40 % the stop is an anomaly: its idle stretch runs until the draw.
      const wakeSoc = toMeterValues(simulate({ count: 300, power: (i) => (i < 100 ? 11 : i >= 200 && i < 208 ? 2 : 0), soc: { start: 20, capacityKwh: 60 } }));
      assert.deepEqual(range(only(detect(wakeSoc), 'CHARGING_EXPECTED')), [100, 199]);
    });

    it('treats a stop after a gradual taper as a finish, even above half the peak, below 70 % SoC or before a resumption', () => {
      // 22 kW tapering to 12 kW over 10 min (the car's own limit), then idle for 20 min, then 22 kW again.
      const taper = (i: number) => (i < 60 ? 22 : i < 100 ? 22 - (10 * (i - 60)) / 40 : i < 180 ? 0 : 22);
      assert.deepEqual(cats(detect(toMeterValues(simulate({ count: 220, power: taper })))), []);
      assert.deepEqual(cats(detect(toMeterValues(simulate({ count: 220, power: taper, soc: { start: 30, capacityKwh: 60 } })))), []);
      // The same stop without the taper is abrupt.
      const flat = (i: number) => (i < 100 || i >= 180 ? 22 : 0);
      assert.deepEqual(range(only(detect(toMeterValues(simulate({ count: 220, power: flat }))), 'CHARGING_EXPECTED')), [100, 179]);
    });

    it('does not take a load-management step-down before the stop for a taper', () => {
      const step = (i: number) => (i < 80 ? 22 : i < 100 ? 12 : 0);
      assert.deepEqual(range(only(detect(toMeterValues(simulate({ count: 180, power: step, soc: { start: 30, capacityKwh: 60 } }))), 'CHARGING_EXPECTED')), [100, 179]);
    });

    it('works from the register slope where power is missing', () => {
      const values = toMeterValues(withoutPower(simulate({ count: 201, power: (i) => (i < 80 || i > 160 ? 11 : 0) })));
      const [start, end] = range(only(detect(values), 'CHARGING_EXPECTED'));
      // The register's slope places the stop and the resumption to within a reading.
      assert.ok(start >= 80 && start <= 81, String(start));
      assert.ok(end >= 159 && end <= 161, String(end));
    });

    it('also flags a pause in the middle of a session', () => {
      const values = toMeterValues(simulate({ count: 241, power: (i) => (i < 80 || i >= 160 ? 11 : 0), soc: { start: 20, capacityKwh: 60 } }));
      assert.deepEqual(range(only(detect(values), 'CHARGING_EXPECTED')), [80, 159]);
    });

    it('is less confident with sparse readings and without SoC', () => {
      const dense = only(detect(stop(80, 40)), 'CHARGING_EXPECTED');
      const noSoc = only(detect(toMeterValues(simulate({ count: 200, power: (i) => (i < 80 || i >= 160 ? 11 : 0) }))), 'CHARGING_EXPECTED');
      const sparse = only(detect(toMeterValues(simulate({ count: 24, stepS: 300, power: (i) => (i < 12 ? 11 : 0), soc: { start: 20, capacityKwh: 60 } }))), 'CHARGING_EXPECTED');
      assert.deepEqual(range(sparse), [240, 460]);
      assert.ok(dense.confidence > noSoc.confidence);
      assert.ok(dense.confidence > sparse.confidence);
    });
  });

  it('reports several categories of one session, sorted by start bucket', () => {
    const values = toMeterValues(
      simulate({ count: 241, power: (i) => (i < 160 ? 11 : 0), soc: { start: 30, capacityKwh: 60 } }).map((x, i) =>
        i === 40 ? { ...x, energyKwh: 0 } : i >= 100 ? { ...x, soc: x.soc! - 10 } : x,
      ),
    );
    const as = detect(values);
    assert.deepEqual(cats(as), ['ENERGY_PIT', 'UNEXPECTED_CHARGE_LEVEL_CHANGES', 'CHARGING_EXPECTED']);
    assert.deepEqual(as.map(range), [
      [40, 40],
      [99, 100],
      [160, 240],
    ]);
  });

  it('scores and confidences stay in [0, 1] for every fixture', () => {
    for (const f of [...categoryFixtures, ...cleanFixtures]) {
      for (const a of detect(f.values, f.metadata)) {
        assert.ok(a.score >= 0 && a.score <= 1 && a.confidence >= 0 && a.confidence <= 1, f.name);
      }
    }
  });

  it('analyses 6 hours with 1440 readings per measurand in a few milliseconds', () => {
    const values = toMeterValues(simulate({ count: 1440, power: (i) => (i % 200 < 100 ? 11 : 4), soc: { start: 10, capacityKwh: 300 } }));
    const w = analysisWindow(normalise(stored(values)));
    for (let i = 0; i < 5; i++) detector.detect({ window: w });
    const t = performance.now();
    for (let i = 0; i < 20; i++) detector.detect({ window: w });
    const ms = (performance.now() - t) / 20;
    assert.ok(ms < 15, `${ms.toFixed(2)} ms per detection`);
  });
});

// The interval statistics and the register resolution are computed without holding points or a
// Set (they ran per interval and per session); they must give exactly what the plain forms give.
describe('PowerPoints and registerResolution', () => {
  const rng = new Rng('power-points');
  const plainStats = (pts: [number, number][]) => {
    const pMin = Math.min(...pts.map(([, v]) => v));
    const pMax = Math.max(...pts.map(([, v]) => v));
    if (pts.length === 1) return { pMean: pts[0][1], pMin, pMax };
    let area = 0;
    for (let i = 0; i + 1 < pts.length; i++) area += ((pts[i][1] + pts[i + 1][1]) / 2) * (pts[i + 1][0] - pts[i][0]);
    const span = pts[pts.length - 1][0] - pts[0][0];
    return { pMean: span > 0 ? area / span : (pMin + pMax) / 2, pMin, pMax };
  };
  const plainResolution = (v: number[]) => {
    const distinct = new Set(v);
    if (distinct.size < 3) return 0;
    return [1, 0.1, 0.01, 0.001].find((q) => ![...distinct].some((x) => Math.abs(x / q - Math.round(x / q)) > 1e-4)) ?? 0;
  };

  it('gives the same mean, min and max as the points held in an array, bit for bit, reused across intervals', () => {
    const points = new PowerPoints();
    for (let trial = 0; trial < 2000; trial++) {
      const pts: [number, number][] = [];
      let t = rng.next() * 1e12;
      const n = 1 + Math.floor(rng.next() * 6);
      for (let k = 0; k < n; k++) {
        pts.push([t, rng.next() < 0.2 ? 0 : rng.next() * 350]);
        t += rng.next() < 0.2 ? 0 : rng.next() * 60_000; // equal timestamps too: a zero span
      }
      points.reset();
      for (const [pt, pv] of pts) points.add(pt, pv);
      assert.deepEqual({ pMean: points.mean, pMin: points.min, pMax: points.max }, plainStats(pts));
    }
  });

  it('finds the same register resolution as the distinct values would', () => {
    const grids = [1, 0.1, 0.01, 0.001, 0.0001];
    for (let trial = 0; trial < 2000; trial++) {
      const q = grids[Math.floor(rng.next() * grids.length)];
      // Values from a small pool, so that repeats (and exactly two distinct values) are common.
      const pool = Array.from({ length: 1 + Math.floor(rng.next() * 4) }, () => Math.round((rng.next() * 50) / q) * q);
      if (rng.next() < 0.1) pool.push(NaN, -0, 0); // counted as a Set counts them
      const v = Array.from({ length: Math.floor(rng.next() * 8) }, () => pool[Math.floor(rng.next() * pool.length)]);
      assert.equal(registerResolution(v), plainResolution(v), JSON.stringify(v));
    }
  });
});
