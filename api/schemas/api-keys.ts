// API key request and response schemas, and the presenters of stored keys (a key's role is its
// member's current role; the key's member must be loaded).
import type { ApiKey } from '../../entities';
import type { IssuedKey } from '../../domain/api-keys';
import { iso, isoDateTime, text, timestampOut } from './common';
import { z } from '../zod';

/** 002 types `expiresAt` as a string; a key created without an expiry has none to give, so it is null (a documented deviation). */
const KEY_EXPIRY_OUT = 'When the key stops working; null for a key that never expires (the reference types it as a string: a key without an expiry has no timestamp to give)';

/** Some character other than NUL and what String.prototype.trim removes. */
const NOT_BLANK_PATTERN = '^[^\\u0000]*[^\\u0000\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff][^\\u0000]*$';

export const ApiKeyItem = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    tenantId: z.string(),
    memberId: z.string().openapi({ description: 'The member the key belongs to (GET /v1/members)' }),
    role: z.enum(['admin', 'member']).openapi({ description: "The member's current role: the key acts with it" }),
    prefix: z.string().openapi({ description: 'First characters of the key, to tell keys apart' }),
    createdAt: timestampOut(),
    expiresAt: timestampOut(KEY_EXPIRY_OUT).nullable(),
    lastUsedAt: timestampOut().nullable(),
    revokedAt: timestampOut().nullable(),
  })
  .openapi('ApiKey');

export const ApiKeyList = z.object({ items: z.array(ApiKeyItem) }).openapi('ApiKeyList');

export const CreateApiKey = z
  .object({
    name: z.string().trim().min(1).max(200).openapi({ pattern: NOT_BLANK_PATTERN, description: 'Not blank' }),
    description: text(2000).default(''),
    memberId: text(200)
      .optional()
      .openapi({ description: "The member the key is for (default: the caller's own member); another member's id needs the admin role" }),
    role: z
      .enum(['admin', 'member'])
      .optional()
      .openapi({ description: "Deprecated: keys act with their member's role. Accepted only when it equals that role (otherwise 422)." }),
    expiresAt: isoDateTime
      .nullable()
      .optional()
      .refine((v) => !v || new Date(v) > new Date(), 'expiresAt must be in the future')
      .openapi({ format: 'date-time', description: 'Optional expiry: an RFC 3339 date-time with a UTC offset, in the future (a past or present one is a 422); the key is refused from then on. Null or absent: the key never expires.' }),
  })
  .openapi('ApiKeyCreateRequest');

export const CreatedApiKey = z
  .object({
    id: z.string(),
    name: z.string(),
    key: z.string().openapi({ description: 'The full key. Shown only in this response: store it now.' }),
    tenantId: z.string(),
    memberId: z.string().openapi({ description: 'The member the key belongs to' }),
    role: z.enum(['admin', 'member']).openapi({ description: "The member's current role: the key acts with it" }),
    expiresAt: timestampOut(KEY_EXPIRY_OUT).nullable(),
    createdAt: timestampOut(),
  })
  .openapi('ApiKeyCreated');

export const KeyIdParams = z.object({ key_id: text(200, 1) });

export function presentApiKey(k: ApiKey): z.infer<typeof ApiKeyItem> {
  return {
    id: k.id,
    name: k.name,
    description: k.description,
    tenantId: k.tenant.id,
    memberId: k.member.id,
    role: k.member.role,
    prefix: k.prefix,
    createdAt: iso(k.createdAt)!,
    expiresAt: iso(k.expiresAt),
    lastUsedAt: iso(k.lastUsedAt),
    revokedAt: iso(k.revokedAt),
  };
}

/** A key just issued: the only response that holds the key itself. */
export function presentIssuedApiKey({ apiKey, key }: IssuedKey): z.infer<typeof CreatedApiKey> {
  return {
    id: apiKey.id,
    name: apiKey.name,
    key,
    tenantId: apiKey.tenant.id,
    memberId: apiKey.member.id,
    role: apiKey.member.role,
    expiresAt: iso(apiKey.expiresAt),
    createdAt: iso(apiKey.createdAt)!,
  };
}
