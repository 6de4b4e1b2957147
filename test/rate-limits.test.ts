// Fair use: per-key rate limits counted in PostgreSQL (rate-limiter-flexible's RateLimiterPostgres),
// so that several API processes on one database share them. Limits here are set small per
// organization (its settings, in the database), which every API process reads.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import pino from 'pino';
import { config } from '../config';
import { RateLimits } from '../api/rate-limit';
import { listen } from '../api/server';
import { spawnNodeScript } from '../stack/node-child';
import { call, newTenant } from './helpers/http';
import { freePort } from './helpers/ports';
import { stack } from './helpers/stack';
import { waitFor } from './helpers/wait';

/**
 * Sets the organization's own limits (null: the service default) through its settings, which every
 * API process reads. The PUT itself is a request of the admin key (counted like any other).
 */
async function setLimits(adminKey: string, requestsPerMinute: number | null, batchSubmitsPerMinute: number | null = null) {
  const res = await call('PUT', '/v1/organization', { key: adminKey, body: { name: 'Rate-limited', rateLimits: { requestsPerMinute, batchSubmitsPerMinute } } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.rateLimits, { requestsPerMinute, batchSubmitsPerMinute });
}

/** Another key of the same tenant (and member), made through the API. */
async function secondKey(adminKey: string): Promise<string> {
  const res = await call('POST', '/v1/api-keys', { key: adminKey, body: { name: 'second' } });
  assert.ok(res.status === 200 || res.status === 201, res.text);
  return res.body.key as string;
}

const num = (res: { headers: Headers }, name: string) => Number(res.headers.get(name));

async function get(baseUrl: string, path: string, key: string) {
  const res = await fetch(baseUrl + path, { headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined, text };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

describe('rate limits per API key', () => {
  it('every authenticated response carries RateLimit-* headers; past the limit a 429 with Retry-After; the budget is per key', async () => {
    const { key: admin } = await newTenant('rl-headers');
    await setLimits(admin, 6);
    // Two fresh keys of the organization (and member): their budgets start full.
    const key = await secondKey(admin);
    const other = await secondKey(admin);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await call('GET', '/v1/api-keys', { key });
      assert.equal(res.status, 200, res.text);
      assert.equal(num(res, 'ratelimit-limit'), 6);
      const reset = num(res, 'ratelimit-reset');
      assert.ok(reset >= 0 && reset <= 60, `RateLimit-Reset ${reset}`);
      seen.push(num(res, 'ratelimit-remaining'));
    }
    assert.deepEqual(seen, [5, 4, 3, 2, 1, 0]);

    const refused = await call('GET', '/v1/api-keys', { key });
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(num(refused, 'ratelimit-limit'), 6);
    assert.equal(num(refused, 'ratelimit-remaining'), 0);
    assert.ok(num(refused, 'ratelimit-reset') >= 1);
    assert.match(refused.body.detail, /^Rate limit of 6 requests per minute exceeded for this API key; retry in \d+ s$/);
    // Still refused: a refused request does not restart the window.
    assert.equal((await call('GET', '/v1/sessions', { key })).status, 429);

    // The other key of the same organization has its own budget, with the same limit.
    const mine = await call('GET', '/v1/api-keys', { key: other });
    assert.equal(mine.status, 200, mine.text);
    assert.equal(num(mine, 'ratelimit-limit'), 6);
    assert.equal(num(mine, 'ratelimit-remaining'), 5);
  });

  it('applies the configured defaults when the organization sets none; public routes are not limited', async () => {
    // An API of its own with known defaults (the shared test stack's may be overridden).
    const { orm, env } = stack();
    const { server, url } = await listen({ orm, temporal: env.client, config: { ...config, rateLimitPerMinute: 7, batchSubmitLimitPerMinute: 3 }, logger: pino({ level: 'silent' }) }, 0, '127.0.0.1');
    try {
      const { key } = await newTenant('rl-default');
      const res = await get(url, '/v1/api-keys', key);
      assert.equal(res.status, 200, res.text);
      assert.equal(num(res, 'ratelimit-limit'), 7);
      assert.equal(num(res, 'ratelimit-remaining'), 6);
      const submit = await fetch(`${url}/v1/sessions/batch`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{"sessions": []}' });
      await submit.text();
      assert.equal(submit.status, 422);
      assert.equal(num(submit, 'ratelimit-limit'), 3);
      assert.equal(num(submit, 'ratelimit-remaining'), 2);
      for (const path of ['/healthz', '/openapi.json']) {
        const pub = await fetch(url + path);
        await pub.text();
        assert.equal(pub.status, 200);
        assert.equal(pub.headers.get('ratelimit-limit'), null, path);
      }
      // A request without a valid key is a 400 before any budget is touched.
      const bad = await get(url, '/v1/api-keys', 'evni_nope');
      assert.equal(bad.status, 400);
      assert.equal(bad.headers.get('ratelimit-limit'), null);
    } finally {
      await closeServer(server);
    }
  });

  it('batch submits have their own, lower budget, and count against the request budget as well', async () => {
    const { key: admin } = await newTenant('rl-batch');
    await setLimits(admin, 50, 2);
    const key = await secondKey(admin); // a fresh key: its budgets start full
    const session = { sessionId: 'rl-b-1', chargingStationId: 'CP-RL', meterValues: [{ measurand: 'Energy.Active.Import.Register', timestamp: '2026-02-27T10:00:00Z', unit: 'kWh', value: 0 }] };
    const first = await call('POST', '/v1/sessions/batch', { key, body: { sessions: [session] } });
    assert.equal(first.status, 200, first.text);
    assert.equal(num(first, 'ratelimit-limit'), 2, 'a submit shows its batch budget');
    assert.equal(num(first, 'ratelimit-remaining'), 1);
    // A refused (422) submit counts too: the budget is spent on arrival.
    const second = await call('POST', '/v1/sessions/batch', { key, body: { sessions: [] } });
    assert.equal(second.status, 422);
    assert.equal(num(second, 'ratelimit-remaining'), 0);

    const third = await call('POST', '/v1/sessions/batch', { key, body: { sessions: [session] } });
    assert.equal(third.status, 429, third.text);
    assert.match(third.body.detail, /^Rate limit of 2 batch submits per minute exceeded for this API key; retry in \d+ s$/);
    assert.ok(Number(third.headers.get('retry-after')) >= 1);
    assert.equal(num(third, 'ratelimit-limit'), 2);

    // Other requests go on, from the request budget: 3 submits and this one.
    const status = await call('GET', `/v1/sessions/batch/${first.body.batchId}`, { key });
    assert.equal(status.status, 200, status.text);
    assert.equal(num(status, 'ratelimit-limit'), 50);
    assert.equal(num(status, 'ratelimit-remaining'), 46);
  });

  it('lets requests through, with a warning, when the limiter store is unreachable (fail open)', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const rateLimits = RateLimits.open('postgres://nobody@127.0.0.1:1/none', logger);
    const { orm, env } = stack();
    const { server, url } = await listen({ orm, temporal: env.client, config: { ...config, rateLimitPerMinute: 1 }, logger, rateLimits }, 0, '127.0.0.1');
    try {
      const { key } = await newTenant('rl-fail-open');
      for (let i = 0; i < 3; i++) {
        const res = await get(url, '/v1/api-keys', key);
        assert.equal(res.status, 200, res.text);
        assert.equal(res.headers.get('ratelimit-limit'), null);
      }
      assert.ok(lines.some((l) => l.level === 40 && /rate limit store unavailable/.test(String(l.msg))), 'a warning was logged');
    } finally {
      await closeServer(server);
      await rateLimits.close();
    }
  });
});

describe('rate limits across API processes', function () {
  this.timeout(120_000);
  let child: ChildProcess | undefined;
  let childUrl = '';
  let childOutput = '';

  before(async () => {
    // A second API process, started as `npm start` starts one (stack/node-child.ts), on the test
    // stack's database and Temporal server.
    const port = await freePort();
    child = spawnNodeScript('api/main.ts', {
      env: {
        ...process.env,
        DATABASE_URL: stack().databaseUrl,
        TEMPORAL_ADDRESS: stack().env.address,
        TEMPORAL_NAMESPACE: stack().env.namespace ?? 'default',
        TEMPORAL_TASK_QUEUE: stack().taskQueue,
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (childOutput += d));
    child.stderr!.on('data', (d) => (childOutput += d));
    childUrl = `http://127.0.0.1:${port}`;
    await waitFor(
      'the second API process',
      async () => {
        if (child!.exitCode !== null) throw new Error(`second API process exited (${child!.exitCode}):\n${childOutput.slice(-3000)}`);
        return (await fetch(`${childUrl}/healthz`).then((r) => r.ok).catch(() => false)) || undefined;
      },
      90_000,
    );
  });

  after(async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child!.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  });

  it('two API processes on one database share a key\'s budget', async () => {
    const { key: admin } = await newTenant('rl-two-processes');
    await setLimits(admin, 6);
    const key = await secondKey(admin); // a fresh key: its budget starts at 6
    const apis = [stack().apiUrl, childUrl];
    // Alternating: 3 requests on each process pass, counted together.
    const remaining: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await get(apis[i % 2], '/v1/api-keys', key);
      assert.equal(res.status, 200, `request ${i + 1} on process ${(i % 2) + 1}: ${res.text}`);
      assert.equal(num(res, 'ratelimit-limit'), 6);
      remaining.push(num(res, 'ratelimit-remaining'));
    }
    assert.deepEqual(remaining, [5, 4, 3, 2, 1, 0]);
    // The 7th is refused whichever process gets it.
    for (const api of apis) {
      const refused = await get(api, '/v1/api-keys', key);
      assert.equal(refused.status, 429, `${api}: ${refused.text}`);
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
      assert.match(refused.body.detail, /^Rate limit of 6 requests per minute exceeded/);
    }
    // The admin key of the same organization is unaffected (at most 2 used of 6), on either process.
    for (const api of apis) assert.equal((await get(api, '/v1/api-keys', admin)).status, 200);
  });
});
