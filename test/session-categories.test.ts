// Every category of the detection contract, end to end over HTTP against the real stack: crafted
// sessions in, the served detector's verdict (ONNX models, physics beside them where the
// validation chose) out, with the right category and bucket range; the clean look-alikes stay
// clean; a session without SoC gets SORC's overlay beside its readings.
import assert from 'node:assert/strict';
import { sql } from '../db/sql';
import { categoryFixtures, cleanFixtures, pendingFixtures, simulate, toMeterValues } from './fixtures/sessions';
import { call, newTenant } from './helpers/http';
import { stack } from './helpers/stack';

/**
 * Category fixtures the served models miss today, and why. Each is asserted to be still missed, so
 * that a retrained model that catches it fails here until the entry is removed.
 */
const KNOWN_MISSES: Record<string, string> = {
  // Empty since issue 14's retraining caught the persistent 8–12 point SoC drop on AC.
};

describe('anomaly categories over HTTP', function () {
  this.timeout(120_000);
  let key: string;
  before(async () => {
    ({ key } = await newTenant('categories'));
  });

  for (const f of categoryFixtures) {
    const miss = KNOWN_MISSES[f.name];
    const title = miss
      ? `${f.name}: known miss of the served models (${miss})`
      : `${f.name}: ${f.expect.category} at buckets ${f.expect.bucketRange?.startUnit}–${f.expect.bucketRange?.endUnit}`;
    it(title, async () => {
      const res = await call('POST', '/v1/sessions', {
        key,
        body: { sessionId: `cat-${f.name}`, chargingStationId: 'CP-CAT', meterValues: f.values, metadata: f.metadata },
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.status, 'active');
      const [row] = await sql(stack().orm.em.fork(), 'select detector from charging_sessions where session_id = ?', [`cat-${f.name}`]);
      assert.match(row.detector, /^csar-c-2\+physics@/, 'the verdict comes from the served ONNX models');
      const categories = res.body.anomalies.map((a: { category: string }) => a.category);
      if (miss) {
        assert.ok(!categories.includes(f.expect.category), `the served models now find ${f.name}: remove it from KNOWN_MISSES`);
        return;
      }
      assert.equal(res.body.isAnomaly, true);
      assert.deepEqual(categories, [f.expect.category]);
      const a = res.body.anomalies[0];
      assert.deepEqual(a.bucketRange, f.expect.bucketRange);
      const t0 = Date.parse(res.body.anomalies[0].timeRange.startTimestamp) - 15_000 * a.bucketRange.startUnit;
      assert.equal(Date.parse(a.timeRange.endTimestamp), t0 + 15_000 * (a.bucketRange.endUnit + 1));
      assert.ok(a.score > 0 && a.score <= 1);
      assert.ok(a.confidence > 0 && a.confidence <= 1);
      assert.ok(res.body.anomalyScore >= a.score);
    });
  }

  it('reconstructs SoC for a session without SoC, beside its readings, and not for one with SoC', async () => {
    const noSoc = toMeterValues(simulate({ count: 60, power: () => 11 }));
    const withSoc = toMeterValues(simulate({ count: 60, power: () => 11, soc: { start: 30, capacityKwh: 60 } }));
    for (const [id, values] of [['sorc-none', noSoc], ['sorc-has', withSoc]] as const) {
      const res = await call('POST', '/v1/sessions', { key, body: { sessionId: id, chargingStationId: 'CP-SORC', meterValues: values } });
      assert.equal(res.status, 201, res.text);
    }
    const none = (await call('GET', '/v1/sessions/sorc-none', { key })).body;
    assert.equal(none.socReconstructed, true);
    assert.ok(none.reconstructedSoc.length >= 50, `${none.reconstructedSoc.length} overlay points`);
    for (const p of none.reconstructedSoc) {
      assert.ok(p.value >= 0 && p.value <= 100);
      assert.ok(p.low <= p.value && p.value <= p.high && p.low >= 0 && p.high <= 100, JSON.stringify(p));
      assert.match(p.timestamp, /Z$/);
    }
    const values: number[] = none.reconstructedSoc.map((p: { value: number }) => p.value);
    assert.ok(values[values.length - 1] > values[0], 'SoC rises while 11 kW flow in');
    assert.ok(values.every((v, i) => i === 0 || v >= values[i - 1]), 'and never falls while it does');
    assert.ok(none.sorcConfidence > 0 && none.sorcConfidence <= 1);
    assert.equal(none.meterValues.length, noSoc.length, 'the overlay is not mixed into the readings');
    assert.ok(none.meterValues.every((m: { measurand: string }) => m.measurand !== 'SoC'));
    const has = (await call('GET', '/v1/sessions/sorc-has', { key })).body;
    assert.equal(has.socReconstructed, false);
    assert.deepEqual(has.reconstructedSoc, []);
    assert.equal(has.sorcConfidence, null);
    const list = await call('GET', '/v1/sessions?chargingStationId=CP-SORC', { key });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.content.map((x: { sessionId: string }) => x.sessionId).sort(), ['sorc-has', 'sorc-none']);
  });

  for (const f of cleanFixtures) {
    it(`${f.name} stays clean`, async () => {
      const res = await call('POST', '/v1/sessions', {
        key,
        body: { sessionId: `clean-${f.name}`, chargingStationId: 'CP-CLEAN', meterValues: f.values, metadata: f.metadata },
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.status, 'active');
      assert.equal(res.body.isAnomaly, false, JSON.stringify(res.body.anomalies));
      assert.deepEqual(res.body.anomalies, []);
      assert.equal(res.body.anomalyScore, 0);
      assert.ok(res.body.anomalyConfidence > 0);
    });
  }

  for (const f of pendingFixtures) {
    it(`${f.name} stays pending with a message`, async () => {
      const res = await call('POST', '/v1/sessions', { key, body: { sessionId: `pending-${f.name}`, chargingStationId: 'CP-PEND', meterValues: f.values } });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.status, 'pending');
      assert.ok(res.body.message);
      assert.equal(res.body.isAnomaly, null);
    });
  }
});
