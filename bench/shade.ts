// `npm run bench -- --shade`: stations and SHADE (issue 17).
//   A. SHADE over 10,000 station-days (4 connectors each), end to end from the schedule's trigger to
//      the last stored result. The rollups are seeded by SQL (not through sessions: 120,000 sessions
//      of a day plus weeks of history would take the batch path many minutes and measure that path).
//   B. GET …/energy and …/shade-overview latency (p50/p99 over ≥ 100 requests each) for a station
//      with a year of sessions in the rollups (also seeded by SQL).
//   C. The rollup upkeep's cost on batch throughput: the same batches on a stack whose worker keeps
//      the rollups and on one whose worker does not (EVNI_STATION_ROLLUPS=0, the bench's switch).
// Options: --shade-stations 10000, --shade-history-days 28, --shade-batch 5000 (sessions per batch in C),
// --shade-skip-batch (A and B only), --shade-only-batch (C only).
import fs from 'node:fs';
import http from 'node:http';
import { Readable } from 'node:stream';
import { Client as PgClient } from 'pg';
import { connectClient } from '../temporal/connection';
import { triggerShade } from '../temporal/shade-schedules';
import { shadeScheduleId } from '../workflows/shade/contract';
import type { shadeRun } from '../workflows/shade/workflow';
import { previousLocalDay } from '../domain/stations/local-day';
import { benchSessions, READINGS_PER_SESSION } from './sessions';
import { arg, cpuByKind, fmt, load, pct, sleep } from './measure';
import { startBenchStack, type BenchStack } from './stack';

const STATIONS = Number(arg('shade-stations', '10000'));
const HISTORY_DAYS = Number(arg('shade-history-days', '28'));
const BATCH = Number(arg('shade-batch', '5000'));
const LATENCY_REQUESTS = 150;
const TARGET = { endToEndS: 60, p99Ms: 100, rollupOverheadPct: 10 };

type Out = (s?: string) => void;
const cpuSince = (before: Record<string, number>) => Object.fromEntries(Object.entries(cpuByKind()).map(([k, v]) => [k, v - (before[k] ?? 0)]));
const cpuText = (cpu: Record<string, number>) =>
  Object.entries(cpu)
    .filter(([, v]) => v >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${fmt(v, 1)} s`)
    .join(', ');

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const v = await fn();
  return [v, performance.now() - t];
}

/**
 * Seeds `n` stations of 4 connectors: on `day`, 3 sessions of 90 min at 11 kW per connector (8:00,
 * 12:00, 16:00 plus 15 min per connector), except every 20th station, which delivers nothing that
 * day (an outage to find); `HISTORY_DAYS` days before it, 12 hours a day of station energy and one
 * session start per hour (station totals: the history query sums connectors anyway).
 */
export async function seedStations(pg: PgClient, tenantId: string, day: string, n: number) {
  const d = `'${day}'::timestamptz`;
  await pg.query(
    `insert into charging_stations (id, tenant_id, station_id, created_at)
     select gen_random_uuid(), $1, 'BENCH-ST-' || lpad(g::text, 5, '0'), now() from generate_series(1, $2) g`,
    [tenantId, n],
  );
  await pg.query(
    `insert into connectors (id, tenant_id, station_id, connector_id, created_at)
     select gen_random_uuid(), $1, c.id, k::text, now() from charging_stations c, generate_series(1, 4) k
      where c.tenant_id = $1 and c.station_id like 'BENCH-ST-%'`,
    [tenantId],
  );
  await pg.query(
    `insert into charging_sessions (id, tenant_id, session_id, station_id, connector_id, status, started_at, ended_at, reading_count, created_at, updated_at)
     select gen_random_uuid(), $1, c.station_id || '-' || k.connector_id || '-' || j, c.id, k.connector_id, 'active',
            ${d} + ((8 + 4 * j) * 60 + 15 * k.connector_id::int) * interval '1 minute',
            ${d} + ((8 + 4 * j) * 60 + 15 * k.connector_id::int + 90) * interval '1 minute', 180, now(), now()
       from charging_stations c join connectors k on k.station_id = c.id, generate_series(0, 2) j
      where c.tenant_id = $1 and c.station_id like 'BENCH-ST-%' and right(c.station_id, 5)::int % 20 <> 0`,
    [tenantId],
  );
  await pg.query(
    `insert into station_session_energy (session_id, tenant_id, station_id, connector_id, start_minute, end_minute, energy_wh, power_wh)
     select s.id, s.tenant_id, s.station_id, s.connector_id, s.started_at, s.ended_at, array_fill(183.333::real, array[90]), array_fill(183.333::real, array[90])
       from charging_sessions s join charging_stations c on c.id = s.station_id
      where s.tenant_id = $1 and c.station_id like 'BENCH-ST-%'`,
    [tenantId],
  );
  await pg.query(
    `insert into station_hourly_energy (tenant_id, station_id, connector_id, hour, energy_wh, power_wh, session_starts)
     select $1, c.id, '', ${d} - dd * interval '1 day' + h * interval '1 hour', e, e, 1
       from charging_stations c, generate_series(1, $2) dd, generate_series(8, 19) h, lateral (select 16500 * (0.85 + 0.3 * random()) as e) x
      where c.tenant_id = $1 and c.station_id like 'BENCH-ST-%'`,
    [tenantId, HISTORY_DAYS],
  );
}

/**
 * A station with a year of sessions ending on `day`: 2 connectors, 5 sessions a day each (60 min at
 * 11 kW), per-minute rows per session and the hourly rollup aggregated from them by SQL, exactly
 * as the upkeep would have kept it.
 */
export async function seedYearStation(pg: PgClient, tenantId: string, day: string) {
  const d = `'${day}'::timestamptz`;
  const { rows } = await pg.query(`insert into charging_stations (id, tenant_id, station_id, created_at) values (gen_random_uuid(), $1, 'BENCH-YEAR', now()) returning id`, [tenantId]);
  const id = rows[0].id;
  await pg.query(`insert into connectors (id, tenant_id, station_id, connector_id, created_at) select gen_random_uuid(), $1, $2, k::text, now() from generate_series(1, 2) k`, [tenantId, id]);
  await pg.query(
    `insert into charging_sessions (id, tenant_id, session_id, station_id, connector_id, status, started_at, ended_at, reading_count, created_at, updated_at)
     select gen_random_uuid(), $1, 'BENCH-YEAR-' || dd || '-' || k || '-' || j, $2, k::text, 'active',
            ${d} - dd * interval '1 day' + ((7 + 3 * j) * 60 + 20 * k) * interval '1 minute',
            ${d} - dd * interval '1 day' + ((7 + 3 * j) * 60 + 20 * k + 60) * interval '1 minute', 120, now(), now()
       from generate_series(0, 364) dd, generate_series(1, 2) k, generate_series(0, 4) j`,
    [tenantId, id],
  );
  await pg.query(
    `insert into station_session_energy (session_id, tenant_id, station_id, connector_id, start_minute, end_minute, energy_wh, power_wh)
     select s.id, s.tenant_id, s.station_id, s.connector_id, s.started_at, s.ended_at, array_fill(183.333::real, array[60]), array_fill(183.333::real, array[60])
       from charging_sessions s where s.station_id = $1`,
    [id],
  );
  await pg.query(
    `insert into station_hourly_energy (tenant_id, station_id, connector_id, hour, energy_wh, power_wh, session_starts)
     select r.tenant_id, r.station_id, r.connector_id, date_trunc('hour', r.start_minute + (u.i - 1) * interval '1 minute'), sum(u.e::float8), sum(u.p::float8), 0
       from station_session_energy r cross join lateral unnest(r.energy_wh, r.power_wh) with ordinality u(e, p, i)
      where r.station_id = $1 group by 1, 2, 3, 4`,
    [id],
  );
  const n = await pg.query(`select count(*)::int as n from charging_sessions where station_id = $1`, [id]);
  return n.rows[0].n as number;
}

async function shadeEndToEnd(stack: BenchStack, out: Out) {
  const pg = new PgClient({ connectionString: stack.databaseUrl });
  await pg.connect();
  const temporal = await connectClient(stack.temporalAddress, 'default');
  try {
    const tenantId = (await pg.query(`select id from tenants where name = 'Benchmark'`)).rows[0].id as string;
    const day = previousLocalDay(Date.now(), 'UTC');
    const [, seedMs] = await timed(() => seedStations(pg, tenantId, day, STATIONS));
    const [yearSessions, yearMs] = await timed(() => seedYearStation(pg, tenantId, day));
    // As a database that has been running would have them: vacuumed and analysed (otherwise
    // autovacuum of the freshly seeded tables would run during the timed SHADE run).
    await pg.query('vacuum analyze');
    const sizes = await pg.query(
      `select (select count(*) from station_session_energy)::int as minute_rows, (select count(*) from station_hourly_energy)::int as hourly_rows,
              pg_size_pretty(pg_total_relation_size('station_session_energy')) as minute_size, pg_size_pretty(pg_total_relation_size('station_hourly_energy')) as hourly_size`,
    );
    const s = sizes.rows[0];
    out(`## Stations and SHADE`);
    out();
    out(
      `Command: \`npm run bench -- --shade\` (${new Date().toISOString().slice(0, 10)}). Seeded **by SQL** into the rollups (not through sessions): ${fmt(STATIONS)} stations × 4 connectors; ` +
        `on the analysed day (${day}, UTC) 3 sessions of 90 min at 11 kW per connector, every 20th station none (an outage); ${HISTORY_DAYS} days of hourly history per station ` +
        `(12 hours a day, stored as station totals). Plus one station with a year of sessions (${fmt(yearSessions)} sessions, 2 connectors). ` +
        `Rollups: ${fmt(s.minute_rows)} session minute rows (${s.minute_size}), ${fmt(s.hourly_rows)} hourly rows (${s.hourly_size}); seeding took ${fmt((seedMs + yearMs) / 1000, 1)} s (not timed below).`,
    );
    out();

    const schedule = temporal.schedule.getHandle(shadeScheduleId(tenantId));
    // The worker's schedule keeper creates the schedule when it starts.
    for (let i = 0; ; i++) {
      try {
        await schedule.describe();
        break;
      } catch (err) {
        if (i > 300) throw err;
        await sleep(200);
      }
    }
    const loadBefore = load();
    const cpu0 = cpuByKind();
    const t0 = Date.now();
    await triggerShade(temporal, tenantId);
    let workflowId: string | undefined;
    while (!workflowId) {
      workflowId = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
      if (!workflowId) await sleep(100);
    }
    const result = await temporal.workflow.getHandle<typeof shadeRun>(workflowId).result();
    const tDone = Date.now();
    const runCpu = cpuSince(cpu0);
    const runCpuTotal = Object.values(runCpu).reduce((a, b) => a + b, 0);
    const last = await pg.query(`select max(analyzed_at) as last, count(*)::int as n, count(*) filter (where is_anomaly)::int as anomalous from station_inferences where tenant_id = $1 and day = $2`, [tenantId, day]);
    const lastStored = new Date(last.rows[0].last).getTime();
    const seconds = (lastStored - t0) / 1000;
    const byType = await pg.query(`select detection_details->>'anomaly_type' as t, count(*)::int as n from station_inferences where tenant_id = $1 and day = $2 and is_anomaly group by 1 order by 2 desc`, [tenantId, day]);
    out(`### A. SHADE over ${fmt(result.stations)} station-days, end to end`);
    out();
    out('| station-days | chunks (500 stations) × lanes | trigger → last stored result | station-days/s | workflow done | anomalous (by type) | target ≤ 60 s |');
    out('|---:|---:|---:|---:|---:|---|:---:|');
    out(
      `| ${fmt(last.rows[0].n)} | ${result.chunks} × 2 | **${fmt(seconds, 1)} s** | ${fmt(result.stations / seconds)} | ${fmt((tDone - t0) / 1000, 1)} s | ${fmt(last.rows[0].anomalous)} (${byType.rows.map((r) => `${r.t} ${r.n}`).join(', ')}) | ${seconds <= TARGET.endToEndS ? 'met' : 'missed'} |`,
    );
    out();
    out(
      `CPU used by the stack during the run: ${cpuText(runCpu)} (${fmt(runCpuTotal, 1)} CPU-s in all; the machine's two cores give 120 CPU-s in 60 s). ` +
        `Load average (1 min) when the run started: ${loadBefore}, when it ended: ${load()} — the machine is shared with other work, so the wall time above is an upper bound.`,
    );
    out();
    out(
      `From \`triggerShade\` (the schedule's trigger, as the Temporal UI's "Trigger") to the latest \`analyzed_at\` of the day's stored results; the run plans, then builds each chunk's station-days from the rollups, runs the detector (${'`'}${(await pg.query(`select model_version from station_inferences where tenant_id = $1 limit 1`, [tenantId])).rows[0]?.model_version}${'`'}) in the worker and stores results and events per slice of 100 stations.`,
    );
    out();

    let requestNo = 0;
    const call = async (path: string) => {
      const t = performance.now();
      const requestId = `bench-shade-${++requestNo}`;
      const res = await fetch(stack.apiUrl + path, { headers: { authorization: `Bearer ${stack.key}`, 'x-request-id': requestId } });
      const body = await res.text();
      if (!res.ok) throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`);
      return { ms: performance.now() - t, bytes: body.length, requestId };
    };
    out(`### B. Station reads for a station with a year of sessions (${fmt(yearSessions)} sessions in the rollups)`);
    out();
    out('| request | requests | p50 ms | p99 ms | server p50 ms | server p99 ms | body KiB | target p99 ≤ 100 ms |');
    out('|---|---:|---:|---:|---:|---:|---:|:---:|');
    const loadB = load();
    for (const path of ['/v1/stations/BENCH-YEAR/energy', `/v1/stations/BENCH-YEAR/energy?dateTo=${day}T00:00:00Z`, '/v1/stations/BENCH-YEAR/shade-overview']) {
      for (let i = 0; i < 10; i++) await call(path); // warm-up
      const samples: { ms: number; bytes: number; requestId: string }[] = [];
      for (let i = 0; i < LATENCY_REQUESTS; i++) samples.push(await call(path));
      const p99 = pct(samples.map((x) => x.ms), 99);
      // The API's own measure of each request (its access log), without the client and the socket.
      await sleep(500);
      const ids = new Set(samples.map((x) => x.requestId));
      const server = fs
        .readFileSync(stack.apiLog, 'utf8')
        .split('\n')
        .filter((l) => l.includes('bench-shade-'))
        .map((l) => JSON.parse(l) as { requestId: string; msg: string; durationMs: number })
        .filter((l) => l.msg === 'request' && ids.has(l.requestId))
        .map((l) => l.durationMs);
      out(
        `| \`GET ${path}\` | ${LATENCY_REQUESTS} | ${fmt(pct(samples.map((x) => x.ms), 50), 1)} | ${fmt(p99, 1)} | ${fmt(pct(server, 50), 1)} | ${fmt(pct(server, 99), 1)} | ${fmt(samples[0].bytes / 1024, 1)} | ${p99 <= TARGET.p99Ms ? 'met' : 'missed'} |`,
      );
    }
    out();
    out(
      `One client, sequential requests over HTTP on the same machine (latency includes authentication and the rate-limit upsert of every request; "server" is the API's logged duration). ` +
        `Load average (1 min) during these requests: ${loadB} → ${load()}.`,
    );
    out();
  } finally {
    await temporal.connection.close();
    await pg.end();
  }
}

/** A batch of `size` bench sessions over HTTP, polled to completion: seconds from submit to completed. */
async function batchSeconds(stack: BenchStack, size: number, prefix: string): Promise<{ seconds: number; cpu: number }> {
  const cpu0 = cpuByKind();
  const sessions = benchSessions(size, prefix);
  // Streamed in pieces (chunked), as a client uploading an export would send it.
  const pieces = function* () {
    yield '{"sessions":[';
    for (let i = 0; i < sessions.length; i += 100) yield (i > 0 ? ',' : '') + sessions.slice(i, i + 100).map((s) => JSON.stringify(s)).join(',');
    yield ']}';
  };
  const t0 = performance.now();
  const batchId = await new Promise<string>((resolve, reject) => {
    const req = http.request(`${stack.apiUrl}/v1/sessions/batch`, { method: 'POST', headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' } });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text).batchId) : reject(new Error(`batch: ${res.statusCode} ${text.slice(0, 300)}`))));
    });
    Readable.from(pieces()).pipe(req);
  });
  for (;;) {
    const b = (await (await fetch(`${stack.apiUrl}/v1/sessions/batch/${batchId}?pageSize=1`, { headers: { authorization: `Bearer ${stack.key}` } })).json()) as { status: string };
    if (b.status === 'completed') break;
    if (b.status === 'failed') throw new Error('batch failed');
    await sleep(200);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSince(cpu0);
  // The stack's own work: PostgreSQL and the service's node processes (Temporal's share is the same either way).
  return { seconds, cpu: (cpu.postgres ?? 0) + (cpu.node ?? 0) };
}

async function rollupOverhead(out: Out) {
  const runs: { rollups: boolean; seconds: number[]; cpu: number[]; load: string }[] = [];
  for (const rollups of [true, false]) {
    const stack = await startBenchStack(rollups ? {} : { EVNI_STATION_ROLLUPS: '0' });
    try {
      await batchSeconds(stack, 50, 'warmup');
      const r = { rollups, seconds: [] as number[], cpu: [] as number[], load: load() };
      for (let i = 0; i < 3; i++) {
        const b = await batchSeconds(stack, BATCH, `ovh-${i}`);
        r.seconds.push(b.seconds);
        r.cpu.push(b.cpu);
      }
      r.load += ` → ${load()}`;
      runs.push(r);
    } finally {
      await stack.stop();
    }
  }
  const best = (xs: number[]) => Math.min(...xs);
  const on = runs.find((r) => r.rollups)!;
  const off = runs.find((r) => !r.rollups)!;
  const overhead = (100 * (best(on.cpu) - best(off.cpu))) / best(off.cpu);
  const wallOverhead = (100 * (best(on.seconds) - best(off.seconds))) / best(off.seconds);
  out(`### C. Rollup upkeep on batch throughput`);
  out();
  out(
    `Batches of ${fmt(BATCH)} sessions × ${READINGS_PER_SESSION} readings (the bench's sessions: 500 stations) over HTTP, submit to completed, after a warm-up; ` +
      'one stack whose worker keeps the rollups, one started with `EVNI_STATION_ROLLUPS=0` (the switch exists for this measurement only). Three batches per stack; ' +
      'the cost is the CPU the stack (PostgreSQL and the service\'s node processes) spent on each batch, best of three, because the shared machine\'s load moves wall times by more than the effect.',
  );
  out();
  out('| worker | wall s (3 runs) | stack CPU-s (3 runs) | best wall s | best CPU-s | sessions/s (best wall) | load average |');
  out('|---|---|---|---:|---:|---:|---|');
  for (const r of [on, off]) {
    out(
      `| ${r.rollups ? 'with rollup upkeep' : 'without (EVNI_STATION_ROLLUPS=0)'} | ${r.seconds.map((x) => fmt(x, 1)).join(', ')} | ${r.cpu.map((x) => fmt(x, 1)).join(', ')} | ${fmt(best(r.seconds), 1)} | ${fmt(best(r.cpu), 1)} | ${fmt(BATCH / best(r.seconds))} | ${r.load} |`,
    );
  }
  out();
  out(
    `Added cost of the upkeep: **${fmt(overhead, 1)} %** of the batch's CPU (target ≤ ${TARGET.rollupOverheadPct} %: ${overhead <= TARGET.rollupOverheadPct ? 'met' : 'missed'}); ` +
      `${fmt(wallOverhead, 1)} % of its best wall time.`,
  );
  out();
}

export async function shadeBench(out: Out): Promise<void> {
  if (!process.argv.includes('--shade-only-batch')) {
    const stack = await startBenchStack();
    try {
      await shadeEndToEnd(stack, out);
    } finally {
      await stack.stop();
    }
  }
  if (!process.argv.includes('--shade-skip-batch')) await rollupOverhead(out);
}
