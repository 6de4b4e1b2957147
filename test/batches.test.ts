import assert from 'node:assert/strict';
import http from 'node:http';
import pino from 'pino';
import { listen } from '../api/server';
import { config } from '../config';
import { finishBatch, processChunk as processChunkWith } from '../domain/batches/batches';
import { discardBatch, stageBatch } from '../domain/batches/staging';
import { parseTimestamp, timestampMicros } from '../domain/analysis/validate';
import { loadReadingsOf, verdictsFor } from '../domain/sessions/analysis';
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

/** A chunk run directly, with the worker's detector, as the batch workflow's activity runs it. */
async function processChunk(em: ReturnType<typeof stack>['orm']['em'], tenantId: string, batchId: string, from: number, to: number) {
  return (await processChunkWith(em, await stack().detectors.forTenant(tenantId), { tenantId, batchId, from, to })).result;
}

async function completed(key: string, batchId: string, query = '') {
  return waitFor(`batch ${batchId}`, async () => {
    const res = await call('GET', `/v1/sessions/batch/${batchId}${query}`, { key });
    assert.equal(res.status, 200, res.text);
    return res.body.status === 'completed' ? res.body : undefined;
  });
}

/**
 * POSTs a batch body as a chunked stream of `pieces` (no Content-Length), each written on its own
 * turn of the event loop, as a client streaming a file would.
 */
async function postStreamed(baseUrl: string, key: string, pieces: (string | Buffer)[], headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = http.request(`${baseUrl}/v1/sessions/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
    });
    let i = 0;
    const next = () => {
      if (i === pieces.length) return req.end();
      const ok = req.write(pieces[i++]);
      if (ok) setImmediate(next);
      else req.once('drain', next);
    };
    next();
  });
}

/** A body cut into pieces of odd sizes (so sessions straddle them). */
const pieces = (body: string, size = 8191) => {
  const buf = Buffer.from(body);
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
};

const streamSessions = (n: number, prefix: string, readings = 12) =>
  Array.from({ length: n }, (_, i) => ({
    sessionId: `${prefix}-${i}`,
    chargingStationId: `CP-${prefix}-${i % 11}`,
    connectorId: i % 3,
    metadata: i % 100 === 0 ? { note: 'ünïcödé ✓ "quoted"\tab\t', maxPowerKw: 11 } : undefined,
    meterValues: Array.from({ length: readings }, (_, k) => kwh(k * 5, k * 0.9)),
  }));

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

  it('a chunk analyses exactly what the sessions store: the verdict equals a fresh analysis of the stored readings', async () => {
    // The chunk analyses each item's staged JSON, not a read-back from meter_values: this checks
    // the two agree, with timestamps in other offsets and fractions, lower-case vocabulary, blanks,
    // a replaced session (its readings numbered after the old ones) and one without readings.
    const odd = (values: typeof cleanFixtures[0]['values']) =>
      values.map((v, k) => ({
        ...v,
        timestamp: k % 3 === 0 ? new Date(Date.parse(v.timestamp) + 0.25).toISOString().replace('Z', '123+00:00') : v.timestamp.replace('Z', '+00:00'),
        // A tab around a vocabulary word is accepted (trimmed when read) and stored as sent.
        unit: k % 5 === 0 ? ` ${v.unit?.toLowerCase()}\t` : v.unit?.toLowerCase(),
        phase: k % 4 === 0 ? '' : v.phase,
      }));
    const fixtures = [...categoryFixtures, ...cleanFixtures];
    await call('POST', '/v1/sessions', { key, body: { sessionId: 'par-0', chargingStationId: 'CP-PAR', meterValues: cleanFixtures[0].values } });
    await call('POST', '/v1/sessions', { key, body: { sessionId: 'par-keep', chargingStationId: 'CP-PAR', meterValues: cleanFixtures[0].values } });
    const sessions = [
      ...fixtures.map((f, i) => ({ sessionId: `par-${i}`, chargingStationId: 'CP-PAR', meterValues: i % 2 ? odd(f.values) : f.values, metadata: f.metadata })),
      { sessionId: 'par-keep', chargingStationId: 'CP-PAR', metadata: { maxPowerKw: 11 } },
    ];
    const res = await call('POST', '/v1/sessions/batch', { key, body: { sessions } });
    assert.equal(res.status, 200, res.text);
    const done = await completed(key, res.body.batchId, `?pageSize=${sessions.length}`);
    assert.equal(done.failedSessions, 0);
    const em = stack().orm.em.fork();
    const rows: any[] = await em.getConnection().execute(
      `select s.id, s.session_id, s.metadata, s.status, s.is_anomaly, s.anomaly_score, s.anomaly_confidence, s.anomaly_count, s.sorc_confidence,
              (select coalesce(json_agg(json_build_array(a.category, a.start_unit, a.end_unit, a.score)), '[]') from session_anomalies a where a.session_id = s.id) as anomalies
         from charging_sessions s where s.tenant_id = ? and s.session_id = any(?::text[])`,
      [tenantId, `{${sessions.map((x) => x.sessionId).join(',')}}`],
    );
    assert.equal(rows.length, sessions.length);
    const readings = await loadReadingsOf(em, tenantId, rows.map((r: any) => r.id));
    const replaced = readings.get(rows.find((r) => r.session_id === 'par-0').id)!;
    assert.deepEqual(replaced.slice(0, 2).map((m) => m.seq), [cleanFixtures[0].values.length, cleanFixtures[0].values.length + 1], 'a replaced session numbers the new readings after the old');
    const byStart = (x: unknown[], y: unknown[]) => (x[1] as number) - (y[1] as number) || String(x[0]).localeCompare(String(y[0]));
    const fresh = await verdictsFor(await stack().detectors.forTenant(tenantId), rows.map((r: any) => ({ readings: readings.get(r.id) ?? [], metadata: r.metadata })));
    rows.forEach((r: any, i: number) => {
      const v = fresh[i];
      const got = { status: r.status, isAnomaly: r.is_anomaly, score: r.anomaly_score, count: r.anomaly_count, anomalies: r.anomalies.sort(byStart), sorc: r.sorc_confidence };
      const want =
        v.status === 'active'
          ? {
              status: 'active',
              isAnomaly: v.isAnomaly,
              score: v.anomalyScore,
              count: v.anomalies.length,
              anomalies: v.anomalies
                .map((a) => [a.category, a.bucketRange.startUnit, a.bucketRange.endUnit, a.score])
                .sort(byStart),
              sorc: v.soc?.sorcConfidence ?? null,
            }
          : { status: v.status, isAnomaly: null, score: null, count: 0, anomalies: [], sorc: null };
      assert.deepEqual(got, want, `${r.session_id}: the stored verdict is the one its stored readings give`);
    });
    assert.ok(rows.some((r: any) => r.is_anomaly), 'the fixtures include anomalies');
    const units = [...readings.get(rows.find((r) => r.session_id === 'par-1').id)!.map((m) => m.unit)];
    assert.ok(units.includes(' kwh\t'), `a unit with a tab is stored as sent: ${JSON.stringify(units.slice(0, 6))}`);
    assert.equal(
      await count(`select count(*) n from batch_items where batch_id = ? and session_json is not null`, [res.body.batchId]),
      0,
      'a processed item keeps no copy of its readings',
    );
  });

  it('every timestamp form validation accepts is one PostgreSQL stores, as the same instant, to the microsecond', async () => {
    // Validation must not pass a form PostgreSQL rejects (the session's first and last timestamps
    // go to it as text, after the submit's 200), and chunks COPY readings in binary with the
    // microseconds timestampMicros computes, which must be what PostgreSQL makes of the text.
    const forms = [
      '2026-03-02T08:00:00Z', '2026-03-02t08:00:00z', '2026-03-02 08:00:00Z', '2026-03-02T08:00Z', '2026-03-02T08:00:00.5Z',
      '2026-03-02T08:00:00.123456+00:00', '2026-03-02T18:00:00+10:00', '2026-03-02T18:00:00+1000', '2026-03-02T18:00:00+10',
      '2026-03-02T02:30:00-05:30', '2026-03-02T08:00:00 Z', ' 2026-03-02T08:00:00Z\t', '2026-03-02T23:59:59+15:59',
      // Past microseconds PostgreSQL rounds (half to even, of the fraction read as a double).
      '2026-03-02T08:00:00.0000005Z', '2026-03-02T08:00:00.0000015Z', '2026-03-02T08:00:00.0000025Z', '2026-03-02T08:00:00.1234565Z',
      '2026-03-02T08:00:00.9999995Z', '2026-03-02T23:59:59.99999999+01:00', '2026-03-02T08:00:00.12345678901234567890Z',
      '2026-02-28 23:59:59.9999996 -00:30', '2028-02-29T12:00:00.000001Z',
    ];
    const rows = await stack().orm.em.getConnection().execute(
      `select f, (extract(epoch from f::timestamptz) * 1000000)::bigint::text as us
         from unnest(?::text[]) as f`,
      [`{${forms.map((f) => `"${f}"`).join(',')}}`],
    );
    for (const r of rows as { f: string; us: string }[]) {
      const ms = parseTimestamp(r.f);
      assert.ok(ms !== null, r.f);
      assert.equal(ms, Math.floor(Number(r.us) / 1000), r.f);
      assert.equal(String(timestampMicros(r.f)), r.us, r.f);
    }
    assert.equal(rows.length, forms.length);
  });

  it('marks sessions recurring when another session at the same station shows the same category', async () => {
    const anomalous = categoryFixtures.find((f) => f.expect.category === 'KWH_DECREASE')!;
    const clean = cleanFixtures[0];
    const sessions = [
      { sessionId: 'r-1', chargingStationId: 'CP-R1', meterValues: anomalous.values },
      { sessionId: 'r-2', chargingStationId: 'CP-R1', meterValues: anomalous.values },
      { sessionId: 'r-3', chargingStationId: 'CP-R2', meterValues: anomalous.values },
      { sessionId: 'r-4', chargingStationId: 'CP-R1', meterValues: clean.values, metadata: clean.metadata },
    ];
    const res = await call('POST', '/v1/sessions/batch', { key, body: { sessions } });
    assert.equal(res.status, 200, res.text);
    await completed(key, res.body.batchId);
    const recurring = async (id: string) => (await call('GET', `/v1/sessions/${id}`, { key })).body.isRecurring;
    assert.deepEqual(await Promise.all(['r-1', 'r-2', 'r-3', 'r-4'].map(recurring)), [true, true, false, false]);
    // A later session at CP-R2 with the same category makes it recur, seen from the new one.
    await call('POST', '/v1/sessions', { key, body: { sessionId: 'r-5', chargingStationId: 'CP-R2', meterValues: anomalous.values } });
    assert.equal(await waitFor('r-5 analysed', async () => (await call('GET', '/v1/sessions/r-5', { key })).body.isRecurring ?? undefined), true);
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

  it('a batch item replaces an existing session\'s anomalies; a new session gets its own', async () => {
    const anomalous = categoryFixtures.find((f) => f.expect.category === 'KWH_DECREASE')!;
    const before = await call('POST', '/v1/sessions', { key, body: { sessionId: 'b-was-anomalous', chargingStationId: 'CP-U2', meterValues: anomalous.values } });
    assert.ok(before.body.anomalies.length > 0);
    const clean = [kwh(0, 5), kwh(1, 5.2), kwh(2, 5.4), kwh(3, 5.6)];
    const res = await call('POST', '/v1/sessions/batch', {
      key,
      body: { sessions: [{ sessionId: 'b-was-anomalous', chargingStationId: 'CP-U2', meterValues: clean }, { sessionId: 'b-new-anomalous', chargingStationId: 'CP-U2', meterValues: anomalous.values }] },
    });
    await completed(key, res.body.batchId);
    assert.deepEqual((await call('GET', '/v1/sessions/b-was-anomalous', { key })).body.anomalies, []);
    assert.equal(await count('select count(*) n from session_anomalies a join charging_sessions s on s.id = a.session_id where s.session_id = ?', ['b-was-anomalous']), 0);
    assert.deepEqual((await call('GET', '/v1/sessions/b-new-anomalous', { key })).body.anomalies, before.body.anomalies);
  });

  it('accepts the older snake_case request (charging_point_id)', async () => {
    const res = await call('POST', '/v1/sessions/batch', {
      key,
      body: { sessions: [{ session_id: 'b-snake', charging_point_id: 'CP-SNAKE-B', meter_values: [kwh(0, 0), kwh(15, 5.5), kwh(30, 11.1)] }] },
    });
    assert.equal(res.status, 200, res.text);
    const done = await completed(key, res.body.batchId);
    assert.equal(done.results[0].chargingStationId, 'CP-SNAKE-B');
    assert.equal(done.results[0].readingCount, 3, 'meter_values are the readings');
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
    // A duplicate sessionId is no error: the last occurrence wins (test/conformance.test.ts).
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
    // As many concurrent retries as one tenant may upload at once (more get a 429 to retry later).
    const results = await Promise.all(
      Array.from({ length: config.maxConcurrentBatchSubmitsPerTenant }, () => call('POST', '/v1/sessions/batch', { key, body, headers })),
    );
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

  it('chunks of two batches sharing sessions in opposite orders run at once without a deadlock', async () => {
    const em = () => stack().orm.em.fork();
    const ids = Array.from({ length: 2000 }, (_, i) => `dl-${String(i).padStart(4, '0')}`);
    const sessions = (order: string[]) => order.map((sessionId) => ({ sessionId, chargingStationId: 'CP-DL', connectorId: null, metadata: null, meterValues: [kwh(0, 0), kwh(5, 1), kwh(10, 2)] }));
    // The sessions and their station exist already (a chunk that creates the station holds the
    // other back at that insert); both batches replace their readings.
    const first = await stageBatch(em(), { tenantId, sessions: sessions(ids) as never, idempotencyKey: null, requestHash: 'dl-first' });
    await processChunk(em(), tenantId, (first as { batchId: string }).batchId, 0, ids.length);
    const batchIds: string[] = [];
    for (const [i, order] of [ids, [...ids].reverse()].entries()) {
      const staged = await stageBatch(em(), { tenantId, sessions: sessions(order) as never, idempotencyKey: null, requestHash: `dl-${i}` });
      batchIds.push((staged as { batchId: string }).batchId);
    }
    // Both chunks upsert the same 2,000 sessions at the same moment; taken in each batch's own order,
    // the rows are locked in opposite orders and PostgreSQL reports a deadlock.
    const results = await Promise.allSettled(batchIds.map((batchId) => processChunk(em(), tenantId, batchId, 0, ids.length)));
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value.processed : (r.reason as Error).message)),
      [ids.length, ids.length],
    );
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

  it('a failed batch fails its unprocessed items and drops their readings; a chunk still running after it changes nothing', async () => {
    const em = () => stack().orm.em.fork();
    const sessions = streamSessions(6, 'fail', 4).map((x) => ({ ...x, connectorId: String(x.connectorId), metadata: x.metadata ?? null }));
    const staged = await stageBatch(em(), { tenantId, sessions: sessions as never, idempotencyKey: null, requestHash: 'fail' });
    assert.equal(staged.kind, 'created');
    const batchId = (staged as { batchId: string }).batchId;
    const stagedReadings = () => count(`select count(*) as n from batch_items where batch_id = ? and session_json is not null`, [batchId]);
    assert.equal(await stagedReadings(), 6);

    assert.equal((await processChunk(em(), tenantId, batchId, 0, 2)).processed, 2);
    assert.equal(await stagedReadings(), 4, 'a processed item keeps no copy of its readings');
    await finishBatch(em(), tenantId, batchId, 'failed');
    assert.equal(await stagedReadings(), 0, 'the unprocessed items\' staged readings are gone');
    // The lane that was still running when the batch failed: nothing pending is left for it.
    assert.equal((await processChunk(em(), tenantId, batchId, 2, 6)).processed, 0);
    assert.equal(await discardBatch(em(), tenantId, batchId), false, 'a batch that processed sessions is never discarded');

    const body = (await call('GET', `/v1/sessions/batch/${batchId}`, { key })).body;
    assert.equal(body.status, 'failed');
    assert.equal(body.processedSessions, 2);
    assert.equal(body.failedSessions, 4);
    const processed = await call('GET', '/v1/sessions/fail-1', { key });
    assert.equal(processed.body.meterValues.length, 4, 'processed sessions keep their readings');
    assert.equal((await call('GET', '/v1/sessions/fail-2', { key })).status, 404);
  });

  it('discarding a batch whose workflow never started removes it and its staged sessions', async () => {
    const sessions = streamSessions(3, 'discard', 4).map((x) => ({ ...x, connectorId: String(x.connectorId), metadata: x.metadata ?? null }));
    const staged = await stageBatch(stack().orm.em.fork(), { tenantId, sessions: sessions as never, idempotencyKey: null, requestHash: 'discard' });
    const batchId = (staged as { batchId: string }).batchId;
    const items = () => count(`select count(*) as n from batch_items where batch_id = ?`, [batchId]);
    assert.equal(await items(), 3);
    assert.equal(await discardBatch(stack().orm.em.fork(), tenantId, batchId), true);
    assert.equal(await count(`select count(*) as n from batches where id = ?`, [batchId]), 0);
    assert.equal(await items(), 0);
    assert.equal((await call('GET', `/v1/sessions/batch/${batchId}`, { key })).status, 404);
  });

  describe('streamed bodies', () => {
    const stored = async () => ({
      batches: await count('select count(*) n from batches where tenant_id = ?', [tenantId]),
      items: await count('select count(*) n from batch_items where tenant_id = ?', [tenantId]),
      sessions: await count('select count(*) n from charging_sessions where tenant_id = ?', [tenantId]),
      readings: await count('select count(*) n from meter_values where tenant_id = ?', [tenantId]),
    });

    it('a large streamed batch: every session staged and processed once, readings stored once', async () => {
      const before = await stored();
      const sessions = streamSessions(3000, 'st');
      const res = await postStreamed(stack().apiUrl, key, pieces(JSON.stringify({ sessions })));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.totalSessions, 3000);
      const done = await completed(key, res.body.batchId, '?pageSize=100&page=30');
      assert.equal(done.processedSessions, 3000);
      assert.deepEqual(done.results.map((r: { sessionId: string }) => r.sessionId).slice(-2), ['st-2998', 'st-2999']);
      const after = await stored();
      assert.equal(after.sessions - before.sessions, 3000);
      assert.equal(after.readings - before.readings, 3000 * 12, 'each reading stored once (none left staged)');
      const one = await call('GET', '/v1/sessions/st-100', { key });
      assert.equal(one.body.connectorId, '1');
      assert.deepEqual(one.body.metadata, sessions[100].metadata);
      assert.deepEqual(one.body.meterValues.map((m: { value: number }) => m.value), sessions[100].meterValues.map((m) => m.value));
      const [row] = await stack().orm.em.getConnection().execute(
        `select s.reading_count, s.next_seq, s.started_at, s.ended_at from charging_sessions s where s.tenant_id = ? and s.session_id = 'st-100'`,
        [tenantId],
      );
      assert.equal(row.reading_count, 12);
      assert.equal(row.next_seq, 12);
      assert.equal(new Date(row.started_at).toISOString(), new Date(sessions[100].meterValues[0].timestamp).toISOString());
      assert.equal(new Date(row.ended_at).toISOString(), new Date(sessions[100].meterValues[11].timestamp).toISOString());
    });

    it("stages the client's own bytes: pretty-printed sessions, escapes, unknown reading keys and bytes that are not UTF-8 are analysed as validated", async () => {
      const readings = [kwh(0, 0), kwh(15, 5.5), kwh(30, 11.1)];
      const pretty = JSON.stringify({ sessionId: 'raw-pretty', chargingStationId: 'CP-RAW', meterValues: readings.map((m) => ({ ...m, vendorNote: 'x\\y' })) }, null, '\t');
      const snake = JSON.stringify({ session_id: 'raw-snake', charging_station_id: 'CP-RAW', meter_values: readings, stop_reason: 'Local' });
      // 0xff is never UTF-8: decoding makes it U+FFFD, and that is what is validated and stored.
      const invalid = Buffer.concat([
        Buffer.from('{"sessionId":"raw-bytes","chargingStationId":"CP-RAW","evseId":"E\u00e9-'),
        Buffer.from([0xff]),
        Buffer.from(`","meterValues":${JSON.stringify(readings)}}`),
      ]);
      const body = [Buffer.from(`{"sessions": [\n${pretty},\n${snake},\n`), invalid, Buffer.from('\n]}')];
      const res = await postStreamed(stack().apiUrl, key, body);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const done = await completed(key, res.body.batchId);
      assert.equal(done.processedSessions, 3, JSON.stringify(done.results));
      for (const id of ['raw-pretty', 'raw-snake', 'raw-bytes']) {
        const one = await call('GET', `/v1/sessions/${id}`, { key });
        assert.deepEqual(
          one.body.meterValues.map((m: { value: number; timestamp: string }) => [m.value, new Date(m.timestamp).toISOString()]),
          readings.map((m) => [m.value, new Date(m.timestamp).toISOString()]),
          id,
        );
        assert.ok(one.body.analyzedAt, `${id} analysed`);
      }
      assert.equal((await call('GET', '/v1/sessions/raw-bytes', { key })).body.evseId, 'Eé-\ufffd');
      assert.equal((await call('GET', '/v1/sessions/raw-snake', { key })).body.stopReason, 'Local');
    });

    it('a bad session deep inside a streamed body: 422 naming its index, and nothing stored', async () => {
      const before = await stored();
      const sessions = streamSessions(2500, 'deep');
      sessions[2345].meterValues[7] = { ...sessions[2345].meterValues[7], unit: 'furlongs' };
      const res = await postStreamed(stack().apiUrl, key, pieces(JSON.stringify({ sessions })));
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.deepEqual(res.body.errors[0].loc, ['body', 'sessions', 2345, 'meterValues', 7, 'unit']);
      assert.match(res.body.detail, /sessions\.2345\.meterValues\.7\.unit/);
      // A schema error deep inside, too (a duplicate id is not one: the last occurrence wins, see below).
      const shape = streamSessions(1200, 'deep-shape');
      (shape[1100] as any).chargingStationId = 7;
      const r2 = await postStreamed(stack().apiUrl, key, pieces(JSON.stringify({ sessions: shape })));
      assert.equal(r2.status, 422);
      assert.deepEqual(r2.body.errors[0].loc, ['body', 'sessions', 1100, 'chargingStationId']);
      // Malformed JSON late in the body is a 422 (400 is for API key problems), naming the session.
      const text = JSON.stringify({ sessions: streamSessions(1200, 'deep-json') });
      for (const [from, to] of [
        ['},{"sessionId":"deep-json-1001"', '},,{"sessionId":"deep-json-1001"'], // between sessions
        ['"deep-json-1100",', '"deep-json-1100",,'], // inside one
      ]) {
        assert.ok(text.includes(from));
        const r4 = await postStreamed(stack().apiUrl, key, pieces(text.replace(from, to)));
        assert.equal(r4.status, 422, JSON.stringify(r4.body));
        assert.match(r4.body.detail, /Malformed JSON/);
        assert.equal(r4.body.errors[0].loc[0], 'body');
      }
      // The body's own shape.
      assert.equal((await postStreamed(stack().apiUrl, key, ['[1, 2]'])).status, 422);
      const notArray = await postStreamed(stack().apiUrl, key, ['{"sessions": {}}']);
      assert.deepEqual(notArray.body.errors[0].loc, ['body', 'sessions']);
      const missing = await postStreamed(stack().apiUrl, key, ['{}']);
      assert.deepEqual(missing.body.errors[0].loc, ['body', 'sessions']);
      assert.deepEqual(await stored(), before);
    });

    it('Idempotency-Key with streamed bodies: the same bytes in other pieces are the same batch, other bytes a 409', async () => {
      const body = JSON.stringify({ sessions: streamSessions(800, 'st-idem') });
      const headers = { 'idempotency-key': `st-idem-${Date.now()}` };
      const [a, b] = await Promise.all([postStreamed(stack().apiUrl, key, pieces(body, 4099), headers), postStreamed(stack().apiUrl, key, pieces(body, 65536), headers)]);
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.equal(b.status, 200, JSON.stringify(b.body));
      assert.equal(a.body.batchId, b.body.batchId);
      await completed(key, a.body.batchId);
      const other = await postStreamed(stack().apiUrl, key, pieces(body.replace('st-idem-0"', 'st-idem-x"')), headers);
      assert.equal(other.status, 409);
      assert.equal(await count('select count(*) n from batches where tenant_id = ? and idempotency_key = ?', [tenantId, headers['idempotency-key']]), 1);
    });

    it('batch submits uploading at once are capped per tenant and in all: the next is a 429 with Retry-After, other requests keep working', async () => {
      const perTenant = config.maxConcurrentBatchSubmitsPerTenant;
      assert.equal(config.maxConcurrentBatchSubmits, 2 * perTenant, 'the test fills the cap with two tenants');
      const [other, third] = [await newTenant('cap-b'), await newTenant('cap-c')];
      const session = (id: string) => JSON.stringify({ sessionId: id, chargingStationId: 'CP-CAP', meterValues: [kwh(0, 0), kwh(5, 1), kwh(10, 2)] });
      // Uploads that send their first session and then stall, each holding a submit slot.
      const stall = (apiKey: string, id: string) => {
        // Own connections: a pooled socket that an earlier test's early answer left half-written can stall before sending.
        const req = http.request(`${stack().apiUrl}/v1/sessions/batch`, {
          method: 'POST',
          agent: false,
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        });
        const answer = new Promise<{ status: number; body: any }>((resolve, reject) => {
          req.on('error', reject);
          req.on('response', (res) => {
            let text = '';
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
          });
        });
        req.write(`{"sessions":[${session(id)}`);
        return { req, answer, key: apiKey };
      };
      // Each waits for the rest of its body inside its open submit transaction.
      const staging = (n: number) =>
        waitFor(`${n} stalled uploads staging`, async () =>
          (await count(`select count(*) n from pg_stat_activity where datname = current_database() and state = 'idle in transaction'`, [])) >= n ? true : undefined,
        );
      const one = (apiKey: string, id: string) =>
        call('POST', '/v1/sessions/batch', { key: apiKey, raw: `{"sessions":[${session(id)}]}`, headers: { 'content-type': 'application/json' } });

      const stalled = Array.from({ length: perTenant }, (_, i) => stall(key, `cap-a-${i}`));
      await staging(perTenant);
      const mine = await one(key, 'cap-a-refused');
      assert.equal(mine.status, 429, mine.text);
      assert.match(mine.body.detail, /This tenant already has 2 batch submits uploading/);
      assert.equal(mine.headers.get('retry-after'), '5');
      const early = await one(other.key, 'cap-b-early');
      assert.equal(early.status, 200, 'another tenant is not locked out');
      stalled.push(...Array.from({ length: perTenant }, (_, i) => stall(other.key, `cap-b-${i}`)));
      await staging(2 * perTenant);
      const all = await one(third.key, 'cap-c-refused');
      assert.equal(all.status, 429, all.text);
      assert.match(all.body.detail, /4 batch submits are already uploading/);
      assert.equal((await call('GET', '/v1/sessions?pageSize=1', { key: third.key })).status, 200, 'the database pool is not used up');
      // One upload finishes: its batch is accepted, and its slot takes the next submit.
      stalled[0].req.end(']}');
      const accepted = [await stalled[0].answer];
      assert.equal(accepted[0].status, 200);
      const after = await one(third.key, 'cap-c-after');
      assert.equal(after.status, 200, after.text);
      for (const s of stalled.slice(1)) s.req.end(']}');
      const rest = await Promise.all(stalled.slice(1).map((s) => s.answer));
      assert.deepEqual(rest.map((a) => a.status), Array(stalled.length - 1).fill(200));
      const batches = [...[accepted[0], ...rest].map((a, i) => ({ key: stalled[i].key, batchId: a.body.batchId })), { key: third.key, batchId: after.body.batchId }, { key: other.key, batchId: early.body.batchId }];
      for (const b of batches) await completed(b.key, b.batchId);
    });

    it('a body over the batch limit is a 413 (declared or streamed), and nothing is stored', async () => {
      const api = await listen(
        { orm: stack().orm, temporal: stack().env.client, config: { ...config, taskQueue: stack().taskQueue, batchBodyLimitBytes: 100_000 }, logger: pino({ level: 'silent' }) },
        0,
        '127.0.0.1',
      );
      try {
        const before = await stored();
        const body = JSON.stringify({ sessions: streamSessions(300, 'st-big') });
        assert.ok(body.length > 100_000);
        const streamed = await postStreamed(api.url, key, pieces(body, 1000));
        assert.equal(streamed.status, 413, JSON.stringify(streamed.body));
        assert.match(streamed.body.detail, /limit of 100000 bytes/);
        const declared = await fetch(`${api.url}/v1/sessions/batch`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
        assert.equal(declared.status, 413);
        const small = await postStreamed(api.url, key, pieces(JSON.stringify({ sessions: streamSessions(5, 'st-small') }), 100));
        assert.equal(small.status, 200, 'under the limit is fine');
        await completed(key, small.body.batchId);
        const after = await stored();
        assert.equal(after.batches, before.batches + 1);
        assert.equal(after.sessions, before.sessions + 5);
      } finally {
        await new Promise((r) => api.server.close(r));
      }
    });

    it('a batch item without readings keeps the existing session\'s readings; one with readings replaces them after its seq', async () => {
      await call('POST', '/v1/sessions', { key, body: { sessionId: 'st-keep', chargingStationId: 'CP-K', meterValues: [kwh(0, 0), kwh(1, 0.1), kwh(2, 0.2)] } });
      await call('POST', '/v1/sessions', { key, body: { sessionId: 'st-repl', chargingStationId: 'CP-K', meterValues: [kwh(0, 0), kwh(1, 0.1), kwh(2, 0.2)] } });
      const res = await postStreamed(stack().apiUrl, key, [
        JSON.stringify({ sessions: [
          { sessionId: 'st-keep', chargingStationId: 'CP-K', evseId: 'E-1' },
          { sessionId: 'st-repl', chargingStationId: 'CP-K', meterValues: [kwh(10, 1), kwh(11, 1.2), kwh(12, 1.4), kwh(13, 1.6)] },
        ] }),
      ]);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await completed(key, res.body.batchId);
      const keep = await call('GET', '/v1/sessions/st-keep', { key });
      assert.equal(keep.body.meterValues.length, 3);
      assert.equal(keep.body.evseId, 'E-1');
      const rows = await stack().orm.em.getConnection().execute(
        `select m.seq, m.value from meter_values m join charging_sessions s on s.id = m.session_id where s.tenant_id = ? and s.session_id = 'st-repl' order by m.seq`,
        [tenantId],
      );
      assert.deepEqual(rows.map((r: any) => r.seq), [3, 4, 5, 6], 'seq continues after the replaced readings');
      assert.deepEqual(rows.map((r: any) => r.value), [1, 1.2, 1.4, 1.6]);
      // The session actor appends after them.
      assert.equal((await call('PATCH', '/v1/sessions/st-repl', { key, body: { meterValues: [kwh(14, 1.8)] } })).status, 200);
      assert.equal((await call('GET', '/v1/sessions/st-repl', { key })).body.meterValues.length, 5);
    });
  });
});
