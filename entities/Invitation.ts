import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { Member, type MemberRole } from './Member';
import { Tenant } from './Tenant';

/**
 * An invitation to join a tenant with a role. Only the SHA-256 of its token is stored (the token is
 * shown once, to the admin who invites). Pending while not accepted, not withdrawn and not expired;
 * re-inviting the same email withdraws the older pending invitation.
 */
export class Invitation {
  id: string = randomUUID();
  tenant: Tenant;
  email: string;
  role: MemberRole;
  tokenHash: string;
  invitedBy: Member;
  invitedAt: Date = new Date();
  expiresAt: Date;
  acceptedAt: Date | null = null;
  /** The member the invitation became. */
  member: Member | null = null;
  withdrawnAt: Date | null = null;

  constructor(init: Pick<Invitation, 'tenant' | 'email' | 'role' | 'tokenHash' | 'invitedBy' | 'invitedAt' | 'expiresAt'>) {
    this.tenant = init.tenant;
    this.email = init.email;
    this.role = init.role;
    this.tokenHash = init.tokenHash;
    this.invitedBy = init.invitedBy;
    this.invitedAt = init.invitedAt;
    this.expiresAt = init.expiresAt;
  }
}

export const InvitationSchema = new EntitySchema<Invitation>({
  class: Invitation,
  tableName: 'invitations',
  indexes: [{ properties: ['tenant', 'email'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade', index: false },
    email: { type: 'string', length: 320 },
    role: { type: 'string', length: 16 },
    tokenHash: { type: 'string', length: 64, unique: true },
    invitedBy: { kind: 'm:1', entity: () => Member, deleteRule: 'cascade', index: true },
    invitedAt: { type: 'Date', columnType: 'timestamptz' },
    expiresAt: { type: 'Date', columnType: 'timestamptz' },
    acceptedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    member: { kind: 'm:1', entity: () => Member, nullable: true, deleteRule: 'set null', index: true },
    withdrawnAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
  },
});
