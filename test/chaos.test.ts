// Chaos: the Temporal dev server, and separately PostgreSQL, are restarted during a storm of
// concurrent PATCHes and during a batch, on a stack of the test's own (test/helpers/chaos-stack.ts;
// the API and the worker are never restarted). Afterwards every acknowledged write (a 2xx) is stored
// exactly once, every other one once or not at all, and /readyz answers 200 again by itself.
import assert from 'node:assert/strict';
import { createTenantWithAdminKey } from '../domain/api-keys';
import { sql } from '../db/sql';
import { startChaosStack, type ChaosStack } from './helpers/chaos-stack';

const T0 = Date.now() - 5 * 3600_000;
const reading = (i: number) => ({ timestamp: new Date(T0 + i * 60_000).toISOString(), value: 10 + i * 0.5, measurand: 'Energy.Active.Import.Register', unit: 'kWh' });

describe('chaos: Temporal and PostgreSQL restarts under load', function () {
  this.timeout(300_000);
  let chaos: ChaosStack;
  let key: string;
  let tenantId: string;

  const request = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    try {
      const res = await fetch(chaos.apiUrl + path, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(90_000),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    } catch {
      return { status: 0, body: undefined }; // no answer: not acknowledged
    }
  };

  const waitFor = async <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  const ready = async () => {
    const started = Date.now();
    await waitFor('/readyz to answer 200', async () => ((await fetch(`${chaos.apiUrl}/readyz`, { signal: AbortSignal.timeout(5000) })).status === 200 ? true : undefined));
    return Date.now() - started;
  };

  before(async () => {
    chaos = await startChaosStack({ batchChunkSize: 10 });
    const t = await createTenantWithAdminKey(chaos.orm.em.fork(), 'chaos');
    key = t.key;
    tenantId = t.tenant.id;
  });
  after(async () => chaos?.stop());

  /** 48 concurrent single-reading PATCHes (8 at a time) to one session; `restart` runs once a few are acknowledged. */
  async function patchStorm(sessionId: string, restart: () => Promise<void>) {
    const created = await request('POST', '/v1/sessions', { sessionId, chargingStationId: 'CP-CHAOS', meterValues: [reading(0), reading(1), reading(2)] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const n = 48;
    const statuses: number[] = new Array(n).fill(-1);
    let next = 3;
    let acknowledged = 0;
    let restarting: Promise<void> | undefined;
    const lane = async () => {
      while (next < n + 3) {
        const i = next++;
        const res = await request('PATCH', `/v1/sessions/${sessionId}`, { meterValues: [reading(i)] });
        statuses[i - 3] = res.status;
        if (res.status === 200 && ++acknowledged === 6) restarting = restart();
        assert.ok(res.status !== 500, `a PATCH during the restart answered 500: ${JSON.stringify(res.body)}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    await restarting;
    const readyMs = await ready();
    // A write after the restart works.
    const after = await request('PATCH', `/v1/sessions/${sessionId}`, { meterValues: [reading(n + 3)] });
    assert.equal(after.status, 200, JSON.stringify(after.body));
    const detail = await waitFor('the session', async () => {
      const r = await request('GET', `/v1/sessions/${sessionId}`);
      return r.status === 200 ? r.body : undefined;
    });
    const count = new Map<string, number>();
    for (const m of detail.meterValues as { timestamp: string }[]) count.set(new Date(m.timestamp).toISOString(), (count.get(new Date(m.timestamp).toISOString()) ?? 0) + 1);
    for (let i = 0; i < n; i++) {
      const seen = count.get(reading(i + 3).timestamp) ?? 0;
      if (statuses[i] === 200) assert.equal(seen, 1, `acknowledged PATCH ${i} stored ${seen} times`);
      else assert.ok(seen <= 1, `unacknowledged PATCH ${i} (status ${statuses[i]}) stored ${seen} times`);
    }
    for (const i of [0, 1, 2, n + 3]) assert.equal(count.get(reading(i).timestamp), 1);
    assert.equal(detail.meterValues.length, [...count.values()].reduce((a, b) => a + b, 0));
    const ok = statuses.filter((s) => s === 200).length;
    return { acknowledged: ok, refused: n - ok, readyMs, statuses };
  }

  /** A batch of 400 sessions in chunks of 10; `restart` runs once some chunks are done. */
  async function batchUnderRestart(prefix: string, restart: () => Promise<void>) {
    const sessions = Array.from({ length: 400 }, (_, s) => ({
      sessionId: `${prefix}-${s}`,
      chargingStationId: `CP-${prefix}-${s % 7}`,
      meterValues: [0, 1, 2, 3].map((k) => reading(k + s % 5)),
    }));
    const submitted = await request('POST', '/v1/sessions/batch', { sessions });
    assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
    const batchId = submitted.body.batchId as string;
    await waitFor('some chunks done', async () => {
      const r = await request('GET', `/v1/sessions/batch/${batchId}?pageSize=1`);
      return r.status === 200 && r.body.processedSessions >= 30 ? true : undefined;
    });
    await restart();
    const readyMs = await ready();
    const done = await waitFor(
      'the batch to complete',
      async () => {
        const r = await request('GET', `/v1/sessions/batch/${batchId}?pageSize=1`);
        return r.status === 200 && r.body.status === 'completed' ? r.body : undefined;
      },
      180_000,
    );
    assert.equal(done.processedSessions, 400);
    assert.equal(done.failedSessions, 0);
    // Every session exactly once, with its four readings exactly once.
    const em = chaos.orm.em.fork();
    const [row] = await sql(
      em,
      `select count(*)::int as sessions, sum(s.reading_count)::int as counted,
              (select count(*)::int from meter_values m join charging_sessions x on x.id = m.session_id where x.tenant_id = ? and x.session_id like ?) as readings,
              (select count(*)::int from (select distinct m.session_id, m.timestamp from meter_values m join charging_sessions x on x.id = m.session_id
                                          where x.tenant_id = ? and x.session_id like ?) d) as distinct_readings
         from charging_sessions s where s.tenant_id = ? and s.session_id like ?`,
      [tenantId, `${prefix}-%`, tenantId, `${prefix}-%`, tenantId, `${prefix}-%`],
    );
    assert.deepEqual(row, { sessions: 400, counted: 1600, readings: 1600, distinct_readings: 1600 });
    return { readyMs };
  }

  it('Temporal restarts during a storm of concurrent PATCHes: acknowledged writes stored once, readyz recovers', async () => {
    const r = await patchStorm('chaos-temporal-patch', () => chaos.restartTemporal(1500));
    console.log(`      ${r.acknowledged} acknowledged, ${r.refused} refused (${[...new Set(r.statuses)].join('/')}); ready ${r.readyMs} ms after`);
  });

  it('PostgreSQL restarts during a storm of concurrent PATCHes: acknowledged writes stored once, readyz recovers', async () => {
    const r = await patchStorm('chaos-pg-patch', () => chaos.restartPostgres(1500));
    console.log(`      ${r.acknowledged} acknowledged, ${r.refused} refused (${[...new Set(r.statuses)].join('/')}); ready ${r.readyMs} ms after`);
  });

  it('Temporal restarts during a batch: every session processed exactly once', async () => {
    await batchUnderRestart('chaos-tb', () => chaos.restartTemporal(1500));
  });

  it('PostgreSQL restarts during a batch: every session processed exactly once', async () => {
    await batchUnderRestart('chaos-pb', () => chaos.restartPostgres(1500));
  });
});
