// Webhook request and response schemas (the reference's `002` shapes; `recentDeliveries` on GET)
// and their presenter.
import type { WebhookDelivery, WebhookEndpoint } from '../../entities';
import { EVENT_TYPES } from '../../domain/webhooks/events';
import { WEBHOOK_URL_PATTERN } from '../../domain/webhooks/url-safety';
import { iso, PaginationQuery, vocabulary } from './common';
import { z } from '../zod';

const eventsDescription = `Event types: ${EVENT_TYPES.map((e) => `\`${e}\``).join(', ')}`;

const UNKNOWN_EVENT = `unknown event type; the known event types are ${EVENT_TYPES.join(', ')}`;
/** One event type (the document's enum; anything else is a 422 at its index). */
const EventType = vocabulary(EVENT_TYPES, (input) => `unknown event type ${JSON.stringify(input)}; the known event types are ${EVENT_TYPES.join(', ')}`);
const EVENT_NAME = EVENT_TYPES.map((e) => e.replace(/[.]/g, '\\.')).join('|');
/** A query `events` value: one event type or several, comma-separated (no spaces, no empty entries). */
const EVENTS_QUERY_PATTERN = `^(?:${EVENT_NAME})(?:,(?:${EVENT_NAME}))*$`;
const EventsQueryValue = z.string().regex(new RegExp(EVENTS_QUERY_PATTERN), `${UNKNOWN_EVENT} (several: comma-separated, without spaces)`);

const webhookUrl = z
  .string()
  .min(1)
  .max(2000)
  .openapi({
    pattern: WEBHOOK_URL_PATTERN,
    description:
      'Webhook target URL: `https://`, a host, an optional port, RFC 3986 path, query and fragment (the fragment is dropped); exactly what the pattern admits. ' +
      'The host is a DNS name of at least two labels (not `localhost`, `*.localhost` or `*.internal`; a label beginning `xn--` must be valid Punycode), ' +
      'a dotted-decimal IPv4 or a bracketed IPv6 address. A literal address that is not public unicast (private, loopback, link-local, multicast, unspecified, ' +
      'carrier-grade NAT, reserved, documentation, 6to4, Teredo, IPv4-mapped forms of these, …) is refused with a 422 at `url`, a rule the pattern does not spell out. ' +
      'Names are resolved at delivery and a delivery to a name resolving to such an address fails. (Plain http to a literal loopback address is accepted only on a server ' +
      'with the development setting EVNI_WEBHOOK_ALLOW_HTTP_LOOPBACK.)',
    example: 'https://hooks.example.com/evni',
  });

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
    .union([EventsQueryValue, z.array(EventsQueryValue)])
    .optional()
    .transform((v) => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(','))))
    .openapi({
      type: 'array',
      items: { type: 'string', pattern: EVENTS_QUERY_PATTERN },
      description: `Webhooks subscribing to any of these, repeated (\`?events=a&events=b\`) or comma-separated (\`?events=a,b\`, no spaces). ${eventsDescription}`,
    } as never),
});

export const WebhookCreate = z
  .object({
    url: webhookUrl,
    events: z.array(EventType).min(1).max(20).openapi({ description: `${eventsDescription} (a repeated one counts once)` }),
    description: z.string().max(1000).nullable().optional(),
  })
  .openapi('WebhookCreateRequest');

export const WebhookUpdate = z
  .object({
    url: webhookUrl.nullable().optional(),
    events: z.array(EventType).min(1).max(20).nullable().optional().openapi({ description: `${eventsDescription} (a repeated one counts once). Absent or null: unchanged` }),
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
