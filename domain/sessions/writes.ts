// Interactive writes to a session (POST, PUT, PATCH): the API validates and stages a write (one row
// holding the request), sends its id to the session actor, and answers with the session the actor
// returns. The actor applies staged writes one at a time through `applySessionChanges`, the same
// code that batch chunks use. Applying is idempotent: a write is marked applied in the transaction
// that applies it, and a write withdrawn before that (the workflow engine was unreachable) is never
// applied.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { sql, type Row } from '../../db/sql';
import { sendSessionWrite, temporalUnavailable } from '../../temporal/sessions';
import type { SessionView, WriteKind } from '../../workflows/session/contract';
import type { BatchDetector, RawMeterValue } from '../analysis/types';
import { validateMeterValues } from '../analysis/validate';
import { invalid, notFound, unavailable } from '../errors';
import { analyseAndStore } from './analysis';
import { applySessionChanges } from './apply';
import type { SessionFields } from './types';
import { sessionMetadata, sessionView } from './views';

/** A write as the API validated it: the readings and the optional fields the client sent. */
export interface SessionWriteInput extends SessionFields {
  /** POST only: the station the session belongs to (a different one moves it). */
  chargingStationId?: string;
  meterValues: RawMeterValue[];
}

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
 * `create` finds or creates the session, and its station only when the session is new (a create
 * naming another station for an existing session moves it when applied); the 201/200 decision is
 * made here, atomically, even under concurrent POSTs. `replace` and `append` need the session to
 * exist and return null otherwise. Nothing is written when it returns null.
 */
export async function stageWrite(
  em: EntityManager,
  input: { tenantId: string; sessionId: string; kind: WriteKind; payload: SessionWriteInput },
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
  const stationId = input.payload.chargingStationId;
  if (stationId === undefined) throw new Error('a create names its charging station');
  // One statement sees one snapshot: when a concurrent POST of the same new session commits after
  // it began, the insert skips the row and the select cannot see it yet. The next attempt does.
  for (let attempt = 1; ; attempt++) {
    const w = await one(
      em,
      `with existing as (
         select id from charging_sessions where tenant_id = ? and session_id = ?),
       station as (
         insert into charging_stations (id, tenant_id, station_id, created_at)
         select gen_random_uuid(), ?, ?, now() where not exists (select 1 from existing)
         on conflict (tenant_id, station_id) do update set station_id = excluded.station_id returning id),
       inserted as (
         insert into charging_sessions (id, tenant_id, session_id, station_id, status, anomaly_count, soc_reconstructed,
           reading_count, next_seq, created_at, updated_at)
         select gen_random_uuid(), ?, ?, station.id, 'pending', 0, false, 0, 0, now(), now() from station
         on conflict (tenant_id, session_id) do nothing returning id),
       s as (
         select id, true as created from inserted
         union all
         select id, false from existing),
       w as (
         insert into session_writes (id, tenant_id, session_id, kind, payload, reading_count, created_at)
         select gen_random_uuid(), ?, s.id, 'create', ?::jsonb, ?, now() from s returning id, session_id)
       select w.id, w.session_id, s.created from w join s on s.id = w.session_id`,
      [input.tenantId, input.sessionId, input.tenantId, stationId, input.tenantId, input.sessionId, input.tenantId, payload, readingCount],
    );
    if (w) return { writeId: w.id as string, sessionDbId: w.session_id as string, stationId, created: w.created as boolean };
    if (attempt >= 3) throw new Error(`could not stage a write for session ${input.sessionId}`);
  }
}

/**
 * Applies a staged write and analyses the session, in the caller's transaction: the readings and
 * their verdict commit together. `applied`: the write had been applied before (a retry; its
 * verdict was stored with it); `gone`: it was withdrawn.
 */
export async function applyStagedWrite(
  em: EntityManager,
  tenantId: string,
  writeId: string,
  detector: BatchDetector,
): Promise<'done' | 'applied' | 'gone'> {
  // Reads the write and marks it applied in one statement, holding the session's row (writes to
  // it wait) and the write's (a withdrawal waits, then finds it applied).
  const w = await one(
    em,
    `with w as (
       select w.id, w.kind, w.session_id, w.applied_at, w.payload, s.next_seq, st.station_id as current_station
         from session_writes w
         join charging_sessions s on s.id = w.session_id and s.tenant_id = w.tenant_id
         join charging_stations st on st.id = s.station_id
        where w.id = ? and w.tenant_id = ? for update of s, w),
     mark as (update session_writes set applied_at = now(), payload = null from w where session_writes.id = w.id and w.applied_at is null)
     select * from w`,
    [writeId, tenantId],
  );
  if (!w) return 'gone';
  if (w.applied_at) return 'applied';
  const { chargingStationId, meterValues, ...fields } = w.payload as SessionWriteInput;
  const fresh = (w.next_seq as number) === 0;
  const [applied] = await applySessionChanges(em, tenantId, [
    {
      sessionDbId: w.session_id,
      fresh,
      stationId: chargingStationId !== undefined && chargingStationId !== w.current_station ? chargingStationId : undefined,
      fields,
      readings: meterValues,
      // POST of an existing session has PUT semantics for its meter values, when it carries any.
      replace: w.kind === 'replace' || (w.kind === 'create' && meterValues.length > 0),
    },
  ]);
  await analyseAndStore(em, tenantId, detector, [{ ...applied, fresh }]);
  return 'done';
}

/**
 * Withdraws a staged write that no actor has applied (the workflow engine could not be reached),
 * and the session it created if nothing else has touched it since, with its station if that is
 * left without sessions. Returns false when the write was applied after all.
 */
export async function withdrawWrite(em: EntityManager, tenantId: string, staged: StagedWrite): Promise<boolean> {
  return em.transactional(async (tem) => {
    const gone = await sql(tem, 'delete from session_writes where id = ? and tenant_id = ? and applied_at is null returning id', [staged.writeId, tenantId]);
    if (gone.length === 0) return false;
    if (staged.created) {
      await sql(
        tem,
        `with s as (
           delete from charging_sessions s where s.id = ? and s.tenant_id = ? and s.next_seq = 0
              and not exists (select 1 from session_writes w where w.session_id = s.id) returning station_id)
         delete from charging_stations st using s
          where st.id = s.station_id and st.tenant_id = ?
            and not exists (select 1 from charging_sessions o where o.station_id = st.id and o.id <> ?)`,
        [staged.sessionDbId, tenantId, tenantId, staged.sessionDbId],
      );
    }
    return true;
  });
}

export interface SessionWriteContext {
  em: EntityManager;
  temporal: Client;
  tenantId: string;
  taskQueue: string;
  quietPeriodMs: number;
  now: Date;
}

/**
 * POST, PUT and PATCH: validates every reading (a 422 names index and field, nothing stored),
 * stages the write, has the session actor apply and analyse it, and returns the session as the
 * actor left it. When the workflow engine cannot be reached the write is withdrawn (503).
 */
export async function writeSession(
  ctx: SessionWriteContext,
  kind: WriteKind,
  sessionId: string,
  payload: SessionWriteInput,
): Promise<{ created: boolean; session: SessionView; timings: { stageMs: number; actorMs: number } }> {
  const issues = validateMeterValues(payload.meterValues, ctx.now);
  if (issues.length > 0) {
    const errors = issues.map((i) => ({ loc: ['body', 'meterValues', i.index, i.field], msg: i.message }));
    throw invalid(`Validation failed at meterValues[${issues[0].index}].${issues[0].field}: ${issues[0].message}`, errors);
  }
  const t0 = performance.now();
  const staged = await stageWrite(ctx.em, { tenantId: ctx.tenantId, sessionId, kind, payload });
  if (!staged) throw notFound('Session');
  const t1 = performance.now();
  let session: SessionView | null;
  try {
    session = await sendSessionWrite(
      ctx.temporal,
      { taskQueue: ctx.taskQueue, quietPeriodMs: ctx.quietPeriodMs, tenantId: ctx.tenantId, sessionDbId: staged.sessionDbId, sessionId, stationId: staged.stationId },
      { writeId: staged.writeId, kind, readingCount: payload.meterValues.length },
    );
  } catch (err) {
    if (!temporalUnavailable(err)) throw err;
    if (await withdrawWrite(ctx.em, ctx.tenantId, staged)) {
      throw unavailable('The workflow engine is unavailable; nothing was stored. Retry shortly.');
    }
    // Applied after all (the engine answered too late): the stored session is the answer.
    session = null;
  }
  session ??= await sessionView(ctx.em, ctx.tenantId, staged.sessionDbId);
  if (!session) throw notFound('Session');
  if (session.metadata === undefined) session.metadata = await sessionMetadata(ctx.em, ctx.tenantId, staged.sessionDbId);
  return { created: staged.created, session, timings: { stageMs: t1 - t0, actorMs: performance.now() - t1 } };
}
