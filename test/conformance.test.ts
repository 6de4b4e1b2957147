// Issue 21's decisions, pinned: unrouted methods, the reserved "batch" session id, anomalyCount by
// category, malformed JSON and content types, list filter spellings, one timestamp format,
// duplicate session ids in a batch, and what the document and /llms.txt say.
import assert from 'node:assert/strict';
import http from 'node:http';
import { storeVerdicts } from '../domain/sessions/analysis';
import { sql } from '../db/sql';
import { call, newTenant } from './helpers/http';
import { stack } from './helpers/stack';

const reading = (minute: number, value: number) => ({
  timestamp: new Date(Date.parse('2026-03-07T08:00:00Z') + minute * 60_000).toISOString(),
  value,
  measurand: 'Energy.Active.Import.Register',
  unit: 'kWh',
});

/** Any method, also those fetch refuses to send (TRACE). */
function raw(method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const url = new URL(stack().apiUrl + path);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

describe('conformance (issue 21)', () => {
  let key: string;
  before(async () => {
    ({ key } = await newTenant('conformance'));
  });

  describe('methods', () => {
    for (const method of ['TRACE', 'QUERY', 'PROPFIND']) {
      for (const path of ['/healthz', '/v1/sessions', '/v1/sessions/x', '/openapi.json']) {
        it(`${method} ${path} → 405 with Allow, no 500, no "unhandled error" log`, async () => {
          const before = stack().logLines.length;
          const res = await raw(method, path);
          assert.equal(res.status, 405, res.body);
          assert.ok(res.headers.allow, 'Allow header');
          assert.match(JSON.parse(res.body).detail, new RegExp(method));
          assert.ok(!stack().logLines.slice(before).some((l) => l.msg === 'unhandled error'));
        });
      }
    }

    it('a method implemented nowhere on an unknown path → 501; a known method → 404', async () => {
      const res = await raw('PROPFIND', '/nowhere');
      assert.equal(res.status, 501);
      assert.match(JSON.parse(res.body).detail, /PROPFIND/);
      assert.equal((await raw('GET', '/nowhere')).status, 404);
    });

    it('Allow lists exactly the documented methods (HEAD with GET, and OPTIONS); OPTIONS → 204', async () => {
      const doc = (await call('GET', '/openapi.json')).body;
      for (const [path, ops] of Object.entries(doc.paths as Record<string, object>)) {
        const concrete = path.replace(/\{\w+\}/g, 'some-id');
        const res = await raw('OPTIONS', concrete);
        assert.equal(res.status, 204, `${path}: ${res.body}`);
        const documented = Object.keys(ops).map((m) => m.toUpperCase());
        const allow = String(res.headers.allow).split(', ');
        assert.deepEqual(allow.filter((m) => m !== 'HEAD' && m !== 'OPTIONS').sort(), documented.sort(), path);
      }
    });

    it('GET, PUT and PATCH /v1/sessions/batch are 405 (Allow: POST): never a session named "batch"', async () => {
      for (const method of ['GET', 'PUT', 'PATCH', 'DELETE']) {
        const res = await call(method, '/v1/sessions/batch', { key, ...(method === 'GET' || method === 'DELETE' ? {} : { body: { meterValues: [reading(0, 1)] } }) });
        assert.equal(res.status, 405, `${method}: ${res.text}`);
        assert.equal(res.headers.get('allow'), 'POST, OPTIONS');
      }
    });

    it('the session id "batch" is reserved: POST and batch items → 422 naming the field', async () => {
      const res = await call('POST', '/v1/sessions', { key, body: { sessionId: 'batch', chargingStationId: 'CP-1' } });
      assert.equal(res.status, 422);
      assert.deepEqual(res.body.errors[0].loc, ['body', 'sessionId']);
      assert.match(res.body.detail, /reserved/);
      const b = await call('POST', '/v1/sessions/batch', { key, body: { sessions: [{ sessionId: 'batch', chargingStationId: 'CP-1' }] } });
      assert.equal(b.status, 422);
      assert.deepEqual(b.body.errors[0].loc, ['body', 'sessions', 0, 'sessionId']);
    });
  });

  it('anomalyCount counts categories, not anomaly ranges', async () => {
    const t = await newTenant('conformance-count');
    const created = await call('POST', '/v1/sessions', { key: t.key, body: { sessionId: 'count-1', chargingStationId: 'CP-COUNT', meterValues: [reading(0, 1), reading(5, 2), reading(10, 3)] } });
    assert.equal(created.status, 201, created.text);
    const em = stack().orm.em.fork();
    const [{ id }] = await sql(em, 'select id from charging_sessions where tenant_id = ? and session_id = ?', [t.tenantId, 'count-1']);
    const range = (category: string, s: number) => ({
      category,
      score: 0.9,
      confidence: 0.8,
      bucketRange: { startUnit: s, endUnit: s + 2 },
      timeRange: { startTimestamp: reading(s, 0).timestamp, endTimestamp: reading(s + 1, 0).timestamp },
    });
    const verdict = { status: 'active', isAnomaly: true, anomalyScore: 0.9, anomalyConfidence: 0.8, message: null, anomalies: [range('ENERGY_PIT', 1), range('ENERGY_PIT', 10), range('KWH_DECREASE', 20)], quality: null, window: null, detector: 'test' };
    await em.transactional((tem) => storeVerdicts(tem, t.tenantId, [{ sessionDbId: id, verdict: verdict as never }]));
    const list = await call('GET', '/v1/sessions', { key: t.key });
    assert.equal(list.body.content[0].anomalyCount, 2);
    assert.equal((await call('GET', '/v1/sessions/count-1', { key: t.key })).body.anomalies.length, 3);
  });

  describe('request bodies', () => {
    it('malformed JSON → 422 (sessions too); a JSON null body → 422', async () => {
      const res = await call('POST', '/v1/sessions', { key, raw: '{"sessionId": "x",', headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 422);
      assert.match(res.body.detail, /Malformed JSON/);
      const nul = await call('PATCH', '/v1/sessions/x', { key, raw: 'null', headers: { 'content-type': 'application/json' } });
      assert.equal(nul.status, 422, nul.text);
    });

    it('a body whose Content-Type is not JSON → 415 (documented); none → read as JSON', async () => {
      const res = await call('POST', '/v1/api-keys', { key, raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(res.status, 415);
      assert.match(res.body.detail, /application\/json/);
      const batch = await call('POST', '/v1/sessions/batch', { key, raw: 'x', headers: { 'content-type': 'text/plain' } });
      assert.equal(batch.status, 415);
      const doc = (await call('GET', '/openapi.json')).body;
      assert.ok(doc.paths['/v1/sessions'].post.responses['415']);
      assert.equal(doc.paths['/v1/sessions/{session_id}'].patch.requestBody.required, false, "PATCH's body is optional");
      assert.equal(doc.paths['/v1/sessions'].post.requestBody.required, true);
    });

    it('connectorId: a string or a non-negative integer, answered as a string', async () => {
      const res = await call('POST', '/v1/sessions', { key, body: { sessionId: 'conn-int', chargingStationId: 'CP-C', connectorId: 2 } });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.connectorId, '2');
      assert.equal((await call('POST', '/v1/sessions', { key, body: { sessionId: 'conn-neg', chargingStationId: 'CP-C', connectorId: -1 } })).status, 422);
    });
  });

  describe('list filters', () => {
    let t: { key: string };
    before(async () => {
      t = await newTenant('conformance-filters');
      for (const [id, day] of [['f-1', '2026-03-01'], ['f-2', '2026-03-02'], ['f-3', '2026-03-03']]) {
        const r = await call('POST', '/v1/sessions', { key: t.key, body: { sessionId: id, chargingStationId: 'CP-F', meterValues: [{ ...reading(0, 1), timestamp: `${day}T12:00:00Z` }] } });
        assert.equal(r.status, 201, r.text);
      }
    });
    const ids = async (query: string) => {
      const res = await call('GET', `/v1/sessions?${query}`, { key: t.key });
      assert.equal(res.status, 200, res.text);
      return res.body.content.map((s: { sessionId: string }) => s.sessionId).sort();
    };

    it('date-only (midnight UTC) and offset-less (UTC) dates', async () => {
      assert.deepEqual(await ids('dateFrom=2026-03-02'), ['f-2', 'f-3']);
      assert.deepEqual(await ids('dateFrom=2026-03-02&dateTo=2026-03-03'), ['f-2']);
      assert.deepEqual(await ids('date_from=2026-03-02T12:00:00&date_to=2026-03-02T12:00:01'), ['f-2']);
      assert.deepEqual(await ids('dateFrom=2026-03-02T13:00:00%2B01:00&dateTo=2026-03-02T12:00:01Z'), ['f-2']);
      for (const bad of ['2026-02-30', '2026-03-02T25:00', 'yesterday', '0000-00-00T00:00']) {
        const res = await call('GET', `/v1/sessions?dateFrom=${bad}`, { key: t.key });
        assert.equal(res.status, 422, bad);
        assert.deepEqual(res.body.errors[0].loc, ['query', 'dateFrom']);
      }
    });

    it('booleans: true/false in any case, 1/0', async () => {
      for (const v of ['true', 'True', 'TRUE', '1']) assert.deepEqual(await ids(`isAnomaly=${v}`), [], v);
      for (const v of ['false', 'False', '0']) assert.equal((await call('GET', `/v1/sessions?isAnomaly=${v}`, { key: t.key })).status, 200, v);
      assert.equal((await call('GET', '/v1/sessions?isAnomaly=yes', { key: t.key })).status, 422);
    });
  });

  it('one timestamp format in every response: UTC, Z, milliseconds only when there are some', async () => {
    const created = await call('POST', '/v1/sessions', { key, body: { sessionId: 'ts-1', chargingStationId: 'CP-TS', meterValues: [reading(0, 1), { ...reading(1, 2), timestamp: '2026-03-07T09:01:00.250+01:00' }, reading(2, 3)] } });
    assert.equal(created.status, 201, created.text);
    const detail = (await call('GET', '/v1/sessions/ts-1', { key })).body;
    assert.deepEqual(detail.meterValues.map((m: { timestamp: string }) => m.timestamp), ['2026-03-07T08:00:00Z', '2026-03-07T08:01:00.250Z', '2026-03-07T08:02:00Z']);
    const keys = (await call('GET', '/v1/api-keys', { key })).body.items;
    const list = (await call('GET', '/v1/sessions', { key })).body.content;
    const stamps = [detail.createdAt, detail.analyzedAt, list[0].createdAt, keys[0].createdAt, keys[0].lastUsedAt].filter((v) => v !== null);
    for (const s of stamps) assert.match(s, TIMESTAMP);
    const doc = (await call('GET', '/openapi.json')).body;
    assert.equal(doc.components.schemas.SessionListItem.properties.createdAt.format, 'date-time');
    assert.equal(doc.components.schemas.SessionListItem.properties.createdAt.pattern, TIMESTAMP.source);
  });

  it('a key created without an expiry answers expiresAt: null (documented), one with an expiry in the future its time', async () => {
    const plain = await call('POST', '/v1/api-keys', { key, body: { name: 'no-expiry' } });
    assert.equal(plain.body.expiresAt, null);
    const future = await call('POST', '/v1/api-keys', { key, body: { name: 'expiring', expiresAt: '2099-01-01T00:00:00+01:00' } });
    assert.equal(future.body.expiresAt, '2098-12-31T23:00:00Z');
    assert.equal((await call('POST', '/v1/api-keys', { key, body: { name: 'past', expiresAt: '2020-01-01T00:00:00Z' } })).status, 422);
    const doc = (await call('GET', '/openapi.json')).body;
    assert.match(doc.components.schemas.ApiKey.properties.expiresAt.description, /never expires/);
  });

  it('a sessionId twice in one batch: the last occurrence wins, the earlier one is reported as superseded', async () => {
    const t = await newTenant('conformance-dup');
    const res = await call('POST', '/v1/sessions/batch', {
      key: t.key,
      body: {
        sessions: [
          { sessionId: 'dup-1', chargingStationId: 'CP-FIRST', connectorId: '1', meterValues: [reading(0, 1), reading(5, 2), reading(10, 3)] },
          { sessionId: 'other', chargingStationId: 'CP-OTHER', meterValues: [reading(0, 1)] },
          { sessionId: 'dup-1', chargingStationId: 'CP-LAST', meterValues: [reading(0, 4), reading(5, 5)] },
        ],
      },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.totalSessions, 3);
    const status = await (async () => {
      for (let i = 0; i < 200; i++) {
        const s = await call('GET', `/v1/sessions/batch/${res.body.batchId}`, { key: t.key });
        if (s.body.status === 'completed') return s.body;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('batch did not complete');
    })();
    assert.equal(status.processedSessions, 3);
    assert.equal(status.failedSessions, 0);
    assert.equal(status.results.length, 3);
    assert.match(status.results[0].message, /Superseded by sessions\[2\]/);
    assert.equal(status.results[0].chargingStationId, 'CP-LAST');
    const detail = (await call('GET', '/v1/sessions/dup-1', { key: t.key })).body;
    assert.equal(detail.chargingStationId, 'CP-LAST');
    assert.equal(detail.connectorId, null, 'nothing of the superseded occurrence is applied');
    assert.deepEqual(detail.meterValues.map((m: { value: number }) => m.value), [4, 5]);
  });

  it('the model type vocabulary: the reference\'s, and sorc as a documented extension', async () => {
    const doc = (await call('GET', '/openapi.json')).body;
    assert.deepEqual(doc.components.schemas.Model.properties.type.enum, ['csar_2', 'csar_c_2', 'shade', 'sorc']);
    assert.match(doc.components.schemas.Model.properties.type.description, /extension sorc/);
    const models = (await call('GET', '/v1/models', { key })).body.models;
    assert.ok(models.some((m: { type: string }) => m.type === 'sorc'));
  });

  it('the document states the server\'s rules: bounds, OCPP vocabularies, the NUL rule, reading timestamps', async () => {
    const doc = (await call('GET', '/openapi.json')).body;
    const mv = doc.components.schemas.MeterValue.properties;
    assert.equal(mv.value.minimum, 0);
    assert.equal(mv.value.maximum, 10_000_000_000);
    assert.equal(mv.timestamp.format, 'date-time');
    assert.deepEqual([mv.multiplier.minimum, mv.multiplier.maximum], [-9, 9]);
    assert.ok(mv.unit.anyOf[0].enum.includes('kWh'));
    assert.ok(new RegExp(mv.unit.anyOf[1].pattern).test(' KWH '));
    assert.ok(!new RegExp(mv.unit.anyOf[1].pattern).test('furlongs'));
    assert.ok(mv.measurand.anyOf[0].enum.includes('Energy.Active.Import.Register'));
    assert.equal(doc.components.schemas.SessionCreateRequest.properties.chargingStationId.pattern, '^[^\\u0000]*$');
  });

  it('/llms.txt has the reference\'s sections: categories, key schemas, webhook events', async () => {
    const text = (await call('GET', '/llms.txt')).text;
    for (const part of ['## Anomaly categories', 'ZERO_SESSION', 'CHARGING_EXPECTED', '## Key schemas', 'SessionCreateRequest — sessionId*', 'MeterValue — timestamp*', 'AnomalyDetail', 'ErrorResponse', '## Webhooks', 'station.anomaly_detected']) {
      assert.ok(text.includes(part), part);
    }
  });
});
