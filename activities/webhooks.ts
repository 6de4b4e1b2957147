// Webhook delivery activities: thin over domain/webhooks/deliver.ts. A failed attempt becomes a
// retryable failure that names the wait before the next attempt (the schedule, or Retry-After):
// the activity's retry policy is the delivery's retry schedule.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { config } from '../config';
import { attemptDelivery, failDelivery } from '../domain/webhooks/deliver';
import { webhookSettings, type WebhookSettings } from '../domain/webhooks/settings';
import { DELIVERY_FAILURES, type WebhookActivities } from '../workflows/webhook-delivery/contract';
import type { ActivityDeps } from '.';

export function createWebhookActivities(deps: Pick<ActivityDeps, 'orm' | 'webhooks'>): WebhookActivities {
  const settings: WebhookSettings = deps.webhooks ?? webhookSettings(config);
  return {
    async attemptWebhookDelivery(input) {
      const ctx = Context.current();
      const attempt = ctx.info.attempt;
      const outcome = await attemptDelivery(deps.orm.em.fork(), settings, { ...input, attempt });
      ctx.log.info('webhook attempt', { deliveryId: input.deliveryId, attempt, outcome: outcome.kind, httpStatus: 'httpStatus' in outcome ? outcome.httpStatus : undefined });
      switch (outcome.kind) {
        case 'delivered':
          return { status: 'delivered', httpStatus: outcome.httpStatus, attempt };
        case 'cancelled':
          throw ApplicationFailure.create({ type: DELIVERY_FAILURES.cancelled, message: outcome.reason, nonRetryable: true });
        case 'gone':
          throw ApplicationFailure.create({ type: DELIVERY_FAILURES.gone, message: 'HTTP 410 Gone: the endpoint was disabled', nonRetryable: true });
        case 'failed': {
          // The wait before attempt n+1 is the schedule's n-th, unless the receiver said otherwise.
          const scheduled = input.retryDelaysMs[Math.min(attempt - 1, input.retryDelaysMs.length - 1)] ?? 0;
          const wait = outcome.retryAfterMs ?? scheduled;
          throw ApplicationFailure.create({ type: DELIVERY_FAILURES.failed, message: `attempt ${attempt}: ${outcome.reason}`, nextRetryDelay: Math.max(1, wait) });
        }
      }
    },
    async failWebhookDelivery(input) {
      const { disabled } = await failDelivery(deps.orm.em.fork(), settings, input);
      Context.current().log.warn('webhook delivery failed', { deliveryId: input.deliveryId, reason: input.reason, endpointDisabled: disabled });
    },
  };
}
