// `npm run bench -- --webhooks`: webhook fan-out. Three endpoints on a local receiver subscribe to
// session.anomaly_detected; then
//   A. a batch of 1,000 anomalous sessions (3,000 deliveries): deliveries/s and the latency from
//      the verdict's commit (its outbox row) to the receiver's 2xx;
//   B. 20 anomalous sessions a second over POST /v1/sessions (open loop, 15 s): the same latency.
// The receiver answers 204 at once and records when each webhook-id arrived; the commit times come
// from the outbox rows (`webhook_events.created_at`, written in the verdict's transaction).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client as PgClient } from 'pg';
import { pct, sleep } from './measure';
import { benchSessions, type BenchSession } from './sessions';
import type { BenchStack } from './stack';

const ENDPOINTS = 3;
const SESSIONS = 1_000;
const RATE = 20;
const RATE_SECONDS = 15;


/** Sessions with a register reset (KWH_DECREASE): every one is anomalous. */
const anomalousSessions = (count: number, prefix: string): BenchSession[] => benchSessions(count * 5, prefix).filter((_, i) => i % 5 === 0);

async function call(stack: BenchStack, method: string, p: string, body?: unknown) {
  const res = await fetch(stack.apiUrl + p, { method, headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await res.json()) as any;
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

export async function webhookBench(stack: BenchStack, out: (s?: string) => void): Promise<void> {
  const received = new Map<string, number>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.set(req.headers['webhook-id'] as string, Date.now());
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pg = new PgClient({ connectionString: stack.databaseUrl });
  await pg.connect();
  try {
    for (let i = 0; i < ENDPOINTS; i++) await call(stack, 'POST', '/v1/webhooks', { url: `${base}/hook/${i}`, events: ['session.anomaly_detected'] });

    /** Where the time goes (medians, ms): commit → workflow started by the dispatcher → delivery recorded as done. */
    const breakdown = async (since: Date) => {
      const { rows } = await pg.query(
        `select percentile_cont(0.5) within group (order by extract(epoch from d.workflow_started_at - e.created_at) * 1000) as to_start,
                percentile_cont(0.5) within group (order by extract(epoch from d.completed_at - d.workflow_started_at) * 1000) as to_done
           from webhook_deliveries d join webhook_events e on e.id = d.event_id where e.created_at >= $1`,
        [since],
      );
      return `commit → workflow started ${Number(rows[0].to_start).toFixed(0)} ms, started → delivered ${Number(rows[0].to_done).toFixed(0)} ms (medians)`;
    };
    /** Commit→2xx latencies (ms) of the deliveries received since `since`. */
    const latencies = async (since: Date) => {
      const rows = await pg.query(
        `select d.id, extract(epoch from e.created_at) * 1000 as committed from webhook_deliveries d join webhook_events e on e.id = d.event_id where e.created_at >= $1`,
        [since],
      );
      return rows.rows.filter((r) => received.has(r.id)).map((r) => received.get(r.id)! - Number(r.committed));
    };
    const waitFor = async (n: number, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (received.size < n && Date.now() < deadline) await sleep(100);
      if (received.size < n) throw new Error(`only ${received.size} of ${n} deliveries arrived`);
    };

    out('## Webhooks: fan-out to 3 endpoints on a local receiver');
    out();
    // A. Throughput.
    const sinceA = new Date();
    const t0 = Date.now();
    const batch = await call(stack, 'POST', '/v1/sessions/batch', { sessions: anomalousSessions(SESSIONS, 'wh-bench') });
    await waitFor(SESSIONS * ENDPOINTS, 600_000);
    const times = [...received.values()].sort((a, b) => a - b);
    const latA = await latencies(sinceA);
    const span = (times[times.length - 1] - times[0]) / 1000;
    out(`| phase | deliveries | deliveries/s | p50 commit→2xx (ms) | p99 commit→2xx (ms) | max (ms) |`);
    out(`|---|---:|---:|---:|---:|---:|`);
    out(
      `| A. batch of ${SESSIONS} anomalous sessions (${batch.batchId.slice(0, 8)}…), submit → last 2xx ${((times[times.length - 1] - t0) / 1000).toFixed(1)} s | ${received.size} | ${(received.size / span).toFixed(0)} (first → last 2xx) | ${pct(latA, 50).toFixed(0)} | ${pct(latA, 99).toFixed(0)} | ${Math.max(...latA).toFixed(0)} |`,
    );

    const whereA = await breakdown(sinceA);
    // B. Latency at 20 anomalous sessions a second.
    const before = received.size;
    const sinceB = new Date();
    const sessions = anomalousSessions(RATE * RATE_SECONDS, 'wh-rate');
    const tB = performance.now();
    const inFlight: Promise<unknown>[] = [];
    for (let i = 0; i < sessions.length; i++) {
      const wait = tB + (i * 1000) / RATE - performance.now();
      if (wait > 0) await sleep(wait);
      inFlight.push(call(stack, 'POST', '/v1/sessions', sessions[i]));
    }
    await Promise.all(inFlight);
    await waitFor(before + sessions.length * ENDPOINTS, 120_000);
    const latB = await latencies(sinceB);
    out(
      `| B. ${RATE} anomalous sessions/s over POST /v1/sessions for ${RATE_SECONDS} s | ${latB.length} | ${(RATE * ENDPOINTS).toFixed(0)} (offered) | ${pct(latB, 50).toFixed(0)} | ${pct(latB, 99).toFixed(0)} | ${Math.max(...latB).toFixed(0)} |`,
    );
    out();
    out(`A: ${whereA}. B: ${await breakdown(sinceB)}.`);
    out();
    out('Targets: ≥ 50 deliveries/s sustained; p99 commit → 2xx ≤ 2 s at 20 events/s.');
    out();
  } finally {
    await pg.end();
    server.close();
  }
}
