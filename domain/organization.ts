// The tenant's organization: the reference's details (name, phone, address, tax id) and the
// settings other features read (time zone, energy price and currency, per-key rate limits, the
// daily LLM token budget).
import type { EntityManager } from '@mikro-orm/postgresql';
import { Organization, Tenant } from '../entities';
import { invalidAt, notFound } from './errors';

/**
 * IANA names this runtime's ICU has renamed or merged under an older canonical id (CLDR keeps
 * `Asia/Calcutta`, IANA says `Asia/Kolkata`): accepted as well, when the runtime knows them.
 */
const CURRENT_IANA_NAMES = [
  'Africa/Asmara',
  'America/Argentina/Buenos_Aires',
  'America/Argentina/Catamarca',
  'America/Argentina/Cordoba',
  'America/Argentina/Jujuy',
  'America/Argentina/Mendoza',
  'America/Atikokan',
  'America/Indiana/Indianapolis',
  'America/Kentucky/Louisville',
  'America/Nuuk',
  'Asia/Ho_Chi_Minh',
  'Asia/Kathmandu',
  'Asia/Kolkata',
  'Asia/Yangon',
  'Atlantic/Faroe',
  'Europe/Kyiv',
  'Pacific/Chuuk',
  'Pacific/Kanton',
  'Pacific/Pohnpei',
];

const knownToIntl = (name: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
};

/**
 * The time zone names an organization may have, exactly as spelled here (the API document lists
 * them as its `timeZone` enum, and the server accepts nothing else): this runtime's
 * `Intl.supportedValuesOf('timeZone')`, `UTC`, and the current IANA spelling of zones ICU still
 * lists under an older name. Other case spellings, offsets (`+01:00`, which know no daylight
 * saving time) and legacy aliases (`EST`, `US/Eastern`) are refused.
 */
export const TIME_ZONES: readonly [string, ...string[]] = [...new Set(['UTC', ...Intl.supportedValuesOf('timeZone'), ...CURRENT_IANA_NAMES])]
  .filter(knownToIntl)
  .sort() as [string, ...string[]];
const timeZones = new Set<string>(TIME_ZONES);

/** The name when it is one of `TIME_ZONES` (exact spelling), null otherwise. */
export function canonicalTimeZone(name: string): string | null {
  return timeZones.has(name) ? name : null;
}

/** The ISO 4217 codes this runtime knows (`Intl.supportedValuesOf('currency')`), upper case: the document's `currency` enum. */
export const CURRENCIES: readonly [string, ...string[]] = [...Intl.supportedValuesOf('currency')].filter((c) => /^[A-Z]{3}$/.test(c)).sort() as [string, ...string[]];
const currencies = new Set<string>(CURRENCIES);

/** One of `CURRENCIES` (`EUR`; exact, upper case). */
export function isCurrencyCode(code: string): boolean {
  return currencies.has(code);
}

export interface RateLimitsInput {
  requestsPerMinute?: number | null;
  batchSubmitsPerMinute?: number | null;
}

/**
 * PUT /v1/organization's body. The reference's optional fields (phone, address, tax id) follow PUT
 * semantics: absent means null. The settings (timeZone, energyPrice, currency, rateLimits and each
 * of its fields, llmDailyTokenBudget) keep their stored value when absent; null resets them (time
 * zone to UTC, the others to none / the service default).
 */
export interface OrganizationInput {
  name: string;
  phone?: string | null;
  address?: string | null;
  taxIdType?: string | null;
  taxIdValue?: string | null;
  timeZone?: string | null;
  energyPrice?: number | null;
  currency?: string | null;
  rateLimits?: RateLimitsInput | null;
  /** LLM tokens per UTC day (integer ≥ 0; 0: no LLM use); null: the service default. */
  llmDailyTokenBudget?: number | null;
}

export async function getOrganization(em: EntityManager): Promise<Organization> {
  // The tenant filter of the request's EntityManager picks the caller's organization.
  const org = await em.findOne(Organization, {});
  if (!org) throw notFound('Organization');
  return org;
}

/** Creates (when the tenant has none yet) or updates the tenant's organization. */
export async function putOrganization(em: EntityManager, tenant: Tenant, input: OrganizationInput, now = new Date()): Promise<{ organization: Organization; created: boolean }> {
  let org = await em.findOne(Organization, {});
  const created = !org;
  org ??= new Organization(tenant, input.name);
  org.name = input.name;
  org.phone = input.phone ?? null;
  org.address = input.address ?? null;
  org.taxIdType = input.taxIdType ?? null;
  org.taxIdValue = input.taxIdValue ?? null;
  if (input.timeZone !== undefined) {
    const tz = input.timeZone === null ? 'UTC' : canonicalTimeZone(input.timeZone);
    if (!tz) throw invalidAt([{ loc: ['body', 'timeZone'], msg: `unknown IANA time zone "${input.timeZone}"` }]);
    org.timeZone = tz;
  }
  if (input.energyPrice !== undefined) org.energyPrice = input.energyPrice;
  if (input.currency !== undefined) org.currency = input.currency;
  if (org.currency !== null && !isCurrencyCode(org.currency)) {
    throw invalidAt([{ loc: ['body', 'currency'], msg: `"${org.currency}" is not an ISO 4217 currency code` }]);
  }
  if (org.energyPrice !== null && org.currency === null) {
    throw invalidAt([{ loc: ['body', 'currency'], msg: 'required when energyPrice is set (ISO 4217, e.g. "EUR")' }]);
  }
  if (input.rateLimits === null) {
    org.requestsPerMinute = null;
    org.batchSubmitsPerMinute = null;
  } else if (input.rateLimits) {
    if (input.rateLimits.requestsPerMinute !== undefined) org.requestsPerMinute = input.rateLimits.requestsPerMinute;
    if (input.rateLimits.batchSubmitsPerMinute !== undefined) org.batchSubmitsPerMinute = input.rateLimits.batchSubmitsPerMinute;
  }
  if (input.llmDailyTokenBudget !== undefined) org.llmDailyTokenBudget = input.llmDailyTokenBudget;
  if (created) em.persist(org);
  else org.updatedAt = now;
  await em.flush();
  return { organization: org, created };
}

/**
 * The organization's per-key rate limits (null: the service default) — for the rate limiter, on
 * every request: one query on the unique index of `organizations.tenant_id`, whatever the
 * EntityManager's filters.
 */
export async function rateLimitsOf(em: EntityManager, tenantId: string): Promise<{ requestsPerMinute: number | null; batchSubmitsPerMinute: number | null }> {
  const rows: { requests_per_minute: number | null; batch_submits_per_minute: number | null }[] = await em
    .getConnection()
    .execute('select requests_per_minute, batch_submits_per_minute from organizations where tenant_id = ?', [tenantId]);
  return { requestsPerMinute: rows[0]?.requests_per_minute ?? null, batchSubmitsPerMinute: rows[0]?.batch_submits_per_minute ?? null };
}

/**
 * The organization's own daily LLM token budget (0: no LLM use), or null for the service default —
 * for the explanations' budget check: one query on the unique index of `organizations.tenant_id`,
 * whatever the EntityManager's filters.
 */
export async function llmDailyTokenBudgetOf(em: EntityManager, tenantId: string): Promise<number | null> {
  const rows: { llm_daily_token_budget: number | null }[] = await em
    .getConnection()
    .execute('select llm_daily_token_budget from organizations where tenant_id = ?', [tenantId]);
  return rows[0]?.llm_daily_token_budget ?? null;
}
