// `npm start`: the whole stack on one machine. PostgreSQL (embedded unless DATABASE_URL), Temporal
// dev server with UI (unless TEMPORAL_ADDRESS), migrations, the worker and the API as child
// processes, and a demo tenant whose key is printed. Ctrl-C stops every child.
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../config';
import { migrate, openOrm } from '../db/orm';
import { authenticate, createTenantWithAdminKey } from '../domain/api-keys';
import { createLogger } from '../logger';
import { connectClient, ensureSearchAttributes } from '../temporal/connection';
import { startEmbeddedPostgres, type RunningPostgres } from './postgres';
import { spawnNodeScript } from './node-child';
import { spawnTrainingWorker } from './training-worker';
import { startTemporalDevServer, stopChild, type RunningTemporal } from './temporal-server';

const log = createLogger('launcher');
const envInt = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

function startChild(name: string, script: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawnNodeScript(script, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  log.info({ pid: child.pid }, `${name} started`);
  return child;
}

async function waitForReady(url: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`API at ${url} did not become ready within ${timeoutMs / 1000} s`);
}

/**
 * The demo key is kept in .data so that it stays the same across restarts (only its hash is in the
 * DB). It belongs to the demo organization's first admin (`admin@demo-operator.example`); a key
 * that no longer works, or whose member is no longer an admin, is replaced by a new demo tenant's.
 */
async function demoKey(databaseUrl: string): Promise<string> {
  const keyFile = path.join(config.dataDir, 'demo-api-key');
  const orm = await openOrm(databaseUrl);
  try {
    await migrate(orm);
    if (fs.existsSync(keyFile)) {
      const key = fs.readFileSync(keyFile, 'utf8').trim();
      const result = await authenticate(orm.em.fork(), `Bearer ${key}`);
      if (result.ok && result.member.role === 'admin') return key;
    }
    const { key } = await createTenantWithAdminKey(orm.em.fork(), 'Demo operator', 'demo');
    fs.writeFileSync(keyFile, key + '\n', { mode: 0o600 });
    return key;
  } finally {
    await orm.close();
  }
}

/**
 * The key that encrypts webhook secrets at rest (EVNI_WEBHOOK_SECRET_KEY): the environment's when
 * set, else one generated once into the data folder (mode 0600) and reused, so stored secrets stay
 * readable across restarts.
 */
function webhookSecretKey(): string {
  if (config.webhookSecretKey) return config.webhookSecretKey;
  const keyFile = path.join(config.dataDir, 'webhook-secret-key');
  if (!fs.existsSync(keyFile)) fs.writeFileSync(keyFile, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  return fs.readFileSync(keyFile, 'utf8').trim();
}

async function main() {
  fs.mkdirSync(config.dataDir, { recursive: true });
  const stoppers: (() => Promise<void>)[] = [];
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping the stack');
    for (const stop of stoppers.reverse()) await stop().catch((err) => log.error({ err }, 'stop failed'));
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const pg: RunningPostgres = await startEmbeddedPostgres({
        dataDir: path.join(config.dataDir, 'postgres'),
        port: envInt('EVNI_PG_PORT', 54329),
        log,
      });
      stoppers.push(() => pg.stop());
      await pg.createDatabase('evni');
      databaseUrl = pg.urlFor('evni');
      log.info({ databaseUrl: databaseUrl.replace(/:[^:@/]+@/, ':***@') }, 'embedded PostgreSQL running');
    }

    let temporalAddress = config.temporalAddress;
    let temporalUi = process.env.TEMPORAL_UI_URL ?? '(managed outside this stack)';
    if (!temporalAddress) {
      const t: RunningTemporal = await startTemporalDevServer({
        binary: config.temporalBinary,
        dbFile: path.join(config.dataDir, 'temporal.sqlite'),
        port: envInt('EVNI_TEMPORAL_PORT', 7233),
        uiPort: envInt('EVNI_TEMPORAL_UI_PORT', 8233),
        namespace: config.temporalNamespace,
        log,
      });
      stoppers.push(() => t.stop());
      temporalAddress = t.address;
      temporalUi = t.uiUrl;
    } else {
      const client = await connectClient(temporalAddress, config.temporalNamespace);
      await ensureSearchAttributes(client, config.temporalNamespace);
      await client.connection.close();
    }

    const key = await demoKey(databaseUrl);
    fs.writeFileSync(path.join(config.dataDir, 'stack.json'), JSON.stringify({ databaseUrl, temporalAddress }, null, 2));

    const env = { DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress, EVNI_WEBHOOK_SECRET_KEY: webhookSecretKey() };
    for (const [name, script] of [['worker', 'worker/main.ts'], ['api', 'api/main.ts']] as const) {
      const child = startChild(name, script, env);
      stoppers.push(() => stopChild(child));
      child.once('exit', (code, signal) => {
        if (stopping) return;
        log.error({ code, signal }, `${name} exited; stopping the stack`);
        void shutdown(1);
      });
    }

    // The Python training worker (fine-tuning, models/training/worker/) with the models' venv.
    const trainer = spawnTrainingWorker({ temporalAddress, namespace: config.temporalNamespace, stdio: ['ignore', 'inherit', 'inherit'] });
    log.info({ trainingWorkerPid: trainer.pid }, 'training worker started');
    trainer.once('error', (err) => log.error({ err, python: config.trainingPython }, 'the training worker could not start'));
    stoppers.push(() => stopChild(trainer));
    trainer.once('exit', (code, signal) => {
      if (stopping) return;
      log.error({ code, signal }, 'training worker exited; stopping the stack');
      void shutdown(1);
    });

    const apiUrl = `http://${config.host}:${config.port}`;
    await waitForReady(apiUrl);
    process.stdout.write(
      [
        '',
        'EV Network Intelligence is running. Ctrl-C stops it.',
        `API key: ${key}`,
        `API: ${apiUrl}`,
        `Docs: ${apiUrl}/docs`,
        `Temporal UI: ${temporalUi}`,
        '',
      ].join('\n'),
    );
  } catch (err) {
    log.error({ err }, 'the stack failed to start');
    await shutdown(1);
  }
}

void main();
