import assert from 'node:assert/strict';
import { categoryFixtures, cleanFixtures, pendingFixtures } from './fixtures/sessions';
import { call, newTenant } from './helpers/http';
import { stack } from './helpers/stack';
import { waitFor } from './helpers/wait';

const kwh = (minute: number, v: number) => ({
  timestamp: new Date(Date.parse('2026-03-02T08:00:00Z') + minute * 60_000).toISOString(),
  value: v,
  measurand: 'Energy.Active.Import.Register',
  unit: 'kWh',
});

async function completed(key: string, batchId: string, query = '') {
  return waitFor(`batch ${batchId}`, async () => {
    const res = await call('GET', `/v1/sessions/batch/${batchId}${query}`, { key });
    assert.equal(res.status, 200, res.text);
    return res.body.status === 'completed' ? res.body : undefined;
  });
}

async function count(sql: string, params: unknown[]) {
  const rows = await stack().orm.em.getConnection().execute(sql, params);
  return Number(rows[0].n);
}

describe('batches', function () {
  this.timeout(120_000);
  let key: string;
  let tenantId: string;
  before(async () => {
    ({ key, tenantId } = await newTenant('batches'));
  });

  it('processes every session as an ordinary session and reports results in order', async () => {
    const anomalous = categoryFixtures.find((f) => f.expect.category === 'KWH_DECREASE')!;
    const clean = cleanFixtures[0];
    const pending = pendingFixtures[0];
    const sessions = [
      { sessionId: 'b-anom', chargingStationId: 'CP-B1', connectorId: 2, meterValues: anomalous.values },
      { sessionId: 'b-clean', chargingStationId: 'CP-B1', evseId: 'EVSE-9', meterValues: clean.values, metadata: clean.metadata },
      { sessionId: 'b-pending', chargingStationId: 'CP-B2', meterValues: pending.values },
    ];
    const res = await call('POST', '/v1/sessions/batch', { key, body: { sessions } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.totalSessions, 3);
    assert.equal(res.body.status, 'pending');
    const done = await completed(key, res.body.batchId);
    assert.equal(done.processedSessions, 3);
    assert.equal(done.failedSessions, 0);
    assert.match(done.completedAt, /Z$/);
    assert.deepEqual(done.results.map((r: { sessionId: string }) => r.sessionId), ['b-anom', 'b-clean', 'b-pending']);
    const [a, c, p] = done.results;
    assert.equal(a.isAnomaly, true);
    assert.deepEqual(a.anomalies.map((x: { category: string }) => x.category), ['KWH_DECREASE']);
    assert.deepEqual(a.anomalies[0].bucketRange, anomalous.expect.bucketRange);
    assert.equal(a.connectorId, '2');
    assert.equal(c.isAnomaly, false);
    assert.equal(c.evseId, 'EVSE-9');
    assert.equal(p.status, 'pending');
    assert.ok(p.message);
    // The same verdict as the interactive path.
    const one = await call('GET', '/v1/sessions/b-anom', { key });
    assert.equal(one.status, 200);
    assert.equal(one.body.meterValues.length, anomalous.values.length);
    assert.deepEqual(one.body.anomalies, a.anomalies);
    const list = await call('GET', '/v1/sessions?chargingStationId=CP-B1', { key });
    assert.equal(list.body.pagination.totalCount, 2);
    const paged = await call('GET', `/v1/sessions/batch/${res.body.batchId}?pageSize=2&page=2`, { key });
    assert.deepEqual(paged.body.results.map((r: { sessionId: string }) => r.sessionId), ['b-pending']);
    assert.equal(paged.body.page, 2);
  });

  it('upserts like POST: a batch item replaces an existing session\'s readings', async () => {
    await call('POST', '/v1/sessions', { key, body: { sessionId: 'b-upsert', chargingStationId: 'CP-U', meterValues: [kwh(0, 0), kwh(1, 0.1), kwh(2, 0.2)] } });
    const res = await call('POST', '/v1/sessions/batch', { key, body: { sessions: [{ sessionId: 'b-upsert', chargingStationId: 'CP-U', meterValues: [kwh(0, 5), kwh(1, 5.2), kwh(2, 5.4), kwh(3, 5.6)] }] } });
    await completed(key, res.body.batchId);
    const one = await call('GET', '/v1/sessions/b-upsert', { key });
    assert.deepEqual(one.body.meterValues.map((m: { value: number }) => m.value), [5, 5.2, 5.4, 5.6]);
    // …and the session actor can still append after the batch.
    const patched = await call('PATCH', '/v1/sessions/b-upsert', { key, body: { meterValues: [kwh(4, 5.8)] } });
    assert.equal(patched.status, 200);
    assert.equal((await call('GET', '/v1/sessions/b-upsert', { key })).body.meterValues.length, 5);
  });

  it('accepts the older snake_case request (charging_point_id)', async () => {
    const res = await call('POST', '/v1/sessions/batch', {
      key,
      body: { sessions: [{ session_id: 'b-snake', charging_point_id: 'CP-SNAKE-B', meter_values: [kwh(0, 0), kwh(15, 5.5), kwh(30, 11.1)] }] },
    });
    assert.equal(res.status, 200, res.text);
    const done = await completed(key, res.body.batchId);
    assert.equal(done.results[0].chargingStationId, 'CP-SNAKE-B');
  });

  it('rejects a batch with one bad session whole: 422 names session index and field, nothing stored', async () => {
    const batchesBefore = await count('select count(*) n from batches where tenant_id = ?', [tenantId]);
    const sessionsBefore = await count('select count(*) n from charging_sessions where tenant_id = ?', [tenantId]);
    const sessions = [
      { sessionId: 'b-ok', chargingStationId: 'CP-X', meterValues: [kwh(0, 0), kwh(1, 0.1), kwh(2, 0.2)] },
      { sessionId: 'b-bad', chargingStationId: 'CP-X', meterValues: [kwh(0, 0), { ...kwh(1, 0.1), timestamp: '1970-01-01T00:00:00Z' }] },
    ];
    const res = await call('POST', '/v1/sessions/batch', { key, body: { sessions } });
    assert.equal(res.status, 422);
    assert.deepEqual(res.body.errors[0].loc, ['body', 'sessions', 1, 'meterValues', 1, 'timestamp']);
    assert.match(res.body.detail, /sessions\.1\.meterValues\.1\.timestamp/);
    const dup = await call('POST', '/v1/sessions/batch', { key, body: { sessions: [sessions[0], sessions[0]] } });
    assert.equal(dup.status, 422);
    assert.deepEqual(dup.body.errors[0].loc, ['body', 'sessions', 1, 'sessionId']);
    const shape = await call('POST', '/v1/sessions/batch', { key, body: { sessions: [{ sessionId: 'x' }] } });
    assert.equal(shape.status, 422);
    assert.deepEqual(shape.body.errors[0].loc, ['body', 'sessions', 0, 'chargingStationId']);
    assert.equal((await call('POST', '/v1/sessions/batch', { key, body: { sessions: [] } })).status, 422);
    assert.equal(await count('select count(*) n from batches where tenant_id = ?', [tenantId]), batchesBefore);
    assert.equal(await count('select count(*) n from charging_sessions where tenant_id = ?', [tenantId]), sessionsBefore);
  });

  it('Idempotency-Key: a retried submit returns the same batch; another body with that key is a 409', async () => {
    const body = { sessions: [{ sessionId: 'b-idem', chargingStationId: 'CP-I', meterValues: [kwh(0, 0), kwh(1, 0.1), kwh(2, 0.2)] }] };
    const headers = { 'idempotency-key': `idem-${Date.now()}` };
    const results = await Promise.all([1, 2, 3].map(() => call('POST', '/v1/sessions/batch', { key, body, headers })));
    for (const r of results) assert.equal(r.status, 200, r.text);
    assert.equal(new Set(results.map((r) => r.body.batchId)).size, 1, 'concurrent retries made one batch');
    await completed(key, results[0].body.batchId);
    const again = await call('POST', '/v1/sessions/batch', { key, body, headers });
    assert.equal(again.body.batchId, results[0].body.batchId);
    assert.equal(again.body.status, 'completed');
    const other = await call('POST', '/v1/sessions/batch', { key, body: { sessions: [{ ...body.sessions[0], sessionId: 'b-idem-2' }] }, headers });
    assert.equal(other.status, 409);
    assert.ok(other.body.detail);
  });

  it('another tenant\'s batch and unknown ids are 404', async () => {
    const res = await call('POST', '/v1/sessions/batch', { key, body: { sessions: [{ sessionId: 'b-mine', chargingStationId: 'CP-M', meterValues: [kwh(0, 0)] }] } });
    const other = await newTenant('batches-other');
    assert.equal((await call('GET', `/v1/sessions/batch/${res.body.batchId}`, { key: other.key })).status, 404);
    assert.equal((await call('GET', '/v1/sessions/batch/00000000-0000-0000-0000-000000000000', { key })).status, 404);
    assert.equal((await call('GET', '/v1/sessions/batch/not-a-uuid', { key })).status, 404);
  });

  it('a larger batch runs in several chunks with every session processed exactly once', async () => {
    const sessions = Array.from({ length: 450 }, (_, i) => ({
      sessionId: `b-many-${i}`,
      chargingStationId: `CP-MANY-${i % 7}`,
      meterValues: Array.from({ length: 12 }, (_, k) => kwh(k * 5, k * 0.9)),
    }));
    const res = await call('POST', '/v1/sessions/batch', { key, body: { sessions } });
    assert.equal(res.status, 200, res.text);
    const done = await completed(key, res.body.batchId, '?pageSize=100&page=5');
    assert.equal(done.processedSessions, 450);
    assert.equal(done.results.length, 50);
    assert.equal(await count(`select count(*) n from meter_values m join charging_sessions s on s.id = m.session_id where s.tenant_id = ? and s.session_id like 'b-many-%'`, [tenantId]), 450 * 12);
    assert.equal(await count(`select count(*) n from batch_items where batch_id = ? and state = 'done' and processed_at is not null`, [res.body.batchId]), 450);
  });
});
