// Scheduled SHADE end to end against the real stack: the tenant's schedule exists (and follows the
// organization's time zone), the test triggers it as an operator would from the Temporal UI, waits
// for the run, reads /inference, /anomalies, /shade-overview and /energy, and receives
// `station.anomaly_detected` at a loopback receiver. A second trigger re-runs the day: the result
// is replaced (same id, one row) and no second event is sent.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { Webhook } from 'standardwebhooks';
import { sql } from '../db/sql';
import { localDay, previousLocalDay } from '../domain/stations/local-day';
import { buildStationDays, planShadeRun, stationsOfChunk } from '../domain/stations/shade-run';
import { SHADE_CATCHUP_WINDOW_MS, triggerShade } from '../temporal/shade-schedules';
import { shadeScheduleId } from '../workflows/shade/contract';
import type { shadeRun } from '../workflows/shade/workflow';
import { call, newTenant } from './helpers/http';
import { stack } from './helpers/stack';
import { waitFor } from './helpers/wait';

const at = (t: number, minute: number) => new Date(t + minute * 60_000).toISOString();
/** One reading a minute for `minutes` minutes from `start`: the register at `registerKw`, the reported power at `powerKw`. */
const charge = (start: number, minutes: number, registerKw: number, powerKw: number) =>
  Array.from({ length: minutes + 1 }, (_, i) => [
    { timestamp: at(start, i), value: Math.round(((registerKw * i) / 60) * 1000) / 1000, measurand: 'Energy.Active.Import.Register', unit: 'kWh' },
    { timestamp: at(start, i), value: powerKw, measurand: 'Power.Active.Import', unit: 'kW' },
  ]).flat();

describe('scheduled SHADE end to end', function () {
  this.timeout(180_000);
  let key: string;
  let tenantId: string;
  const got: { headers: Record<string, string>; body: string }[] = [];
  let server: http.Server;
  let secret: string;
  // Yesterday in UTC: what a run triggered now analyses.
  const day = previousLocalDay(Date.now(), 'UTC');
  const dayStart = Date.parse(`${day}T00:00:00Z`);

  before(async () => {
    ({ key, tenantId } = await newTenant('shade'));
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        got.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const hook = await call('POST', '/v1/webhooks', { key, body: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, events: ['station.anomaly_detected'] } });
    assert.equal(hook.status, 200, hook.text);
    secret = hook.body.secret;
    // SH-DRIFT: its register counts 10 kW while it reports 20 kW for three hours (meter drift; steady
    // minutes exclude a power-reading interval at each end, so the stretch needs more than an hour); SH-OK: both agree.
    for (const s of [
      { sessionId: 'sh-drift', chargingStationId: 'SH-DRIFT', connectorId: '1', meterValues: charge(dayStart + 10 * 3_600_000, 180, 10, 20) },
      { sessionId: 'sh-ok', chargingStationId: 'SH-OK', connectorId: '1', meterValues: charge(dayStart + 12 * 3_600_000, 60, 11, 11) },
    ]) {
      const res = await call('POST', '/v1/sessions', { key, body: s });
      assert.equal(res.status, 201, res.text);
    }
  });

  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const schedule = () => stack().env.client.schedule.getHandle(shadeScheduleId(tenantId));

  it('has a schedule for the new tenant: after local midnight, overlap skip, a catch-up window; it follows the time zone', async () => {
    await stack().shadeSchedules.sync();
    let d = await schedule().describe();
    assert.equal(d.spec.timezone, 'UTC');
    assert.deepEqual(
      d.spec.calendars?.map((c) => [c.hour, c.minute]),
      [[[{ start: 0, end: 0, step: 1 }], [{ start: 15, end: 15, step: 1 }]]],
    );
    assert.equal(d.policies.overlap, ScheduleOverlapPolicy.SKIP);
    assert.equal(d.policies.catchupWindow, SHADE_CATCHUP_WINDOW_MS);
    assert.equal((d.action as { taskQueue: string }).taskQueue, stack().taskQueue);

    const put = await call('PUT', '/v1/organization', { key, body: { name: 'shade', timeZone: 'Europe/Amsterdam' } });
    assert.equal(put.status, 200, put.text);
    d = await schedule().describe();
    assert.equal(d.spec.timezone, 'Europe/Amsterdam');
    // Back to UTC (null resets), so that the run below analyses the UTC day the sessions are in.
    await call('PUT', '/v1/organization', { key, body: { name: 'shade', timeZone: null } });
    assert.equal((await schedule().describe()).spec.timezone, 'UTC');
  });

  /** Triggers the schedule and waits for the run it starts; returns its result and workflow id. */
  async function triggerAndWait(runsBefore: number) {
    await triggerShade(stack().env.client, tenantId);
    const workflowId = await waitFor('the triggered run', async () => {
      const actions = (await schedule().describe()).info.recentActions;
      return actions.length > runsBefore ? actions[actions.length - 1].action.workflow.workflowId : undefined;
    });
    const handle = stack().env.client.workflow.getHandle<typeof shadeRun>(workflowId);
    return { workflowId, result: await handle.result(), handle };
  }

  let inferenceId: string;

  it('a triggered run analyses yesterday, stores results and sends station.anomaly_detected', async () => {
    const { workflowId, result, handle } = await triggerAndWait(0);
    assert.ok(workflowId.startsWith(`${shadeScheduleId(tenantId)}-`), workflowId);
    assert.equal(result.day, day);
    assert.equal(result.timeZone, 'UTC');
    assert.equal(result.stations, 2);
    assert.equal(result.stored, 2);
    assert.equal(result.anomalous, 1);
    assert.equal(result.events, 1);
    const desc = await handle.describe();
    assert.deepEqual(desc.searchAttributes.EvniTenantId, [tenantId]);
    assert.deepEqual(desc.searchAttributes.EvniShadeDay, [day]);

    const inf = await call('GET', '/v1/stations/SH-DRIFT/inference', { key });
    assert.equal(inf.status, 200, inf.text);
    assert.equal(inf.body.isAnomaly, true);
    assert.equal(inf.body.day, day);
    assert.equal(inf.body.detectionDetails.anomaly_type, 'meter_drift');
    assert.ok(inf.body.anomalyScore > 0 && inf.body.anomalyScore <= 1);
    inferenceId = inf.body.inferenceId;
    const ok = await call('GET', '/v1/stations/SH-OK/inference', { key });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.isAnomaly, false);

    const list = await call('GET', '/v1/stations/SH-DRIFT/anomalies', { key });
    assert.equal(list.body.pagination.totalCount, 1);
    assert.equal(list.body.content[0].inferenceId, inferenceId);

    const overview = await call('GET', '/v1/stations/SH-DRIFT/shade-overview', { key });
    assert.equal(overview.status, 200, overview.text);
    assert.equal(overview.body.energyTimeline.length, 1441);
    assert.equal(overview.body.energyTimeline[0].timestamp, `${day}T00:00:00Z`);
    const total = overview.body.energyTimeline[1440].cumulativeKwh;
    assert.ok(Math.abs(total - 30) < 0.01, `the register's 30 kWh: ${total}`);
    assert.equal(overview.body.energyTimeline[600].cumulativeKwh, 0, 'nothing before 10:00');
    assert.ok(overview.body.anomalyMarkers.length > 0, 'markers');
    for (const m of overview.body.anomalyMarkers) {
      assert.ok(m.startMinute >= 600 && m.startMinute < 781, `marker inside the drift: ${m.startMinute}`);
      assert.equal(m.timestamp, new Date(dayStart + m.startMinute * 60_000).toISOString().replace('.000Z', 'Z'));
    }
    assert.equal(typeof overview.body.dayScore, 'number');

    const energy = await call('GET', `/v1/stations/SH-DRIFT/energy?anomalyId=${inferenceId}`, { key });
    assert.equal(energy.status, 200, energy.text);
    assert.equal(energy.body.dateTo, new Date(dayStart + 86_400_000).toISOString().replace('.000Z', 'Z'));
    assert.ok(energy.body.anomalyOccurrences.length > 0);
    assert.ok(energy.body.anomalyOccurrences.every((t: string) => Date.parse(t) >= dayStart + 600 * 60_000 && Date.parse(t) <= dayStart + 781 * 60_000), JSON.stringify(energy.body.anomalyOccurrences));

    await waitFor('the webhook', async () => (got.length >= 1 ? true : undefined), 30_000, 50);
    const payload = JSON.parse(got[0].body);
    assert.doesNotThrow(() => new Webhook(secret).verify(got[0].body, got[0].headers));
    assert.equal(payload.event, 'station.anomaly_detected');
    assert.equal(payload.charging_station_id, 'SH-DRIFT');
    assert.equal(payload.is_anomaly, true);
    assert.equal(payload.anomaly_score, inf.body.anomalyScore);
    assert.equal(payload.detection_details.anomaly_type, 'meter_drift');
  });

  it('a re-run of the day replaces its results and sends no second event', async () => {
    const before = await call('GET', '/v1/stations/SH-DRIFT/inference', { key });
    const { result } = await triggerAndWait(1);
    assert.equal(result.day, day);
    assert.equal(result.stored, 2);
    assert.equal(result.events, 0);
    const after = await call('GET', '/v1/stations/SH-DRIFT/inference', { key });
    assert.equal(after.body.inferenceId, inferenceId, 'the same row');
    assert.ok(Date.parse(after.body.analyzedAt) >= Date.parse(before.body.analyzedAt));
    const list = await call('GET', '/v1/stations/SH-DRIFT/anomalies', { key });
    assert.equal(list.body.pagination.totalCount, 1);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(got.length, 1, 'no second station.anomaly_detected');
  });

  it('another tenant sees none of it', async () => {
    const other = await newTenant('shade-other');
    for (const p of ['/inference', '/anomalies', '/shade-overview', '/energy']) {
      const res = await call('GET', `/v1/stations/SH-DRIFT${p}`, { key: other.key });
      assert.equal(res.status, 404, `${p}: ${res.text}`);
    }
  });

  it('plans chunks as ranges of station ids that cover every station once (and lists the ids for runs from before ranges)', async () => {
    const em = stack().orm.em.fork();
    const listed = await planShadeRun(em, tenantId, { day });
    assert.equal(listed.stationIds.length, 2);
    const plan = await planShadeRun(em, tenantId, { day, chunkSize: 1 });
    assert.deepEqual([plan.day, plan.stations, plan.chunkStarts], [day, 2, listed.stationIds]);
    const d = localDay(day, 'UTC');
    const covered: string[] = [];
    for (const [i, from] of plan.chunkStarts.entries()) covered.push(...(await stationsOfChunk(em, tenantId, d, from, plan.chunkStarts[i + 1] ?? null)));
    assert.deepEqual(covered, listed.stationIds);
    assert.deepEqual((await planShadeRun(em, tenantId, { day, chunkSize: 500 })).chunkStarts, [listed.stationIds[0]]);
    assert.deepEqual(await planShadeRun(em, tenantId, { day: '2001-01-01', chunkSize: 500 }), { day: '2001-01-01', timeZone: 'UTC', stations: 0, chunkStarts: [] });
  });

  it("gives the detector each session's minutes as the simulator does: an inclusive end, and whether it began before or went on after the day", async () => {
    // SH-EDGE: one session from 23:30 the evening before to 00:30, one from 12:00 to 12:30 and one from 23:40 to 00:20.
    for (const [sessionId, start, minutes] of [['sh-edge-night', dayStart - 30 * 60_000, 60], ['sh-edge-noon', dayStart + 12 * 3_600_000, 30], ['sh-edge-late', dayStart + (23 * 60 + 40) * 60_000, 40]] as const) {
      const res = await call('POST', '/v1/sessions', { key, body: { sessionId, chargingStationId: 'SH-EDGE', connectorId: '1', meterValues: charge(start, minutes, 11, 11) } });
      assert.equal(res.status, 201, res.text);
    }
    const em = stack().orm.em.fork();
    const [station] = await sql(em, `select id from charging_stations where tenant_id = ? and station_id = 'SH-EDGE'`, [tenantId]);
    const [input] = await buildStationDays(em, tenantId, localDay(day, 'UTC'), 'UTC', [station.id as string]);
    const sessions = input.connectors[0].sessions.map(({ energyWh, ...s }) => ({ ...s, charged: energyWh > 0 })).sort((a, b) => a.startMinute - b.startMinute);
    assert.deepEqual(sessions, [
      { startMinute: 0, endMinute: 29, startedBefore: true, endsAfter: false, charged: true },
      { startMinute: 720, endMinute: 749, startedBefore: false, endsAfter: false, charged: true },
      { startMinute: 1420, endMinute: 1439, startedBefore: false, endsAfter: true, charged: true },
    ]);
  });
});
