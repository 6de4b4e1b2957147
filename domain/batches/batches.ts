// Batches: a submit stages every session of the request in PostgreSQL (never in workflow inputs),
// and chunk activities process the staged sessions set-based, one transaction per chunk. A chunk
// commits its sessions, verdicts, item states and the batch counters together, so a retried or
// re-run chunk can never process a session twice.
import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { RawMeterValue, StoredMeterValue } from '../analysis/types';
import { copyRows, sql, type Row } from '../../db/sql';
import { loadReadings, storeVerdicts, verdictsFor, type SessionToAnalyse } from '../sessions/analysis';

export interface BatchSessionInput {
  sessionId: string;
  chargingStationId: string;
  connectorId?: string | null;
  evseId?: string | null;
  meterValues: RawMeterValue[];
  metadata?: Record<string, unknown> | null;
  status?: string | null;
  stopReason?: string | null;
}

const STAGE_CHUNK = 500;

/** Identifies a request body for Idempotency-Key checks (the bytes as sent). */
export const hashRequest = (raw: string) => createHash('sha256').update(raw).digest('hex');

export type SubmitResult =
  | { kind: 'created' | 'existing'; batchId: string; totalSessions: number; status: string }
  | { kind: 'conflict' };

/**
 * Stages a batch in one transaction. With an idempotency key, a second submit returns the first
 * batch (same body) or a conflict (different body); concurrent submits with one key create one batch.
 */
export async function stageBatch(
  em: EntityManager,
  input: { tenantId: string; sessions: BatchSessionInput[]; idempotencyKey: string | null; requestHash: string },
): Promise<SubmitResult> {
  return em.transactional(async (tem) => {
    if (input.idempotencyKey) {
      // Serialise submits that share a key, so the check below and the insert cannot interleave.
      await sql(tem, 'select pg_advisory_xact_lock(hashtext(?))', [`${input.tenantId}:${input.idempotencyKey}`]);
      const [existing] = await sql(tem, 'select id, request_hash, total_sessions, status from batches where tenant_id = ? and idempotency_key = ?', [
        input.tenantId,
        input.idempotencyKey,
      ]);
      if (existing) {
        if (existing.request_hash !== input.requestHash) return { kind: 'conflict' as const };
        return { kind: 'existing' as const, batchId: existing.id, totalSessions: existing.total_sessions, status: existing.status };
      }
    }
    const totalReadings = input.sessions.reduce((n, s) => n + s.meterValues.length, 0);
    const [batch] = await sql(
      tem,
      `insert into batches (id, tenant_id, status, total_sessions, total_readings, processed_sessions, failed_sessions, idempotency_key, request_hash, created_at)
       values (gen_random_uuid(), ?, 'pending', ?, ?, 0, 0, ?, ?, now()) returning id`,
      [input.tenantId, input.sessions.length, totalReadings, input.idempotencyKey, input.requestHash],
    );
    for (let from = 0; from < input.sessions.length; from += STAGE_CHUNK) {
      const items = input.sessions.slice(from, from + STAGE_CHUNK).map((s, i) => ({ idx: from + i, session_id: s.sessionId, payload: s }));
      // json (not jsonb) is only checked, not converted; a nested object read as text is its JSON.
      await sql(
        tem,
        `insert into batch_items (batch_id, idx, tenant_id, session_id, payload, state)
         select ?, r.idx, ?, r.session_id, r.payload, 'pending' from json_to_recordset(?::json) as r(idx int, session_id text, payload text)`,
        [batch.id, input.tenantId, JSON.stringify(items)],
      );
    }
    return { kind: 'created' as const, batchId: batch.id as string, totalSessions: input.sessions.length, status: 'pending' };
  });
}

/** Removes a staged batch whose workflow could not be started (nothing of it was processed). */
export async function discardBatch(em: EntityManager, tenantId: string, batchId: string): Promise<void> {
  await sql(em, `delete from batches where id = ? and tenant_id = ? and status = 'pending'`, [batchId, tenantId]);
}

export interface ChunkResult {
  processed: number;
  failed: number;
  skipped: number;
  /** Where the chunk's time went, in ms: upserts + reading copy, analysis, verdicts + counters. */
  timings?: { writeMs: number; analyseMs: number; verdictMs: number };
}

/**
 * Processes the still-pending sessions with idx in [from, to): upserts stations and sessions
 * (POST semantics: carried readings replace stored ones), copies readings from the staged JSON,
 * analyses in memory and stores verdicts — all in one transaction.
 */
export async function processChunk(em: EntityManager, tenantId: string, batchId: string, from: number, to: number): Promise<ChunkResult> {
  return em.transactional(async (tem) => {
    const exec = (query: string, params: unknown[]) => sql(tem, query, params);
    const items = await exec(
      `select idx, session_id, payload from batch_items where batch_id = ? and tenant_id = ? and idx >= ? and idx < ? and state = 'pending'
        order by idx for update`,
      [batchId, tenantId, from, to],
    );
    if (items.length === 0) return { processed: 0, failed: 0, skipped: to - from };
    const inputs = items.map((r) => JSON.parse(r.payload as string) as BatchSessionInput);
    const t0 = performance.now();

    const stations = await exec(
      `insert into charging_stations (id, tenant_id, station_id, created_at)
       select gen_random_uuid(), ?, x, now() from jsonb_array_elements_text(?::jsonb) as x
       on conflict (tenant_id, station_id) do update set station_id = excluded.station_id returning id, station_id`,
      [tenantId, JSON.stringify([...new Set(inputs.map((s) => s.chargingStationId))])],
    );
    const stationIds = new Map(stations.map((r) => [r.station_id as string, r.id as string]));
    const sessionRows = inputs.map((s) => ({
      session_id: s.sessionId,
      station_db_id: stationIds.get(s.chargingStationId),
      connector_id: s.connectorId ?? null,
      evse_id: s.evseId ?? null,
      metadata: s.metadata ?? null,
      client_status: s.status ?? null,
      stop_reason: s.stopReason ?? null,
    }));
    // Upsert locks each session row until commit: a live session actor's writes wait for the chunk.
    const sessions = await exec(
      `insert into charging_sessions as s (id, tenant_id, session_id, station_id, connector_id, evse_id, metadata, client_status, stop_reason,
           status, anomaly_count, soc_reconstructed, reading_count, next_seq, created_at, updated_at)
       select gen_random_uuid(), ?, r.session_id, r.station_db_id, r.connector_id, r.evse_id, r.metadata, r.client_status, r.stop_reason,
           'pending', 0, false, 0, 0, now(), now()
         from jsonb_to_recordset(?::jsonb) as r(session_id text, station_db_id uuid, connector_id text, evse_id text, metadata jsonb,
              client_status text, stop_reason text)
       -- An existing session keeps what this item does not say (POST semantics).
       on conflict (tenant_id, session_id) do update set
           connector_id = coalesce(excluded.connector_id, s.connector_id),
           evse_id = coalesce(excluded.evse_id, s.evse_id),
           metadata = coalesce(excluded.metadata, s.metadata),
           client_status = coalesce(excluded.client_status, s.client_status),
           stop_reason = coalesce(excluded.stop_reason, s.stop_reason),
           updated_at = now()
       returning id, session_id, next_seq, metadata, station_id`,
      [tenantId, JSON.stringify(sessionRows)],
    );
    await exec(
      `insert into connectors (id, tenant_id, station_id, connector_id, evse_id, created_at)
       select gen_random_uuid(), ?, r.station_db_id, r.connector_id, max(r.evse_id), now()
         from jsonb_to_recordset(?::jsonb) as r(station_db_id uuid, connector_id text, evse_id text)
        where r.connector_id is not null group by r.station_db_id, r.connector_id
       on conflict (station_id, connector_id) do update set evse_id = coalesce(excluded.evse_id, connectors.evse_id)`,
      [tenantId, JSON.stringify(sessionRows)],
    );
    const bySessionId = new Map(sessions.map((r) => [r.session_id as string, r]));
    const replaced = inputs.filter((s) => s.meterValues.length > 0).map((s) => bySessionId.get(s.sessionId)!.id as string);
    if (replaced.length > 0) {
      await exec('delete from meter_values where session_id = any(?::uuid[])', [`{${replaced.join(',')}}`]);
      const readings = inputs.flatMap((s) => {
        const row = bySessionId.get(s.sessionId)!;
        return s.meterValues.map((m, k) => [
          tenantId, row.id, row.next_seq + k, m.timestamp, m.value, m.measurand ?? null, m.unit ?? null, m.phase ?? null,
          m.location ?? null, m.context ?? null, m.format ?? null, m.multiplier ?? null, m.reconstructed ?? false,
        ]);
      });
      await copyRows(tem, 'meter_values', ['tenant_id', 'session_id', 'seq', 'timestamp', 'value', 'measurand', 'unit', 'phase', 'location', 'context', 'format', 'multiplier', 'reconstructed'], readings);
      await exec(
        `update charging_sessions s set next_seq = s.next_seq + agg.n, reading_count = agg.n, started_at = agg.first_ts, ended_at = agg.last_ts
           from (select session_id, count(*)::int as n, min(timestamp) as first_ts, max(timestamp) as last_ts
                   from meter_values where session_id = any(?::uuid[]) group by session_id) agg
          where s.id = agg.session_id`,
        [`{${replaced.join(',')}}`],
      );
    }

    const t1 = performance.now();
    const toAnalyse: SessionToAnalyse[] = [];
    for (const s of inputs) {
      const row = bySessionId.get(s.sessionId)!;
      // In memory from the staged readings (same seq as stored); a session sent without readings
      // keeps and is analysed over the readings it already had.
      const readings: StoredMeterValue[] =
        s.meterValues.length > 0 ? s.meterValues.map((m, k) => ({ ...m, seq: row.next_seq + k })) : await loadReadings(tem, tenantId, row.id);
      toAnalyse.push({ readings, metadata: row.metadata });
    }
    const verdicts = (await verdictsFor(toAnalyse)).map((verdict, i) => ({
      sessionDbId: bySessionId.get(inputs[i].sessionId)!.id,
      verdict,
      idx: items[i].idx,
    }));
    const t2 = performance.now();
    await storeVerdicts(tem, tenantId, verdicts);

    const states = verdicts.map((v) => ({
      idx: v.idx,
      state: v.verdict.status === 'failed' ? 'failed' : 'done',
      message: v.verdict.status === 'failed' ? v.verdict.message : null,
      session_db_id: v.sessionDbId,
    }));
    await exec(
      `update batch_items b set state = r.state, message = r.message, session_db_id = r.session_db_id, processed_at = now(), payload = null
         from jsonb_to_recordset(?::jsonb) as r(idx int, state text, message text, session_db_id uuid)
        where b.batch_id = ? and b.idx = r.idx`,
      [JSON.stringify(states), batchId],
    );
    const failed = states.filter((s) => s.state === 'failed').length;
    await exec(
      `update batches set status = 'processing', processed_sessions = processed_sessions + ?, failed_sessions = failed_sessions + ? where id = ?`,
      [states.length - failed, failed, batchId],
    );
    const timings = { writeMs: Math.round(t1 - t0), analyseMs: Math.round(t2 - t1), verdictMs: Math.round(performance.now() - t2) };
    return { processed: states.length - failed, failed, skipped: to - from - items.length, timings };
  });
}

export async function finishBatch(em: EntityManager, tenantId: string, batchId: string, status: 'completed' | 'failed'): Promise<void> {
  await sql(
    em,
    `update batches set status = ?, completed_at = coalesce(completed_at, now()) where id = ? and tenant_id = ?`,
    [status, batchId, tenantId],
  );
}
