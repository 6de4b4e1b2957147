// The pure parts of the station rollups and SHADE's day arithmetic: per-minute energy from the
// register and from the reported power, and local days in the organization's time zone.
import assert from 'node:assert/strict';
import { sessionMinutes, parseMinutes } from '../../domain/stations/rollups';
import { sessionEnergy } from '../../domain/statistics/session-energy';
import { categoryFixtures, stored } from '../fixtures/sessions';
import { localDay, previousLocalDay } from '../../domain/stations/local-day';
import { backfillSlots } from '../../domain/stations/schedules';

const reading = (iso: string, value: number, measurand = 'Energy.Active.Import.Register', unit = 'kWh', seq = 0) => ({
  seq,
  timestamp: iso,
  value,
  measurand,
  unit,
  phase: null,
  location: null,
  context: null,
  format: null,
  multiplier: null,
  reconstructed: false,
});

describe('station rollups: per-minute energy', () => {
  it('spreads register steps linearly over the minutes between readings', () => {
    const m = sessionMinutes([reading('2026-03-10T10:00:30Z', 0, undefined, undefined, 0), reading('2026-03-10T10:02:30Z', 2, undefined, undefined, 1)])!;
    assert.equal(m.startMinute, Date.parse('2026-03-10T10:00:00Z'));
    assert.deepEqual(m.energyWh, [500, 1000, 500]);
    assert.deepEqual(m.powerWh, [null, null, null], 'no power readings');
  });

  it('counts a falling register as zero and keeps power energy apart', () => {
    const rs = [
      reading('2026-03-10T10:00:00Z', 5, undefined, undefined, 0),
      reading('2026-03-10T10:00:00Z', 12, 'Power.Active.Import', 'kW', 1),
      reading('2026-03-10T10:01:00Z', 5.2, undefined, undefined, 2),
      reading('2026-03-10T10:01:00Z', 12, 'Power.Active.Import', 'kW', 3),
      reading('2026-03-10T10:02:00Z', 0.1, undefined, undefined, 4),
      reading('2026-03-10T10:02:00Z', 12, 'Power.Active.Import', 'kW', 5),
    ];
    const m = sessionMinutes(rs)!;
    assert.deepEqual(m.energyWh, [200, 0]);
    assert.deepEqual(m.powerWh, [200, 200]);
  });

  it('counts a session\'s energy by the statistics\' one rule: a pit\'s recovery once, a reset\'s new level, power alone', () => {
    for (const name of ['energy-pit', 'kwh-decrease', 'zero-session', 'unexpected-kwh-accumulate']) {
      const readings = stored(categoryFixtures.find((f) => f.name === name)!.values);
      const perMinute = sessionMinutes(readings)!.energyWh.reduce((a, b) => a + b, 0) / 1000;
      const total = sessionEnergy(readings).deliveredKwh;
      assert.ok(Math.abs(perMinute - total) < 1e-3, `${name}: per minute ${perMinute} kWh, session ${total} kWh`);
    }
  });

  it('uses the power for a session without a register, in W as sent', () => {
    const m = sessionMinutes([reading('2026-03-10T10:00:00Z', 6000, 'Power.Active.Import', 'W', 0), reading('2026-03-10T10:01:00Z', 6000, 'Power.Active.Import', 'W', 1)])!;
    assert.deepEqual(m.energyWh, [100]);
    assert.deepEqual(m.powerWh, [100]);
  });

  it('covers at most 3 days, quickly, however far apart the readings are', () => {
    const t = performance.now();
    const m = sessionMinutes([reading('2001-01-01T00:00:00Z', 0, undefined, undefined, 0), reading('2026-01-01T00:00:00Z', 1000, undefined, undefined, 1)])!;
    assert.equal(m.energyWh.length, 3 * 24 * 60);
    assert.ok(performance.now() - t < 200, 'no loop over the gap');
  });

  it('has nothing for fewer than two readings', () => {
    assert.equal(sessionMinutes([reading('2026-03-10T10:00:00Z', 1)]), null);
  });

  it('reads stored arrays back from text, nulls included', () => {
    assert.deepEqual(parseMinutes('1.5,,2', 3), [1.5, null, 2]);
    assert.deepEqual(parseMinutes('', 1), [null]);
    assert.deepEqual(parseMinutes('', 0), []);
  });
});

describe('SHADE local days', () => {
  it('knows where a local day starts and how long it is, DST days included', () => {
    assert.deepEqual(localDay('2026-03-10', 'UTC'), { day: '2026-03-10', weekday: 2, start: Date.parse('2026-03-10T00:00:00Z'), minutes: 1440 });
    const spring = localDay('2026-03-29', 'Europe/Amsterdam');
    assert.equal(spring.start, Date.parse('2026-03-28T23:00:00Z'));
    assert.equal(spring.minutes, 1380);
    assert.equal(localDay('2026-10-25', 'Europe/Amsterdam').minutes, 1500);
    assert.equal(localDay('2026-03-10', 'Asia/Kolkata').start, Date.parse('2026-03-09T18:30:00Z'));
  });

  it('takes the previous local day of an instant, and backfill slots just after each day', () => {
    assert.equal(previousLocalDay(Date.parse('2026-03-10T23:30:00Z'), 'UTC'), '2026-03-09');
    assert.equal(previousLocalDay(Date.parse('2026-03-10T23:30:00Z'), 'Europe/Amsterdam'), '2026-03-10');
    const slots = backfillSlots('2026-03-01', '2026-03-03', 'Europe/Amsterdam');
    // Slots at 00:15 local (23:15 UTC the evening before) of 2026-03-02 … 2026-03-04.
    assert.equal(slots.start.toISOString(), '2026-03-01T23:14:59.000Z');
    assert.equal(slots.end.toISOString(), '2026-03-03T23:15:01.000Z');
  });
});
