// What the anomaly workspace reads: the list of anomalies (one per issue, i.e. per session and
// category), the per-connector and per-session aggregations, and one anomaly in detail. Every
// query is scoped by tenant and reads `anomaly_issues` through its indexes; sessions, stations
// and members are joined only for the rows of the page.
import type { EntityManager } from '@mikro-orm/postgresql';
import { pgArray, sql, type Row } from '../../db/sql';
import type { AnomalyIssueStatus, ResolvedBy } from '../../entities';
import { normalise } from '../analysis/normalise';
import { notFound } from '../errors';
import { loadReadingsOf } from '../sessions/analysis';
import { categoryOf, typeIdOf } from './categories';
import { issueIsIncidentSql, issueIsRecurringSql } from './flags';
import { historyOf, type IssueHistoryEntry } from './issues';

/** An issue's status (the entity's one list). */
export type IssueStatus = AnomalyIssueStatus;

export interface Page {
  page: number;
  pageSize: number;
}

/** Filters shared by the list and the aggregations (each endpoint takes the subset `002` gives it). */
export interface AnomalyFilter {
  anomalyType?: string[];
  connectorId?: string;
  chargingSessionId?: string;
  chargingPointId?: string[];
  evseId?: string[];
  ocppChargingStationId?: string;
  occurrenceFrom?: string;
  occurrenceTo?: string;
  updateFrom?: string;
  updateTo?: string;
  anomalyIssuesStatus?: IssueStatus[];
  /** Emails, or `me` for the caller (`meMemberId`). */
  assignedTo?: string[];
  /** `assignedTo` as member ids (`assigneeIdsOf`); what the SQL filters on. */
  assigneeIds?: string[];
}

/** The members `assignedTo` names (`me`: the caller; unknown emails name nobody). */
export async function assigneeIdsOf(em: EntityManager, tenantId: string, assignedTo: string[], meMemberId: string | null): Promise<string[]> {
  const emails = assignedTo.filter((a) => a !== 'me').map((e) => e.toLowerCase());
  const ids = new Set<string>(assignedTo.includes('me') && meMemberId ? [meMemberId] : []);
  if (emails.length > 0) {
    for (const r of await sql(em, 'select id from members where tenant_id = ? and email = any(?::text[])', [tenantId, pgArray(emails)])) ids.add(r.id as string);
  }
  return [...ids];
}

/** The WHERE clause (over alias `i`) and its parameters. */
function whereOf(tenantId: string, f: AnomalyFilter): { where: string; params: unknown[] } {
  const parts = ['i.tenant_id = ?'];
  const params: unknown[] = [tenantId];
  const add = (clause: string, ...values: unknown[]) => {
    parts.push(clause);
    params.push(...values);
  };
  // One value as `=`, not `= any(array)`: the planner then reads the matching index in its order.
  const oneOrAny = (column: string, values: string[], type: string) =>
    values.length === 1 ? add(`${column} = ?`, values[0]) : add(`${column} = any(?::${type}[])`, pgArray(values));
  if (f.anomalyType?.length) oneOrAny('i.category', f.anomalyType, 'text');
  if (f.connectorId !== undefined) add('i.connector_id = ?', f.connectorId);
  if (f.chargingSessionId !== undefined) add('i.session_id = (select cs.id from charging_sessions cs where cs.tenant_id = ? and cs.session_id = ?)', tenantId, f.chargingSessionId);
  // Both name the station by the client's id (chargingPointId: any of several).
  if (f.chargingPointId?.length) add('i.station_id in (select st.id from charging_stations st where st.tenant_id = ? and st.station_id = any(?::text[]))', tenantId, pgArray(f.chargingPointId));
  if (f.ocppChargingStationId !== undefined) add('i.station_id = (select st.id from charging_stations st where st.tenant_id = ? and st.station_id = ?)', tenantId, f.ocppChargingStationId);
  if (f.evseId?.length) add('i.evse_id = any(?::text[])', pgArray(f.evseId));
  if (f.occurrenceFrom !== undefined) add('i.occurred_at >= ?', f.occurrenceFrom);
  if (f.occurrenceTo !== undefined) add('i.occurred_at < ?', f.occurrenceTo);
  if (f.updateFrom !== undefined) add('i.updated_at >= ?', f.updateFrom);
  if (f.updateTo !== undefined) add('i.updated_at < ?', f.updateTo);
  if (f.anomalyIssuesStatus?.length) oneOrAny('i.status', f.anomalyIssuesStatus, 'text');
  // Assignees as member ids (resolved beforehand, see `assigneeIdsOf`): a literal the assignee index serves.
  if (f.assigneeIds) {
    if (f.assigneeIds.length === 0) parts.push('false');
    else oneOrAny('i.assignee_member_id', f.assigneeIds, 'uuid');
  }
  return { where: parts.join(' and '), params };
}

export interface IssueRef {
  id: string;
  statusName: IssueStatus;
  assignedTo: string | null;
  resolvedBy: ResolvedBy | null;
}

export interface AnomalyItem {
  id: string;
  anomalyType: string;
  anomalyTypeId: string;
  aiRiskScore: number;
  connectorId: string | null;
  chargingPointId: string;
  ocppChargingStationId: string;
  evseId: string | null;
  chargingSessionId: string;
  dateOfAnomalyOccurrence: Date;
  dateOfLastUpdate: Date;
  firstDetectedAt: Date;
  lastDetectedAt: Date;
  isRecurring: boolean;
  isIncident: boolean;
  issues: IssueRef[];
}

const issueRef = (r: Row): IssueRef => ({ id: r.id, statusName: r.status, assignedTo: r.assignee_email ?? null, resolvedBy: r.resolved_by ?? null });

/** The list's page and count statements (SQL and parameters), shared with the benchmark's EXPLAIN. */
export function anomalyListSql(tenantId: string, f: AnomalyFilter & Page & { sortByScore?: 'asc' | 'desc' }) {
  const { where, params } = whereOf(tenantId, f);
  const order = f.sortByScore ? `i.max_score ${f.sortByScore}, i.id ${f.sortByScore}` : 'i.occurred_at desc, i.id desc';
  const page: [string, unknown[]] = [
    `select i.id, i.category, i.max_score, i.connector_id, st.station_id, i.evse_id, s.session_id, i.occurred_at, i.updated_at,
            i.first_detected_at, i.last_detected_at, i.status, i.resolved_by, m.email as assignee_email,
            ${issueIsRecurringSql('i')} as is_recurring, ${issueIsIncidentSql('i')} as is_incident
       from (select i.id from anomaly_issues i where ${where} order by ${order} limit ? offset ?) p
       join anomaly_issues i on i.id = p.id
       join charging_sessions s on s.id = i.session_id
       join charging_stations st on st.id = i.station_id
       left join members m on m.id = i.assignee_member_id
      order by ${order}`,
    [...params, f.pageSize, (f.page - 1) * f.pageSize],
  ];
  const count: [string, unknown[]] = [`select count(*)::int as n from anomaly_issues i where ${where}`, params];
  return { page, count };
}

/** A page of anomalies: newest occurrence first, or by score (`sortByScore`), ties by id. */
export async function listAnomalies(
  em: EntityManager,
  tenantId: string,
  f: AnomalyFilter & Page & { sortByScore?: 'asc' | 'desc' },
  meMemberId: string | null,
): Promise<{ items: AnomalyItem[]; total: number }> {
  const assigneeIds = f.assignedTo?.length ? await assigneeIdsOf(em, tenantId, f.assignedTo, meMemberId) : undefined;
  const q = anomalyListSql(tenantId, { ...f, assigneeIds });
  const [rows, [count]] = await Promise.all([sql(em, ...q.page), sql(em, ...q.count)]);
  const items = rows.map(
    (r): AnomalyItem => ({
      id: r.id,
      anomalyType: r.category,
      anomalyTypeId: typeIdOf(r.category),
      aiRiskScore: r.max_score,
      connectorId: r.connector_id,
      chargingPointId: r.station_id,
      ocppChargingStationId: r.station_id,
      evseId: r.evse_id,
      chargingSessionId: r.session_id,
      dateOfAnomalyOccurrence: toDate(r.occurred_at),
      dateOfLastUpdate: toDate(r.updated_at),
      firstDetectedAt: toDate(r.first_detected_at),
      lastDetectedAt: toDate(r.last_detected_at),
      isRecurring: r.is_recurring,
      isIncident: r.is_incident,
      issues: [issueRef(r)],
    }),
  );
  return { items, total: count.n };
}

/** Timestamps come from pg as text or Date depending on the column's type parser. */
export const toDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));

export interface TypeCount {
  anomalyType: string;
  anomalyTypeId: string;
  count: number;
}

type ConnectorFilter = Pick<AnomalyFilter, 'connectorId' | 'anomalyType' | 'occurrenceFrom' | 'occurrenceTo'> & Page & { sortBy?: 'count_asc' | 'count_desc' };
type SessionFilter = Pick<AnomalyFilter, 'anomalyType' | 'chargingSessionId' | 'occurrenceFrom' | 'occurrenceTo'> & Page & {
  sortBy?: 'score_asc' | 'score_desc' | 'count_asc' | 'count_desc';
};

/** The connector aggregation's page of groups (with the total number of groups), shared with the benchmark. */
export function connectorGroupsSql(tenantId: string, f: ConnectorFilter): [string, unknown[]] {
  const { where, params } = whereOf(tenantId, f);
  const dir = f.sortBy === 'count_asc' ? 'asc' : 'desc';
  return [
    `select g.station_id, g.connector_id, g.n, count(*) over ()::int as total
       from (select i.station_id, i.connector_id, count(*)::int as n from anomaly_issues i where ${where} group by i.station_id, i.connector_id) g
      order by g.n ${dir}, g.station_id, g.connector_id nulls first limit ? offset ?`,
    [...params, f.pageSize, (f.page - 1) * f.pageSize],
  ];
}

/**
 * The session aggregation's page of groups and their total count, shared with the benchmark.
 * Without filters it reads the per-session rollup through its sort indexes (every anomalous
 * session of the tenant, sorted by an aggregate); with filters it groups the matching issues.
 */
export function sessionGroupsSql(tenantId: string, f: SessionFilter): { page: [string, unknown[]]; count: [string, unknown[]] | null } {
  const [key, dir] = (f.sortBy ?? 'score_desc').split('_') as ['score' | 'count', 'asc' | 'desc'];
  const order = key === 'score' ? `score ${dir}, n ${dir}, session_id ${dir}` : `n ${dir}, score ${dir}, session_id ${dir}`;
  const limit = [f.pageSize, (f.page - 1) * f.pageSize];
  if (!f.anomalyType?.length && f.chargingSessionId === undefined && f.occurrenceFrom === undefined && f.occurrenceTo === undefined) {
    const columns = key === 'score' ? 'r.max_score, r.issue_count, r.session_id' : 'r.issue_count, r.max_score, r.session_id';
    return {
      page: [
        `select r.session_id, r.issue_count as n, r.max_score as score, r.first_occurred_at as first_occurred, r.last_update_at as last_update, r.categories as types
           from anomaly_session_rollups r where r.tenant_id = ?
          order by ${columns.split(', ').map((c) => `${c} ${dir}`).join(', ')} limit ? offset ?`,
        [tenantId, ...limit],
      ],
      count: ['select count(*)::int as total from anomaly_session_rollups r where r.tenant_id = ?', [tenantId]],
    };
  }
  const { where, params } = whereOf(tenantId, f);
  return {
    page: [
      `select g.session_id, g.n, g.score, g.first_occurred, g.last_update, g.types, count(*) over ()::int as total
         from (select i.session_id, count(*)::int as n, max(i.max_score) as score, min(i.occurred_at) as first_occurred, max(i.updated_at) as last_update,
                      array_agg(i.category order by i.category) as types
                 from anomaly_issues i where ${where} group by i.session_id) g
        order by ${order.replace(/\b(score|n|session_id)\b/g, 'g.$1')} limit ? offset ?`,
      [...params, ...limit],
    ],
    count: null,
  };
}

export interface ConnectorItem {
  id: string;
  connectorId: string | null;
  anomalyCount: number;
  chargingPointId: string;
  evseId: string | null;
  detectionDate: Date;
  lastUpdate: Date;
  anomalyTypes: TypeCount[];
}

/**
 * Connectors with anomalies (a session without a connector id counts for its station's unnamed
 * connector, `connectorId` null), by anomaly count. The page's groups are found first, then only
 * their details are read.
 */
export async function listAnomalyConnectors(
  em: EntityManager,
  tenantId: string,
  f: ConnectorFilter,
): Promise<{ items: ConnectorItem[]; total: number }> {
  const { where, params } = whereOf(tenantId, f);
  const groups = await sql(em, ...connectorGroupsSql(tenantId, f));
  if (groups.length === 0) return { items: [], total: await countGroups(em, `select distinct i.station_id, i.connector_id from anomaly_issues i where ${where}`, params) };
  const keys = JSON.stringify(groups.map((g) => ({ station_id: g.station_id, connector_id: g.connector_id })));
  const details = await sql(
    em,
    `select k.station_id, k.connector_id, st.station_id as station, c.id as connector_row_id,
            (select json_agg(json_build_object('category', d.category, 'n', d.n) order by d.n desc, d.category)
               from (select i.category, count(*)::int as n from anomaly_issues i
                      where ${where} and i.station_id = k.station_id and i.connector_id is not distinct from k.connector_id
                      group by i.category) d) as types,
            a.first_occurred, a.last_update, a.evse_id
       from jsonb_to_recordset(?::jsonb) as k(station_id uuid, connector_id text)
       join charging_stations st on st.id = k.station_id
       left join connectors c on c.station_id = k.station_id and c.connector_id = k.connector_id
       cross join lateral (select min(i.occurred_at) as first_occurred, max(i.updated_at) as last_update, max(i.evse_id) as evse_id
                             from anomaly_issues i
                            where ${where} and i.station_id = k.station_id and i.connector_id is not distinct from k.connector_id) a`,
    [...params, keys, ...params],
  );
  const byKey = new Map(details.map((d) => [`${d.station_id}|${d.connector_id}`, d]));
  const items = groups.map((g): ConnectorItem => {
    const d = byKey.get(`${g.station_id}|${g.connector_id}`)!;
    return {
      // The connector's row id; a station's unnamed connector has none and takes the station's.
      id: d.connector_row_id ?? g.station_id,
      connectorId: g.connector_id,
      anomalyCount: g.n,
      chargingPointId: d.station,
      evseId: d.evse_id,
      detectionDate: toDate(d.first_occurred),
      lastUpdate: toDate(d.last_update),
      anomalyTypes: typeCounts(d.types),
    };
  });
  return { items, total: groups[0].total };
}

const typeCounts = (types: { category: string; n: number }[] | null): TypeCount[] =>
  (types ?? []).map((t) => ({ anomalyType: t.category, anomalyTypeId: typeIdOf(t.category), count: t.n }));

async function countGroups(em: EntityManager, groupsSql: string, params: unknown[]): Promise<number> {
  const [row] = await sql(em, `select count(*)::int as n from (${groupsSql}) g`, params);
  return row.n;
}

export interface SessionItem {
  id: string;
  chargingSessionId: string;
  anomalyCount: number;
  detectionDate: Date;
  lastUpdate: Date;
  aiRiskScore: number;
  anomalyTypes: TypeCount[];
}

/** Sessions with anomalies, by highest score (default) or by count. */
export async function listAnomalySessions(
  em: EntityManager,
  tenantId: string,
  f: SessionFilter,
): Promise<{ items: SessionItem[]; total: number }> {
  const q = sessionGroupsSql(tenantId, f);
  const [groups, counted] = await Promise.all([sql(em, ...q.page), q.count ? sql(em, ...q.count) : Promise.resolve(null)]);
  let total: number = counted ? counted[0].total : groups[0]?.total;
  if (total === undefined) {
    // Past the last page of a filtered aggregation: the window count came with no row.
    const { where, params } = whereOf(tenantId, f);
    total = await countGroups(em, `select distinct i.session_id from anomaly_issues i where ${where}`, params);
  }
  if (groups.length === 0) return { items: [], total };
  const names = await sql(em, 'select id, session_id from charging_sessions where tenant_id = ? and id = any(?::uuid[])', [tenantId, pgArray(groups.map((g) => g.session_id))]);
  const clientId = new Map(names.map((n) => [n.id as string, n.session_id as string]));
  const items = groups.map(
    (g): SessionItem => ({
      id: g.session_id,
      chargingSessionId: clientId.get(g.session_id)!,
      anomalyCount: g.n,
      detectionDate: toDate(g.first_occurred),
      lastUpdate: toDate(g.last_update),
      aiRiskScore: g.score,
      // One issue per (session, category): each type counts once.
      anomalyTypes: (g.types as string[]).map((c) => ({ anomalyType: c, anomalyTypeId: typeIdOf(c), count: 1 })),
    }),
  );
  return { items, total };
}

export interface MeterPoint {
  timestamp: Date;
  energy: number | null;
  stateOfCharge: number | null;
  power: number | null;
}

export interface AnomalyDetail {
  sessionId: string;
  clientId: string;
  connectorId: string | null;
  chargingPointId: string;
  ocppChargingStationId: string;
  evseId: string | null;
  detectionLevel: 'SESSION';
  meterValues: MeterPoint[];
  currentRiskScore: number;
  firstDetectionDate: Date;
  lastUpdateDate: Date;
  anomalyCategory: { id: string; name: string; description: string; maxScore: number };
  riskScoreTimeline: { timestamp: Date; riskScore: number }[];
  anomalyPeriod: { start: Date; end: Date } | null;
  anomalyPeriods: { start: Date; end: Date }[];
  isRecurring: boolean;
  isIncident: boolean;
  issues: (IssueRef & { history: IssueHistoryEntry[] })[];
}

/**
 * One session's anomaly of one category: its readings as energy (kWh), SoC (%) and power (kW)
 * points after OCPP normalisation, the category's ranges in the latest analysis and its issue.
 */
export async function anomalyDetail(em: EntityManager, tenantId: string, sessionId: string, categoryIdOrName: string): Promise<AnomalyDetail> {
  const category = categoryOf(categoryIdOrName);
  const [row] = await sql(
    em,
    `select s.id as session_db_id, s.session_id, s.connector_id, s.evse_id, st.station_id, s.analysis_window,
            i.id, i.status, i.resolved_by, i.max_score, i.first_detected_at, i.updated_at, m.email as assignee_email,
            ${issueIsRecurringSql('i')} as is_recurring, ${issueIsIncidentSql('i')} as is_incident
       from charging_sessions s
       join charging_stations st on st.id = s.station_id
       left join anomaly_issues i on i.session_id = s.id and i.category = ?
       left join members m on m.id = i.assignee_member_id
      where s.tenant_id = ? and s.session_id = ?`,
    [category?.name ?? '', tenantId, sessionId],
  );
  if (!row) throw notFound('Session');
  if (!category || !row.id) throw notFound('Anomaly of this category on this session');
  const ranges = await sql(
    em,
    `select start_timestamp, end_timestamp, score from session_anomalies
      where tenant_id = ? and session_id = ? and category = ? order by start_timestamp`,
    [tenantId, row.session_db_id, category.name],
  );
  const readings = (await loadReadingsOf(em, tenantId, [row.session_db_id])).get(row.session_db_id) ?? [];
  const periods = ranges.map((r) => ({ start: toDate(r.start_timestamp), end: toDate(r.end_timestamp) }));
  return {
    sessionId: row.session_id,
    clientId: tenantId,
    connectorId: row.connector_id,
    chargingPointId: row.station_id,
    ocppChargingStationId: row.station_id,
    evseId: row.evse_id,
    detectionLevel: 'SESSION',
    meterValues: meterPoints(readings),
    currentRiskScore: ranges.reduce((m, r) => Math.max(m, r.score as number), 0),
    firstDetectionDate: toDate(row.first_detected_at),
    lastUpdateDate: toDate(row.updated_at),
    anomalyCategory: { id: String(category.id), name: category.name, description: category.description, maxScore: row.max_score },
    riskScoreTimeline: timeline(row.analysis_window, periods, ranges.map((r) => r.score as number)),
    anomalyPeriod: periods.length ? { start: periods[0].start, end: new Date(Math.max(...periods.map((p) => p.end.getTime()))) } : null,
    anomalyPeriods: periods,
    isRecurring: row.is_recurring,
    isIncident: row.is_incident,
    issues: [{ ...issueRef(row), history: await historyOf(em, tenantId, row.id) }],
  };
}

/** Normalised readings merged per instant (a measurand missing at an instant is null there). */
function meterPoints(readings: Parameters<typeof normalise>[0]): MeterPoint[] {
  if (readings.length === 0) return [];
  const n = normalise(readings);
  const byT = new Map<number, MeterPoint>();
  const put = (t: number, field: 'energy' | 'stateOfCharge' | 'power', v: number) => {
    let p = byT.get(t);
    if (!p) byT.set(t, (p = { timestamp: new Date(t), energy: null, stateOfCharge: null, power: null }));
    p[field] = v;
  };
  n.energy.t.forEach((t, k) => put(t, 'energy', n.energy.v[k]));
  n.soc.t.forEach((t, k) => put(t, 'stateOfCharge', n.soc.v[k]));
  n.power.t.forEach((t, k) => put(t, 'power', n.power.v[k]));
  return [...byT.values()].sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime());
}

/**
 * The category's risk score over the analysis window, as the latest analysis reported it: a step
 * function, 0 outside the category's ranges and the range's score inside (the detector scores
 * ranges, not single instants).
 */
function timeline(window: { t0: string; tEnd: string } | null, periods: { start: Date; end: Date }[], scores: number[]): { timestamp: Date; riskScore: number }[] {
  const out: { timestamp: Date; riskScore: number }[] = [];
  if (window) out.push({ timestamp: new Date(window.t0), riskScore: 0 });
  periods.forEach((p, k) => {
    out.push({ timestamp: p.start, riskScore: scores[k] });
    out.push({ timestamp: p.end, riskScore: 0 });
  });
  if (window && (periods.length === 0 || new Date(window.tEnd) > periods[periods.length - 1].end)) out.push({ timestamp: new Date(window.tEnd), riskScore: 0 });
  // Same instant twice (a range starting where the window does): the later value holds.
  return out.filter((p, k) => k === out.length - 1 || out[k + 1].timestamp.getTime() !== p.timestamp.getTime());
}
