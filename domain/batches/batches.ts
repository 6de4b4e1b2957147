// Batch chunks: each processes a range of the sessions a submit staged (staging.ts), set-based and
// in one transaction: it applies each session's write with the same code as the session actor
// (domain/sessions/apply.ts: POST semantics), analyses the readings it already holds, and commits
// the verdicts, item states and batch counters together, so a retried or re-run chunk can never
// process a session twice.
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db/sql';
import type { ChunkResult } from '../../workflows/batch/contract';
import type { BatchDetector } from '../analysis/types';
import { analyseAndStore } from '../sessions/analysis';
import { batchCompletedEvent } from '../webhooks/events';
import { applySessionChanges, ensureStations } from '../sessions/apply';
import { PRESENT_FIELD_BITS, type SessionFields } from '../sessions/types';
import { stagedMeterValues } from './session-text';
import { lockUnprocessedItems } from './staging';

/** A staged item's optional fields, those the client sent (its present_fields bits) and no others. */
function sentFields(item: Record<string, any>): SessionFields {
  const mask = item.present_fields as number;
  const fields: SessionFields = {};
  if (mask & PRESENT_FIELD_BITS.connectorId) fields.connectorId = item.connector_id;
  if (mask & PRESENT_FIELD_BITS.evseId) fields.evseId = item.evse_id;
  if (mask & PRESENT_FIELD_BITS.metadata) fields.metadata = item.metadata;
  if (mask & PRESENT_FIELD_BITS.status) fields.status = item.client_status;
  if (mask & PRESENT_FIELD_BITS.stopReason) fields.stopReason = item.stop_reason;
  return fields;
}

/**
 * Processes the still-pending sessions with idx in [from, to), all in one transaction: creates the
 * sessions that are new (under the item's staged id), applies every item as a POST would (an item
 * with readings replaces the session's), analyses and stores the verdicts. Returns, beside the
 * result, the client ids of the sessions that existed before (their running actors should refresh).
 */
export async function processChunk(
  em: EntityManager,
  detector: BatchDetector,
  input: { tenantId: string; batchId: string; from: number; to: number },
): Promise<{ result: ChunkResult; rewritten: string[] }> {
  const { tenantId, batchId, from, to } = input;
  return em.transactional(async (tem) => {
    const exec = (query: string, params: unknown[]) => sql(tem, query, params);
    const items = await exec(
      `select idx, session_id, station_id, staged_id, present_fields, connector_id, evse_id, metadata, client_status, stop_reason, session_json
         from batch_items where batch_id = ? and tenant_id = ? and idx >= ? and idx < ? and state = 'pending' order by idx for update`,
      [batchId, tenantId, from, to],
    );
    if (items.length === 0) return { result: { processed: 0, failed: 0, skipped: to - from }, rewritten: [] };
    const t0 = performance.now();
    await ensureStations(tem, tenantId, items.map((it) => it.station_id as string));
    // Inserts the new sessions and locks the existing ones (the no-op update), in session-id order
    // as in every chunk, so two batches sharing sessions wait for each other instead of
    // deadlocking; a live session actor's writes wait for the chunk.
    const sessions = await exec(
      `insert into charging_sessions as s (id, tenant_id, session_id, station_id, status, anomaly_count, soc_reconstructed,
           reading_count, next_seq, created_at, updated_at)
       select b.staged_id, b.tenant_id, b.session_id, st.id, 'pending', 0, false, 0, 0, now(), now()
         from batch_items b join charging_stations st on st.tenant_id = b.tenant_id and st.station_id = b.station_id
        where b.batch_id = ? and b.tenant_id = ? and b.idx >= ? and b.idx < ? and b.state = 'pending'
        order by b.session_id
       on conflict (tenant_id, session_id) do update set updated_at = s.updated_at
       returning s.id, s.session_id`,
      [batchId, tenantId, from, to],
    );
    const idOf = new Map(sessions.map((r) => [r.session_id as string, r.id as string]));
    const changes = items.map((it) => {
      const sessionDbId = idOf.get(it.session_id)!;
      const fresh = sessionDbId === it.staged_id;
      const readings = it.session_json == null ? [] : stagedMeterValues(it.session_json);
      // A new session was inserted at its station; an existing one moves if the item names another.
      return { sessionDbId, fresh, stationId: fresh ? undefined : (it.station_id as string), fields: sentFields(it), readings, replace: readings.length > 0 };
    });
    const applied = await applySessionChanges(tem, tenantId, changes);
    const t1 = performance.now();
    const { verdicts, analyseMs } = await analyseAndStore(tem, tenantId, detector, applied.map((a, k) => ({ ...a, fresh: changes[k].fresh })));

    const states = items.map((it, k) => ({
      idx: it.idx as number,
      state: verdicts[k].status === 'failed' ? 'failed' : 'done',
      message: verdicts[k].status === 'failed' ? verdicts[k].message : null,
      session_db_id: changes[k].sessionDbId,
    }));
    await exec(
      `update batch_items b set state = r.state, message = r.message, session_db_id = r.session_db_id, processed_at = now(), session_json = null
         from jsonb_to_recordset(?::jsonb) as r(idx int, state text, message text, session_db_id uuid)
        where b.batch_id = ? and b.tenant_id = ? and b.idx = r.idx`,
      [JSON.stringify(states), batchId, tenantId],
    );
    const failed = states.filter((s) => s.state === 'failed').length;
    await exec(
      `update batches set status = case when status = 'pending' then 'processing' else status end,
              processed_sessions = processed_sessions + ?, failed_sessions = failed_sessions + ? where id = ? and tenant_id = ?`,
      [states.length - failed, failed, batchId, tenantId],
    );
    const timings = { writeMs: Math.round(t1 - t0), analyseMs: Math.round(analyseMs), verdictMs: Math.round(performance.now() - t1 - analyseMs) };
    const rewritten = items.filter((_, k) => !changes[k].fresh).map((it) => it.session_id as string);
    return { result: { processed: states.length - failed, failed, skipped: to - from - items.length, timings }, rewritten };
  });
}

export async function finishBatch(em: EntityManager, tenantId: string, batchId: string, status: 'completed' | 'failed'): Promise<void> {
  await em.transactional(async (tem) => {
    const [before] = await sql(tem, 'select completed_at from batches where id = ? and tenant_id = ? for update', [batchId, tenantId]);
    let unprocessed = 0;
    if (status === 'failed') {
      // Items no chunk got to will never be processed: they fail with the batch and their staged
      // readings go. A chunk still running for them (its lane was not cancelled) finds none pending.
      unprocessed = await lockUnprocessedItems(tem, tenantId, batchId);
      await sql(tem, `update batch_items set state = 'failed', message = 'Not processed: the batch failed first.', processed_at = now(), session_json = null where batch_id = ? and tenant_id = ? and state = 'pending'`, [batchId, tenantId]);
    }
    await sql(tem, `update batches set status = ?, failed_sessions = failed_sessions + ?, completed_at = coalesce(completed_at, now()) where id = ? and tenant_id = ?`, [
      status,
      unprocessed,
      batchId,
      tenantId,
    ]);
    // Webhooks: `batch.completed` commits with the batch's end (once, however often this runs).
    await batchCompletedEvent(tem, tenantId, batchId, !!before && before.completed_at == null);
  });
}
