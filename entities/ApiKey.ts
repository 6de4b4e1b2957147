import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { Member, type MemberRole } from './Member';
import { Tenant } from './Tenant';

/** A key acts with its member's current role (keys carry no role of their own). */
export type ApiKeyRole = MemberRole;

/**
 * A bearer credential of one member. Only the SHA-256 of the key is stored; the key itself is shown
 * once. It acts with its member's current role; removing the member revokes it.
 */
export class ApiKey {
  id: string = randomUUID();
  tenant: Tenant;
  member: Member;
  name: string;
  description: string;
  /** The key's first characters, so that a person can tell their keys apart in a list. */
  prefix: string;
  keyHash: string;
  createdAt: Date = new Date();
  expiresAt: Date | null = null;
  lastUsedAt: Date | null = null;
  revokedAt: Date | null = null;

  constructor(init: Pick<ApiKey, 'tenant' | 'member' | 'name' | 'description' | 'prefix' | 'keyHash' | 'expiresAt'>) {
    this.tenant = init.tenant;
    this.member = init.member;
    this.name = init.name;
    this.description = init.description;
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
    member: { kind: 'm:1', entity: () => Member, deleteRule: 'cascade', index: true },
    name: { type: 'string', length: 200 },
    description: { type: 'text', default: '' },
    prefix: { type: 'string', length: 32 },
    keyHash: { type: 'string', length: 64, unique: true },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    expiresAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    lastUsedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    revokedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
  },
});
