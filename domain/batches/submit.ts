// Submitting a batch: the body is read as a stream (a 100,000-session body is about 1 GB of JSON),
// each session checked and staged as it arrives, all in one transaction; then the batch workflow
// starts. The request schema stays with the API: the caller passes its reading of one session in.
import { isUtf8 } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { EntityManager } from '@mikro-orm/postgresql';
import { validateMeterValues } from '../analysis/validate';
import { busy, conflict, DomainError, invalidAt, unavailable, type FieldError } from '../errors';
import type { SessionCreateInput } from '../sessions/types';
import { BatchBodySplitter, JsonShapeError } from './json-stream';
import { parseSessionText } from './session-text';
import { BatchStager, completeStaging, createBatch, discardBatch, lockIdempotencyKey, markSuperseded, type SubmitResult } from './staging';

/** Largest single session in a batch body (20,000 readings take about 2 MiB). */
const MAX_SESSION_BYTES = 64 * 1024 * 1024;

export interface SubmitLimits {
  /** Bytes of body (413 beyond). */
  batchBodyLimitBytes: number;
  maxBatchSessions: number;
  /** Meter values in all sessions together. */
  maxBatchReadings: number;
}

/**
 * How the API reads one session of the body (its request schema). Field locations are relative to
 * the session (`['meterValues', 17, 'timestamp']`).
 */
export interface BatchSessionReader {
  /** Where a parsed session holds something PostgreSQL text cannot (a NUL character), or null. Checked first. */
  unstorable(value: unknown): FieldError | null;
  /** The session as the request schema reads it, or the schema's errors (first one first). */
  read(value: unknown): { session: SessionCreateInput } | { errors: FieldError[] };
}

export interface SubmitBatchInput {
  tenantId: string;
  idempotencyKey: string | null;
  /** The request body, unread; it is not destroyed when the submit stops early (the caller drains it). */
  body: Readable;
  limits: SubmitLimits;
  /** The API process's submit slots (see `SubmitSlots`). */
  slots: SubmitSlots;
  reader: BatchSessionReader;
  /** Starts the batch's workflow (starting twice must be harmless). */
  start(batch: { batchId: string; totalSessions: number }): Promise<void>;
}

export interface SubmittedBatch {
  batchId: string;
  totalSessions: number;
  status: string;
  /** Set when the workflow start reported this error although the batch is already being processed. */
  startError?: string;
  /** Where the submit's time went, in ms (for its log line). */
  timings: Record<string, number>;
}

/**
 * Submits a batch: stages the body's sessions in one transaction (a 422 names the first invalid
 * session's index and field, and nothing is stored), then starts its workflow; if that fails the
 * batch is removed again and the submit is `unavailable`. With an Idempotency-Key a retried submit
 * of the same bytes answers the batch that key created; other bytes are a `conflict`.
 */
export async function submitBatch(em: EntityManager, input: SubmitBatchInput): Promise<SubmittedBatch> {
  const t0 = performance.now();
  const release = input.slots.take(input.tenantId);
  const { result: staged, timings } = await em.transactional((tem) => stageStream(tem, input)).finally(release);
  if (staged.kind === 'conflict') throw conflict('This Idempotency-Key was already used for a different batch');
  const t1 = performance.now();
  let startError: string | undefined;
  if (staged.kind === 'created' || staged.status === 'pending') {
    try {
      await input.start({ batchId: staged.batchId, totalSessions: staged.totalSessions });
    } catch (err) {
      // A start can fail after the server accepted it: if a chunk already took sessions, the
      // batch is running and is answered as usual; otherwise it is removed.
      const running = staged.kind === 'created' && !(await discardBatch(em, input.tenantId, staged.batchId));
      if (!running) throw unavailable(`Could not start the batch: ${(err as Error).message}`);
      startError = (err as Error).message;
    }
  }
  const r = Math.round;
  return {
    batchId: staged.batchId,
    totalSessions: staged.totalSessions,
    status: staged.status,
    startError,
    timings: { stagedMs: r(t1 - t0), ...timings, startMs: r(performance.now() - t1) },
  };
}

/**
 * Batch submits uploading now in one API process, per tenant: each holds a database connection
 * until its body is read, so beyond the limits the next submit is `busy`.
 */
export class SubmitSlots {
  private readonly byTenant = new Map<string, number>();

  constructor(private readonly limits: { maxConcurrentBatchSubmits: number; maxConcurrentBatchSubmitsPerTenant: number }) {}

  /** Takes a slot, or throws `busy`; the returned function gives it back. */
  take(tenantId: string): () => void {
    const all = [...this.byTenant.values()].reduce((n, k) => n + k, 0);
    const mine = this.byTenant.get(tenantId) ?? 0;
    if (mine >= this.limits.maxConcurrentBatchSubmitsPerTenant) throw busy(`This tenant already has ${mine} batch submits uploading; retry shortly`);
    if (all >= this.limits.maxConcurrentBatchSubmits) throw busy(`${all} batch submits are already uploading; retry shortly`);
    this.byTenant.set(tenantId, mine + 1);
    return () => {
      const left = (this.byTenant.get(tenantId) ?? 1) - 1;
      if (left > 0) this.byTenant.set(tenantId, left);
      else this.byTenant.delete(tenantId);
    };
  }
}

/** A 422 at `loc` (which starts with `body`). */
const reject = (loc: (string | number)[], msg: string) => invalidAt([{ loc, msg }]);

/** Field errors of session `i`, located in the body. */
const inSession = (i: number, errors: FieldError[]) => errors.map((e) => ({ loc: ['body', 'sessions', i, ...e.loc], msg: e.msg }));

/** The body's chunks, counted against the limit and hashed as they pass; the time spent waiting for them is kept. */
async function* bodyChunks(stream: Readable, limit: number, hash: Hash, wait: { ms: number }): AsyncGenerator<Buffer> {
  let bytes = 0;
  // Not destroyed when the caller stops early: the route then drains it and answers.
  const it = stream.iterator({ destroyOnReturn: false });
  try {
    for (;;) {
      const t = performance.now();
      const next = await it.next().catch(() => {
        throw new DomainError('unreadable', 'Could not read the request body');
      });
      wait.ms += performance.now() - t;
      if (next.done) return;
      const chunk = next.value as Buffer;
      bytes += chunk.length;
      if (bytes > limit) throw new DomainError('too_large', `Request body exceeds the limit of ${limit} bytes`);
      hash.update(chunk);
      yield chunk;
    }
  } finally {
    // Detaches the iterator from the stream, so that the rest can be discarded.
    await it.return?.();
  }
}

/**
 * Checks one session of the body as it arrives: the request schema (the caller's reader), then what
 * the schema cannot say (valid readings, the batch's session and reading budget). A 422 names the
 * first invalid session's index and field. A session id seen before in the body supersedes the
 * earlier occurrence: the last one wins (`superseded` lists the earlier ones).
 */
class SessionChecker {
  private readonly seen = new Map<string, number>();
  /** [index, session id] of every occurrence a later one of the same session id superseded. */
  readonly superseded: [number, string][] = [];
  private readonly now = new Date();
  readings = 0;
  parseMs = 0;
  validateMs = 0;

  constructor(
    private readonly limits: SubmitLimits,
    private readonly reader: BatchSessionReader,
  ) {}

  check(text: string, i: number): SessionCreateInput {
    const t0 = performance.now();
    let value: unknown;
    try {
      value = parseSessionText(text);
    } catch (err) {
      // 422 like any malformed JSON body (the references keep 400 for API key problems).
      throw reject(['body', 'sessions', i], `Malformed JSON body in sessions[${i}]: ${(err as Error).message}`);
    }
    const t1 = performance.now();
    this.parseMs += t1 - t0;
    // JSON writes NUL only as an escape, so only such a text needs the scan.
    const nul = text.includes('\\u0000') ? this.reader.unstorable(value) : null;
    if (nul) throw invalidAt(inSession(i, [nul]));
    if (i >= this.limits.maxBatchSessions) throw reject(['body', 'sessions'], `at most ${this.limits.maxBatchSessions} sessions per batch`);
    const read = this.reader.read(value);
    if ('errors' in read) throw invalidAt(inSession(i, read.errors));
    const s = read.session;
    const earlier = this.seen.get(s.sessionId);
    if (earlier !== undefined) this.superseded.push([earlier, s.sessionId]);
    this.seen.set(s.sessionId, i);
    this.readings += s.meterValues.length;
    if (this.readings > this.limits.maxBatchReadings) {
      throw reject(['body', 'sessions'], `more than ${this.limits.maxBatchReadings} meter values in total; a batch takes at most ${this.limits.maxBatchReadings}`);
    }
    const issues = validateMeterValues(s.meterValues, this.now);
    if (issues.length > 0) throw invalidAt(inSession(i, issues.map((issue) => ({ loc: ['meterValues', issue.index, issue.field], msg: issue.message }))));
    this.validateMs += performance.now() - t1;
    return s;
  }

  /** The superseded occurrences, each with the index of the last occurrence of its session id (which wins). */
  supersededBy(): { idx: number; by: number }[] {
    return this.superseded.map(([idx, sessionId]) => ({ idx, by: this.seen.get(sessionId)! }));
  }
}

/**
 * Reads, checks and stages the body inside the submit's transaction, one group of sessions at a
 * time, so memory stays bounded whatever the body size. Any error rolls the whole batch back.
 */
async function stageStream(tem: EntityManager, input: SubmitBatchInput): Promise<{ result: SubmitResult; timings: Record<string, number> }> {
  const hash = createHash('sha256');
  const wait = { ms: 0 };
  const chunks = bodyChunks(input.body, input.limits.batchBodyLimitBytes, hash, wait);
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
  const checker = new SessionChecker(input.limits, input.reader);
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
      if (!err.shape) throw reject(['body'], `Malformed JSON body: ${err.message}`);
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
      throw reject(['body'], `Malformed JSON body: ${(err as Error).message}`);
    }
    if (notArray !== undefined) throw reject(['body', 'sessions'], `Invalid input: expected array, received ${notArray === null ? 'null' : typeof notArray}`);
    if (!sawSessions) throw reject(['body', 'sessions'], 'Invalid input: expected array, received undefined');
    if (splitter.count === 0) throw reject(['body', 'sessions'], 'a batch needs at least one session');
    await stager.finish();
  } catch (err) {
    await stager.abort();
    throw err;
  }
  const superseded = checker.supersededBy();
  await markSuperseded(tem, input.tenantId, batchId, superseded);
  await completeStaging(tem, input.tenantId, batchId, { sessions: stager.sessions, readings: stager.totalReadings, requestHash: hash.digest('hex'), superseded: superseded.length });
  const r = Math.round;
  return {
    result: { kind: 'created', batchId, totalSessions: stager.sessions, status: 'pending' },
    timings: { readWaitMs: r(wait.ms), splitMs: r(splitMs), parseMs: r(checker.parseMs), validateMs: r(checker.validateMs), buildMs: r(buildMs), stageWaitMs: r(stager.waitMs) },
  };
}
