import assert from 'node:assert/strict';
import { meterValuesPass, SessionCreate } from '../../api/schemas/sessions';
import { config } from '../../config';
import { Rng } from '../../models/training/simulator/rng';

// The batch submit trusts meterValuesPass instead of the schema when it says yes: it must never say
// yes where the schema says no (and should say yes where the schema does, or it saves nothing).
const schemaAccepts = (meterValues: unknown) => SessionCreate.safeParse({ sessionId: 's', chargingStationId: 'c', meterValues }).success;

const text = (max: number) => [undefined, null, '', 'a', 'a'.repeat(max), 'a'.repeat(max + 1), 'é'.repeat(max), 5, true, {}, []];
const CANDIDATES: Record<string, unknown[]> = {
  timestamp: [undefined, null, '2026-02-27T10:00:00Z', '', 'x'.repeat(64), 'x'.repeat(65), 1_772_186_400_000, {}],
  value: [undefined, null, 0, -0, -1.5, 1234.5, 1e308, -1e308, Infinity, -Infinity, NaN, '1', true, []],
  measurand: text(64),
  unit: text(16),
  phase: text(8),
  location: text(16),
  context: text(32),
  format: text(16),
  multiplier: [undefined, null, 0, -0, 3, -9, 1.5, 2 ** 53 - 1, 2 ** 53, -(2 ** 53), 1e21, NaN, Infinity, '3', true],
  reconstructed: [undefined, null, true, false, 0, 'true'],
  vendorExtra: [undefined, 'anything', { nested: [1] }],
};
const VALID = { timestamp: '2026-02-27T10:00:00Z', value: 1234.5, measurand: 'Energy.Active.Import.Register', unit: 'kWh' };

describe('meterValuesPass (the batch submit’s fast schema check)', () => {
  it('agrees with the schema on random readings, one or more fields changed', () => {
    const rng = new Rng('meter-values-pass');
    let accepted = 0;
    for (let trial = 0; trial < 5000; trial++) {
      const readings: unknown[] = [];
      for (let r = rng.int(0, 3); r >= 0; r--) {
        if (rng.chance(0.03)) {
          readings.push(rng.pick([null, 3, 'reading', [], [VALID]]));
          continue;
        }
        const m: Record<string, unknown> = { ...VALID };
        for (let k = rng.int(0, 2); k >= 0; k--) {
          const field = rng.pick(Object.keys(CANDIDATES));
          const v = rng.pick(CANDIDATES[field]);
          if (v === undefined && rng.chance(0.5)) delete m[field];
          else m[field] = v;
        }
        readings.push(m);
      }
      const expected = schemaAccepts(readings);
      accepted += expected ? 1 : 0;
      assert.equal(meterValuesPass(readings), expected, JSON.stringify(readings, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
    }
    // Both outcomes were exercised.
    assert.ok(accepted > 500 && accepted < 4500, `accepted ${accepted} of 5000`);
  });

  it('agrees on what is not a list of readings, and on the count limit', () => {
    // Only a list is for the fast check (a missing list is the schema's default, empty).
    for (const v of [undefined, null, {}, 'x', 3, [], [VALID]]) assert.equal(meterValuesPass(v), Array.isArray(v) && schemaAccepts(v), JSON.stringify(v));
    const atLimit = Array.from({ length: config.maxReadingsPerRequest }, () => VALID);
    assert.equal(meterValuesPass(atLimit), true);
    assert.equal(schemaAccepts(atLimit), true);
    assert.equal(meterValuesPass([...atLimit, VALID]), false);
    assert.equal(schemaAccepts([...atLimit, VALID]), false);
  });
});
