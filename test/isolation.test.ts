// Tenant isolation, generated from the route list (api/routes/index.ts): every endpoint that takes
// an id is called by tenant B with tenant A's ids and must answer 404 — never A's data, never a
// change to A's resources; every endpoint without an id is called by B and must not show anything
// of A's. A new endpoint joins by itself; a new kind of id needs its provider in ID_PROVIDERS (the
// test says so), an endpoint whose body `{}` does not pass validation needs an entry in BODIES.
import assert from 'node:assert/strict';
import { routes } from '../api/routes';
import { accessOf } from '../api/permissions';
import { call, newTenant, type Res } from './helpers/http';
import { sql } from '../db/sql';
import { stack } from './helpers/stack';

const reading = (minute: number, value: number) => ({
  timestamp: new Date(Date.parse('2026-03-06T08:00:00Z') + minute * 60_000).toISOString(),
  value,
  measurand: 'Energy.Active.Import.Register',
  unit: 'kWh',
});

type Tenant = Awaited<ReturnType<typeof newTenant>>;

/** One resource of tenant A per path parameter name; null: the parameter names no tenant data (a shared catalogue). */
const ID_PROVIDERS: Record<string, ((a: Tenant) => Promise<string>) | null> = {
  session_id: async () => 'iso-a-session',
  batch_id: async (a) => {
    const res = await call('POST', '/v1/sessions/batch', { key: a.key, body: { sessions: [{ sessionId: 'iso-a-batch-1', chargingStationId: 'CP-ISO-A', meterValues: [reading(0, 1), reading(5, 2), reading(10, 3)] }] } });
    assert.equal(res.status, 200, res.text);
    return res.body.batchId;
  },
  key_id: async (a) => a.keyId,
  user_id: async (a) => a.memberId,
  invitation_id: async (a) => {
    const res = await call('POST', '/v1/members/invitations', { key: a.key, body: { email: 'iso-invitee@tenant-a.example', role: 'member' } });
    assert.equal(res.status, 201, res.text);
    return res.body.invitationId;
  },
  webhook_id: async (a) => {
    const res = await call('POST', '/v1/webhooks', { key: a.key, body: { url: 'https://93.184.215.14/iso-a-hook', events: ['session.anomaly_detected'] } });
    assert.ok(res.status === 200 || res.status === 201, `creating tenant A's webhook: ${res.status} ${res.text}`);
    return res.body.id;
  },
  // The station of tenant A's sessions (stations are addressed by the client's id).
  charging_station_id: async () => 'CP-ISO-A',
  // A fine-tuned model and a fine-tuning job of tenant A, stored as a finished job stores them (a real
  // fine-tune needs the Python training worker: test/fine-tune.test.ts runs one, with its own isolation checks).
  model_id: async (a) => {
    const id = `model-ft-iso-${a.tenantId}`;
    await sql(stack().orm.em.fork(), `insert into ml_models (id, tenant_id, name, type, version, is_base, status, created_at, feature_version) values (?, ?, 'iso', 'csar_c_2', '2.0.0-ft.iso', false, 'active', now(), 'evni-features-2')`, [id, a.tenantId]);
    return id;
  },
  job_id: async (a) => {
    const [job] = await sql(stack().orm.em.fork(), `insert into fine_tune_jobs (id, tenant_id, base_model_id, name, training_config, data_source, status, session_count, created_at, updated_at)
      values (gen_random_uuid(), ?, 'model-csar-c2-base', 'iso', '{}', '{"type":"sessions"}', 'running', 20, now(), now()) returning id`, [a.tenantId]);
    return job.id;
  },
  // A category of the anomaly workspace (by name, lower case: a marker no other response holds).
  category_id: async () => 'kwh_decrease',
  // The issue of an anomalous session of tenant A (KWH_DECREASE: the register resets at sample 80).
  issue_id: async (a) => {
    const meterValues = Array.from({ length: 121 }, (_, i) => ({ ...reading(i / 4, i < 80 ? 10 + i * 0.05 : (i - 80) * 0.05) }));
    const res = await call('POST', '/v1/sessions', { key: a.key, body: { sessionId: 'iso-a-anomalous', chargingStationId: 'CP-ISO-A', meterValues } });
    assert.equal(res.status, 201, res.text);
    const list = await call('GET', '/v1/anomalies?chargingSessionId=iso-a-anomalous', { key: a.key });
    assert.equal(list.body?.content?.length, 1, `tenant A's anomaly: ${list.text}`);
    return list.body.content[0].id;
  },
};

/** Bodies that pass validation, for endpoints where `{}` does not (so the answer is about the id, not the body). */
const BODIES: Record<string, unknown> = {
  'PUT /v1/sessions/{session_id}': { meterValues: [reading(0, 5)] },
  'PATCH /v1/sessions/{session_id}': { meterValues: [reading(30, 9)] },
  'PATCH /v1/members/{user_id}': { role: 'member' },
  'POST /v1/sessions/{session_id}/ask': { question: 'Why is this session anomalous?' },
  'PATCH /v1/webhooks/{webhook_id}': { enabled: false },
  'PUT /v1/anomalies/issues/{issue_id}': { status: 'IN_PROGRESS' },
};

const paramsOf = (path: string) => [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);

describe('tenant isolation: every endpoint × another tenant', function () {
  this.timeout(120_000);
  let a: Tenant;
  let b: Tenant;
  const ids: Record<string, string> = {};
  /** Strings only tenant A's data holds. */
  let markers: string[];

  before(async () => {
    a = await newTenant('isolation-a');
    b = await newTenant('isolation-b');
    const created = await call('POST', '/v1/sessions', {
      key: a.key,
      body: { sessionId: 'iso-a-session', chargingStationId: 'CP-ISO-A', evseId: 'NL*ISO*A1', metadata: { marker: 'tenant-a-secret' }, meterValues: [reading(0, 1), reading(5, 2), reading(10, 3)] },
    });
    assert.equal(created.status, 201, created.text);
    const needed = new Set(routes.flatMap((r) => paramsOf(r.path)));
    for (const name of needed) {
      assert.ok(name in ID_PROVIDERS, `a route takes {${name}}: add its provider to ID_PROVIDERS in test/isolation.test.ts`);
      const provide = ID_PROVIDERS[name];
      if (provide) ids[name] = await provide(a);
    }
    markers = ['iso-a-session', 'iso-a-batch-1', 'CP-ISO-A', 'NL*ISO*A1', 'tenant-a-secret', 'iso-invitee@tenant-a.example', a.tenantId, a.keyId, a.memberId, a.email, ...Object.values(ids)];
  });

  const noMarkers = (res: Res, what: string) => {
    for (const m of markers) assert.ok(!res.text.includes(m), `${what} shows tenant A's ${m}: ${res.text.slice(0, 500)}`);
  };

  for (const r of routes) {
    const endpoint = `${r.method.toUpperCase()} ${r.path}`;
    const params = paramsOf(r.path);
    if (accessOf(r.method, r.path) === 'public') continue;
    if (params.some((p) => ID_PROVIDERS[p] === null)) {
      // A shared catalogue (the base models): every tenant reads the same entries.
      it(`${endpoint} is a catalogue shared by every tenant`, async () => {
        const list = await call('GET', '/v1/models', { key: b.key });
        assert.equal(list.status, 200, list.text);
        const items: { id: string; isBase: boolean }[] = list.body.models;
        assert.ok(items.length > 0 && items.every((m) => m.isBase), 'only base models exist: no tenant has its own');
        const one = await call('GET', `/v1/models/${encodeURIComponent(items[0].id)}`, { key: b.key });
        assert.equal(one.status, 200, one.text);
      });
    } else if (params.length > 0) {
      it(`${endpoint} with tenant A's ids → 404 for tenant B`, async () => {
        const path = r.path.replace(/\{(\w+)\}/g, (_, p: string) => encodeURIComponent(ids[p]));
        const hasBody = r.body !== undefined;
        const res = await call(r.method.toUpperCase(), path, { key: b.key, ...(hasBody ? { body: BODIES[endpoint] ?? {} } : {}) });
        assert.equal(res.status, 404, `${endpoint} as tenant B: ${res.status} ${res.text.slice(0, 300)}${res.status === 422 ? ' (add a valid body to BODIES)' : ''}`);
        noMarkers(res, endpoint);
      });
    } else if (r.method === 'get') {
      it(`${endpoint} for tenant B shows nothing of tenant A`, async () => {
        const res = await call('GET', r.path, { key: b.key });
        assert.ok(res.status < 500, `${endpoint}: ${res.status}`);
        noMarkers(res, endpoint);
      });
    }
  }

  it('POST /v1/sessions with tenant A\'s session id creates tenant B\'s own session (201), and A\'s is untouched', async () => {
    const res = await call('POST', '/v1/sessions', { key: b.key, body: { sessionId: 'iso-a-session', chargingStationId: 'CP-ISO-B', meterValues: [reading(0, 7)] } });
    assert.equal(res.status, 201, res.text);
    noMarkers({ ...res, text: res.text.replace(/iso-a-session/g, '') }, 'POST /v1/sessions');
  });

  it("tenant A's resources are as they were, and A's key still works", async () => {
    const s = await call('GET', '/v1/sessions/iso-a-session', { key: a.key });
    assert.equal(s.status, 200, s.text);
    assert.equal(s.body.chargingStationId, 'CP-ISO-A');
    assert.equal(s.body.readingCount, 3);
    assert.deepEqual(s.body.metadata, { marker: 'tenant-a-secret' });
    const keys = await call('GET', '/v1/api-keys', { key: a.key });
    assert.equal(keys.status, 200);
    assert.equal(keys.body.items.find((k: { id: string }) => k.id === a.keyId).revokedAt, null);
    const members = await call('GET', '/v1/members', { key: a.key });
    const me = members.body.members.find((m: { userId: string }) => m.userId === a.memberId);
    assert.equal(me.status, 'active');
    assert.equal(me.role, 'admin');
    if (ids.invitation_id) assert.ok(members.body.members.some((m: { invitationId?: string }) => m.invitationId === ids.invitation_id), 'invitation not withdrawn');
    if (ids.webhook_id) {
      const hook = await call('GET', `/v1/webhooks/${ids.webhook_id}`, { key: a.key });
      assert.equal(hook.status, 200, hook.text);
      assert.equal(hook.body.enabled, true);
    }
  });
});
