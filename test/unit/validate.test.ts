import assert from 'node:assert/strict';
import type { RawMeterValue } from '../../domain/analysis/types';
import { parseTimestamp, validateMeterValues } from '../../domain/analysis/validate';
import { fixtures } from '../fixtures/sessions';

const NOW = new Date('2026-03-01T00:00:00Z');
const ok: RawMeterValue = { timestamp: '2026-02-27T10:00:00Z', value: 1234.5, measurand: 'Energy.Active.Import.Register', unit: 'kWh' };

/** Issues of one reading built from `ok` with some fields changed. */
function issuesOf(patch: Partial<Record<keyof RawMeterValue, unknown>>) {
  return validateMeterValues([{ ...ok, ...patch } as RawMeterValue], NOW);
}

function fieldsOf(patch: Partial<Record<keyof RawMeterValue, unknown>>) {
  return issuesOf(patch).map((i) => i.field);
}

describe('parseTimestamp', () => {
  it('reads Z and any UTC offset as the same instant', () => {
    const utc = Date.UTC(2026, 1, 27, 10, 0, 0);
    assert.equal(parseTimestamp('2026-02-27T10:00:00Z'), utc);
    assert.equal(parseTimestamp('2026-02-27T20:00:00+10:00'), utc);
    assert.equal(parseTimestamp('2026-02-27T04:30:00-05:30'), utc);
    assert.equal(parseTimestamp('2026-02-27T20:00:00+1000'), utc);
    assert.equal(parseTimestamp('2026-02-27t10:00:00z'), utc);
    assert.equal(parseTimestamp('2026-02-27T10:00Z'), utc);
  });

  it('keeps milliseconds and truncates finer fractions', () => {
    assert.equal(parseTimestamp('2026-02-27T10:00:00.123Z'), Date.UTC(2026, 1, 27, 10, 0, 0, 123));
    assert.equal(parseTimestamp('2026-02-27T10:00:00.123456+00:00'), Date.UTC(2026, 1, 27, 10, 0, 0, 123));
    assert.equal(parseTimestamp('2026-02-27T10:00:00.5Z'), Date.UTC(2026, 1, 27, 10, 0, 0, 500));
    // Rounded to microseconds first, as PostgreSQL stores it.
    assert.equal(parseTimestamp('2026-02-27T10:00:00.9999996Z'), Date.UTC(2026, 1, 27, 10, 0, 1, 0));
    assert.equal(parseTimestamp('2026-02-27T10:00:00.9999994Z'), Date.UTC(2026, 1, 27, 10, 0, 0, 999));
  });

  it('requires an explicit offset and a real calendar date', () => {
    assert.equal(parseTimestamp('2026-02-27T10:00:00'), null);
    assert.equal(parseTimestamp('2026-02-30T10:00:00Z'), null);
    assert.equal(parseTimestamp('2026-13-01T10:00:00Z'), null);
    assert.equal(parseTimestamp('2026-02-27T24:00:00Z'), null);
    assert.equal(parseTimestamp('2026-02-27T10:00:00+16:00'), null);
    assert.equal(parseTimestamp('yesterday'), null);
    assert.equal(parseTimestamp(''), null);
    assert.equal(parseTimestamp(1772186400000), null);
    assert.equal(parseTimestamp('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29));
    assert.equal(parseTimestamp('2025-02-29T00:00:00Z'), null);
  });

  it('accepts only what PostgreSQL parses too: ASCII spaces, a dot before the fraction', () => {
    const utc = Date.UTC(2026, 1, 27, 10, 0, 0);
    assert.equal(parseTimestamp(' 2026-02-27T10:00:00Z\t'), utc);
    assert.equal(parseTimestamp('2026-02-27T10:00:00 Z'), utc);
    assert.equal(parseTimestamp('2026-02-27 10:00:00+00'), utc);
    for (const s of ['2026-02-27T10:00:00,5Z', '2026-02-27T10:00:00Z\u00a0', '\ufeff2026-02-27T10:00:00Z', '2026-02-27T10:00:00\u2003Z']) {
      assert.equal(parseTimestamp(s), null, JSON.stringify(s));
    }
  });

  it('places 1970 (an unset charger clock) correctly so that it can be rejected', () => {
    assert.equal(parseTimestamp('1970-01-01T00:00:10Z'), 10_000);
    assert.equal(parseTimestamp('0099-01-01T00:00:00Z'), new Date('0099-01-01T00:00:00Z').getTime());
  });
});

describe('validateMeterValues', () => {
  it('accepts a plain reading and every crafted fixture', () => {
    assert.deepEqual(validateMeterValues([ok], NOW), []);
    for (const f of fixtures) assert.deepEqual(validateMeterValues(f.values, NOW), [], f.name);
  });

  it('rejects unparseable, pre-2000 and far-future timestamps, naming index and field', () => {
    const issues = validateMeterValues(
      [
        ok,
        { ...ok, timestamp: '27/02/2026 10:00' },
        { ...ok, timestamp: '1970-01-01T00:00:00Z' },
        { ...ok, timestamp: '2026-03-02T00:00:01Z' },
        { ...ok, timestamp: '2026-03-01T23:00:00Z' },
        { ...ok, timestamp: '2026-03-01T10:00:00+10:00' },
      ],
      NOW,
    );
    assert.deepEqual(
      issues.map((i) => [i.index, i.field]),
      [
        [1, 'timestamp'],
        [2, 'timestamp'],
        [3, 'timestamp'],
      ],
    );
    assert.match(issues[1].message, /2000/);
    assert.match(issues[2].message, /future/);
  });

  it('rejects values that are not finite numbers in 0 … 10,000,000,000', () => {
    assert.deepEqual(fieldsOf({ value: Number.NaN }), ['value']);
    assert.deepEqual(fieldsOf({ value: Number.POSITIVE_INFINITY }), ['value']);
    assert.deepEqual(fieldsOf({ value: '12' }), ['value']);
    assert.deepEqual(fieldsOf({ value: null }), ['value']);
    assert.deepEqual(fieldsOf({ value: -1 }), ['value']);
    assert.deepEqual(fieldsOf({ value: 10_000_000_001 }), ['value']);
    assert.deepEqual(fieldsOf({ value: 0 }), []);
    assert.deepEqual(fieldsOf({ value: 10_000_000_000 }), []);
  });

  it('accepts units case-insensitively, including the official Celcius typo', () => {
    for (const unit of ['kwh', 'KWH', 'Wh', 'wh', 'kW', 'w', 'Percent', 'percent', 'Celcius', 'Celsius', 'Hertz', 'kvarh', null, undefined, '']) {
      assert.deepEqual(fieldsOf({ unit }), [], String(unit));
    }
    assert.deepEqual(fieldsOf({ unit: 'kWhh' }), ['unit']);
    assert.deepEqual(fieldsOf({ unit: 'MWh' }), ['unit']);
  });

  it('knows the OCPP 1.6 and 2.0.1 measurands and rejects others', () => {
    for (const measurand of ['Energy.Active.Import.Register', 'Power.Active.Import', 'SoC', 'RPM', 'Temperature', 'Energy.Apparent.Net', 'Energy.Reactive.Net', null]) {
      assert.deepEqual(fieldsOf({ measurand }), [], String(measurand));
    }
    assert.deepEqual(fieldsOf({ measurand: 'Energy.Active.Import' }), ['measurand']);
    assert.deepEqual(fieldsOf({ measurand: 'Power' }), ['measurand']);
  });

  it('checks phase, location and context against the vocabulary', () => {
    for (const phase of ['L1', 'L2', 'L3', 'N', 'L1-N', 'L3-N', 'L1-L2', 'L3-L1', null]) assert.deepEqual(fieldsOf({ phase }), [], String(phase));
    assert.deepEqual(fieldsOf({ phase: 'L4' }), ['phase']);
    for (const location of ['Outlet', 'Inlet', 'Cable', 'EV', 'Body', 'Upstream']) assert.deepEqual(fieldsOf({ location }), [], location);
    assert.deepEqual(fieldsOf({ location: 'Car' }), ['location']);
    for (const context of ['Sample.Periodic', 'Sample.Clock', 'Transaction.Begin', 'Transaction.End', 'Trigger', 'Interruption.Begin', 'Interruption.End', 'Other']) {
      assert.deepEqual(fieldsOf({ context }), [], context);
    }
    assert.deepEqual(fieldsOf({ context: 'Periodic' }), ['context']);
  });

  it('accepts an integer multiplier from -9 to 9 when given', () => {
    for (const multiplier of [-9, -3, 0, 3, 9, null, undefined]) assert.deepEqual(fieldsOf({ multiplier }), [], String(multiplier));
    assert.deepEqual(fieldsOf({ multiplier: 10 }), ['multiplier']);
    assert.deepEqual(fieldsOf({ multiplier: -10 }), ['multiplier']);
    assert.deepEqual(fieldsOf({ multiplier: 1.5 }), ['multiplier']);
    assert.deepEqual(fieldsOf({ multiplier: '3' }), ['multiplier']);
  });

  it('reports every problem of every reading', () => {
    const issues = validateMeterValues([ok, { timestamp: 'never', value: -5, unit: 'parsec', phase: 'L9', multiplier: 99 } as RawMeterValue], NOW);
    assert.deepEqual(
      issues.map((i) => `${i.index}.${i.field}`),
      ['1.timestamp', '1.value', '1.unit', '1.phase', '1.multiplier'],
    );
    for (const i of issues) assert.ok(i.message.length > 10);
  });
});
