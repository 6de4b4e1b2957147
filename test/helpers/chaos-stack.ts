// A stack of its own for the chaos tests, which stop and start its PostgreSQL and its Temporal dev
// server (the shared test stack is never restarted): an embedded PostgreSQL and a dev server with a
// SQLite file, both in a temporary folder and restarted on the same ports with the same data, and a
// worker and an API in this process that are never restarted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { listen } from '../../api/server';
import { config } from '../../config';
import { migrate, openOrm, type Orm } from '../../db/orm';
import { syncBaseModels } from '../../domain/models/registry';
import { committedBaseModels } from '../../models/serving/registry';
import { startEmbeddedPostgres, type RunningPostgres } from '../../stack/postgres';
import { startTemporalDevServer, type RunningTemporal } from '../../stack/temporal-server';
import { connectClient, connectWorker } from '../../temporal/connection';
import { createWorker } from '../../worker/worker';
import { freePort } from './ports';
import { stack } from './stack';

export interface ChaosStack {
  apiUrl: string;
  orm: Orm;
  taskQueue: string;
  /** Stops the Temporal dev server, waits `downMs`, starts it again (same port, same SQLite file). */
  restartTemporal(downMs: number): Promise<void>;
  /** Stops PostgreSQL (fast shutdown), waits `downMs`, starts it again (same port, same data). */
  restartPostgres(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startChaosStack(opts: { batchChunkSize: number }): Promise<ChaosStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evni-chaos-'));
  fs.chmodSync(dir, 0o755);
  const stoppers: (() => Promise<unknown>)[] = [];
  const pgOpts = { dataDir: path.join(dir, 'pg'), port: await freePort(), removeIfOrphaned: dir };
  let pg: RunningPostgres = await startEmbeddedPostgres(pgOpts);
  await pg.createDatabase('evni_chaos');
  const databaseUrl = pg.urlFor('evni_chaos');
  const orm = await openOrm(databaseUrl);
  await migrate(orm);
  await syncBaseModels(orm.em.fork(), committedBaseModels());

  const temporalOpts = { binary: config.temporalBinary, dbFile: path.join(dir, 'temporal.db'), port: await freePort(), uiPort: await freePort(), namespace: 'default' };
  let temporal: RunningTemporal = await startTemporalDevServer(temporalOpts);
  const client: Client = await connectClient(temporal.address, 'default');
  const connection: NativeConnection = await connectWorker(temporal.address);
  const taskQueue = `evni-chaos-${process.pid}`;
  const shared = stack();
  const worker: Worker = await createWorker({
    connection,
    namespace: 'default',
    taskQueue,
    deps: { orm, detectors: shared.detectors, temporal: client, webhooks: shared.webhooks },
  });
  const running = worker.run();
  const logger = pino({ level: 'silent' });
  const apiConfig = { ...config, taskQueue, temporalNamespace: 'default', rateLimitPerMinute: 0, batchSubmitLimitPerMinute: 0, batchChunkSize: opts.batchChunkSize, batchParallelism: 2 };
  const { server, url } = await listen({ orm, temporal: client, config: apiConfig, logger }, 0, '127.0.0.1');

  stoppers.push(async () => {
    await new Promise<void>((resolve) => {
      (server as Server).close(() => resolve());
      (server as Server).closeAllConnections();
    });
  });
  stoppers.push(async () => {
    worker.shutdown();
    await running.catch(() => undefined);
    await connection.close().catch(() => undefined);
    await client.connection.close().catch(() => undefined);
  });
  stoppers.push(() => temporal.stop());
  stoppers.push(() => orm.close());
  stoppers.push(() => pg.stop());
  stoppers.push(async () => fs.rmSync(dir, { recursive: true, force: true }));

  return {
    apiUrl: url,
    orm,
    taskQueue,
    async restartTemporal(downMs) {
      await temporal.stop();
      await new Promise((r) => setTimeout(r, downMs));
      temporal = await startTemporalDevServer(temporalOpts);
    },
    async restartPostgres(downMs) {
      await pg.stop();
      await new Promise((r) => setTimeout(r, downMs));
      pg = await startEmbeddedPostgres(pgOpts);
    },
    async stop() {
      for (const s of stoppers) await s().catch(() => undefined);
    },
  };
}
