// Applying writes to sessions: the one place that changes a session's fields, station, connector
// and readings, for the session actor (one staged write) and batch chunks (hundreds) alike, so that
// both paths store the same result for the same request. Set-based: a handful of statements
// whatever the number of sessions, every one scoped to the tenant.
//
// Semantics (README, "Sessions"): an optional field sent as null clears the stored value, an absent
// field keeps it; readings sent with `replace` replace the stored ones (POST with readings, PUT),
// otherwise they are added (PATCH); a POST naming another station moves the session there (the
// station is created if new, and the connector follows).
import type { EntityManager } from '@mikro-orm/postgresql';
import { copyBinary, pgArray, sql, type Row } from '../../db/sql';
import { CopyBinaryWriter, uuidField } from '../../db/copy-binary';
import { timestampMicros } from '../analysis/validate';
import type { RawMeterValue, StoredMeterValue } from '../analysis/types';
import { PRESENT_FIELD_BITS, presentFieldsMask, type SessionFields } from './types';

export interface SessionChange {
  sessionDbId: string;
  /** The session has never had readings (it was just created): nothing of it to remove. */
  fresh: boolean;
  /** The client's station id, when the write names one: the session moves there if it is elsewhere. */
  stationId?: string;
  fields: SessionFields;
  /** Validated readings of the write (empty: none sent). */
  readings: RawMeterValue[];
  /** The readings replace the stored ones (else they are added after them). */
  replace: boolean;
}

export interface AppliedChange {
  sessionDbId: string;
  metadata: Record<string, unknown> | null;
  /** Every reading the session now has, when the write alone determines them (replaced or new); null: load them. */
  readings: StoredMeterValue[] | null;
}

/** The client's stations, created on first sight (in station-id order, so that concurrent chunks never deadlock). */
export async function ensureStations(em: EntityManager, tenantId: string, stationIds: string[]): Promise<void> {
  const distinct = [...new Set(stationIds)];
  if (distinct.length === 0) return;
  await sql(
    em,
    `insert into charging_stations (id, tenant_id, station_id, created_at)
     select gen_random_uuid(), ?, x.station_id, now() from unnest(?::text[]) as x(station_id) order by x.station_id
     on conflict (tenant_id, station_id) do nothing`,
    [tenantId, pgArray(distinct)],
  );
}

/**
 * Applies writes to existing session rows, inside the caller's transaction, which holds the
 * sessions' row locks (a chunk takes them in session-id order): fields, station, connector,
 * counters and readings.
 */
export async function applySessionChanges(em: EntityManager, tenantId: string, changes: SessionChange[]): Promise<AppliedChange[]> {
  if (changes.length === 0) return [];
  await ensureStations(em, tenantId, changes.flatMap((c) => (c.stationId === undefined ? [] : [c.stationId])));
  // Each timestamp is read once, for the session's span and the binary COPY.
  const micros = changes.map((c) => c.readings.map((m) => validatedMicros(m.timestamp)));
  const rows = changes.map((c, i) => {
    const f = c.fields;
    const { first, last } = span(c.readings, micros[i]);
    return {
      id: c.sessionDbId,
      station: c.stationId ?? null,
      mask: presentFieldsMask(f),
      connector_id: f.connectorId ?? null,
      evse_id: f.evseId ?? null,
      metadata: f.metadata ?? null,
      client_status: f.status ?? null,
      stop_reason: f.stopReason ?? null,
      n: c.readings.length,
      replace: c.replace,
      first_ts: first,
      last_ts: last,
    };
  });
  // One statement: the sessions' fields and counters (next_seq comes back advanced by n, so the
  // readings below continue the session's arrival order), and their connectors as they now stand.
  const updated = await sql(
    em,
    `with r as (
       select r.*, st.id as station_db_id
         from jsonb_to_recordset(?::jsonb) as r(id uuid, station text, mask int, connector_id text, evse_id text, metadata jsonb,
              client_status text, stop_reason text, n int, replace boolean, first_ts timestamptz, last_ts timestamptz)
         left join charging_stations st on st.tenant_id = ? and st.station_id = r.station),
     u as (
       update charging_sessions s set
           station_id = coalesce(r.station_db_id, s.station_id),
           connector_id = case when r.mask & ${PRESENT_FIELD_BITS.connectorId} <> 0 then r.connector_id else s.connector_id end,
           evse_id = case when r.mask & ${PRESENT_FIELD_BITS.evseId} <> 0 then r.evse_id else s.evse_id end,
           metadata = case when r.mask & ${PRESENT_FIELD_BITS.metadata} <> 0 then r.metadata else s.metadata end,
           client_status = case when r.mask & ${PRESENT_FIELD_BITS.status} <> 0 then r.client_status else s.client_status end,
           stop_reason = case when r.mask & ${PRESENT_FIELD_BITS.stopReason} <> 0 then r.stop_reason else s.stop_reason end,
           next_seq = s.next_seq + r.n,
           reading_count = case when r.replace then r.n else s.reading_count + r.n end,
           -- least/greatest skip nulls: a session's first readings, or a write without any, need no case.
           started_at = case when r.replace then r.first_ts else least(s.started_at, r.first_ts) end,
           ended_at = case when r.replace then r.last_ts else greatest(s.ended_at, r.last_ts) end,
           updated_at = now()
         from r
        where s.id = r.id and s.tenant_id = ?
        returning s.id, s.station_id, s.connector_id, s.evse_id, s.next_seq, s.metadata),
     c as (
       insert into connectors (id, tenant_id, station_id, connector_id, evse_id, created_at)
       select gen_random_uuid(), ?, u.station_id, u.connector_id, max(u.evse_id), now() from u
        where u.connector_id is not null group by u.station_id, u.connector_id order by u.station_id, u.connector_id
       on conflict (station_id, connector_id) do update set evse_id = coalesce(excluded.evse_id, connectors.evse_id))
     select u.id, u.next_seq, u.metadata from u`,
    [JSON.stringify(rows), tenantId, tenantId, tenantId],
  );
  const byId = new Map<string, Row>(updated.map((r) => [r.id as string, r]));
  const missing = changes.find((c) => !byId.has(c.sessionDbId));
  if (missing) throw new Error(`session ${missing.sessionDbId} not found for tenant ${tenantId}`);

  const replaced = changes.filter((c) => c.replace && !c.fresh).map((c) => c.sessionDbId);
  if (replaced.length > 0) await sql(em, 'delete from meter_values where tenant_id = ? and session_id = any(?::uuid[])', [tenantId, pgArray(replaced)]);
  const written = changes.map((c) => stored(c.readings, (byId.get(c.sessionDbId)!.next_seq as number) - c.readings.length));
  if (changes.some((c) => c.readings.length > 0)) {
    await copyBinary(em, 'meter_values', READING_COLUMNS, readingsCopyBinary(tenantId, changes.map((c) => c.sessionDbId), written, micros));
  }
  return changes.map((c, i) => ({
    sessionDbId: c.sessionDbId,
    metadata: (byId.get(c.sessionDbId)!.metadata as Record<string, unknown> | null) ?? null,
    readings: c.replace || c.fresh ? written[i] : null,
  }));
}

const READING_COLUMNS = 'tenant_id, session_id, seq, timestamp, value, measurand, unit, phase, location, context, format, multiplier, reconstructed';

/** Readings as the session stores them: arrival order, `seq` from `base`. */
function stored(raw: RawMeterValue[], base: number): StoredMeterValue[] {
  const out: StoredMeterValue[] = new Array(raw.length);
  for (let k = 0; k < raw.length; k++) {
    const m = raw[k];
    out[k] = {
      seq: base + k,
      timestamp: m.timestamp,
      value: m.value,
      measurand: m.measurand ?? null,
      unit: m.unit ?? null,
      phase: m.phase ?? null,
      location: m.location ?? null,
      context: m.context ?? null,
      format: m.format ?? null,
      multiplier: m.multiplier ?? null,
      reconstructed: m.reconstructed ?? false,
    };
  }
  return out;
}

/** A typical reading's bytes in binary COPY (fixed fields plus measurand and unit). */
const READING_BYTES_HINT = 160;

/**
 * meter_values rows in binary COPY: PostgreSQL stores the bytes as they come instead of parsing a
 * timestamp, two uuids and a number per reading. `micros[i][k]` is reading k's timestamp as
 * PostgreSQL would have read the client's text (`timestampMicros`; a test holds the two equal).
 */
function readingsCopyBinary(tenantId: string, sessionIds: string[], readings: StoredMeterValue[][], micros: number[][]): Buffer {
  const count = readings.reduce((n, r) => n + r.length, 0);
  const out = new CopyBinaryWriter(256 + count * READING_BYTES_HINT);
  const tenant = uuidField(tenantId);
  for (let i = 0; i < readings.length; i++) {
    const rs = readings[i];
    if (rs.length === 0) continue;
    const session = uuidField(sessionIds[i]);
    for (let k = 0; k < rs.length; k++) {
      const m = rs[k];
      out.row(13).raw(tenant).raw(session).int4(m.seq).timestamptz(micros[i][k]).float8(m.value);
      out.text(m.measurand).text(m.unit).text(m.phase).text(m.location).text(m.context).text(m.format);
      if (m.multiplier == null) out.null();
      else out.int2(m.multiplier);
      out.bool(m.reconstructed ?? false);
    }
  }
  return out.finish();
}

/** A validated timestamp's microseconds; one that is not readable is a bug, not input. */
function validatedMicros(timestamp: string): number {
  const us = timestampMicros(timestamp);
  if (us === null) throw new Error(`unreadable timestamp ${JSON.stringify(timestamp)} in a validated reading`);
  return us;
}

/** The earliest and latest timestamps of validated readings, as written (for the session's started/ended). */
function span(raw: RawMeterValue[], micros: number[]): { first: string | null; last: string | null } {
  let first: string | null = null;
  let last: string | null = null;
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < raw.length; k++) {
    const t = micros[k];
    if (t < lo) [lo, first] = [t, raw[k].timestamp];
    if (t > hi) [hi, last] = [t, raw[k].timestamp];
  }
  return { first, last };
}
