// The station endpoints' reads. Stations are addressed by the client's id (`chargingStationId`);
// every query is filtered by tenant, so another tenant's station is a 404. Energy and the SHADE
// overview read the rollups (domain/stations/rollups.ts), never raw readings.
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/sql';
import { isoUtc } from '../analysis/window';
import { notFound } from '../errors';
import { dayMinutesOf } from './rollups';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** The energy endpoint's window: this many hours ending at `dateTo`. */
export const ENERGY_WINDOW_HOURS = 7 * 24;

const kwh = (wh: number) => Math.round(wh) / 1000;
const iso = (t: number | Date) => isoUtc(new Date(t).getTime());

export interface StationRow {
  id: string;
  stationId: string;
}

/** The tenant's station with this client id, or a 404. */
export async function findStation(em: EntityManager, tenantId: string, chargingStationId: string): Promise<StationRow> {
  const rows = await sql(em, 'select id, station_id from charging_stations where tenant_id = ? and station_id = ?', [tenantId, chargingStationId]);
  if (rows.length === 0) throw notFound('Station');
  return { id: rows[0].id, stationId: rows[0].station_id };
}

export interface StationListQuery {
  page: number;
  pageSize: number;
  ocppChargingStationId?: string;
  occurrenceFrom?: string;
  occurrenceTo?: string;
  sortByAnomalies?: 'asc' | 'desc';
  sortByScore?: 'asc' | 'desc';
}

/** Stations with their anomalous-session count, highest session score and latest anomalous session. */
export async function listStations(em: EntityManager, tenantId: string, q: StationListQuery) {
  const where: string[] = [];
  const params: unknown[] = [tenantId];
  let stationFilter = '';
  if (q.ocppChargingStationId !== undefined) {
    stationFilter = 'and c.station_id = ?';
    params.push(q.ocppChargingStationId);
  }
  if (q.occurrenceFrom) {
    where.push('last_anomaly >= ?');
    params.push(q.occurrenceFrom);
  }
  if (q.occurrenceTo) {
    where.push('last_anomaly < ?');
    params.push(q.occurrenceTo);
  }
  const order = [
    ...(q.sortByAnomalies ? [`total_anomalies ${q.sortByAnomalies}`] : []),
    ...(q.sortByScore ? [`ai_score ${q.sortByScore} nulls last`] : []),
    'station_id',
    'id',
  ].join(', ');
  // Per station: its anomalous sessions' count, highest score and latest occurrence, read from the
  // anomalous sessions' partial index alone (Migration20261209110000), one station at a time.
  const agg = `select c.id, c.station_id, a.total_anomalies, a.ai_score, a.last_anomaly
                 from charging_stations c
                 cross join lateral (select count(*)::int as total_anomalies, max(s.anomaly_score) as ai_score, max(s.occurrence_at) as last_anomaly
                                       from charging_sessions s where s.tenant_id = c.tenant_id and s.station_id = c.id and s.is_anomaly) a
                where c.tenant_id = ? ${stationFilter}`;
  const filter = where.length ? `where ${where.join(' and ')}` : '';
  const rows = await sql(em, `select *, count(*) over ()::int as total from (${agg}) agg ${filter} order by ${order} limit ? offset ?`, [...params, q.pageSize, (q.page - 1) * q.pageSize]);
  let total = rows[0]?.total ?? 0;
  if (rows.length === 0 && q.page > 1) {
    // Past the last page: the total still counts the matches.
    total = (await sql(em, `select count(*)::int as n from (${agg}) agg ${filter}`, params))[0].n;
  }
  return {
    total: total as number,
    items: rows.map((r) => ({
      id: r.id as string,
      chargingStationId: r.station_id as string,
      ocppChargingStationId: r.station_id as string,
      totalAnomalies: r.total_anomalies as number,
      aiScore: r.ai_score === null ? null : (r.ai_score as number),
      lastAnomalyDate: r.last_anomaly ? iso(r.last_anomaly) : null,
    })),
  };
}

/** Distinct client station ids of the tenant, sorted. */
export async function lookupStations(em: EntityManager, tenantId: string): Promise<string[]> {
  const rows = await sql(em, 'select station_id from charging_stations where tenant_id = ? order by station_id', [tenantId]);
  return rows.map((r) => r.station_id as string);
}

/** Per connector of the station (every connector it has had): sessions and anomalous sessions, in connector order. */
async function connectorCounts(em: EntityManager, tenantId: string, station: StationRow) {
  const counts = await sql(
    em,
    `with k as (select connector_id from connectors where tenant_id = ? and station_id = ?
                union select connector_id from charging_sessions where tenant_id = ? and station_id = ? and connector_id is not null)
     select k.connector_id, count(s.id)::int as total, count(s.id) filter (where s.is_anomaly)::int as anomalous
       from k left join charging_sessions s on s.tenant_id = ? and s.station_id = ? and s.connector_id = k.connector_id
      group by k.connector_id`,
    [tenantId, station.id, tenantId, station.id, tenantId, station.id],
  );
  return counts
    .map((c) => ({ connectorId: c.connector_id as string, totalSessions: c.total as number, anomalousSessions: c.anomalous as number }))
    .sort((a, b) => a.connectorId.localeCompare(b.connectorId, 'en', { numeric: true }));
}

/** Per connector: sessions, anomalous sessions, and sessions per anomaly category. */
export async function stationConnectors(em: EntityManager, tenantId: string, station: StationRow) {
  const [counts, categories] = await Promise.all([
    connectorCounts(em, tenantId, station),
    sql(
      em,
      `select s.connector_id, a.category, count(distinct s.id)::int as n
         from charging_sessions s join session_anomalies a on a.session_id = s.id and a.tenant_id = s.tenant_id
        where s.tenant_id = ? and s.station_id = ? and s.connector_id is not null
        group by s.connector_id, a.category order by a.category`,
      [tenantId, station.id],
    ),
  ]);
  return counts.map((c) => ({
    ...c,
    anomalyCategories: Object.fromEntries(categories.filter((k) => k.connector_id === c.connectorId).map((k) => [k.category as string, k.n as number])),
  }));
}

export async function stationDetail(em: EntityManager, tenantId: string, station: StationRow) {
  const connectors = await connectorCounts(em, tenantId, station);
  const totals = await sql(
    em,
    'select count(*)::int as total, count(*) filter (where is_anomaly)::int as anomalous from charging_sessions where tenant_id = ? and station_id = ?',
    [tenantId, station.id],
  );
  return {
    chargingStationId: station.stationId,
    totalSessions: totals[0].total as number,
    anomalousSessions: totals[0].anomalous as number,
    connectors,
    // Nothing in the API carries station metadata (sessions have only their own), so there is none.
    metadata: null,
  };
}

interface InferenceRow {
  id: string;
  day: string;
  model_version: string;
  is_anomaly: boolean;
  anomaly_score: number;
  day_score: number;
  detection_details: Record<string, any>;
  markers: { startMinute: number; score: number }[];
  analyzed_at: Date;
  day_start: Date;
  minutes: number;
}

const INFERENCE_COLUMNS = `id, day::text as day, model_version, is_anomaly, anomaly_score, day_score, detection_details, markers, analyzed_at, day_start, minutes`;

export function presentInference(station: StationRow, r: InferenceRow) {
  return {
    inferenceId: r.id,
    chargingStationId: station.stationId,
    isAnomaly: r.is_anomaly,
    anomalyScore: r.anomaly_score,
    dayScore: r.day_score,
    day: r.day,
    modelVersion: r.model_version,
    detectionDetails: r.detection_details,
    analyzedAt: iso(r.analyzed_at),
  };
}

/** The latest SHADE result of a station (latest day, then latest run), or a 404 when there is none. */
export async function latestInference(em: EntityManager, tenantId: string, station: StationRow, day?: string): Promise<InferenceRow> {
  const rows = await sql(
    em,
    `select ${INFERENCE_COLUMNS} from station_inferences where tenant_id = ? and station_id = ? ${day ? 'and day = ?' : ''}
      order by day desc, analyzed_at desc limit 1`,
    day ? [tenantId, station.id, day] : [tenantId, station.id],
  );
  if (rows.length === 0) throw notFound(day ? `SHADE result for ${day}` : 'SHADE result');
  return rows[0] as InferenceRow;
}

export async function listInferences(em: EntityManager, tenantId: string, station: StationRow, p: { page: number; pageSize: number }) {
  const [rows, count] = await Promise.all([
    sql(em, `select ${INFERENCE_COLUMNS} from station_inferences where tenant_id = ? and station_id = ? order by day desc, analyzed_at desc, id limit ? offset ?`, [
      tenantId,
      station.id,
      p.pageSize,
      (p.page - 1) * p.pageSize,
    ]),
    sql(em, 'select count(*)::int as n from station_inferences where tenant_id = ? and station_id = ?', [tenantId, station.id]),
  ]);
  return { total: count[0].n as number, items: (rows as InferenceRow[]).map((r) => presentInference(station, r)) };
}

/** Where each finding of an anomalous result starts (UTC), from its findings, else its first marker, else its day. */
function occurrencesOf(r: InferenceRow): number[] {
  const start = new Date(r.day_start).getTime();
  const findings = (r.detection_details?.findings ?? []) as { start_minute: number }[];
  if (findings.length > 0) return findings.map((f) => start + f.start_minute * MINUTE_MS);
  if (r.markers.length > 0) return [start + r.markers[0].startMinute * MINUTE_MS];
  return [start];
}

/**
 * Hourly energy of the station and of each connector over `ENERGY_WINDOW_HOURS` hours ending at
 * `dateTo` (exclusive, rounded up to the hour). Without `dateTo` the window ends at the end of the
 * `anomalyId` result's day, or else after the station's last hour with energy (now, when it has
 * none). Every hour of the window is listed (zeros included). `anomalyOccurrences`: the starts of
 * the findings of anomalous SHADE results within the window (with `anomalyId`: that result's).
 */
export async function stationEnergy(em: EntityManager, tenantId: string, station: StationRow, q: { dateTo?: string; anomalyId?: string }) {
  let anomaly: InferenceRow | undefined;
  if (q.anomalyId) {
    const rows = await sql(em, `select ${INFERENCE_COLUMNS} from station_inferences where tenant_id = ? and station_id = ? and id = ?`, [tenantId, station.id, q.anomalyId]);
    if (rows.length === 0) throw notFound('SHADE result');
    anomaly = rows[0] as InferenceRow;
  }
  let end: number;
  if (q.dateTo) end = Math.ceil(Date.parse(q.dateTo) / HOUR_MS) * HOUR_MS;
  else if (anomaly) end = Math.ceil((new Date(anomaly.day_start).getTime() + anomaly.minutes * MINUTE_MS) / HOUR_MS) * HOUR_MS;
  else {
    const last = await sql(em, 'select hour from station_hourly_energy where station_id = ? and tenant_id = ? and energy_wh > 0 order by hour desc limit 1', [station.id, tenantId]);
    end = last.length > 0 ? new Date(last[0].hour).getTime() + HOUR_MS : Math.ceil(Date.now() / HOUR_MS) * HOUR_MS;
  }
  const start = end - ENERGY_WINDOW_HOURS * HOUR_MS;
  const [hours, inferences] = await Promise.all([
    sql(
      em,
      `select connector_id, (extract(epoch from hour) * 1000)::float8 as t, energy_wh from station_hourly_energy
        where station_id = ? and tenant_id = ? and hour >= ? and hour < ?`,
      [station.id, tenantId, new Date(start).toISOString(), new Date(end).toISOString()],
    ),
    anomaly
      ? Promise.resolve([anomaly])
      : sql(
          em,
          `select ${INFERENCE_COLUMNS} from station_inferences
            where tenant_id = ? and station_id = ? and is_anomaly and day_start < ? and day_start + minutes * interval '1 minute' > ?
            order by day_start`,
          [tenantId, station.id, new Date(end).toISOString(), new Date(start).toISOString()],
        ),
  ]);
  const station_ = new Array<number>(ENERGY_WINDOW_HOURS).fill(0);
  const connectors = new Map<string, number[]>();
  for (const h of hours) {
    const i = Math.round((h.t - start) / HOUR_MS);
    if (i < 0 || i >= ENERGY_WINDOW_HOURS) continue;
    const wh = Math.max(0, h.energy_wh as number);
    station_[i] += wh;
    let c = connectors.get(h.connector_id);
    if (!c) connectors.set(h.connector_id, (c = new Array<number>(ENERGY_WINDOW_HOURS).fill(0)));
    c[i] += wh;
  }
  const series = (whs: number[]) => whs.map((wh, i) => ({ timestamp: iso(start + i * HOUR_MS), energy: kwh(wh) }));
  const occurrences = (inferences as InferenceRow[])
    .flatMap(occurrencesOf)
    .filter((t) => t >= start && t < end)
    .sort((a, b) => a - b);
  return {
    chargingStationId: station.stationId,
    dateFrom: iso(start),
    dateTo: iso(end),
    energyDelivered: kwh(station_.reduce((a, b) => a + b, 0)),
    energyConsumptionStation: series(station_),
    energyConsumptionConnectors: [...connectors.entries()]
      .sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }))
      .map(([connectorId, whs]) => ({ connectorId, energy: series(whs) })),
    anomalyOccurrences: [...new Set(occurrences)].map((t) => iso(t)),
  };
}

/**
 * The SHADE overview of a station's latest analysed day (or of `day`): the cumulative kWh at the
 * start of every minute of the local day and at its end (from the per-minute rollup), the result's
 * markers with their instants, and the day's score.
 */
export async function shadeOverview(em: EntityManager, tenantId: string, station: StationRow, day?: string) {
  const r = await latestInference(em, tenantId, station, day);
  const dayStart = new Date(r.day_start).getTime();
  const perMinute = new Array<number>(r.minutes).fill(0);
  for (const row of await dayMinutesOf(em, tenantId, [station.id], dayStart, r.minutes, false)) {
    for (let i = row.from; i < row.to; i++) perMinute[row.offset + i] += row.energyWh[i];
  }
  let sum = 0;
  const energyTimeline = [{ timestamp: iso(dayStart), cumulativeKwh: 0 }];
  for (let m = 0; m < r.minutes; m++) {
    sum += perMinute[m];
    energyTimeline.push({ timestamp: iso(dayStart + (m + 1) * MINUTE_MS), cumulativeKwh: kwh(sum) });
  }
  return {
    chargingStationId: station.stationId,
    inferenceId: r.id,
    day: r.day,
    dayScore: r.day_score,
    isAnomaly: r.is_anomaly,
    energyTimeline,
    anomalyMarkers: r.markers.map((m) => ({ startMinute: m.startMinute, timestamp: iso(dayStart + m.startMinute * MINUTE_MS), score: m.score })),
    analyzedAt: iso(r.analyzed_at),
  };
}
