import assert from 'node:assert/strict';
import { call, newTenant } from './helpers/http';

const series = (start: string, kwh: number[], stepMin = 1) =>
  kwh.map((v, i) => ({ timestamp: new Date(Date.parse(start) + i * stepMin * 60_000).toISOString(), value: v, measurand: 'Energy.Active.Import.Register', unit: 'kWh' }));

describe('GET /v1/sessions filters and pagination', function () {
  this.timeout(120_000);
  let key: string;
  const ids = (res: { body: { content: { sessionId: string }[] } }) => res.body.content.map((s) => s.sessionId).sort();

  before(async () => {
    ({ key } = await newTenant('list-filters'));
    const sessions = [
      // clean, station A, March
      { sessionId: 'L-clean-A', chargingStationId: 'ST-A', evseId: 'EVSE-A1', meterValues: series('2026-03-01T10:00:00Z', [0, 0.2, 0.4, 0.6, 0.8]) },
      // register drops and stays down: KWH_DECREASE, station A, April
      { sessionId: 'L-drop-A', chargingStationId: 'ST-A', evseId: 'EVSE-A2', meterValues: series('2026-04-01T10:00:00Z', [0, 0.2, 0.4, 0.6, 0.1, 0.15, 0.2, 0.25, 0.3]) },
      // register drops and stays down, station B, May
      { sessionId: 'L-drop-B', chargingStationId: 'ST-B', evseId: 'EVSE-B1', meterValues: series('2026-05-01T10:00:00Z', [10, 10.2, 10.4, 2, 2.1, 2.2, 2.3, 2.4]) },
      // pending (2 readings), station B
      { sessionId: 'L-pending-B', chargingStationId: 'ST-B', meterValues: series('2026-05-02T10:00:00Z', [0, 0.1]) },
    ];
    for (const s of sessions) {
      const res = await call('POST', '/v1/sessions', { key, body: s });
      assert.equal(res.status, 201, res.text);
    }
  });

  it('lists all, newest first, with the reference envelope', async () => {
    const res = await call('GET', '/v1/sessions', { key });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.pagination, { totalCount: 4, page: 1, size: 20 });
    assert.deepEqual(res.body.content.map((s: { sessionId: string }) => s.sessionId), ['L-pending-B', 'L-drop-B', 'L-drop-A', 'L-clean-A']);
    const item = res.body.content[1];
    for (const f of ['sessionId', 'chargingStationId', 'isAnomaly', 'anomalyScore', 'anomalyCount', 'status', 'createdAt', 'lastAnalyzedAt']) assert.ok(f in item, f);
  });

  it('each filter narrows', async () => {
    assert.deepEqual(ids(await call('GET', '/v1/sessions?chargingStationId=ST-A', { key })), ['L-clean-A', 'L-drop-A']);
    assert.deepEqual(ids(await call('GET', '/v1/sessions?charging_station_id=ST-B', { key })), ['L-drop-B', 'L-pending-B']);
    assert.deepEqual(ids(await call('GET', '/v1/sessions?evseId=EVSE-A2', { key })), ['L-drop-A']);
    assert.deepEqual(ids(await call('GET', '/v1/sessions?isAnomaly=true', { key })), ['L-drop-A', 'L-drop-B']);
    assert.deepEqual(ids(await call('GET', '/v1/sessions?is_anomaly=false', { key })), ['L-clean-A']);
    assert.deepEqual(ids(await call('GET', '/v1/sessions?minScore=0.01', { key })), ['L-drop-A', 'L-drop-B']);
    const all = await call('GET', '/v1/sessions?minConfidence=0', { key });
    assert.deepEqual(ids(all), ['L-clean-A', 'L-drop-A', 'L-drop-B'], 'pending sessions have no confidence');
    assert.deepEqual(ids(await call('GET', '/v1/sessions?dateFrom=2026-04-01T00:00:00Z&dateTo=2026-05-01T00:00:00Z', { key })), ['L-drop-A']);
    assert.deepEqual(ids(await call('GET', '/v1/sessions?date_from=2026-05-01T00:00:00%2B02:00', { key })), ['L-drop-B', 'L-pending-B']);
    assert.deepEqual(ids(await call('GET', '/v1/sessions?chargingStationId=ST-B&isAnomaly=true', { key })), ['L-drop-B']);
  });

  it('paginates with a stable order', async () => {
    const p1 = await call('GET', '/v1/sessions?pageSize=3&page=1', { key });
    const p2 = await call('GET', '/v1/sessions?page_size=3&page=2', { key });
    assert.equal(p1.body.content.length, 3);
    assert.equal(p2.body.content.length, 1);
    assert.deepEqual(p2.body.pagination, { totalCount: 4, page: 2, size: 3 });
    const seen = [...p1.body.content, ...p2.body.content].map((s: { sessionId: string }) => s.sessionId);
    assert.equal(new Set(seen).size, 4);
  });

  it('out-of-range paging and bad filters are 422', async () => {
    for (const q of ['page=0', 'pageSize=101', 'pageSize=0', 'isAnomaly=maybe', 'minScore=2', 'dateFrom=yesterday']) {
      const res = await call('GET', `/v1/sessions?${q}`, { key });
      assert.equal(res.status, 422, q);
      assert.ok(res.body.detail);
    }
  });
});
