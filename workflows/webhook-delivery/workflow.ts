// One workflow per webhook delivery (one event to one endpoint). The retries are the activity's
// retry policy: each failed attempt names the wait before the next one (the configured schedule,
// about a day in all, or the receiver's Retry-After), so the Temporal UI shows every attempt and
// its failure, and an operator can reset a failed delivery to run it again.
import { ActivityFailure, ApplicationFailure, isCancellation, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import { DELIVERY_FAILURES, type WebhookActivities, type WebhookDeliveryInput, type WebhookDeliveryResult } from './contract';

export async function webhookDelivery(input: WebhookDeliveryInput): Promise<WebhookDeliveryResult> {
  const maximumAttempts = input.retryDelaysMs.length + 1;
  const options: ActivityOptions = {
    // The HTTP attempt's own timeout plus room for recording it; a worker killed mid-attempt is
    // noticed after this and the attempt runs again elsewhere (same webhook-id).
    startToCloseTimeout: input.timeoutMs + 5_000,
    retry: {
      maximumAttempts,
      // Each failed attempt names its own next delay; these apply only to timeouts (a lost worker).
      initialInterval: Math.max(1, input.retryDelaysMs[0] ?? 1_000),
      backoffCoefficient: 1,
      nonRetryableErrorTypes: [DELIVERY_FAILURES.gone, DELIVERY_FAILURES.cancelled],
    },
  };
  const acts = proxyActivities<WebhookActivities>(options);
  const { tenantId, deliveryId } = input;
  try {
    const result = await acts.attemptWebhookDelivery.executeWithOptions(
      {
        ...options,
        summary: `${input.eventType} to endpoint ${input.endpointId}`,
      },
      [{ tenantId, deliveryId, retryDelaysMs: input.retryDelaysMs, retryAfterCapMs: input.retryAfterCapMs, timeoutMs: input.timeoutMs }],
    );
    return { status: 'delivered', httpStatus: result.httpStatus, attempts: result.attempt };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    const type = cause instanceof ApplicationFailure ? cause.type : undefined;
    if (type === DELIVERY_FAILURES.cancelled) return { status: 'cancelled' };
    const reason = cause?.message ?? (err as Error).message;
    // 410 Gone was recorded by the attempt itself (endpoint disabled at once); any other last failure here.
    if (type !== DELIVERY_FAILURES.gone) await acts.failWebhookDelivery({ tenantId, deliveryId, reason });
    throw ApplicationFailure.nonRetryable(`Delivery ${deliveryId} failed: ${reason}`, 'WebhookDeliveryFailed');
  }
}
