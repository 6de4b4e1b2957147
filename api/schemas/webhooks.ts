// Webhook request and response schemas (the reference's `002` shapes; `recentDeliveries` on GET)
// and their presenter.
import type { WebhookDelivery, WebhookEndpoint } from '../../entities';
import { EVENT_TYPES } from '../../domain/webhooks/events';
import { iso, PaginationQuery } from './common';
import { z } from '../zod';

const eventsDescription = `Event types: ${EVENT_TYPES.map((e) => `\`${e}\``).join(', ')}`;

export const WebhookOut = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()).openapi({ description: eventsDescription }),
    description: z.string().nullable(),
    enabled: z.boolean(),
    failureCount: z.number().int().openapi({ description: 'Failed deliveries in a row (a delivered one resets it)' }),
    disabledAt: z.string().nullable(),
    createdAt: z.string().nullable(),
    updatedAt: z.string().nullable(),
  })
  .openapi('Webhook');

export const WebhookCreated = WebhookOut.extend({
  secret: z.string().openapi({ description: 'The signing secret (`whsec_…`), shown only in this response' }),
}).openapi('WebhookWithSecret');

export const DeliveryOut = z
  .object({
    id: z.string().openapi({ description: 'The delivery id: the `webhook-id` header and the payload\'s `webhook_id`' }),
    eventType: z.string(),
    status: z.enum(['pending', 'delivered', 'failed', 'cancelled']),
    httpStatus: z.number().int().nullable(),
    attemptCount: z.number().int(),
    createdAt: z.string().nullable(),
    completedAt: z.string().nullable(),
  })
  .openapi('WebhookDelivery');

export const WebhookDetailOut = WebhookOut.extend({ recentDeliveries: z.array(DeliveryOut) }).openapi('WebhookDetail');

export const WebhookIdParams = z.object({ webhook_id: z.string() });

/** `events` repeated (`?events=a&events=b`) or comma-separated. */
export const WebhookListQuery = PaginationQuery.extend({
  events: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v) => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)))
    .openapi({ type: 'array', items: { type: 'string' }, description: `Webhooks subscribing to any of these. ${eventsDescription}` }),
});

export const WebhookCreate = z
  .object({
    url: z.string().min(1).max(2000).openapi({ description: 'Webhook target URL (must be HTTPS, on a public address)' }),
    events: z.array(z.string()).min(1).max(20).openapi({ description: eventsDescription }),
    description: z.string().max(1000).nullable().optional(),
  })
  .openapi('WebhookCreateRequest');

export const WebhookUpdate = z
  .object({
    url: z.string().min(1).max(2000).nullable().optional(),
    events: z.array(z.string()).min(1).max(20).nullable().optional().openapi({ description: eventsDescription }),
    description: z.string().max(1000).nullable().optional().openapi({ description: 'null clears it' }),
    enabled: z.boolean().nullable().optional().openapi({ description: 'true re-enables (clears `disabledAt` and `failureCount`)' }),
  })
  .openapi('WebhookUpdateRequest');

export const WebhookTestOut = z
  .object({ eventId: z.string().openapi({ description: 'Extension. The queued `webhook.test` event' }), eventType: z.literal('webhook.test') })
  .openapi('WebhookTestResponse');

export const WebhookDeletedOut = z.object({ id: z.string(), deleted: z.literal(true) }).openapi('WebhookDeleted');

export function presentWebhook(e: WebhookEndpoint): z.infer<typeof WebhookOut> {
  return {
    id: e.id,
    url: e.url,
    events: e.events,
    description: e.description,
    enabled: e.enabled,
    failureCount: e.failureCount,
    disabledAt: iso(e.disabledAt),
    createdAt: iso(e.createdAt),
    updatedAt: iso(e.updatedAt),
  };
}

export function presentDelivery(d: WebhookDelivery): z.infer<typeof DeliveryOut> {
  return { id: d.id, eventType: d.eventType, status: d.status, httpStatus: d.httpStatus, attemptCount: d.attemptCount, createdAt: iso(d.createdAt), completedAt: iso(d.completedAt) };
}
