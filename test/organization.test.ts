import assert from 'node:assert/strict';
import { llmDailyTokenBudgetOf, rateLimitsOf } from '../domain/organization';
import { call, newTenant } from './helpers/http';
import { stack } from './helpers/stack';

/** A member-role key of the tenant, through an invitation. */
async function memberKey(adminKey: string, email: string): Promise<string> {
  const inv = await call('POST', '/v1/members/invitations', { key: adminKey, body: { email, role: 'member' } });
  assert.equal(inv.status, 201, inv.text);
  const acc = await call('POST', '/v1/invitations/accept', { body: { token: inv.body.token } });
  assert.equal(acc.status, 201, acc.text);
  return acc.body.apiKey.key;
}

describe('organization', () => {
  let admin: Awaited<ReturnType<typeof newTenant>>;
  let member: string;
  before(async () => {
    admin = await newTenant('Org Tests GmbH');
    member = await memberKey(admin.key, 'viewer@org-tests.example');
  });

  it('exists from the tenant on, named as it, with the defaults; any member may read it', async () => {
    for (const key of [admin.key, member]) {
      const res = await call('GET', '/v1/organization', { key });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.tenantId, admin.tenantId);
      assert.equal(res.body.name, 'Org Tests GmbH');
      assert.equal(res.body.phone, null);
      assert.equal(res.body.timeZone, 'UTC');
      assert.equal(res.body.energyPrice, null);
      assert.equal(res.body.currency, null);
      assert.deepEqual(res.body.rateLimits, { requestsPerMinute: null, batchSubmitsPerMinute: null });
      assert.equal(res.body.llmDailyTokenBudget, null, 'the service default');
      assert.match(res.body.createdAt, /Z$/);
      assert.equal(res.body.updatedAt, null);
    }
  });

  it('PUT needs the admin role (403 naming it)', async () => {
    const res = await call('PUT', '/v1/organization', { key: member, body: { name: 'Hijacked' } });
    assert.equal(res.status, 403);
    assert.equal(res.body.detail, 'This endpoint needs the admin role (your API key acts as a member)');
    assert.equal((await call('GET', '/v1/organization', { key: admin.key })).body.name, 'Org Tests GmbH');
  });

  it('PUT replaces the reference fields and keeps the extensions when they are absent', async () => {
    const full = await call('PUT', '/v1/organization', {
      key: admin.key,
      body: {
        name: 'Org Tests B.V.',
        phone: '+31 20 123 4567',
        address: 'Keizersgracht 1, Amsterdam',
        tax_id_type: 'eu_vat', // snake_case alias
        taxIdValue: 'NL123456789B01',
        timeZone: 'Europe/Amsterdam',
        energyPrice: 0.35,
        currency: 'EUR',
        rateLimits: { requestsPerMinute: 5000, batch_submits_per_minute: 500 },
        llmDailyTokenBudget: 250_000,
      },
    });
    assert.equal(full.status, 200, full.text);
    assert.equal(full.body.name, 'Org Tests B.V.');
    assert.equal(full.body.taxIdType, 'eu_vat');
    assert.equal(full.body.timeZone, 'Europe/Amsterdam');
    assert.equal(full.body.energyPrice, 0.35);
    assert.equal(full.body.currency, 'EUR');
    assert.deepEqual(full.body.rateLimits, { requestsPerMinute: 5000, batchSubmitsPerMinute: 500 });
    assert.equal(full.body.llmDailyTokenBudget, 250_000);
    assert.ok(full.body.updatedAt);
    assert.deepEqual((await call('GET', '/v1/organization', { key: member })).body, full.body);

    const nameOnly = await call('PUT', '/v1/organization', { key: admin.key, body: { name: 'Org Tests' } });
    assert.equal(nameOnly.status, 200, nameOnly.text);
    assert.equal(nameOnly.body.phone, null, 'absent reference fields become null');
    assert.equal(nameOnly.body.address, null);
    assert.equal(nameOnly.body.taxIdType, null);
    assert.equal(nameOnly.body.taxIdValue, null);
    assert.equal(nameOnly.body.timeZone, 'Europe/Amsterdam', 'absent extensions keep their value');
    assert.equal(nameOnly.body.energyPrice, 0.35);
    assert.equal(nameOnly.body.currency, 'EUR');
    assert.deepEqual(nameOnly.body.rateLimits, { requestsPerMinute: 5000, batchSubmitsPerMinute: 500 });
    assert.equal(nameOnly.body.llmDailyTokenBudget, 250_000);
    assert.equal(await llmDailyTokenBudgetOf(stack().orm.em.fork(), admin.tenantId), 250_000);

    assert.deepEqual(await rateLimitsOf(stack().orm.em.fork(), admin.tenantId), { requestsPerMinute: 5000, batchSubmitsPerMinute: 500 });

    const partial = await call('PUT', '/v1/organization', { key: admin.key, body: { name: 'Org Tests', rateLimits: { batchSubmitsPerMinute: null } } });
    assert.deepEqual(partial.body.rateLimits, { requestsPerMinute: 5000, batchSubmitsPerMinute: null }, 'a field of rateLimits left out keeps its value');

    const zero = await call('PUT', '/v1/organization', { key: admin.key, body: { name: 'Org Tests', llm_daily_token_budget: 0 } }); // snake_case alias
    assert.equal(zero.status, 200, zero.text);
    assert.equal(zero.body.llmDailyTokenBudget, 0, '0 (no LLM use) is kept, not taken for the default');
    assert.equal((await call('GET', '/v1/organization', { key: member })).body.llmDailyTokenBudget, 0);

    const reset = await call('PUT', '/v1/organization', {
      key: admin.key,
      body: { name: 'Org Tests', timeZone: null, energyPrice: null, currency: null, rateLimits: null, llmDailyTokenBudget: null },
    });
    assert.equal(reset.status, 200, reset.text);
    assert.equal(reset.body.timeZone, 'UTC');
    assert.equal(reset.body.energyPrice, null);
    assert.equal(reset.body.currency, null);
    assert.deepEqual(reset.body.rateLimits, { requestsPerMinute: null, batchSubmitsPerMinute: null });
    assert.deepEqual(await rateLimitsOf(stack().orm.em.fork(), admin.tenantId), { requestsPerMinute: null, batchSubmitsPerMinute: null });
    assert.equal(reset.body.llmDailyTokenBudget, null, 'null: back to the service default');
    assert.equal(await llmDailyTokenBudgetOf(stack().orm.em.fork(), admin.tenantId), null);
  });

  describe('validation (422 naming the field; nothing stored)', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['a missing name', {}, 'name'],
      ['an empty name', { name: '  ' }, 'name'],
      ['an unknown time zone', { name: 'x', timeZone: 'Mars/Olympus' }, 'timeZone'],
      ['an offset for a time zone', { name: 'x', timeZone: '+01:00' }, 'timeZone'],
      // The documented enum, spelled as listed: other case spellings and legacy aliases are refused.
      ['a time zone in another case', { name: 'x', timeZone: 'europe/amsterdam' }, 'timeZone'],
      ['a legacy time zone alias', { name: 'x', timeZone: 'US/Eastern' }, 'timeZone'],
      ['a currency in lower case', { name: 'x', energyPrice: 0.3, currency: 'eur' }, 'currency'],
      ['a currency with spaces', { name: 'x', energyPrice: 0.3, currency: ' EUR' }, 'currency'],
      ['a negative energy price', { name: 'x', energyPrice: -0.1, currency: 'EUR' }, 'energyPrice'],
      ['an energy price without a currency', { name: 'x', energyPrice: 0.3 }, 'currency'],
      ['a currency that is not ISO 4217', { name: 'x', energyPrice: 0.3, currency: 'EURO' }, 'currency'],
      ['an unknown currency code', { name: 'x', energyPrice: 0.3, currency: 'QQQ' }, 'currency'],
      ['a rate limit of 0', { name: 'x', rateLimits: { requestsPerMinute: 0 } }, 'rateLimits.requestsPerMinute'],
      ['a fractional rate limit', { name: 'x', rateLimits: { batchSubmitsPerMinute: 1.5 } }, 'rateLimits.batchSubmitsPerMinute'],
      ['a negative LLM token budget', { name: 'x', llmDailyTokenBudget: -1 }, 'llmDailyTokenBudget'],
      ['a fractional LLM token budget', { name: 'x', llmDailyTokenBudget: 1000.5 }, 'llmDailyTokenBudget'],
      ['an LLM token budget as text', { name: 'x', llmDailyTokenBudget: '1000' }, 'llmDailyTokenBudget'],
    ];
    for (const [name, body, field] of cases) {
      it(name, async () => {
        const res = await call('PUT', '/v1/organization', { key: admin.key, body });
        assert.equal(res.status, 422, res.text);
        assert.ok(res.body.detail.includes(field), res.body.detail);
        assert.deepEqual(res.body.errors[0].loc, ['body', ...field.split('.')]);
        assert.equal((await call('GET', '/v1/organization', { key: admin.key })).body.name, 'Org Tests');
      });
    }

    it('a price needs a currency, stored or sent; clearing the currency of a priced organization is refused', async () => {
      const priced = await call('PUT', '/v1/organization', { key: admin.key, body: { name: 'Org Tests', energyPrice: 0.4, currency: 'GBP' } });
      assert.equal(priced.status, 200, priced.text);
      const newPrice = await call('PUT', '/v1/organization', { key: admin.key, body: { name: 'Org Tests', energyPrice: 0.45 } });
      assert.equal(newPrice.status, 200, 'the stored currency counts');
      assert.equal(newPrice.body.currency, 'GBP');
      const cleared = await call('PUT', '/v1/organization', { key: admin.key, body: { name: 'Org Tests', currency: null } });
      assert.equal(cleared.status, 422, cleared.text);
      assert.match(cleared.body.detail, /currency/);
      assert.equal((await call('GET', '/v1/organization', { key: admin.key })).body.currency, 'GBP');
    });
  });

  it("each tenant sees and changes only its own organization", async () => {
    const other = await newTenant('Other Org');
    assert.equal((await call('PUT', '/v1/organization', { key: other.key, body: { name: 'Other Org Renamed' } })).status, 200);
    const mine = await call('GET', '/v1/organization', { key: admin.key });
    const theirs = await call('GET', '/v1/organization', { key: other.key });
    assert.equal(mine.body.name, 'Org Tests');
    assert.equal(theirs.body.name, 'Other Org Renamed');
    assert.equal(theirs.body.tenantId, other.tenantId);
    assert.notEqual(mine.body.id, theirs.body.id);
  });
});
