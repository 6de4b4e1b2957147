import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { Tenant } from './Tenant';

/**
 * A tenant's organization: one per tenant, created with it. The reference's fields (name, phone,
 * address, tax id) plus the settings other features read: the time zone (station-level detection's
 * schedule), the energy price and its currency (revenue figures), the per-key rate limits and the
 * daily LLM token budget (null = the service default).
 */
export class Organization {
  id: string = randomUUID();
  tenant: Tenant;
  name: string;
  phone: string | null = null;
  address: string | null = null;
  taxIdType: string | null = null;
  taxIdValue: string | null = null;
  /** IANA time zone name. */
  timeZone = 'UTC';
  /** Price per kWh in `currency`. */
  energyPrice: number | null = null;
  /** ISO 4217 code; required when `energyPrice` is set. */
  currency: string | null = null;
  /** Requests per minute per API key; null = the service default. */
  requestsPerMinute: number | null = null;
  /** Batch submits per minute per API key; null = the service default. */
  batchSubmitsPerMinute: number | null = null;
  /** LLM tokens per UTC day (explanations and answers); 0 = no LLM use; null = the service default. */
  llmDailyTokenBudget: number | null = null;
  createdAt: Date = new Date();
  updatedAt: Date | null = null;

  constructor(tenant: Tenant, name: string) {
    this.tenant = tenant;
    this.name = name;
  }
}

export const OrganizationSchema = new EntitySchema<Organization>({
  class: Organization,
  tableName: 'organizations',
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade', unique: true },
    name: { type: 'string', length: 200 },
    phone: { type: 'string', length: 50, nullable: true },
    address: { type: 'text', nullable: true },
    taxIdType: { type: 'string', length: 50, nullable: true },
    taxIdValue: { type: 'string', length: 100, nullable: true },
    timeZone: { type: 'string', length: 64, default: 'UTC' },
    energyPrice: { type: 'double', nullable: true },
    currency: { type: 'string', length: 3, nullable: true },
    requestsPerMinute: { type: 'integer', nullable: true },
    batchSubmitsPerMinute: { type: 'integer', nullable: true },
    llmDailyTokenBudget: { type: 'integer', nullable: true },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    updatedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
  },
});
