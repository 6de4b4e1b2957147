// Every category of the detection contract, end to end over HTTP against the real stack: crafted
// sessions in, the right category and bucket range out; the clean look-alikes stay clean.
import assert from 'node:assert/strict';
import { categoryFixtures, cleanFixtures, pendingFixtures } from './fixtures/sessions';
import { call, newTenant } from './helpers/http';

describe('anomaly categories over HTTP', function () {
  this.timeout(120_000);
  let key: string;
  before(async () => {
    ({ key } = await newTenant('categories'));
  });

  for (const f of categoryFixtures) {
    it(`${f.name}: ${f.expect.category} at buckets ${f.expect.bucketRange?.startUnit}–${f.expect.bucketRange?.endUnit}`, async () => {
      const res = await call('POST', '/v1/sessions', {
        key,
        body: { sessionId: `cat-${f.name}`, chargingStationId: 'CP-CAT', meterValues: f.values, metadata: f.metadata },
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.status, 'active');
      assert.equal(res.body.isAnomaly, true);
      assert.deepEqual(res.body.anomalies.map((a: { category: string }) => a.category), [f.expect.category]);
      const a = res.body.anomalies[0];
      assert.deepEqual(a.bucketRange, f.expect.bucketRange);
      const t0 = Date.parse(res.body.anomalies[0].timeRange.startTimestamp) - 15_000 * a.bucketRange.startUnit;
      assert.equal(Date.parse(a.timeRange.endTimestamp), t0 + 15_000 * (a.bucketRange.endUnit + 1));
      assert.ok(a.score > 0 && a.score <= 1);
      assert.ok(a.confidence > 0 && a.confidence <= 1);
      assert.ok(res.body.anomalyScore >= a.score);
    });
  }

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
