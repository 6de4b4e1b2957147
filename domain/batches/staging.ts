// Staging a batch at submit: the batch row and one batch_items row per session (its fields, which
// optional fields the client sent, and its JSON text), all in the submit's transaction, so that a
// rejected batch leaves nothing behind. Chunks (batches.ts) process what is staged here.
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { copyBinary, sql } from '../../db/sql';
import { CopyBinaryWriter, uuidField } from '../../db/copy-binary';
import { presentFieldsMask, type SessionCreateInput } from '../sessions/types';

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

/** Sets the batch's totals once its body is read; superseded duplicates count as processed from the start. */
export async function completeStaging(
  tem: EntityManager,
  tenantId: string,
  batchId: string,
  totals: { sessions: number; readings: number; requestHash: string; superseded?: number },
): Promise<void> {
  await sql(tem, 'update batches set total_sessions = ?, total_readings = ?, request_hash = ?, processed_sessions = ? where id = ? and tenant_id = ?', [
    totals.sessions,
    totals.readings,
    totals.requestHash,
    totals.superseded ?? 0,
    batchId,
    tenantId,
  ]);
}

/**
 * A session id that occurs more than once in one batch: the last occurrence wins. The earlier ones
 * are never applied (no chunk picks them up: their state is `superseded`, and their staged readings
 * go); the batch's results show them with the session and a message naming the winner.
 */
export async function markSuperseded(tem: EntityManager, tenantId: string, batchId: string, superseded: { idx: number; by: number }[]): Promise<void> {
  if (superseded.length === 0) return;
  await sql(
    tem,
    `update batch_items b set state = 'superseded', session_json = null, processed_at = now(),
            message = 'Superseded by sessions[' || r.by || '] (the same sessionId later in this batch: the last occurrence wins); not applied.'
       from jsonb_to_recordset(?::jsonb) as r(idx int, by int)
      where b.batch_id = ? and b.tenant_id = ? and b.idx = r.idx`,
    [JSON.stringify(superseded), batchId, tenantId],
  );
}

const ITEM_COLUMNS =
  'batch_id, idx, tenant_id, session_id, station_id, connector_id, evse_id, metadata, client_status, stop_reason, reading_count, staged_id, session_json, state, present_fields';

/**
 * Stages a batch's sessions while the body is still arriving, inside the submit's transaction (a
 * rejected batch rolls back whole): one binary COPY per group of sessions into batch_items, each
 * row with the session's fields, the `PRESENT_FIELD_BITS` of the optional fields it sent and, when
 * it carries readings, the session's JSON exactly as the client sent it (validated; the chunk reads
 * its readings from it). Staging the client's bytes costs a copy, where writing the validated
 * readings out as JSON again cost the submit a fifth of its time. A group's COPY runs while the
 * caller parses the next group; at most one is in flight.
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
  add(idx: number, s: SessionCreateInput, sessionJson: Uint8Array): boolean {
    const n = s.meterValues.length;
    this.out.row(15).raw(this.batchField).int4(idx).raw(this.tenantField);
    this.out.uniqueText(s.sessionId).uniqueText(s.chargingStationId).uniqueText(s.connectorId).uniqueText(s.evseId);
    this.out.jsonb(s.metadata == null ? null : JSON.stringify(s.metadata)).text(s.status).uniqueText(s.stopReason);
    this.out.int4(n).raw(uuidField(randomUUID()));
    // Without readings the session keeps its own: nothing to stage.
    if (n === 0) this.out.null();
    else this.out.utf8(sessionJson);
    this.out.text('pending').int2(presentFieldsMask(s));
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
  input: { tenantId: string; sessions: SessionCreateInput[]; idempotencyKey: string | null; requestHash: string },
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
    const last = new Map(input.sessions.map((s, i) => [s.sessionId, i]));
    const superseded = input.sessions.flatMap((s, i) => (last.get(s.sessionId) !== i ? [{ idx: i, by: last.get(s.sessionId)! }] : []));
    await markSuperseded(tem, input.tenantId, batchId, superseded);
    await completeStaging(tem, input.tenantId, batchId, { sessions: stager.sessions, readings: stager.totalReadings, requestHash: input.requestHash, superseded: superseded.length });
    return { kind: 'created' as const, batchId, totalSessions: stager.sessions, status: 'pending' };
  });
}

/**
 * Removes a staged batch whose workflow could not be started — unless it started after all (a
 * start call can fail after the server accepted it) and a chunk has already taken sessions.
 */
export async function discardBatch(em: EntityManager, tenantId: string, batchId: string): Promise<boolean> {
  return em.transactional(async (tem) => {
    await lockUnprocessedItems(tem, tenantId, batchId);
    const gone = await sql(tem, `delete from batches where id = ? and tenant_id = ? and status = 'pending' returning id`, [batchId, tenantId]);
    return gone.length > 0;
  });
}

/**
 * Locks the items no chunk has processed yet and returns how many there are. A chunk holds its
 * items' locks until it commits, so this waits for chunks in flight and then sees what they did.
 */
export async function lockUnprocessedItems(tem: EntityManager, tenantId: string, batchId: string): Promise<number> {
  return (await sql(tem, `select idx from batch_items where batch_id = ? and tenant_id = ? and state = 'pending' for update`, [batchId, tenantId])).length;
}
