import assert from 'node:assert/strict';
import { call, newTenant } from './helpers/http';
import { stack } from './helpers/stack';
import { ApiKey } from '../entities';

describe('authentication and API keys', () => {
  let admin: { tenantId: string; key: string; keyId: string };
  before(async () => {
    admin = await newTenant('auth-tests');
  });

  describe('every failure mode is a 400 with a detail', () => {
    const cases: [string, Record<string, string>][] = [
      ['missing header', {}],
      ['wrong scheme', { authorization: 'Basic dXNlcjpwYXNz' }],
      ['bearer without token', { authorization: 'Bearer ' }],
      ['malformed token', { authorization: 'Bearer not-a-key' }],
      ['unknown key', { authorization: `Bearer evni_${'A'.repeat(43)}` }],
    ];
    for (const [name, headers] of cases) {
      it(name, async () => {
        const res = await call('GET', '/v1/api-keys', { headers });
        assert.equal(res.status, 400);
        assert.equal(typeof res.body.detail, 'string');
        assert.ok(res.body.detail.length > 5);
      });
    }

    it('expired key', async () => {
      const created = await call('POST', '/v1/api-keys', {
        key: admin.key,
        body: { name: 'short-lived', expiresAt: new Date(Date.now() + 60_000).toISOString() },
      });
      assert.equal(created.status, 200);
      assert.equal((await call('GET', '/v1/api-keys', { key: created.body.key })).status, 200);
      // Let the clock pass the expiry without waiting for it.
      await stack().orm.em.getConnection().execute(`update api_keys set expires_at = now() - interval '1 second' where id = ?`, [created.body.id]);
      const res = await call('GET', '/v1/api-keys', { key: created.body.key });
      assert.equal(res.status, 400);
      assert.match(res.body.detail, /expired/i);
    });

    it('an expiry in the past is refused at creation (422)', async () => {
      const res = await call('POST', '/v1/api-keys', { key: admin.key, body: { name: 'x', expiresAt: '2020-01-01T00:00:00Z' } });
      assert.equal(res.status, 422);
      assert.match(res.body.detail, /expiresAt/);
    });
  });

  it('creates a key that is shown once, stored only as a hash, and works', async () => {
    const res = await call('POST', '/v1/api-keys', { key: admin.key, body: { name: 'ci', description: 'for CI' } });
    assert.equal(res.status, 200);
    assert.match(res.body.key, /^evni_[A-Za-z0-9_-]{43}$/);
    assert.equal(res.body.tenantId, admin.tenantId);
    assert.equal(res.body.role, 'admin', 'a key acts with the role of the member it belongs to');
    const rows = await stack().orm.em.getConnection().execute('select * from api_keys where id = ?', [res.body.id]);
    assert.equal(rows.length, 1);
    assert.ok(!JSON.stringify(rows[0]).includes(res.body.key), 'the key itself must not be stored');
    const list = await call('GET', '/v1/api-keys', { key: res.body.key });
    assert.equal(list.status, 200);
    const mine = list.body.items.find((k: { id: string }) => k.id === res.body.id);
    assert.ok(mine);
    assert.equal(mine.key, undefined, 'the list never shows keys');
    assert.equal(mine.description, 'for CI');
    assert.ok(mine.lastUsedAt, 'lastUsedAt is recorded on use');
    assert.ok(!list.text.includes(res.body.key));
  });

  it('accepts snake_case aliases in the body', async () => {
    const at = new Date(Date.now() + 3600_000).toISOString();
    const res = await call('POST', '/v1/api-keys', { key: admin.key, body: { name: 'alias', expires_at: at } });
    assert.equal(res.status, 200);
    assert.equal(res.body.expiresAt, new Date(at).toISOString());
  });

  it('a revoked key stops working at once', async () => {
    const created = await call('POST', '/v1/api-keys', { key: admin.key, body: { name: 'to-revoke' } });
    assert.equal((await call('GET', '/v1/api-keys', { key: created.body.key })).status, 200);
    const del = await call('DELETE', `/v1/api-keys/${created.body.id}`, { key: admin.key });
    assert.equal(del.status, 200);
    assert.ok(del.body.revokedAt);
    const after = await call('GET', '/v1/api-keys', { key: created.body.key });
    assert.equal(after.status, 400);
    assert.match(after.body.detail, /revoked/i);
    // Revoking again is harmless and keeps the first revocation time.
    const again = await call('DELETE', `/v1/api-keys/${created.body.id}`, { key: admin.key });
    assert.equal(again.status, 200);
    assert.equal(again.body.revokedAt, del.body.revokedAt);
  });

  it('member keys cannot create or revoke keys (403)', async () => {
    const invited = await call('POST', '/v1/members/invitations', { key: admin.key, body: { email: 'member@auth-tests.example', role: 'member' } });
    const accepted = await call('POST', '/v1/invitations/accept', { body: { token: invited.body.token } });
    assert.equal(accepted.status, 201, accepted.text);
    const member = { body: { key: accepted.body.apiKey.key as string } };
    assert.equal((await call('GET', '/v1/api-keys', { key: member.body.key })).status, 200);
    const create = await call('POST', '/v1/api-keys', { key: member.body.key, body: { name: 'escalate', role: 'admin' } });
    assert.equal(create.status, 403);
    assert.ok(create.body.detail);
    const revoke = await call('DELETE', `/v1/api-keys/${admin.keyId}`, { key: member.body.key });
    assert.equal(revoke.status, 403);
  });

  it('two tenants cannot see or touch each other\'s keys (404, not 403)', async () => {
    const other = await newTenant('other-tenant');
    const list = await call('GET', '/v1/api-keys', { key: other.key });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items.map((k: { tenantId: string }) => k.tenantId).filter((t: string) => t !== other.tenantId), []);
    assert.ok(!list.body.items.some((k: { id: string }) => k.id === admin.keyId));
    const revoke = await call('DELETE', `/v1/api-keys/${admin.keyId}`, { key: other.key });
    assert.equal(revoke.status, 404);
    assert.equal((await call('GET', '/v1/api-keys', { key: admin.key })).status, 200, 'the other tenant\'s key still works');
    assert.equal((await call('DELETE', '/v1/api-keys/not-a-uuid', { key: other.key })).status, 404);
  });

  it('a tenant-owned query without a tenant fails instead of reading every tenant', async () => {
    await assert.rejects(() => stack().orm.em.fork().find(ApiKey, {}), /tenant/);
  });
});

describe('operator CLI', () => {
  it('creates a tenant and prints its first admin key, which works', async () => {
    const { execFileSync } = await import('node:child_process');
    const path = await import('node:path');
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'stack/cli.ts', 'create-tenant', 'Acme Charging'], {
      cwd: path.resolve(__dirname, '..'),
      env: { ...process.env, DATABASE_URL: stack().databaseUrl },
      encoding: 'utf8',
    });
    const key = /^API key: (evni_\S+)$/m.exec(out)?.[1];
    assert.ok(key, out);
    const res = await call('GET', '/v1/api-keys', { key });
    assert.equal(res.status, 200);
    assert.equal(res.body.items.length, 1);
    assert.equal(res.body.items[0].role, 'admin');
  });
});
