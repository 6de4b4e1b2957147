// Organization request and response schemas (the reference's `002` shape plus the documented
// extensions: timeZone, energyPrice, currency, rateLimits, llmDailyTokenBudget), and its presenter.
import type { Organization } from '../../entities';
import { CURRENCIES, TIME_ZONES } from '../../domain/organization';
import { iso, nullableVocabulary } from './common';
import { z } from '../zod';

/** The largest budget the column (a PostgreSQL int) holds. */
const MAX_LLM_DAILY_TOKEN_BUDGET = 2_147_483_647;

const optionalText = (max: number, description: string) => z.string().trim().max(max).nullish().openapi({ description: `${description}. Absent or null: none (PUT replaces the whole set).` });

const perMinute = (description: string) =>
  z.number().int().min(1).max(1_000_000).nullish().openapi({ description: `${description}. Null: the service default; absent: unchanged.` });

export const RateLimitsIn = z
  .object({
    requestsPerMinute: perMinute('Requests per minute per API key'),
    batchSubmitsPerMinute: perMinute('Batch submits (POST /v1/sessions/batch) per minute per API key'),
  })
  .openapi('OrganizationRateLimitsRequest', { description: 'Extension. Per-key rate limits of the organization.' });

export const PutOrganization = z
  .object({
    name: z.string().trim().min(1).max(200).openapi({ description: 'Organization name' }),
    phone: optionalText(50, 'Phone number'),
    address: optionalText(2000, 'Postal address'),
    taxIdType: optionalText(50, 'Tax id type (e.g. eu_vat)'),
    taxIdValue: optionalText(100, 'Tax id value'),
    timeZone: nullableVocabulary(TIME_ZONES, 'unknown time zone: one of the IANA names the API document lists, spelled as listed (e.g. "Europe/Amsterdam", "UTC")').openapi({
        description:
          'Extension. IANA time zone name, spelled exactly as listed (station-level detection runs on its schedule). ' +
          'Offsets (`+01:00`) and legacy aliases (`EST`, `US/Eastern`) are refused. Absent: unchanged; null: UTC.',
        example: 'Europe/Amsterdam',
      }),
    energyPrice: z
      .number()
      .min(0)
      .max(1_000_000)
      .nullish()
      .openapi({ description: 'Extension. Energy price per kWh in `currency` (statistics\' revenue figures). Absent: unchanged; null: none. Needs a currency.', example: 0.35 }),
    currency: nullableVocabulary(CURRENCIES, 'not an ISO 4217 currency code: one of the codes the API document lists, in upper case (e.g. "EUR")').openapi({
        description:
          'Extension. ISO 4217 currency code of energyPrice, upper case (required when energyPrice is set or stored: a 422 at `currency` otherwise). Absent: unchanged; null: none.',
        example: 'EUR',
      }),
    rateLimits: RateLimitsIn.nullish().openapi({ description: 'Extension. Per-key rate limits. Absent (or a field of it absent): unchanged; null: the service defaults.' }),
    llmDailyTokenBudget: z
      .number()
      .int()
      .min(0)
      .max(MAX_LLM_DAILY_TOKEN_BUDGET)
      .nullish()
      .openapi({
        description:
          'Extension. LLM tokens (input, prompt cache and output) the organization may use per UTC day for explanations and answers; over it, a 429. ' +
          '0: no LLM use. Absent: unchanged; null: the service default (EVNI_LLM_DAILY_TOKEN_BUDGET).',
        example: 500_000,
      }),
  })
  .openapi('OrganizationUpdateRequest');

export const OrganizationOut = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    name: z.string(),
    phone: z.string().nullable(),
    address: z.string().nullable(),
    taxIdType: z.string().nullable(),
    taxIdValue: z.string().nullable(),
    timeZone: z.string().openapi({ description: 'Extension. IANA time zone name (default UTC)' }),
    energyPrice: z.number().nullable().openapi({ description: 'Extension. Energy price per kWh in `currency`, or null' }),
    currency: z.string().nullable().openapi({ description: 'Extension. ISO 4217 currency code of energyPrice, or null' }),
    rateLimits: z
      .object({
        requestsPerMinute: z.number().int().nullable().openapi({ description: 'Requests per minute per API key; null: the service default' }),
        batchSubmitsPerMinute: z.number().int().nullable().openapi({ description: 'Batch submits per minute per API key; null: the service default' }),
      })
      .openapi('OrganizationRateLimits', { description: 'Extension. Per-key rate limits.' }),
    llmDailyTokenBudget: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "Extension. The organization's daily LLM token budget (0: no LLM use); null: the service default (EVNI_LLM_DAILY_TOKEN_BUDGET)" }),
    createdAt: z.string(),
    updatedAt: z.string().nullable().openapi({ description: 'Last PUT; null until the first one' }),
  })
  .openapi('Organization');

export function presentOrganization(o: Organization): z.infer<typeof OrganizationOut> {
  return {
    id: o.id,
    tenantId: o.tenant.id,
    name: o.name,
    phone: o.phone,
    address: o.address,
    taxIdType: o.taxIdType,
    taxIdValue: o.taxIdValue,
    timeZone: o.timeZone,
    energyPrice: o.energyPrice,
    currency: o.currency,
    rateLimits: { requestsPerMinute: o.requestsPerMinute, batchSubmitsPerMinute: o.batchSubmitsPerMinute },
    llmDailyTokenBudget: o.llmDailyTokenBudget,
    createdAt: iso(o.createdAt)!,
    updatedAt: iso(o.updatedAt),
  };
}
