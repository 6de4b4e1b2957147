// One session write path: every case runs through POST /v1/sessions (the session actor) and through
// a batch (a chunk), each in a tenant of its own, and both must store exactly the same session,
// readings, stations and connectors. Plus what only the interactive path has: a Temporal outage
// withdraws the write (503), and a batch that rewrites a session refreshes its running actor.
import assert from 'node:assert/strict';
import pino from 'pino';
import { Client, Connection } from '@temporalio/client';
import { listen } from '../api/server';
import { config } from '../config';
import { createTenantWithAdminKey } from '../domain/api-keys';
import { sessionWorkflowId } from '../workflows/session/contract';
import { categoryFixtures, cleanFixtures } from './fixtures/sessions';
import { call, newTenant } from './helpers/http';
import { freePort } from './helpers/ports';
import { stack } from './helpers/stack';
import { waitFor } from './helpers/wait';

const kwh = (minute: number, v: number) => ({
  timestamp: new Date(Date.parse('2026-03-05T08:00:00Z') + minute * 60_000).toISOString(),
  value: v,
  measurand: 'Energy.Active.Import.Register',
  unit: 'kWh',
});
const three = [kwh(0, 0), kwh(5, 1), kwh(10, 2)];
const four = [kwh(0, 10), kwh(5, 11), kwh(10, 12), kwh(15, 13)];

interface Case {
  name: string;
  /** Written first, interactively, in both tenants. */
  setup?: Record<string, unknown>;
  /** The write under test (a create), sent as POST /v1/sessions or as a one-session batch. */
  write: Record<string, unknown>;
  /** What both paths must have stored (checked on the interactive tenant's snapshot). */
  expect: (s: Snapshot) => void;
}

const CASES: Case[] = [
  {
    name: 'a new session with every field',
    write: { chargingStationId: 'CP-W1', connectorId: '1', evseId: 'E-1', metadata: { maxPowerKw: 22 }, status: 'active', stopReason: 'Local', meterValues: three },
    expect: (s) => {
      assert.equal(s.session.connector_id, '1');
      assert.deepEqual(s.session.metadata, { maxPowerKw: 22 });
      assert.equal(s.readings.length, 3);
      assert.deepEqual(s.connectors, [{ station_id: 'CP-W1', connector_id: '1', evse_id: 'E-1' }]);
    },
  },
  {
    name: 'an explicit null clears a field, an absent field keeps it',
    setup: { chargingStationId: 'CP-W2', connectorId: '1', evseId: 'E-1', metadata: { a: 1 }, status: 'active', stopReason: 'Local', meterValues: three },
    write: { chargingStationId: 'CP-W2', evseId: null, metadata: null, status: null },
    expect: (s) => {
      assert.equal(s.session.evse_id, null);
      assert.equal(s.session.metadata, null);
      assert.equal(s.session.client_status, null);
      assert.equal(s.session.connector_id, '1', 'absent: kept');
      assert.equal(s.session.stop_reason, 'Local', 'absent: kept');
      assert.equal(s.readings.length, 3, 'no readings sent: the stored ones stay');
    },
  },
  {
    name: 'readings sent replace the stored ones, numbered after them',
    setup: { chargingStationId: 'CP-W3', connectorId: '1', meterValues: three },
    write: { chargingStationId: 'CP-W3', meterValues: four },
    expect: (s) => {
      assert.deepEqual(s.readings.map((r) => [r.seq, r.value]), [[3, 10], [4, 11], [5, 12], [6, 13]]);
      assert.equal(s.session.reading_count, 4);
      assert.equal(s.session.connector_id, '1');
      assert.equal(s.session.started_at, '2026-03-05T08:00:00.000Z');
      assert.equal(s.session.ended_at, '2026-03-05T08:15:00.000Z');
    },
  },
  {
    name: 'a new connector joins the station, the old one stays',
    setup: { chargingStationId: 'CP-W4', connectorId: '1', evseId: 'E-1', meterValues: three },
    write: { chargingStationId: 'CP-W4', connectorId: 2, evseId: 'E-2' },
    expect: (s) => {
      assert.equal(s.session.connector_id, '2');
      assert.deepEqual(s.connectors.map((c) => c.connector_id), ['1', '2']);
    },
  },
  {
    name: 'another station moves the session there (no station row without it)',
    setup: { chargingStationId: 'CP-W5-OLD', connectorId: '1', meterValues: three },
    write: { chargingStationId: 'CP-W5-NEW', meterValues: four },
    expect: (s) => {
      assert.equal(s.session.station_id, 'CP-W5-NEW');
      assert.deepEqual(s.stations, ['CP-W5-NEW', 'CP-W5-OLD']);
      assert.deepEqual(s.connectors, [
        { station_id: 'CP-W5-NEW', connector_id: '1', evse_id: null },
        { station_id: 'CP-W5-OLD', connector_id: '1', evse_id: null },
      ]);
    },
  },
  {
    name: 'an anomalous session gets the same verdict and anomalies',
    write: { chargingStationId: 'CP-W6', meterValues: categoryFixtures[1].values },
    expect: (s) => assert.equal(s.session.is_anomaly, true),
  },
];

interface Snapshot {
  session: Record<string, any>;
  readings: Record<string, any>[];
  anomalies: Record<string, any>[];
  stations: string[];
  connectors: Record<string, any>[];
}

async function snapshot(tenantId: string, sessionId: string): Promise<Snapshot> {
  const q = (text: string, params: unknown[]) => stack().orm.em.getConnection().execute(text, params);
  const [session] = await q(
    `select s.session_id, st.station_id, s.connector_id, s.evse_id, s.metadata, s.client_status, s.stop_reason, s.status, s.message,
            s.is_anomaly, s.anomaly_score, s.anomaly_confidence, s.anomaly_count, s.reading_count, s.next_seq, s.started_at, s.ended_at, s.quality
       from charging_sessions s join charging_stations st on st.id = s.station_id where s.tenant_id = ? and s.session_id = ?`,
    [tenantId, sessionId],
  );
  assert.ok(session, `session ${sessionId} stored`);
  for (const k of ['started_at', 'ended_at']) session[k] = session[k] && new Date(session[k]).toISOString();
  const readings = await q(
    `select m.seq, m.timestamp, m.value, m.measurand, m.unit from meter_values m join charging_sessions s on s.id = m.session_id
      where s.tenant_id = ? and s.session_id = ? order by m.seq`,
    [tenantId, sessionId],
  );
  const anomalies = await q(
    `select a.category, a.score, a.confidence, a.start_unit, a.end_unit from session_anomalies a join charging_sessions s on s.id = a.session_id
      where s.tenant_id = ? and s.session_id = ? order by a.category, a.start_unit`,
    [tenantId, sessionId],
  );
  const stations = (await q('select station_id from charging_stations where tenant_id = ? order by station_id', [tenantId])).map((r: any) => r.station_id);
  const connectors = await q(
    `select st.station_id, c.connector_id, c.evse_id from connectors c join charging_stations st on st.id = c.station_id
      where c.tenant_id = ? order by st.station_id, c.connector_id`,
    [tenantId],
  );
  return { session, readings, anomalies, stations, connectors };
}

describe('one session write path: POST and batch store the same', function () {
  this.timeout(120_000);
  for (const [i, c] of CASES.entries()) {
    it(c.name, async () => {
      // A pair of tenants per case: their stations and connectors are the case's alone.
      const interactive = await newTenant(`writes-interactive-${i}`);
      const batch = await newTenant(`writes-batch-${i}`);
      const sessionId = `w-${i}`;
      for (const t of [interactive, batch]) {
        if (!c.setup) continue;
        const res = await call('POST', '/v1/sessions', { key: t.key, body: { sessionId, ...c.setup } });
        assert.equal(res.status, 201, res.text);
      }
      const viaPost = await call('POST', '/v1/sessions', { key: interactive.key, body: { sessionId, ...c.write } });
      assert.equal(viaPost.status, c.setup ? 200 : 201, viaPost.text);
      const submitted = await call('POST', '/v1/sessions/batch', { key: batch.key, body: { sessions: [{ sessionId, ...c.write }] } });
      assert.equal(submitted.status, 200, submitted.text);
      await waitFor('batch', async () => {
        const b = await call('GET', `/v1/sessions/batch/${submitted.body.batchId}`, { key: batch.key });
        return b.body.status === 'completed' ? b.body : undefined;
      });

      const a = await snapshot(interactive.tenantId, sessionId);
      const b = await snapshot(batch.tenantId, sessionId);
      assert.deepEqual(b, a, 'the batch stored what the POST stored');
      c.expect(a);
      // And both answer GET alike.
      const [ga, gb] = await Promise.all([interactive, batch].map((t) => call('GET', `/v1/sessions/${sessionId}`, { key: t.key })));
      const strip = (x: Record<string, unknown>) => ({ ...x, createdAt: undefined, analyzedAt: undefined });
      assert.deepEqual(strip(gb.body), strip(ga.body));
      // The write's own answer is the session as stored.
      const { meterValues, reconstructedSoc, sorcConfidence, readingCount, dataQuality, ...summary } = ga.body;
      assert.deepEqual(strip(viaPost.body), strip(summary));
    });
  }
});

describe('interactive writes when things go wrong', function () {
  this.timeout(120_000);

  it('a Temporal outage is a 503 with Retry-After, and nothing of the write is stored', async () => {
    const { orm } = stack();
    // A client of a server that is not there (a port nothing listens on).
    const temporal = new Client({ connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}` }) });
    const api = await listen({ orm, temporal, config: { ...config, taskQueue: stack().taskQueue }, logger: pino({ level: 'silent' }) }, 0, '127.0.0.1');
    try {
      const { key, tenant } = await createTenantWithAdminKey(orm.em.fork(), 'outage');
      const res = await fetch(`${api.url}/v1/sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sessionId: 'down-1', chargingStationId: 'CP-DOWN', meterValues: three }),
      });
      assert.equal(res.status, 503, await res.clone().text());
      assert.ok(Number(res.headers.get('retry-after')) > 0, 'Retry-After says when to try again');
      assert.match(((await res.json()) as { detail: string }).detail, /unavailable/);
      const [left] = await orm.em.getConnection().execute(
        `select (select count(*) from charging_sessions where tenant_id = ?)::int as sessions,
                (select count(*) from charging_stations where tenant_id = ?)::int as stations,
                (select count(*) from session_writes where tenant_id = ?)::int as writes`,
        [tenant.id, tenant.id, tenant.id],
      );
      assert.deepEqual(left, { sessions: 0, stations: 0, writes: 0 });
    } finally {
      await new Promise((r) => api.server.close(r));
      await temporal.connection.close();
    }
  });

  it('a batch that rewrites a session refreshes its running actor and its search attributes', async () => {
    const { key, tenantId } = await newTenant('refresh');
    const clean = cleanFixtures[0].values;
    const anomalous = categoryFixtures.find((f) => f.expect.category === 'KWH_DECREASE')!.values;
    const created = await call('POST', '/v1/sessions', { key, body: { sessionId: 'rf-1', chargingStationId: 'CP-RF', meterValues: clean } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.isAnomaly, false);
    const handle = stack().env.client.workflow.getHandle(sessionWorkflowId(tenantId, 'rf-1'));
    const attr = async (name: string) => (await handle.describe()).typedSearchAttributes.getAll().find((p) => p.key.name === name)?.value;
    assert.equal(await attr('EvniIsAnomaly'), false);

    const submitted = await call('POST', '/v1/sessions/batch', { key, body: { sessions: [{ sessionId: 'rf-1', chargingStationId: 'CP-RF-2', meterValues: anomalous }] } });
    assert.equal(submitted.status, 200, submitted.text);
    await waitFor('refreshed search attributes', async () => ((await attr('EvniIsAnomaly')) === true ? true : undefined));
    assert.equal(await attr('EvniChargingStationId'), 'CP-RF-2', 'the station follows the move');
    const stored = await call('GET', '/v1/sessions/rf-1', { key });
    assert.equal(await attr('EvniAnomalyScore'), stored.body.anomalyScore);
  });
});
