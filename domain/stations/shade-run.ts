// A tenant-day SHADE run, on the domain side: which stations and which day (the organization's
// time zone), the detector's inputs built from the rollups (never from raw readings), and the
// results stored per (station, day, model version) with their webhook events in one transaction.
// The workflow (workflows/shade/) calls these through thin activities; the detector is injected.
import type { EntityManager } from '@mikro-orm/postgresql';
import { pgArray, sql } from '../../db/sql';
import type { ConnectorDay, HistoryDay, ShadeDetector, StationDayInput, StationDayResult } from '../shade/types';
import { stationAnomalyEvents } from '../webhooks/events';
import { addDays, localDay, previousLocalDay, type LocalDay } from './local-day';
import { dayMinutesOf } from './rollups';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** How much of a station's history the detector sees (the contract's maximum). */
export const HISTORY_DAYS = 56;

export async function organizationTimeZone(em: EntityManager, tenantId: string): Promise<string> {
  const rows = await sql(em, 'select time_zone from organizations where tenant_id = ? limit 1', [tenantId]);
  return (rows[0]?.time_zone as string | undefined) ?? 'UTC';
}

export interface ShadePlan {
  day: string;
  timeZone: string;
  /** How many stations have energy in the day or its history window. */
  stations: number;
  /**
   * Those stations in id order, cut into chunks: the first id of each. A chunk holds the stations
   * from its first id up to the next chunk's (ids, not the ids themselves, go into the workflow's
   * history, whose events have a size limit a list of every station would pass).
   */
  chunkStarts: string[];
}

/** The plan of runs that started before chunk ranges: the stations' ids themselves. */
export interface ShadeIdPlan {
  day: string;
  timeZone: string;
  stationIds: string[];
}

/** Stations of the tenant with energy in the day or the 8 weeks before it (the detector's window). */
const WITH_ENERGY = `c.tenant_id = ? and exists (select 1 from station_hourly_energy h where h.station_id = c.id and h.hour >= ? and h.hour < ?)`;
const energyWindow = (d: LocalDay) => [new Date(d.start - HISTORY_DAYS * 86_400_000 - 2 * HOUR_MS).toISOString(), new Date(d.start + d.minutes * MINUTE_MS).toISOString()];

/**
 * What a run analyses: `day` when given (a backfill or a manual run), else the local day before
 * `scheduledAt` (the schedule fires shortly after local midnight). Stations without any energy in
 * the day or the 8 weeks before it have nothing to compare and are left out. Without `chunkSize`,
 * the plan of a run that started before chunk ranges (its workflow code asks for the ids).
 */
export async function planShadeRun(em: EntityManager, tenantId: string, opts: { day?: string; scheduledAt?: string; chunkSize: number }): Promise<ShadePlan>;
export async function planShadeRun(em: EntityManager, tenantId: string, opts: { day?: string; scheduledAt?: string }): Promise<ShadeIdPlan>;
export async function planShadeRun(em: EntityManager, tenantId: string, opts: { day?: string; scheduledAt?: string; chunkSize?: number }): Promise<ShadePlan | ShadeIdPlan>;
export async function planShadeRun(em: EntityManager, tenantId: string, opts: { day?: string; scheduledAt?: string; chunkSize?: number }): Promise<ShadePlan | ShadeIdPlan> {
  const timeZone = await organizationTimeZone(em, tenantId);
  const day = opts.day ?? previousLocalDay(opts.scheduledAt ? Date.parse(opts.scheduledAt) : Date.now(), timeZone);
  const window = energyWindow(localDay(day, timeZone));
  if (opts.chunkSize === undefined) {
    const rows = await sql(em, `select c.id from charging_stations c where ${WITH_ENERGY} order by c.id`, [tenantId, ...window]);
    return { day, timeZone, stationIds: rows.map((r) => r.id as string) };
  }
  const rows = await sql(
    em,
    `select id, n from (select c.id, row_number() over (order by c.id) as k, count(*) over () as n from charging_stations c where ${WITH_ENERGY}) s
      where (k - 1) % ? = 0 order by id`,
    [tenantId, ...window, Math.max(1, Math.floor(opts.chunkSize))],
  );
  return { day, timeZone, stations: Number(rows[0]?.n ?? 0), chunkStarts: rows.map((r) => r.id as string) };
}

/** The stations of a chunk: those with energy in the window, from `fromStation` up to `untilStation` (null: to the last). */
export async function stationsOfChunk(em: EntityManager, tenantId: string, d: LocalDay, fromStation: string, untilStation: string | null): Promise<string[]> {
  const rows = await sql(
    em,
    `select c.id from charging_stations c where ${WITH_ENERGY} and c.id >= ? and (?::uuid is null or c.id < ?::uuid) order by c.id`,
    [tenantId, ...energyWindow(d), fromStation, untilStation, untilStation],
  );
  return rows.map((r) => r.id as string);
}

/** The detector's inputs for these stations and day, from the rollups. */
export async function buildStationDays(em: EntityManager, tenantId: string, d: LocalDay, timeZone: string, stationIds: string[]): Promise<StationDayInput[]> {
  if (stationIds.length === 0) return [];
  const ids = pgArray(stationIds);
  const [connectors, minuteRows, historyRows] = await Promise.all([
    sql(em, 'select station_id, connector_id from unnest(?::uuid[]) as k(id) join connectors on station_id = k.id where tenant_id = ?', [ids, tenantId]),
    dayMinutesOf(em, tenantId, stationIds, d.start, d.minutes, true),
    // Station totals per UTC hour as one text per station of integer triples (hours since the epoch,
    // Wh, session starts; integers print and parse several times faster than floats or JSON):
    // binned into local days and hours below. Joined from the id list so that each station is one
    // range of the primary key (a filter `= any(…)` made the planner scan the table).
    sql(
      em,
      `select station_id, string_agg((date_part('epoch', hour) / 3600)::int || ' ' || round(energy_wh)::bigint || ' ' || session_starts, ' ') as hours
         from unnest(?::uuid[]) as k(id) join station_hourly_energy on station_id = k.id
        where tenant_id = ? and hour >= ? and hour < ?
        group by station_id`,
      [ids, tenantId, energyWindow(d)[0], new Date(d.start).toISOString()],
    ),
  ]);

  const byStation = new Map<string, Map<string, ConnectorDay>>(stationIds.map((id) => [id, new Map()]));
  const connectorOf = (stationId: string, connectorId: string) => {
    const m = byStation.get(stationId)!;
    let c = m.get(connectorId);
    if (!c) {
      c = { connectorId, energyWh: new Array(d.minutes).fill(0), powerWh: new Array(d.minutes).fill(null), sessions: [] };
      m.set(connectorId, c);
    }
    return c;
  };
  for (const r of connectors) connectorOf(r.station_id, r.connector_id);
  for (const r of minuteRows) {
    const c = connectorOf(r.stationId, r.connectorId);
    const p = r.powerWh!;
    let wh = 0;
    for (let i = r.from; i < r.to; i++) {
      const m = r.offset + i;
      c.energyWh[m] += r.energyWh[i];
      wh += r.energyWh[i];
      if (p[i] !== null) c.powerWh[m] = (c.powerWh[m] ?? 0) + p[i]!;
    }
    // Minutes clipped to the day, the end inclusive (as the rules, the profile and the simulator read them).
    if (r.from < r.to) {
      c.sessions.push({ startMinute: r.offset + r.from, endMinute: r.offset + r.to - 1, energyWh: wh, startedBefore: r.offset < 0, endsAfter: r.offset + r.energyWh.length > d.minutes });
    }
  }

  // History: every local day from the station's oldest day with energy in the window up to the day
  // before, newest first; a UTC hour goes to the local day and hour it starts in.
  const days = Array.from({ length: HISTORY_DAYS }, (_, i) => localDay(addDays(d.day, -(i + 1)), timeZone));
  const history = new Map<string, string>(historyRows.map((r) => [r.station_id as string, r.hours as string]));
  const inDay = (t: number, i: number) => i >= 0 && i < days.length && t >= days[i].start && t < days[i].start + days[i].minutes * MINUTE_MS;
  // Days are about 24 h long (23/25 on DST days): the guess is right or one off.
  const dayIndex = (t: number) => {
    const guess = Math.floor((d.start - 1 - t) / 86_400_000);
    return [guess, guess - 1, guess + 1].find((i) => inDay(t, i)) ?? -1;
  };
  return stationIds.map((stationId) => {
    const text = history.get(stationId);
    const bins = days.map((x) => ({ hourlyWh: new Array<number>(Math.round(x.minutes / 60)).fill(0), sessionStarts: new Array<number>(Math.round(x.minutes / 60)).fill(0)}));
    let oldest = -1;
    const v = text ? text.split(' ').map(Number) : [];
    for (let k = 0; k + 2 < v.length; k += 3) {
      const [t, wh, starts] = [v[k] * HOUR_MS, v[k + 1], v[k + 2]];
      const i = dayIndex(t);
      if (i < 0) continue;
      const h = Math.floor((t - days[i].start) / HOUR_MS);
      if (h >= bins[i].hourlyWh.length) continue;
      bins[i].hourlyWh[h] += Math.max(0, wh);
      bins[i].sessionStarts[h] += Math.max(0, starts);
      if (wh > 0 || starts > 0) oldest = Math.max(oldest, i);
    }
    const historyDays: HistoryDay[] = days.slice(0, oldest + 1).map((x, i) => ({ day: x.day, weekday: x.weekday, hourlyWh: bins[i].hourlyWh, sessionStarts: bins[i].sessionStarts }));
    const cs = [...byStation.get(stationId)!.values()].sort((a, b) => a.connectorId.localeCompare(b.connectorId, 'en', { numeric: true }));
    for (const c of cs) c.sessions.sort((a, b) => a.startMinute - b.startMinute);
    return { stationKey: stationId, day: d.day, weekday: d.weekday, dayStart: new Date(d.start).toISOString(), minutes: d.minutes, timeZone, connectors: cs, history: historyDays };
  });
}

/**
 * Stores results (one row per station, day and model version; a re-run replaces the row and keeps
 * its id) and writes `station.anomaly_detected` for each result that is anomalous and was not
 * already stored as anomalous, all in one transaction: a retried chunk sends no second event.
 */
export async function storeShadeResults(em: EntityManager, tenantId: string, modelVersion: string, d: LocalDay, results: StationDayResult[]): Promise<{ stored: number; anomalous: number; events: number }> {
  if (results.length === 0) return { stored: 0, anomalous: 0, events: 0 };
  return em.transactional(async (tx) => {
    const before = await sql(
      tx,
      `select station_id, is_anomaly from unnest(?::uuid[]) as k(id) join station_inferences on station_id = k.id and day = ? and model_version = ? where tenant_id = ?`,
      [pgArray(results.map((r) => r.stationKey)), d.day, modelVersion, tenantId],
    );
    const wasAnomalous = new Set(before.filter((r) => r.is_anomaly).map((r) => r.station_id as string));
    const rows = results.map((r) => ({
      station_id: r.stationKey,
      is_anomaly: r.isAnomaly,
      anomaly_score: r.anomalyScore,
      day_score: r.dayScore,
      detection_details: r.detectionDetails,
      markers: r.markers,
    }));
    const stored = await sql(
      tx,
      `insert into station_inferences as i (id, tenant_id, station_id, day, model_version, is_anomaly, anomaly_score, day_score, detection_details, markers, analyzed_at, day_start, minutes)
       select gen_random_uuid(), ?, r.station_id, ?::date, ?, r.is_anomaly, r.anomaly_score, r.day_score, r.detection_details, r.markers, now(), ?, ?
         from jsonb_to_recordset(?::jsonb) as r(station_id uuid, is_anomaly boolean, anomaly_score float8, day_score float8, detection_details jsonb, markers jsonb)
         join charging_stations c on c.id = r.station_id and c.tenant_id = ?
        order by r.station_id
       on conflict (station_id, day, model_version) do update
          set is_anomaly = excluded.is_anomaly, anomaly_score = excluded.anomaly_score, day_score = excluded.day_score,
              detection_details = excluded.detection_details, markers = excluded.markers, analyzed_at = excluded.analyzed_at,
              day_start = excluded.day_start, minutes = excluded.minutes
       returning i.station_id, (select station_id from charging_stations where id = i.station_id) as client_station_id, i.analyzed_at`,
      [tenantId, d.day, modelVersion, new Date(d.start).toISOString(), d.minutes, JSON.stringify(rows), tenantId],
    );
    const byId = new Map(stored.map((s) => [s.station_id as string, s]));
    const events = results.flatMap((r) => {
      const s = byId.get(r.stationKey);
      if (!s || !r.isAnomaly || wasAnomalous.has(r.stationKey)) return [];
      return [{
        chargingStationId: s.client_station_id as string,
        anomalyScore: r.anomalyScore,
        detectionDetails: r.detectionDetails as unknown as Record<string, unknown>,
        analyzedAt: new Date(s.analyzed_at),
      }];
    });
    await stationAnomalyEvents(tx, tenantId, events);
    return { stored: stored.length, anomalous: results.filter((r) => r.isAnomaly).length, events: events.length };
  });
}

/**
 * One chunk of a run: its stations (a range of ids, or the ids of a run that started before chunk
 * ranges), inputs from the rollups, the detector, the results stored. `beat` reports progress.
 */
export async function runShadeChunk(
  em: EntityManager,
  detector: ShadeDetector,
  input: { tenantId: string; day: string; timeZone: string } & ({ stationIds: string[] } | { fromStation: string; untilStation: string | null }),
  beat: (done: number) => void = () => {},
  slice = 100,
): Promise<{ stations: number; stored: number; anomalous: number; events: number }> {
  const d = localDay(input.day, input.timeZone);
  const stationIds = 'stationIds' in input ? input.stationIds : await stationsOfChunk(em.fork(), input.tenantId, d, input.fromStation, input.untilStation);
  const total = { stations: stationIds.length, stored: 0, anomalous: 0, events: 0 };
  for (let i = 0; i < stationIds.length; i += slice) {
    const ids = stationIds.slice(i, i + slice);
    const days = await buildStationDays(em.fork(), input.tenantId, d, input.timeZone, ids);
    const results = await detector.detect(days);
    const r = await storeShadeResults(em.fork(), input.tenantId, detector.modelVersion, d, results);
    total.stored += r.stored;
    total.anomalous += r.anomalous;
    total.events += r.events;
    beat(i + ids.length);
  }
  return total;
}
