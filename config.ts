// Runtime settings, read once from the environment. Every process of the stack (API, worker,
// launcher, CLI) takes its settings from here so that a variable means the same thing everywhere.
import path from 'node:path';

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

export const ROOT_DIR = path.resolve(__dirname);

export const config = {
  /** Where `npm start` keeps embedded PostgreSQL data, the Temporal SQLite file and the demo key. */
  dataDir: process.env.EVNI_DATA_DIR ?? path.join(ROOT_DIR, '.data'),
  databaseUrl: process.env.DATABASE_URL,
  temporalAddress: process.env.TEMPORAL_ADDRESS,
  temporalNamespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
  taskQueue: process.env.TEMPORAL_TASK_QUEUE ?? 'evni-sessions',
  host: process.env.HOST ?? '127.0.0.1',
  port: int('PORT', 8000),
  /** Largest request body accepted, in bytes (413 above it). */
  bodyLimitBytes: int('EVNI_BODY_LIMIT_BYTES', 5 * 1024 * 1024),
  /** Most meter values accepted in one create / replace / append request (422 above it). */
  maxReadingsPerRequest: int('EVNI_MAX_READINGS_PER_REQUEST', 20_000),
  /** A session actor with no write for this long closes itself (a later write starts a new run). */
  sessionQuietPeriodMs: int('EVNI_SESSION_QUIET_MS', 6 * 60 * 60 * 1000),
  /** Batches: request size, sessions and readings per batch, and how they are processed. */
  // The batch body is parsed as a stream, so this bounds the upload, not the API's memory: 2 GiB
  // fits the largest batch (100,000 sessions of 96 readings are about 1 GB of JSON).
  batchBodyLimitBytes: int('EVNI_BATCH_BODY_LIMIT_BYTES', 2 * 1024 * 1024 * 1024),
  maxBatchSessions: int('EVNI_MAX_BATCH_SESSIONS', 100_000),
  maxBatchReadings: int('EVNI_MAX_BATCH_READINGS', 10_000_000),
  /**
   * Batch submits staging at once in one API process (429 with Retry-After beyond it). A submit
   * holds a database connection for its whole upload, and the pool has 10: unbounded slow uploads
   * would leave none for anything else.
   */
  maxConcurrentBatchSubmits: int('EVNI_MAX_CONCURRENT_BATCH_SUBMITS', 4),
  /** Of those, one tenant's at most: one tenant's stalled uploads cannot lock the others out. */
  maxConcurrentBatchSubmitsPerTenant: int('EVNI_MAX_CONCURRENT_BATCH_SUBMITS_PER_TENANT', 2),
  /**
   * Fair use: requests per minute per API key, and batch submits per minute per key (a separate,
   * lower budget; a submit counts against both). An organization's settings override these; 0
   * turns a limit off. Counted in PostgreSQL, so every API process on one database shares them.
   */
  rateLimitPerMinute: int('EVNI_RATE_LIMIT_PER_MINUTE', 600),
  batchSubmitLimitPerMinute: int('EVNI_BATCH_SUBMIT_LIMIT_PER_MINUTE', 10),
  batchChunkSize: int('EVNI_BATCH_CHUNK_SIZE', 200),
  batchParallelism: int('EVNI_BATCH_PARALLELISM', 2),
  /**
   * Threads per ONNX inference in the service. A batch chunk scores 64 sessions per run, and the
   * run blocks the worker's event loop: two threads halve that (measured: batch processing 8–10 %
   * faster in interleaved runs on two cores). The evaluation and the bench's limit use one.
   */
  onnxThreads: int('EVNI_ONNX_THREADS', 2),
  logLevel: process.env.LOG_LEVEL ?? 'info',
  temporalBinary: process.env.TEMPORAL_BINARY ?? path.join(ROOT_DIR, '.tools', 'venv', 'bin', 'temporal'),
};

export type Config = typeof config;
