import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { Tenant } from './Tenant';

export type MemberRole = 'admin' | 'member';
export const MEMBER_ROLES: readonly MemberRole[] = ['admin', 'member'];
export type MemberStatus = 'active' | 'removed';

/**
 * A person (or, for keys that predate members, a stand-in) in a tenant. API keys belong to a member
 * and act with the member's current role. Removing a member keeps the row (status `removed`) and
 * revokes its keys. The email is lower-cased and unique per tenant among active members.
 */
export class Member {
  id: string = randomUUID();
  tenant: Tenant;
  email: string;
  role: MemberRole;
  status: MemberStatus = 'active';
  joinedAt: Date = new Date();
  removedAt: Date | null = null;

  constructor(tenant: Tenant, email: string, role: MemberRole) {
    this.tenant = tenant;
    this.email = email;
    this.role = role;
  }
}

export const MemberSchema = new EntitySchema<Member>({
  class: Member,
  tableName: 'members',
  indexes: [
    {
      name: 'members_tenant_id_email_active_unique',
      expression: `create unique index "members_tenant_id_email_active_unique" on "members" ("tenant_id", "email") where "status" = 'active'`,
    },
  ],
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade', index: true },
    email: { type: 'string', length: 320 },
    role: { type: 'string', length: 16 },
    status: { type: 'string', length: 16, default: 'active' },
    joinedAt: { type: 'Date', columnType: 'timestamptz' },
    removedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
  },
});
