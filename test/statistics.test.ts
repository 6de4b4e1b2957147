// GET /v1/statistics end to end over HTTP against the real stack: sessions with known anomalies
// (the contract's crafted sessions, analysed by the served detector), counts and date filters,
// revenue from the organization's price, connector uptime and its delta, an issue marked a false
// positive, and the data-quality snapshot: null, then filled once the schedule's workflow ran.
import assert from 'node:assert/strict';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { config } from '../config';
import { ensureDataQualitySchedule } from '../temporal/statistics-schedule';
import { DATA_QUALITY_SCHEDULE_ID } from '../workflows/data-quality/contract';
import type { dataQualityWorkflow } from '../workflows/data-quality/workflow';
import type { RawMeterValue } from '../domain/analysis/types';
import { sql } from '../db/sql';
import { fillStaleSessionEnergy } from '../domain/statistics/energy';
import { categoryFixtures, simulate, START, toMeterValues } from './fixtures/sessions';
import { call, newTenant } from './helpers/http';
import { stack } from './helpers/stack';
import { waitFor } from './helpers/wait';

const HOUR = 3600_000;
/** The fixtures' readings moved to start at `at`. */
function at(values: RawMeterValue[], startIso: string): RawMeterValue[] {
  const shift = Date.parse(startIso) - Date.parse(START);
  return values.map((v) => ({ ...v, timestamp: new Date(Date.parse(v.timestamp) + shift).toISOString() }));
}
const fixture = (name: string) => categoryFixtures.find((f) => f.name === name)!.values;
const clean = () => toMeterValues(simulate({ count: 121, power: () => 11 })); // 5.5 kWh
const KWH_DECREASE_KWH = 5.5 - (11 * 15) / 3600; // the reset hides one 15-s interval (test/unit/statistics-energy.test.ts)
const close = (a: number, b: number, what: string, tol = 0.011) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a}, expected ${b}`);

/** Triggers the data-quality schedule and waits for the run it started to complete. */
async function runDataQualityNow(): Promise<void> {
  const client = stack().env.client;
  // Other files start workers of their own task queues (crash and kill tests run worker/main.ts),
  // and a worker points the one schedule at its queue: point it back at this stack's worker, and
  // trigger past any run left on a queue that worker no longer polls.
  await ensureDataQualitySchedule(client, stack().taskQueue, config.dataQualityEveryMinutes);
  const schedule = client.schedule.getHandle(DATA_QUALITY_SCHEDULE_ID);
  const before = (await schedule.describe()).info.recentActions.length;
  const triggered = Date.now();
  await schedule.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
  const action = await waitFor('the schedule to start a run', async () => {
    const actions = (await schedule.describe()).info.recentActions;
    const fresh = actions.filter((a) => a.takenAt.getTime() >= triggered - 1_000);
    return actions.length > before || fresh.length > 0 ? (fresh[fresh.length - 1] ?? actions[actions.length - 1]) : undefined;
  }, 30_000);
  const result = await client.workflow.getHandle<typeof dataQualityWorkflow>(action.action.workflow.workflowId).result();
  assert.ok(result.tenants >= 1, JSON.stringify(result));
}

describe('GET /v1/statistics', function () {
  this.timeout(180_000);
  let key: string;
  let tenantId: string;
  const put = async (sessionId: string, chargingStationId: string, connectorId: string, meterValues: RawMeterValue[]) => {
    const res = await call('POST', '/v1/sessions', { key, body: { sessionId, chargingStationId, connectorId, meterValues } });
    assert.equal(res.status, 201, res.text);
    return res.body;
  };
  const stats = async (query = '') => {
    const res = await call('GET', `/v1/statistics${query}`, { key });
    assert.equal(res.status, 200, res.text);
    return res.body;
  };

  before(async () => {
    ({ key, tenantId } = await newTenant('statistics'));
    // Monday 2 March 2026: station CP-A (connectors 1, 2), station CP-B (connector 1).
    const s1 = await put('st-clean-a1', 'CP-A', '1', at(clean(), '2026-03-02T08:00:00Z'));
    const s2 = await put('st-decrease-a1', 'CP-A', '1', at(fixture('kwh-decrease'), '2026-03-02T10:00:00Z'));
    const s3 = await put('st-zero-a2', 'CP-A', '2', at(fixture('zero-session'), '2026-03-02T12:00:00Z'));
    const s4 = await put('st-clean-a2', 'CP-A', '2', at(clean(), '2026-03-02T18:00:00Z'));
    // Tuesday: a clean session whose first readings arrive twice (a data-quality finding).
    const tuesday = at(clean(), '2026-03-03T09:00:00Z');
    const s5 = await put('st-dup-b1', 'CP-B', '1', [...tuesday.slice(0, 6), ...tuesday]);
    // Tuesday evening: too few readings to analyse (pending).
    await put('st-pending-b1', 'CP-B', '1', at(clean(), '2026-03-03T20:00:00Z').slice(0, 2));
    // The week before: a clean session outside the period.
    await put('st-old-b1', 'CP-B', '1', at(clean(), '2026-02-23T09:00:00Z'));
    assert.equal(s1.isAnomaly, false);
    assert.deepEqual(s2.anomalies.map((a: { category: string }) => a.category), ['KWH_DECREASE']);
    assert.deepEqual(s3.anomalies.map((a: { category: string }) => a.category), ['ZERO_SESSION']);
    assert.equal(s4.isAnomaly, false);
    assert.equal(s5.isAnomaly, false);
  });

  it('counts sessions and anomalies of a period (date-only bounds read as UTC midnight); dataQuality is null before the first run', async () => {
    const s = await stats('?occurrenceFrom=2026-03-02&occurrenceTo=2026-03-04');
    assert.equal(s.totalSessions, 6, 'Monday and Tuesday, the pending one included');
    assert.equal(s.totalAnomaliesCount, 2);
    assert.equal(s.activeAnomaliesCount, 2, 'both issues are OPEN');
    assert.equal(s.sessionsWithAnomaliesCount, 2);
    assert.equal(s.connectorsWithAnomaliesCount, 2, 'CP-A/1 and CP-A/2');
    assert.equal(s.chargingStationsWithAnomaliesCount, 1);
    // The 001 figures, camelCase.
    assert.equal(s.anomalousSessions, 2);
    assert.equal(s.totalStations, 2);
    assert.equal(s.stationsWithAnomalies, 1);
    close(s.anomalyRate, 2 / 6, 'anomalyRate', 1e-6);
    assert.equal(s.dataQuality, null);
    // No price yet: revenue is 0, without a currency.
    assert.equal(s.energyPrice, null);
    assert.equal(s.currency, null);
    assert.equal(s.totalRevenue, 0);
    assert.equal(s.revenueAtRisk, 0);
    assert.equal(s.revenueLeakEstimate, 0);

    const all = await stats();
    assert.equal(all.totalSessions, 7);
    assert.equal(all.totalAnomaliesCount, 2);
    // A long period counts connectors and stations by probes, a short one from its anomalies: the same answer.
    assert.equal(all.connectorsWithAnomaliesCount, 2);
    assert.equal(all.chargingStationsWithAnomaliesCount, 1);
    // Offset-less date-times are UTC too; the anomaly's occurrence (12:00) is what counts.
    const afternoon = await stats('?occurrenceFrom=2026-03-02T11:00:00&occurrenceTo=2026-03-02T13:00');
    assert.equal(afternoon.totalSessions, 1);
    assert.equal(afternoon.totalAnomaliesCount, 1);
    assert.equal(afternoon.connectorsWithAnomaliesCount, 1);
    // Partial days at both ends (the sessions themselves) around a whole day (the daily rollup).
    const span = await stats('?occurrenceFrom=2026-03-02T09:00:00Z&occurrenceTo=2026-03-03T10:00:00Z');
    assert.equal(span.totalSessions, 4, 'Monday 10:00, 12:00, 18:00 and Tuesday 09:00');
    assert.equal(span.anomalousSessions, 2);
    const tuesday = await stats('?occurrenceFrom=2026-03-03T00:00:00%2B00:00');
    assert.equal(tuesday.totalSessions, 2);
    assert.equal(tuesday.totalAnomaliesCount, 0);
  });

  it('refuses bad bounds with a 422 naming the field; bounds without time between them are an empty period', async () => {
    for (const [query, field] of [
      ['?occurrenceFrom=yesterday', 'occurrenceFrom'],
      ['?occurrenceTo=2026-02-30', 'occurrenceTo'],
      ['?occurrenceFrom=2026-03-02&occurrenceFrom=2026-03-03', 'occurrenceFrom'],
    ]) {
      const res = await call('GET', `/v1/statistics${query}`, { key });
      assert.equal(res.status, 422, `${query}: ${res.text}`);
      assert.match(res.body.detail, new RegExp(field), query);
    }
    const empty = await stats('?occurrenceFrom=2026-03-04&occurrenceTo=2026-03-02');
    assert.equal(empty.totalSessions, 0);
    assert.equal(empty.totalAnomaliesCount, 0);
    assert.equal(empty.uptimePercentage, 100);
    assert.equal(empty.uptimeDelta, 0);
    // The widest bounds the filters take (years 1 to 9999) hold every session.
    const widest = await stats('?occurrenceFrom=0001-01-01&occurrenceTo=9999-12-31T23:59:59');
    assert.equal(widest.totalSessions, 7);
    assert.equal(widest.totalAnomaliesCount, 2);
  });

  it('uptime: a zero session blocks its connector until the next session there; the delta compares with the period before', async () => {
    // 2 days × 3 known connectors = 144 connector-hours; CP-A/2 was down 12:00–18:00 on Monday.
    const s = await stats('?occurrenceFrom=2026-03-02&occurrenceTo=2026-03-04');
    close(s.uptimePercentage, 100 * (1 - 6 / 144), 'uptime', 1e-3);
    close(s.uptimeDelta, 100 * (1 - 6 / 144) - 100, 'delta against the two clean days before', 1e-3);
    assert.deepEqual(s.uptimePeriod, { from: '2026-03-02T00:00:00Z', to: '2026-03-04T00:00:00Z' });
    // The next period: no fault, and 100 − the one before.
    const next = await stats('?occurrenceFrom=2026-03-04&occurrenceTo=2026-03-06');
    assert.equal(next.uptimePercentage, 100);
    close(next.uptimeDelta, 100 - 100 * (1 - 6 / 144), 'delta', 1e-3);
    // Only part of the fault inside the period: 12:00–15:00 of 3 × 15 h.
    const part = await stats('?occurrenceFrom=2026-03-02T00:00:00Z&occurrenceTo=2026-03-02T15:00:00Z');
    close(part.uptimePercentage, 100 * (1 - 3 / 45), 'partial uptime', 1e-3);
    // A fault that began before both periods and still held: CP-A/2 down for all of 15:00–17:00 and 13:00–15:00.
    const inside = await stats('?occurrenceFrom=2026-03-02T15:00:00Z&occurrenceTo=2026-03-02T17:00:00Z');
    close(inside.uptimePercentage, 100 * (1 - 2 / 6), 'uptime inside the fault', 1e-3);
    close(inside.uptimeDelta, 0, 'the period before was as down', 1e-3);
  });

  it('revenue from the energy price: total, at risk (active anomalies) and the leak of a register that fell; filled by the scheduled sweep', async () => {
    const org = await call('PUT', '/v1/organization', { key, body: { name: 'statistics', energyPrice: 0.4, currency: 'EUR' } });
    assert.equal(org.status, 200, org.text);
    // The scheduled run fills session energy that the analysis has not (and the data-quality snapshot).
    await runDataQualityNow();
    const s = await stats('?occurrenceFrom=2026-03-02&occurrenceTo=2026-03-04');
    assert.equal(s.energyPrice, 0.4);
    assert.equal(s.currency, 'EUR');
    const kwh = 5.5 + KWH_DECREASE_KWH + 0 + 5.5 + 5.5; // s1, s2, s3 (zero), s4, s5; the pending one has none
    close(s.totalEnergyKwh, kwh, 'delivered kWh', 0.005);
    close(s.totalRevenue, kwh * 0.4, 'totalRevenue');
    close(s.revenueAtRisk, (KWH_DECREASE_KWH + 0) * 0.4, 'revenueAtRisk: the two sessions with open issues');
    close(s.revenueLeakEstimate, KWH_DECREASE_KWH * 0.4, 'revenueLeakEstimate: all of the reset session, as its last reading is below its first');
  });

  it('dataQuality is filled by the scheduled workflow: 7d, 30d and all, per finding', async () => {
    const s = await stats();
    assert.ok(s.dataQuality, 'a snapshot after the run');
    assert.match(s.dataQuality.generatedAt, /Z$/);
    // The fixtures are from 2026-02/03: relative to now, the 7- and 30-day ranges may be empty; `all` holds them.
    const all = s.dataQuality.ranges.all;
    assert.equal(all.from, null);
    assert.equal(all.totalSessions, 7);
    assert.equal(all.checkedSessions, 7, 'every session with readings was normalised, the pending one included');
    assert.equal(all.pendingSessions, 1);
    assert.equal(all.failedSessions, 0);
    assert.equal(all.flags.duplicates.sessions, 1, 'st-dup-b1');
    assert.ok(all.flags.duplicates.readings >= 6, JSON.stringify(all.flags.duplicates));
    close(all.flags.duplicates.rate, 1 / 7, 'duplicates rate', 1e-6);
    assert.ok(all.sessionsWithIssues >= 1);
    for (const name of ['7d', '30d'] as const) {
      const r = s.dataQuality.ranges[name];
      assert.equal(Date.parse(s.dataQuality.generatedAt) - Date.parse(r.from), (name === '7d' ? 7 : 30) * 24 * HOUR);
      assert.ok(r.totalSessions <= all.totalSessions);
    }
  });

  it('an issue marked FALSE_POSITIVE no longer counts, blocks no connector and is no revenue at risk', async () => {
    const list = await call('GET', '/v1/anomalies?chargingSessionId=st-zero-a2', { key });
    assert.equal(list.status, 200, list.text);
    const issueId = list.body.content[0].issues[0].id;
    const res = await call('PUT', `/v1/anomalies/issues/${issueId}`, { key, body: { status: 'FALSE_POSITIVE' } });
    assert.equal(res.status, 200, res.text);
    const s = await stats('?occurrenceFrom=2026-03-02&occurrenceTo=2026-03-04');
    assert.equal(s.totalAnomaliesCount, 1);
    assert.equal(s.activeAnomaliesCount, 1);
    assert.equal(s.connectorsWithAnomaliesCount, 1);
    assert.equal(s.uptimePercentage, 100);
    assert.equal(s.uptimeDelta, 0);
    // The decrease's issue in progress is still active, still at risk.
    const dec = await call('GET', '/v1/anomalies?chargingSessionId=st-decrease-a1', { key });
    await call('PUT', `/v1/anomalies/issues/${dec.body.content[0].issues[0].id}`, { key, body: { status: 'IN_PROGRESS' } });
    const s2 = await stats('?occurrenceFrom=2026-03-02&occurrenceTo=2026-03-04');
    assert.equal(s2.activeAnomaliesCount, 1);
    close(s2.revenueAtRisk, KWH_DECREASE_KWH * 0.4, 'at risk');
  });

  it("another tenant's statistics do not include this tenant's data", async () => {
    const other = await newTenant('statistics-other');
    const res = await call('GET', '/v1/statistics', { key: other.key });
    assert.equal(res.status, 200, res.text);
    for (const f of ['totalSessions', 'totalAnomaliesCount', 'activeAnomaliesCount', 'totalStations', 'totalRevenue']) assert.equal(res.body[f], 0, f);
    assert.equal(res.body.uptimePercentage, 100);
    assert.equal(res.body.uptimePeriod, null);
    // Its snapshot exists (every tenant gets one per run) and counts nothing of ours.
    assert.ok(res.body.dataQuality === null || res.body.dataQuality.ranges.all.totalSessions === 0);
  });

  it('the daily session rollup agrees with the sessions, before and after the scheduled run folds it', async () => {
    const em = stack().orm.em.fork();
    const compare = async () => {
      const direct = await sql(
        em,
        `select (coalesce(started_at, created_at) at time zone 'UTC')::date::text as day, count(*)::int as sessions,
                (count(*) filter (where is_anomaly))::int as anomalous, round(coalesce(sum(delivered_kwh), 0)::numeric, 6)::float8 as kwh
           from charging_sessions where tenant_id = ? group by 1 order by 1`,
        [tenantId],
      );
      const rolled = await sql(
        em,
        `select day::text as day, sum(sessions)::int as sessions, sum(anomalous)::int as anomalous, round(sum(delivered_kwh)::numeric, 6)::float8 as kwh
           from statistics_session_days where tenant_id = ? group by 1 having sum(sessions) <> 0 order by 1`,
        [tenantId],
      );
      assert.deepEqual(rolled, direct);
    };
    await compare();
    await runDataQualityNow();
    await compare();
    const [rows] = await sql(em, 'select count(*)::int as n, count(distinct day)::int as days from statistics_session_days where tenant_id = ?', [tenantId]);
    assert.equal(rows.n, rows.days, 'one row per day after the run');
    // Batch chunks write sessions with set-based statements: the rollup follows them too.
    const batch = await call('POST', '/v1/sessions/batch', {
      key,
      body: { sessions: [1, 2, 3].map((i) => ({ sessionId: `st-batch-${i}`, chargingStationId: 'CP-C', connectorId: '1', meterValues: at(clean(), `2026-03-0${i}T06:00:00Z`) })) },
    });
    assert.ok([200, 201, 202].includes(batch.status), batch.text);
    await waitFor('the batch to complete', async () => {
      const b = await call('GET', `/v1/sessions/batch/${batch.body.batchId}`, { key });
      return b.body.status === 'completed' ? true : undefined;
    }, 60_000, 250);
    await compare();
    assert.equal((await stats('?occurrenceFrom=2026-03-01&occurrenceTo=2026-03-04')).totalSessions, 6 + 3);
  });

  it("a tenant's deletion cascades through its sessions and leaves no rollup rows behind", async () => {
    const gone = await newTenant('statistics-gone');
    const res = await call('POST', '/v1/sessions', { key: gone.key, body: { sessionId: 'g1', chargingStationId: 'CP-G', connectorId: '1', meterValues: at(clean(), '2026-03-02T08:00:00Z') } });
    assert.equal(res.status, 201, res.text);
    const em = stack().orm.em.fork();
    assert.ok((await sql(em, 'select 1 from statistics_session_days where tenant_id = ?', [gone.tenantId])).length > 0);
    await sql(em, 'delete from tenants where id = ?', [gone.tenantId]);
    assert.deepEqual(await sql(em, 'select 1 from statistics_session_days where tenant_id = ?', [gone.tenantId]), []);
  });

  it('an analysis stores its session\'s energy with the verdict; the sweep refills figures an older analysis lacks', async () => {
    const em = stack().orm.em.fork();
    const [row] = await sql(em, "select id, delivered_kwh, unbilled_kwh, energy_analyzed_at = analyzed_at as current from charging_sessions where tenant_id = ? and session_id = 'st-decrease-a1'", [tenantId]);
    close(row.delivered_kwh, KWH_DECREASE_KWH, 'delivered with the verdict', 1e-3);
    assert.equal(row.current, true);
    await sql(em, 'update charging_sessions set delivered_kwh = null, unbilled_kwh = null, energy_analyzed_at = null where id = ?', [row.id]);
    assert.ok((await em.transactional((tx) => fillStaleSessionEnergy(tx, tenantId, 1000))) >= 1);
    const [after] = await sql(em, 'select delivered_kwh, unbilled_kwh, energy_analyzed_at = analyzed_at as current from charging_sessions where id = ?', [row.id]);
    close(after.delivered_kwh, KWH_DECREASE_KWH, 'delivered', 1e-3);
    close(after.unbilled_kwh, KWH_DECREASE_KWH, 'unbilled', 1e-3);
    assert.equal(after.current, true);
  });
});
