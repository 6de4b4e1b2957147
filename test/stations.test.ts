// The station endpoints through the API against the real stack, with sessions created through the
// sessions API (interactive and batch): lists, lookup, detail, connectors, and the energy read from
// the rollups the analysis keeps (replace, append and a move to another station included). SHADE's
// results (/inference, /anomalies, /shade-overview with data) are covered by test/shade.test.ts.
import assert from 'node:assert/strict';
import { sql } from '../db/sql';
import { call, newTenant } from './helpers/http';
import { stack } from './helpers/stack';
import { waitFor } from './helpers/wait';

const at = (iso: string, minute: number) => new Date(Date.parse(iso) + minute * 60_000).toISOString();
/** Register readings (kWh) one per `step` minutes from `start`, with the power (kW) a steady charge implies. */
const charge = (start: string, kwh: number[], kw: number | null, step = 5) =>
  kwh.flatMap((v, i) => [
    { timestamp: at(start, i * step), value: v, measurand: 'Energy.Active.Import.Register', unit: 'kWh' },
    ...(kw === null ? [] : [{ timestamp: at(start, i * step), value: kw, measurand: 'Power.Active.Import', unit: 'kW' }]),
  ]);
const close = (a: number, b: number, eps = 0.002) => Math.abs(a - b) <= eps;

describe('station endpoints', function () {
  this.timeout(120_000);
  let key: string;
  let tenantId: string;

  const post = async (body: object, method = 'POST', path = '/v1/sessions') => {
    const res = await call(method, path, { key, body });
    assert.ok(res.status === 200 || res.status === 201, `${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  };
  const energy = async (station: string, query = '') => {
    const res = await call('GET', `/v1/stations/${station}/energy${query}`, { key });
    assert.equal(res.status, 200, res.text);
    return res.body;
  };
  const hour = (body: any, iso: string) => body.energyConsumptionStation.find((p: any) => p.timestamp === iso)?.energy;

  before(async () => {
    ({ key, tenantId } = await newTenant('stations'));
    // Station A, connector 1: 10:00–10:30, 0 → 6 kWh at 12 kW (all in the 10:00 hour).
    await post({ sessionId: 'st-a1', chargingStationId: 'ST-A', connectorId: '1', meterValues: charge('2026-03-10T10:00:00Z', [0, 1, 2, 3, 4, 5, 6], 12) });
    // Station A, connector 2: 10:45–11:15, 0 → 3 kWh at 6 kW (half in each hour).
    await post({ sessionId: 'st-a2', chargingStationId: 'ST-A', connectorId: '2', meterValues: charge('2026-03-10T10:45:00Z', [0, 0.5, 1, 1.5, 2, 2.5, 3], 6) });
    // Station A, connector 2: the register falls and stays down (KWH_DECREASE), no power readings.
    await post({ sessionId: 'st-a3', chargingStationId: 'ST-A', connectorId: '2', meterValues: charge('2026-03-10T14:00:00Z', [10, 10.5, 11, 2, 2.5, 3, 3.5, 4], null, 1) });
    // Station B: one clean session.
    await post({ sessionId: 'st-b1', chargingStationId: 'ST-B', connectorId: '1', meterValues: charge('2026-03-10T08:00:00Z', [0, 1, 2], 12) });
  });

  it('lists stations with their anomaly counts, filters, sorts and paginates', async () => {
    const all = await call('GET', '/v1/stations', { key });
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(all.body.pagination, { totalCount: 2, page: 1, size: 20 });
    const [a, b] = all.body.content;
    assert.equal(a.chargingStationId, 'ST-A');
    assert.equal(a.ocppChargingStationId, 'ST-A');
    assert.equal(a.totalAnomalies, 1);
    assert.ok(a.aiScore > 0 && a.aiScore <= 1);
    assert.equal(a.lastAnomalyDate, '2026-03-10T14:00:00Z');
    assert.deepEqual([b.chargingStationId, b.totalAnomalies, b.aiScore, b.lastAnomalyDate], ['ST-B', 0, null, null]);

    const asc = await call('GET', '/v1/stations?sortByAnomalies=asc', { key });
    assert.deepEqual(asc.body.content.map((s: any) => s.chargingStationId), ['ST-B', 'ST-A']);
    const byScore = await call('GET', '/v1/stations?sortByScore=desc', { key });
    assert.deepEqual(byScore.body.content.map((s: any) => s.chargingStationId), ['ST-A', 'ST-B']);
    const one = await call('GET', '/v1/stations?ocpp_charging_station_id=ST-B', { key });
    assert.deepEqual(one.body.content.map((s: any) => s.chargingStationId), ['ST-B']);
    const occurred = await call('GET', '/v1/stations?occurrenceFrom=2026-03-10T12:00:00Z&occurrenceTo=2026-03-11', { key });
    assert.deepEqual(occurred.body.content.map((s: any) => s.chargingStationId), ['ST-A']);
    const none = await call('GET', '/v1/stations?occurrenceFrom=2026-03-11', { key });
    assert.deepEqual(none.body, { content: [], pagination: { totalCount: 0, page: 1, size: 20 } });
    const page2 = await call('GET', '/v1/stations?limit=1&page=2', { key });
    assert.deepEqual(page2.body.pagination, { totalCount: 2, page: 2, size: 1 });
    assert.deepEqual(page2.body.content.map((s: any) => s.chargingStationId), ['ST-B']);
    const past = await call('GET', '/v1/stations?pageSize=1&page=5', { key });
    assert.deepEqual(past.body.pagination, { totalCount: 2, page: 5, size: 1 });

    const bad = await call('GET', '/v1/stations?sortByScore=up', { key });
    assert.equal(bad.status, 422);
    assert.match(bad.body.detail, /sortByScore/);
  });

  it('looks up station ids (the literal path is not a station named "lookup")', async () => {
    const res = await call('GET', '/v1/stations/lookup', { key });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { items: ['ST-A', 'ST-B'] });
  });

  it('shows a station with per-connector counts, and its connectors with categories', async () => {
    const res = await call('GET', '/v1/stations/ST-A', { key });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, {
      chargingStationId: 'ST-A',
      totalSessions: 3,
      anomalousSessions: 1,
      connectors: [
        { connectorId: '1', totalSessions: 1, anomalousSessions: 0 },
        { connectorId: '2', totalSessions: 2, anomalousSessions: 1 },
      ],
      metadata: null,
    });
    const session = await call('GET', '/v1/sessions/st-a3', { key });
    const categories = [...new Set(session.body.anomalies.map((x: any) => x.category as string))];
    assert.ok(categories.includes('KWH_DECREASE'), JSON.stringify(categories));
    const connectors = await call('GET', '/v1/stations/ST-A/connectors', { key });
    assert.equal(connectors.status, 200, connectors.text);
    assert.deepEqual(connectors.body.connectors[0], { connectorId: '1', totalSessions: 1, anomalousSessions: 0, anomalyCategories: {} });
    assert.deepEqual(connectors.body.connectors[1].anomalyCategories, Object.fromEntries(categories.sort().map((c) => [c, 1])));
  });

  it('answers 404 for an unknown station on every station path', async () => {
    for (const p of ['', '/connectors', '/energy', '/inference', '/anomalies', '/shade-overview']) {
      const res = await call('GET', `/v1/stations/NOPE${p}`, { key });
      assert.equal(res.status, 404, `${p}: ${res.text}`);
      assert.equal(res.body.detail, 'Station not found');
    }
  });

  it('has no SHADE result before a run: /inference and /shade-overview 404, /anomalies empty', async () => {
    assert.equal((await call('GET', '/v1/stations/ST-A/inference', { key })).status, 404);
    assert.equal((await call('GET', '/v1/stations/ST-A/shade-overview', { key })).status, 404);
    const list = await call('GET', '/v1/stations/ST-A/anomalies', { key });
    assert.deepEqual(list.body, { content: [], pagination: { totalCount: 0, page: 1, size: 20 } });
  });

  it('reads hourly energy per station and connector from the rollup', async () => {
    const e = await energy('ST-A');
    // The default window ends after the station's last hour with energy (14:00–15:00).
    assert.equal(e.dateTo, '2026-03-10T15:00:00Z');
    assert.equal(e.dateFrom, '2026-03-03T15:00:00Z');
    assert.equal(e.energyConsumptionStation.length, 168);
    assert.ok(close(hour(e, '2026-03-10T10:00:00Z'), 6 + 1.5), JSON.stringify(hour(e, '2026-03-10T10:00:00Z')));
    assert.ok(close(hour(e, '2026-03-10T11:00:00Z'), 1.5));
    // st-a3: 10 → 11 then a fall to 2 (not counted) and 2 → 4: 3 kWh.
    assert.ok(close(hour(e, '2026-03-10T14:00:00Z'), 3));
    assert.ok(close(e.energyDelivered, 6 + 3 + 3));
    const c2 = e.energyConsumptionConnectors.find((c: any) => c.connectorId === '2');
    assert.ok(close(c2.energy.find((p: any) => p.timestamp === '2026-03-10T11:00:00Z').energy, 1.5));
    assert.deepEqual(e.anomalyOccurrences, []);
    const earlier = await energy('ST-A', '?dateTo=2026-03-10T11:00:00Z');
    assert.equal(earlier.dateTo, '2026-03-10T11:00:00Z');
    assert.ok(close(earlier.energyDelivered, 7.5));
    const bad = await call('GET', '/v1/stations/ST-A/energy?anomalyId=not-a-uuid', { key });
    assert.equal(bad.status, 422);
    const unknown = await call('GET', '/v1/stations/ST-A/energy?anomalyId=00000000-0000-4000-8000-000000000000', { key });
    assert.equal(unknown.status, 404);
  });

  it('keeps per-minute energy from the register and, separately, from the reported power', async () => {
    const rows = await sql(
      stack().orm.em.fork(),
      `select e.energy_wh, e.power_wh from station_session_energy e join charging_sessions s on s.id = e.session_id where s.tenant_id = ? and s.session_id = 'st-a1'`,
      [tenantId],
    );
    const sum = (xs: (number | null)[]) => xs.reduce<number>((a, b) => a + (b ?? 0), 0);
    assert.equal(rows[0].energy_wh.length, 30);
    assert.ok(close(sum(rows[0].energy_wh) / 1000, 6) && close(sum(rows[0].power_wh) / 1000, 6), `${sum(rows[0].energy_wh)} ${sum(rows[0].power_wh)}`);
    const noPower = await sql(stack().orm.em.fork(), `select e.power_wh from station_session_energy e join charging_sessions s on s.id = e.session_id where s.tenant_id = ? and s.session_id = 'st-a3'`, [tenantId]);
    assert.ok(noPower[0].power_wh.every((v: number | null) => v === null), 'no power readings: no power energy');
  });

  it('replaces a session\'s contribution on PUT, adds on PATCH, and follows a move to another station', async () => {
    // PUT: st-a1 now delivers 2 kWh (10:00–10:10).
    await post({ meterValues: charge('2026-03-10T10:00:00Z', [0, 1, 2], 12) }, 'PUT', '/v1/sessions/st-a1');
    let e = await energy('ST-A');
    assert.ok(close(hour(e, '2026-03-10T10:00:00Z'), 2 + 1.5), JSON.stringify(hour(e, '2026-03-10T10:00:00Z')));
    // PATCH: two more readings, 10:15 and 10:20 → 4 kWh.
    await post({ meterValues: charge('2026-03-10T10:15:00Z', [3, 4], 12) }, 'PATCH', '/v1/sessions/st-a1');
    e = await energy('ST-A');
    assert.ok(close(hour(e, '2026-03-10T10:00:00Z'), 4 + 1.5), JSON.stringify(hour(e, '2026-03-10T10:00:00Z')));
    // A create naming station B moves the session: A loses its energy, B gains it.
    await post({ sessionId: 'st-a1', chargingStationId: 'ST-B', connectorId: '1', meterValues: charge('2026-03-10T10:00:00Z', [0, 1, 2, 3, 4], 12) });
    e = await energy('ST-A');
    assert.ok(close(hour(e, '2026-03-10T10:00:00Z'), 1.5), JSON.stringify(hour(e, '2026-03-10T10:00:00Z')));
    const b = await energy('ST-B');
    assert.ok(close(hour(b, '2026-03-10T10:00:00Z'), 4) && close(hour(b, '2026-03-10T08:00:00Z'), 2), JSON.stringify(b.energyConsumptionStation.filter((p: any) => p.energy > 0)));
    const rows = await sql(stack().orm.em.fork(), 'select sum(session_starts)::int as n from station_hourly_energy where tenant_id = ?', [tenantId]);
    assert.equal(rows[0].n, 4, 'one session start per session, whatever was rewritten');
  });

  it('keeps the rollups on the batch path too', async () => {
    const res = await call('POST', '/v1/sessions/batch', {
      key,
      body: { sessions: [{ sessionId: 'st-c1', chargingStationId: 'ST-C', connectorId: '1', meterValues: charge('2026-03-11T09:00:00Z', [0, 2, 4], 24) }] },
    });
    assert.equal(res.status, 200, res.text);
    await waitFor('the batch', async () => ((await call('GET', `/v1/sessions/batch/${res.body.batchId}`, { key })).body.status === 'completed' ? true : undefined));
    const e = await energy('ST-C');
    assert.ok(close(hour(e, '2026-03-11T09:00:00Z'), 4), JSON.stringify(e.energyConsumptionStation.filter((p: any) => p.energy > 0)));
  });

  it('rebuilds the rollups from the stored readings through the operator CLI, as the analysis keeps them', async () => {
    const { execFileSync } = await import('node:child_process');
    const path = await import('node:path');
    const em = stack().orm.em.fork();
    const snapshot = async () => ({
      minutes: await sql(
        em,
        `select session_id, station_id, connector_id, start_minute, end_minute, array_to_string(energy_wh, ',', '') as e, array_to_string(power_wh, ',', '') as p
           from station_session_energy where tenant_id = ? order by session_id`,
        [tenantId],
      ),
      hours: await sql(
        em,
        `select station_id, connector_id, hour, round(energy_wh::numeric, 2)::text as e, round(power_wh::numeric, 2)::text as p, session_starts
           from station_hourly_energy where tenant_id = ? and (abs(energy_wh) > 0.005 or abs(power_wh) > 0.005 or session_starts <> 0) order by station_id, connector_id, hour`,
        [tenantId],
      ),
    });
    const kept = await snapshot();
    assert.ok(kept.minutes.length >= 5 && kept.hours.length > 0, JSON.stringify(kept).slice(0, 300));
    const rebuild = (...args: string[]) =>
      execFileSync(process.execPath, ['--import', 'tsx', 'stack/cli.ts', 'station-rollups-rebuild', ...args], {
        cwd: path.resolve(__dirname, '..'),
        env: { ...process.env, DATABASE_URL: stack().databaseUrl },
        encoding: 'utf8',
      });
    // Over rollups that are right, a rebuild takes each session's contribution out and puts it back.
    assert.match(rebuild(tenantId), new RegExp(`rebuilt for ${kept.minutes.length} sessions`));
    assert.deepEqual(await snapshot(), kept);
    // Sessions analysed before the rollups existed: no rows at all, until the rebuild.
    await sql(em, 'delete from station_session_energy where tenant_id = ?', [tenantId]);
    await sql(em, 'delete from station_hourly_energy where tenant_id = ?', [tenantId]);
    rebuild(tenantId);
    assert.deepEqual(await snapshot(), kept);
    assert.throws(() => rebuild('not-a-tenant'), /usage: npm run cli -- station-rollups-rebuild/);
  });
});
