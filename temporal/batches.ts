import type { Client } from '@temporalio/client';
import type { BatchInput } from '../workflows/batch';
import { TENANT_ID } from './search-attributes';

export const batchWorkflowId = (tenantId: string, batchId: string) => `batch/${tenantId}/${batchId}`;

/** Starting twice is harmless: the workflow id is the batch's, and a running one is kept. */
export async function startBatch(client: Client, taskQueue: string, input: BatchInput): Promise<void> {
  await client.workflow.start('batchWorkflow', {
    workflowId: batchWorkflowId(input.tenantId, input.batchId),
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [{ key: TENANT_ID, value: input.tenantId }],
    staticSummary: `Batch of ${input.totalSessions} sessions`,
  });
}
