// Webhooks end to end on the real stack: the seven endpoints, the outbox and dispatcher, delivery
// workflows posting to a real HTTP receiver on loopback, signatures verified with the third-party
// `standardwebhooks` package (never with our own code). The stack's deliveries retry after 200 ms
// (4 times), disable an endpoint after 3 failed deliveries, and allow plain http to 127.0.0.1.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, Worker } from '@temporalio/worker';
import { Webhook } from 'standardwebhooks';
import { createWebhookActivities } from '../activities/webhooks';
import { sql } from '../db/sql';
import type { WebhookSettings } from '../domain/webhooks/settings';
import { startWebhookDelivery } from '../temporal/webhooks';
import { workflowBundle } from '../worker/worker';
import { webhookDeliveryWorkflowId } from '../workflows/webhook-delivery/contract';
import { categoryFixtures, cleanFixtures } from './fixtures/sessions';
import { call, newTenant } from './helpers/http';
import { stack } from './helpers/stack';
import { waitFor } from './helpers/wait';

interface Received {
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** A receiver on 127.0.0.1: records every request; `answer` decides each response (by request number). */
async function receiver(answer: (n: number, req: Received) => { status: number; headers?: Record<string, string> } | 'hang' = () => ({ status: 200 })) {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      got.push(r);
      const a = answer(got.length, r);
      if (a === 'hang') return;
      res.writeHead(a.status, a.headers).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url, got, server };
}

/** Activities run by hand log their (expected) failures at ERROR only. */
const quiet = { logger: new DefaultLogger('ERROR') };

const verify = (secret: string, r: Received) => new Webhook(secret).verify(r.body, r.headers);
const verifies = (secret: string, r: Received) => {
  try {
    verify(secret, r);
    return true;
  } catch {
    return false;
  }
};

async function createHook(key: string, url: string, events: string[] = ['webhook.test']) {
  const res = await call('POST', '/v1/webhooks', { key, body: { url, events, description: 'test hook' } });
  assert.equal(res.status, 200, res.text);
  return res.body as { id: string; secret: string };
}

const waitCount = (got: Received[], n: number, timeoutMs = 20_000) => waitFor(`${n} requests`, async () => (got.length >= n ? true : undefined), timeoutMs, 50);

/** A delivery row for an endpoint that no workflow runs (the test runs its attempts itself). */
async function manualDelivery(tenantId: string, endpointId: string): Promise<string> {
  const em = stack().orm.em.fork();
  const [ev] = await sql(em, `insert into webhook_events (id, tenant_id, type, payload, endpoint, created_at, dispatched_at) values (gen_random_uuid(), ?, 'webhook.test', '{"message":"manual"}', ?, now(), now()) returning id`, [tenantId, endpointId]);
  const [d] = await sql(
    em,
    `insert into webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, status, attempt_count, created_at, workflow_started_at)
     values (gen_random_uuid(), ?, ?, ?, 'webhook.test', 'pending', 0, now(), now()) returning id`,
    [tenantId, endpointId, ev.id],
  );
  return d.id as string;
}

async function attempts(deliveryId: string) {
  return sql(stack().orm.em.fork(), 'select attempt, http_status, duration_ms, response, error from webhook_attempts where delivery_id = ? order by started_at', [deliveryId]);
}

describe('webhooks', function () {
  this.timeout(60_000);

  it('create (secret once), list (events filter, no secrets), get, patch, other tenant 404, unknown event and unsafe URLs 422', async () => {
    const { key } = await newTenant('wh-crud');
    const other = await newTenant('wh-crud-other');
    const a = await createHook(key, 'https://hooks.example.com/a', ['session.anomaly_detected']);
    assert.match(a.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const b = await createHook(key, 'https://hooks.example.com/b', ['batch.completed', 'webhook.test']);

    const list = await call('GET', '/v1/webhooks?pageSize=1', { key });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.pagination, { totalCount: 2, page: 1, size: 1 });
    assert.equal(list.body.content[0].id, b.id, 'newest first');
    assert.ok(!('secret' in list.body.content[0]));
    const filtered = await call('GET', '/v1/webhooks?events=session.anomaly_detected', { key });
    assert.deepEqual(filtered.body.content.map((w: { id: string }) => w.id), [a.id]);
    const both = await call('GET', '/v1/webhooks?events=session.anomaly_detected&events=batch.completed', { key });
    assert.equal(both.body.pagination.totalCount, 2);

    const got = await call('GET', `/v1/webhooks/${a.id}`, { key });
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.recentDeliveries, []);
    assert.equal(got.body.failureCount, 0);
    assert.equal(got.body.enabled, true);
    assert.ok(!('secret' in got.body));

    const patched = await call('PATCH', `/v1/webhooks/${a.id}`, { key, body: { description: null, events: ['station.anomaly_detected'], enabled: false } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.description, null);
    assert.deepEqual(patched.body.events, ['station.anomaly_detected']);
    assert.equal(patched.body.enabled, false);
    assert.ok(patched.body.disabledAt);

    for (const [method, p] of [['GET', ''], ['PATCH', ''], ['DELETE', ''], ['POST', '/rotate-secret'], ['POST', '/test']] as const) {
      const res = await call(method, `/v1/webhooks/${a.id}${p}`, { key: other.key, body: method === 'PATCH' ? { enabled: true } : undefined });
      assert.equal(res.status, 404, `${method} ${p}: ${res.text}`);
    }
    assert.equal((await call('GET', '/v1/webhooks/not-a-uuid', { key })).status, 404);

    const unknown = await call('POST', '/v1/webhooks', { key, body: { url: 'https://hooks.example.com/c', events: ['session.anomaly_detected', 'session.exploded'] } });
    assert.equal(unknown.status, 422);
    assert.match(unknown.body.detail, /session\.exploded/);
    for (const known of ['session.anomaly_detected', 'station.anomaly_detected', 'batch.completed', 'webhook.test']) assert.ok(unknown.body.detail.includes(known), unknown.body.detail);
    assert.deepEqual(unknown.body.errors[0].loc, ['body', 'events', 1]);
    assert.equal((await call('GET', '/v1/webhooks?events=nope', { key })).status, 422);
    // The documented pattern: comma-separated names without spaces or empty entries.
    assert.equal((await call('GET', '/v1/webhooks?events=session.anomaly_detected,batch.completed', { key })).status, 200);
    for (const q of ['events=', 'events=%20batch.completed', 'events=batch.completed,', 'events=Batch.Completed']) assert.equal((await call('GET', `/v1/webhooks?${q}`, { key })).status, 422, q);

    for (const url of [
      'http://hooks.example.com/x',
      'https://10.1.2.3/x',
      'https://192.168.0.1/x',
      'https://169.254.169.254/latest/meta-data',
      'https://[::ffff:10.0.0.1]/x',
      'https://[fe80::1]/x',
      'https://[fd00:ec2::254]/x',
      'https://localhost/x',
      'https://metadata.google.internal/x',
      'https://224.0.0.1/x',
      'not a url',
    ]) {
      const res = await call('POST', '/v1/webhooks', { key, body: { url, events: ['webhook.test'] } });
      assert.equal(res.status, 422, `${url}: ${res.text}`);
      assert.deepEqual(res.body.errors[0].loc, ['body', 'url'], url);
    }
    // Literal loopback is refused too without the development setting: test/unit/webhook-safety.test.ts.
    assert.equal((await call('PATCH', `/v1/webhooks/${b.id}`, { key, body: { url: 'https://10.0.0.1/' } })).status, 422);
  });

  it('POST …/test delivers a signed webhook.test event (verified by standardwebhooks), shown in recentDeliveries', async () => {
    const { key } = await newTenant('wh-test');
    const rx = await receiver();
    const hook = await createHook(key, rx.url);
    const res = await call('POST', `/v1/webhooks/${hook.id}/test`, { key });
    assert.equal(res.status, 200, res.text);
    await waitCount(rx.got, 1);
    const r = rx.got[0];
    const payload = verify(hook.secret, r) as Record<string, unknown>;
    assert.equal(payload.event, 'webhook.test');
    assert.equal(payload.webhook_id, r.headers['webhook-id']);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.match(r.headers['webhook-signature'], /^v1,[A-Za-z0-9+/=]+$/, 'one signature');
    assert.equal(verifies('whsec_' + Buffer.alloc(32, 1).toString('base64'), r), false, 'another secret does not verify');
    const detail = await waitFor('delivered', async () => {
      const d = await call('GET', `/v1/webhooks/${hook.id}`, { key });
      return d.body.recentDeliveries[0]?.status === 'delivered' ? d.body : undefined;
    });
    assert.deepEqual(
      { ...detail.recentDeliveries[0], createdAt: undefined, completedAt: undefined },
      { id: r.headers['webhook-id'], eventType: 'webhook.test', status: 'delivered', httpStatus: 200, attemptCount: 1, createdAt: undefined, completedAt: undefined },
    );
    const [attempt] = await attempts(r.headers['webhook-id']);
    assert.equal(attempt.http_status, 200);
    assert.equal(attempt.response, '{"ok":true}');
    assert.ok(attempt.duration_ms >= 0);
    // In the Temporal UI: searchable by endpoint and event type.
    const desc = await stack().env.client.workflow.getHandle(webhookDeliveryWorkflowId((await call('GET', '/v1/organization', { key })).body.tenantId, r.headers['webhook-id'])).describe();
    assert.equal(desc.searchAttributes.EvniWebhookEndpointId?.[0], hook.id);
    assert.equal(desc.searchAttributes.EvniWebhookEventType?.[0], 'webhook.test');
  });

  it('retries after 500s with the same webhook-id until a 2xx, recording every attempt', async () => {
    const { key } = await newTenant('wh-retry');
    const rx = await receiver((n) => ({ status: n <= 2 ? 500 : 204 }));
    const hook = await createHook(key, rx.url);
    await call('POST', `/v1/webhooks/${hook.id}/test`, { key });
    await waitCount(rx.got, 3);
    const ids = new Set(rx.got.map((r) => r.headers['webhook-id']));
    assert.equal(ids.size, 1, 'one webhook-id across retries');
    for (const r of rx.got) verify(hook.secret, r);
    assert.equal(new Set(rx.got.map((r) => r.body)).size, 1, 'the same body every time');
    const id = [...ids][0];
    const rows = await waitFor('3 recorded attempts', async () => {
      const a = await attempts(id);
      return a.length === 3 && a[2].http_status === 204 ? a : undefined;
    });
    assert.deepEqual(rows.map((a) => [a.attempt, a.http_status]), [[1, 500], [2, 500], [3, 204]]);
    const d = await waitFor('delivered', async () => {
      const g = await call('GET', `/v1/webhooks/${hook.id}`, { key });
      return g.body.recentDeliveries[0]?.status === 'delivered' ? g.body : undefined;
    });
    assert.equal(d.recentDeliveries[0].attemptCount, 3);
    assert.equal(d.failureCount, 0);
  });

  it('honours Retry-After on 429 (instead of the 200 ms schedule), and 410 Gone disables the endpoint at once', async () => {
    const { key } = await newTenant('wh-retry-after');
    const rx = await receiver((n) => (n === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 }));
    const hook = await createHook(key, rx.url);
    await call('POST', `/v1/webhooks/${hook.id}/test`, { key });
    await waitCount(rx.got, 2);
    const gap = rx.got[1].at - rx.got[0].at;
    assert.ok(gap >= 1_900, `waited ${gap} ms after Retry-After: 2`);

    const gone = await receiver(() => ({ status: 410 }));
    const hook2 = await createHook(key, gone.url);
    await call('POST', `/v1/webhooks/${hook2.id}/test`, { key });
    await waitCount(gone.got, 1);
    const d = await waitFor('disabled', async () => {
      const g = await call('GET', `/v1/webhooks/${hook2.id}`, { key });
      return g.body.enabled === false && g.body.recentDeliveries[0]?.status === 'failed' ? g.body : undefined;
    });
    assert.ok(d.disabledAt);
    assert.equal(d.recentDeliveries[0].httpStatus, 410);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(gone.got.length, 1, 'no retry after 410');
  });

  it('disables an endpoint after a run of failed deliveries; re-enabling clears disabledAt and failureCount', async () => {
    const { key } = await newTenant('wh-disable');
    const rx = await receiver(() => ({ status: 500 }));
    const hook = await createHook(key, rx.url);
    for (let i = 1; i <= 3; i++) {
      await call('POST', `/v1/webhooks/${hook.id}/test`, { key });
      await waitFor(`delivery ${i} failed`, async () => {
        const g = await call('GET', `/v1/webhooks/${hook.id}`, { key });
        return g.body.failureCount === i ? true : undefined;
      }, 20_000);
    }
    assert.equal(rx.got.length, 15, '5 attempts per delivery');
    const g = await call('GET', `/v1/webhooks/${hook.id}`, { key });
    assert.equal(g.body.enabled, false);
    assert.ok(g.body.disabledAt);
    assert.deepEqual(new Set(g.body.recentDeliveries.map((d: { status: string }) => d.status)), new Set(['failed']));
    const re = await call('PATCH', `/v1/webhooks/${hook.id}`, { key, body: { enabled: true } });
    assert.equal(re.status, 200);
    assert.deepEqual([re.body.enabled, re.body.disabledAt, re.body.failureCount], [true, null, 0]);
  });

  it('the default rule disables after every delivery failed for 5 days (clock injected)', async () => {
    const { key, tenantId } = await newTenant('wh-disable-time');
    const hook = await createHook(key, 'https://hooks.example.com/never');
    let now = new Date();
    const settings: WebhookSettings = { ...stack().webhooks, disableAfterFailures: 0, disableAfterMs: 5 * 24 * 3600 * 1000, now: () => now };
    const acts = createWebhookActivities({ orm: stack().orm, webhooks: settings });
    const fail = async () => new MockActivityEnvironment(undefined, quiet).run(acts.failWebhookDelivery, { tenantId, deliveryId: await manualDelivery(tenantId, hook.id), reason: 'HTTP 500' });
    await fail();
    now = new Date(Date.now() + 4 * 24 * 3600 * 1000);
    await fail();
    assert.equal((await call('GET', `/v1/webhooks/${hook.id}`, { key })).body.enabled, true, 'failing for 4 days: still enabled');
    now = new Date(Date.now() + 5 * 24 * 3600 * 1000 + 60_000);
    await fail();
    const g = await call('GET', `/v1/webhooks/${hook.id}`, { key });
    assert.deepEqual([g.body.enabled, g.body.failureCount], [false, 3]);
  });

  it('rotate-secret: two signatures for 24 h (both secrets verify), then only the new one (clock injected)', async () => {
    const { key, tenantId } = await newTenant('wh-rotate');
    const rx = await receiver();
    const hook = await createHook(key, rx.url);
    const rotated = await call('POST', `/v1/webhooks/${hook.id}/rotate-secret`, { key });
    assert.equal(rotated.status, 200, rotated.text);
    assert.notEqual(rotated.body.secret, hook.secret);
    assert.match(rotated.body.secret, /^whsec_/);
    // Through the stack: signed with both.
    await call('POST', `/v1/webhooks/${hook.id}/test`, { key });
    await waitCount(rx.got, 1);
    assert.equal(rx.got[0].headers['webhook-signature'].split(' ').length, 2);
    assert.ok(verifies(hook.secret, rx.got[0]), 'the old secret verifies during the grace period');
    assert.ok(verifies(rotated.body.secret, rx.got[0]), 'the new secret verifies');

    // The same attempt 23 h and 25 h later (the activity's clock decides which secrets sign).
    for (const [hours, oldValid] of [[23, true], [25, false]] as const) {
      const now = new Date(Date.now() + hours * 3600 * 1000);
      const acts = createWebhookActivities({ orm: stack().orm, webhooks: { ...stack().webhooks, now: () => now } });
      const deliveryId = await manualDelivery(tenantId, hook.id);
      await new MockActivityEnvironment({ attempt: 1 }, quiet).run(acts.attemptWebhookDelivery, { tenantId, deliveryId, retryDelaysMs: [], retryAfterCapMs: 1000, timeoutMs: 2000 });
      const r = rx.got.find((x) => x.headers['webhook-id'] === deliveryId)!;
      assert.ok(r, `delivered at +${hours} h`);
      assert.equal(verifies(rotated.body.secret, r), true, `new secret at +${hours} h`);
      assert.equal(verifies(hook.secret, r), oldValid, `old secret at +${hours} h`);
      assert.equal(r.headers['webhook-signature'].split(' ').length, oldValid ? 2 : 1);
    }
  });

  it('DELETE during retries stops the delivery and removes the endpoint with its deliveries', async () => {
    const { key, tenantId } = await newTenant('wh-delete');
    const rx = await receiver(() => ({ status: 503, headers: { 'retry-after': '3' } }));
    const hook = await createHook(key, rx.url);
    await call('POST', `/v1/webhooks/${hook.id}/test`, { key });
    await waitCount(rx.got, 1);
    const deliveryId = rx.got[0].headers['webhook-id'];
    const del = await call('DELETE', `/v1/webhooks/${hook.id}`, { key });
    assert.equal(del.status, 200, del.text);
    assert.equal((await call('GET', `/v1/webhooks/${hook.id}`, { key })).status, 404);
    const handle = stack().env.client.workflow.getHandle(webhookDeliveryWorkflowId(tenantId, deliveryId));
    await waitFor('the delivery workflow closed', async () => ((await handle.describe()).status.name !== 'RUNNING' ? true : undefined), 10_000);
    await new Promise((r) => setTimeout(r, 3_500));
    assert.equal(rx.got.length, 1, 'no attempt after the delete');
    const [{ n }] = await sql(stack().orm.em.fork(), 'select count(*)::int as n from webhook_deliveries where endpoint_id = ?', [hook.id]);
    assert.equal(n, 0);
  });

  it('session.anomaly_detected once when a verdict turns anomalous (actor and batch), not on every write; batch.completed', async () => {
    const { key } = await newTenant('wh-sessions');
    const rx = await receiver();
    const hook = await createHook(key, rx.url, ['session.anomaly_detected', 'batch.completed']);
    const anomalous = categoryFixtures.find((f) => f.name === 'kwh-decrease')!;
    const clean = cleanFixtures[0];
    const sessionId = `wh-s-${Date.now()}`;
    const created = await call('POST', '/v1/sessions', { key, body: { sessionId, chargingStationId: 'CP-WH-1', connectorId: '1', meterValues: anomalous.values } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.isAnomaly, true);
    await waitCount(rx.got, 1);
    const first = verify(hook.secret, rx.got[0]) as Record<string, any>;
    assert.equal(first.event, 'session.anomaly_detected');
    assert.equal(first.session_id, sessionId);
    assert.equal(first.charging_station_id, 'CP-WH-1');
    assert.equal(first.is_anomaly, true);
    assert.ok(first.categories.includes('KWH_DECREASE'), JSON.stringify(first.categories));
    assert.deepEqual(first.new_categories, first.categories);
    // The same readings again: the verdict does not change, no event.
    const again = await call('PUT', `/v1/sessions/${sessionId}`, { key, body: { meterValues: anomalous.values } });
    assert.equal(again.status, 200, again.text);
    // A clean session: no event.
    await call('POST', '/v1/sessions', { key, body: { sessionId: `${sessionId}-clean`, chargingStationId: 'CP-WH-1', meterValues: clean.values } });

    // A batch: two anomalous sessions (one new, one the session above, unchanged) and a clean one.
    const batch = await call('POST', '/v1/sessions/batch', {
      key,
      body: {
        sessions: [
          { sessionId: `${sessionId}-b1`, chargingStationId: 'CP-WH-2', meterValues: anomalous.values },
          { sessionId, chargingStationId: 'CP-WH-1', meterValues: anomalous.values },
          { sessionId: `${sessionId}-b2`, chargingStationId: 'CP-WH-2', meterValues: clean.values },
        ],
      },
    });
    assert.equal(batch.status, 200, batch.text);
    await waitCount(rx.got, 3);
    await new Promise((r) => setTimeout(r, 1_500));
    const events = rx.got.map((r) => verify(hook.secret, r) as Record<string, any>);
    assert.deepEqual(
      events.map((e) => [e.event, e.session_id ?? e.batch_id]).sort(),
      [
        ['batch.completed', batch.body.batchId],
        ['session.anomaly_detected', sessionId],
        ['session.anomaly_detected', `${sessionId}-b1`],
      ].sort(),
    );
    const done = events.find((e) => e.event === 'batch.completed')!;
    assert.deepEqual([done.status, done.total_sessions, done.processed_sessions, done.failed_sessions, done.anomalous_sessions], ['completed', 3, 3, 0, 2]);
  });

  it('SSRF: names resolving to loopback, private, metadata or mapped addresses are refused at delivery (stub resolver); each refusal is recorded', async () => {
    const { key, tenantId } = await newTenant('wh-ssrf');
    const cases: Record<string, string> = {
      'loop.example.test': '127.0.0.1',
      'ten.example.test': '10.0.0.7',
      'meta.example.test': '169.254.169.254',
      'six.example.test': '::1',
      'mapped.example.test': '::ffff:10.0.0.1',
    };
    const resolve = async (host: string) => {
      const address = cases[host];
      if (!address) throw new Error(`unknown name ${host}`);
      return [{ address, family: address.includes(':') ? 6 : 4 }];
    };
    const acts = createWebhookActivities({ orm: stack().orm, webhooks: { ...stack().webhooks, resolve } });
    for (const [host, address] of Object.entries(cases)) {
      const hook = await createHook(key, `https://${host}/hook`);
      const deliveryId = await manualDelivery(tenantId, hook.id);
      const err = await new MockActivityEnvironment({ attempt: 1 }, quiet)
        .run(acts.attemptWebhookDelivery, { tenantId, deliveryId, retryDelaysMs: [1000], retryAfterCapMs: 1000, timeoutMs: 2000 })
        .then(() => assert.fail(`${host} should be refused`), (e: Error) => e);
      assert.match(err.message, new RegExp(`refused: ${host} resolves to ${address.replace(/\./g, '\\.')}`), `${host}: ${err.message}`);
      const [a] = await attempts(deliveryId);
      assert.match(a.error, /refused/);
      assert.equal(a.http_status, null);
    }
  });

  it('a worker killed mid-delivery: the next attempt (another worker) sends the same webhook-id and the delivery completes', async function () {
    this.timeout(90_000);
    const { key, tenantId } = await newTenant('wh-kill');
    let child: ReturnType<typeof spawn> | undefined;
    const rx = await receiver((n) => (n === 1 ? 'hang' : { status: 200 }));
    const hook = await createHook(key, rx.url);
    const deliveryId = await manualDelivery(tenantId, hook.id);
    const taskQueue = `wh-kill-${process.pid}-${Date.now()}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evni-wh-'));
    const bundleFile = path.join(dir, 'bundle.js');
    fs.writeFileSync(bundleFile, (await workflowBundle()).code);
    try {
      child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'helpers', 'webhook-worker-child.ts')], {
        env: {
          ...process.env,
          DATABASE_URL: stack().databaseUrl,
          TEMPORAL_ADDRESS: stack().env.address,
          TEMPORAL_NAMESPACE: stack().env.namespace ?? 'default',
          TASK_QUEUE: taskQueue,
          BUNDLE_FILE: bundleFile,
          EVNI_WEBHOOK_SECRET_KEY: stack().webhooks.key!.toString('base64'),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        child!.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child!.once('exit', (code) => reject(new Error(`child worker exited (${code})`)));
      });
      await startWebhookDelivery(stack().env.client, taskQueue, { tenantId, deliveryId, endpointId: hook.id, eventType: 'webhook.test', retryDelaysMs: [200, 200], retryAfterCapMs: 1000, timeoutMs: 1000 });
      await waitCount(rx.got, 1);
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
      // Another worker takes over once the lost attempt times out.
      const worker = await Worker.create({
        connection: stack().env.nativeConnection,
        namespace: stack().env.namespace ?? 'default',
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities: createWebhookActivities({ orm: stack().orm, webhooks: stack().webhooks }),
      });
      const handle = stack().env.client.workflow.getHandle(webhookDeliveryWorkflowId(tenantId, deliveryId));
      const result = await worker.runUntil(handle.result());
      assert.equal(result.status, 'delivered');
      assert.equal(rx.got.length, 2);
      assert.equal(rx.got[0].headers['webhook-id'], deliveryId);
      assert.equal(rx.got[1].headers['webhook-id'], deliveryId);
      assert.equal(rx.got[0].body, rx.got[1].body);
      verify(hook.secret, rx.got[1]);
      const rows = await attempts(deliveryId);
      assert.deepEqual(rows.map((a) => [a.attempt, a.http_status]), [[1, null], [2, 200]]);
      assert.match(rows[0].error, /worker .* was lost/);
    } finally {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
