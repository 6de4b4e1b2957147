// Webhook endpoints: create (the secret is returned once), list, read with recent deliveries,
// update, delete (with their deliveries; running delivery workflows are cancelled), rotate the
// secret (the old one signs alongside for 24 h) and send a test event. Tenancy: the caller's
// EntityManager only sees its tenant's endpoints (another tenant's id is a 404).
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { pgArray, sql } from '../../db/sql';
import { WebhookDelivery, WebhookEndpoint, type Tenant } from '../../entities';
import { cancelWebhookDeliveries } from '../../temporal/webhooks';
import { invalidAt, notFound } from '../errors';
import { isUuid } from '../ids';
import { EVENT_TYPES, writeEvents, type EventType } from './events';
import { encryptSecret, newSecret, requireKey, ROTATION_GRACE_MS } from './secrets';
import type { WebhookSettings } from './settings';
import { checkWebhookUrl } from './url-safety';

/** Event names checked against the known ones (422 naming the first unknown, listing the known). */
export function checkEventTypes(events: string[], loc: (string | number)[]): EventType[] {
  const unknown = events.findIndex((e) => !(EVENT_TYPES as readonly string[]).includes(e));
  if (unknown >= 0) throw invalidAt([{ loc: [...loc, unknown], msg: `unknown event type "${events[unknown]}"; the known event types are ${EVENT_TYPES.join(', ')}` }]);
  return [...new Set(events)] as EventType[];
}

export interface IssuedEndpoint {
  endpoint: WebhookEndpoint;
  /** The only time the secret leaves the server: return it, never log it. */
  secret: string;
}

async function findEndpoint(em: EntityManager, id: string): Promise<WebhookEndpoint> {
  const endpoint = isUuid(id) ? await em.findOne(WebhookEndpoint, { id }) : null;
  if (!endpoint) throw notFound('Webhook');
  return endpoint;
}

export async function createEndpoint(
  em: EntityManager,
  tenant: Tenant,
  input: { url: string; events: string[]; description?: string | null },
  settings: WebhookSettings,
): Promise<IssuedEndpoint> {
  const key = requireKey(settings.key);
  const url = checkWebhookUrl(input.url, settings);
  const events = checkEventTypes(input.events, ['body', 'events']);
  const secret = newSecret();
  const endpoint = new WebhookEndpoint({ tenant, url, events, description: input.description ?? null, secretEnc: encryptSecret(key, secret) });
  endpoint.createdAt = endpoint.updatedAt = settings.now();
  await em.persistAndFlush(endpoint);
  return { endpoint, secret };
}

/** Newest first; `events`: endpoints subscribing to any of them. */
export async function listEndpoints(em: EntityManager, tenantId: string, q: { page: number; pageSize: number; events?: string[] }): Promise<{ items: WebhookEndpoint[]; total: number }> {
  const events = q.events?.length ? checkEventTypes(q.events, ['query', 'events']) : null;
  const where = `tenant_id = ?${events ? ' and jsonb_exists_any(events, ?::text[])' : ''}`;
  const params: unknown[] = events ? [tenantId, pgArray(events)] : [tenantId];
  const [{ n }] = await sql(em, `select count(*)::int as n from webhook_endpoints where ${where}`, params);
  const ids = await sql(em, `select id from webhook_endpoints where ${where} order by created_at desc, id desc limit ? offset ?`, [...params, q.pageSize, (q.page - 1) * q.pageSize]);
  const found = ids.length ? await em.find(WebhookEndpoint, { id: { $in: ids.map((r) => r.id as string) } }) : [];
  const byId = new Map(found.map((e) => [e.id, e]));
  return { items: ids.map((r) => byId.get(r.id as string)!).filter(Boolean), total: n as number };
}

export const RECENT_DELIVERIES = 20;

export async function getEndpoint(em: EntityManager, id: string): Promise<{ endpoint: WebhookEndpoint; deliveries: WebhookDelivery[] }> {
  const endpoint = await findEndpoint(em, id);
  const deliveries = await em.find(WebhookDelivery, { endpoint: endpoint.id }, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: RECENT_DELIVERIES });
  return { endpoint, deliveries };
}

/**
 * Changes the fields sent (null or absent: kept; `description: null` clears it). Re-enabling
 * clears `disabledAt` and the failure run; disabling sets `disabledAt`.
 */
export async function updateEndpoint(
  em: EntityManager,
  id: string,
  patch: { url?: string | null; events?: string[] | null; description?: string | null; enabled?: boolean | null },
  settings: WebhookSettings,
): Promise<WebhookEndpoint> {
  const endpoint = await findEndpoint(em, id);
  if (patch.url != null) endpoint.url = checkWebhookUrl(patch.url, settings);
  if (patch.events != null) endpoint.events = checkEventTypes(patch.events, ['body', 'events']);
  if (patch.description !== undefined) endpoint.description = patch.description;
  if (patch.enabled === true && !endpoint.enabled) {
    endpoint.enabled = true;
    endpoint.disabledAt = null;
    endpoint.failureCount = 0;
    endpoint.failingSince = null;
  } else if (patch.enabled === false && endpoint.enabled) {
    endpoint.enabled = false;
    endpoint.disabledAt = settings.now();
  }
  endpoint.updatedAt = settings.now();
  await em.flush();
  return endpoint;
}

/** Deletes an endpoint with its deliveries and attempts; its running delivery workflows are cancelled. */
export async function deleteEndpoint(em: EntityManager, temporal: Client, tenantId: string, id: string): Promise<void> {
  const endpoint = await findEndpoint(em, id);
  const pending = await sql(em, `select id from webhook_deliveries where tenant_id = ? and endpoint_id = ? and status = 'pending'`, [tenantId, endpoint.id]);
  await em.removeAndFlush(endpoint);
  // After the commit: an attempt that runs before the cancel arrives finds no delivery and stops.
  await cancelWebhookDeliveries(
    temporal,
    tenantId,
    pending.map((r) => r.id as string),
  ).catch(() => undefined);
}

/** A new secret (returned once); the current one becomes the previous one and signs alongside for 24 h. */
export async function rotateSecret(em: EntityManager, id: string, settings: WebhookSettings): Promise<IssuedEndpoint> {
  const key = requireKey(settings.key);
  const endpoint = await findEndpoint(em, id);
  const secret = newSecret();
  const now = settings.now();
  endpoint.previousSecretEnc = endpoint.secretEnc;
  endpoint.previousSecretExpiresAt = new Date(now.getTime() + ROTATION_GRACE_MS);
  endpoint.secretEnc = encryptSecret(key, secret);
  endpoint.updatedAt = now;
  await em.flush();
  return { endpoint, secret };
}

/** Queues a `webhook.test` event for this endpoint only (delivered even while it is disabled). */
export async function sendTestEvent(em: EntityManager, tenantId: string, id: string, settings: WebhookSettings): Promise<{ eventId: string }> {
  requireKey(settings.key);
  const endpoint = await findEndpoint(em, id);
  const [eventId] = await em.transactional((tem) =>
    writeEvents(tem, tenantId, 'webhook.test', [{ webhook_endpoint_id: endpoint.id, message: 'A test event from EV Network Intelligence', sent_at: settings.now().toISOString() }], endpoint.id),
  );
  return { eventId };
}
