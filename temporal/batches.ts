import type { Client } from '@temporalio/client';
import { BATCH_SEARCH_ATTRIBUTES, batchWorkflowId, type BatchInput } from '../workflows/batch/contract';
import { batchWorkflow } from '../workflows/batch/workflow';

/** Starting twice is harmless: the workflow id is the batch's, and a running one is kept. */
export async function startBatch(client: Client, taskQueue: string, input: BatchInput): Promise<void> {
  await client.workflow.start(batchWorkflow, {
    workflowId: batchWorkflowId(input.tenantId, input.batchId),
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [{ key: BATCH_SEARCH_ATTRIBUTES.tenant, value: input.tenantId }],
    staticSummary: `Batch of ${input.totalSessions} sessions`,
  });
}
