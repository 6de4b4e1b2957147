// Station rollups, kept as sessions are analysed (one call in `analyseAndStore`, so the session
// actor and batch chunks both maintain them): each session's energy per minute, from the register
// and separately from the reported power (meter drift is judged by comparing the two), and the
// energy per (station, connector, UTC hour). The station endpoints and SHADE read these, never a
// year of raw readings.
//
// Replace/append: a session's previous minute row is deleted and its contribution subtracted from
// the hourly rows before the new one is added, all in the caller's transaction. Hourly rows are
// upserted in key order, so two chunks touching the same station hours wait rather than deadlock.
import type { EntityManager } from '@mikro-orm/postgresql';
import { normalise } from '../analysis/normalise';
import type { Series, StoredMeterValue } from '../analysis/types';
import { pgArray, sql } from '../../db/sql';
import { registerSteps } from '../statistics/session-energy';

const MINUTE_MS = 60_000;
/** A session's rollup covers at most its first 3 days (longer spans are not charging sessions). */
export const MAX_SESSION_MINUTES = 3 * 24 * 60;
/** Reported power is held between readings at most this far apart; wider gaps have no power energy. */
const MAX_POWER_GAP_MS = 15 * MINUTE_MS;

/**
 * The SQL expression that reads a stored per-minute array as text (`1.5,0,,2`; empty = null), and
 * its parser: node-pg's array parser costs several µs per element, splitting text a fraction.
 */
export const minutesText = (column: string) => `array_to_string(${column}, ',', '')`;
export function parseMinutes(text: string, length: number): (number | null)[] {
  // '' is an empty array or a single null: the stored length tells.
  if (text === '') return new Array(length).fill(null);
  return text.split(',').map((v) => (v === '' ? null : Number(v)));
}

/** One session's per-minute row placed on a day: its minute i is the day's minute `offset + i`. */
export interface DayMinutes {
  stationId: string;
  connectorId: string;
  offset: number;
  energyWh: number[];
  /** Only when asked for (SHADE reads it, the overview does not). */
  powerWh: (number | null)[] | null;
  /** The row's minutes that fall inside the day: i in [from, to). */
  from: number;
  to: number;
}

/**
 * The per-minute rows of the sessions of these stations that overlap [dayStart, dayStart + minutes)
 * (a session starts at most MAX_SESSION_MINUTES before the day), placed on the day.
 */
export async function dayMinutesOf(em: EntityManager, tenantId: string, stationIds: string[], dayStart: number, minutes: number, withPower: boolean): Promise<DayMinutes[]> {
  const dayEnd = dayStart + minutes * MINUTE_MS;
  const rows = await sql(
    em,
    `select station_id, connector_id, (extract(epoch from start_minute) * 1000)::float8 as start, cardinality(energy_wh) as n,
            ${minutesText('energy_wh')} as energy_wh${withPower ? `, ${minutesText('power_wh')} as power_wh` : ''}
       from unnest(?::uuid[]) as k(id) join station_session_energy on station_id = k.id
      where tenant_id = ? and start_minute >= ? and start_minute < ? and end_minute > ?`,
    [pgArray(stationIds), tenantId, new Date(dayStart - MAX_SESSION_MINUTES * MINUTE_MS).toISOString(), new Date(dayEnd).toISOString(), new Date(dayStart).toISOString()],
  );
  return rows.map((r) => {
    const offset = Math.round((r.start - dayStart) / MINUTE_MS);
    const energyWh = parseMinutes(r.energy_wh, r.n) as number[];
    return {
      stationId: r.station_id,
      connectorId: r.connector_id,
      offset,
      energyWh,
      powerWh: withPower ? parseMinutes(r.power_wh, r.n) : null,
      from: Math.max(0, -offset),
      to: Math.min(energyWh.length, minutes - offset),
    };
  });
}

export interface SessionMinutes {
  startMinute: number;
  /** Wh per minute from the register (from the power when the session has no register). */
  energyWh: number[];
  /** Wh per minute implied by the reported power; null where no power reading covers the minute. */
  powerWh: (number | null)[];
}

/** Spreads `wh` over [a, b) (epoch ms) into the minute bins of `out` (index 0 = `start`). */
function spread(out: number[], start: number, a: number, b: number, wh: number): void {
  if (b <= a) {
    const i = Math.floor((a - start) / MINUTE_MS);
    if (i >= 0 && i < out.length) out[i] += wh;
    return;
  }
  const perMs = wh / (b - a);
  // Only the part of [a, b) that the bins cover (a gap of years must not cost a loop over them).
  const end = Math.min(b, start + out.length * MINUTE_MS);
  for (let t = Math.max(a, start); t < end; ) {
    const i = Math.floor((t - start) / MINUTE_MS);
    const next = Math.min(b, start + (i + 1) * MINUTE_MS);
    if (i >= 0 && i < out.length) out[i] += perMs * (next - t);
    t = next;
  }
}

/** Wh per minute from the power series (trapezoid between readings at most 15 min apart). */
function powerMinutes(power: Series, start: number, n: number): (number | null)[] {
  const wh = new Array<number>(n).fill(0);
  const covered = new Array<boolean>(n).fill(false);
  for (let k = 0; k + 1 < power.t.length; k++) {
    const a = power.t[k];
    const b = power.t[k + 1];
    if (b - a > MAX_POWER_GAP_MS) continue;
    // kW × ms / 3600 = Wh
    spread(wh, start, a, b, (((power.v[k] + power.v[k + 1]) / 2) * (b - a)) / 3600);
    for (let t = a; t < b; t += MINUTE_MS) {
      const i = Math.floor((t - start) / MINUTE_MS);
      if (i >= 0 && i < n) covered[i] = true;
    }
    const last = Math.floor((b - 1 - start) / MINUTE_MS);
    if (last >= 0 && last < n) covered[last] = true;
  }
  return wh.map((v, i) => (covered[i] ? v : null));
}

/**
 * A session's energy per minute from its readings (normalised as the analysis normalises them:
 * units, multipliers, phases, locations), or null when nothing usable spans time. Register steps
 * count as the statistics count them (`registerSteps`) and are spread linearly between readings.
 */
export function sessionMinutes(readings: StoredMeterValue[]): SessionMinutes | null {
  if (readings.length < 2) return null;
  const { energy, power } = normalise(readings);
  const times = [...(energy.t.length > 1 ? [energy.t[0], energy.t[energy.t.length - 1]] : []), ...(power.t.length > 1 ? [power.t[0], power.t[power.t.length - 1]] : [])];
  if (times.length === 0) return null;
  const start = Math.floor(Math.min(...times) / MINUTE_MS) * MINUTE_MS;
  const end = Math.max(start + MINUTE_MS, Math.ceil(Math.max(...times) / MINUTE_MS) * MINUTE_MS);
  const n = Math.min(MAX_SESSION_MINUTES, (end - start) / MINUTE_MS);
  const powerWh = powerMinutes(power, start, n);
  let energyWh: number[];
  if (energy.t.length > 1) {
    energyWh = new Array<number>(n).fill(0);
    // The session's one energy rule (a pit's recovery counted once, a reset's new level counted).
    registerSteps(energy).forEach((kwh, k) => {
      if (kwh > 0) spread(energyWh, start, energy.t[k], energy.t[k + 1], kwh * 1000);
    });
  } else {
    // No register: the session's energy is what its power delivered (as the analysis counts it).
    energyWh = powerWh.map((v) => v ?? 0);
  }
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return { startMinute: start, energyWh: energyWh.map(round), powerWh: powerWh.map((v) => (v === null ? null : round(v))) };
}

/** Adds (sign 1) or subtracts (sign -1) the minute rows of `rows` to the hourly rollup, in key order. */
const HOURLY_UPSERT = (rows: string) => `
  , contrib as (
      select r.tenant_id, r.station_id, r.connector_id, date_trunc('hour', r.start_minute + (u.i - 1) * interval '1 minute') as hour,
             sum(u.e::float8) as e, sum(coalesce(u.p, 0)::float8) as p, 0 as n
        from ${rows} r cross join lateral unnest(r.energy_wh, r.power_wh) with ordinality as u(e, p, i)
       group by 1, 2, 3, 4
      union all
      select r.tenant_id, r.station_id, r.connector_id, date_trunc('hour', r.start_minute), 0, 0, 1 from ${rows} r)
  insert into station_hourly_energy as h (tenant_id, station_id, connector_id, hour, energy_wh, power_wh, session_starts)
  select tenant_id, station_id, connector_id, hour, ?::int * sum(e), ?::int * sum(p), ?::int * sum(n)
    from contrib group by tenant_id, station_id, connector_id, hour
   order by station_id, hour, connector_id
  on conflict (station_id, hour, connector_id) do update
     set energy_wh = case when abs(h.energy_wh + excluded.energy_wh) < 1e-6 then 0 else h.energy_wh + excluded.energy_wh end,
         power_wh = case when abs(h.power_wh + excluded.power_wh) < 1e-6 then 0 else h.power_wh + excluded.power_wh end,
         session_starts = h.session_starts + excluded.session_starts`;

/**
 * Replaces the rollup contribution of sessions just analysed (their readings as analysed), inside
 * the caller's transaction. Station and connector come from the session rows as now stored, so a
 * session moved to another station leaves the old one's hours and joins the new one's.
 */
export async function upkeepStationRollups(em: EntityManager, tenantId: string, sessions: { sessionDbId: string; readings: StoredMeterValue[]; fresh?: boolean }[]): Promise<void> {
  // The bench's switch (EVNI_STATION_ROLLUPS=0) measures what this upkeep costs a batch.
  if (process.env.EVNI_STATION_ROLLUPS === '0' || sessions.length === 0) return;
  const known = sessions.filter((s) => !s.fresh).map((s) => s.sessionDbId);
  if (known.length > 0) {
    await sql(
      em,
      `with old as (delete from station_session_energy where tenant_id = ? and session_id = any(?::uuid[])
                    returning tenant_id, station_id, connector_id, start_minute, energy_wh, power_wh)
       ${HOURLY_UPSERT('old')}`,
      [tenantId, pgArray(known), -1, -1, -1],
    );
  }
  const rows = sessions.flatMap((s) => {
    let m: SessionMinutes | null;
    try {
      m = sessionMinutes(s.readings);
    } catch {
      // Readings the analysis could not use either (it reported the session as failed): no rollup.
      m = null;
    }
    return m ? [{ session_id: s.sessionDbId, start_minute: new Date(m.startMinute).toISOString(), energy_wh: m.energyWh, power_wh: m.powerWh }] : [];
  });
  if (rows.length === 0) return;
  await sql(
    em,
    `with added as (
       insert into station_session_energy (session_id, tenant_id, station_id, connector_id, start_minute, end_minute, energy_wh, power_wh)
       select s.id, s.tenant_id, s.station_id, coalesce(s.connector_id, ''), r.start_minute,
              r.start_minute + cardinality(r.energy_wh) * interval '1 minute', r.energy_wh, r.power_wh
         from jsonb_to_recordset(?::jsonb) as r(session_id uuid, start_minute timestamptz, energy_wh real[], power_wh real[])
         join charging_sessions s on s.id = r.session_id and s.tenant_id = ?
       returning tenant_id, station_id, connector_id, start_minute, energy_wh, power_wh)
     ${HOURLY_UPSERT('added')}`,
    [JSON.stringify(rows), tenantId, 1, 1, 1],
  );
}
