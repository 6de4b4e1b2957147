// The client side of webhook deliveries: the dispatcher starts them, an endpoint's deletion cancels them.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WEBHOOK_DELIVERY_SEARCH_ATTRIBUTES, webhookDeliveryWorkflowId, type WebhookDeliveryInput } from '../workflows/webhook-delivery/contract';
import { webhookDelivery } from '../workflows/webhook-delivery/workflow';

/**
 * Starts a delivery's workflow. Starting twice is harmless: a running one is kept, and a closed
 * one is not started again (the id is the delivery's, never reused for another run).
 */
export async function startWebhookDelivery(client: Client, taskQueue: string, input: WebhookDeliveryInput): Promise<void> {
  try {
    await client.workflow.start(webhookDelivery, {
      workflowId: webhookDeliveryWorkflowId(input.tenantId, input.deliveryId),
      taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: WEBHOOK_DELIVERY_SEARCH_ATTRIBUTES.tenant, value: input.tenantId },
        { key: WEBHOOK_DELIVERY_SEARCH_ATTRIBUTES.endpoint, value: input.endpointId },
        { key: WEBHOOK_DELIVERY_SEARCH_ATTRIBUTES.eventType, value: input.eventType },
      ],
      staticSummary: `${input.eventType} → endpoint ${input.endpointId}`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** Cancels the running workflows of these deliveries (best effort: one already closed is skipped). */
export async function cancelWebhookDeliveries(client: Client, tenantId: string, deliveryIds: string[]): Promise<void> {
  await Promise.all(
    deliveryIds.map((id) =>
      client.workflow
        .getHandle(webhookDeliveryWorkflowId(tenantId, id))
        .cancel()
        .catch((err: unknown) => {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }),
    ),
  );
}
