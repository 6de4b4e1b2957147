// API keys: `evni_` + 32 random bytes in base64url (256 bits). Keys have that much entropy, so a
// plain SHA-256 is the right stored form (a slow password hash would only slow every request).
import { createHash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiKey, Member, type MemberRole, Organization, Tenant } from '../entities';
import { invalidAt, notFound } from './errors';
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

/** Makes a key for a member (it acts with the member's role) and persists it; the caller flushes. */
export function issueApiKey(
  em: EntityManager,
  member: Member,
  opts: { name: string; description?: string; expiresAt?: Date | null },
): IssuedKey {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  const apiKey = new ApiKey({
    tenant: member.tenant,
    member,
    name: opts.name,
    description: opts.description ?? '',
    prefix: key.slice(0, 12),
    keyHash: hashApiKey(key),
    expiresAt: opts.expiresAt ?? null,
  });
  em.persist(apiKey);
  return { apiKey, key };
}

/**
 * Issues a key for the caller's own member, or (`memberId`, admins only: the route checks the role)
 * for another active member of the tenant, and stores it. A `role` is accepted for compatibility
 * with clients of the time when keys carried one, only when it equals the member's role.
 */
export async function createApiKey(
  em: EntityManager,
  caller: Member,
  opts: { name: string; description?: string; expiresAt?: Date | null; memberId?: string; role?: MemberRole },
): Promise<IssuedKey> {
  let member = caller;
  if (opts.memberId !== undefined && opts.memberId !== caller.id) {
    const other = isUuid(opts.memberId) ? await em.findOne(Member, { id: opts.memberId, status: 'active' }) : null;
    if (!other) throw notFound('Member');
    member = other;
  }
  if (opts.role !== undefined && opts.role !== member.role) {
    throw invalidAt([
      {
        loc: ['body', 'role'],
        msg: `API keys act with their member's role, and this member is ${article(member.role)} ${member.role}: leave role out, or change the member's role with PATCH /v1/members/{user_id}`,
      },
    ]);
  }
  const issued = issueApiKey(em, member, opts);
  await em.flush();
  return issued;
}

const article = (role: string) => (/^[aeiou]/.test(role) ? 'an' : 'a');

/** The tenant's keys (the request's tenant filter decides), newest first, revoked ones included, with their members. */
export async function listApiKeys(em: EntityManager): Promise<ApiKey[]> {
  return em.find(ApiKey, {}, { orderBy: { createdAt: 'desc', id: 'desc' }, populate: ['member'] });
}

/** Revokes one of the tenant's keys (revoking twice keeps the first time); `not_found` for another tenant's. */
export async function revokeApiKey(em: EntityManager, keyId: string, now = new Date()): Promise<ApiKey> {
  const key = isUuid(keyId) ? await em.findOne(ApiKey, { id: keyId }, { populate: ['member'] }) : null;
  if (!key) throw notFound('API key');
  key.revokedAt ??= now;
  await em.flush();
  return key;
}

export type AuthFailure = 'missing' | 'malformed' | 'unknown' | 'revoked' | 'expired';

export type AuthResult = { ok: true; apiKey: ApiKey; member: Member } | { ok: false; reason: AuthFailure };

/**
 * Resolves a bearer key to its ApiKey and member; the tenant comes from the key and from nothing
 * else, the role from the member (as it is now, not as it was when the key was made).
 */
export async function authenticate(em: EntityManager, header: string | undefined, now = new Date()): Promise<AuthResult> {
  if (!header) return { ok: false, reason: 'missing' };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match || !looksLikeApiKey(match[1])) return { ok: false, reason: 'malformed' };
  // The lookup runs before a tenant is known, so it is the one query that bypasses the filter.
  const apiKey = await em.findOne(ApiKey, { keyHash: hashApiKey(match[1]) }, { filters: false, populate: ['tenant', 'member'] });
  if (!apiKey) return { ok: false, reason: 'unknown' };
  // A removed member's keys are revoked with it; the status check also covers a key revoked late.
  if (apiKey.revokedAt || apiKey.member.status !== 'active') return { ok: false, reason: 'revoked' };
  if (apiKey.expiresAt && apiKey.expiresAt <= now) return { ok: false, reason: 'expired' };
  return { ok: true, apiKey, member: apiKey.member };
}

/** Records use without loading or locking the row again; at most one write a minute per key. */
export async function touchApiKey(em: EntityManager, apiKey: ApiKey, now = new Date()): Promise<void> {
  if (apiKey.lastUsedAt && now.getTime() - apiKey.lastUsedAt.getTime() < 60_000) return;
  await em.getConnection().execute('update api_keys set last_used_at = ? where id = ?', [now, apiKey.id]);
  apiKey.lastUsedAt = now;
}

/** `Acme Charging` → `acme-charging` (for the first admin's default email). */
export function slugOf(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/g, '');
  return slug || 'tenant';
}

/**
 * A new tenant with its organization (named as the tenant), its first admin member (email
 * `admin@<slug of the name>.example` unless given) and a key of that admin. One transaction.
 */
export async function createTenantWithAdminKey(
  em: EntityManager,
  name: string,
  keyName = 'admin',
  opts: { adminEmail?: string } = {},
): Promise<{ tenant: Tenant; organization: Organization; member: Member } & IssuedKey> {
  const tenant = new Tenant(name);
  const organization = new Organization(tenant, name.slice(0, 200));
  const member = new Member(tenant, (opts.adminEmail ?? `admin@${slugOf(name)}.example`).trim().toLowerCase(), 'admin');
  em.persist([tenant, organization, member]);
  const issued = issueApiKey(em, member, { name: keyName });
  await em.flush();
  return { tenant, organization, member, ...issued };
}
