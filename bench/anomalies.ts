// `npm run bench -- --anomalies`: the anomaly workspace (and GET /v1/statistics) at scale. One
// tenant gets 1,000,000 sessions at 2,000 stations (2 connectors each) over a year and 200,000
// anomalies (one issue per fifth session, 7 categories, statuses 70 % OPEN / 10 % IN_PROGRESS /
// 10 % RESOLVED / 10 % FALSE_POSITIVE, a tenth assigned), seeded directly by SQL with
// generate_series (no readings, no analysis: the reads do not look at either). Then ≥ 100
// sequential requests per case over HTTP, p50/p99 client-side, and EXPLAIN ANALYZE of the main
// statements (the same SQL the endpoints run, from domain/anomalies/queries.ts).
import { Client as PgClient } from 'pg';
import { ANOMALY_CATEGORIES } from '../domain/analysis/types';
import { anomalyListSql, connectorGroupsSql, sessionGroupsSql } from '../domain/anomalies/queries';
import { anomalousPlacesSql, anomalousSessionsSql, anomalyCountsSql, sessionTotalsSql, uptimeSql } from '../domain/statistics/summary';
import { pct } from './measure';
import { startBenchStack, type BenchStack } from './stack';

const SESSIONS = 1_000_000;
const STATIONS = 2_000;
/** Every ANOMALY_EVERY-th session has one anomaly: 200,000. */
const ANOMALY_EVERY = 5;
const REQUESTS = 100;
const TARGET_P99_MS = 200;
const BASE = '2026-01-01T00:00:00Z';
/** Sessions start every 31 s from BASE: a year of sessions. */
const STEP_S = 31;


export async function seed(pg: PgClient, tenantId: string, memberId: string, out: (s?: string) => void) {
  const t0 = performance.now();
  const step = async (what: string, q: string, params: unknown[] = []) => {
    const t = performance.now();
    const r = await pg.query(q, params);
    out(`- ${what}: ${r.rowCount?.toLocaleString('en-US') ?? '–'} rows, ${((performance.now() - t) / 1000).toFixed(1)} s`);
  };
  await step(
    'stations (generate_series)',
    `insert into charging_stations (id, tenant_id, station_id, created_at)
     select gen_random_uuid(), $1, 'CP-BENCH-' || lpad(g::text, 5, '0'), now() from generate_series(0, $2 - 1) g`,
    [tenantId, STATIONS],
  );
  await step(
    'connectors',
    `insert into connectors (id, tenant_id, station_id, connector_id, evse_id, created_at)
     select gen_random_uuid(), $1, st.id, c::text, st.station_id || '*' || c, now() from charging_stations st, generate_series(1, 2) c where st.tenant_id = $1`,
    [tenantId],
  );
  await pg.query(`create temp table bench_st as select (row_number() over (order by station_id) - 1)::int as k, id, station_id from charging_stations where tenant_id = $1`, [tenantId]);
  // Bulk load as a restore would: the secondary indexes of the loaded tables (whoever defined them)
  // are dropped and rebuilt after the insert, and their foreign-key checks (system triggers) are
  // off while loading (the generated ids are consistent by construction); other modules' own
  // triggers (rollups) still fire. Everything ends as the migrations define it.
  const tables = ['charging_sessions', 'session_anomalies', 'anomaly_issues', 'anomaly_session_rollups', 'statistics_anomalous_sessions'];
  const secondary = (await pg.query(
    `select indexname, indexdef from pg_indexes where tablename = any($1) and indexname not in (select conname from pg_constraint)`,
    [tables],
  )).rows as { indexname: string; indexdef: string }[];
  for (const ix of secondary) await pg.query(`drop index "${ix.indexname}"`);
  for (const t of tables) await pg.query(`alter table "${t}" disable trigger all; alter table "${t}" enable trigger user`);
  // The statistics' per-session rows are built once after the load, as the migration builds them
  // for existing data (their trigger would probe the sessions' dropped indexes per issue).
  await pg.query(`alter table anomaly_issues disable trigger statistics_anomalous_sessions_issues_insert`);
  await step(
    'sessions (generate_series)',
    `insert into charging_sessions (id, tenant_id, session_id, station_id, connector_id, evse_id, status, is_anomaly, anomaly_score, anomaly_confidence,
                                    anomaly_count, analyzed_at, started_at, ended_at, created_at, updated_at, detector
                                    , delivered_kwh, unbilled_kwh, energy_analyzed_at)
     select gen_random_uuid(), $1, 'bench-' || g, st.id, (1 + (g / 7) % 2)::text, st.station_id || '*' || (1 + (g / 7) % 2),
            'active', g % $4 = 0, case when g % $4 = 0 then 0.5 + (g % 97) / 200.0 else 0.05 end, 0.8,
            (g % $4 = 0)::int, ts, ts, ts + interval '45 minutes', ts, ts, 'bench'
            , 5 + (g % 40), 0, ts
       from generate_series(0, $2 - 1) g
       join bench_st st on st.k = abs(hashint4(g)) % $3
       cross join lateral (select $5::timestamptz + g * interval '${STEP_S} seconds' as ts) t`,
    [tenantId, SESSIONS, STATIONS, ANOMALY_EVERY, BASE],
  );
  // One category per anomalous session; what the detector would have stored beside the issue.
  const categories = `(array[${ANOMALY_CATEGORIES.map((c) => `'${c}'`).join(',')}])[1 + (n % ${ANOMALY_CATEGORIES.length})]`;
  await pg.query(
    `create temp table bench_an as
     select s.id as session_id, s.station_id, s.connector_id, s.evse_id, s.started_at, s.anomaly_score as score,
            (substring(s.session_id from 7))::int / $2 as n
       from charging_sessions s where s.tenant_id = $1 and s.is_anomaly`,
    [tenantId, ANOMALY_EVERY],
  );
  await step(
    'session_anomalies',
    `insert into session_anomalies (id, tenant_id, session_id, category, score, confidence, start_unit, end_unit, start_timestamp, end_timestamp)
     select gen_random_uuid(), $1, a.session_id, ${categories}, a.score, 0.8, 40, 80, a.started_at + interval '10 minutes', a.started_at + interval '20 minutes' from bench_an a`,
    [tenantId],
  );
  await step(
    'anomaly_issues',
    `insert into anomaly_issues (id, tenant_id, session_id, category, status, resolved_by, assignee_member_id, max_score, first_detected_at, last_detected_at,
                                 station_id, connector_id, evse_id, occurred_at, occurred_until, created_at, updated_at)
     select gen_random_uuid(), $1, a.session_id, ${categories},
            case when n % 10 < 7 then 'OPEN' when n % 10 = 7 then 'IN_PROGRESS' when n % 10 = 8 then 'RESOLVED' else 'FALSE_POSITIVE' end,
            case when n % 10 = 8 then 'member' end, case when n % 10 = 7 then $2::uuid end, a.score,
            a.started_at + interval '1 hour', a.started_at + interval '1 hour', a.station_id, a.connector_id, a.evse_id,
            a.started_at + interval '10 minutes', a.started_at + interval '20 minutes', a.started_at + interval '1 hour',
            a.started_at + interval '1 hour' + (n % 10) * interval '1 day'
       from bench_an a`,
    [tenantId, memberId],
  );
  // A second category on every 17th anomalous session, occurring hours after the first: sessions
  // whose anomalies straddle a period's bounds (the statistics count each session once).
  await step(
    'second anomaly_issues (every 17th anomalous session)',
    `insert into anomaly_issues (id, tenant_id, session_id, category, status, resolved_by, assignee_member_id, max_score, first_detected_at, last_detected_at,
                                 station_id, connector_id, evse_id, occurred_at, occurred_until, created_at, updated_at)
     select gen_random_uuid(), $1, a.session_id, ${categories.replace('(n %', '((n + 3) %')}, 'OPEN', null, null, a.score,
            a.started_at + interval '1 hour', a.started_at + interval '1 hour', a.station_id, a.connector_id, a.evse_id,
            a.started_at + interval '40 minutes' + (n % 5) * interval '2 hours', a.started_at + interval '50 minutes' + (n % 5) * interval '2 hours',
            a.started_at + interval '1 hour', a.started_at + interval '1 hour'
       from bench_an a where n % 17 = 3`,
    [tenantId],
  );
  await step(
    'anomaly_session_rollups (from the issues)',
    `insert into anomaly_session_rollups (session_id, tenant_id, issue_count, max_score, first_occurred_at, last_update_at, categories)
     select i.session_id, i.tenant_id, count(*), max(i.max_score), min(i.occurred_at), max(i.updated_at), array_agg(i.category order by i.category)
       from anomaly_issues i where i.tenant_id = $1 group by i.session_id, i.tenant_id`,
    [tenantId],
  );
  for (const t of tables) await pg.query(`alter table "${t}" enable trigger all`);
  const tIdx = performance.now();
  for (const ix of secondary) await pg.query(ix.indexdef);
  out(`- rebuilding the ${secondary.length} secondary indexes of ${tables.join(', ')}: ${((performance.now() - tIdx) / 1000).toFixed(1)} s`);
  const tStats = performance.now();
  await pg.query(`select statistics_anomalous_sessions_refresh(array(select distinct session_id from anomaly_issues where tenant_id = $1))`, [tenantId]);
  const [kept] = (await pg.query('select count(*)::int as n, count(down_from)::int as down from statistics_anomalous_sessions where tenant_id = $1', [tenantId])).rows;
  out(`- statistics_anomalous_sessions (the migration's refresh function over every session with issues): ${kept.n.toLocaleString('en-US')} rows ` +
    `(${kept.down.toLocaleString('en-US')} with a down interval), ${((performance.now() - tStats) / 1000).toFixed(1)} s`);
  const t = performance.now();
  // As autovacuum would have by then: the visibility map lets counts read indexes only.
  await pg.query('vacuum analyze');
  out(`- vacuum analyze: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  out(`- seeding in all: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

export async function anomalyBench(stack: BenchStack, out: (s?: string) => void): Promise<void> {
  const pg = new PgClient({ connectionString: stack.databaseUrl });
  await pg.connect();
  try {
    const [{ tenant_id: tenantId, member_id: memberId }] = (await pg.query('select tenant_id, member_id from api_keys limit 1')).rows;
    out(`## Seeding (directly by SQL with generate_series, not through the API: ${SESSIONS.toLocaleString('en-US')} sessions, ` +
      `${(SESSIONS / ANOMALY_EVERY).toLocaleString('en-US')} anomalies, ${STATIONS.toLocaleString('en-US')} stations × 2 connectors, one tenant)`);
    out();
    await seed(pg, tenantId, memberId, out);
    out();

    const get = async (p: string) => {
      const t = performance.now();
      const res = await fetch(stack.apiUrl + p, { headers: { authorization: `Bearer ${stack.key}` } });
      const body = await res.text();
      if (!res.ok) throw new Error(`GET ${p}: ${res.status} ${body.slice(0, 300)}`);
      return { ms: performance.now() - t, body: JSON.parse(body) };
    };
    const cases: [string, string][] = [
      ['list, page 1', '/v1/anomalies'],
      ['list, page 500', '/v1/anomalies?page=500'],
      ['list by score, page 500', '/v1/anomalies?sortByScore=desc&page=500'],
      ['anomalyType=KWH_DECREASE, page 500', '/v1/anomalies?anomalyType=KWH_DECREASE&page=500'],
      ['two statuses (repeated), by score', '/v1/anomalies?anomalyIssuesStatus=OPEN&anomalyIssuesStatus=IN_PROGRESS&sortByScore=asc'],
      ['occurrence: one month, page 500', '/v1/anomalies?occurrenceFrom=2026-03-01&occurrenceTo=2026-04-01&page=500'],
      ['updateFrom/updateTo: one week', '/v1/anomalies?updateFrom=2026-06-01T00:00:00&updateTo=2026-06-08T00:00:00'],
      ['chargingPointId (2 stations)', '/v1/anomalies?chargingPointId=CP-BENCH-00042&chargingPointId=CP-BENCH-01042'],
      ['ocpp_charging_station_id + connectorId', '/v1/anomalies?ocpp_charging_station_id=CP-BENCH-00042&connectorId=1'],
      ['connectorId=2, page 500', '/v1/anomalies?connectorId=2&page=500'],
      ['evseId', '/v1/anomalies?evseId=CP-BENCH-00042*1'],
      ['chargingSessionId', '/v1/anomalies?chargingSessionId=bench-500000'],
      ['assignedTo=me, page 500', '/v1/anomalies?assignedTo=me&page=500'],
      ['connectors, count_desc', '/v1/anomalies/connectors'],
      ['connectors, count_asc, page 100, anomalyType', '/v1/anomalies/connectors?sortBy=count_asc&page=100&anomalyType=ENERGY_PIT'],
      ['sessions, score_desc', '/v1/anomalies/sessions'],
      ['sessions, count_asc, page 500', '/v1/anomalies/sessions?sortBy=count_asc&page=500'],
      ['sessions, one month', '/v1/anomalies/sessions?occurrenceFrom=2026-03-01&occurrenceTo=2026-04-01'],
      // Issue 17's station list (no target there; measured at this size because it aggregates the sessions).
      ['stations, page 1', '/v1/stations'],
      ['stations by anomalies, page 50', '/v1/stations?sortByAnomalies=desc&page=50'],
      ['statistics, all time', '/v1/statistics'],
      ['statistics, one day', '/v1/statistics?occurrenceFrom=2026-03-10&occurrenceTo=2026-03-11'],
      ['statistics, 7 days', '/v1/statistics?occurrenceFrom=2026-03-10&occurrenceTo=2026-03-17'],
      ['statistics, one month', '/v1/statistics?occurrenceFrom=2026-03-01&occurrenceTo=2026-04-01'],
      ['statistics, 30 days, bounds inside days', '/v1/statistics?occurrenceFrom=2026-03-01T06:30:00Z&occurrenceTo=2026-03-31T18:15:00Z'],
      ['statistics, a quarter', '/v1/statistics?occurrenceFrom=2026-04-01&occurrenceTo=2026-07-01'],
      ['statistics, from a date on', '/v1/statistics?occurrenceFrom=2026-06-01'],
    ];
    out(`## Latency: ${REQUESTS} sequential requests per case after 5 warm-up requests (client-side, HTTP on loopback; target p99 ≤ ${TARGET_P99_MS} ms)`);
    out();
    out('| request | items / total | p50 ms | p99 ms | max ms | p99 ≤ target |');
    out('|---|---:|---:|---:|---:|:---:|');
    for (const [name, p] of cases) {
      let last: any;
      for (let i = 0; i < 5; i++) last = (await get(p)).body;
      const ms: number[] = [];
      for (let i = 0; i < REQUESTS; i++) ms.push((await get(p)).ms);
      const size = last.pagination ? `${last.content.length} / ${last.pagination.totalCount.toLocaleString('en-US')}` : '–';
      const p99 = pct(ms, 99);
      out(`| \`${p}\` (${name}) | ${size} | ${pct(ms, 50).toFixed(1)} | ${p99.toFixed(1)} | ${Math.max(...ms).toFixed(1)} | ${p99 <= TARGET_P99_MS ? 'yes' : '**no**'} |`);
    }
    out();

    await statisticsWriteCost(pg, tenantId, out);

    out('## Query plans (EXPLAIN ANALYZE, BUFFERS) of the main statements');
    out();
    const page = { page: 500, pageSize: 20 };
    const plans: [string, [string, unknown[]]][] = [
      ['GET /v1/anomalies?page=500: the page', anomalyListSql(tenantId, page).page],
      ['GET /v1/anomalies: the count', anomalyListSql(tenantId, page).count],
      ['GET /v1/anomalies?anomalyType=KWH_DECREASE&page=500: the page', anomalyListSql(tenantId, { ...page, anomalyType: ['KWH_DECREASE'] }).page],
      ['GET /v1/anomalies?assignedTo=me&page=500: the page', anomalyListSql(tenantId, { ...page, assigneeIds: [memberId] }).page],
      ['GET /v1/anomalies?chargingPointId=…: the page', anomalyListSql(tenantId, { page: 1, pageSize: 20, chargingPointId: ['CP-BENCH-00042', 'CP-BENCH-01042'] }).page],
      ['GET /v1/anomalies/connectors: the groups', connectorGroupsSql(tenantId, { page: 1, pageSize: 20 })],
      ['GET /v1/anomalies/sessions: the page (rollup)', sessionGroupsSql(tenantId, { page: 1, pageSize: 20 }).page],
      ['GET /v1/anomalies/sessions?occurrenceFrom=…&occurrenceTo=… (a month): the groups', sessionGroupsSql(tenantId, { page: 1, pageSize: 20, occurrenceFrom: '2026-03-01T00:00:00Z', occurrenceTo: '2026-04-01T00:00:00Z' }).page],
    ];
    const statisticsFrom = plans.length;
    // GET /v1/statistics runs these in parallel (plus two one-row look-ups); all time, and 30 days with bounds inside days.
    const now = new Date();
    const allTime = {};
    const month = { from: '2026-03-01T06:30:00Z', to: '2026-03-31T18:15:00Z' };
    const monthLength = Date.parse(month.to) - Date.parse(month.from);
    plans.push(
      ['GET /v1/statistics (all time): sessions of the period (daily rollup)', sessionTotalsSql(tenantId, allTime)],
      ['GET /v1/statistics (all time): anomaly counts', anomalyCountsSql(tenantId, allTime)],
      ['GET /v1/statistics (all time): distinct connectors and stations (probes)', anomalousPlacesSql(tenantId, allTime)],
      ['GET /v1/statistics (all time): sessions with anomalies, at risk, leak', anomalousSessionsSql(tenantId, allTime)],
      ['GET /v1/statistics (all time): uptime', uptimeSql(tenantId, new Date(Date.parse(BASE) - (now.getTime() - Date.parse(BASE))), new Date(BASE), now)],
      ['GET /v1/statistics (30 days inside days): sessions of the period', sessionTotalsSql(tenantId, month)],
      ['GET /v1/statistics (30 days inside days): distinct connectors and stations (grouped)', anomalousPlacesSql(tenantId, month)],
      ['GET /v1/statistics (30 days inside days): sessions with anomalies, at risk, leak', anomalousSessionsSql(tenantId, month)],
      ['GET /v1/statistics (30 days inside days): uptime', uptimeSql(tenantId, new Date(Date.parse(month.from) - monthLength), new Date(month.from), new Date(month.to))],
    );
    for (const [index, [name, [q, params]]] of plans.entries()) {
      // As the endpoint runs them: the statistics' statements without parallel workers (domain/statistics/summary.ts).
      if (index === statisticsFrom) await pg.query('set max_parallel_workers_per_gather = 0');
      // The statements use knex's `?` placeholders; pg wants $n.
      let k = 0;
      const text = q.replace(/\?/g, () => `$${++k}`);
      const plan = (await pg.query(`explain (analyze, buffers, costs off) ${text}`, params)).rows.map((r) => r['QUERY PLAN'] as string);
      out(`### ${name}`);
      out();
      out('```');
      for (const l of plan) out(l);
      out('```');
      out();
    }
  } finally {
    await pg.end();
  }
}

/**
 * What the triggers that keep `statistics_anomalous_sessions` add to writes: the same statements
 * timed with the triggers enabled and disabled, alternating in rounds on this database (1M sessions).
 */
async function statisticsWriteCost(pg: PgClient, tenantId: string, out: (s?: string) => void): Promise<void> {
  const ROUNDS = 5;
  const EACH = 40;
  const issues = (await pg.query(`select id from anomaly_issues where tenant_id = $1 and status in ('OPEN', 'IN_PROGRESS') order by id limit 600`, [tenantId])).rows.map((r) => r.id as string);
  const anomalous = (await pg.query(`select session_id from statistics_anomalous_sessions where tenant_id = $1 order by session_id limit 100`, [tenantId])).rows.map((r) => r.session_id as string);
  const places = (await pg.query(`select station_id, connector_id from connectors where tenant_id = $1 order by id limit 100`, [tenantId])).rows;
  const triggers = (on: boolean, table: string, kind: string) =>
    pg.query(`alter table "${table}" ${on ? 'enable' : 'disable'} trigger "statistics_anomalous_sessions_${kind}"`);
  let made = 0;
  const cases: [string, string, string, () => Promise<unknown>][] = [
    ['one issue\'s status (a member\'s PUT)', 'anomaly_issues', 'issues_update', () =>
      pg.query(`update anomaly_issues set status = case when status = 'OPEN' then 'IN_PROGRESS' else 'OPEN' end where id = $1`, [issues[made++ % 100]])],
    ['500 issues\' statuses in one statement (a batch chunk)', 'anomaly_issues', 'issues_update', () =>
      pg.query(`update anomaly_issues set status = case when status = 'OPEN' then 'IN_PROGRESS' else 'OPEN' end where id = any($1::uuid[])`, [issues.slice(100, 600)])],
    ['an anomalous session\'s energy after a re-analysis', 'charging_sessions', 'sessions_update', () =>
      pg.query(`update charging_sessions set delivered_kwh = delivered_kwh + 0.001 where id = $1`, [anomalous[made++ % anomalous.length]])],
    ['one session arriving on a connector', 'charging_sessions', 'sessions_insert', () => {
      const p = places[made++ % places.length];
      return pg.query(
        `insert into charging_sessions (id, tenant_id, session_id, station_id, connector_id, status, is_anomaly, anomaly_count, started_at, created_at, updated_at)
         values (gen_random_uuid(), $1, 'bench-write-' || $2, $3, $4, 'active', false, 0, now(), now(), now())`,
        [tenantId, `${process.pid}-${made}`, p.station_id, p.connector_id],
      );
    }],
  ];
  out('## Write cost of the statistics triggers (`statistics_anomalous_sessions`)');
  out();
  out(`Each statement ${ROUNDS} × ${EACH} times with the trigger enabled and disabled, alternating by round; median ms.`);
  out();
  out('| statement | with trigger | without | added |');
  out('|---|---:|---:|---:|');
  for (const [name, table, kind, run] of cases) {
    const times: Record<'on' | 'off', number[]> = { on: [], off: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const mode of ['on', 'off'] as const) {
        await triggers(mode === 'on', table, kind);
        for (let i = 0; i < EACH; i++) {
          const t = performance.now();
          await run();
          times[mode].push(performance.now() - t);
        }
      }
    }
    await triggers(true, table, kind);
    const [on, off] = [pct(times.on, 50), pct(times.off, 50)];
    out(`| ${name} | ${on.toFixed(2)} | ${off.toFixed(2)} | ${(on - off).toFixed(2)} ms (${((on / off - 1) * 100).toFixed(0)} %) |`);
  }
  await pg.query(`delete from charging_sessions where tenant_id = $1 and session_id like 'bench-write-%'`, [tenantId]);
  out();
}

/** `--anomalies`: only this benchmark, on its own throwaway stack. */
export async function anomaliesOnly(out: (s?: string) => void, machine: string): Promise<void> {
  out('# Anomaly workspace benchmark');
  out();
  out(`Machine: ${machine}. Command: \`npm run bench -- --anomalies\` (${new Date().toISOString().slice(0, 10)}).`);
  out();
  const stack = await startBenchStack();
  try {
    await anomalyBench(stack, out);
  } finally {
    await stack.stop();
  }
}
