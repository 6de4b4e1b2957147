// API keys: `evni_` + 32 random bytes in base64url (256 bits). Keys have that much entropy, so a
// plain SHA-256 is the right stored form (a slow password hash would only slow every request).
import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiKey, type ApiKeyRole, Tenant } from '../entities';
import { notFound } from './errors';
import { isUuid } from './ids';

export const API_KEY_PREFIX = 'evni_';
const KEY_PATTERN = /^evni_[A-Za-z0-9_-]{43}$/;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function looksLikeApiKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

export interface IssuedKey {
  apiKey: ApiKey;
  /** The only time the full key exists outside the client: return it, never store it. */
  key: string;
}

export function issueApiKey(
  em: EntityManager,
  tenant: Tenant,
  opts: { name: string; description?: string; role: ApiKeyRole; expiresAt?: Date | null },
): IssuedKey {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  const apiKey = new ApiKey({
    tenant,
    name: opts.name,
    description: opts.description ?? '',
    role: opts.role,
    prefix: key.slice(0, 12),
    keyHash: hashApiKey(key),
    expiresAt: opts.expiresAt ?? null,
  });
  em.persist(apiKey);
  return { apiKey, key };
}

/** Issues a key for the tenant and stores it. */
export async function createApiKey(
  em: EntityManager,
  tenant: Tenant,
  opts: { name: string; description?: string; role: ApiKeyRole; expiresAt?: Date | null },
): Promise<IssuedKey> {
  const issued = issueApiKey(em, tenant, opts);
  await em.flush();
  return issued;
}

/** The tenant's keys (the request's tenant filter decides), newest first, revoked ones included. */
export async function listApiKeys(em: EntityManager): Promise<ApiKey[]> {
  return em.find(ApiKey, {}, { orderBy: { createdAt: 'desc', id: 'desc' } });
}

/** Revokes one of the tenant's keys (revoking twice keeps the first time); `not_found` for another tenant's. */
export async function revokeApiKey(em: EntityManager, keyId: string, now = new Date()): Promise<ApiKey> {
  const key = isUuid(keyId) ? await em.findOne(ApiKey, { id: keyId }) : null;
  if (!key) throw notFound('API key');
  key.revokedAt ??= now;
  await em.flush();
  return key;
}

export type AuthFailure = 'missing' | 'malformed' | 'unknown' | 'revoked' | 'expired';

export type AuthResult = { ok: true; apiKey: ApiKey } | { ok: false; reason: AuthFailure };

/** Resolves a bearer key to its ApiKey; the tenant comes from the key and from nothing else. */
export async function authenticate(em: EntityManager, header: string | undefined, now = new Date()): Promise<AuthResult> {
  if (!header) return { ok: false, reason: 'missing' };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match || !looksLikeApiKey(match[1])) return { ok: false, reason: 'malformed' };
  // The lookup runs before a tenant is known, so it is the one query that bypasses the filter.
  const apiKey = await em.findOne(ApiKey, { keyHash: hashApiKey(match[1]) }, { filters: false, populate: ['tenant'] });
  if (!apiKey) return { ok: false, reason: 'unknown' };
  if (apiKey.revokedAt) return { ok: false, reason: 'revoked' };
  if (apiKey.expiresAt && apiKey.expiresAt <= now) return { ok: false, reason: 'expired' };
  return { ok: true, apiKey };
}

/** Records use without loading or locking the row again; at most one write a minute per key. */
export async function touchApiKey(em: EntityManager, apiKey: ApiKey, now = new Date()): Promise<void> {
  if (apiKey.lastUsedAt && now.getTime() - apiKey.lastUsedAt.getTime() < 60_000) return;
  await em.getConnection().execute('update api_keys set last_used_at = ? where id = ?', [now, apiKey.id]);
  apiKey.lastUsedAt = now;
}

export async function createTenantWithAdminKey(em: EntityManager, name: string, keyName = 'admin'): Promise<{ tenant: Tenant } & IssuedKey> {
  const tenant = new Tenant(name);
  em.persist(tenant);
  const issued = issueApiKey(em, tenant, { name: keyName, role: 'admin' });
  await em.flush();
  return { tenant, ...issued };
}
