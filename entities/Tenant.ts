import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';

/** An operator, CPMS vendor or hub: every other record belongs to exactly one tenant. */
export class Tenant {
  id: string = randomUUID();
  name: string;
  createdAt: Date = new Date();

  constructor(name: string) {
    this.name = name;
  }
}

export const TenantSchema = new EntitySchema<Tenant>({
  class: Tenant,
  tableName: 'tenants',
  properties: {
    id: { type: 'uuid', primary: true },
    name: { type: 'string', length: 200 },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
  },
});
