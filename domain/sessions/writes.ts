// Writes to a session's readings. The API stages a write (one row holding the request's readings);
// the session actor applies staged writes one at a time. Applying is idempotent: a write is
// applied once whatever the number of retries, because it is marked applied in the same
// transaction that inserts its readings.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { SessionWritePayload } from '../../entities';
import { sql, type Row } from '../../db/sql';

export type WriteKind = 'create' | 'replace' | 'append';

export interface StagedWrite {
  writeId: string;
  sessionDbId: string;
  /** The client's charging station id of the session (for the actor's search attributes). */
  stationId: string;
  created: boolean;
}

async function one(em: EntityManager, query: string, params: unknown[]): Promise<Row | undefined> {
  return (await sql(em, query, params))[0];
}

/**
 * Stages a write in one statement (an interactive write is mostly round trips, so staging is one).
 * `create` finds or creates the station and the session (the 201/200 decision is made here,
 * atomically, even under concurrent POSTs); `replace` and `append` need the session to exist and
 * return null otherwise. Nothing is written when it returns null.
 */
export async function stageWrite(
  em: EntityManager,
  input: { tenantId: string; sessionId: string; stationId?: string; kind: WriteKind; payload: SessionWritePayload },
): Promise<StagedWrite | null> {
  const payload = JSON.stringify(input.payload);
  const readingCount = input.payload.meterValues.length;
  if (input.kind !== 'create') {
    const w = await one(
      em,
      `with s as (
         select s.id, st.station_id from charging_sessions s join charging_stations st on st.id = s.station_id
          where s.tenant_id = ? and s.session_id = ?),
       w as (
         insert into session_writes (id, tenant_id, session_id, kind, payload, reading_count, created_at)
         select gen_random_uuid(), ?, s.id, ?, ?::jsonb, ?, now() from s returning id, session_id)
       select w.id, w.session_id, s.station_id from w join s on s.id = w.session_id`,
      [input.tenantId, input.sessionId, input.tenantId, input.kind, payload, readingCount],
    );
    return w ? { writeId: w.id as string, sessionDbId: w.session_id as string, stationId: w.station_id as string, created: false } : null;
  }
  // One statement sees one snapshot: when a concurrent POST of the same new session commits after
  // it began, the insert skips the row and the select cannot see it yet. The next attempt does.
  for (let attempt = 1; ; attempt++) {
    const w = await one(
      em,
      `with station as (
         insert into charging_stations (id, tenant_id, station_id, created_at) values (gen_random_uuid(), ?, ?, now())
         on conflict (tenant_id, station_id) do update set station_id = excluded.station_id returning id),
       inserted as (
         insert into charging_sessions (id, tenant_id, session_id, station_id, status, anomaly_count, soc_reconstructed,
           reading_count, next_seq, created_at, updated_at)
         select gen_random_uuid(), ?, ?, station.id, 'pending', 0, false, 0, 0, now(), now() from station
         on conflict (tenant_id, session_id) do nothing returning id),
       s as (
         select id, true as created from inserted
         union all
         select id, false from charging_sessions where tenant_id = ? and session_id = ? and not exists (select 1 from inserted)),
       w as (
         insert into session_writes (id, tenant_id, session_id, kind, payload, reading_count, created_at)
         select gen_random_uuid(), ?, s.id, 'create', ?::jsonb, ?, now() from s returning id, session_id)
       select w.id, w.session_id, s.created from w join s on s.id = w.session_id`,
      [input.tenantId, input.stationId, input.tenantId, input.sessionId, input.tenantId, input.sessionId, input.tenantId, payload, readingCount],
    );
    if (w) return { writeId: w.id as string, sessionDbId: w.session_id as string, stationId: input.stationId as string, created: w.created as boolean };
    if (attempt >= 3) throw new Error(`could not stage a write for session ${input.sessionId}`);
  }
}

export interface AppliedWrite {
  applied: boolean;
  readingCount: number;
}

/**
 * Applies a staged write: readings are copied from the staged JSON into meter_values in one
 * statement, with `seq` continuing the session's arrival counter. `create` replaces the readings
 * when it carries any (POST of an existing session has PUT semantics for its meter values).
 */
export async function applyWrite(em: EntityManager, tenantId: string, writeId: string): Promise<AppliedWrite> {
  return em.transactional(async (tem) => {
    const w = await one(
      tem,
      `select w.kind, w.session_id, w.applied_at, w.reading_count, w.payload - 'meterValues' as fields, s.station_id
         from session_writes w join charging_sessions s on s.id = w.session_id
        where w.id = ? and w.tenant_id = ? for update of s`,
      [writeId, tenantId],
    );
    if (!w) throw new Error(`session write ${writeId} not found for tenant ${tenantId}`);
    const sessionDbId = w.session_id as string;
    if (w.applied_at) {
      const s = await one(tem, 'select reading_count from charging_sessions where id = ?', [sessionDbId]);
      return { applied: false, readingCount: s!.reading_count as number };
    }
    const replaces = w.kind === 'replace' || (w.kind === 'create' && (w.reading_count as number) > 0);
    // Removing the old readings and inserting the new ones is one statement: the new seqs continue
    // the session's counter, so the insert never meets a row the delete removes.
    await sql(tem, `with removed as (delete from meter_values where ?::boolean and session_id = ?)
       insert into meter_values (tenant_id, session_id, seq, timestamp, value, measurand, unit, phase, location, context, format, multiplier, reconstructed)
       select w.tenant_id, w.session_id, s.next_seq + e.ord - 1, (e.v->>'timestamp')::timestamptz, (e.v->>'value')::float8,
              e.v->>'measurand', e.v->>'unit', e.v->>'phase', e.v->>'location', e.v->>'context', e.v->>'format',
              (e.v->>'multiplier')::smallint, coalesce((e.v->>'reconstructed')::boolean, false)
         from session_writes w
         join charging_sessions s on s.id = w.session_id
         cross join lateral jsonb_array_elements(w.payload->'meterValues') with ordinality as e(v, ord)
        where w.id = ?`,
      [replaces, sessionDbId, writeId],
    );
    const f = (w.fields ?? {}) as Record<string, unknown>;
    const has = (k: string) => Object.prototype.hasOwnProperty.call(f, k) && f[k] !== undefined;
    // The session's counters, its connector and the write's applied mark: one statement, which
    // sees the readings the previous one wrote.
    const s = await one(
      tem,
      `with applied as (update session_writes set applied_at = now(), payload = null where id = ?),
       connector as (
         insert into connectors (id, tenant_id, station_id, connector_id, evse_id, created_at)
         select gen_random_uuid(), ?::uuid, ?::uuid, ?::text, ?::text, now() where ?::boolean
         on conflict (station_id, connector_id) do update set evse_id = coalesce(excluded.evse_id, connectors.evse_id))
       update charging_sessions s set
          next_seq = s.next_seq + ?,
          reading_count = agg.n, started_at = agg.first_ts, ended_at = agg.last_ts,
          connector_id = case when ? then ? else s.connector_id end,
          evse_id = case when ? then ? else s.evse_id end,
          metadata = case when ? then ?::jsonb else s.metadata end,
          client_status = case when ? then ? else s.client_status end,
          stop_reason = case when ? then ? else s.stop_reason end,
          updated_at = now()
         from (select count(*)::int as n, min(timestamp) as first_ts, max(timestamp) as last_ts from meter_values where session_id = ?) agg
        where s.id = ? returning s.reading_count`,
      [
        writeId,
        tenantId, w.station_id, f.connectorId ?? null, f.evseId ?? null, f.connectorId != null,
        w.reading_count,
        has('connectorId'), f.connectorId ?? null,
        has('evseId'), f.evseId ?? null,
        has('metadata'), f.metadata == null ? null : JSON.stringify(f.metadata),
        has('status') && f.status != null, f.status ?? null,
        has('stopReason'), f.stopReason ?? null,
        sessionDbId,
        sessionDbId,
      ],
    );
    return { applied: true, readingCount: s!.reading_count as number };
  });
}
