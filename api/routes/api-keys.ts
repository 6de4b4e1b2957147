import { createApiKey, listApiKeys, revokeApiKey } from '../../domain/api-keys';
import { defineRoute } from '../route';
import { ApiKeyItem, ApiKeyList, CreateApiKey, CreatedApiKey, KeyIdParams, presentApiKey, presentIssuedApiKey } from '../schemas/api-keys';
import { ErrorSchema } from '../schemas/common';

export const apiKeyRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/api-keys',
    summary: 'List API keys',
    description:
      "All API keys of the caller's tenant, newest first, revoked ones included. Keys themselves are never shown. Each key belongs to a member (`memberId`) and acts with that member's current role (`role`).",
    tags: ['API keys'],
    responses: { 200: { description: 'Keys', schema: ApiKeyList } },
    handler: async ({ em }) => ({ body: { items: (await listApiKeys(em)).map(presentApiKey) } }),
  }),
  defineRoute({
    method: 'post',
    path: '/v1/api-keys',
    summary: 'Create an API key',
    description:
      "Creates a key for the caller's own member, or for another active member of the tenant (`memberId`). The key acts with its member's role, now and after any role change; `role` in the body is accepted only when it equals that role. The full key is in this response only. Needs the admin role.",
    tags: ['API keys'],
    body: CreateApiKey,
    responses: {
      200: { description: 'Created', schema: CreatedApiKey },
      404: { description: 'No such active member in this tenant (`memberId`)', schema: ErrorSchema },
    },
    handler: async ({ em, auth, body }) => {
      const issued = await createApiKey(em, auth.member, {
        name: body.name,
        description: body.description,
        memberId: body.memberId,
        role: body.role,
        expiresAt: body.expiresAt ? new Date(body.expiresAt) : null,
      });
      return { body: presentIssuedApiKey(issued) };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/v1/api-keys/{key_id}',
    summary: 'Revoke an API key',
    description: 'Revokes a key of the caller\'s tenant; it stops working at once. Revoking twice is harmless. Needs the admin role.',
    tags: ['API keys'],
    params: KeyIdParams,
    responses: {
      200: { description: 'Revoked', schema: ApiKeyItem },
      404: { description: 'No such key in this tenant', schema: ErrorSchema },
    },
    handler: async ({ em, params }) => ({ body: presentApiKey(await revokeApiKey(em, params.key_id)) }),
  }),
];
