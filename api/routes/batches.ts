import { Batch, BatchItem, ChargingSession, SessionAnomaly } from '../../entities';
import { validateMeterValues } from '../../domain/analysis/validate';
import { discardBatch, hashRequest, stageBatch, type BatchSessionInput } from '../../domain/batches/batches';
import { startBatch } from '../../temporal/batches';
import { HttpError, notFound, unprocessable, type FieldError } from '../http-error';
import { defineRoute } from '../route';
import { BatchIdParams, BatchStatus, BatchStatusQuery, BatchSubmit, BatchSubmitted } from '../schemas/batches';
import { ErrorSchema, iso } from '../schemas/common';
import { presentSession } from '../schemas/sessions';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Everything the schema cannot say: unique session ids, valid readings, the total reading budget. */
function validateBatch(sessions: BatchSessionInput[], maxReadings: number): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Map<string, number>();
  let readings = 0;
  const now = new Date();
  sessions.forEach((s, i) => {
    const first = seen.get(s.sessionId);
    if (first !== undefined) errors.push({ loc: ['body', 'sessions', i, 'sessionId'], msg: `duplicate of sessions[${first}].sessionId "${s.sessionId}"` });
    else seen.set(s.sessionId, i);
    readings += s.meterValues.length;
    for (const issue of validateMeterValues(s.meterValues, now)) {
      errors.push({ loc: ['body', 'sessions', i, 'meterValues', issue.index, issue.field], msg: issue.message });
    }
  });
  if (readings > maxReadings) errors.unshift({ loc: ['body', 'sessions'], msg: `${readings} meter values in total; a batch takes at most ${maxReadings}` });
  return errors;
}

export const batchRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/sessions/batch',
    summary: 'Submit a batch of sessions',
    description:
      'Validates every session (a 422 names the session index and field; nothing of a rejected batch is stored), stages them and ' +
      'returns at once; poll GET /v1/sessions/batch/{batch_id}. Each session is upserted like POST /v1/sessions. ' +
      'Send an Idempotency-Key header to make a retried submit return the same batch. Limits: see the README.',
    tags: ['Batches'],
    access: 'member',
    body: BatchSubmit,
    bodyLimitBytes: (c) => c.batchBodyLimitBytes,
    responses: {
      200: { description: 'Accepted (or the batch this Idempotency-Key created before)', schema: BatchSubmitted },
      409: { description: 'The Idempotency-Key was used for a different request', schema: ErrorSchema },
      503: { description: 'The workflow engine is unavailable; nothing was stored', schema: ErrorSchema },
    },
    handler: async ({ em, auth, body, deps, headers, rawBody, log }) => {
      const t0 = performance.now();
      const keyHeader = headers['idempotency-key'];
      const idempotencyKey = typeof keyHeader === 'string' && keyHeader.length > 0 ? keyHeader : null;
      if (idempotencyKey && idempotencyKey.length > 200) throw unprocessable('Idempotency-Key must be at most 200 characters');
      const sessions = body.sessions as BatchSessionInput[];
      const errors = validateBatch(sessions, deps.config.maxBatchReadings);
      if (errors.length > 0) {
        const f = errors[0];
        throw unprocessable(`Validation failed at ${f.loc.slice(1).join('.')}: ${f.msg}`, errors.slice(0, 100));
      }
      const tenantId = auth.tenant.id;
      const t1 = performance.now();
      const staged = await stageBatch(em, { tenantId, sessions, idempotencyKey, requestHash: hashRequest(rawBody ?? '') });
      if (staged.kind === 'conflict') throw new HttpError(409, 'This Idempotency-Key was already used for a different batch');
      const t2 = performance.now();
      if (staged.kind === 'created' || staged.status === 'pending') {
        try {
          await startBatch(deps.temporal, deps.config.taskQueue, {
            tenantId,
            batchId: staged.batchId,
            totalSessions: staged.totalSessions,
            chunkSize: deps.config.batchChunkSize,
            parallelism: deps.config.batchParallelism,
          });
        } catch (err) {
          if (staged.kind === 'created') await discardBatch(em, tenantId, staged.batchId);
          throw new HttpError(503, `Could not start the batch: ${(err as Error).message}`);
        }
      }
      log.info(
        { batchId: staged.batchId, sessions: sessions.length, validateMs: Math.round(t1 - t0), stageMs: Math.round(t2 - t1), startMs: Math.round(performance.now() - t2) },
        'batch submitted',
      );
      return { body: { batchId: staged.batchId, totalSessions: staged.totalSessions, status: staged.status } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/sessions/batch/{batch_id}',
    summary: 'Batch status and results',
    description: 'Progress counters and the processed sessions so far, in submission order, paginated.',
    tags: ['Batches'],
    access: 'member',
    params: BatchIdParams,
    query: BatchStatusQuery,
    responses: { 200: { description: 'The batch', schema: BatchStatus }, 404: { description: 'No such batch for this tenant', schema: ErrorSchema } },
    handler: async ({ em, params, query }) => {
      const batch = UUID.test(params.batch_id) ? await em.findOne(Batch, { id: params.batch_id }) : null;
      if (!batch) throw notFound('Batch');
      const items = await em.find(
        BatchItem,
        { batch, state: { $ne: 'pending' } },
        { orderBy: { idx: 'asc' }, limit: query.pageSize, offset: (query.page - 1) * query.pageSize },
      );
      const ids = items.map((i) => i.sessionDbId!).filter(Boolean);
      const sessions = await em.find(ChargingSession, { id: { $in: ids } }, { populate: ['station'] });
      const anomalies = await em.find(SessionAnomaly, { session: { $in: ids } });
      const byId = new Map(sessions.map((s) => [s.id, s]));
      const results = items
        .filter((i) => byId.has(i.sessionDbId!))
        .map((i) => {
          const s = byId.get(i.sessionDbId!)!;
          const out = presentSession(s, anomalies.filter((a) => a.session.id === s.id));
          return { ...out, message: i.message ?? out.message, readingCount: s.readingCount };
        });
      return {
        body: {
          batchId: batch.id,
          status: batch.status,
          totalSessions: batch.totalSessions,
          processedSessions: batch.processedSessions,
          failedSessions: batch.failedSessions,
          results,
          page: query.page,
          pageSize: query.pageSize,
          createdAt: iso(batch.createdAt)!,
          completedAt: iso(batch.completedAt),
        },
      };
    },
  }),
];
