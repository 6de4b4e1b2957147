// The permission table (api/permissions.ts) is complete, matches the README, and holds over HTTP:
// every endpoint is called without a key, with a member's key and with an admin's key.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOCUMENTATION_ENDPOINTS, endpointKey, PERMISSIONS, permissionsMarkdown, ROLES, type Access, type Endpoint, type Role } from '../api/permissions';
import { routes } from '../api/routes';
import { call, newTenant } from './helpers/http';

const ZERO_UUID = '00000000-0000-4000-8000-000000000000';

describe('permissions: one table, every endpoint, every role', () => {
  it('has a row for every route, and no row without an endpoint', () => {
    const served = new Set([...routes.map((r) => endpointKey(r.method, r.path)), ...DOCUMENTATION_ENDPOINTS]);
    for (const key of served) assert.ok(key in PERMISSIONS, `${key} has no row in api/permissions.ts`);
    for (const key of Object.keys(PERMISSIONS)) assert.ok(served.has(key), `${key} is in the table but no route serves it`);
  });

  it('is the table the README shows', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const table = permissionsMarkdown();
    assert.ok(readme.includes(table), `README.md must contain the permission table:\n${table}`);
  });

  describe('over HTTP', () => {
    const keys: Partial<Record<Role, string>> = {};
    before(async () => {
      const t = await newTenant('permissions');
      keys.admin = t.key;
      const invited = await call('POST', '/v1/members/invitations', { key: t.key, body: { email: 'member@permissions.example', role: 'member' } });
      assert.equal(invited.status, 201, invited.text);
      const accepted = await call('POST', '/v1/invitations/accept', { body: { token: invited.body.token } });
      assert.equal(accepted.status, 201, accepted.text);
      keys.member = accepted.body.apiKey.key;
    });

    /** A harmless request to the endpoint: unknown ids, empty bodies (a 404 or 422 is fine here). */
    const request = (endpoint: Endpoint, key?: string) => {
      const [method, path] = endpoint.split(' ');
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => (name.endsWith('_id') && name !== 'session_id' ? ZERO_UUID : 'no-such-thing'));
      const body = ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined;
      return call(method, url, { key, body });
    };

    for (const [endpoint, access] of Object.entries(PERMISSIONS) as [Endpoint, Access][]) {
      it(`${endpoint}: ${access}`, async () => {
        const anonymous = await request(endpoint);
        if (access === 'public') assert.ok(anonymous.status !== 400 || !/Authorization|API key/.test(anonymous.body?.detail ?? ''), `${anonymous.status} ${anonymous.text}`);
        else {
          assert.equal(anonymous.status, 400, anonymous.text);
          assert.match(anonymous.body.detail, /Authorization/);
        }
        for (const role of ROLES) {
          const res = await request(endpoint, keys[role]);
          if (access === 'admin' && role === 'member') {
            assert.equal(res.status, 403, `${role}: ${res.status} ${res.text}`);
            assert.match(res.body.detail, /needs the admin role/);
          } else {
            assert.notEqual(res.status, 403, `${role}: ${res.text}`);
            assert.ok(res.status < 500, `${role}: ${res.status} ${res.text}`);
          }
        }
      });
    }
  });
});
