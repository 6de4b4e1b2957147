// Batches: a submit stages every session of the request in PostgreSQL (never in workflow inputs)
// as the body streams in, one batch_items row per session with its validated JSON text;
// chunk activities process the staged sessions set-based, one transaction per chunk: they write
// the sessions and their readings (COPY), analyse the readings they already hold, and commit the
// verdicts, item states and batch counters together, so a retried or re-run chunk can never
// process a session twice.
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { timestampMicros } from '../analysis/validate';
import type { RawMeterValue, StoredMeterValue } from '../analysis/types';
import { copyBinary, pgArray, sql } from '../../db/sql';
import { CopyBinaryWriter, uuidField } from '../../db/copy-binary';
import { loadReadingsOf, storeVerdicts, verdictsFor } from '../sessions/analysis';
import { stagedMeterValues } from './session-text';

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

const ITEM_COLUMNS = 'batch_id, idx, tenant_id, session_id, station_id, connector_id, evse_id, metadata, client_status, stop_reason, reading_count, staged_id, session_json, state';
const READING_COLUMNS = 'tenant_id, session_id, seq, timestamp, value, measurand, unit, phase, location, context, format, multiplier, reconstructed';

/**
 * Stages a batch's sessions while the body is still arriving, inside the submit's transaction (a
 * rejected batch rolls back whole): one binary COPY per group of sessions into batch_items, each
 * row with the session's fields and, when it carries readings, the session's JSON exactly as the
 * client sent it (validated; the chunk reads its readings from it). Staging the client's bytes
 * costs a copy, where writing the validated readings out as JSON again cost the submit a fifth of
 * its time. A group's COPY runs while the caller parses the next group; at most one is in flight.
 */
export class BatchStager {
  private out: CopyBinaryWriter;
  private grouped = 0;
  private inFlight: Promise<void> = Promise.resolve();
  private failure: unknown;
  private readonly batchField: Uint8Array;
  private readonly tenantField: Uint8Array;
  /** ms the caller spent waiting for PostgreSQL (the rest of the COPY time overlapped parsing). */
  waitMs = 0;
  sessions = 0;
  totalReadings = 0;

  constructor(
    private readonly tem: EntityManager,
    tenantId: string,
    batchId: string,
  ) {
    this.batchField = uuidField(batchId);
    this.tenantField = uuidField(tenantId);
    this.out = new CopyBinaryWriter(1 << 20);
  }

  /**
   * Adds a validated session and its JSON text as UTF-8 (the body's bytes); returns true when a
   * group is full and `flush` should be awaited.
   */
  add(idx: number, s: BatchSessionInput, sessionJson: Uint8Array): boolean {
    const n = s.meterValues.length;
    this.out.row(14).raw(this.batchField).int4(idx).raw(this.tenantField);
    this.out.uniqueText(s.sessionId).uniqueText(s.chargingStationId).uniqueText(s.connectorId).uniqueText(s.evseId);
    this.out.jsonb(s.metadata == null ? null : JSON.stringify(s.metadata)).text(s.status).uniqueText(s.stopReason);
    this.out.int4(n).raw(uuidField(randomUUID()));
    // Without readings the session keeps its own: nothing to stage.
    if (n === 0) this.out.null();
    else this.out.utf8(sessionJson);
    this.out.text('pending');
    this.sessions++;
    this.totalReadings += n;
    return ++this.grouped >= STAGE_GROUP;
  }

  /** Waits for the previous group's COPY, then starts this group's without waiting for it. */
  async flush(): Promise<void> {
    await this.settle();
    const data = this.out.finish();
    this.out = new CopyBinaryWriter(data.length + (data.length >> 3));
    this.grouped = 0;
    this.inFlight = copyBinary(this.tem, 'batch_items', ITEM_COLUMNS, data).catch((err) => {
      this.failure = err;
    });
  }

  /** Stages what is left and waits for every COPY. */
  async finish(): Promise<void> {
    if (this.grouped > 0) await this.flush();
    await this.settle();
  }

  /** Waits for the COPY in flight without staging more (before a rollback: the connection must be idle). */
  async abort(): Promise<void> {
    this.grouped = 0;
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
    for (const [i, s] of input.sessions.entries()) if (stager.add(i, s, Buffer.from(JSON.stringify(s)))) await stager.flush();
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
    await lockUnprocessedItems(tem, batchId);
    const gone = await sql(tem, `delete from batches where id = ? and tenant_id = ? and status = 'pending' returning id`, [batchId, tenantId]);
    return gone.length > 0;
  });
}

/**
 * Locks the items no chunk has processed yet and returns how many there are. A chunk holds its
 * items' locks until it commits, so this waits for chunks in flight and then sees what they did.
 */
async function lockUnprocessedItems(tem: EntityManager, batchId: string): Promise<number> {
  return (await sql(tem, `select idx from batch_items where batch_id = ? and state = 'pending' for update`, [batchId])).length;
}

export interface ChunkResult {
  processed: number;
  failed: number;
  skipped: number;
  /** Where the chunk's time went, in ms: sessions and their readings, analysis, verdicts + counters. */
  timings?: { writeMs: number; analyseMs: number; verdictMs: number };
}

/**
 * Processes the still-pending sessions with idx in [from, to), all in one transaction: upserts
 * stations, sessions and connectors from the staged items (POST semantics: an item with readings
 * replaces the session's, numbered after its earlier ones), COPYs the readings, analyses them and
 * stores the verdicts. A new session gets the item's staged id.
 */
export async function processChunk(em: EntityManager, tenantId: string, batchId: string, from: number, to: number): Promise<ChunkResult> {
  return em.transactional(async (tem) => {
    const exec = (query: string, params: unknown[]) => sql(tem, query, params);
    const items = await exec(
      `select idx, session_id, staged_id, reading_count, session_json from batch_items
        where batch_id = ? and tenant_id = ? and idx >= ? and idx < ? and state = 'pending' order by idx for update`,
      [batchId, tenantId, from, to],
    );
    if (items.length === 0) return { processed: 0, failed: 0, skipped: to - from };
    const t0 = performance.now();
    const range = [batchId, from, to];
    const pending = `b.batch_id = ? and b.idx >= ? and b.idx < ? and b.state = 'pending'`;
    const staged = items.map((it) => (it.session_json == null ? null : stagedMeterValues(it.session_json)));
    // Each timestamp is read once here, for the session's span and the binary COPY.
    const micros = staged.map((mv) => (mv ? mv.map((m) => stagedMicros(m.timestamp)) : []));
    const spans = staged.map((mv, i) => (mv ? span(mv, micros[i]) : { first: null, last: null }));

    await exec(
      `insert into charging_stations (id, tenant_id, station_id, created_at)
       select gen_random_uuid(), ?, x.station_id, now() from (select distinct b.station_id from batch_items b where ${pending}) x
       order by x.station_id
       on conflict (tenant_id, station_id) do nothing`,
      [tenantId, ...range],
    );
    // Upsert locks each session row until commit: a live session actor's writes wait for the chunk.
    // Rows are taken in session-id order, as in every chunk, so two batches sharing sessions wait
    // for each other instead of deadlocking. The stats of a session that carries readings are
    // those of its staged readings (they replace).
    const sessions = await exec(
      `insert into charging_sessions as s (id, tenant_id, session_id, station_id, connector_id, evse_id, metadata, client_status, stop_reason,
           status, anomaly_count, soc_reconstructed, reading_count, next_seq, started_at, ended_at, created_at, updated_at)
       select b.staged_id, b.tenant_id, b.session_id, st.id, b.connector_id, b.evse_id, b.metadata, b.client_status, b.stop_reason,
           'pending', 0, false, b.reading_count, b.reading_count, x.first_ts, x.last_ts, now(), now()
         from batch_items b
         join unnest(?::int[], ?::timestamptz[], ?::timestamptz[]) as x(idx, first_ts, last_ts) on x.idx = b.idx
         join charging_stations st on st.tenant_id = b.tenant_id and st.station_id = b.station_id
        where ${pending}
        order by b.session_id
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
      [pgArray(items.map((it) => it.idx)), pgArray(spans.map((x) => x.first)), pgArray(spans.map((x) => x.last)), ...range],
    );
    await exec(
      `insert into connectors (id, tenant_id, station_id, connector_id, evse_id, created_at)
       select gen_random_uuid(), ?, st.id, b.connector_id, max(b.evse_id), now()
         from batch_items b join charging_stations st on st.tenant_id = b.tenant_id and st.station_id = b.station_id
        where ${pending} and b.connector_id is not null group by st.id, b.connector_id order by st.id, b.connector_id
       on conflict (station_id, connector_id) do update set evse_id = coalesce(excluded.evse_id, connectors.evse_id)`,
      [tenantId, ...range],
    );
    const bySessionId = new Map(sessions.map((r) => [r.session_id as string, r]));
    const rows = items.map((it) => bySessionId.get(it.session_id)!);
    const finalIds = rows.map((row) => row.id as string);
    // Readings: an item with readings replaces the session's (an existing session's go first), its
    // own numbered after the session's earlier ones (next_seq came back already advanced by n).
    // A session the upsert inserted got the item's fresh id; an existing one kept its own.
    const createdHere = items.map((it, i) => finalIds[i] === it.staged_id);
    const replaced = items.flatMap((_, i) => (staged[i] && !createdHere[i] ? [finalIds[i]] : []));
    if (replaced.length > 0) await exec('delete from meter_values where session_id = any(?::uuid[])', [pgArray(replaced)]);
    const readings: StoredMeterValue[][] = staged.map((mv, i) => (mv ? stored(mv, rows[i].next_seq - items[i].reading_count) : []));
    await copyBinary(tem, 'meter_values', READING_COLUMNS, readingsCopyBinary(tenantId, finalIds, readings, micros));
    // Items without readings keep the session's.
    const kept = await loadReadingsOf(tem, tenantId, finalIds.filter((_, i) => !staged[i]));
    for (const [i, id] of finalIds.entries()) if (!staged[i]) readings[i] = kept.get(id) ?? [];

    const t1 = performance.now();
    const verdicts = (await verdictsFor(items.map((_, i) => ({ readings: readings[i], metadata: rows[i].metadata })))).map((verdict, i) => ({
      sessionDbId: finalIds[i],
      verdict,
      idx: items[i].idx as number,
      createdHere: createdHere[i],
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
      `update batch_items b set state = r.state, message = r.message, session_db_id = r.session_db_id, processed_at = now(), session_json = null
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
    const timings = { writeMs: Math.round(t1 - t0), analyseMs: Math.round(t2 - t1), verdictMs: Math.round(performance.now() - t2) };
    return { processed: states.length - failed, failed, skipped: to - from - items.length, timings };
  });
}

/** A staged item's readings as the session stores them: arrival order, `seq` from `base`. */
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
    const session = uuidField(sessionIds[i]);
    const rs = readings[i];
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

/** A staged (validated) timestamp's microseconds; a staged one that is not readable is a bug, not input. */
function stagedMicros(timestamp: string): number {
  const us = timestampMicros(timestamp);
  if (us === null) throw new Error(`unreadable timestamp ${JSON.stringify(timestamp)} in a staged reading`);
  return us;
}

/** A typical reading's bytes in binary COPY (fixed fields plus measurand and unit). */
const READING_BYTES_HINT = 160;

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

export async function finishBatch(em: EntityManager, tenantId: string, batchId: string, status: 'completed' | 'failed'): Promise<void> {
  await em.transactional(async (tem) => {
    let unprocessed = 0;
    if (status === 'failed') {
      // Items no chunk got to will never be processed: they fail with the batch and their staged
      // readings go. A chunk still running for them (its lane was not cancelled) finds none pending.
      unprocessed = await lockUnprocessedItems(tem, batchId);
      await sql(tem, `update batch_items set state = 'failed', message = 'Not processed: the batch failed first.', processed_at = now(), session_json = null where batch_id = ? and state = 'pending'`, [batchId]);
    }
    await sql(tem, `update batches set status = ?, failed_sessions = failed_sessions + ?, completed_at = coalesce(completed_at, now()) where id = ? and tenant_id = ?`, [
      status,
      unprocessed,
      batchId,
      tenantId,
    ]);
  });
}
