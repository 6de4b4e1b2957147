// The worker process: runs session, batch and other workflows and their activities.
import { config } from '../config';
import { openOrm } from '../db/orm';
import { createLogger } from '../logger';
import { connectWorker } from '../temporal/connection';
import { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { ServedDetectorRegistry, servedFineTuneEnvironment } from '../models/serving/detector-registry';
import { createWorker } from './worker';
import { ensureDataQualitySchedule } from '../temporal/statistics-schedule';
import { loadShadeDetector } from '../models/serving/shade';
import { startShadeScheduleKeeper } from '../temporal/shade-schedules';
import { shadeTenants } from '../domain/stations/schedules';
import { startWebhookDispatcher } from '../domain/webhooks/dispatcher';
import { deliveryPolicy, webhookSettings } from '../domain/webhooks/settings';

async function main() {
  const log = createLogger('worker');
  // The SDK's own messages go through the same JSON logger as ours: one format for operators.
  const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };
  Runtime.install({ logger: new DefaultLogger('INFO', (entry) => log[levels[entry.level]]({ ...entry.meta, sdk: true }, entry.message)) });
  if (!config.databaseUrl || !config.temporalAddress) throw new Error('DATABASE_URL and TEMPORAL_ADDRESS must be set');
  const orm = await openOrm(config.databaseUrl);
  const connection = await connectWorker(config.temporalAddress);
  const detectors = new ServedDetectorRegistry({ threads: config.onnxThreads, orm });
  // Load the ONNX models while the worker starts, not on the first session a client is waiting for.
  await detectors.served();
  const temporal = new Client({ connection, namespace: config.temporalNamespace });
  await ensureDataQualitySchedule(temporal, config.taskQueue, config.dataQualityEveryMinutes); // statistics: the data-quality schedule (idempotent)
  const worker = await createWorker({ connection, namespace: config.temporalNamespace, taskQueue: config.taskQueue, deps: { orm, detectors, temporal, fineTune: servedFineTuneEnvironment(config), shade: await loadShadeDetector({ threads: config.onnxThreads }) } });
  // SHADE: a schedule per tenant, created now for every tenant and then for new ones and time-zone changes.
  const shadeSchedules = startShadeScheduleKeeper({ client: temporal, taskQueue: config.taskQueue, tenants: () => shadeTenants(orm.em.fork()), everyMs: 60_000, log });
  // Not awaited: with many tenants the first pass takes a while, and sessions should not wait for it.
  shadeSchedules.ready.catch((err: unknown) => log.warn({ err: (err as Error).message }, 'SHADE schedules: first pass failed (retried at the next one)'));
  // Webhooks: the outbox dispatcher starts a delivery workflow per (event, endpoint).
  const dispatcher = await startWebhookDispatcher({ orm, temporal, taskQueue: config.taskQueue, policy: deliveryPolicy(webhookSettings(config)), pollMs: config.webhookDispatchPollMs, log });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => worker.shutdown());
  log.info({ taskQueue: config.taskQueue, temporal: config.temporalAddress }, 'worker running');
  await worker.run();
  await shadeSchedules.stop();
  await dispatcher.stop();
  await connection.close();
  await orm.close();
  log.info('worker stopped');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
