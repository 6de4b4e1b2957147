// Members, roles and invitations. API keys belong to a member and act with its current role, so a
// role change or a removal takes effect on the member's keys at once. Every change to who is an
// admin runs under one lock per tenant (its `tenants` row), so that two concurrent requests can
// never leave an organization without an active admin.
import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { TENANT_FILTER } from '../db/orm';
import { sql } from '../db/sql';
import { ApiKey, Invitation, Member, type MemberRole } from '../entities';
import { issueApiKey, type IssuedKey } from './api-keys';
import { conflict, DomainError, notFound } from './errors';
import { isUuid } from './ids';

export const INVITATION_TOKEN_PREFIX = 'evni_inv_';
const INVITATION_TOKEN = /^evni_inv_[A-Za-z0-9_-]{43}$/;
export const INVITATION_VALID_MS = 7 * 24 * 3600 * 1000;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

/**
 * An invitee's email as the API accepts it (the document states it as the field's `pattern`): zod's
 * practical email rule (a dot-atom of letters, digits and `_ ' + -`, not ending in `'`, then a domain
 * with a letter-only top-level label), with the local part at most 64 characters and domain labels
 * of at most 63 that neither start nor end with a hyphen (the domain at most 253), so that every match is also a valid
 * `format: email`.
 */
export const EMAIL_PATTERN = /^(?=[^@]{1,64}@[^@]{1,253}$)(?:[A-Za-z0-9_'+-]+\.)*[A-Za-z0-9_'+-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/** Serialises membership changes of one tenant until the transaction ends. */
async function lockMembership(tem: EntityManager, tenantId: string): Promise<void> {
  await sql(tem, 'select id from tenants where id = ? for update', [tenantId]);
}

const activeAdmins = (tem: EntityManager, tenantId: string) => tem.count(Member, { tenant: tenantId, status: 'active', role: 'admin' });

const lastAdmin = (m: Member, what: string) =>
  conflict(`Cannot ${what} ${m.email}: it is the organization's last admin. Make another member an admin first (PATCH /v1/members/{user_id} with {"role": "admin"}).`);

/** A pending invitation: neither accepted nor withdrawn, and not expired. */
export const isPending = (inv: Invitation, now = new Date()) => !inv.acceptedAt && !inv.withdrawnAt && inv.expiresAt > now;

export type InvitationStatus = 'pending' | 'accepted' | 'withdrawn' | 'expired';
export function invitationStatus(inv: Invitation, now = new Date()): InvitationStatus {
  if (inv.acceptedAt) return 'accepted';
  if (inv.withdrawnAt) return 'withdrawn';
  return inv.expiresAt <= now ? 'expired' : 'pending';
}

/** The tenant's active members (oldest first), and for admins its pending invitations (oldest first). */
export async function listMembers(em: EntityManager, caller: Member, now = new Date()): Promise<{ members: Member[]; invitations: Invitation[] }> {
  const members = await em.find(Member, { status: 'active' }, { orderBy: { joinedAt: 'asc', id: 'asc' } });
  const invitations =
    caller.role === 'admin'
      ? await em.find(Invitation, { acceptedAt: null, withdrawnAt: null, expiresAt: { $gt: now } }, { populate: ['invitedBy'], orderBy: { invitedAt: 'asc', id: 'asc' } })
      : [];
  return { members, invitations };
}

/**
 * Removes a member: status `removed`, and every key of the member revoked in the same transaction
 * (they fail authentication from the next request on). Removing a removed member again returns it
 * unchanged. The last active admin cannot be removed (409).
 */
export async function removeMember(em: EntityManager, tenantId: string, userId: string, now = new Date()): Promise<Member> {
  if (!isUuid(userId)) throw notFound('Member');
  return em.transactional(async (tem) => {
    await lockMembership(tem, tenantId);
    const member = await tem.findOne(Member, { id: userId }, { refresh: true });
    if (!member) throw notFound('Member');
    if (member.status === 'removed') return member;
    if (member.role === 'admin' && (await activeAdmins(tem, tenantId)) <= 1) throw lastAdmin(member, 'remove');
    member.status = 'removed';
    member.removedAt = now;
    await tem.nativeUpdate(ApiKey, { tenant: tenantId, member: member.id, revokedAt: null }, { revokedAt: now });
    return member;
  });
}

/** Changes an active member's role; it applies to the member's existing keys at once. Demoting the last admin is a 409. */
export async function changeMemberRole(em: EntityManager, tenantId: string, userId: string, role: MemberRole): Promise<Member> {
  if (!isUuid(userId)) throw notFound('Member');
  return em.transactional(async (tem) => {
    await lockMembership(tem, tenantId);
    const member = await tem.findOne(Member, { id: userId, status: 'active' }, { refresh: true });
    if (!member) throw notFound('Member');
    if (member.role === role) return member;
    if (member.role === 'admin' && (await activeAdmins(tem, tenantId)) <= 1) throw lastAdmin(member, 'demote');
    member.role = role;
    return member;
  });
}

export interface IssuedInvitation {
  invitation: Invitation;
  /** The only time the token exists outside the invitee: return it, never store it. */
  token: string;
}

/**
 * Invites an email with a role: a token valid 7 days (stored as its SHA-256). An email that is an
 * active member already is a 409; re-inviting an email with a pending invitation withdraws that one
 * (its token stops working) and issues a new one.
 */
export async function inviteMember(em: EntityManager, inviter: Member, input: { email: string; role: MemberRole }, now = new Date()): Promise<IssuedInvitation> {
  const tenantId = inviter.tenant.id;
  const email = normaliseEmail(input.email);
  return em.transactional(async (tem) => {
    await lockMembership(tem, tenantId);
    if (await tem.count(Member, { tenant: tenantId, email, status: 'active' })) throw conflict(`${email} is already an active member of this organization`);
    await tem.nativeUpdate(Invitation, { tenant: tenantId, email, acceptedAt: null, withdrawnAt: null }, { withdrawnAt: now });
    const token = INVITATION_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const invitation = new Invitation({
      tenant: inviter.tenant,
      email,
      role: input.role,
      tokenHash: hashToken(token),
      invitedBy: inviter,
      invitedAt: now,
      expiresAt: new Date(now.getTime() + INVITATION_VALID_MS),
    });
    tem.persist(invitation);
    return { invitation, token };
  });
}

/** Withdraws an invitation (its token stops working); withdrawing twice is harmless; an accepted one is a 409. */
export async function withdrawInvitation(em: EntityManager, invitationId: string, now = new Date()): Promise<Invitation> {
  const invitation = isUuid(invitationId) ? await em.findOne(Invitation, { id: invitationId }, { populate: ['invitedBy'] }) : null;
  if (!invitation) throw notFound('Invitation');
  if (invitation.acceptedAt) throw conflict('This invitation has already been accepted: remove the member instead (DELETE /v1/members/{user_id})');
  invitation.withdrawnAt ??= now;
  await em.flush();
  return invitation;
}

const gone = (detail: string) => new DomainError('not_found', detail);

/**
 * Accepts an invitation with its token (no API key needed): the invitee becomes an active member
 * with the invitation's role and gets a first API key. A token works once. Unknown, withdrawn
 * (or replaced), expired and used tokens are all 404s, each with its own detail.
 */
export async function acceptInvitation(em: EntityManager, input: { token: string; keyName?: string }, now = new Date()): Promise<{ member: Member } & IssuedKey> {
  const unknown = gone('Invitation not found: the token is unknown. Ask an admin of the organization for an invitation.');
  if (!INVITATION_TOKEN.test(input.token)) throw unknown;
  // Like an API key, the token decides the tenant: this lookup is the one that bypasses the filter.
  const found = await em.findOne(Invitation, { tokenHash: hashToken(input.token) }, { filters: false });
  if (!found) throw unknown;
  const tenantId = found.tenant.id;
  em.setFilterParams(TENANT_FILTER, { tenantId });
  return em.transactional(async (tem) => {
    await lockMembership(tem, tenantId);
    const invitation = await tem.findOneOrFail(Invitation, { id: found.id }, { refresh: true, populate: ['tenant'] });
    switch (invitationStatus(invitation, now)) {
      case 'accepted':
        throw gone('This invitation has already been accepted: an invitation token works once.');
      case 'withdrawn':
        throw gone('This invitation has been withdrawn or replaced by a newer one. Ask an admin of the organization for a new invitation.');
      case 'expired':
        throw gone(`This invitation expired at ${invitation.expiresAt.toISOString()}. Ask an admin of the organization for a new invitation.`);
      case 'pending':
        break;
    }
    if (await tem.count(Member, { tenant: tenantId, email: invitation.email, status: 'active' })) {
      throw conflict(`${invitation.email} is already an active member of this organization`);
    }
    const member = new Member(invitation.tenant, invitation.email, invitation.role);
    member.joinedAt = now;
    tem.persist(member);
    invitation.acceptedAt = now;
    invitation.member = member;
    const issued = issueApiKey(tem, member, { name: input.keyName ?? 'default' });
    return { member, ...issued };
  });
}
