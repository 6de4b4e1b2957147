import { ApiKey } from '../../entities';
import { issueApiKey } from '../../domain/api-keys';
import { notFound } from '../http-error';
import { defineRoute } from '../route';
import { ErrorSchema, iso, isoDateTime } from '../schemas/common';
import { z } from '../zod';

const ApiKeyItem = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    tenantId: z.string(),
    role: z.enum(['admin', 'member']),
    prefix: z.string().openapi({ description: 'First characters of the key, to tell keys apart' }),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .openapi('ApiKey');

const CreateApiKey = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).default(''),
    role: z.enum(['admin', 'member']).default('member'),
    expiresAt: isoDateTime
      .nullable()
      .optional()
      .refine((v) => !v || new Date(v) > new Date(), 'expiresAt must be in the future')
      .openapi({ description: 'Optional expiry (ISO 8601); the key is rejected from then on' }),
  })
  .openapi('ApiKeyCreateRequest');

const CreatedApiKey = z
  .object({
    id: z.string(),
    name: z.string(),
    key: z.string().openapi({ description: 'The full key. Shown only in this response: store it now.' }),
    tenantId: z.string(),
    role: z.enum(['admin', 'member']),
    expiresAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('ApiKeyCreated');

const KeyIdParams = z.object({ key_id: z.string() });

function present(k: ApiKey) {
  return {
    id: k.id,
    name: k.name,
    description: k.description,
    tenantId: k.tenant.id,
    role: k.role,
    prefix: k.prefix,
    createdAt: iso(k.createdAt)!,
    expiresAt: iso(k.expiresAt),
    lastUsedAt: iso(k.lastUsedAt),
    revokedAt: iso(k.revokedAt),
  };
}

const uuidLike = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

export const apiKeyRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/api-keys',
    summary: 'List API keys',
    description: "All API keys of the caller's tenant, newest first, revoked ones included. Keys themselves are never shown.",
    tags: ['API keys'],
    access: 'member',
    responses: { 200: { description: 'Keys', schema: z.object({ items: z.array(ApiKeyItem) }).openapi('ApiKeyList') } },
    handler: async ({ em }) => {
      const keys = await em.find(ApiKey, {}, { orderBy: { createdAt: 'desc', id: 'desc' } });
      return { body: { items: keys.map(present) } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/api-keys',
    summary: 'Create an API key',
    description: 'Creates a key for the caller\'s tenant. The full key is in this response only. Needs the admin role.',
    tags: ['API keys'],
    access: 'admin',
    body: CreateApiKey,
    responses: {
      200: { description: 'Created', schema: CreatedApiKey },
      403: { description: 'The caller is not an admin', schema: ErrorSchema },
    },
    handler: async ({ em, auth, body }) => {
      const { apiKey, key } = issueApiKey(em, auth.tenant, {
        name: body.name,
        description: body.description,
        role: body.role,
        expiresAt: body.expiresAt ? new Date(body.expiresAt) : null,
      });
      await em.flush();
      return {
        body: {
          id: apiKey.id,
          name: apiKey.name,
          key,
          tenantId: auth.tenant.id,
          role: apiKey.role,
          expiresAt: iso(apiKey.expiresAt),
          createdAt: iso(apiKey.createdAt)!,
        },
      };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/v1/api-keys/{key_id}',
    summary: 'Revoke an API key',
    description: 'Revokes a key of the caller\'s tenant; it stops working at once. Revoking twice is harmless. Needs the admin role.',
    tags: ['API keys'],
    access: 'admin',
    params: KeyIdParams,
    responses: {
      200: { description: 'Revoked', schema: ApiKeyItem },
      404: { description: 'No such key in this tenant', schema: ErrorSchema },
    },
    handler: async ({ em, params }) => {
      const key = uuidLike(params.key_id) ? await em.findOne(ApiKey, { id: params.key_id }) : null;
      if (!key) throw notFound('API key');
      key.revokedAt ??= new Date();
      await em.flush();
      return { body: present(key) };
    },
  }),
];
