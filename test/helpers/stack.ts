// The real stack for the test run: PostgreSQL (DATABASE_URL's server, or an embedded one), a
// Temporal dev server started by @temporalio/testing from the project-local CLI, an in-process
// worker and the API on a free port. Started once by test/global-setup.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import pino from 'pino';
import { Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { config } from '../../config';
import { migrate, openOrm, type Orm } from '../../db/orm';
import { listen } from '../../api/server';
import { syncBaseModels } from '../../domain/models/registry';
import { committedBaseModels } from '../../models/serving/registry';
import { ALL_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { createWorker } from '../../worker/worker';
import { ensureDataQualitySchedule } from '../../temporal/statistics-schedule';
import { loadShadeDetector } from '../../models/serving/shade';
import { startShadeScheduleKeeper, type ShadeScheduleKeeper } from '../../temporal/shade-schedules';
import { shadeTenants } from '../../domain/stations/schedules';
import { ServedDetectorRegistry, servedFineTuneEnvironment } from '../../models/serving/detector-registry';
import { scratchDatabase, startEmbeddedPostgres, type RunningPostgres } from '../../stack/postgres';
import { DEV_SERVER_DYNAMIC_CONFIG } from '../../stack/temporal-server';
import { freePort } from './ports';
import { randomBytes } from 'node:crypto';
import { startWebhookDispatcher } from '../../domain/webhooks/dispatcher';
import { deliveryPolicy, webhookSettings, type WebhookSettings } from '../../domain/webhooks/settings';

export interface TestStack {
  apiUrl: string;
  databaseUrl: string;
  orm: Orm;
  env: TestWorkflowEnvironment;
  taskQueue: string;
  worker: Worker;
  /** The worker's detector registry (for tests that call domain functions directly). */
  detectors: ServedDetectorRegistry;
  /** Lines the API logged, parsed (for log-format tests). */
  logLines: Record<string, unknown>[];
  /** The webhook settings of the stack's worker and API (short retries, http to loopback allowed). */
  webhooks: WebhookSettings;
  /** Keeps a SHADE schedule per tenant (as the worker does). */
  shadeSchedules: ShadeScheduleKeeper;
}

let current: TestStack | undefined;
const stoppers: (() => Promise<unknown>)[] = [];

export function stack(): TestStack {
  if (!current) throw new Error('test stack not started');
  return current;
}

async function database(): Promise<string> {
  const name = `evni_test_${process.pid}_${Date.now()}`;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evni-test-pg-'));
    fs.chmodSync(dir, 0o755);
    const pg: RunningPostgres = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port: await freePort(), removeIfOrphaned: dir });
    stoppers.push(async () => {
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    adminUrl = pg.urlFor('postgres');
  }
  const db = await scratchDatabase(adminUrl, name);
  stoppers.push(db.drop);
  return db.url;
}

export async function startTestStack(): Promise<TestStack> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const databaseUrl = await database();
  const orm = await openOrm(databaseUrl);
  stoppers.push(() => orm.close());
  await migrate(orm);
  await syncBaseModels(orm.em.fork(), committedBaseModels());

  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: config.temporalBinary },
      ip: '127.0.0.1',
      searchAttributes: ALL_SEARCH_ATTRIBUTES,
      extraArgs: DEV_SERVER_DYNAMIC_CONFIG,
    },
  });
  stoppers.push(() => env.teardown());

  const taskQueue = `evni-test-${process.pid}`;
  // Webhooks: a key of the run's own, plain http to 127.0.0.1 (the tests' receivers), short retries,
  // and an endpoint disabled after 3 failed deliveries in a row.
  const webhookConfig = {
    ...config,
    webhookSecretKey: randomBytes(32).toString('base64'),
    webhookAllowHttpLoopback: true,
    webhookRetryDelaysMs: [200, 200, 200, 200],
    webhookRetryAfterCapMs: 5_000,
    webhookTimeoutMs: 2_000,
    webhookDisableAfterFailures: 3,
  };
  // Deliveries never leave the machine: the tests' receivers are on loopback, and fuzzed or made-up
  // public URLs must not reach real hosts.
  const webhooks = webhookSettings(webhookConfig, { egress: (a) => a.address === '127.0.0.1' || a.address === '::1' });
  const detectors = new ServedDetectorRegistry({ threads: config.onnxThreads, orm });
  // Fine-tuning: tenant models and job files in folders of the run's own (test/fine-tune.test.ts).
  const fineTuneDirs = { modelsDir: fs.mkdtempSync(path.join(os.tmpdir(), 'evni-test-models-')), fineTuneDir: fs.mkdtempSync(path.join(os.tmpdir(), 'evni-test-fine-tune-')) };
  stoppers.push(async () => Object.values(fineTuneDirs).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const worker = await createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    deps: { orm, detectors, temporal: env.client, webhooks, fineTune: servedFineTuneEnvironment(fineTuneDirs), shade: await loadShadeDetector({ threads: config.onnxThreads }) },
  });
  const running = worker.run();
  await ensureDataQualitySchedule(env.client, taskQueue, config.dataQualityEveryMinutes); // statistics: the data-quality schedule, as the worker creates it
  // SHADE: the per-tenant schedules, as the worker keeps them (tests call `shadeSchedules.sync()` after making a tenant).
  const shadeSchedules = startShadeScheduleKeeper({ client: env.client, taskQueue, tenants: () => shadeTenants(orm.em.fork()), everyMs: 60_000 });
  await shadeSchedules.ready;
  stoppers.push(() => shadeSchedules.stop());
  stoppers.push(async () => {
    worker.shutdown();
    await running;
  });

  const logLines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => logLines.push(JSON.parse(line)) },
  );
  // The service-wide rate-limit defaults are off here (tests send bursts with one key); per-organization
  // limits still apply, and test/rate-limits.test.ts covers both.
  const dispatcher = await startWebhookDispatcher({ orm, temporal: env.client, taskQueue, policy: deliveryPolicy(webhooks), pollMs: 200 });
  stoppers.push(() => dispatcher.stop());
  const testConfig = { ...webhookConfig, taskQueue, temporalNamespace: env.namespace ?? 'default', rateLimitPerMinute: 0, batchSubmitLimitPerMinute: 0, fineTuneHeartbeatTimeoutMs: 10_000, fineTuneBaseEvalSessions: 40 };
  const { server, url } = await listen({ orm, temporal: env.client, config: testConfig, logger }, 0, '127.0.0.1');
  stoppers.push(() => closeServer(server));

  current = { apiUrl: url, databaseUrl, orm, env, taskQueue, worker, detectors, logLines, webhooks, shadeSchedules };
  return current;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function stopTestStack(): Promise<void> {
  for (const stop of stoppers.reverse()) await stop();
  stoppers.length = 0;
  current = undefined;
}
