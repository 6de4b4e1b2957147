// The figures of `GET /v1/statistics` for one tenant and period. Each figure's definition is in the
// README ("Statistics"); the queries read the daily session rollup and the indexes of
// Migration20261208105000 (BENCHMARKS.md, "Statistics", has their plans at a million sessions).
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/sql';
import { countsSql } from '../anomalies/flags';

/** Categories whose anomaly means the connector could not charge (see `uptime` below). */
export const BLOCKING_CATEGORIES = ['ZERO_SESSION', 'CHARGING_EXPECTED'] as const;
/** Categories whose unbilled energy is a revenue leak (the register fell and stayed down). */
export const LEAK_CATEGORIES = ['KWH_DECREASE'] as const;

/** An issue that stands (the workspace's one definition; the statistics' partial indexes match it). */
const STANDING = countsSql('i');
const ACTIVE = `i.status in ('OPEN', 'IN_PROGRESS')`;
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
async function sessionTotals(em: EntityManager, tenantId: string, period: StatisticsPeriod): Promise<{ total: number; anomalous: number; kwh: number }> {
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
  const [row] = await sql(em, `select coalesce(sum(sessions), 0)::bigint as total, coalesce(sum(anomalous), 0)::bigint as anomalous, coalesce(sum(kwh), 0)::float8 as kwh from (${parts.join(' union all ')}) x`, params);
  return { total: num(row?.total), anomalous: num(row?.anomalous), kwh: num(row?.kwh) };
}

export async function statisticsFor(em: EntityManager, tenantId: string, period: StatisticsPeriod, now: Date): Promise<Statistics> {
  const lo = period.from ?? '-infinity';
  const hi = period.to ?? 'infinity';
  const inPeriod = 'i.tenant_id = ? and i.occurred_at >= ?::timestamptz and i.occurred_at < ?::timestamptz';
  const probePlaces = period.from === undefined || period.to === undefined || Date.parse(period.to) - Date.parse(period.from) > PROBE_PLACES_AFTER_MS;
  const [[org], sessions, [issues], [places], [money], [stations], uptime] = await Promise.all([
    sql(em, 'select energy_price, currency from organizations where tenant_id = ?', [tenantId]),
    sessionTotals(em, tenantId, period),
    sql(
      em,
      `select count(*) filter (where ${ACTIVE})::int as active, count(*)::int as total, count(distinct i.session_id)::int as sessions
         from anomaly_issues i where ${inPeriod} and ${STANDING}`,
      [tenantId, lo, hi],
    ),
    // Distinct connectors and stations of a long period: one probe per known connector or station
    // into the standing anomalies' index, rather than de-duplicating every anomaly of the period
    // (a short period's anomalies are fewer than the probes: grouped below).
    probePlaces
      ? sql(
          em,
          `select (select count(*) from connectors c where c.tenant_id = ? and exists (
                     select 1 from anomaly_issues i where i.station_id = c.station_id and i.connector_id = c.connector_id and ${inPeriod} and ${STANDING}))
                + (select count(*) from charging_stations st where st.tenant_id = ? and exists (
                     select 1 from anomaly_issues i where i.station_id = st.id and i.connector_id is null and ${inPeriod} and ${STANDING})) as connectors,
                  (select count(*) from charging_stations st where st.tenant_id = ? and exists (
                     select 1 from anomaly_issues i where i.station_id = st.id and ${inPeriod} and ${STANDING})) as stations`,
          [tenantId, tenantId, lo, hi, tenantId, tenantId, lo, hi, tenantId, tenantId, lo, hi],
        )
      : // Grouped by hashing first: count(distinct (station, connector)) sorts every anomaly's row value (4–5× slower).
        sql(
          em,
          `select count(*)::int as connectors, count(distinct p.station_id)::int as stations
             from (select i.station_id from anomaly_issues i where ${inPeriod} and ${STANDING} group by i.station_id, coalesce(i.connector_id, '')) p`,
          [tenantId, lo, hi],
        ),
    // Each session once, however many of its issues match; its energy by primary key (the limit
    // keeps the planner from hashing the whole sessions table for a period's few thousand sessions).
    sql(
      em,
      `select coalesce(sum(s.delivered_kwh) filter (where a.active), 0)::float8 as at_risk_kwh,
              coalesce(sum(s.unbilled_kwh) filter (where a.leak), 0)::float8 as leak_kwh
         from (select i.session_id, bool_or(${ACTIVE}) as active, bool_or(i.category = any(?::text[])) as leak
                 from anomaly_issues i where ${inPeriod} and ${STANDING}
                group by i.session_id) a
         cross join lateral (select s.delivered_kwh, s.unbilled_kwh from charging_sessions s where s.id = a.session_id and s.tenant_id = ? limit 1) s
        where a.active or a.leak`,
      [`{${LEAK_CATEGORIES.join(',')}}`, tenantId, lo, hi, tenantId],
    ),
    sql(em, 'select count(*)::int as total from charging_stations where tenant_id = ?', [tenantId]),
    uptimeFor(em, tenantId, period, now),
  ]);
  const price = org?.energy_price === null || org?.energy_price === undefined ? null : Number(org.energy_price);
  const money2 = (kwh: number) => (price === null ? 0 : round(kwh * price, 2));
  return {
    activeAnomaliesCount: issues.active,
    sessionsWithAnomaliesCount: issues.sessions,
    connectorsWithAnomaliesCount: num(places?.connectors),
    totalAnomaliesCount: issues.total,
    chargingStationsWithAnomaliesCount: num(places?.stations),
    uptimePercentage: uptime.current,
    uptimeDelta: round(uptime.current - uptime.previous, 4),
    totalSessions: sessions.total,
    totalRevenue: money2(sessions.kwh),
    revenueAtRisk: money2(num(money?.at_risk_kwh)),
    revenueLeakEstimate: money2(num(money?.leak_kwh)),
    anomalousSessions: sessions.anomalous,
    totalStations: stations.total,
    stationsWithAnomalies: num(places?.stations),
    anomalyRate: sessions.total === 0 ? 0 : round(sessions.anomalous / sessions.total, 6),
    // Float sums of many session figures: rounded so that the same data always answers the same.
    totalEnergyKwh: round(sessions.kwh, 3),
    energyPrice: price,
    currency: price === null ? null : ((org?.currency as string | null) ?? null),
    uptimePeriod: uptime.period,
  };
}

/**
 * Uptime over connector-time, as the data shows it. A connector is down from the moment an anomaly
 * of a blocking category (it delivered nothing, or stopped while the vehicle still needed energy)
 * occurred in one of its sessions until a session on that connector starts after it (or the
 * period ends). Anomalies marked false positive or withdrawn by a later analysis block nothing. Uptime =
 * 100 × (1 − down time ÷ (known connectors × period length)). The period is [from, to), `from`
 * defaulting to the tenant's first session and `to` to now; the delta compares it with the period
 * of equal length just before it. Sessions without a connector id cannot be placed and are left out.
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
  const blocking = `i.category in (${BLOCKING_CATEGORIES.map((c) => `'${c}'`).join(', ')})`;
  // The next session on the fault's connector after the fault occurred (index only).
  const nextSession = (tenant: string, station: string, connector: string, after: string) =>
    `(select min(n.occurrence_at) from charging_sessions n where n.tenant_id = ${tenant} and n.station_id = ${station} and n.connector_id = ${connector} and n.occurrence_at > ${after})`;
  // Faults that began in the two periods.
  let faults = `select i.occurred_at as down_from, ${nextSession('i.tenant_id', 'i.station_id', 'i.connector_id', 'i.occurred_at')} as down_until
         from anomaly_issues i
        where i.tenant_id = ? and i.occurred_at >= ?::timestamptz and i.occurred_at < ?::timestamptz and ${blocking} and ${STANDING} and i.connector_id is not null`;
  const params: unknown[] = [tenantId, previousFrom.toISOString(), to.toISOString()];
  // And one that began earlier and still held: only each connector's latest fault before the
  // periods can (a later fault's session ended any earlier one). Without a lower bound there is none.
  if (period.from !== undefined) {
    faults += `
       union all
       select f.occurred_at, ${nextSession('c.tenant_id', 'c.station_id', 'c.connector_id', 'f.occurred_at')}
         from connectors c
         cross join lateral (select i.occurred_at from anomaly_issues i
                              where i.tenant_id = c.tenant_id and i.station_id = c.station_id and i.connector_id = c.connector_id
                                and i.occurred_at < ?::timestamptz and ${blocking} and ${STANDING}
                              order by i.occurred_at desc limit 1) f
        where c.tenant_id = ?`;
    params.push(previousFrom.toISOString(), tenantId);
  }
  // Down seconds inside [?, ?): the period's end comes first in the text, then its start.
  const down = `coalesce(sum(greatest(0, extract(epoch from least(coalesce(down_until, 'infinity'), ?::timestamptz) - greatest(down_from, ?::timestamptz)))), 0)::float8`;
  const [row] = await sql(
    em,
    `with faults as (${faults})
     select ${down} as current_s, ${down} as previous_s,
            (select count(*) from connectors c where c.tenant_id = ?)::int as connectors
       from faults`,
    [...params, to.toISOString(), from.toISOString(), from.toISOString(), previousFrom.toISOString(), tenantId],
  );
  const connectors = num(row?.connectors);
  const pct = (down: number, ms: number) => (connectors === 0 || ms <= 0 ? 100 : round(100 * Math.max(0, 1 - down / (connectors * (ms / 1000))), 4));
  return { current: pct(num(row?.current_s), length), previous: pct(num(row?.previous_s), from.getTime() - previousFrom.getTime()), period: { from, to } };
}
