// Batches: the submit streams its body into the batch domain (domain/batches/submit.ts), which
// checks and stages each session as it arrives; the route parses, calls and presents.
import { batchStatus } from '../../domain/batches/status';
import { SubmitSlots, submitBatch, type BatchSessionReader } from '../../domain/batches/submit';
import { startBatch } from '../../temporal/batches';
import type { AppDeps } from '../context';
import { unprocessable } from '../http-error';
import { defineRoute, NUL_MESSAGE, nulPath } from '../route';
import { BatchIdParams, BatchStatus, BatchStatusQuery, BatchSubmit, BatchSubmitted, presentBatchStatus, readBatchSession } from '../schemas/batches';
import { ErrorSchema } from '../schemas/common';

/** A batch session as the request schema reads it; NUL characters are refused before the schema runs. */
const sessionReader: BatchSessionReader = {
  unstorable: (value) => {
    const at = nulPath(value);
    return at && { loc: at, msg: NUL_MESSAGE };
  },
  read: readBatchSession,
};

/** Each API process (its AppDeps) caps the submits uploading at once. */
const submitSlots = new WeakMap<AppDeps, SubmitSlots>();
function slotsOf(deps: AppDeps): SubmitSlots {
  let slots = submitSlots.get(deps);
  if (!slots) submitSlots.set(deps, (slots = new SubmitSlots(deps.config)));
  return slots;
}

export const batchRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/sessions/batch',
    summary: 'Submit a batch of sessions',
    description:
      'Validates every session as the body streams in (a 422 names the first invalid session\'s index and field; nothing of a ' +
      'rejected batch is stored), stages them and returns; poll GET /v1/sessions/batch/{batch_id}. Each session is upserted like ' +
      'POST /v1/sessions. Send an Idempotency-Key header to make a retried submit return the same batch. Limits: 100,000 sessions, ' +
      '10,000,000 meter values and 2 GiB of body per request by default (EVNI_MAX_BATCH_SESSIONS, EVNI_MAX_BATCH_READINGS, ' +
      'EVNI_BATCH_BODY_LIMIT_BYTES; a larger body is a 413); 20,000 meter values per session.',
    tags: ['Batches'],
    body: BatchSubmit,
    streamBody: true,
    rateLimit: 'batch-submit',
    bodyLimitBytes: (c) => c.batchBodyLimitBytes,
    responses: {
      200: { description: 'Accepted (or the batch this Idempotency-Key created before)', schema: BatchSubmitted },
      409: { description: 'The Idempotency-Key was used for a different request', schema: ErrorSchema },
      429: {
        description: 'Too many batch submits are uploading at once, for this tenant or in all (EVNI_MAX_CONCURRENT_BATCH_SUBMITS_PER_TENANT, EVNI_MAX_CONCURRENT_BATCH_SUBMITS); retry after the Retry-After seconds',
        schema: ErrorSchema,
      },
      503: { description: 'The workflow engine is unavailable; nothing was stored. Retry after the Retry-After seconds.', schema: ErrorSchema },
    },
    handler: async ({ em, auth, deps, headers, bodyStream, log }) => {
      const keyHeader = headers['idempotency-key'];
      const idempotencyKey = typeof keyHeader === 'string' && keyHeader.length > 0 ? keyHeader : null;
      if (idempotencyKey && idempotencyKey.length > 200) throw unprocessable('Idempotency-Key must be at most 200 characters');
      const tenantId = auth.tenant.id;
      const batch = await submitBatch(em, {
        tenantId,
        idempotencyKey,
        body: bodyStream!,
        limits: deps.config,
        slots: slotsOf(deps),
        reader: sessionReader,
        start: ({ batchId, totalSessions }) =>
          startBatch(deps.temporal, deps.config.taskQueue, { tenantId, batchId, totalSessions, chunkSize: deps.config.batchChunkSize, parallelism: deps.config.batchParallelism }),
      });
      if (batch.startError) log.warn({ batchId: batch.batchId, err: batch.startError }, 'batch start reported an error, but its workflow is already processing it');
      log.info({ batchId: batch.batchId, sessions: batch.totalSessions, ...batch.timings }, 'batch submitted');
      return { body: { batchId: batch.batchId, totalSessions: batch.totalSessions, status: batch.status } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/sessions/batch/{batch_id}',
    summary: 'Batch status and results',
    description: 'Progress counters and the processed sessions so far, in submission order, paginated.',
    tags: ['Batches'],
    params: BatchIdParams,
    query: BatchStatusQuery,
    responses: { 200: { description: 'The batch', schema: BatchStatus }, 404: { description: 'No such batch for this tenant', schema: ErrorSchema } },
    handler: async ({ em, auth, params, query }) => ({ body: presentBatchStatus(await batchStatus(em, auth.tenant.id, params.batch_id, query), query) }),
  }),
];
