// The webhook delivery workflow's contract: its input, id, search attributes and activities. Pure
// definitions. One workflow per (event, endpoint): the delivery row's id is the workflow's id and
// the `webhook-id` header, so a second start is harmless and receivers can de-duplicate.
import { TENANT_ID, WEBHOOK_ENDPOINT_ID, WEBHOOK_EVENT_TYPE } from '../search-attributes';

export const webhookDeliveryWorkflowId = (tenantId: string, deliveryId: string) => `webhook-delivery/${tenantId}/${deliveryId}`;

/** Set when the workflow starts: find a tenant's, an endpoint's or an event type's deliveries in the Temporal UI. */
export const WEBHOOK_DELIVERY_SEARCH_ATTRIBUTES = { tenant: TENANT_ID, endpoint: WEBHOOK_ENDPOINT_ID, eventType: WEBHOOK_EVENT_TYPE } as const;

export interface DeliveryPolicy {
  /** Waits before the 2nd, 3rd, … attempt (ms): one attempt more than there are waits. */
  retryDelaysMs: number[];
  /** A receiver's Retry-After (429, 503) replaces the wait, up to this. */
  retryAfterCapMs: number;
  /** One attempt's HTTP timeout. */
  timeoutMs: number;
}

export interface WebhookDeliveryInput extends DeliveryPolicy {
  tenantId: string;
  deliveryId: string;
  endpointId: string;
  eventType: string;
}

export interface AttemptInput extends DeliveryPolicy {
  tenantId: string;
  deliveryId: string;
}

export interface AttemptResult {
  status: 'delivered';
  httpStatus: number;
  attempt: number;
}

/** Failure types the delivery activity throws (non-retryable ones end the retries at once). */
export const DELIVERY_FAILURES = {
  /** A non-2xx answer or a network error: retried on the schedule (or after Retry-After). */
  failed: 'WebhookAttemptFailed',
  /** 410 Gone: the endpoint was disabled at once; no more attempts. */
  gone: 'WebhookEndpointGone',
  /** The delivery no longer exists (its endpoint was deleted) or its endpoint is disabled. */
  cancelled: 'WebhookDeliveryCancelled',
} as const;

export interface WebhookDeliveryResult {
  status: 'delivered' | 'cancelled';
  httpStatus?: number;
  attempts?: number;
}

export interface WebhookActivities {
  /**
   * One HTTP attempt, signed, recorded in `webhook_attempts`. Throws `WebhookAttemptFailed` with
   * the next retry's delay (the schedule, or Retry-After) for a failed attempt.
   */
  attemptWebhookDelivery(input: AttemptInput): Promise<AttemptResult>;
  /** After the last failed attempt: the delivery is failed, the endpoint's failure run grows (and may disable it). */
  failWebhookDelivery(input: { tenantId: string; deliveryId: string; reason: string }): Promise<void>;
}
