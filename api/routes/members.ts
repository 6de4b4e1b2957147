import { acceptInvitation, changeMemberRole, inviteMember, listMembers, removeMember, withdrawInvitation } from '../../domain/members';
import { defineRoute } from '../route';
import { presentIssuedApiKey } from '../schemas/api-keys';
import { ErrorSchema } from '../schemas/common';
import {
  AcceptedInvitation,
  AcceptInvitation,
  ChangeRole,
  CreatedInvitation,
  CreateInvitation,
  InvitationIdParams,
  InvitationOut,
  MemberItem,
  MemberList,
  presentInvitation,
  presentInvitedMember,
  presentIssuedInvitation,
  presentMember,
  UserIdParams,
} from '../schemas/members';

export const memberRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/members',
    summary: 'List members',
    description:
      "The tenant's active members (oldest first). Admins also see the pending invitations, as entries with status `invited`, `invitedAt`, `expiresAt`, `invitedBy` (the inviter's email) and `invitationId` (and `userId` null); members see no invitations.",
    tags: ['Members'],
    responses: { 200: { description: 'Members (and, for admins, pending invitations)', schema: MemberList } },
    handler: async ({ em, auth }) => {
      const { members, invitations } = await listMembers(em, auth.member);
      return { body: { members: [...members.map(presentMember), ...invitations.map(presentInvitedMember)] } };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/v1/members/{user_id}',
    summary: 'Remove member',
    description:
      'Removes a member (status `removed`) and revokes all of its API keys in the same transaction: they fail with 400 from the next request on. ' +
      'Removing yourself is allowed; removing the last admin is a 409; removing a removed member again returns it unchanged. Needs the admin role.',
    tags: ['Members'],
    params: UserIdParams,
    responses: {
      200: { description: 'The removed member', schema: MemberItem },
      404: { description: 'No such member in this tenant', schema: ErrorSchema },
      409: { description: "The member is the organization's last admin", schema: ErrorSchema },
    },
    handler: async ({ em, auth, params }) => ({ body: presentMember(await removeMember(em, auth.tenant.id, params.user_id)) }),
  }),
  defineRoute({
    method: 'patch',
    path: '/v1/members/{user_id}',
    summary: "Change a member's role",
    description:
      "Extension. Sets an active member's role (`admin` or `member`); the member's existing API keys act with the new role from the next request on. Demoting the last admin is a 409. Needs the admin role.",
    tags: ['Members'],
    params: UserIdParams,
    body: ChangeRole,
    responses: {
      200: { description: 'The member with its new role', schema: MemberItem },
      404: { description: 'No such active member in this tenant', schema: ErrorSchema },
      409: { description: "The member is the organization's last admin", schema: ErrorSchema },
    },
    handler: async ({ em, auth, params, body }) => ({ body: presentMember(await changeMemberRole(em, auth.tenant.id, params.user_id, body.role)) }),
  }),
  defineRoute({
    method: 'post',
    path: '/v1/members/invitations',
    summary: 'Invite a member',
    description:
      'Extension. Invites an email with a role. The response holds the invitation token (`evni_inv_…`), shown only here: pass it to the invitee, who accepts with `POST /v1/invitations/accept`. ' +
      'The token is valid 7 days and works once. Inviting an active member is a 409; inviting an email with a pending invitation replaces it (the old token stops working). Needs the admin role.',
    tags: ['Members'],
    body: CreateInvitation,
    responses: {
      201: { description: 'The invitation, with its token', schema: CreatedInvitation },
      409: { description: 'The email is an active member already', schema: ErrorSchema },
    },
    handler: async ({ em, auth, body }) => ({ status: 201, body: presentIssuedInvitation(await inviteMember(em, auth.member, body)) }),
  }),
  defineRoute({
    method: 'delete',
    path: '/v1/members/invitations/{invitation_id}',
    summary: 'Withdraw an invitation',
    description: 'Extension. Withdraws an invitation: its token stops working. Withdrawing twice is harmless; an accepted invitation is a 409. Needs the admin role.',
    tags: ['Members'],
    params: InvitationIdParams,
    responses: {
      200: { description: 'The withdrawn invitation', schema: InvitationOut },
      404: { description: 'No such invitation in this tenant', schema: ErrorSchema },
      409: { description: 'The invitation has been accepted', schema: ErrorSchema },
    },
    handler: async ({ em, params }) => ({ body: presentInvitation(await withdrawInvitation(em, params.invitation_id)) }),
  }),
  defineRoute({
    method: 'post',
    path: '/v1/invitations/accept',
    summary: 'Accept an invitation',
    description:
      "Extension. No API key: the invitation token decides the organization. The invitee becomes an active member with the invitation's role and gets a first API key (the full key is in this response only). " +
      'A token works once: an unknown, withdrawn (or replaced), expired or already accepted token is a 404 whose detail says which.',
    tags: ['Members'],
    body: AcceptInvitation,
    responses: {
      201: { description: 'The new member and its first API key', schema: AcceptedInvitation },
      404: { description: 'Unknown, withdrawn, expired or already accepted invitation', schema: ErrorSchema },
      409: { description: 'The email became an active member by other means', schema: ErrorSchema },
    },
    handler: async ({ em, body }) => {
      const { member, ...issued } = await acceptInvitation(em, body);
      return { status: 201, body: { member: presentMember(member), apiKey: presentIssuedApiKey(issued) } };
    },
  }),
];
