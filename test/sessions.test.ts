import assert from 'node:assert/strict';
import { sessionWorkflowId } from '../workflows/session/contract';
import { lastAnalysisQuery } from '../workflows/session/contract';
import { call, newTenant } from './helpers/http';
import { stack } from './helpers/stack';

const REFERENCE_EXAMPLE = {
  chargingStationId: 'CP-NL-AMS-0042',
  connectorId: '1',
  evseId: 'NL*ABC*E12345',
  sessionId: 'sess-abc-001',
  meterValues: [
    { measurand: 'Energy.Active.Import.Register', timestamp: '2026-02-27T10:00:00Z', unit: 'kWh', value: 0 },
    { measurand: 'Power.Active.Import', timestamp: '2026-02-27T10:00:00Z', unit: 'kW', value: 0 },
    { measurand: 'SoC', timestamp: '2026-02-27T10:00:00Z', unit: 'Percent', value: 80, location: 'EV' },
    { measurand: 'Energy.Active.Import.Register', timestamp: '2026-02-27T10:15:00Z', unit: 'kWh', value: 5.5 },
    { measurand: 'Power.Active.Import', timestamp: '2026-02-27T10:15:00Z', unit: 'kW', value: 22 },
    { measurand: 'SoC', timestamp: '2026-02-27T10:15:00Z', unit: 'Percent', value: 65, location: 'EV' },
    { measurand: 'Energy.Active.Import.Register', timestamp: '2026-02-27T10:30:00Z', unit: 'kWh', value: 11.1 },
    { measurand: 'Power.Active.Import', timestamp: '2026-02-27T10:30:00Z', unit: 'kW', value: 22 },
    { measurand: 'SoC', timestamp: '2026-02-27T10:30:00Z', unit: 'Percent', value: 50, location: 'EV' },
  ],
};

const energy = (minute: number, kwh: number, base = '2026-03-01T08:00:00Z') => ({
  timestamp: new Date(Date.parse(base) + minute * 60_000).toISOString(),
  value: kwh,
  measurand: 'Energy.Active.Import.Register',
  unit: 'kWh',
});

describe('sessions over HTTP', function () {
  this.timeout(120_000);
  let key: string;
  let tenantId: string;
  before(async () => {
    ({ key, tenantId } = await newTenant('sessions'));
  });

  it('the reference example: 201 with a verdict, then 200 on re-POST (idempotent)', async () => {
    const first = await call('POST', '/v1/sessions', { key, body: REFERENCE_EXAMPLE });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.body.sessionId, 'sess-abc-001');
    assert.equal(first.body.chargingStationId, 'CP-NL-AMS-0042');
    assert.equal(first.body.connectorId, '1');
    assert.equal(first.body.evseId, 'NL*ABC*E12345');
    assert.equal(first.body.status, 'active');
    assert.equal(typeof first.body.isAnomaly, 'boolean');
    assert.equal(typeof first.body.anomalyScore, 'number');
    assert.equal(typeof first.body.anomalyConfidence, 'number');
    assert.equal(first.body.isIncident, false);
    assert.equal(typeof first.body.isRecurring, 'boolean');
    assert.equal(first.body.socReconstructed, false);
    assert.match(first.body.analyzedAt, /Z$/);
    assert.match(first.body.createdAt, /Z$/);
    // SoC falls from 80 to 50 while 11 kWh flow in: impossible.
    const soc = first.body.anomalies.find((a: { category: string }) => a.category === 'UNEXPECTED_CHARGE_LEVEL_CHANGES');
    assert.ok(soc, JSON.stringify(first.body.anomalies));
    assert.ok(soc.bucketRange.startUnit >= 0 && soc.bucketRange.endUnit >= soc.bucketRange.startUnit);
    assert.match(soc.timeRange.startTimestamp, /^2026-02-27T10:.*Z$/);

    const again = await call('POST', '/v1/sessions', { key, body: REFERENCE_EXAMPLE });
    assert.equal(again.status, 200);
    const detail = await call('GET', '/v1/sessions/sess-abc-001', { key });
    assert.equal(detail.status, 200);
    assert.equal(detail.body.meterValues.length, 9, 're-POST replaced, did not duplicate');
    assert.equal(detail.body.readingCount, 9);
    assert.deepEqual(detail.body.reconstructedSoc, []);
    assert.equal(detail.body.sorcConfidence, null);
    // One timestamp format everywhere: the reference's whole seconds with Z.
    assert.equal(detail.body.meterValues[0].timestamp, '2026-02-27T10:00:00Z');
  });

  it('accepts the snake_case request of the older reference', async () => {
    const res = await call('POST', '/v1/sessions', {
      key,
      body: { session_id: 'snake-1', charging_station_id: 'CP-SNAKE', meter_values: [energy(0, 0), energy(1, 0.2)] },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.chargingStationId, 'CP-SNAKE');
  });

  it('fewer than 3 readings stay pending with a message; PATCH accumulates; empty PATCH returns the state', async () => {
    const created = await call('POST', '/v1/sessions', { key, body: { sessionId: 'acc-1', chargingStationId: 'CP-ACC', meterValues: [energy(0, 0), energy(1, 0.1)] } });
    assert.equal(created.status, 201);
    assert.equal(created.body.status, 'pending');
    assert.equal(created.body.isAnomaly, null);
    assert.ok(created.body.message);
    const patched = await call('PATCH', '/v1/sessions/acc-1', { key, body: { meterValues: [energy(2, 0.2), energy(3, 0.3)] } });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.status, 'active');
    const empty = await call('PATCH', '/v1/sessions/acc-1', { key, body: { meterValues: [] } });
    assert.equal(empty.status, 200);
    assert.equal(empty.body.analyzedAt, patched.body.analyzedAt);
    const detail = await call('GET', '/v1/sessions/acc-1', { key });
    assert.equal(detail.body.meterValues.length, 4);
  });

  it('PUT replaces and needs at least one reading', async () => {
    await call('POST', '/v1/sessions', { key, body: { sessionId: 'put-1', chargingStationId: 'CP-PUT', meterValues: [energy(0, 0), energy(1, 0.1), energy(2, 0.2)] } });
    const put = await call('PUT', '/v1/sessions/put-1', { key, body: { meterValues: [energy(10, 1), energy(11, 1.1), energy(12, 1.2), energy(13, 1.3)] } });
    assert.equal(put.status, 200);
    const detail = await call('GET', '/v1/sessions/put-1', { key });
    assert.deepEqual(detail.body.meterValues.map((m: { value: number }) => m.value), [1, 1.1, 1.2, 1.3]);
    const empty = await call('PUT', '/v1/sessions/put-1', { key, body: { meterValues: [] } });
    assert.equal(empty.status, 422);
    assert.match(empty.body.detail, /meterValues/);
  });

  it('unknown sessions and other tenants\' sessions are 404 for every verb', async () => {
    const other = await newTenant('sessions-other');
    for (const k of [key, other.key]) {
      const id = k === key ? 'does-not-exist' : 'sess-abc-001';
      assert.equal((await call('GET', `/v1/sessions/${id}`, { key: k })).status, 404);
      assert.equal((await call('PUT', `/v1/sessions/${id}`, { key: k, body: { meterValues: [energy(0, 1)] } })).status, 404);
      assert.equal((await call('PATCH', `/v1/sessions/${id}`, { key: k, body: { meterValues: [energy(0, 1)] } })).status, 404);
    }
    const list = await call('GET', '/v1/sessions', { key: other.key });
    assert.equal(list.body.pagination.totalCount, 0);
  });

  it('invalid readings are a 422 naming index and field, and nothing is stored', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...energy(2, 1), timestamp: '1970-01-01T00:00:00Z' }, 'timestamp'],
      [{ ...energy(2, 1), timestamp: new Date(Date.now() + 3 * 86400_000).toISOString() }, 'timestamp'],
      [{ ...energy(2, 1), value: -1 }, 'value'],
      [{ ...energy(2, 1), value: 2e10 }, 'value'],
      [{ ...energy(2, 1), unit: 'furlongs' }, 'unit'],
    ];
    for (const [bad, field] of cases) {
      const res = await call('POST', '/v1/sessions', { key, body: { sessionId: 'bad-1', chargingStationId: 'CP-BAD', meterValues: [energy(0, 0), energy(1, 0.5), bad] } });
      assert.equal(res.status, 422, `${field}: ${res.text}`);
      assert.deepEqual(res.body.errors[0].loc, ['body', 'meterValues', 2, field]);
      assert.match(res.body.detail, new RegExp(`meterValues\\[2\\]\\.${field}`));
    }
    assert.equal((await call('GET', '/v1/sessions/bad-1', { key })).status, 404, 'a rejected create stores nothing');
    const nonNumber = await call('POST', '/v1/sessions', { key, body: { sessionId: 'bad-1', chargingStationId: 'CP-BAD', meterValues: [{ timestamp: '2026-01-01T00:00:00Z', value: 'x' }] } });
    assert.equal(nonNumber.status, 422);
    assert.deepEqual(nonNumber.body.errors[0].loc, ['body', 'meterValues', 0, 'value']);
    const before = (await call('GET', '/v1/sessions/acc-1', { key })).body.meterValues.length;
    const badPatch = await call('PATCH', '/v1/sessions/acc-1', { key, body: { meterValues: [energy(5, 1), { ...energy(6, 1), value: Number.MAX_VALUE }] } });
    assert.equal(badPatch.status, 422);
    assert.equal((await call('GET', '/v1/sessions/acc-1', { key })).body.meterValues.length, before, 'a rejected append stores nothing');
  });

  it('20 concurrent PATCHes lose nothing and the final analysis sees all of them', async () => {
    await call('POST', '/v1/sessions', { key, body: { sessionId: 'conc-1', chargingStationId: 'CP-CONC', meterValues: [energy(0, 0), energy(1, 0.2), energy(2, 0.4)] } });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call('PATCH', '/v1/sessions/conc-1', { key, body: { meterValues: [energy(3 + i, 0.6 + 0.2 * i)] } })),
    );
    for (const r of results) assert.equal(r.status, 200, r.text);
    const detail = await call('GET', '/v1/sessions/conc-1', { key });
    assert.equal(detail.body.meterValues.length, 23);
    assert.equal(detail.body.readingCount, 23);
    const handle = stack().env.client.workflow.getHandle(sessionWorkflowId(tenantId, 'conc-1'));
    const last = await handle.query(lastAnalysisQuery);
    assert.equal(last?.readingCount, 23, 'the last analysis ran over all 23 readings');
  });

  it('the actor is visible in Temporal with search attributes, and closes when the client completes the session', async () => {
    await call('POST', '/v1/sessions', { key, body: { sessionId: 'close-1', chargingStationId: 'CP-CLOSE', meterValues: [energy(0, 0), energy(1, 0.2), energy(2, 0.4)] } });
    const handle = stack().env.client.workflow.getHandle(sessionWorkflowId(tenantId, 'close-1'));
    const desc = await handle.describe();
    assert.equal(desc.status.name, 'RUNNING');
    assert.equal(desc.typedSearchAttributes.getAll().find((p) => p.key.name === 'EvniTenantId')?.value, tenantId);
    assert.equal(desc.typedSearchAttributes.getAll().find((p) => p.key.name === 'EvniChargingStationId')?.value, 'CP-CLOSE');
    assert.equal(desc.typedSearchAttributes.getAll().find((p) => p.key.name === 'EvniIsAnomaly')?.value, false);
    const closed = await call('PATCH', '/v1/sessions/close-1', { key, body: { status: 'completed', stopReason: 'EVDisconnected' } });
    assert.equal(closed.status, 200);
    assert.equal(closed.body.stopReason, 'EVDisconnected');
    const final = await handle.result();
    assert.equal(final?.clientStatus, 'completed');
    // A closed session still accepts corrections: a new run of the same workflow id starts.
    const reopened = await call('PATCH', '/v1/sessions/close-1', { key, body: { meterValues: [energy(3, 0.6)] } });
    assert.equal(reopened.status, 200);
    assert.equal((await call('GET', '/v1/sessions/close-1', { key })).body.meterValues.length, 4);
  });
});
