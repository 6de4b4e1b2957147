// A throwaway stack for the benchmark: PostgreSQL (DATABASE_URL's server or an embedded one in a
// temporary folder), a Temporal dev server on free ports, and the worker and API as separate
// processes (so that their memory can be measured), exactly as `npm start` runs them.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { config } from '../config';
import { migrate, openOrm } from '../db/orm';
import { createTenantWithAdminKey } from '../domain/api-keys';
import { freePort } from '../stack/ports';
import { scratchDatabase, startEmbeddedPostgres } from '../stack/postgres';
import { spawnNodeScript } from '../stack/node-child';
import { startTemporalDevServer, stopChild } from '../stack/temporal-server';

export interface BenchStack {
  apiUrl: string;
  key: string;
  databaseUrl: string;
  /** The stack's Temporal server (host:port). */
  temporalAddress: string;
  apiPid: number;
  workerPid: number;
  /** The API's and the worker's JSON logs (info level), for per-phase timings. */
  apiLog: string;
  workerLog: string;
  stop(): Promise<void>;
}

/** Resident and peak-resident memory of a process, in MiB (from /proc). */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

export async function startBenchStack(env: Record<string, string> = {}): Promise<BenchStack> {
  const stops: (() => Promise<unknown>)[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evni-bench-'));
  fs.chmodSync(dir, 0o755);
  stops.push(async () => fs.rmSync(dir, { recursive: true, force: true }));

  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: await freePort(), removeIfOrphaned: dir });
    stops.push(() => pg.stop());
    adminUrl = pg.urlFor('postgres');
  }
  const db = await scratchDatabase(adminUrl, `evni_bench_${process.pid}`);
  stops.push(db.drop);
  const databaseUrl = db.url;

  const temporal = await startTemporalDevServer({
    binary: config.temporalBinary,
    dbFile: path.join(dir, 'temporal.sqlite'),
    port: await freePort(),
    uiPort: await freePort(),
    namespace: 'default',
  });
  stops.push(() => temporal.stop());

  const orm = await openOrm(databaseUrl);
  await migrate(orm);
  const { key } = await createTenantWithAdminKey(orm.em.fork(), 'Benchmark');
  await orm.close();

  const port = await freePort();
  // The bench measures throughput with one key: the fair-use limits would measure themselves.
  const childEnv = { ...process.env, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporal.address, PORT: String(port), LOG_LEVEL: 'warn', EVNI_RATE_LIMIT_PER_MINUTE: '0', EVNI_BATCH_SUBMIT_LIMIT_PER_MINUTE: '0', ...env };
  const apiLog = path.join(dir, 'api.log');
  const child = (script: string, logFile?: string, level = 'warn'): ChildProcess => {
    const stdout = logFile ? fs.openSync(logFile, 'a') : 'ignore';
    const c = spawnNodeScript(script, {
      env: { ...childEnv, LOG_LEVEL: level },
      stdio: ['ignore', stdout, 'inherit'],
    });
    stops.push(() => stopChild(c));
    return c;
  };
  const workerLog = path.join(dir, 'worker.log');
  const worker = child('worker/main.ts', workerLog, 'info');
  const api = child('api/main.ts', apiLog, 'info');
  const apiUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${apiUrl}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 600) throw new Error('API did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  // The worker is ready once it has bundled its workflows; a tiny batch proves it end to end.
  return {
    apiUrl,
    key,
    databaseUrl,
    temporalAddress: temporal.address,
    apiPid: api.pid!,
    apiLog,
    workerLog,
    workerPid: worker.pid!,
    stop: async () => {
      for (const s of stops.reverse()) await s().catch(() => undefined);
    },
  };
}
