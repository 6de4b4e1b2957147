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
const DATA_DIR = process.env.EVNI_DATA_DIR ?? path.join(ROOT_DIR, '.data');

export const config = {
  /** Where `npm start` keeps embedded PostgreSQL data, the Temporal SQLite file and the demo key. */
  dataDir: DATA_DIR,
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
  /** How often the scheduled data-quality run refreshes every tenant's snapshot (at least every minute). */
  dataQualityEveryMinutes: Math.max(1, int('EVNI_DATA_QUALITY_EVERY_MINUTES', 60)),
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
  /**
   * Explanations (`/explain`, `/ask`). Without ANTHROPIC_API_KEY a deterministic explainer answers
   * `/explain` and `/ask` is a 503. The worker holds the key; the API passes the other settings to
   * each explanation workflow (they decide its activities' timeouts and retries).
   */
  anthropicApiKey: process.env.ANTHROPIC_API_KEY || undefined,
  /** The Messages API's base URL (the SDK's `baseURL`); unset: the SDK's default. */
  anthropicBaseUrl: process.env.ANTHROPIC_BASE_URL || undefined,
  llmModel: process.env.EVNI_LLM_MODEL || 'claude-sonnet-4-6',
  llmMaxTokens: int('EVNI_LLM_MAX_TOKENS', 1024),
  /** Model calls per explanation (tool-use rounds); the last one may not call tools. */
  llmMaxRounds: int('EVNI_LLM_MAX_ROUNDS', 6),
  /** One Messages API call's timeout; a timed-out call is retried by Temporal. */
  llmTimeoutMs: int('EVNI_LLM_TIMEOUT_MS', 60_000),
  /** Attempts per model call (429, 529, 5xx, timeouts), with exponential backoff from the initial interval. */
  llmMaxAttempts: int('EVNI_LLM_MAX_ATTEMPTS', 5),
  llmRetryInitialMs: int('EVNI_LLM_RETRY_INITIAL_MS', 1_000),
  llmRetryMaxMs: int('EVNI_LLM_RETRY_MAX_MS', 30_000),
  /** Tokens (input, prompt-cache writes and reads, output) per organization per UTC day; 0 = no budget. */
  llmDailyTokenBudget: int('EVNI_LLM_DAILY_TOKEN_BUDGET', 2_000_000),
  /** How long the API waits for a generation before a 503 with Retry-After (the generation goes on and is cached). */
  explainWaitMs: int('EVNI_EXPLAIN_WAIT_MS', 30_000),
  /**
   * Webhooks (domain/webhooks/). The key (32 bytes, base64 or hex) encrypts the endpoints' signing
   * secrets at rest; `npm start` generates one into its data folder. Without it the webhook
   * endpoints answer 503. `EVNI_WEBHOOK_ALLOW_HTTP_LOOPBACK=1` (development and tests only) lets an
   * endpoint be plain http on a literal loopback address.
   */
  webhookSecretKey: process.env.EVNI_WEBHOOK_SECRET_KEY || undefined,
  webhookAllowHttpLoopback: process.env.EVNI_WEBHOOK_ALLOW_HTTP_LOOPBACK === '1',
  /** Waits before the 2nd, 3rd, … attempt of a delivery (ms, comma-separated): about a day in all. */
  webhookRetryDelaysMs: (process.env.EVNI_WEBHOOK_RETRY_DELAYS_MS || '5000,300000,1800000,7200000,18000000,36000000,36000000').split(',').map(Number),
  /** A receiver's Retry-After (429, 503) is honoured up to this. */
  webhookRetryAfterCapMs: int('EVNI_WEBHOOK_RETRY_AFTER_CAP_MS', 3_600_000),
  /** One attempt's timeout (connect, send, answer). */
  webhookTimeoutMs: int('EVNI_WEBHOOK_TIMEOUT_MS', 10_000),
  /** An endpoint whose deliveries have all failed for this long is disabled. */
  webhookDisableAfterMs: int('EVNI_WEBHOOK_DISABLE_AFTER_MS', 5 * 24 * 3600 * 1000),
  /** … or after this many failed deliveries in a row (0: no count limit, only the time above). */
  webhookDisableAfterFailures: int('EVNI_WEBHOOK_DISABLE_AFTER_FAILURES', 0),
  /** The outbox dispatcher wakes on every commit (LISTEN/NOTIFY) and polls this often besides. */
  webhookDispatchPollMs: int('EVNI_WEBHOOK_DISPATCH_POLL_MS', 1_000),
  /**
   * Fine-tuning (domain/models/fine-tune.ts, workflows/fine-tune/). Tenant models' ONNX files live
   * under EVNI_MODELS_DIR (not in git), the jobs' tensors and checkpoints under EVNI_FINE_TUNE_DIR;
   * the Python training worker polls EVNI_TRAINING_TASK_QUEUE. A model is promoted by itself only
   * when its base-evaluation score (session + bucket macro-F1) is at most EVNI_FINE_TUNE_PROMOTION_MARGIN
   * below the base model's.
   */
  modelsDir: process.env.EVNI_MODELS_DIR ?? path.join(DATA_DIR, 'models'),
  fineTuneDir: process.env.EVNI_FINE_TUNE_DIR ?? path.join(DATA_DIR, 'fine-tune'),
  trainingTaskQueue: process.env.EVNI_TRAINING_TASK_QUEUE || 'training',
  trainingPython: process.env.EVNI_TRAINING_PYTHON ?? path.join(ROOT_DIR, '.tools', 'models-venv', 'bin', 'python'),
  fineTuneMinSessions: int('EVNI_FINE_TUNE_MIN_SESSIONS', 20),
  fineTuneMaxSessions: int('EVNI_FINE_TUNE_MAX_SESSIONS', 20_000),
  fineTunePromotionMargin: ((raw: string) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`EVNI_FINE_TUNE_PROMOTION_MARGIN must be a non-negative number, got "${raw}"`);
    return n;
  })(process.env.EVNI_FINE_TUNE_PROMOTION_MARGIN || '0.02'),
  fineTuneBaseEvalSessions: int('EVNI_FINE_TUNE_BASE_EVAL_SESSIONS', 200),
  fineTuneHeartbeatTimeoutMs: int('EVNI_FINE_TUNE_HEARTBEAT_TIMEOUT_MS', 30_000),
  logLevel: process.env.LOG_LEVEL ?? 'info',
  temporalBinary: process.env.TEMPORAL_BINARY ?? path.join(ROOT_DIR, '.tools', 'venv', 'bin', 'temporal'),
};

export type Config = typeof config;
