// The figures of `GET /v1/statistics` for one tenant and period. Each figure's definition is in the
// README ("Statistics"). The queries read two rollups kept by triggers — sessions per day
// (`statistics_session_days`, Migration20261208105000) and one row per session with a standing
// anomaly (`statistics_anomalous_sessions`, Migration20261209100000, whose refresh function names
// the blocking categories, ZERO_SESSION and CHARGING_EXPECTED, and the leak's, KWH_DECREASE) — and
// the standing anomalies' partial indexes. BENCHMARKS.md ("Statistics") has their plans at a
// million sessions.
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/sql';
import { countsSql } from '../anomalies/flags';

/** An issue that stands (the workspace's one definition; the statistics' partial indexes match it). */
const STANDING = countsSql('i');
const ACTIVE = `i.status in ('OPEN', 'IN_PROGRESS')`;
const IN_PERIOD = 'i.tenant_id = ? and i.occurred_at >= ?::timestamptz and i.occurred_at < ?::timestamptz';

/** The period's bounds as timestamptz parameters (an absent bound is open). */
const boundsOf = (period: StatisticsPeriod): [string, string] => [period.from ?? '-infinity', period.to ?? 'infinity'];

/** One statement and its parameters (exported so that the benchmark can show their plans). */
export type Statement = [string, unknown[]];
/** A session's occurrence: its first reading, or its creation without readings (a stored column). */
const OCCURRENCE = 's.occurrence_at';

export interface StatisticsPeriod {
  /** ISO instants; absent = unbounded on that side. */
  from?: string;
  to?: string;
}

export interface Statistics {
  activeAnomaliesCount: number;
  sessionsWithAnomaliesCount: number;
  connectorsWithAnomaliesCount: number;
  totalAnomaliesCount: number;
  chargingStationsWithAnomaliesCount: number;
  uptimePercentage: number;
  uptimeDelta: number;
  totalSessions: number;
  totalRevenue: number;
  revenueAtRisk: number;
  revenueLeakEstimate: number;
  // Extensions: the 001 figures, and what the revenue and uptime were computed from.
  anomalousSessions: number;
  totalStations: number;
  stationsWithAnomalies: number;
  anomalyRate: number;
  totalEnergyKwh: number;
  energyPrice: number | null;
  currency: string | null;
  uptimePeriod: { from: Date; to: Date } | null;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));

const DAY_MS = 86_400_000;
const EARLIEST_MS = Date.parse('0001-01-01T00:00:00Z');
/** Periods longer than this count distinct connectors and stations by probes (see statisticsFor). */
const PROBE_PLACES_AFTER_MS = 31 * DAY_MS;

/**
 * Sessions of [from, to) by occurrence: whole UTC days from the daily rollup
 * (`statistics_session_days`, kept by triggers), the partial days at either end from the sessions
 * themselves (through the occurrence index). A year is a few hundred rollup rows, not a million sessions.
 */
export function sessionTotalsSql(tenantId: string, period: StatisticsPeriod): Statement {
  const fromMs = period.from === undefined ? null : Date.parse(period.from);
  const toMs = period.to === undefined ? null : Date.parse(period.to);
  const firstDay = fromMs === null ? null : Math.ceil(fromMs / DAY_MS) * DAY_MS;
  const endDay = toMs === null ? null : Math.floor(toMs / DAY_MS) * DAY_MS;
  const parts: string[] = [];
  const params: unknown[] = [];
  const base = (lo: string, hi: string) => {
    parts.push(`select 1::bigint as sessions, (case when s.is_anomaly then 1 else 0 end)::bigint as anomalous, coalesce(s.delivered_kwh, 0) as kwh
                  from charging_sessions s where s.tenant_id = ? and ${OCCURRENCE} >= ?::timestamptz and ${OCCURRENCE} < ?::timestamptz`);
    params.push(tenantId, lo, hi);
  };
  const isoOf = (ms: number) => new Date(ms).toISOString();
  if (firstDay !== null && endDay !== null && firstDay >= endDay) {
    base(period.from!, period.to!); // within one day
  } else {
    parts.push(`select r.sessions, r.anomalous, r.delivered_kwh as kwh from statistics_session_days r
                 where r.tenant_id = ? and r.day >= ?::date and r.day < ?::date`);
    params.push(tenantId, firstDay === null ? '-infinity' : isoOf(firstDay).slice(0, 10), endDay === null ? 'infinity' : isoOf(endDay).slice(0, 10));
    if (fromMs !== null && fromMs < firstDay!) base(period.from!, isoOf(firstDay!));
    if (toMs !== null && endDay! < toMs) base(isoOf(endDay!), period.to!);
  }
  return [`select coalesce(sum(sessions), 0)::bigint as total, coalesce(sum(anomalous), 0)::bigint as anomalous, coalesce(sum(kwh), 0)::float8 as kwh from (${parts.join(' union all ')}) x`, params];
}

/**
 * Sessions with a standing anomaly in [from, to), those with an active one (their delivered kWh:
 * revenue at risk) and the unbilled kWh of those with a standing `KWH_DECREASE` — each session
 * once, however many of its anomalies fall in the period — from `statistics_anomalous_sessions`
 * (one row per such session, kept by triggers, Migration20261209100000). A session counts where its
 * first standing (active) anomaly falls; one whose anomalies straddle the period's start counts when
 * one of them falls inside (few sessions: one probe each into its issues).
 */
export function anomalousSessionsSql(tenantId: string, period: StatisticsPeriod): Statement {
  const [lo, hi] = boundsOf(period);
  const inside = (first: string) => `a.tenant_id = ? and a.${first} >= ?::timestamptz and a.${first} < ?::timestamptz`;
  const params: unknown[] = [tenantId, lo, hi, tenantId, lo, hi, tenantId, lo, hi];
  let straddling = 'select 0::bigint as sessions, 0::float8 as kwh';
  if (period.from !== undefined) {
    // Their first anomaly before the start, another at or after it: is one in the period?
    const issueIn = (extra: string) =>
      `exists (select 1 from anomaly_issues i where i.session_id = a.session_id and i.occurred_at >= ?::timestamptz and i.occurred_at < ?::timestamptz and ${STANDING}${extra})`;
    straddling = `select (select count(*) from statistics_anomalous_sessions a
                           where a.tenant_id = ? and a.last_at > a.first_at and a.last_at >= ?::timestamptz and a.first_at < ?::timestamptz and ${issueIn('')}) as sessions,
                         (select coalesce(sum(a.delivered_kwh), 0) from statistics_anomalous_sessions a
                           where a.tenant_id = ? and a.last_active_at > a.first_active_at and a.last_active_at >= ?::timestamptz and a.first_active_at < ?::timestamptz
                             and ${issueIn(` and ${ACTIVE}`)})::float8 as kwh`;
    params.push(tenantId, lo, lo, lo, hi, tenantId, lo, lo, lo, hi);
  }
  return [
    `select (select count(*) from statistics_anomalous_sessions a where ${inside('first_at')}) + b.sessions as sessions,
            (select coalesce(sum(a.delivered_kwh), 0) from statistics_anomalous_sessions a where ${inside('first_active_at')}) + b.kwh as at_risk_kwh,
            (select coalesce(sum(a.unbilled_kwh), 0) from statistics_anomalous_sessions a where ${inside('leak_at')}) as leak_kwh
       from (${straddling}) b`,
    params,
  ];
}

/** Standing and active anomalies of the period (each anomaly once: additive). */
export function anomalyCountsSql(tenantId: string, period: StatisticsPeriod): Statement {
  return [
    `select count(*) filter (where ${ACTIVE})::int as active, count(*)::int as total from anomaly_issues i where ${IN_PERIOD} and ${STANDING}`,
    [tenantId, ...boundsOf(period)],
  ];
}

/** Distinct connectors and stations with a standing anomaly in the period. */
export function anomalousPlacesSql(tenantId: string, period: StatisticsPeriod): Statement {
  const [lo, hi] = boundsOf(period);
  const long = period.from === undefined || period.to === undefined || Date.parse(period.to) - Date.parse(period.from) > PROBE_PLACES_AFTER_MS;
  // A long period: one probe per known connector or station into the standing anomalies' index,
  // rather than de-duplicating every anomaly of the period.
  if (long) {
    return [
      `select (select count(*) from connectors c where c.tenant_id = ? and exists (
                 select 1 from anomaly_issues i where i.station_id = c.station_id and i.connector_id = c.connector_id and ${IN_PERIOD} and ${STANDING}))
            + (select count(*) from charging_stations st where st.tenant_id = ? and exists (
                 select 1 from anomaly_issues i where i.station_id = st.id and i.connector_id is null and ${IN_PERIOD} and ${STANDING})) as connectors,
              (select count(*) from charging_stations st where st.tenant_id = ? and exists (
                 select 1 from anomaly_issues i where i.station_id = st.id and ${IN_PERIOD} and ${STANDING})) as stations`,
      [tenantId, tenantId, lo, hi, tenantId, tenantId, lo, hi, tenantId, tenantId, lo, hi],
    ];
  }
  // A short period's anomalies are fewer than the probes: grouped by hashing first
  // (count(distinct (station, connector)) sorts every anomaly's row value, 4–5× slower).
  return [
    `select count(*)::int as connectors, count(distinct p.station_id)::int as stations
       from (select i.station_id from anomaly_issues i where ${IN_PERIOD} and ${STANDING} group by i.station_id, coalesce(i.connector_id, '')) p`,
    [tenantId, lo, hi],
  ];
}

/**
 * The first row of a statement, run without parallel workers: the endpoint already runs its
 * statements side by side on their own connections, and workers on top of that oversubscribe a
 * small machine's cores (measured on 2 cores at a million sessions, alternating rounds: all time
 * p50 108–121 → 78–86 ms, from a date on 133–166 → 72–78 ms; BENCHMARKS.md "Statistics").
 */
const firstRow = (em: EntityManager, [q, params]: Statement) =>
  em.transactional(async (tem) => {
    await sql(tem, 'set local max_parallel_workers_per_gather = 0');
    return (await sql(tem, q, params))[0] ?? {};
  });

export async function statisticsFor(em: EntityManager, tenantId: string, period: StatisticsPeriod, now: Date): Promise<Statistics> {
  const one = async ([q, params]: Statement) => (await sql(em, q, params))[0] ?? {};
  const [org, sessions, issues, places, anomalous, stations, uptime] = await Promise.all([
    one(['select energy_price, currency from organizations where tenant_id = ?', [tenantId]]),
    firstRow(em, sessionTotalsSql(tenantId, period)),
    firstRow(em, anomalyCountsSql(tenantId, period)),
    firstRow(em, anomalousPlacesSql(tenantId, period)),
    firstRow(em, anomalousSessionsSql(tenantId, period)),
    one(['select count(*)::int as total from charging_stations where tenant_id = ?', [tenantId]]),
    uptimeFor(em, tenantId, period, now),
  ]);
  const price = org.energy_price === null || org.energy_price === undefined ? null : Number(org.energy_price);
  const money2 = (kwh: number) => (price === null ? 0 : round(kwh * price, 2));
  const [total, anomalousTotal, kwh] = [num(sessions.total), num(sessions.anomalous), num(sessions.kwh)];
  return {
    activeAnomaliesCount: num(issues.active),
    sessionsWithAnomaliesCount: num(anomalous.sessions),
    connectorsWithAnomaliesCount: num(places.connectors),
    totalAnomaliesCount: num(issues.total),
    chargingStationsWithAnomaliesCount: num(places.stations),
    uptimePercentage: uptime.current,
    uptimeDelta: round(uptime.current - uptime.previous, 4),
    totalSessions: total,
    totalRevenue: money2(kwh),
    revenueAtRisk: money2(num(anomalous.at_risk_kwh)),
    revenueLeakEstimate: money2(num(anomalous.leak_kwh)),
    anomalousSessions: anomalousTotal,
    totalStations: num(stations.total),
    stationsWithAnomalies: num(places.stations),
    anomalyRate: total === 0 ? 0 : round(anomalousTotal / total, 6),
    // Float sums of many session figures: rounded so that the same data always answers the same.
    totalEnergyKwh: round(kwh, 3),
    energyPrice: price,
    currency: price === null ? null : ((org.currency as string | null) ?? null),
    uptimePeriod: uptime.period,
  };
}

/**
 * Uptime over connector-time, as the data shows it. A connector is down from the moment the first
 * anomaly of a blocking category (it delivered nothing, or stopped while the vehicle still needed
 * energy) occurred in one of its sessions until the next session on that connector starts (or the
 * period ends); a session with both blocking categories is one interval. Anomalies marked false
 * positive or withdrawn by a later analysis block nothing. Uptime = 100 × (1 − down time ÷ (known
 * connectors × period length)). The period is [from, to), `from` defaulting to the tenant's first
 * session and `to` to now; the delta compares it with the period of equal length just before it.
 * Sessions without a connector id cannot be placed and are left out. The intervals are stored with
 * their end on `statistics_anomalous_sessions` (kept by triggers as sessions arrive and leave).
 */
async function uptimeFor(em: EntityManager, tenantId: string, period: StatisticsPeriod, now: Date): Promise<{ current: number; previous: number; period: { from: Date; to: Date } | null }> {
  const to = period.to ? new Date(period.to) : now;
  let from = period.from ? new Date(period.from) : null;
  if (!from) {
    const [first] = await sql(em, `select min(${OCCURRENCE}) as first from charging_sessions s where s.tenant_id = ?`, [tenantId]);
    from = first?.first ? new Date(first.first as string) : null;
  }
  if (!from || to.getTime() <= from.getTime()) return { current: 100, previous: 100, period: from ? { from, to } : null };
  const length = to.getTime() - from.getTime();
  // The period before, cut at year 1 (what date filters accept; PostgreSQL's range ends soon after).
  const previousFrom = new Date(Math.max(from.getTime() - length, EARLIEST_MS));
  const row = await firstRow(em, uptimeSql(tenantId, previousFrom, from, to));
  const connectors = num(row.connectors);
  const pct = (down: number, ms: number) => (connectors === 0 || ms <= 0 ? 100 : round(100 * Math.max(0, 1 - down / (connectors * (ms / 1000))), 4));
  return { current: pct(num(row.current_s), length), previous: pct(num(row.previous_s), from.getTime() - previousFrom.getTime()), period: { from, to } };
}

/** Down seconds in [from, to) and in [previousFrom, from), and the known connectors. */
export function uptimeSql(tenantId: string, previousFrom: Date, from: Date, to: Date): Statement {
  const [pf, f, t] = [previousFrom, from, to].map((d) => d.toISOString());
  // The intervals meeting [previousFrom, to): those starting in it, and those started before and
  // still holding at its start (through the index by end, or without an end yet).
  const intervals = `select a.down_from, a.down_until from statistics_anomalous_sessions a
                      where a.tenant_id = ? and a.down_from >= ?::timestamptz and a.down_from < ?::timestamptz
                     union all
                     select a.down_from, a.down_until from statistics_anomalous_sessions a
                      where a.tenant_id = ? and a.down_from < ?::timestamptz and (a.down_until > ?::timestamptz or a.down_until is null) and a.down_from is not null`;
  // Down seconds inside [?, ?): the period's end comes first in the text, then its start.
  const down = `coalesce(sum(greatest(0, extract(epoch from least(coalesce(down_until, 'infinity'), ?::timestamptz) - greatest(down_from, ?::timestamptz)))), 0)::float8`;
  return [
    `with down as (${intervals})
     select ${down} as current_s, ${down} as previous_s,
            (select count(*) from connectors c where c.tenant_id = ?)::int as connectors
       from down`,
    [tenantId, pf, t, tenantId, pf, pf, t, f, f, pf, tenantId],
  ];
}
