// The station-day simulator (models/training/shade/simulate.ts): reproducible from its seed, days
// and histories shaped as domain/shade/types.ts says, and every injected fault leaves in the data
// the evidence its label claims.
import assert from 'node:assert/strict';
import { STATION_ANOMALY_TYPES, type StationDayInput } from '../../domain/shade/types';
import { simulateSet } from '../../models/training/shade/evaluate';
import { drawStationSpec, simulateStation, type FaultLabel, type SimStationDay } from '../../models/training/shade/simulate';

const days: SimStationDay[] = simulateSet({ seed: 'shade-unit-sim', stations: 10, days: 10, heldOut: false, faultRate: 0.8 });

function stationWh(d: StationDayInput, m: number): number {
  return d.connectors.reduce((s, c) => s + c.energyWh[m], 0);
}

function labelled(type: FaultLabel['type'], observableOnly = true): { d: SimStationDay; l: FaultLabel }[] {
  return days.flatMap((d) => d.labels.filter((l) => l.type === type && (l.observable || !observableOnly)).map((l) => ({ d, l })));
}

describe('SHADE station-day simulator', () => {
  it('is reproducible from its seed and differs with it', () => {
    const spec = drawStationSpec('shade-unit-sim', 'repro', false);
    const a = simulateStation(spec, 3);
    const b = simulateStation(spec, 3);
    assert.deepEqual(a.map((d) => d.input), b.map((d) => d.input));
    assert.deepEqual(a.map((d) => d.labels), b.map((d) => d.labels));
    const other = simulateStation(drawStationSpec('shade-unit-sim-2', 'repro', false), 3);
    assert.notDeepEqual(a[0].input.connectors.map((c) => c.energyWh), other[0].input.connectors.map((c) => c.energyWh));
  });

  it('days and histories have the shapes of domain/shade/types.ts', () => {
    for (const { input: d } of days) {
      assert.equal(d.minutes, 1440);
      assert.ok(d.connectors.length >= 1 && d.connectors.length <= 4);
      assert.ok(d.history.length > 0 && d.history.length <= 56);
      for (const h of d.history) {
        assert.equal(h.hourlyWh.length, 24);
        assert.equal(h.sessionStarts.length, 24);
        assert.equal(new Date(`${h.day}T00:00:00Z`).getUTCDay(), h.weekday);
      }
      assert.equal(new Date(`${d.day}T00:00:00Z`).getUTCDay(), d.weekday);
      for (const c of d.connectors) {
        assert.equal(c.energyWh.length, 1440);
        assert.equal(c.powerWh.length, 1440);
        assert.ok(c.energyWh.every((e) => e >= 0));
        for (const s of c.sessions) {
          assert.ok(s.startMinute >= 0 && s.startMinute <= s.endMinute && s.endMinute < 1440);
          // A session's energy is what the connector's register delivered over it.
          let wh = 0;
          for (let m = s.startMinute; m <= s.endMinute; m++) wh += c.energyWh[m];
          assert.ok(Math.abs(wh - s.energyWh) < 1e-6);
        }
      }
    }
    // The history of day d+1 starts with day d's totals.
    const [d0, d1] = days;
    const total = d0.input.connectors.reduce((s, c) => s + c.energyWh.reduce((a, b) => a + b, 0), 0);
    assert.equal(d1.input.history[0].day, d0.input.day);
    assert.ok(Math.abs(d1.input.history[0].hourlyWh.reduce((a, b) => a + b, 0) - total) < 1e-6);
  });

  it('injects every type, and each observable fault leaves its evidence', () => {
    for (const t of STATION_ANOMALY_TYPES) assert.ok(labelled(t, false).length > 0, `no ${t}`);
    // The evidence checks below loop over observable faults: each must have some, or they check nothing.
    for (const t of ['stuck_connector', 'energy_drop', 'unexplained_load', 'meter_drift'] as const) assert.ok(labelled(t).length > 0, `no observable ${t}`);
    // An outage silences every connector over its window, observable or not.
    for (const { d, l } of labelled('outage', false)) {
      for (let m = l.startMinute; m <= l.endMinute; m++) assert.equal(stationWh(d.input, m), 0);
    }
    for (const { d, l } of labelled('stuck_connector')) {
      const c = d.input.connectors.find((x) => x.connectorId === l.connectorId)!;
      const inside = c.sessions.filter((s) => s.startMinute >= l.startMinute && s.startMinute <= l.endMinute);
      assert.ok(inside.length >= 2 && inside.every((s) => s.energyWh === 0));
    }
    for (const { d, l } of labelled('unexplained_load')) {
      const c = d.input.connectors.find((x) => x.connectorId === l.connectorId)!;
      let wh = 0;
      for (let m = l.startMinute; m <= l.endMinute; m++) wh += c.energyWh[m];
      assert.ok(wh >= 50);
      assert.ok(c.sessions.every((s) => s.endMinute + 2 < l.startMinute || s.startMinute - 2 > l.endMinute));
    }
    for (const { d, l } of labelled('meter_drift')) {
      const c = d.input.connectors.find((x) => x.connectorId === l.connectorId)!;
      let e = 0;
      let p = 0;
      for (let m = l.startMinute; m <= l.endMinute; m++) {
        const pw = c.powerWh[m];
        if (pw == null || pw < 10) continue;
        e += c.energyWh[m];
        p += pw;
      }
      assert.ok(Math.abs(e / p - 1) > 0.05, `drift ratio ${e / p}`);
    }
    for (const { d } of labelled('energy_drop')) {
      const total = d.input.connectors.reduce((s, c) => s + c.energyWh.reduce((a, b) => a + b, 0), 0);
      const same = d.input.history.filter((h) => h.weekday === d.input.weekday).map((h) => h.hourlyWh.reduce((a, b) => a + b, 0));
      same.sort((a, b) => a - b);
      assert.ok(total <= 0.55 * same[Math.floor(same.length / 2)] + 1e-6);
    }
  });

  it('held-out stations are larger and see other vehicles; new stations have short histories', () => {
    const held = simulateSet({ seed: 'shade-unit-held', stations: 12, days: 1, heldOut: true });
    assert.ok(held.some((d) => d.input.connectors.length > 4));
    const fresh = simulateSet({ seed: 'shade-unit-new', stations: 3, days: 2, heldOut: true, newStationShare: 1 });
    assert.ok(fresh.every((d) => d.input.history.length >= 3 && d.input.history.length <= 20));
  });
});
