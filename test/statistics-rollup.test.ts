// The statistics' per-session rollup (`statistics_anomalous_sessions`, kept by triggers) against
// the definitions read literally: random sequences of what writers do — sessions arriving, moving
// in time or between connectors, changing energy, leaving; issues opened, re-dated, re-categorised,
// marked, several in one statement — and then `statisticsFor` over random periods must equal a
// naive computation from the issues and sessions themselves (distinct sessions, revenue at risk,
// leak, uptime and its delta). Real PostgreSQL, the migrations' triggers, fast-check sequences.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Client as PgClient } from 'pg';
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../db/sql';
import { statisticsFor } from '../domain/statistics/summary';
import { newTenant } from './helpers/http';
import { stack } from './helpers/stack';
import { waitFor } from './helpers/wait';

const H = 3_600_000;
const BASE = Date.parse('2026-05-04T00:00:00Z');
const iso = (hours: number) => new Date(BASE + hours * H).toISOString();
const CATEGORIES = ['ZERO_SESSION', 'CHARGING_EXPECTED', 'KWH_DECREASE', 'ENERGY_PIT'] as const;
const STATUSES = ['OPEN', 'IN_PROGRESS', 'RESOLVED:member', 'RESOLVED:detector', 'FALSE_POSITIVE'] as const;
const CONNECTORS = ['1', '2', null] as const;

type Op =
  | { op: 'session'; station: number; connector: number; hour: number; kwh: number }
  | { op: 'issue'; session: number; category: number; status: number; hour: number }
  | { op: 'status'; issues: number[]; status: number }
  | { op: 'redate'; issue: number; hour: number }
  | { op: 'move'; session: number; station: number; connector: number; hour: number }
  | { op: 'energy'; session: number; kwh: number; unbilled: number }
  | { op: 'delete'; session: number };

const hour = fc.integer({ min: 0, max: 72 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('session' as const), station: fc.nat(1), connector: fc.nat(2), hour, kwh: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('issue' as const), session: fc.nat(), category: fc.nat(3), status: fc.nat(4), hour: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('status' as const), issues: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), status: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('redate' as const), issue: fc.nat(), hour: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('move' as const), session: fc.nat(), station: fc.nat(1), connector: fc.nat(2), hour }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('energy' as const), session: fc.nat(), kwh: fc.integer({ min: 0, max: 40 }), unbilled: fc.integer({ min: 0, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), session: fc.nat() }) },
);
/** Each way a trigger changes a row, spelled out (run before the random sequences). */
const s = (station: number, connector: number, hour: number, kwh = 10): Op => ({ op: 'session', station, connector, hour, kwh });
const zeroAt = (session: number): Op => ({ op: 'issue', session, category: 0, status: 0, hour: 0 });
const PATHS: Op[][] = [
  [s(0, 0, 0), zeroAt(0), s(0, 0, 5)], // a session arriving ends the connector's interval
  [s(0, 0, 0), s(0, 0, 5), zeroAt(0), { op: 'delete', session: 1 }], // the session that ended it leaves
  [s(0, 0, 0), s(0, 0, 5), zeroAt(0), { op: 'move', session: 1, station: 0, connector: 0, hour: 20 }], // it moves later in time
  [s(0, 0, 0), s(0, 0, 5), zeroAt(0), { op: 'move', session: 1, station: 0, connector: 1, hour: 5 }], // it moves to another connector
  [s(0, 0, 0), s(0, 0, 5), zeroAt(1), { op: 'move', session: 1, station: 1, connector: 0, hour: 1 }], // the down session itself moves
  [s(0, 0, 0), { op: 'issue', session: 0, category: 2, status: 0, hour: 1 }, { op: 'energy', session: 0, kwh: 7, unbilled: 3 }], // energy of a leak
  [s(0, 0, 0), zeroAt(0), { op: 'issue', session: 0, category: 1, status: 1, hour: 2 }, { op: 'status', issues: [0], status: 4 }], // marked false positive
  [s(0, 0, 0), zeroAt(0), { op: 'redate', issue: 0, hour: 30 }, s(0, 0, 10)], // re-dated past a later session
];
/** A period in hours from BASE: either bound may be absent. */
const periodArb = fc.record({ from: fc.option(hour, { nil: undefined }), length: fc.integer({ min: 1, max: 96 }), open: fc.boolean() });

const statusSql = (k: number) => {
  const [status, by] = STATUSES[k].split(':');
  return { status, by: by ?? null };
};

/** The figures as their definitions say, from the issues and sessions directly. */
async function naive(em: EntityManager, tenantId: string, lo: string, hi: string) {
  const standing = `i.status <> 'FALSE_POSITIVE' and i.resolved_by is distinct from 'detector'`;
  const inPeriod = `i.occurred_at >= ?::timestamptz and i.occurred_at < ?::timestamptz`;
  const [row] = await sql(
    em,
    `select (select count(distinct i.session_id) from anomaly_issues i where i.tenant_id = ? and ${inPeriod} and ${standing})::int as sessions,
            (select coalesce(sum(s.delivered_kwh), 0) from charging_sessions s where s.tenant_id = ? and exists (
               select 1 from anomaly_issues i where i.session_id = s.id and ${inPeriod} and ${standing} and i.status in ('OPEN', 'IN_PROGRESS')))::float8 as at_risk,
            (select coalesce(sum(s.unbilled_kwh), 0) from charging_sessions s where s.tenant_id = ? and exists (
               select 1 from anomaly_issues i where i.session_id = s.id and ${inPeriod} and ${standing} and i.category = 'KWH_DECREASE'))::float8 as leak`,
    [tenantId, lo, hi, tenantId, lo, hi, tenantId, lo, hi],
  );
  // Down intervals: per placed session, from its first standing blocking anomaly to the next session on its connector.
  const intervals = await sql(
    em,
    `select extract(epoch from d.down_from) * 1000 as down_from,
            extract(epoch from (select min(n.occurrence_at) from charging_sessions n
                                 where n.tenant_id = s.tenant_id and n.station_id = s.station_id and n.connector_id = s.connector_id and n.occurrence_at > d.down_from)) * 1000 as down_until
       from charging_sessions s
       cross join lateral (select min(i.occurred_at) as down_from from anomaly_issues i
                            where i.session_id = s.id and ${standing} and i.category in ('ZERO_SESSION', 'CHARGING_EXPECTED')) d
      where s.tenant_id = ? and s.connector_id is not null and d.down_from is not null`,
    [tenantId],
  );
  const downIn = (a: number, b: number) =>
    intervals.reduce((sum, r) => sum + Math.max(0, Math.min(r.down_until === null ? Infinity : Number(r.down_until), b) - Math.max(Number(r.down_from), a)), 0) / 1000;
  return { sessions: Number(row.sessions), atRisk: Number(row.at_risk), leak: Number(row.leak), downIn };
}

describe('statistics rollup (statistics_anomalous_sessions) against the definitions', function () {
  this.timeout(600_000);

  let tenantId: string;
  let em: EntityManager;
  const stations: string[] = [];
  let made = 0;
  type Run = (q: string, params: unknown[]) => Promise<Record<string, unknown>[]>;
  const viaOrm: Run = (q, params) => sql(em, q, params);
  /** The same statements over a connection of its own (a second writer), `?` numbered for pg. */
  const viaClient = (client: PgClient): Run => async (q, params) => {
    let k = 0;
    return (await client.query(q.replace(/\?/g, () => `$${(k += 1)}`), params)).rows;
  };
  /** Inserts a session as the writers do (its occurrence is its start). */
  const addSession = async (run: Run, station: number, connector: string | null, hours: number, kwh: number) => {
    const [s] = await run(
      `insert into charging_sessions (id, tenant_id, session_id, station_id, connector_id, status, is_anomaly, anomaly_count, started_at, created_at, updated_at, delivered_kwh, unbilled_kwh)
       values (gen_random_uuid(), ?, ?, ?, ?, 'active', false, 0, ?, ?, ?, ?, 0) returning id`,
      [tenantId, `r-${(made += 1)}`, stations[station], connector, iso(hours), iso(hours), iso(hours), kwh],
    );
    return s.id as string;
  };
  /** Opens (or re-marks) an issue of a session, occurring `hours` after its start. */
  const addIssue = async (run: Run, session: string, category: string, status: number, hours: number) => {
    const { status: st, by } = statusSql(status);
    const [i] = await run(
      `insert into anomaly_issues (id, tenant_id, session_id, category, status, resolved_by, max_score, first_detected_at, last_detected_at,
                                   station_id, connector_id, occurred_at, occurred_until, created_at, updated_at)
       select gen_random_uuid(), s.tenant_id, s.id, ?, ?, ?, 0.9, now(), now(), s.station_id, s.connector_id,
              s.occurrence_at + ? * interval '1 hour', s.occurrence_at + ? * interval '1 hour', now(), now()
         from charging_sessions s where s.id = ?
       on conflict (session_id, category) do update set status = excluded.status, resolved_by = excluded.resolved_by, occurred_at = excluded.occurred_at
       returning id`,
      [category, st, by, hours, hours + 0.5, session],
    );
    return i.id as string;
  };

  before(async () => {
    ({ tenantId } = await newTenant('statistics-rollup'));
    em = stack().orm.em.fork();
    await sql(em, 'update organizations set energy_price = 1 where tenant_id = ?', [tenantId]);
    for (const name of ['CP-R0', 'CP-R1']) {
      const [st] = await sql(em, 'insert into charging_stations (id, tenant_id, station_id, created_at) values (gen_random_uuid(), ?, ?, now()) returning id', [tenantId, name]);
      stations.push(st.id as string);
      for (const c of ['1', '2']) {
        await sql(em, 'insert into connectors (id, tenant_id, station_id, connector_id, evse_id, created_at) values (gen_random_uuid(), ?, ?, ?, null, now())', [tenantId, st.id, c]);
      }
    }
  });

  it('random writes, then statisticsFor over random periods equals the naive figures', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 6, maxLength: 40 }), fc.array(periodArb, { minLength: 4, maxLength: 4 }), async (ops, periods) => {
        run += 1;
        await sql(em, 'delete from charging_sessions where tenant_id = ?', [tenantId]);
        const sessions: string[] = [];
        const issues: string[] = [];
        const pick = <T>(xs: T[], k: number) => (xs.length === 0 ? undefined : xs[k % xs.length]);
        for (const o of ops) {
          if (o.op === 'session') {
            sessions.push(await addSession(viaOrm, o.station, CONNECTORS[o.connector], o.hour, o.kwh));
          } else if (o.op === 'issue') {
            const session = pick(sessions, o.session);
            if (!session) continue;
            const id = await addIssue(viaOrm, session, CATEGORIES[o.category], o.status, o.hour);
            if (!issues.includes(id)) issues.push(id);
          } else if (o.op === 'status') {
            const ids = o.issues.map((k) => pick(issues, k)).filter((x): x is string => x !== undefined);
            if (ids.length === 0) continue;
            const { status, by } = statusSql(o.status);
            await sql(em, 'update anomaly_issues set status = ?, resolved_by = ? where id = any(?::uuid[])', [status, by, `{${ids.join(',')}}`]);
          } else if (o.op === 'redate') {
            const issue = pick(issues, o.issue);
            if (issue) await sql(em, `update anomaly_issues set occurred_at = ?::timestamptz where id = ?`, [iso(o.hour), issue]);
          } else if (o.op === 'move') {
            const session = pick(sessions, o.session);
            if (!session) continue;
            await sql(em, 'update charging_sessions set station_id = ?, connector_id = ?, started_at = ? where id = ?', [stations[o.station], CONNECTORS[o.connector], iso(o.hour), session]);
            await sql(em, 'update anomaly_issues i set station_id = s.station_id, connector_id = s.connector_id from charging_sessions s where s.id = i.session_id and s.id = ?', [session]);
          } else if (o.op === 'energy') {
            const session = pick(sessions, o.session);
            if (session) await sql(em, 'update charging_sessions set delivered_kwh = ?, unbilled_kwh = ? where id = ?', [o.kwh, o.unbilled, session]);
          } else {
            const session = pick(sessions, o.session);
            if (!session) continue;
            await sql(em, 'delete from charging_sessions where id = ?', [session]);
            sessions.splice(sessions.indexOf(session), 1);
            const left = new Set((await sql(em, 'select id from anomaly_issues where tenant_id = ?', [tenantId])).map((r) => r.id as string));
            issues.splice(0, issues.length, ...issues.filter((id) => left.has(id)));
          }
        }
        const now = new Date(BASE + 100 * H);
        for (const p of periods) {
          const period = { from: p.from === undefined ? undefined : iso(p.from), to: p.open ? undefined : iso((p.from ?? 0) + p.length) };
          const got = await statisticsFor(em, tenantId, period, now);
          const lo = period.from ?? '-infinity';
          const hi = period.to ?? 'infinity';
          const want = await naive(em, tenantId, lo, hi);
          const what = `run ${run}, period ${JSON.stringify(period)}`;
          assert.equal(got.sessionsWithAnomaliesCount, want.sessions, `sessions with anomalies, ${what}`);
          assert.ok(Math.abs(got.revenueAtRisk - Math.round(want.atRisk * 100) / 100) < 1e-9, `at risk ${got.revenueAtRisk} vs ${want.atRisk}, ${what}`);
          assert.ok(Math.abs(got.revenueLeakEstimate - Math.round(want.leak * 100) / 100) < 1e-9, `leak ${got.revenueLeakEstimate} vs ${want.leak}, ${what}`);
          if (got.uptimePeriod) {
            const from = new Date(got.uptimePeriod.from).getTime();
            const to = new Date(got.uptimePeriod.to).getTime();
            const previousFrom = from - (to - from);
            const pct = (down: number, ms: number) => Math.round(100 * Math.max(0, 1 - down / (4 * (ms / 1000))) * 1e4) / 1e4;
            // An empty period (its end at or before its start) is up: 100 %, no delta.
            const current = to > from ? pct(want.downIn(from, to), to - from) : 100;
            const previous = to > from ? pct(want.downIn(previousFrom, from), to - from) : 100;
            assert.ok(Math.abs(got.uptimePercentage - current) < 1e-3, `uptime ${got.uptimePercentage} vs ${current}, ${what}`);
            assert.ok(Math.abs(got.uptimeDelta - (current - previous)) < 2e-3, `uptime delta ${got.uptimeDelta} vs ${current - previous}, ${what}`);
          }
        }
      }),
      { numRuns: 150, examples: PATHS.map((ops) => [ops, [{ from: undefined, length: 1, open: true }, { from: 0, length: 48, open: false }, { from: 3, length: 12, open: false }, { from: 2, length: 1, open: true }]]) },
    );
    // Every session's row agrees with a recompute from scratch (and none is left for a session without standing anomalies).
    const stale = await sql(
      em,
      `select a.session_id from statistics_anomalous_sessions a where a.tenant_id = ?
        and not exists (select 1 from anomaly_issues i where i.session_id = a.session_id and i.status <> 'FALSE_POSITIVE' and i.resolved_by is distinct from 'detector')`,
      [tenantId],
    );
    assert.deepEqual(stale, []);
  });

  it('two writers on one connector at once: the second waits for the first, so a new session still ends the interval the first opened', async () => {
    await sql(em, 'delete from charging_sessions where tenant_id = ?', [tenantId]);
    const down = await addSession(viaOrm, 0, '1', 0, 0);
    const issue = await addIssue(viaOrm, down, 'ZERO_SESSION', 4, 0); // a false positive: blocks nothing yet
    const [first, second] = [new PgClient({ connectionString: stack().databaseUrl }), new PgClient({ connectionString: stack().databaseUrl })];
    await Promise.all([first.connect(), second.connect()]);
    try {
      await first.query('begin');
      // The member takes the false positive back: the connector is down from hour 0, with no later session (yet).
      await viaClient(first)("update anomaly_issues set status = 'OPEN', resolved_by = null where id = ?", [issue]);
      await second.query('begin');
      // Meanwhile the next session arrives on that connector; its trigger must wait for the first writer.
      const arriving = addSession(viaClient(second), 0, '1', 5, 3);
      await waitFor("the second writer to wait on the connector's lock", async () => {
        const [waiting] = await sql(em, `select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`, []);
        return waiting.n === 1 ? true : undefined;
      }, 10_000, 50);
      await first.query('commit');
      await arriving;
      await second.query('commit');
    } finally {
      await Promise.all([first.end(), second.end()]);
    }
    const [row] = await sql(em, 'select down_from, down_until from statistics_anomalous_sessions where session_id = ?', [down]);
    assert.equal(new Date(row.down_until as string).toISOString(), iso(5), 'the interval ends where the next session starts');
  });

  it('a statement over 1,001 connectors holds at most 512 locks (one per connector before): it waits for a writer of one of them and still ends its interval', async () => {
    await sql(em, 'delete from charging_sessions where tenant_id = ?', [tenantId]);
    const down = await addSession(viaOrm, 0, '1', 0, 0);
    const issue = await addIssue(viaOrm, down, 'ZERO_SESSION', 4, 0);
    const [first, second] = [new PgClient({ connectionString: stack().databaseUrl }), new PgClient({ connectionString: stack().databaseUrl })];
    await Promise.all([first.connect(), second.connect()]);
    const advisoryOf = async (pid: number) =>
      (await sql(em, `select count(*) filter (where granted)::int as held, count(*) filter (where not granted)::int as waiting from pg_locks where locktype = 'advisory' and pid = ?`, [pid]))[0];
    try {
      const pid = (await second.query('select pg_backend_pid() as pid')).rows[0].pid as number;
      await first.query('begin');
      await viaClient(first)("update anomaly_issues set status = 'OPEN', resolved_by = null where id = ?", [issue]);
      await second.query('begin');
      // An import: 1,001 sessions in one statement, one of them the next on the down connector.
      const bulk = viaClient(second)(
        `insert into charging_sessions (id, tenant_id, session_id, station_id, connector_id, status, is_anomaly, anomaly_count, started_at, created_at, updated_at, delivered_kwh, unbilled_kwh)
         select gen_random_uuid(), ?, 'bulk-' || k, ?, case when k = 0 then '1' else 'bulk-' || k end, 'active', false, 0, ?, now(), now(), 5, 0
           from generate_series(0, 1000) k`,
        [tenantId, stations[0], iso(5)],
      );
      await waitFor("the import to wait on the down connector's lock", async () => ((await advisoryOf(pid)).waiting === 1 ? true : undefined), 10_000, 50);
      await first.query('commit');
      await bulk;
      const { held, waiting } = await advisoryOf(pid);
      assert.ok(held > 0 && held <= 512 && waiting === 0, `${held} locks held for 1,001 connectors`);
      await second.query('commit');
    } finally {
      await Promise.all([first.end(), second.end()]);
    }
    const [row] = await sql(em, 'select down_until from statistics_anomalous_sessions where session_id = ?', [down]);
    assert.equal(new Date(row.down_until as string).toISOString(), iso(5), 'the interval ends where the imported session starts');
  });
});
