import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import { Tenant } from './Tenant';

/**
 * A tenant's webhook endpoint: where events of the subscribed types are POSTed, signed per
 * Standard Webhooks. The signing secret is stored encrypted (AES-256-GCM, domain/webhooks/secrets.ts);
 * after a rotation the previous secret keeps signing beside the new one until it expires.
 */
export class WebhookEndpoint {
  id: string = randomUUID();
  tenant: Tenant;
  url: string;
  events: string[];
  description: string | null = null;
  enabled = true;
  /** Failed deliveries in a row (a delivered one resets it). */
  failureCount = 0;
  /** When the current run of failed deliveries began (null while deliveries succeed). */
  failingSince: Date | null = null;
  disabledAt: Date | null = null;
  secretEnc: string;
  previousSecretEnc: string | null = null;
  previousSecretExpiresAt: Date | null = null;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();

  constructor(init: Pick<WebhookEndpoint, 'tenant' | 'url' | 'events' | 'description' | 'secretEnc'>) {
    this.tenant = init.tenant;
    this.url = init.url;
    this.events = init.events;
    this.description = init.description;
    this.secretEnc = init.secretEnc;
  }
}

export const WebhookEndpointSchema = new EntitySchema<WebhookEndpoint>({
  class: WebhookEndpoint,
  tableName: 'webhook_endpoints',
  indexes: [{ properties: ['tenant', 'createdAt'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade', index: false },
    url: { type: 'text' },
    events: { type: 'json' },
    description: { type: 'text', nullable: true },
    enabled: { type: 'boolean' },
    failureCount: { type: 'integer' },
    failingSince: { type: 'Date', columnType: 'timestamptz', nullable: true },
    disabledAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    secretEnc: { type: 'text' },
    previousSecretEnc: { type: 'text', nullable: true },
    previousSecretExpiresAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    updatedAt: { type: 'Date', columnType: 'timestamptz' },
  },
});

/**
 * The outbox: an event, written in the transaction of the change that caused it (a verdict, a
 * finished batch). The dispatcher fans it out into one delivery per subscribed endpoint.
 * `endpoint` is set for events meant for one endpoint only (`webhook.test`).
 */
export class WebhookEvent {
  id: string = randomUUID();
  tenant!: Tenant;
  type!: string;
  /** The event's fields as JSON text (kept as text so that every attempt sends the same bytes). */
  payload!: string;
  endpoint: string | null = null;
  createdAt: Date = new Date();
  dispatchedAt: Date | null = null;
}

export const WebhookEventSchema = new EntitySchema<WebhookEvent>({
  class: WebhookEvent,
  tableName: 'webhook_events',
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade', index: false },
    type: { type: 'string', length: 64 },
    payload: { type: 'text' },
    endpoint: { type: 'uuid', nullable: true },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    dispatchedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
  },
});

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';

/** One event to one endpoint: one Temporal workflow (`webhook-delivery/<tenant>/<id>`); its id is the `webhook-id`. */
export class WebhookDelivery {
  id: string = randomUUID();
  tenant!: Tenant;
  endpoint!: WebhookEndpoint;
  event!: WebhookEvent;
  eventType!: string;
  status: WebhookDeliveryStatus = 'pending';
  httpStatus: number | null = null;
  attemptCount = 0;
  createdAt: Date = new Date();
  completedAt: Date | null = null;
  /** When the dispatcher started its workflow (null: not yet). */
  workflowStartedAt: Date | null = null;
}

export const WebhookDeliverySchema = new EntitySchema<WebhookDelivery>({
  class: WebhookDelivery,
  tableName: 'webhook_deliveries',
  uniques: [{ properties: ['event', 'endpoint'] }],
  indexes: [{ properties: ['endpoint', 'createdAt'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade', index: false },
    endpoint: { kind: 'm:1', entity: () => WebhookEndpoint, deleteRule: 'cascade', index: false },
    event: { kind: 'm:1', entity: () => WebhookEvent, deleteRule: 'cascade', index: false },
    eventType: { type: 'string', length: 64 },
    status: { type: 'string', length: 16 },
    httpStatus: { type: 'integer', nullable: true },
    attemptCount: { type: 'integer' },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    completedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    workflowStartedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
  },
});

/** One HTTP attempt of a delivery, recorded when it starts and completed with its outcome. */
export class WebhookAttempt {
  id: string = randomUUID();
  tenant!: Tenant;
  delivery!: WebhookDelivery;
  attempt!: number;
  startedAt: Date = new Date();
  durationMs: number | null = null;
  httpStatus: number | null = null;
  /** The first 1 KiB of the response body, or the error. */
  response: string | null = null;
  error: string | null = null;
}

export const WebhookAttemptSchema = new EntitySchema<WebhookAttempt>({
  class: WebhookAttempt,
  tableName: 'webhook_attempts',
  indexes: [{ properties: ['delivery', 'attempt'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    tenant: { kind: 'm:1', entity: () => Tenant, deleteRule: 'cascade', index: false },
    delivery: { kind: 'm:1', entity: () => WebhookDelivery, deleteRule: 'cascade', index: false },
    attempt: { type: 'integer' },
    startedAt: { type: 'Date', columnType: 'timestamptz' },
    durationMs: { type: 'integer', nullable: true },
    httpStatus: { type: 'integer', nullable: true },
    response: { type: 'text', nullable: true },
    error: { type: 'text', nullable: true },
  },
});
