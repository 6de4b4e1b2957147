// Batches: a submit stages every session of the request in PostgreSQL (never in workflow inputs)
// as the body streams in, its readings written once, straight into meter_values; chunk activities
// process the staged sessions set-based, one transaction per chunk. A chunk commits its sessions,
// verdicts, item states and the batch counters together, so a retried or re-run chunk can never
// process a session twice.
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { RawMeterValue, StoredMeterValue } from '../analysis/types';
import { copyField, copyText, sql } from '../../db/sql';
import { loadReadingsOf, storeVerdicts, uuidArray, verdictsFor } from '../sessions/analysis';

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

/** Sessions per COPY group at submit: large enough to amortise a round trip, small enough to bound memory. */
export const STAGE_GROUP = 500;

export type SubmitResult =
  | { kind: 'created' | 'existing'; batchId: string; totalSessions: number; status: string }
  | { kind: 'conflict' };

/**
 * Serialises submits that share an Idempotency-Key (held until the submit's transaction ends) and
 * returns the batch that key created before, if any.
 */
export async function lockIdempotencyKey(
  tem: EntityManager,
  tenantId: string,
  key: string,
): Promise<{ batchId: string; requestHash: string; totalSessions: number; status: string } | undefined> {
  await sql(tem, 'select pg_advisory_xact_lock(hashtext(?))', [`${tenantId}:${key}`]);
  const [existing] = await sql(tem, 'select id, request_hash, total_sessions, status from batches where tenant_id = ? and idempotency_key = ?', [tenantId, key]);
  return existing && { batchId: existing.id, requestHash: existing.request_hash, totalSessions: existing.total_sessions, status: existing.status };
}

/** The batch row; its totals and request hash are set by `completeStaging` once the body has been read. */
export async function createBatch(tem: EntityManager, tenantId: string, idempotencyKey: string | null): Promise<string> {
  const [batch] = await sql(
    tem,
    `insert into batches (id, tenant_id, status, total_sessions, total_readings, processed_sessions, failed_sessions, idempotency_key, request_hash, created_at)
     values (gen_random_uuid(), ?, 'pending', 0, 0, 0, 0, ?, '', now()) returning id`,
    [tenantId, idempotencyKey],
  );
  return batch.id as string;
}

export async function completeStaging(tem: EntityManager, batchId: string, totals: { sessions: number; readings: number; requestHash: string }): Promise<void> {
  await sql(tem, 'update batches set total_sessions = ?, total_readings = ?, request_hash = ? where id = ?', [totals.sessions, totals.readings, totals.requestHash, batchId]);
}

const ITEM_COLUMNS = 'batch_id, idx, tenant_id, session_id, station_id, connector_id, evse_id, metadata, client_status, stop_reason, reading_count, staged_id, readings_json, state';
const READING_COLUMNS = 'tenant_id, session_id, seq, timestamp, value, measurand, unit, phase, location, context, format, multiplier, reconstructed';

/**
 * Stages a batch's sessions while the body is still arriving, inside the submit's transaction (a
 * rejected batch rolls back whole). Each group of sessions is two COPYs: the items (each with its
 * readings as JSON, which the chunk analyses), and their readings straight into meter_values in
 * final shape under each item's staged session id. A group's COPY runs while the caller parses
 * the next group; at most one is in flight.
 */
export class BatchStager {
  private items: string[] = [];
  private readings: string[] = [];
  private inFlight: Promise<void> = Promise.resolve();
  private failure: unknown;
  /** ms the caller spent waiting for PostgreSQL (the rest of the COPY time overlapped parsing). */
  waitMs = 0;
  sessions = 0;
  totalReadings = 0;

  constructor(
    private readonly tem: EntityManager,
    private readonly tenantId: string,
    private readonly batchId: string,
  ) {}

  /** Adds a validated session; returns true when a group is full and `flush` should be awaited. */
  add(idx: number, s: BatchSessionInput): boolean {
    const stagedId = randomUUID();
    const t = this.tenantId;
    this.items.push(
      `${this.batchId}\t${idx}\t${t}\t${copyField(s.sessionId)}\t${copyField(s.chargingStationId)}\t${copyField(s.connectorId)}\t${copyField(s.evseId)}\t` +
        `${s.metadata == null ? '\\N' : copyField(JSON.stringify(s.metadata))}\t${copyField(s.status)}\t${copyField(s.stopReason)}\t${s.meterValues.length}\t${stagedId}\t` +
        `${s.meterValues.length === 0 ? '\\N' : copyField(JSON.stringify(s.meterValues))}\tpending\n`,
    );
    const mv = s.meterValues;
    let text = '';
    for (let k = 0; k < mv.length; k++) {
      const m = mv[k];
      text +=
        `${t}\t${stagedId}\t${k}\t${copyField(m.timestamp)}\t${m.value}\t${copyField(m.measurand)}\t${copyField(m.unit)}\t${copyField(m.phase)}\t` +
        `${copyField(m.location)}\t${copyField(m.context)}\t${copyField(m.format)}\t${copyField(m.multiplier)}\t${m.reconstructed ? 't' : 'f'}\n`;
    }
    this.readings.push(text);
    this.sessions++;
    this.totalReadings += mv.length;
    return this.items.length >= STAGE_GROUP;
  }

  /** Waits for the previous group's COPY, then starts this group's without waiting for it. */
  async flush(): Promise<void> {
    await this.settle();
    const items = this.items.join('');
    const readings = this.readings.join('');
    this.items = [];
    this.readings = [];
    this.inFlight = (async () => {
      await copyText(this.tem, 'batch_items', ITEM_COLUMNS, items);
      await copyText(this.tem, 'meter_values', READING_COLUMNS, readings);
    })().catch((err) => {
      this.failure = err;
    });
  }

  /** Stages what is left and waits for every COPY. */
  async finish(): Promise<void> {
    if (this.items.length > 0) await this.flush();
    await this.settle();
  }

  /** Waits for the COPY in flight without staging more (before a rollback: the connection must be idle). */
  async abort(): Promise<void> {
    this.items = [];
    this.readings = [];
    await this.inFlight;
  }

  private async settle(): Promise<void> {
    const t = performance.now();
    await this.inFlight;
    this.waitMs += performance.now() - t;
    if (this.failure) throw this.failure;
  }
}

/** Stages sessions already in memory and validated (in-process callers; the API streams instead). */
export async function stageBatch(
  em: EntityManager,
  input: { tenantId: string; sessions: BatchSessionInput[]; idempotencyKey: string | null; requestHash: string },
): Promise<SubmitResult> {
  return em.transactional(async (tem) => {
    if (input.idempotencyKey) {
      const existing = await lockIdempotencyKey(tem, input.tenantId, input.idempotencyKey);
      if (existing && existing.requestHash !== input.requestHash) return { kind: 'conflict' as const };
      if (existing) return { kind: 'existing' as const, batchId: existing.batchId, totalSessions: existing.totalSessions, status: existing.status };
    }
    const batchId = await createBatch(tem, input.tenantId, input.idempotencyKey);
    const stager = new BatchStager(tem, input.tenantId, batchId);
    for (const [i, s] of input.sessions.entries()) if (stager.add(i, s)) await stager.flush();
    await stager.finish();
    await completeStaging(tem, batchId, { sessions: stager.sessions, readings: stager.totalReadings, requestHash: input.requestHash });
    return { kind: 'created' as const, batchId, totalSessions: stager.sessions, status: 'pending' };
  });
}

/**
 * Removes a staged batch whose workflow could not be started — unless it started after all (a
 * start call can fail after the server accepted it) and a chunk has already taken sessions.
 */
export async function discardBatch(em: EntityManager, tenantId: string, batchId: string): Promise<boolean> {
  return em.transactional(async (tem) => {
    const staged = await lockUnprocessedItems(tem, batchId);
    const gone = await sql(tem, `delete from batches where id = ? and tenant_id = ? and status = 'pending' returning id`, [batchId, tenantId]);
    if (gone.length === 0) return false;
    await dropStagedReadings(tem, staged);
    return true;
  });
}

/**
 * Locks the items no chunk has processed yet and returns their staged ids. A chunk holds its
 * items' locks until it commits, so this waits for chunks in flight and then sees what they did:
 * readings they took over are never dropped from under them.
 */
async function lockUnprocessedItems(tem: EntityManager, batchId: string): Promise<string[]> {
  const rows = await sql(tem, `select staged_id from batch_items where batch_id = ? and state = 'pending' for update`, [batchId]);
  return rows.map((r) => r.staged_id as string);
}

/** Staged readings of items no chunk will process any more. */
async function dropStagedReadings(tem: EntityManager, stagedIds: string[]): Promise<void> {
  if (stagedIds.length > 0) await sql(tem, `delete from meter_values where session_id = any(?::uuid[])`, [uuidArray(stagedIds)]);
}

export interface ChunkResult {
  processed: number;
  failed: number;
  skipped: number;
  /** Where the chunk's time went, in ms: sessions (+ re-pointed readings), reading them back, analysis, verdicts + counters. */
  timings?: { writeMs: number; loadMs: number; analyseMs: number; verdictMs: number };
}

/**
 * Processes the still-pending sessions with idx in [from, to), all in one transaction: upserts
 * stations, sessions and connectors from the staged items (POST semantics), hands the staged
 * readings to their sessions, analyses and stores verdicts. A new session is created with the
 * item's staged id, so its readings are already in place; an existing one (POST of a known
 * session id) has its readings replaced by re-pointing the staged ones after its own.
 */
export async function processChunk(em: EntityManager, tenantId: string, batchId: string, from: number, to: number): Promise<ChunkResult> {
  return em.transactional(async (tem) => {
    const exec = (query: string, params: unknown[]) => sql(tem, query, params);
    const items = await exec(
      `select idx, session_id, staged_id, reading_count, readings_json from batch_items
        where batch_id = ? and tenant_id = ? and idx >= ? and idx < ? and state = 'pending' order by idx for update`,
      [batchId, tenantId, from, to],
    );
    if (items.length === 0) return { processed: 0, failed: 0, skipped: to - from };
    const t0 = performance.now();
    const range = [batchId, from, to];
    const pending = `b.batch_id = ? and b.idx >= ? and b.idx < ? and b.state = 'pending'`;

    await exec(
      `insert into charging_stations (id, tenant_id, station_id, created_at)
       select gen_random_uuid(), ?, x.station_id, now() from (select distinct b.station_id from batch_items b where ${pending}) x
       order by x.station_id
       on conflict (tenant_id, station_id) do nothing`,
      [tenantId, ...range],
    );
    // Upsert locks each session row until commit: a live session actor's writes wait for the chunk.
    // The stats of a session that carries readings are those of its staged readings (they replace).
    const sessions = await exec(
      `insert into charging_sessions as s (id, tenant_id, session_id, station_id, connector_id, evse_id, metadata, client_status, stop_reason,
           status, anomaly_count, soc_reconstructed, reading_count, next_seq, started_at, ended_at, created_at, updated_at)
       select b.staged_id, b.tenant_id, b.session_id, st.id, b.connector_id, b.evse_id, b.metadata, b.client_status, b.stop_reason,
           'pending', 0, false, b.reading_count, b.reading_count, agg.first_ts, agg.last_ts, now(), now()
         from batch_items b
         join charging_stations st on st.tenant_id = b.tenant_id and st.station_id = b.station_id
         left join lateral (select min(m.timestamp) as first_ts, max(m.timestamp) as last_ts from meter_values m
                             where m.session_id = b.staged_id and b.reading_count > 0) agg on true
        where ${pending}
        order by b.idx
       -- An existing session keeps what this item does not say (POST semantics).
       on conflict (tenant_id, session_id) do update set
           connector_id = coalesce(excluded.connector_id, s.connector_id),
           evse_id = coalesce(excluded.evse_id, s.evse_id),
           metadata = coalesce(excluded.metadata, s.metadata),
           client_status = coalesce(excluded.client_status, s.client_status),
           stop_reason = coalesce(excluded.stop_reason, s.stop_reason),
           next_seq = s.next_seq + excluded.reading_count,
           reading_count = case when excluded.reading_count > 0 then excluded.reading_count else s.reading_count end,
           started_at = case when excluded.reading_count > 0 then excluded.started_at else s.started_at end,
           ended_at = case when excluded.reading_count > 0 then excluded.ended_at else s.ended_at end,
           updated_at = now()
       returning s.id, s.session_id, s.next_seq, s.metadata`,
      [...range],
    );
    await exec(
      `insert into connectors (id, tenant_id, station_id, connector_id, evse_id, created_at)
       select gen_random_uuid(), ?, st.id, b.connector_id, max(b.evse_id), now()
         from batch_items b join charging_stations st on st.tenant_id = b.tenant_id and st.station_id = b.station_id
        where ${pending} and b.connector_id is not null group by st.id, b.connector_id
       on conflict (station_id, connector_id) do update set evse_id = coalesce(excluded.evse_id, connectors.evse_id)`,
      [tenantId, ...range],
    );
    const bySessionId = new Map(sessions.map((r) => [r.session_id as string, r]));
    // Existing sessions that this batch gives readings: drop theirs, then take the staged ones,
    // numbered after the session's earlier ones (next_seq came back already advanced by n).
    const moved = items
      .map((it) => ({ it, row: bySessionId.get(it.session_id)! }))
      .filter(({ it, row }) => row.id !== it.staged_id && it.reading_count > 0);
    if (moved.length > 0) {
      const ids = moved.map(({ row }) => row.id as string);
      await exec('delete from meter_values where session_id = any(?::uuid[])', [uuidArray(ids)]);
      await exec(
        `update meter_values m set session_id = x.id, seq = m.seq + x.base
           from unnest(?::uuid[], ?::uuid[], ?::int[]) as x(staged_id, id, base) where m.session_id = x.staged_id`,
        [uuidArray(moved.map(({ it }) => it.staged_id)), uuidArray(ids), `{${moved.map(({ it, row }) => row.next_seq - it.reading_count).join(',')}}`],
      );
    }
    const finalIds = items.map((it) => bySessionId.get(it.session_id)!.id as string);
    const tLoad = performance.now();
    // An item with readings replaces the session's, so its staged JSON is exactly what the session
    // now holds (numbered after its earlier readings); only the others are read back.
    const stored = await loadReadingsOf(tem, tenantId, finalIds.filter((_, i) => items[i].readings_json == null));
    const readings = items.map((it, i) => {
      const row = bySessionId.get(it.session_id)!;
      return it.readings_json == null ? stored.get(finalIds[i]) ?? [] : stagedReadings(it.readings_json, row.next_seq - it.reading_count);
    });

    const t1 = performance.now();
    const toAnalyse = items.map((it, i) => ({ readings: readings[i], metadata: bySessionId.get(it.session_id)!.metadata }));
    const verdicts = (await verdictsFor(toAnalyse)).map((verdict, i) => ({ sessionDbId: finalIds[i], verdict, idx: items[i].idx as number }));
    const t2 = performance.now();
    await storeVerdicts(tem, tenantId, verdicts);

    const states = verdicts.map((v) => ({
      idx: v.idx,
      state: v.verdict.status === 'failed' ? 'failed' : 'done',
      message: v.verdict.status === 'failed' ? v.verdict.message : null,
      session_db_id: v.sessionDbId,
    }));
    await exec(
      `update batch_items b set state = r.state, message = r.message, session_db_id = r.session_db_id, processed_at = now(), readings_json = null
         from jsonb_to_recordset(?::jsonb) as r(idx int, state text, message text, session_db_id uuid)
        where b.batch_id = ? and b.idx = r.idx`,
      [JSON.stringify(states), batchId],
    );
    const failed = states.filter((s) => s.state === 'failed').length;
    await exec(
      `update batches set status = case when status = 'pending' then 'processing' else status end,
              processed_sessions = processed_sessions + ?, failed_sessions = failed_sessions + ? where id = ?`,
      [states.length - failed, failed, batchId],
    );
    const timings = { writeMs: Math.round(tLoad - t0), loadMs: Math.round(t1 - tLoad), analyseMs: Math.round(t2 - t1), verdictMs: Math.round(performance.now() - t2) };
    return { processed: states.length - failed, failed, skipped: to - from - items.length, timings };
  });
}

/** A staged item's readings as the session stores them: arrival order, `seq` from `base`. */
export function stagedReadings(json: string, base: number): StoredMeterValue[] {
  const raw = JSON.parse(json) as RawMeterValue[];
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

export async function finishBatch(em: EntityManager, tenantId: string, batchId: string, status: 'completed' | 'failed'): Promise<void> {
  await em.transactional(async (tem) => {
    let unprocessed = 0;
    if (status === 'failed') {
      // Items no chunk got to will never be processed: they fail with the batch and their staged
      // readings go. A chunk still running for them (its lane was not cancelled) finds none pending.
      const staged = await lockUnprocessedItems(tem, batchId);
      await dropStagedReadings(tem, staged);
      await sql(tem, `update batch_items set state = 'failed', message = 'Not processed: the batch failed first.', processed_at = now() where batch_id = ? and state = 'pending'`, [batchId]);
      unprocessed = staged.length;
    }
    await sql(tem, `update batches set status = ?, failed_sessions = failed_sessions + ?, completed_at = coalesce(completed_at, now()) where id = ? and tenant_id = ?`, [
      status,
      unprocessed,
      batchId,
      tenantId,
    ]);
  });
}
