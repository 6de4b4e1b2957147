import { createTenantWithAdminKey } from '../../domain/api-keys';
import { stack } from './stack';

export interface Res<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export async function call<T = any>(
  method: string,
  path: string,
  opts: { key?: string; body?: unknown; raw?: string; headers?: Record<string, string>; /** Another API than the stack's (e.g. one with its own config). */ baseUrl?: string } = {},
): Promise<Res<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch((opts.baseUrl ?? stack().apiUrl) + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed as T, text, headers: res.headers };
}

let n = 0;
/** A fresh tenant (organization, first admin member) with an admin key, made the way the CLI makes one. */
export async function newTenant(name = `tenant-${++n}`) {
  const { tenant, key, apiKey, member } = await createTenantWithAdminKey(stack().orm.em.fork(), name);
  return { tenantId: tenant.id, key, keyId: apiKey.id, memberId: member.id, email: member.email };
}
