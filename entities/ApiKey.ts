import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { Tenant } from './Tenant';

export type ApiKeyRole = 'admin' | 'member';

/** A bearer credential. Only the SHA-256 of the key is stored; the key itself is shown once. */
export class ApiKey {
  id: string = randomUUID();
  tenant: Tenant;
  name: string;
  description: string;
  role: ApiKeyRole;
  /** The key's first characters, so that a person can tell their keys apart in a list. */
  prefix: string;
  keyHash: string;
  createdAt: Date = new Date();
  expiresAt: Date | null = null;
  lastUsedAt: Date | null = null;
  revokedAt: Date | null = null;

  constructor(init: Pick<ApiKey, 'tenant' | 'name' | 'description' | 'role' | 'prefix' | 'keyHash' | 'expiresAt'>) {
    this.tenant = init.tenant;
    this.name = init.name;
    this.description = init.description;
    this.role = init.role;
    this.prefix = init.prefix;
    this.keyHash = init.keyHash;
    this.expiresAt = init.expiresAt;
  }
}

export const ApiKeySchema = new EntitySchema<ApiKey>({
  class: ApiKey,
  tableName: 'api_keys',
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade' },
    name: { type: 'string', length: 200 },
    description: { type: 'text', default: '' },
    role: { type: 'string', length: 16 },
    prefix: { type: 'string', length: 32 },
    keyHash: { type: 'string', length: 64, unique: true },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    expiresAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    lastUsedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    revokedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
  },
});
