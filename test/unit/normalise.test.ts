import assert from 'node:assert/strict';
import { normalise } from '../../domain/analysis/normalise';
import type { RawMeterValue, Series } from '../../domain/analysis/types';
import { cleanFixtures, simulate, START, stored, toMeterValues } from '../fixtures/sessions';

const T0 = Date.parse(START);
const at = (s: number, offset = 'Z') => {
  const iso = new Date(T0 + s * 1000).toISOString().replace('.000Z', 'Z');
  if (offset === 'Z') return iso;
  const [h, m] = offset.slice(1).split(':').map(Number);
  const shift = (offset[0] === '-' ? -1 : 1) * (h * 60 + m) * 60_000;
  return new Date(T0 + s * 1000 + shift).toISOString().slice(0, 19) + offset;
};
const E = (s: number, value: number, extra: Partial<RawMeterValue> = {}): RawMeterValue => ({
  timestamp: at(s),
  value,
  measurand: 'Energy.Active.Import.Register',
  unit: 'kWh',
  ...extra,
});
const P = (s: number, value: number, extra: Partial<RawMeterValue> = {}): RawMeterValue => ({
  timestamp: at(s),
  value,
  measurand: 'Power.Active.Import',
  unit: 'kW',
  ...extra,
});
const close = (actual: number[], expected: number[]) => {
  assert.equal(actual.length, expected.length, `${actual} vs ${expected}`);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) < 1e-9, `${actual} vs ${expected}`));
};
const offsets = (s: Series) => s.t.map((t) => (t - T0) / 1000);

describe('normalise', () => {
  describe('units (rule 1)', () => {
    it('turns Wh into kWh and keeps kWh, in any case', () => {
      const n = normalise(stored([E(0, 12345, { unit: 'Wh' }), E(15, 12.4), E(30, 12.5, { unit: 'kwh' }), E(45, 12600, { unit: 'WH' })]));
      close(n.energy.v, [12.345, 12.4, 12.5, 12.6]);
      assert.equal(n.quality.suspiciousUnits, 0);
    });

    it('reads a missing unit as Wh and a missing measurand as the energy register', () => {
      const n = normalise(stored([{ timestamp: at(0), value: 5000 }, { timestamp: at(15), value: 5100, measurand: null, unit: null }]));
      close(n.energy.v, [5, 5.1]);
    });

    it('turns W into kW and applies the OCPP 2.0.1 multiplier', () => {
      const n = normalise(
        stored([
          P(0, 7400, { unit: 'W' }),
          P(15, 7.4, { unit: 'kw' }),
          P(30, 74, { unit: 'W', multiplier: 2 }),
          E(0, 12.345, { unit: 'Wh', multiplier: 3 }),
          E(15, 1235, { unit: 'kWh', multiplier: -2 }),
        ]),
      );
      close(n.power.v, [7.4, 7.4, 7.4]);
      close(n.energy.v, [12.345, 12.35]);
    });

    it('keeps SoC in percent, whatever its location', () => {
      const n = normalise(stored([{ timestamp: at(0), value: 42, measurand: 'SoC', unit: 'Percent', location: 'EV' }, { timestamp: at(15), value: 43, measurand: 'soc' }]));
      close(n.soc.v, [42, 43]);
      const tie = normalise(stored([{ timestamp: at(0), value: 60, measurand: 'SoC', location: 'Outlet' }, { timestamp: at(0), value: 50, measurand: 'SoC', location: 'EV' }]));
      close(tie.soc.v, [50]);
    });

    it('ignores measurands and units the analysis does not use, and says so', () => {
      const n = normalise(
        stored([
          E(0, 1),
          { timestamp: at(0), value: 230, measurand: 'Voltage', unit: 'V' },
          { timestamp: at(0), value: 32, measurand: 'Current.Import', unit: 'A', phase: 'L1' },
          { timestamp: at(0), value: 3, measurand: 'Energy.Reactive.Import.Register', unit: 'kvarh' },
          P(0, 11, { unit: 'kVA' }),
        ]),
      );
      assert.equal(n.quality.ignored, 4);
      assert.equal(n.energy.t.length, 1);
      assert.equal(n.power.t.length, 0);
      assert.ok(n.quality.notes.some((s) => /Voltage/.test(s)));
      assert.ok(n.quality.notes.some((s) => /kVA/.test(s)));
    });
  });

  describe('phases (rule 2)', () => {
    it('sums line-to-neutral energy phases L1-N, L2-N and L3-N beside a power total', () => {
      const values: RawMeterValue[] = [];
      for (let i = 0; i < 4; i++) {
        for (const phase of ['L1-N', 'L2-N', 'L3-N']) values.push(E(i * 15, 1 + i, { phase }));
        values.push(P(i * 15, 11.1)); // a power total beside per-phase energy must not be confused with it
      }
      const n = normalise(stored(values));
      close(n.energy.v, [3, 6, 9, 12]);
      close(n.power.v, [11.1, 11.1, 11.1, 11.1]);
      assert.equal(n.quality.conflicts, 0);
    });

    it('prefers the total and never adds it to its own phases', () => {
      const values: RawMeterValue[] = [];
      for (let i = 0; i < 4; i++) {
        const total = 10 + i;
        // Phase meters that do not add up exactly to the total, as in the field.
        values.push(E(i * 15, total), E(i * 15, total * 0.3, { phase: 'L1' }), E(i * 15, total * 0.3, { phase: 'L2' }), E(i * 15, total * 0.3, { phase: 'L3' }));
        values.push(P(i * 15, 11), P(i * 15, 3.5, { phase: 'L1' }), P(i * 15, 3.5, { phase: 'L2' }), P(i * 15, 3.5, { phase: 'L3' }));
      }
      const n = normalise(stored(values));
      close(n.energy.v, [10, 11, 12, 13]);
      close(n.power.v, [11, 11, 11, 11]);
    });

    it('uses phase sums rather than totals sent only at Transaction.Begin and End', () => {
      const values: RawMeterValue[] = [E(0, 100, { context: 'Transaction.Begin' }), E(60, 101, { context: 'Transaction.End' })];
      for (let i = 0; i <= 4; i++) for (const phase of ['L1', 'L2', 'L3']) values.push(E(i * 15, 33 + i * 0.1, { phase }));
      const n = normalise(stored(values));
      close(n.energy.v, [99, 99.3, 99.6, 99.9, 100.2]);
    });

    it('sums L1–L3 when only per-phase values exist (per-phase-only reporting)', () => {
      const fixture = cleanFixtures.find((f) => f.name === 'per-phase-only')!;
      const n = normalise(stored(fixture.values));
      const plain = normalise(stored(toMeterValues(simulate({ count: 121, power: () => 11 }))));
      assert.equal(n.energy.t.length, 121);
      assert.equal(n.power.t.length, 121);
      n.energy.v.forEach((v, i) => assert.ok(Math.abs(v - plain.energy.v[i]) < 0.002, `energy ${i}`));
      n.power.v.forEach((v) => assert.ok(Math.abs(v - 11) < 0.002));
      assert.ok(n.quality.notes.some((s) => /per-phase values summed/.test(s)));
    });

    it('falls back to L1-N…L3-N and skips instants where a phase is missing', () => {
      const n = normalise(
        stored([
          P(0, 2, { phase: 'L1-N' }),
          P(0, 2, { phase: 'L2-N' }),
          P(0, 2, { phase: 'L3-N' }),
          P(15, 2, { phase: 'L1-N' }),
          P(15, 2, { phase: 'L3-N' }),
          P(30, 1, { phase: 'L1-N' }),
          P(30, 1, { phase: 'L2-N' }),
          P(30, 1, { phase: 'L3-N' }),
        ]),
      );
      assert.deepEqual(offsets(n.power), [0, 30]);
      close(n.power.v, [6, 3]);
      assert.ok(n.quality.notes.some((s) => /incomplete phase sets/.test(s)));
    });

    it('groups phases stamped a few ms apart into one sample, and counts the jitter', () => {
      const ms = (s: number, d: number) => new Date(T0 + s * 1000 + d).toISOString();
      const n = normalise(
        stored([0, 15].flatMap((s) => ['L1', 'L2', 'L3'].map((phase, k) => ({ timestamp: ms(s, k * 3), value: 2.5, measurand: 'Power.Active.Import', unit: 'kW', phase })))),
      );
      close(n.power.v, [7.5, 7.5]);
      assert.deepEqual(offsets(n.power), [0, 15]);
      assert.equal(n.quality.clockIssues, 2);
      assert.ok(n.quality.notes.some((s) => /stamped up to 1 s apart/.test(s)));
    });

    it('reports a 1-phase car on a 3-phase point as the L1 power', () => {
      const fixture = cleanFixtures.find((f) => f.name === 'one-phase-on-three-phase')!;
      const n = normalise(stored(fixture.values));
      assert.equal(n.power.t.length, 121);
      for (const v of n.power.v) assert.ok(Math.abs(v - 7.4) < 1e-9);
      assert.equal(n.quality.ignored, 363); // Current.Import
    });
  });

  describe('locations (rule 3)', () => {
    it('prefers Outlet (or unset) over EV, Inlet and Cable for energy and power', () => {
      const n = normalise(stored([E(0, 10, { location: 'EV' }), E(0, 10.5, { location: 'Outlet' }), E(15, 10.1, { location: 'EV' }), E(15, 10.6), P(0, 7, { location: 'Inlet' }), P(0, 7.2)]));
      close(n.energy.v, [10.5, 10.6]);
      close(n.power.v, [7.2]);
      assert.ok(n.quality.notes.some((s) => /location Outlet preferred/.test(s)));
    });

    it('uses another location when that is all there is', () => {
      const n = normalise(stored([E(0, 10, { location: 'Inlet' }), E(15, 10.1, { location: 'Inlet' })]));
      close(n.energy.v, [10, 10.1]);
    });
  });

  describe('order, duplicates and conflicts (rule 4)', () => {
    it('sorts by timestamp and counts readings that arrived out of order', () => {
      const n = normalise(stored([E(30, 3), E(0, 1), E(15, 2), E(45, 4)]));
      assert.deepEqual(offsets(n.energy), [0, 15, 30, 45]);
      close(n.energy.v, [1, 2, 3, 4]);
      assert.equal(n.quality.outOfOrder, 2);
    });

    it('collapses exact duplicates (also across units) and counts them', () => {
      const n = normalise(stored([E(0, 1), E(0, 1), E(15, 2), E(15, 2000, { unit: 'Wh' }), E(30, 3)]));
      close(n.energy.v, [1, 2, 3]);
      assert.equal(n.quality.duplicates, 2);
      assert.equal(n.quality.conflicts, 0);
    });

    it('keeps the later arrival of a true conflict, by seq rather than array position', () => {
      const values = [E(0, 0, { context: 'Transaction.Begin' }), E(0, 5.5), E(15, 5.6)];
      const later = normalise(stored(values));
      close(later.energy.v, [5.5, 5.6]);
      assert.equal(later.quality.conflicts, 1);
      const reversed = normalise([
        { ...values[1], seq: 0 },
        { ...values[0], seq: 1 },
        { ...values[2], seq: 2 },
      ]);
      close(reversed.energy.v, [0, 5.6]);
      assert.ok(later.quality.notes.some((s) => /later arrival was kept/.test(s)));
    });

    it('normalises the duplicates + out-of-order fixture to the same series as the clean session', () => {
      const fixture = cleanFixtures.find((f) => f.name === 'duplicates-out-of-order')!;
      const plain = normalise(stored(toMeterValues(simulate({ count: 121, power: () => 11, soc: { start: 30, capacityKwh: 60 } }))));
      const n = normalise(stored(fixture.values));
      assert.deepEqual(n.energy, plain.energy);
      assert.deepEqual(n.power, plain.power);
      assert.deepEqual(n.soc, plain.soc);
      assert.equal(n.quality.duplicates, 52);
      assert.ok(n.quality.outOfOrder > 0);
    });
  });

  describe('clocks', () => {
    it('stores +10:00 timestamps as the same UTC instants', () => {
      const utc = normalise(stored(toMeterValues(simulate({ count: 5, power: () => 11 }))));
      const local = normalise(stored(toMeterValues(simulate({ count: 5, power: () => 11 }), { offset: '+10:00' })));
      assert.deepEqual(local.energy, utc.energy);
      assert.deepEqual(local.power, utc.power);
      assert.equal(normalise(stored([E(0, 1, { timestamp: at(0, '+10:00') })])).energy.t[0], T0);
    });

    it('counts readings of one series milliseconds apart as clock issues', () => {
      const n = normalise(stored([E(0, 1), { ...E(0, 1.0001), timestamp: new Date(T0 + 5).toISOString() }, E(15, 1.1)]));
      assert.equal(n.quality.clockIssues, 1);
      assert.equal(n.energy.t.length, 3);
      assert.ok(n.quality.notes.some((s) => /less than 1 s/.test(s)));
    });
  });

  describe('suspicious units (recorded, never rewritten)', () => {
    it('flags a kWh register labelled Wh while kW flow, and analyses it as sent', () => {
      // Register at 512.3 "Wh" rising 9 kW worth of kWh: a kWh register with the wrong label.
      const samples = simulate({ count: 41, power: () => 9, startKwh: 512.3 });
      const values = toMeterValues(samples).map((v) => (v.measurand === 'Energy.Active.Import.Register' ? { ...v, unit: 'Wh' } : v));
      const n = normalise(stored(values));
      assert.equal(n.quality.suspiciousUnits, 41);
      assert.ok(n.quality.notes.some((s) => /kWh register probably labelled Wh/.test(s)));
      assert.ok(Math.abs(n.energy.v[0] - 0.5123) < 1e-9, 'value analysed as sent (Wh → kWh)');
    });

    it('flags power sent in W but labelled kW', () => {
      const values = toMeterValues(simulate({ count: 41, power: () => 7.4 })).map((v) => (v.measurand === 'Power.Active.Import' ? { ...v, value: v.value * 1000 } : v));
      const n = normalise(stored(values));
      assert.equal(n.quality.suspiciousUnits, 41);
      assert.ok(n.quality.notes.some((s) => /W probably sent as kW/.test(s)));
      assert.equal(n.power.v[0], 7400);
    });

    it('flags power sent in kW but labelled W', () => {
      const values = toMeterValues(simulate({ count: 41, power: () => 7.4 })).map((v) => (v.measurand === 'Power.Active.Import' ? { ...v, unit: 'W' } : v));
      const n = normalise(stored(values));
      assert.equal(n.quality.suspiciousUnits, 41);
      assert.ok(n.quality.notes.some((s) => /kW probably sent as W/.test(s)));
    });

    it('does not suspect a consistent Wh register with W power', () => {
      const fixture = cleanFixtures.find((f) => f.name === 'wh-register')!;
      const n = normalise(stored(fixture.values));
      assert.equal(n.quality.suspiciousUnits, 0);
      assert.ok(Math.abs(n.energy.v[0] - 1234.5) < 1e-9);
      assert.ok(Math.abs(n.power.v[0] - 11) < 1e-9);
    });
  });

  it('returns sorted series with one value per timestamp for every clean fixture', () => {
    for (const f of cleanFixtures) {
      const n = normalise(stored(f.values));
      for (const s of [n.energy, n.power, n.soc]) {
        assert.equal(s.t.length, s.v.length);
        for (let i = 1; i < s.t.length; i++) assert.ok(s.t[i] > s.t[i - 1], `${f.name} sorted`);
      }
      assert.equal(n.quality.conflicts, 0, f.name);
      assert.equal(n.quality.suspiciousUnits, 0, f.name);
    }
  });
});
