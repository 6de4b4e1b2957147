// Member and invitation request and response schemas (`GET /v1/members` is the reference's `002`
// shape; invitations and role changes are extensions), and their presenters.
import type { Invitation, Member } from '../../entities';
import type { IssuedInvitation } from '../../domain/members';
import { invitationStatus } from '../../domain/members';
import { CreatedApiKey } from './api-keys';
import { EMAIL_PATTERN } from '../../domain/members';
import { iso } from './common';
import { z } from '../zod';

const Role = z.enum(['admin', 'member']).openapi({ description: '`admin` may manage the organization, members and keys; `member` may use the rest of the API' });

export const MemberItem = z
  .object({
    userId: z.string().openapi({ description: 'The member id (null for a pending invitation)' }).nullable(),
    email: z.string(),
    role: Role,
    status: z.enum(['active', 'invited', 'removed']).openapi({ description: '`invited`: a pending invitation (shown to admins only)' }),
    joinedAt: z.string().nullable(),
    invitedAt: z.string().nullable(),
    expiresAt: z.string().nullable().openapi({ description: 'When a pending invitation expires' }),
    invitedBy: z.string().nullable().openapi({ description: "The inviting member's email" }),
    invitationId: z.string().nullable(),
    removedAt: z.string().nullable().optional().openapi({ description: 'Extension. When the member was removed' }),
  })
  .openapi('Member');

export const MemberList = z.object({ members: z.array(MemberItem) }).openapi('MemberList');

export const UserIdParams = z.object({ user_id: z.string() });
export const InvitationIdParams = z.object({ invitation_id: z.string() });

export const ChangeRole = z.object({ role: Role }).openapi('MemberRoleChangeRequest');

export const CreateInvitation = z
  .object({
    email: z
      .string()
      .max(320)
      .regex(EMAIL_PATTERN, 'not an email address (letters, digits and _ \' + - . before the @, at most 64 characters; a domain name with a letter-only top-level label after it)')
      .transform((v) => v.toLowerCase())
      .openapi({
        type: 'string',
        format: 'email',
        pattern: EMAIL_PATTERN.source,
        maxLength: 320,
        description:
          "The invitee's email (stored lower-cased). Exactly what the pattern admits: a local part of letters, digits and `_ ' + - .` (dot-separated, " +
          "at most 64 characters, not ending in `'`), then a domain name (labels of letters, digits and inner hyphens, a letter-only top-level label); no surrounding spaces.",
      }),
    role: Role.default('member'),
  })
  .openapi('InvitationCreateRequest');

const invitationFields = {
  invitationId: z.string(),
  email: z.string(),
  role: Role,
  invitedAt: z.string(),
  expiresAt: z.string(),
  invitedBy: z.string().nullable().openapi({ description: "The inviting member's email" }),
};

export const CreatedInvitation = z
  .object({
    ...invitationFields,
    token: z.string().openapi({ description: 'The invitation token (`evni_inv_…`), valid 7 days, usable once. Shown only in this response: pass it to the invitee.' }),
  })
  .openapi('InvitationCreated');

export const InvitationOut = z
  .object({
    ...invitationFields,
    status: z.enum(['pending', 'accepted', 'withdrawn', 'expired']),
    withdrawnAt: z.string().nullable(),
  })
  .openapi('Invitation');

export const AcceptInvitation = z
  .object({
    token: z.string().min(1).max(200).openapi({ description: 'The invitation token (`evni_inv_…`)' }),
    keyName: z.string().trim().min(1).max(200).optional().openapi({ description: 'Name of the API key created for the new member (default `default`)' }),
  })
  .openapi('InvitationAcceptRequest');

export const AcceptedInvitation = z
  .object({
    member: MemberItem,
    apiKey: CreatedApiKey.openapi({ description: "The new member's first API key (the full key is in this response only)" }),
  })
  .openapi('InvitationAccepted');

export function presentMember(m: Member): z.infer<typeof MemberItem> {
  return {
    userId: m.id,
    email: m.email,
    role: m.role,
    status: m.status,
    joinedAt: iso(m.joinedAt),
    invitedAt: null,
    expiresAt: null,
    invitedBy: null,
    invitationId: null,
    removedAt: iso(m.removedAt),
  };
}

/** A pending invitation as an entry of the member list. */
export function presentInvitedMember(inv: Invitation): z.infer<typeof MemberItem> {
  return {
    userId: null,
    email: inv.email,
    role: inv.role,
    status: 'invited',
    joinedAt: null,
    invitedAt: iso(inv.invitedAt),
    expiresAt: iso(inv.expiresAt),
    invitedBy: inv.invitedBy.email,
    invitationId: inv.id,
  };
}

/** The fields every invitation shows. */
function invitationBase(inv: Invitation) {
  return {
    invitationId: inv.id,
    email: inv.email,
    role: inv.role,
    invitedAt: iso(inv.invitedAt)!,
    expiresAt: iso(inv.expiresAt)!,
    invitedBy: inv.invitedBy.email,
  };
}

export function presentInvitation(inv: Invitation, now = new Date()): z.infer<typeof InvitationOut> {
  return { ...invitationBase(inv), status: invitationStatus(inv, now), withdrawnAt: iso(inv.withdrawnAt) };
}

/** An invitation just issued: the only response that holds its token. */
export function presentIssuedInvitation({ invitation, token }: IssuedInvitation): z.infer<typeof CreatedInvitation> {
  return { ...invitationBase(invitation), token };
}
