// Batches: the submit reads its body as a stream (a 100,000-session body is about 1 GB of JSON),
// checking and staging each session as it arrives.
import { isUtf8 } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Batch, BatchItem, ChargingSession, SessionAnomaly } from '../../entities';
import { validateMeterValues } from '../../domain/analysis/validate';
import {
  BatchStager,
  completeStaging,
  createBatch,
  discardBatch,
  lockIdempotencyKey,
  type BatchSessionInput,
  type SubmitResult,
} from '../../domain/batches/batches';
import { BatchBodySplitter, JsonShapeError } from '../../domain/batches/json-stream';
import { parseSessionText } from '../../domain/batches/session-text';
import { startBatch } from '../../temporal/batches';
import type { AppDeps } from '../context';
import { HttpError, notFound, unprocessable, type FieldError } from '../http-error';
import { defineRoute, NUL_MESSAGE, nulPath } from '../route';
import { BatchIdParams, BatchSessionItem, BatchStatus, BatchStatusQuery, BatchSubmit, BatchSubmitted } from '../schemas/batches';
import { ErrorSchema, iso } from '../schemas/common';
import { meterValuesPass, presentSession } from '../schemas/sessions';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Largest single session in a batch body (20,000 readings take about 2 MiB). */
const MAX_SESSION_BYTES = 64 * 1024 * 1024;

const reject = (loc: (string | number)[], msg: string, more: FieldError[] = []) =>
  unprocessable(`Validation failed at ${loc.slice(1).join('.')}: ${msg}`, [{ loc, msg }, ...more].slice(0, 100));

/** The body's chunks, counted against the limit and hashed as they pass; the time spent waiting for them is kept. */
async function* bodyChunks(stream: IncomingMessage, limit: number, hash: Hash, wait: { ms: number }): AsyncGenerator<Buffer> {
  let bytes = 0;
  // Not destroyed when the caller stops early: the route then drains it and answers.
  const it = stream.iterator({ destroyOnReturn: false });
  try {
    for (;;) {
      const t = performance.now();
      const next = await it.next().catch(() => {
        throw new HttpError(400, 'Could not read the request body');
      });
      wait.ms += performance.now() - t;
      if (next.done) return;
      const chunk = next.value as Buffer;
      bytes += chunk.length;
      if (bytes > limit) throw new HttpError(413, `Request body exceeds the limit of ${limit} bytes`);
      hash.update(chunk);
      yield chunk;
    }
  } finally {
    // Detaches the iterator from the stream, so that the rest can be discarded.
    await it.return?.();
  }
}

/**
 * A session as BatchSessionItem reads it, or the 422 naming its first invalid field. Readings that
 * `meterValuesPass` accepts are not run through the schema again: only the session's other fields are.
 */
function checkSchema(value: unknown, i: number): BatchSessionInput {
  const readings = (value as { meterValues?: unknown } | null)?.meterValues;
  if (value && typeof value === 'object' && !Array.isArray(value) && meterValuesPass(readings)) {
    const rest = BatchSessionItem.safeParse({ ...value, meterValues: [] });
    if (rest.success) return { ...(rest.data as BatchSessionInput), meterValues: readings as BatchSessionInput['meterValues'] };
  }
  const result = BatchSessionItem.safeParse(value);
  if (!result.success) {
    const errors = result.error.issues.map((issue) => ({ loc: ['body', 'sessions', i, ...(issue.path as (string | number)[])], msg: issue.message }));
    throw reject(errors[0].loc, errors[0].msg, errors.slice(1));
  }
  return result.data as BatchSessionInput;
}

/**
 * Checks one session of the body as it arrives: the same schema as the whole body had, then what
 * the schema cannot say (unique session ids, valid readings, the batch's session and reading
 * budget). A 422 names the first invalid session's index and field.
 */
class SessionChecker {
  private readonly seen = new Map<string, number>();
  private readonly now = new Date();
  readings = 0;
  parseMs = 0;
  validateMs = 0;

  constructor(private readonly config: AppDeps['config']) {}

  check(text: string, i: number): BatchSessionInput {
    const t0 = performance.now();
    let value: unknown;
    try {
      value = parseSessionText(text);
    } catch (err) {
      throw new HttpError(400, `Malformed JSON body in sessions[${i}]: ${(err as Error).message}`);
    }
    const t1 = performance.now();
    this.parseMs += t1 - t0;
    // JSON writes NUL only as an escape, so only such a text needs the scan.
    const nul = text.includes('\\u0000') ? nulPath(value) : null;
    if (nul) throw reject(['body', 'sessions', i, ...nul], NUL_MESSAGE);
    if (i >= this.config.maxBatchSessions) throw reject(['body', 'sessions'], `at most ${this.config.maxBatchSessions} sessions per batch`);
    const s = checkSchema(value, i);
    const first = this.seen.get(s.sessionId);
    if (first !== undefined) throw reject(['body', 'sessions', i, 'sessionId'], `duplicate of sessions[${first}].sessionId "${s.sessionId}"`);
    this.seen.set(s.sessionId, i);
    this.readings += s.meterValues.length;
    if (this.readings > this.config.maxBatchReadings) {
      throw reject(['body', 'sessions'], `more than ${this.config.maxBatchReadings} meter values in total; a batch takes at most ${this.config.maxBatchReadings}`);
    }
    const issues = validateMeterValues(s.meterValues, this.now);
    if (issues.length > 0) {
      const errors = issues.map((issue) => ({ loc: ['body', 'sessions', i, 'meterValues', issue.index, issue.field], msg: issue.message }));
      throw reject(errors[0].loc, errors[0].msg, errors.slice(1));
    }
    this.validateMs += performance.now() - t1;
    return s;
  }
}

/**
 * Reads, checks and stages the body inside the submit's transaction, one group of sessions at a
 * time, so memory stays bounded whatever the body size. Any error rolls the whole batch back.
 */
async function stageStream(
  tem: EntityManager,
  input: { tenantId: string; idempotencyKey: string | null; stream: IncomingMessage; config: AppDeps['config'] },
): Promise<{ result: SubmitResult; timings: Record<string, number> }> {
  const hash = createHash('sha256');
  const wait = { ms: 0 };
  const chunks = bodyChunks(input.stream, input.config.batchBodyLimitBytes, hash, wait);
  if (input.idempotencyKey) {
    const existing = await lockIdempotencyKey(tem, input.tenantId, input.idempotencyKey);
    if (existing) {
      // Same key: the same body (by its bytes) is the same batch, another body is a conflict.
      for await (const _ of chunks);
      const result: SubmitResult =
        hash.digest('hex') === existing.requestHash ? { kind: 'existing', batchId: existing.batchId, totalSessions: existing.totalSessions, status: existing.status } : { kind: 'conflict' };
      return { result, timings: {} };
    }
  }
  const batchId = await createBatch(tem, input.tenantId, input.idempotencyKey);
  const stager = new BatchStager(tem, input.tenantId, batchId);
  const checker = new SessionChecker(input.config);
  const ready: { text: string; i: number; bytes: Buffer }[] = [];
  let notArray: unknown;
  let sawSessions = false;
  const splitter = new BatchBodySplitter(
    {
      isArrayKey: (k) => {
        const is = k === 'sessions';
        sawSessions ||= is;
        return is;
      },
      onElement: (text, i, bytes) => ready.push({ text, i, bytes }),
      onNotArray: (_k, v) => (notArray = v),
    },
    MAX_SESSION_BYTES,
  );
  let splitMs = 0;
  let buildMs = 0;
  const feed = (chunk: Buffer) => {
    const t = performance.now();
    try {
      splitter.feed(chunk);
    } catch (err) {
      if (!(err instanceof JsonShapeError)) throw err;
      if (!err.shape) throw new HttpError(400, err.message);
      throw reject(err.at === 'sessions' ? ['body', 'sessions', splitter.count] : ['body'], err.message);
    }
    splitMs += performance.now() - t;
  };
  try {
    for await (const chunk of chunks) {
      feed(chunk);
      for (const { text, i, bytes } of ready) {
        const session = checker.check(text, i);
        const t = performance.now();
        // The body's bytes are staged as they are unless they are not valid UTF-8 (decoding replaced
        // such bytes, and the text is what was validated; PostgreSQL would refuse them).
        const full = stager.add(i, session, isUtf8(bytes) ? bytes : Buffer.from(text));
        buildMs += performance.now() - t;
        if (full) await stager.flush();
      }
      ready.length = 0;
    }
    try {
      splitter.end();
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
    if (notArray !== undefined) throw reject(['body', 'sessions'], `Invalid input: expected array, received ${notArray === null ? 'null' : typeof notArray}`);
    if (!sawSessions) throw reject(['body', 'sessions'], 'Invalid input: expected array, received undefined');
    if (splitter.count === 0) throw reject(['body', 'sessions'], 'a batch needs at least one session');
    await stager.finish();
  } catch (err) {
    await stager.abort();
    throw err;
  }
  await completeStaging(tem, batchId, { sessions: stager.sessions, readings: stager.totalReadings, requestHash: hash.digest('hex') });
  const r = Math.round;
  return {
    result: { kind: 'created', batchId, totalSessions: stager.sessions, status: 'pending' },
    timings: { readWaitMs: r(wait.ms), splitMs: r(splitMs), parseMs: r(checker.parseMs), validateMs: r(checker.validateMs), buildMs: r(buildMs), stageWaitMs: r(stager.waitMs) },
  };
}

/** Submits staging now, per app and tenant (each holds a database connection until its body is read). */
const submitsInFlight = new WeakMap<AppDeps, Map<string, number>>();

/** Takes a submit slot, or throws the 429; the returned function gives it back. */
function takeSubmitSlot(deps: AppDeps, tenantId: string): () => void {
  let byTenant = submitsInFlight.get(deps);
  if (!byTenant) submitsInFlight.set(deps, (byTenant = new Map()));
  const all = [...byTenant.values()].reduce((n, k) => n + k, 0);
  const mine = byTenant.get(tenantId) ?? 0;
  const busy = (detail: string) => new HttpError(429, detail, undefined, { 'Retry-After': '5' });
  if (mine >= deps.config.maxConcurrentBatchSubmitsPerTenant) throw busy(`This tenant already has ${mine} batch submits uploading; retry shortly`);
  if (all >= deps.config.maxConcurrentBatchSubmits) throw busy(`${all} batch submits are already uploading; retry shortly`);
  byTenant.set(tenantId, mine + 1);
  return () => {
    const left = (byTenant.get(tenantId) ?? 1) - 1;
    if (left > 0) byTenant.set(tenantId, left);
    else byTenant.delete(tenantId);
  };
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
    access: 'member',
    body: BatchSubmit,
    streamBody: true,
    bodyLimitBytes: (c) => c.batchBodyLimitBytes,
    responses: {
      200: { description: 'Accepted (or the batch this Idempotency-Key created before)', schema: BatchSubmitted },
      409: { description: 'The Idempotency-Key was used for a different request', schema: ErrorSchema },
      429: {
        description: 'Too many batch submits are uploading at once, for this tenant or in all (EVNI_MAX_CONCURRENT_BATCH_SUBMITS_PER_TENANT, EVNI_MAX_CONCURRENT_BATCH_SUBMITS); retry after the Retry-After seconds',
        schema: ErrorSchema,
      },
      503: { description: 'The workflow engine is unavailable; nothing was stored', schema: ErrorSchema },
    },
    handler: async ({ em, auth, deps, headers, bodyStream, log }) => {
      const t0 = performance.now();
      const keyHeader = headers['idempotency-key'];
      const idempotencyKey = typeof keyHeader === 'string' && keyHeader.length > 0 ? keyHeader : null;
      if (idempotencyKey && idempotencyKey.length > 200) throw unprocessable('Idempotency-Key must be at most 200 characters');
      const tenantId = auth.tenant.id;
      const release = takeSubmitSlot(deps, tenantId);
      const { result: staged, timings } = await em
        .transactional((tem) => stageStream(tem, { tenantId, idempotencyKey, stream: bodyStream!, config: deps.config }))
        .finally(release);
      if (staged.kind === 'conflict') throw new HttpError(409, 'This Idempotency-Key was already used for a different batch');
      const t1 = performance.now();
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
          // A start can fail after the server accepted it: if a chunk already took sessions, the
          // batch is running and is answered as usual; otherwise it is removed.
          const running = staged.kind === 'created' && !(await discardBatch(em, tenantId, staged.batchId));
          if (!running) throw new HttpError(503, `Could not start the batch: ${(err as Error).message}`);
          log.warn({ batchId: staged.batchId, err: (err as Error).message }, 'batch start reported an error, but its workflow is already processing it');
        }
      }
      log.info(
        { batchId: staged.batchId, sessions: staged.totalSessions, stagedMs: Math.round(t1 - t0), ...timings, startMs: Math.round(performance.now() - t1) },
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
