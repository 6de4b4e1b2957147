// Webhook endpoints: HTTP only; the logic is in domain/webhooks/endpoints.ts, every answer is built
// by the webhooks presenter. Reads for every member, changes for admins (api/permissions.ts).
import { createEndpoint, deleteEndpoint, getEndpoint, listEndpoints, rotateSecret, sendTestEvent, updateEndpoint } from '../../domain/webhooks/endpoints';
import { webhookSettings } from '../../domain/webhooks/settings';
import { defineRoute } from '../route';
import { ErrorSchema, pageOf, toPage } from '../schemas/common';
import {
  presentDelivery,
  presentWebhook,
  WebhookCreate,
  WebhookCreated,
  WebhookDeletedOut,
  WebhookDetailOut,
  WebhookIdParams,
  WebhookListQuery,
  WebhookOut,
  WebhookTestOut,
  WebhookUpdate,
} from '../schemas/webhooks';

const notFound = { 404: { description: 'No such webhook in this tenant', schema: ErrorSchema } };
const invalid = { 422: { description: 'Invalid URL (not https, or a private, loopback, link-local or metadata host) or unknown event type', schema: ErrorSchema } };
const unconfigured = { 503: { description: 'Webhooks are not configured on this server (no secret encryption key)', schema: ErrorSchema } };

export const webhookRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/webhooks',
    summary: 'List webhooks',
    description: "The tenant's webhooks, newest first (secrets are not included). `events` keeps those subscribing to any of the given event types.",
    tags: ['Webhooks'],
    query: WebhookListQuery,
    responses: { 200: { description: 'A page of webhooks', schema: pageOf(WebhookOut, 'WebhookPage') }, ...invalid },
    handler: async ({ em, auth, query }) => {
      const { items, total } = await listEndpoints(em, auth.tenant.id, query);
      return { body: toPage(items.map(presentWebhook), total, query) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/webhooks',
    summary: 'Create webhook',
    description:
      'Registers an endpoint for the given event types. The signing secret (`whsec_…`) is in this response only. The URL must be https on a public host: ' +
      'a literal private, loopback, link-local or metadata address is a 422, and names are checked again when each delivery resolves them. Needs the admin role.',
    tags: ['Webhooks'],
    body: WebhookCreate,
    responses: { 200: { description: 'The webhook, with its secret', schema: WebhookCreated }, ...invalid, ...unconfigured },
    handler: async ({ em, auth, body, deps }) => {
      const { endpoint, secret } = await createEndpoint(em, auth.tenant, body, webhookSettings(deps.config));
      return { body: { ...presentWebhook(endpoint), secret } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/webhooks/{webhook_id}',
    summary: 'Get webhook',
    description: 'The webhook with its 20 most recent deliveries (newest first).',
    tags: ['Webhooks'],
    params: WebhookIdParams,
    responses: { 200: { description: 'The webhook and its recent deliveries', schema: WebhookDetailOut }, ...notFound },
    handler: async ({ em, params }) => {
      const { endpoint, deliveries } = await getEndpoint(em, params.webhook_id);
      return { body: { ...presentWebhook(endpoint), recentDeliveries: deliveries.map(presentDelivery) } };
    },
  }),
  defineRoute({
    method: 'patch',
    path: '/v1/webhooks/{webhook_id}',
    summary: 'Update webhook',
    description:
      'Changes the URL, events, description or enabled state (a field left out or null is kept; `description: null` clears it). Re-enabling clears `disabledAt` and `failureCount`. Needs the admin role.',
    tags: ['Webhooks'],
    params: WebhookIdParams,
    body: WebhookUpdate,
    responses: { 200: { description: 'The updated webhook', schema: WebhookOut }, ...notFound, ...invalid },
    handler: async ({ em, params, body, deps }) => ({ body: presentWebhook(await updateEndpoint(em, params.webhook_id, body, webhookSettings(deps.config))) }),
  }),
  defineRoute({
    method: 'delete',
    path: '/v1/webhooks/{webhook_id}',
    summary: 'Delete webhook',
    description: 'Deletes the webhook and all its delivery records; deliveries still retrying stop. Needs the admin role.',
    tags: ['Webhooks'],
    params: WebhookIdParams,
    responses: { 200: { description: 'Deleted', schema: WebhookDeletedOut }, ...notFound },
    handler: async ({ em, auth, params, deps }) => {
      await deleteEndpoint(em, deps.temporal, auth.tenant.id, params.webhook_id);
      return { body: { id: params.webhook_id, deleted: true as const } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/webhooks/{webhook_id}/rotate-secret',
    summary: 'Rotate secret',
    description:
      'Issues a new signing secret (in this response only). For 24 hours deliveries carry two signatures, with the new and the old secret, so receivers can switch without losing a delivery. Needs the admin role.',
    tags: ['Webhooks'],
    params: WebhookIdParams,
    responses: { 200: { description: 'The webhook, with its new secret', schema: WebhookCreated }, ...notFound, ...unconfigured },
    handler: async ({ em, params, deps }) => {
      const { endpoint, secret } = await rotateSecret(em, params.webhook_id, webhookSettings(deps.config));
      return { body: { ...presentWebhook(endpoint), secret } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/webhooks/{webhook_id}/test',
    summary: 'Test webhook',
    description: 'Sends a `webhook.test` event to this webhook now (also while it is disabled); it shows in `recentDeliveries`. Needs the admin role.',
    tags: ['Webhooks'],
    params: WebhookIdParams,
    responses: { 200: { description: 'The test event is queued', schema: WebhookTestOut }, ...notFound, ...unconfigured },
    handler: async ({ em, auth, params, deps }) => {
      const { eventId } = await sendTestEvent(em, auth.tenant.id, params.webhook_id, webhookSettings(deps.config));
      return { body: { eventId, eventType: 'webhook.test' as const } };
    },
  }),
];
